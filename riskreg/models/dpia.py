"""Förhandsbedömning (screening) and konsekvensbedömning (DPIA, GDPR art. 35)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskreg.models.base import Base, UTCDateTime, code_enum, utcnow
from riskreg.models.codes import DpiaCriterion, RecordStatus


class DpiaScreening(Base):
    """Two or more criteria require a DPIA; fewer may, with a motivation (``require_anyway``)."""

    __tablename__ = "dpia_screenings"
    # Each system's screenings in time order: the report's progress over time.
    __table_args__ = (Index("ix_dpia_screenings_system_created", "system_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    motivation: Mapped[str] = mapped_column(Text, default="")
    require_anyway: Mapped[bool] = mapped_column(Boolean, default=False)
    dpia_required: Mapped[bool] = mapped_column(Boolean)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    criteria_rows: Mapped[list[ScreeningCriterion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ScreeningCriterion.criterion"
    )

    @property
    def criteria(self) -> list[str]:
        return [c.criterion.value for c in self.criteria_rows]


class ScreeningCriterion(Base):
    __tablename__ = "screening_criteria"

    screening_id: Mapped[int] = mapped_column(
        ForeignKey("dpia_screenings.id", ondelete="CASCADE"), primary_key=True
    )
    criterion: Mapped[DpiaCriterion] = mapped_column(code_enum(DpiaCriterion, "criterion"), primary_key=True)


class Dpia(Base):
    """The content GDPR art. 35.7 requires; the DPO's opinion; then final."""

    __tablename__ = "dpias"
    __table_args__ = (
        CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name="final_has_finalised_at"),
        CheckConstraint("status = 'draft' OR opinion IS NOT NULL", name="final_has_opinion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("dpia_screenings.id"), index=True)
    status: Mapped[RecordStatus] = mapped_column(code_enum(RecordStatus, "status"), index=True)
    description: Mapped[str] = mapped_column(Text)
    purposes: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    necessity: Mapped[str] = mapped_column(Text)
    risks: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    high_residual_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    prior_consultation_required: Mapped[bool] = mapped_column(Boolean, default=False)
    opinion: Mapped[str | None] = mapped_column(Text)
    opinion_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opinion_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
