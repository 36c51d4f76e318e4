"""Progress over time of the coverage report: week by week since PROGRAMME_START, how many systems had
reached each step, derived from the records' own dates (riskreg.services.reports holds the rest).

The SQL functions below (the UTC day of a timestamp, the day after a date, the earliest of several days)
compile for PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Date, func, literal, select, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from riskreg.actor import Actor
from riskreg.models import (
    Approval,
    ApprovalRevocation,
    Classification,
    DpiaScreening,
    MajorChange,
    RiskAnalysis,
    System,
)
from riskreg.models.codes import RecordStatus
from riskreg.services.reports import APPROVED_KINDS, ReportFilter, analytic, scope_of


class utc_day(FunctionElement):  # noqa: N801 (a SQL function)
    """The UTC calendar day of a timestamp, as a DATE."""

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day)
def _utc_day(element, compiler, **kw):
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw):  # SQLite keeps UTC timestamps as text
    return f"date({compiler.process(element.clauses, **kw)})"


class day_after(FunctionElement):  # noqa: N801
    type = Date()
    name = "day_after"
    inherit_cache = True


@compiles(day_after)
def _day_after(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} + 1)"


@compiles(day_after, "sqlite")
def _day_after_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


class least_day(FunctionElement):  # noqa: N801
    """The earliest of several days (none of them NULL: coalesce them first)."""

    type = Date()
    name = "least_day"
    inherit_cache = True


@compiles(least_day)
def _least_day(element, compiler, **kw):
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(least_day, "sqlite")
def _least_day_sqlite(element, compiler, **kw):
    return f"min({compiler.process(element.clauses, **kw)})"


NEVER = date(9999, 12, 31)
SERIES = ("classified", "risk_analysed", "screened", "approved")


def programme_start() -> date:
    value = current_app.config["PROGRAMME_START"]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def progress(session: Session, actor: Actor, rf: ReportFilter) -> dict[str, Any]:
    """Week by week since PROGRAMME_START, how many systems of today's population had reached each step,
    derived from the records' own dates (so the history is true, not snapshotted): a first finalised
    classification, a first finalised risk analysis, a first DPIA screening (each by the week's last day),
    and an approval in force on the week's last day (``approval_in_force_on``). Raises NotAllowed.

    One query counts the changes per day (+1 on a system's first record of a kind, +1 when an approval
    comes into force, -1 when it ends); the weeks are running sums of those few hundred days."""
    scope = scope_of(actor.user)
    analytic(session)
    today, start = actor.today(), programme_start()
    where = [scope.clause, *rf.clauses(), System.lifecycle == rf.population]
    weeks = max((today - start).days // 7 + 1, 0)
    ends = [min(start + timedelta(days=7 * k + 6), today) for k in range(weeks)]
    deltas: dict[str, list[tuple[date, int]]] = {name: [] for name in SERIES}
    for kind, day, delta in session.execute(_progress_deltas(where)):
        deltas[kind].append((_as_date(day), int(delta)))
    series = {name: _running(ends, deltas[name]) for name in SERIES}
    population = session.execute(select(func.count(System.id)).where(*where)).scalar_one()
    out = [
        {
            "week": k + 1,
            "start": (start + timedelta(days=7 * k)).isoformat(),
            "end": end.isoformat(),
            **{name: series[name][k] for name in SERIES},
        }
        for k, end in enumerate(ends)
    ]
    return {"programme_start": start.isoformat(), "population": population, "weeks": out}


def _progress_deltas(where: list):
    """(kind, day, change) for the systems matching ``where``: their first finalised classification and
    risk analysis and first screening (+1 on its day), and their approvals as spans [decided, end)
    (+1, then -1).

    Each kind is reduced to one row per system first (the partial indexes on (system_id, date) serve
    that in order) and each part to one row per day before they are put together, so the last grouping
    adds up a few thousand days rather than every record."""
    final = RecordStatus.FINAL
    firsts = (
        ("classified", Classification, Classification.finalised_at, Classification.status == final),
        ("risk_analysed", RiskAnalysis, RiskAnalysis.finalised_at, RiskAnalysis.status == final),
        ("screened", DpiaScreening, DpiaScreening.created_at, true()),
    )
    parts = []
    for kind, record, at, counted in firsts:
        first = (
            select(record.system_id.label("system_id"), func.min(at).label("at"))
            .where(counted)
            .group_by(record.system_id)
            .subquery(f"first_{kind}")
        )
        day = utc_day(first.c.at)
        parts.append(
            select(literal(kind).label("kind"), day.label("day"), func.count().label("delta"))
            .join(System, System.id == first.c.system_id)
            .where(*where)
            .group_by(day)
        )
    spans = _approval_spans(where)
    parts.append(select(literal("approved"), spans.c.start, func.count()).group_by(spans.c.start))
    parts.append(select(literal("approved"), spans.c.end, -func.count()).group_by(spans.c.end))
    changes = union_all(*parts).subquery("changes")
    return select(changes.c.kind, changes.c.day, func.sum(changes.c.delta)).group_by(
        changes.c.kind, changes.c.day
    )


def _approval_spans(where: list):
    """Approvals as spans [start, end): from the day decided to the first of the day after valid_until, the
    revocation, the system's next decision or its next major change. The next decision or change comes
    from one window over both, in time order (a change at the very instant of a decision sorts before
    it, as ``approval_in_force_on`` counts only changes after the decision). A CTE (start, end)."""
    decisions = (
        select(
            Approval.system_id.label("system_id"),
            Approval.decided_at.label("at"),
            literal(1).label("kind"),
            Approval.id.label("id"),
            Approval.decision.label("decision"),
            Approval.valid_until.label("valid_until"),
        )
        .join(System, System.id == Approval.system_id)
        .where(*where)
    )
    changes = (
        select(
            MajorChange.system_id,
            MajorChange.recorded_at,
            literal(0),
            MajorChange.id,
            literal(None, Approval.decision.type),
            literal(None, Date),
        )
        .join(System, System.id == MajorChange.system_id)
        .where(*where)
    )
    events = union_all(decisions, changes).subquery("events")
    ordered = select(
        events,
        func.lead(events.c.at)
        .over(partition_by=events.c.system_id, order_by=(events.c.at, events.c.kind, events.c.id))
        .label("next_at"),
    ).subquery("ordered")
    never = literal(NEVER, Date)
    return (
        select(
            utc_day(ordered.c.at).label("start"),
            least_day(
                func.coalesce(day_after(ordered.c.valid_until), never),
                func.coalesce(utc_day(ApprovalRevocation.revoked_at), never),
                func.coalesce(utc_day(ordered.c.next_at), never),
            ).label("end"),
        )
        .select_from(ordered)
        .outerjoin(ApprovalRevocation, ApprovalRevocation.approval_id == ordered.c.id)
        .where(ordered.c.kind == 1, ordered.c.decision.in_(APPROVED_KINDS))
        .cte("spans")
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _running(ends: list[date], changes: list[tuple[date, int]]) -> list[int]:
    """For each week's last day, the sum of the changes dated on or before it."""
    changes = sorted(changes)
    out, total, i = [], 0, 0
    for end in ends:
        while i < len(changes) and changes[i][0] <= end:
            total += changes[i][1]
            i += 1
        out.append(total)
    return out
