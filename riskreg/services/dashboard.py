"""What the start page and the system page show, by role (all counted in SQL, nothing per row)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskreg import lifecycle
from riskreg.actor import Actor
from riskreg.models import (
    ApprovalCondition,
    ApprovalRequest,
    AuditEvent,
    Dpia,
    ImportBatch,
    MajorChange,
    OrgUnit,
    Risk,
    RiskAction,
    System,
    User,
)
from riskreg.models.codes import (
    ActionStatus,
    ConditionStatus,
    Criticality,
    Lifecycle,
    RecordStatus,
    Role,
    Stage,
)
from riskreg.services import approvals

LIST_LIMIT = 20
# Stages where the system owner has something to do (besides the dated items below).
OWNER_TODO_STAGES = (
    Stage.NOT_STARTED,
    Stage.CLASSIFIED,
    Stage.RISK_ANALYSED,
    Stage.DPIA_PENDING,
    Stage.NEEDS_REVIEW,
    Stage.EXPIRED,
    Stage.REJECTED,
)


def start_page(session: Session, actor: Actor) -> dict:
    user, today = actor.user, actor.today()
    panels: dict = {"stage_order": list(Stage)}
    if user is None:
        return panels
    if user.has_role(Role.SYSTEM_OWNER):
        panels.update(_owner_panel(session, user, today, actor))
    if user.has_role(Role.RISK_OWNER):
        panels.update(_risk_owner_panel(session, user, today))
    if user.has_role(Role.DPO):
        panels.update(_dpo_panel(session))
    if user.has_role(Role.CISO, Role.AUDITOR, Role.DPO):
        panels.update(_overview_panel(session, today))
    if user.has_role(Role.ADMIN):
        panels["admin"] = _admin_panel(session)
    return panels


def _owner_panel(session: Session, user: User, today: date, actor: Actor) -> dict:
    mine = System.system_owner_id == user.id
    stages = lifecycle.count_by_stage(session, today, mine)
    staged = lifecycle.staged_systems(today, mine)
    systems = session.execute(
        select(System.id, System.name, staged.c.stage)
        .join(staged, staged.c.id == System.id)
        .order_by(System.name)
        .limit(LIST_LIMIT)
    ).all()
    return {
        "own_stages": stages,
        "own_total": sum(stages.values()),
        "own_systems": systems,
        "own_todo": sum(stages[s] for s in OWNER_TODO_STAGES),
        "todo_stages": OWNER_TODO_STAGES,
        "due": due_items(session, mine, today, actor),
    }


def due_items(session: Session, where, today: date, actor: Actor) -> list[dict]:
    """Dated things that are due on the matching systems: approvals expiring or expired, classifications
    older than the review interval, risk actions and approval conditions past their due date."""
    cfg = current_app.config
    items: list[dict] = []
    ca, cc = lifecycle.CurrentApproval, lifecycle.CurrentClassification
    not_gone = System.lifecycle != Lifecycle.DECOMMISSIONED

    expiring = (
        lifecycle.with_stage_joins(select(System.id, System.name, ca.valid_until).select_from(System))
        .where(where, not_gone, lifecycle.expiring_expr(today, cfg["EXPIRING_DAYS"]))
        .order_by(ca.valid_until)
    )
    for sid, name, when in session.execute(expiring.limit(LIST_LIMIT)):
        items.append({"system_id": sid, "name": name, "kind": "approval_expiring", "on": when})

    stage = lifecycle.stage_expr(today)
    expired = (
        lifecycle.with_stage_joins(select(System.id, System.name, ca.valid_until).select_from(System))
        .where(where, stage == Stage.EXPIRED.value)
        .order_by(ca.valid_until)
    )
    for sid, name, when in session.execute(expired.limit(LIST_LIMIT)):
        items.append({"system_id": sid, "name": name, "kind": "approval_expired", "on": when})

    review_before = actor.at() - timedelta(days=cfg["CLASSIFICATION_REVIEW_DAYS"])
    stale = (
        lifecycle.with_stage_joins(select(System.id, System.name, cc.finalised_at).select_from(System))
        .where(where, not_gone, cc.finalised_at < review_before)
        .order_by(cc.finalised_at)
    )
    for sid, name, when in session.execute(stale.limit(LIST_LIMIT)):
        items.append(
            {
                "system_id": sid,
                "name": name,
                "kind": "classification_review",
                "on": when.date() if when else None,
            }
        )

    overdue_actions = (
        select(System.id, System.name, func.count(RiskAction.id), func.min(RiskAction.due_on))
        .join(Risk, Risk.analysis_id == System.current_risk_analysis_id)
        .join(RiskAction, RiskAction.risk_id == Risk.id)
        .where(
            where,
            RiskAction.due_on < today,
            RiskAction.status.in_([ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]),
        )
        .group_by(System.id, System.name)
        .order_by(func.min(RiskAction.due_on))
    )
    for sid, name, n, first in session.execute(overdue_actions.limit(LIST_LIMIT)):
        items.append({"system_id": sid, "name": name, "kind": "actions_overdue", "count": n, "on": first})

    overdue_conditions = (
        select(System.id, System.name, func.count(ApprovalCondition.id), func.min(ApprovalCondition.due_on))
        .join(ApprovalCondition, ApprovalCondition.approval_id == System.current_approval_id)
        .where(where, ApprovalCondition.status == ConditionStatus.OPEN, ApprovalCondition.due_on < today)
        .group_by(System.id, System.name)
        .order_by(func.min(ApprovalCondition.due_on))
    )
    for sid, name, n, first in session.execute(overdue_conditions.limit(LIST_LIMIT)):
        items.append({"system_id": sid, "name": name, "kind": "conditions_overdue", "count": n, "on": first})
    return items


def _risk_owner_panel(session: Session, user: User, today: date) -> dict:
    """The requests waiting for the risk owner (oldest first; a system they also own is marked, as they may
    not decide on it), the overdue conditions of their decisions, and their systems by stage."""
    waiting = (System.risk_owner_id == user.id, System.open_request_id.is_not(None))
    rows = session.execute(
        select(System.id, System.name, ApprovalRequest.requested_at, System.system_owner_id)
        .join(ApprovalRequest, ApprovalRequest.id == System.open_request_id)
        .where(*waiting)
        .order_by(ApprovalRequest.requested_at, System.id)
        .limit(LIST_LIMIT)
    ).all()
    total = session.execute(select(func.count(System.id)).where(*waiting)).scalar_one()
    decided = System.risk_owner_id == user.id
    stages = lifecycle.count_by_stage(session, today, decided)
    return {
        "waiting": [
            {
                "system_id": sid,
                "name": name,
                "requested_at": at,
                "days": (today - at.date()).days if at else None,
                "own_system": owner_id == user.id,
            }
            for sid, name, at, owner_id in rows
        ],
        "waiting_total": total,
        "decided_stages": stages,
        "decided_total": sum(stages.values()),
        "overdue_conditions": approvals.overdue_conditions(session, today, decided, limit=LIST_LIMIT),
        "overdue_conditions_total": approvals.count_overdue_conditions(session, today, decided),
    }


def _dpo_panel(session: Session) -> dict:
    """DPIAs still in draft without the DPO's opinion, oldest first."""
    waiting = (Dpia.status == RecordStatus.DRAFT, Dpia.opinion.is_(None))
    rows = session.execute(
        select(Dpia.id, Dpia.created_at, System.id, System.name)
        .join(System, System.id == Dpia.system_id)
        .where(*waiting)
        .order_by(Dpia.created_at, Dpia.id)
        .limit(LIST_LIMIT)
    ).all()
    total = session.execute(select(func.count(Dpia.id)).where(*waiting)).scalar_one()
    return {
        "opinions": [
            {"dpia_id": d, "created_at": at, "system_id": sid, "name": name} for d, at, sid, name in rows
        ],
        "opinions_total": total,
    }


def _overview_panel(session: Session, today: date) -> dict:
    in_op = System.lifecycle == Lifecycle.IN_OPERATION
    stages = lifecycle.count_by_stage(session, today, in_op)
    valid = lifecycle.approval_valid_expr(today)
    expiring = lifecycle.expiring_expr(today, current_app.config["EXPIRING_DAYS"])
    figures = lifecycle.with_stage_joins(
        select(
            func.count(System.id),
            func.count(System.id).filter(System.priority_list.is_(True)),
            func.count(System.id).filter(System.system_owner_id.is_(None) | System.risk_owner_id.is_(None)),
            func.count(System.id).filter(valid),
            func.count(System.id).filter(expiring),
        ).select_from(System)
    ).where(in_op)
    total, priority, without_owner, approved_valid, expiring_n = session.execute(figures).one()
    by_crit = dict(
        session.execute(
            select(System.criticality, func.count(System.id)).where(in_op).group_by(System.criticality)
        ).all()
    )
    return {
        "all_stages": stages,
        "all_total": total,
        "priority_total": priority,
        "without_owner": without_owner,
        "approved_valid": approved_valid,
        "expiring": expiring_n,
        "by_criticality": [(c.value, by_crit.get(c, 0)) for c in Criticality]
        + [(None, by_crit.get(None, 0))],
    }


def _admin_panel(session: Session) -> dict:
    users = session.execute(
        select(func.count(User.id), func.count(User.id).filter(User.active.is_(True)))
    ).one()
    imports = session.execute(  # not the stored file itself
        select(
            ImportBatch.id,
            ImportBatch.source,
            ImportBatch.filename,
            ImportBatch.status,
            ImportBatch.row_count,
            ImportBatch.created_at,
        )
        .order_by(ImportBatch.id.desc())
        .limit(5)
    ).all()
    return {
        "users": users[0],
        "active_users": users[1],
        "org_units": session.execute(select(func.count(OrgUnit.id))).scalar_one(),
        "systems": session.execute(select(func.count(System.id))).scalar_one(),
        "without_owner": session.execute(
            select(func.count(System.id)).where(
                System.lifecycle != Lifecycle.DECOMMISSIONED,
                System.system_owner_id.is_(None) | System.risk_owner_id.is_(None),
            )
        ).scalar_one(),
        "imports": session.execute(select(func.count(ImportBatch.id))).scalar_one(),
        "recent_imports": imports,
    }


# ------------------------------------------------------------------ the system page


def major_changes(session: Session, system_id: int) -> list:
    """The system's recorded major changes, newest first, with who recorded them."""
    return session.execute(
        select(MajorChange, User.name)
        .outerjoin(User, User.id == MajorChange.recorded_by_id)
        .where(MajorChange.system_id == system_id)
        .order_by(MajorChange.recorded_at.desc(), MajorChange.id.desc())
    ).all()


def system_history(session: Session, system_id: int, page_no: int, per_page: int) -> tuple[list, int]:
    """One page of the system's own audit events (facts, owners, major changes), newest first, with the
    acting user's name; and the total."""
    where = (AuditEvent.entity == "system", AuditEvent.entity_id == system_id)
    rows = session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(*where)
        .order_by(AuditEvent.id.desc())
        .limit(per_page)
        .offset((page_no - 1) * per_page)
    ).all()
    total = session.execute(select(func.count(AuditEvent.id)).where(*where)).scalar_one()
    return rows, total


def last_event_id(session: Session, system_id: int) -> int:
    """The newest audit event of a system (0 when none): an edit form remembers it, so that a stale
    save can show what others changed since the form was opened."""
    return session.execute(
        select(func.coalesce(func.max(AuditEvent.id), 0)).where(
            AuditEvent.entity == "system", AuditEvent.entity_id == system_id
        )
    ).scalar_one()


def changes_since(session: Session, system_id: int, after_event_id: int) -> list:
    """Changes to a system recorded after a given audit event, oldest first, with who made them."""
    return session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(
            AuditEvent.entity == "system", AuditEvent.entity_id == system_id, AuditEvent.id > after_event_id
        )
        .order_by(AuditEvent.id)
    ).all()


def users_with_role(session: Session, role: Role, include_ids: tuple = ()) -> list[tuple[int, str, str]]:
    """(id, name, email) of active users holding a role, plus the given ids (a current owner), by name."""
    from riskreg.models import UserRole

    holders = select(UserRole.user_id).where(UserRole.role == role)
    cond = User.active.is_(True) & User.id.in_(holders)
    ids = [i for i in include_ids if i]
    if ids:
        cond = cond | User.id.in_(ids)
    return [
        tuple(r)
        for r in session.execute(select(User.id, User.name, User.email).where(cond).order_by(User.name))
    ]


def names_of(session: Session, user_ids) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
