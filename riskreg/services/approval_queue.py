"""The decision queues: a risk owner's pending requests (oldest first, with the K-R-T profile, risks per
band and the highest residual risks) and, for the CISO, every risk owner's queue and how long it waits.
Everything is counted in SQL, one page at a time, so it stays fast with 100,000 systems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from riskreg.models import ApprovalRequest, Classification, OrgUnit, Risk, System, User
from riskreg.models.codes import RequestStatus, Role
from riskreg.permissions import can_read_all
from riskreg.services.approval_snapshot import setting

TOP_RISKS = 3
# An open request is pending by definition; saying so lets the database walk the pending requests in
# order (index on status, requested_at) instead of every request ever made.
PENDING = ApprovalRequest.status == RequestStatus.PENDING


@dataclass
class QueueItem:
    request_id: int
    requested_at: datetime
    age_days: int
    system_id: int
    system_name: str
    criticality: str | None
    org_unit: str
    risk_owner_id: int | None
    risk_owner_name: str | None
    system_owner_id: int | None
    system_owner_name: str | None
    profile: str | None
    risk_analysis_id: int | None
    bands: dict[str, int] = field(default_factory=dict)
    top_risks: list[dict] = field(default_factory=list)


def may_see_queue(user: User | None) -> bool:
    return bool(user and (can_read_all(user) or user.has_role(Role.RISK_OWNER)))


def scope(
    user: User, risk_owner_id: int | None = None, org_unit_id: int | None = None
) -> ColumnElement[bool]:
    """A risk owner sees their own queue; the read-all roles see every queue (optionally narrowed)."""
    clauses = []
    if not can_read_all(user):
        clauses.append(System.risk_owner_id == user.id)
    if risk_owner_id is not None:
        clauses.append(System.risk_owner_id == risk_owner_id)
    if org_unit_id is not None:
        clauses.append(System.org_unit_id == org_unit_id)
    return and_(true(), *clauses)


def residual_value_expr():
    """A risk's residual value in SQL; where no residual is scored, the risk stands as it is."""
    return case(
        (Risk.residual_likelihood.is_(None), Risk.likelihood * Risk.consequence),
        else_=Risk.residual_likelihood * Risk.residual_consequence,
    )


def _base(clause: ColumnElement[bool]):
    return (
        select(System.id)
        .select_from(System)
        .join(ApprovalRequest, ApprovalRequest.id == System.open_request_id)
        .where(System.open_request_id.is_not(None), PENDING, clause)
    )


def count(session: Session, clause: ColumnElement[bool]) -> int:
    return session.execute(select(func.count()).select_from(_base(clause).subquery())).scalar_one()


def page(
    session: Session, clause: ColumnElement[bool], today: date, page_no: int = 1, per_page: int = 50
) -> tuple[list[QueueItem], int]:
    """One page of pending requests, oldest first, and how many there are."""
    risk_owner, system_owner = aliased(User), aliased(User)
    stmt = (
        select(
            ApprovalRequest.id,
            ApprovalRequest.requested_at,
            System.id,
            System.name,
            System.criticality,
            OrgUnit.name,
            System.risk_owner_id,
            risk_owner.name,
            System.system_owner_id,
            system_owner.name,
            Classification.confidentiality,
            Classification.integrity,
            Classification.availability,
            System.current_risk_analysis_id,
        )
        .select_from(System)
        .join(ApprovalRequest, ApprovalRequest.id == System.open_request_id)
        .join(OrgUnit, OrgUnit.id == System.org_unit_id)
        .outerjoin(risk_owner, risk_owner.id == System.risk_owner_id)
        .outerjoin(system_owner, system_owner.id == System.system_owner_id)
        .outerjoin(Classification, Classification.id == System.current_classification_id)
        .where(System.open_request_id.is_not(None), PENDING, clause)
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        .limit(per_page)
        .offset((page_no - 1) * per_page)
    )
    items = []
    rows = session.execute(stmt)
    for rid, at, sid, name, crit, unit, ro_id, ro_name, so_id, so_name, k, r, t, ra_id in rows:
        items.append(
            QueueItem(
                request_id=rid,
                requested_at=at,
                age_days=max((today - at.date()).days, 0),
                system_id=sid,
                system_name=name,
                criticality=crit.value if crit else None,
                org_unit=unit,
                risk_owner_id=ro_id,
                risk_owner_name=ro_name,
                system_owner_id=so_id,
                system_owner_name=so_name,
                profile=f"{k}-{r}-{t}" if k is not None else None,
                risk_analysis_id=ra_id,
            )
        )
    _add_risks(session, items)
    return items, count(session, clause)


def _add_risks(session: Session, items: list[QueueItem]) -> None:
    """Risks per band and the highest residual risks of the page's analyses: two grouped queries."""
    ids = sorted({i.risk_analysis_id for i in items if i.risk_analysis_id})
    if not ids:
        return
    rv = residual_value_expr()
    bands = setting("RISK_BANDS")
    lower = 0
    cols = []
    for upper, code, _label, _colour in bands:
        cols.append(func.sum(case((and_(rv > lower, rv <= upper), 1), else_=0)).label(code))
        lower = upper
    by_analysis = {
        row[0]: dict(zip([b[1] for b in bands], (int(v or 0) for v in row[1:]), strict=True))
        for row in session.execute(
            select(Risk.analysis_id, *cols).where(Risk.analysis_id.in_(ids)).group_by(Risk.analysis_id)
        )
    }
    rank = func.row_number().over(partition_by=Risk.analysis_id, order_by=(rv.desc(), Risk.position, Risk.id))
    ranked = (
        select(
            Risk.analysis_id.label("analysis_id"),
            Risk.id.label("risk_id"),
            Risk.title.label("title"),
            rv.label("value"),
            rank.label("rank"),
        )
        .where(Risk.analysis_id.in_(ids))
        .subquery()
    )
    top: dict[int, list[dict]] = {}
    for aid, risk_id, title, value, _rank in session.execute(
        select(ranked).where(ranked.c.rank <= TOP_RISKS).order_by(ranked.c.analysis_id, ranked.c.rank)
    ):
        top.setdefault(aid, []).append(
            {"id": risk_id, "title": title, "value": int(value), "band": _band(int(value), bands)}
        )
    for item in items:
        item.bands = by_analysis.get(item.risk_analysis_id, {b[1]: 0 for b in bands})
        item.top_risks = top.get(item.risk_analysis_id, [])


def _band(value: int, bands) -> str:
    for upper, code, _label, _colour in bands:
        if value <= upper:
            return code
    return bands[-1][1]


@dataclass
class QueueSummary:
    risk_owner_id: int | None
    risk_owner_name: str | None
    waiting: int
    oldest_at: datetime
    oldest_days: int
    over_limit: int  # waiting longer than REQUEST_WAITING_REMINDER_DAYS


def summary(session: Session, today: date, clause: ColumnElement[bool] | None = None) -> list[QueueSummary]:
    """Every risk owner's queue: how many wait, the oldest, and how many wait too long (CISO)."""
    limit_days = int(setting("REQUEST_WAITING_REMINDER_DAYS"))
    cutoff = datetime.combine(today - timedelta(days=limit_days), time.min, UTC)
    stmt = (
        select(
            System.risk_owner_id,
            User.name,
            func.count(System.id),
            func.min(ApprovalRequest.requested_at),
            func.sum(case((ApprovalRequest.requested_at < cutoff, 1), else_=0)),
        )
        .select_from(System)
        .join(ApprovalRequest, ApprovalRequest.id == System.open_request_id)
        .outerjoin(User, User.id == System.risk_owner_id)
        .where(System.open_request_id.is_not(None), PENDING, clause if clause is not None else true())
        .group_by(System.risk_owner_id, User.name)
        .order_by(func.min(ApprovalRequest.requested_at))
    )
    return [
        QueueSummary(ro, name, n, oldest, max((today - oldest.date()).days, 0), int(over or 0))
        for ro, name, n, oldest, over in session.execute(stmt)
    ]
