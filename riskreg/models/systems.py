"""The register: IT systems with aliases, external references and major changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskreg.models.accounts import OrgUnit, User
from riskreg.models.base import Base, UTCDateTime, code_enum, utcnow
from riskreg.models.codes import Criticality, Hosting, Lifecycle, PersonalData


class System(Base):
    """An IT system. Its stage is derived (riskreg.lifecycle), never stored.

    The ``current_*`` columns point at the record of each kind that is in force; only the
    services that create or finalise those records set them.
    """

    __tablename__ = "systems"
    __table_args__ = (
        Index("ix_systems_org_unit_criticality", "org_unit_id", "criticality"),
        Index("ix_systems_lifecycle_org_unit", "lifecycle", "org_unit_id"),
        # The list's sort orders, each ending in the id (migrations/versions/0002_bench_indexes.py)
        Index("ix_systems_name_id", "name", "id"),
        Index("ix_systems_criticality_name_id", "criticality", "name", "id"),
        Index("ix_systems_updated_at_id", "updated_at", "id"),
        # Prefix search (LIKE 'abc%') under any collation on PostgreSQL
        Index("ix_systems_search_key", "search_key", postgresql_ops={"search_key": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    search_key: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    system_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    risk_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    supplier: Mapped[str | None] = mapped_column(String(200))
    hosting: Mapped[Hosting | None] = mapped_column(code_enum(Hosting, "hosting"))
    lifecycle: Mapped[Lifecycle] = mapped_column(
        code_enum(Lifecycle, "lifecycle"), default=Lifecycle.IN_OPERATION, index=True
    )
    criticality: Mapped[Criticality | None] = mapped_column(code_enum(Criticality, "criticality"))
    priority_list: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    personal_data: Mapped[PersonalData] = mapped_column(
        code_enum(PersonalData, "personal_data"), default=PersonalData.UNKNOWN
    )
    special_categories: Mapped[bool] = mapped_column(Boolean, default=False)
    major_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_classification_id: Mapped[int | None] = mapped_column(
        ForeignKey("classifications.id", use_alter=True), index=True
    )
    current_risk_analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_analyses.id", use_alter=True), index=True
    )
    current_screening_id: Mapped[int | None] = mapped_column(
        ForeignKey("dpia_screenings.id", use_alter=True), index=True
    )
    current_dpia_id: Mapped[int | None] = mapped_column(ForeignKey("dpias.id", use_alter=True), index=True)
    current_sla_id: Mapped[int | None] = mapped_column(ForeignKey("slas.id", use_alter=True), index=True)
    current_approval_id: Mapped[int | None] = mapped_column(
        ForeignKey("approvals.id", use_alter=True), index=True
    )
    open_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_requests.id", use_alter=True), index=True
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    org_unit: Mapped[OrgUnit] = relationship()
    system_owner: Mapped[User | None] = relationship(foreign_keys=[system_owner_id])
    risk_owner: Mapped[User | None] = relationship(foreign_keys=[risk_owner_id])
    aliases: Mapped[list[SystemAlias]] = relationship(
        back_populates="system", cascade="all, delete-orphan", order_by="SystemAlias.id"
    )
    external_refs: Mapped[list[ExternalRef]] = relationship(
        back_populates="system", cascade="all, delete-orphan", order_by="ExternalRef.id"
    )

    __mapper_args__ = {"version_id_col": version}


class SystemAlias(Base):
    __tablename__ = "system_aliases"
    __table_args__ = (UniqueConstraint("system_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    search_key: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    system: Mapped[System] = relationship(back_populates="aliases")


class ExternalRef(Base):
    """A key in another inventory, e.g. ``servicenow:<sys_id>``; unique per source."""

    __tablename__ = "external_refs"
    __table_args__ = (UniqueConstraint("source", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    system: Mapped[System] = relationship(back_populates="external_refs")


class SearchGram(Base):
    """Trigrams of a system's folded name and aliases: the index behind fuzzy search."""

    __tablename__ = "search_grams"

    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True)
    gram: Mapped[str] = mapped_column(String(3), primary_key=True)

    __table_args__ = (Index("ix_search_grams_gram_system", "gram", "system_id"),)


class MajorChange(Base):
    """A större förändring: it puts an approved system back to needs_review."""

    __tablename__ = "major_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
