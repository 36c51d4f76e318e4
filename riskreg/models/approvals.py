"""Driftgodkännande: requests, decisions (immutable), conditions, accepted risks, revocations and
decommissioning plans."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskreg.models.base import Base, UTCDateTime, code_enum, utcnow
from riskreg.models.codes import (
    ConditionStatus,
    Decision,
    DecommissioningStatus,
    InformationDisposition,
    RequestStatus,
)


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    status: Mapped[RequestStatus] = mapped_column(code_enum(RequestStatus, "status"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    classification_id: Mapped[int | None] = mapped_column(ForeignKey("classifications.id"))
    risk_analysis_id: Mapped[int | None] = mapped_column(ForeignKey("risk_analyses.id"))
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("dpia_screenings.id"))
    dpia_id: Mapped[int | None] = mapped_column(ForeignKey("dpias.id"))
    sla_id: Mapped[int | None] = mapped_column(ForeignKey("slas.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    # the pending requests oldest first (the CISO's view of every queue) is one index walk
    __table_args__ = (Index("ix_approval_requests_status_requested_at", "status", "requested_at"),)


class ReferenceCounter(Base):
    """The last diarienummer handed out per year; locked row by row so numbers are gap-free."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Approval(Base):
    """A decision. Never edited; it snapshots the records it rests on and hashes their content."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("reference"),
        UniqueConstraint("year", "sequence"),
        CheckConstraint("decision = 'rejected' OR valid_until IS NOT NULL", name="approval_has_validity"),
        *(
            CheckConstraint(f"{c} BETWEEN 0 AND 4", name=f"{c}_range")
            for c in ("confidentiality", "integrity", "availability")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    reference: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    decision: Mapped[Decision] = mapped_column(code_enum(Decision, "decision"), index=True)
    motivation: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[date | None] = mapped_column(Date, index=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    classification_id: Mapped[int] = mapped_column(ForeignKey("classifications.id"), index=True)
    confidentiality: Mapped[int] = mapped_column(Integer)
    integrity: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer)
    risk_analysis_id: Mapped[int] = mapped_column(ForeignKey("risk_analyses.id"), index=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("dpia_screenings.id"), index=True)
    dpia_id: Mapped[int | None] = mapped_column(ForeignKey("dpias.id"), index=True)
    sla_id: Mapped[int | None] = mapped_column(ForeignKey("slas.id"), index=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))

    conditions: Mapped[list[ApprovalCondition]] = relationship(
        back_populates="approval", order_by="ApprovalCondition.id"
    )
    accepted_risks: Mapped[list[AcceptedRisk]] = relationship(order_by="AcceptedRisk.id")
    revocation: Mapped[ApprovalRevocation | None] = relationship(uselist=False)


class ApprovalCondition(Base):
    """A villkor, followed up until fulfilled; the follow-up is the only thing that changes."""

    __tablename__ = "approval_conditions"
    __table_args__ = (
        CheckConstraint("(status = 'fulfilled') = (fulfilled_on IS NOT NULL)", name="fulfilled_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ConditionStatus] = mapped_column(
        code_enum(ConditionStatus, "status"), default=ConditionStatus.OPEN, index=True
    )
    fulfilled_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    approval: Mapped[Approval] = relationship(back_populates="conditions")

    __mapper_args__ = {"version_id_col": version}


class AcceptedRisk(Base):
    __tablename__ = "accepted_risks"
    __table_args__ = (UniqueConstraint("approval_id", "risk_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), index=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id"), index=True)
    motivation: Mapped[str] = mapped_column(Text, default="")


class ApprovalRevocation(Base):
    __tablename__ = "approval_revocations"
    __table_args__ = (UniqueConstraint("approval_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"))
    motivation: Mapped[str] = mapped_column(Text)
    revoked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DecommissioningPlan(Base):
    """Avveckling after a rejection: what happens to the information, and when."""

    __tablename__ = "decommissioning_plans"
    __table_args__ = (
        CheckConstraint(
            "disposition <> 'transferred' OR target_system_id IS NOT NULL", name="transfer_has_target"
        ),
        CheckConstraint("(status = 'done') = (completed_at IS NOT NULL)", name="done_has_completed_at"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL AND cancellation_motivation IS NOT NULL)",
            name="cancelled_has_motivation",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"), index=True)
    planned_on: Mapped[date] = mapped_column(Date)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    disposition: Mapped[InformationDisposition] = mapped_column(
        code_enum(InformationDisposition, "disposition")
    )
    target_system_id: Mapped[int | None] = mapped_column(ForeignKey("systems.id"), index=True)
    retention_decision: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DecommissioningStatus] = mapped_column(
        code_enum(DecommissioningStatus, "status"), default=DecommissioningStatus.PLANNED
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A cancelled plan (the avveckling called off): who, when and why; NULL while it is not cancelled.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    cancellation_motivation: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PdfJob(Base):
    """A batch print of many decisions as one PDF, with progress; the result is stored when done."""

    __tablename__ = "pdf_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    selection: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="running")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[bytes | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Renewed by the worker as pages are laid out; a running job whose heartbeat is older than
    # PDF_JOB_STALE_SECONDS lost its worker (a restart) and is marked failed when read.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("status IN ('running', 'done', 'failed')", name="status_code"),)


def _queue_index() -> Index:
    """A risk owner's queue (their systems with an open request) read from one index, not by scanning
    every system awaiting a decision; declared here because the queue is this feature's."""
    from riskreg.models.systems import System

    return Index("ix_systems_risk_owner_open_request", System.risk_owner_id, System.open_request_id)


QUEUE_INDEX = _queue_index()
