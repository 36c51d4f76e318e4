"""Informationsklassning: versioned, immutable once final."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskreg.models.base import Base, UTCDateTime, code_enum, utcnow
from riskreg.models.codes import RecordStatus

LEVEL_CHECKS = tuple(
    CheckConstraint(f"{col} BETWEEN 0 AND 4", name=f"{col}_range")
    for col in ("confidentiality", "integrity", "availability")
)


class Classification(Base):
    """K, R and T levels (0–4). ``confidentiality``/``integrity``/``availability`` are the effective
    levels: the highest of the declared levels and of every information set."""

    __tablename__ = "classifications"
    __table_args__ = (
        UniqueConstraint("system_id", "number"),
        # Each system's finalised classifications in time order: the report's progress over time.
        Index("ix_classifications_final_system_at", "system_id", "finalised_at",
              postgresql_where=text("status = 'final'"), sqlite_where=text("status = 'final'")),
        *LEVEL_CHECKS,
        *(
            CheckConstraint(f"declared_{col} BETWEEN 0 AND 4", name=f"declared_{col}_range")
            for col in ("confidentiality", "integrity", "availability")
        ),
        CheckConstraint(
            "(status = 'final') = (finalised_at IS NOT NULL)", name="final_has_finalised_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per system
    status: Mapped[RecordStatus] = mapped_column(code_enum(RecordStatus, "status"), index=True)
    confidentiality: Mapped[int] = mapped_column(Integer)
    integrity: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer)
    declared_confidentiality: Mapped[int] = mapped_column(Integer)
    declared_integrity: Mapped[int] = mapped_column(Integer)
    declared_availability: Mapped[int] = mapped_column(Integer)
    motivation: Mapped[str] = mapped_column(Text, default="")
    confidentiality_motivation: Mapped[str] = mapped_column(Text, default="")
    integrity_motivation: Mapped[str] = mapped_column(Text, default="")
    availability_motivation: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    information_sets: Mapped[list[InformationSet]] = relationship(
        back_populates="classification", cascade="all, delete-orphan", order_by="InformationSet.position"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def profile(self) -> str:
        return f"{self.confidentiality}-{self.integrity}-{self.availability}"


class InformationSet(Base):
    """An informationsmängd with its own K-R-T."""

    __tablename__ = "information_sets"
    __table_args__ = LEVEL_CHECKS

    id: Mapped[int] = mapped_column(primary_key=True)
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("classifications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    confidentiality: Mapped[int] = mapped_column(Integer)
    integrity: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer)

    classification: Mapped[Classification] = relationship(back_populates="information_sets")
