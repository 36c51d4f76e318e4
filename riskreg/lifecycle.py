"""The approval lifecycle of a system, derived from its records: one SQL expression.

``stage_expr(today)`` is a CASE over the system row and the records its ``current_*`` columns point
at; ``with_stage_joins(stmt)`` adds those outer joins (all by primary key). Lists filter on it, reports
group by it, and one system's stage is the same expression ``WHERE id = :id``. There is no stored stage.

Order of precedence (DESIGN.md, "The approval lifecycle"):
  decommissioned lifecycle → ``decommissioned``
  an open request → ``awaiting_decision``
  the current decision: rejected → ``rejected``; an approval revoked → ``needs_review``;
    past ``valid_until`` → ``expired``; a major change, a higher classification or a newer version of a
    record it rests on → ``needs_review``; else its decision code
  no decision: a required DPIA not finalised (after the risk analysis) → ``dpia_pending``;
    a finalised risk analysis → ``risk_analysed``; a finalised classification → ``classified``;
    else ``not_started``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from riskreg.models import Approval, ApprovalRevocation, Classification, DpiaScreening, System
from riskreg.models.codes import Decision, Lifecycle, Stage

CurrentApproval = aliased(Approval, name="stage_approval")
CurrentClassification = aliased(Classification, name="stage_classification")
CurrentScreening = aliased(DpiaScreening, name="stage_screening")
# The current classification once more, read only where it is not the one the decision rests on: a
# decision records the levels of its classification, and a final classification never changes, so only
# another one can be higher. Looked up (by primary key) for those few systems, not for every decided one.
ReviewClassification = aliased(Classification, name="stage_review_classification")


def with_stage_joins(stmt: Select) -> Select:
    """Outer-join the records the stage expression reads (each by primary key)."""
    return (
        stmt.outerjoin(CurrentApproval, CurrentApproval.id == System.current_approval_id)
        .outerjoin(CurrentClassification, CurrentClassification.id == System.current_classification_id)
        .outerjoin(CurrentScreening, CurrentScreening.id == System.current_screening_id)
    )


def _revoked() -> ColumnElement[bool]:
    # ``IN (SELECT …)`` rather than a correlated EXISTS: PostgreSQL runs it as one hashed subplan and
    # costs it as such; the EXISTS form was costed per row, which pushed counts over 100,000 systems
    # past the JIT threshold (hundreds of milliseconds of compiling for a 100 ms query).
    return CurrentApproval.id.in_(select(ApprovalRevocation.approval_id))


def _differs(current, snapshot) -> ColumnElement[bool]:
    # NULL-safe: two NULLs are the same record (none), never "unknown" — an unknown here made
    # review_due_expr NULL, and so approval_valid_expr NULL, for every approval without a DPIA or SLA.
    return current.is_distinct_from(snapshot)


def review_due_expr() -> ColumnElement[bool]:
    """The current approval no longer matches the system: a major change after the decision, a
    classification with a higher level, or a newer version of a record the decision rests on."""
    a, c = CurrentApproval, ReviewClassification
    # Last, and guarded by the cheap comparisons before it: the database evaluates AND and OR from the
    # left and stops at the first false, so the lookup runs only for the systems whose classification
    # changed since the decision (``IS NOT NULL`` first: without a decision the comparison is NULL,
    # which does not stop an AND).
    raised = and_(a.id.is_not(None), System.current_classification_id != a.classification_id,
                  exists().where(c.id == System.current_classification_id,
                                 or_(c.confidentiality > a.confidentiality, c.integrity > a.integrity,
                                     c.availability > a.availability)))
    return or_(
        and_(System.major_change_at.is_not(None), System.major_change_at > a.decided_at),
        _differs(System.current_risk_analysis_id, a.risk_analysis_id),
        _differs(System.current_screening_id, a.screening_id),
        _differs(System.current_dpia_id, a.dpia_id),
        _differs(System.current_sla_id, a.sla_id),
        raised,
    )


def is_approval(a=CurrentApproval) -> ColumnElement[bool]:
    return a.decision.in_([Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS])


def approval_valid_expr(today: date) -> ColumnElement[bool]:
    """Holds an approval that is neither expired, revoked nor in need of review."""
    a = CurrentApproval
    return and_(is_approval(), a.valid_until >= today, ~_revoked(), ~review_due_expr())


def expiring_expr(today: date, days: int = 90) -> ColumnElement[bool]:
    a = CurrentApproval
    return and_(approval_valid_expr(today), a.valid_until <= today + timedelta(days=days))


def stage_expr(today: date) -> ColumnElement[str]:
    a = CurrentApproval
    dpia_open = and_(CurrentScreening.dpia_required.is_(True), System.current_dpia_id.is_(None))
    return case(
        (System.lifecycle == Lifecycle.DECOMMISSIONED, literal(Stage.DECOMMISSIONED.value)),
        (System.open_request_id.is_not(None), literal(Stage.AWAITING_DECISION.value)),
        (a.decision == Decision.REJECTED, literal(Stage.REJECTED.value)),
        (and_(a.id.is_not(None), _revoked()), literal(Stage.NEEDS_REVIEW.value)),
        (and_(a.id.is_not(None), a.valid_until < today), literal(Stage.EXPIRED.value)),
        (and_(a.id.is_not(None), review_due_expr()), literal(Stage.NEEDS_REVIEW.value)),
        (a.id.is_not(None), a.decision),
        (and_(System.current_risk_analysis_id.is_not(None), dpia_open), literal(Stage.DPIA_PENDING.value)),
        (System.current_risk_analysis_id.is_not(None), literal(Stage.RISK_ANALYSED.value)),
        (System.current_classification_id.is_not(None), literal(Stage.CLASSIFIED.value)),
        else_=literal(Stage.NOT_STARTED.value),
    )


def stage_is(stage: Stage | str, today: date) -> ColumnElement[bool]:
    """``stage_expr(today) == stage``, spelt out branch by branch so that the database can use its
    indexes (a CASE in a WHERE clause must be computed for every row). Needs ``with_stage_joins``.

    Each predicate is the CASE's branch for the stage and the negation of every branch before it,
    simplified with what the schema guarantees: ``current_approval_id`` is set exactly when the
    joined approval exists (a foreign key) and ``lifecycle`` and ``decision`` are NOT NULL. A
    condition that may be NULL is negated with ``IS NOT TRUE``, as the CASE skips NULL as it skips false.
    tests/test_stage_filter.py checks every stage against the CASE."""
    stage = Stage(stage)
    a = CurrentApproval
    gone = System.lifecycle == Lifecycle.DECOMMISSIONED
    if stage == Stage.DECOMMISSIONED:
        return gone
    if stage == Stage.AWAITING_DECISION:
        return and_(~gone, System.open_request_id.is_not(None))
    live = and_(~gone, System.open_request_id.is_(None))
    if stage in (Stage.NOT_STARTED, Stage.CLASSIFIED, Stage.RISK_ANALYSED, Stage.DPIA_PENDING):
        undecided = and_(live, System.current_approval_id.is_(None))
        analysed = System.current_risk_analysis_id.is_not(None)
        dpia_open = and_(CurrentScreening.dpia_required.is_(True), System.current_dpia_id.is_(None))
        if stage == Stage.DPIA_PENDING:
            return and_(undecided, analysed, dpia_open)
        if stage == Stage.RISK_ANALYSED:
            return and_(undecided, analysed,
                        or_(CurrentScreening.dpia_required.is_not(True), System.current_dpia_id.is_not(None)))
        classified = System.current_classification_id.is_not(None)
        return and_(undecided, System.current_risk_analysis_id.is_(None),
                    classified if stage == Stage.CLASSIFIED else ~classified)
    decided = and_(live, System.current_approval_id.is_not(None))
    if stage == Stage.REJECTED:
        return and_(decided, a.decision == Decision.REJECTED)
    not_rejected = a.decision != Decision.REJECTED
    not_expired = or_(a.valid_until.is_(None), a.valid_until >= today)
    if stage == Stage.NEEDS_REVIEW:
        return and_(decided, not_rejected, or_(_revoked(), and_(not_expired, review_due_expr().is_(True))))
    if stage == Stage.EXPIRED:
        return and_(decided, not_rejected, ~_revoked(), a.valid_until < today)
    return and_(decided, a.decision == stage.value, ~_revoked(), not_expired, review_due_expr().is_not(True))


def stage_of(session: Session, system_id: int, today: date) -> Stage:
    stmt = with_stage_joins(select(stage_expr(today)).select_from(System)).where(System.id == system_id)
    return Stage(session.execute(stmt).scalar_one())


def stages_of(session: Session, system_ids: list[int], today: date) -> dict[int, Stage]:
    if not system_ids:
        return {}
    stmt = with_stage_joins(select(System.id, stage_expr(today)).select_from(System)).where(
        System.id.in_(system_ids)
    )
    return {sid: Stage(stage) for sid, stage in session.execute(stmt)}


def staged_systems(today: date, *where: ColumnElement[bool]):
    """A subquery of (id, stage) for the systems matching ``where``; group by its ``stage`` column
    (grouping on the bare CASE would repeat its bound parameters, which PostgreSQL refuses)."""
    stmt = with_stage_joins(select(System.id.label("id"), stage_expr(today).label("stage")).select_from(System))
    return stmt.where(*where).subquery("staged")


def count_by_stage(session: Session, today: date, *where: ColumnElement[bool]) -> dict[Stage, int]:
    staged = staged_systems(today, *where)
    stmt = select(staged.c.stage, func.count()).group_by(staged.c.stage)
    counts = {s: 0 for s in Stage}
    for code, n in session.execute(stmt):
        counts[Stage(code)] = n
    return counts
