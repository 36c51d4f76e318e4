"""Riskanalys: risks scored likelihood × consequence, actions and residual risk."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskreg.models.base import Base, UTCDateTime, code_enum, utcnow
from riskreg.models.codes import ActionStatus, Aspect, RecordStatus, Treatment


class RiskAnalysis(Base):
    __tablename__ = "risk_analyses"
    __table_args__ = (
        UniqueConstraint("system_id", "number"),
        CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name="final_has_finalised_at"),
        # Each system's finalised analyses in time order: the report's progress over time.
        Index("ix_risk_analyses_final_system_at", "system_id", "finalised_at",
              postgresql_where=text("status = 'final'"), sqlite_where=text("status = 'final'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[RecordStatus] = mapped_column(code_enum(RecordStatus, "status"), index=True)
    analysed_on: Mapped[date] = mapped_column(Date)
    participants: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    classification_id: Mapped[int | None] = mapped_column(ForeignKey("classifications.id"), index=True)
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("risk_analyses.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    risks: Mapped[list[Risk]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", order_by="Risk.position"
    )

    __mapper_args__ = {"version_id_col": version}


class Risk(Base):
    __tablename__ = "risks"
    __table_args__ = (
        CheckConstraint("likelihood BETWEEN 1 AND 4", name="likelihood_range"),
        CheckConstraint("consequence BETWEEN 1 AND 4", name="consequence_range"),
        CheckConstraint(
            "residual_likelihood IS NULL OR residual_likelihood BETWEEN 1 AND 4", name="residual_likelihood_range"
        ),
        CheckConstraint(
            "residual_consequence IS NULL OR residual_consequence BETWEEN 1 AND 4",
            name="residual_consequence_range",
        ),
        CheckConstraint(
            "(residual_likelihood IS NULL) = (residual_consequence IS NULL)", name="residual_both_or_neither"
        ),
        # Covers a risk's analysis by its id: the coverage report maps open actions to analyses with an
        # index-only scan instead of reading the whole table.
        Index("ix_risks_id_analysis_id", "id", "analysis_id"),
        # An analysis's risks with their scores (on PostgreSQL in the index itself): the heat map reads
        # the current analyses' risks without the table.
        Index("ix_risks_analysis_id", "analysis_id",
              postgresql_include=["likelihood", "consequence", "residual_likelihood", "residual_consequence"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("risk_analyses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    aspect: Mapped[Aspect] = mapped_column(code_enum(Aspect, "aspect"))
    likelihood: Mapped[int] = mapped_column(Integer)
    consequence: Mapped[int] = mapped_column(Integer)
    existing_protection: Mapped[str] = mapped_column(Text, default="")
    treatment: Mapped[Treatment | None] = mapped_column(code_enum(Treatment, "treatment"))
    residual_likelihood: Mapped[int | None] = mapped_column(Integer)
    residual_consequence: Mapped[int | None] = mapped_column(Integer)

    analysis: Mapped[RiskAnalysis] = relationship(back_populates="risks")
    actions: Mapped[list[RiskAction]] = relationship(
        back_populates="risk", cascade="all, delete-orphan", order_by="RiskAction.id"
    )

    @property
    def value(self) -> int:
        return self.likelihood * self.consequence

    @property
    def residual_value(self) -> int | None:
        """The residual risk; where none is scored, the risk stands as it is."""
        if self.residual_likelihood is None or self.residual_consequence is None:
            return None
        return self.residual_likelihood * self.residual_consequence

    @property
    def effective_residual_value(self) -> int:
        rv = self.residual_value
        return self.value if rv is None else rv


OPEN_STATUSES = "status IN ('planned', 'in_progress')"


class RiskAction(Base):
    """An åtgärd. Its status is followed up after the analysis is final (with history)."""

    __tablename__ = "risk_actions"
    __table_args__ = (
        # The open actions by risk and due date: "actions past due" in reports and on start pages.
        Index("ix_risk_actions_open_due", "risk_id", "due_on",
              postgresql_where=text(OPEN_STATUSES), sqlite_where=text(OPEN_STATUSES)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[ActionStatus] = mapped_column(
        code_enum(ActionStatus, "status"), default=ActionStatus.PLANNED, index=True
    )
    completed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    risk: Mapped[Risk] = relationship(back_populates="actions")
    history: Mapped[list[ActionStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="ActionStatusChange.id"
    )

    __mapper_args__ = {"version_id_col": version}


class ActionStatusChange(Base):
    """One follow-up of an action: its status and completion date before and after (a change of either
    is a row), with an optional note. Rows from before the completion dates were kept have them NULL."""

    __tablename__ = "action_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("risk_actions.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[ActionStatus | None] = mapped_column(code_enum(ActionStatus, "from_status"))
    to_status: Mapped[ActionStatus] = mapped_column(code_enum(ActionStatus, "to_status"))
    from_completed_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
