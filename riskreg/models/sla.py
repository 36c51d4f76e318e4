"""SLAs and their monthly measurements. A changed SLA is a new record (history, not overwrite)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskreg.models.base import Base, UTCDateTime, utcnow


class Sla(Base):
    __tablename__ = "slas"
    __table_args__ = (
        CheckConstraint("availability_target > 0 AND availability_target <= 100", name="target_range"),
        CheckConstraint("rto_hours IS NULL OR rto_hours >= 0", name="rto_nonnegative"),
        CheckConstraint("rpo_hours IS NULL OR rpo_hours >= 0", name="rpo_nonnegative"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="validity_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    supplier: Mapped[str] = mapped_column(String(200))
    agreement_ref: Mapped[str] = mapped_column(String(200), default="")
    availability_target: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    service_hours: Mapped[str] = mapped_column(Text, default="")
    rto_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    rpo_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("slas.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    measurements: Mapped[list[SlaMeasurement]] = relationship(
        back_populates="sla", order_by="SlaMeasurement.period"
    )


class SlaMeasurement(Base):
    """A month's measured availability. ``period`` is the first day of the month."""

    __tablename__ = "sla_measurements"
    __table_args__ = (
        UniqueConstraint("sla_id", "period"),
        CheckConstraint("availability >= 0 AND availability <= 100", name="availability_range"),
        CheckConstraint("downtime_minutes IS NULL OR downtime_minutes >= 0", name="downtime_nonnegative"),
        CheckConstraint("target IS NOT NULL", name="target_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("slas.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    availability: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    downtime_minutes: Mapped[int | None] = mapped_column(Integer)
    # The SLA's target when measured; an SLA is never edited, so this stays true.
    target: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sla: Mapped[Sla] = relationship(back_populates="measurements")

    @property
    def target_met(self) -> bool:
        return self.availability >= self.target
