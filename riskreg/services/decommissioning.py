"""Avveckling: after a rejection, a plan says when the system goes, who is responsible and what happens to
its information (archived, transferred to another system, or deleted per a retention decision); the
system's lifecycle becomes ``being_decommissioned`` and, when the plan is carried out, ``decommissioned``.
Its history stays readable.

The risk owner (or the CISO) may call the avveckling off: the plan is cancelled with a motivation (it stays
in the history) and the lifecycle goes back to what it was before the rejection, so that the system counts
again and a new decision can be requested. While a plan is open no decision is requested (approvals.request)
and, the other way round, no plan is made while a decision is requested."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import Approval, ApprovalRequest, DecommissioningPlan, System, User
from riskreg.models.codes import (
    Decision,
    DecommissioningStatus,
    InformationDisposition,
    Lifecycle,
    RequestStatus,
)
from riskreg.services.approvals import get_system, lifecycle_before_rejection, record_lifecycle

TEXT_MAX = 10_000


def can_plan(user: User | None, system: System) -> bool:
    """The system owner (or an admin) and the system's risk owner plan and carry out the avveckling."""
    return bool(user and (permissions.can_edit_system(user, system) or user.id == system.risk_owner_id))


def can_cancel(user: User | None, system: System) -> bool:
    """Calling the avveckling off is the risk owner's (who rejected) or the CISO's, as a revocation is."""
    return permissions.can_revoke(user, system)


def plans_of(system_id: int):
    return (
        select(DecommissioningPlan)
        .where(DecommissioningPlan.system_id == system_id)
        .order_by(DecommissioningPlan.created_at.desc(), DecommissioningPlan.id.desc())
    )


def open_plan(session: Session, system_id: int) -> DecommissioningPlan | None:
    return (
        session.execute(
            select(DecommissioningPlan).where(
                DecommissioningPlan.system_id == system_id,
                DecommissioningPlan.status == DecommissioningStatus.PLANNED,
            )
        )
        .scalars()
        .first()
    )


def _check(
    session: Session,
    system: System,
    *,
    planned_on,
    responsible_id,
    disposition,
    target_system_id,
    retention_decision: str,
    note: str,
    today: date,
) -> InformationDisposition:
    problems: dict[str, list] = {}
    try:
        code = InformationDisposition(str(disposition))
    except ValueError:
        code = None
        problems["disposition"] = [_l("Choose archived, transferred or deleted.")]
    if not isinstance(planned_on, date):
        problems["planned_on"] = [_l("Give the planned date.")]
    elif planned_on < today:
        problems["planned_on"] = [_l("The planned date cannot be in the past.")]
    user = session.get(User, responsible_id) if responsible_id else None
    if user is None or not user.active:
        problems["responsible_id"] = [_l("Name an active user as responsible.")]
    if code == InformationDisposition.TRANSFERRED:
        target = session.get(System, target_system_id) if target_system_id else None
        if target is None or target.id == system.id:
            problems["target_system_id"] = [_l("Name the system that receives the information.")]
        elif target.lifecycle == Lifecycle.DECOMMISSIONED:
            problems["target_system_id"] = [_l("The receiving system is decommissioned.")]
    elif target_system_id:
        problems["target_system_id"] = [_l("Only a transfer names a receiving system.")]
    if code == InformationDisposition.DELETED and not retention_decision.strip():
        problems["retention_decision"] = [
            _l("Deleting the information needs the retention decision (gallring).")
        ]
    for key, value in (("retention_decision", retention_decision), ("note", note)):
        if len(value) > TEXT_MAX:
            problems[key] = [_l("At most 10000 characters.")]
    if problems:
        raise RuleViolation(_l("The decommissioning plan is incomplete."), fields=problems)
    return code  # type: ignore[return-value]


def plan(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    planned_on: date,
    responsible_id: int | None,
    disposition: str,
    target_system_id: int | None = None,
    retention_decision: str = "",
    note: str = "",
) -> DecommissioningPlan:
    """Plan the avveckling of a rejected system. NotFound, NotAllowed (only its owners); RuleViolation
    when the current decision is not a rejection, a plan is already open, a new decision is requested
    (the risk owner decides on it first, or the request is withdrawn), or the plan is incomplete
    (a date not in the past, an active responsible, a disposition; a transfer names its receiving system,
    a deletion its retention decision)."""
    system = get_system(session, system_id, for_update=True)
    if not can_plan(actor.user, system):
        raise NotAllowed(_l("Only the system's owners plan its decommissioning."))
    current = session.get(Approval, system.current_approval_id) if system.current_approval_id else None
    if current is None or current.decision != Decision.REJECTED:
        raise RuleViolation(
            _l("A decommissioning plan follows a decision to reject the system."), code="not_rejected"
        )
    if system.lifecycle == Lifecycle.DECOMMISSIONED:
        raise RuleViolation(_l("The system is already decommissioned."), code="decommissioned")
    if open_plan(session, system.id) is not None:
        raise RuleViolation(_l("The system already has a decommissioning plan."), code="plan_exists")
    if system.open_request_id is not None:
        raise RuleViolation(
            _l(
                "A new decision is requested for the system; the risk owner decides on it (or the request is "
                "withdrawn) before a decommissioning plan is made."
            ),
            code="decision_requested",
        )
    code = _check(
        session,
        system,
        planned_on=planned_on,
        responsible_id=responsible_id,
        disposition=disposition,
        target_system_id=target_system_id,
        retention_decision=retention_decision or "",
        note=note or "",
        today=actor.today(),
    )
    row = DecommissioningPlan(
        system_id=system.id,
        approval_id=current.id,
        planned_on=planned_on,
        responsible_id=responsible_id,
        disposition=code,
        target_system_id=target_system_id if code == InformationDisposition.TRANSFERRED else None,
        retention_decision=(retention_decision or "").strip(),
        note=(note or "").strip(),
        status=DecommissioningStatus.PLANNED,
        created_by_id=actor.user_id,
        created_at=actor.at(),
    )
    session.add(row)
    before = system.lifecycle
    system.lifecycle = Lifecycle.BEING_DECOMMISSIONED
    session.flush()
    audit.record(session, actor, "decommissioning_plan", row.id, "create", None, audit.columns_of(row))
    record_lifecycle(session, actor, system, before)
    return row


def complete(
    session: Session, actor: Actor, plan_id: int, *, version: int | None = None
) -> DecommissioningPlan:
    """The plan is carried out: the system is decommissioned (it keeps its history). NotFound,
    NotAllowed, Conflict (stale version), RuleViolation when the plan is already done or cancelled."""
    row = session.get(DecommissioningPlan, plan_id)
    if row is None:
        raise NotFound(_l("Decommissioning plan %(id)s does not exist.", id=plan_id))
    system = get_system(session, row.system_id, for_update=True)
    if not can_plan(actor.user, system):
        raise NotAllowed(_l("Only the system's owners carry out its decommissioning."))
    if version is not None and version != row.version:
        raise Conflict(_l("The plan has changed meanwhile."), fields={"version": [str(row.version)]})
    if row.status == DecommissioningStatus.DONE:
        raise RuleViolation(_l("The plan is already carried out."), code="already_done")
    if row.status == DecommissioningStatus.CANCELLED:
        raise RuleViolation(_l("The plan is cancelled."), code="cancelled")
    row.status, row.completed_at = DecommissioningStatus.DONE, actor.at()
    before = system.lifecycle
    system.lifecycle = Lifecycle.DECOMMISSIONED
    if system.open_request_id is not None:  # a request left open goes with the system
        request = session.get(ApprovalRequest, system.open_request_id)
        request.status, request.closed_at = RequestStatus.WITHDRAWN, actor.at()
        system.open_request_id = None
        audit.record(
            session,
            actor,
            "approval_request",
            request.id,
            "withdraw",
            {"status": "pending"},
            {"status": "withdrawn", "reason": "decommissioned"},
        )
    session.flush()
    audit.record(
        session,
        actor,
        "decommissioning_plan",
        row.id,
        "complete",
        {"status": "planned"},
        {"status": "done", "completed_at": row.completed_at},
    )
    record_lifecycle(session, actor, system, before)
    return row


def cancel(
    session: Session, actor: Actor, plan_id: int, *, motivation: str, version: int | None = None
) -> DecommissioningPlan:
    """The risk owner (or the CISO) calls the avveckling off with a motivation: the plan is kept, marked
    cancelled (who, when, why), and the system's lifecycle goes back to what it was before the rejection
    (normally ``in_operation``). NotFound, NotAllowed, Conflict (stale version); RuleViolation when the
    plan is carried out or cancelled already, or the motivation is missing."""
    row = session.get(DecommissioningPlan, plan_id)
    if row is None:
        raise NotFound(_l("Decommissioning plan %(id)s does not exist.", id=plan_id))
    system = get_system(session, row.system_id, for_update=True)
    if not can_cancel(actor.user, system):
        raise NotAllowed(_l("Only the system's risk owner or the CISO cancels a decommissioning plan."))
    if version is not None and version != row.version:
        raise Conflict(_l("The plan has changed meanwhile."), fields={"version": [str(row.version)]})
    if row.status == DecommissioningStatus.DONE:
        raise RuleViolation(
            _l("The plan is carried out: the system is decommissioned."), code="already_done"
        )
    if row.status == DecommissioningStatus.CANCELLED:
        raise RuleViolation(_l("The plan is cancelled already."), code="already_cancelled")
    motivation = (motivation or "").strip()
    if not motivation or len(motivation) > TEXT_MAX:
        message = _l("At most 10000 characters.")
        if not motivation:
            message = _l("Give the motivation for cancelling the plan.")
        raise RuleViolation(message, fields={"motivation": [message]})
    before = audit.columns_of(row)
    row.status = DecommissioningStatus.CANCELLED
    row.cancelled_at, row.cancelled_by_id, row.cancellation_motivation = actor.at(), actor.user_id, motivation
    before_lifecycle = system.lifecycle
    if system.lifecycle == Lifecycle.BEING_DECOMMISSIONED:
        rejection = session.get(Approval, row.approval_id) if row.approval_id else None
        system.lifecycle = lifecycle_before_rejection(session, rejection)
    session.flush()
    b, a = audit.changed(before, audit.columns_of(row))
    audit.record(session, actor, "decommissioning_plan", row.id, "cancel", b, a)
    record_lifecycle(session, actor, system, before_lifecycle)
    return row
