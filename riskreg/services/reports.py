"""The coverage report (DESIGN.md "Reports"; API.md ``GET /api/v1/reports/coverage``): where all systems
stand, for the CISO over every system and for an owner over their own.

Everything is counted by the database. One GROUP BY over the systems (org unit × criticality × lifecycle ×
stage) with a conditional sum per figure yields the headline figures, the per-org-unit and per-criticality
tables and the stages; the heat map and the SLA attainment are GROUP BYs of their own, and so is the
progress over time (riskreg.services.report_progress); the systems list as a file is report_export.
No system is loaded into Python; only the grouped rows (a few hundred at most) are added up here.

Who is counted (API.md, "Coverage"):
- the figures count the *population*: the systems whose lifecycle is the filter's ``lifecycle``, by default
  ``in_operation``; so decommissioned systems leave the denominators but keep their history;
- ``total`` counts every system the report covers, ``in_operation`` / ``planned`` / ``being_decommissioned``
  / ``decommissioned`` count by lifecycle;
- ``rejected`` counts the systems whose current decision is a rejection and that are not decommissioned
  yet (a rejection starts their decommissioning, so most have left operation).
A system that lacks a record counts as a gap (``not_classified`` …), never as unknown.

Every figure is also a filter of the systems list (``SystemFilter``; ``drilldown_clauses`` builds it from
the same expression as the count), and ``drilldown`` names the list's query for each number, so a number
links to exactly the systems it counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    and_,
    case,
    exists,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from riskreg import lifecycle, permissions, side_by_side
from riskreg.actor import Actor
from riskreg.errors import NotAllowed
from riskreg.models import (
    Approval,
    ApprovalCondition,
    ApprovalRevocation,
    Classification,
    DpiaScreening,
    MajorChange,
    OrgUnit,
    Risk,
    RiskAction,
    RiskAnalysis,
    SlaMeasurement,
    System,
    User,
)
from riskreg.models.codes import (
    ActionStatus,
    ConditionStatus,
    Criticality,
    Decision,
    Lifecycle,
    RecordStatus,
    Role,
    Stage,
)

APPROVED_KINDS = (Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS)
OPEN_ACTIONS = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
LIFECYCLES = tuple(lc.value for lc in Lifecycle)
STAGES = tuple(s.value for s in Stage)
CRITICALITIES = tuple(c.value for c in Criticality)

# Per-system facts of the coverage cube: the systems-list filter of the same name selects them.
FLAGS = (
    "classified",
    "risk_analysed",
    "screened",
    "dpia_required",
    "dpia_done",
    "approved_valid",
    "with_conditions",
    "expiring",
    "expired",
    "needs_review",
    "without_owner",
    "without_system_owner",
    "without_risk_owner",
    "actions_overdue",
    "conditions_overdue",
    "has_sla",
    "has_criticality",
)
# Flags that read the records lifecycle.with_stage_joins joins.
STAGE_JOIN_FLAGS = frozenset(
    {"dpia_required", "approved_valid", "with_conditions", "expiring", "expired", "needs_review"}
)
# Counted in the cube besides FLAGS: name → the list's filter that selects the same systems.
CUBE_EXTRA = {
    "dpia_missing": {"dpia_required": "1", "dpia_done": "0"},
    "on_priority_list": {"priority_list": "1"},
}
SLA_RESULTS = ("met", "missed", "missing")


# ====================================================================== who and what


@dataclass(frozen=True)
class ReportFilter:
    """The report's own filters; each narrows the whole report (figures, tables, charts)."""

    org_unit_id: int | None = None
    criticality: str | None = None
    priority_list: bool | None = None
    lifecycle: str | None = None

    @property
    def population(self) -> str:
        """The lifecycle of the systems the figures count."""
        return self.lifecycle or Lifecycle.IN_OPERATION.value

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.org_unit_id is not None:
            out.append(System.org_unit_id == self.org_unit_id)
        if self.criticality:
            out.append(System.criticality == self.criticality)
        if self.priority_list is not None:
            out.append(System.priority_list.is_(self.priority_list))
        if self.lifecycle:
            out.append(System.lifecycle == self.lifecycle)
        return out

    def params(self) -> dict[str, str]:
        """The same filters as systems-list (and report) query arguments."""
        out = {}
        if self.org_unit_id is not None:
            out["org_unit_id"] = str(self.org_unit_id)
        if self.criticality:
            out["criticality"] = self.criticality
        if self.priority_list is not None:
            out["priority_list"] = "1" if self.priority_list else "0"
        if self.lifecycle:
            out["lifecycle"] = self.lifecycle
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "org_unit_id": self.org_unit_id,
            "criticality": self.criticality,
            "priority_list": self.priority_list,
            "lifecycle": self.lifecycle,
        }


@dataclass(frozen=True)
class Scope:
    """The systems a user's report covers, as a WHERE clause and as the systems list's filter."""

    clause: ColumnElement[bool]
    params: dict[str, str]
    everything: bool


def analytic(session: Session) -> None:
    """Tune this transaction for the report's scans on PostgreSQL: no JIT (compiling a query of this
    shape takes seconds, several times what running it does) and room to hash the groups in memory
    (the planner cannot estimate how few stage groups there are, and would sort 100,000 rows on disk)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def scope_of(user: User | None) -> Scope:
    """The CISO, DPO, auditors and admins see every system; a risk owner the systems they decide on, a
    system owner their own (both: either). Anyone else: NotAllowed."""
    if not permissions.can_read_reports(user):
        raise NotAllowed(
            _l("Only the CISO, the DPO, auditors, administrators and owners of systems read reports.")
        )
    assert user is not None
    if permissions.can_read_all(user):
        return Scope(true(), {}, True)
    owner, decider = user.has_role(Role.SYSTEM_OWNER), user.has_role(Role.RISK_OWNER)
    key = "responsible_id" if owner and decider else "owner_id" if owner else "risk_owner_id"
    return Scope(permissions.report_scope(user), {key: str(user.id)}, False)


# ====================================================================== figures as expressions


def _revoked(a=lifecycle.CurrentApproval) -> ColumnElement[bool]:
    return exists().where(ApprovalRevocation.approval_id == a.id)


def flag_exprs(today: date) -> dict[str, ColumnElement[bool]]:
    """Each figure's condition on one system (needs ``lifecycle.with_stage_joins`` for STAGE_JOIN_FLAGS).

    Of the systems holding an approval (with or without conditions), each is exactly one of
    ``approved_valid``, ``expired`` (past ``valid_until``, not revoked) and ``needs_review`` (revoked, or
    not expired but changed since the decision)."""
    a, screening = lifecycle.CurrentApproval, lifecycle.CurrentScreening
    valid = lifecycle.approval_valid_expr(today)
    overdue_action = (
        select(RiskAction.id)
        .join(Risk, Risk.id == RiskAction.risk_id)
        .where(
            Risk.analysis_id == System.current_risk_analysis_id,
            RiskAction.due_on < today,
            RiskAction.status.in_(OPEN_ACTIONS),
        )
    )
    overdue_condition = select(ApprovalCondition.id).where(
        ApprovalCondition.approval_id == System.current_approval_id,
        ApprovalCondition.due_on < today,
        ApprovalCondition.status == ConditionStatus.OPEN,
    )
    return {
        "classified": System.current_classification_id.is_not(None),
        "risk_analysed": System.current_risk_analysis_id.is_not(None),
        "screened": System.current_screening_id.is_not(None),
        "dpia_required": screening.dpia_required.is_(True),
        "dpia_done": System.current_dpia_id.is_not(None),
        "approved_valid": valid,
        "with_conditions": and_(valid, a.decision == Decision.APPROVED_WITH_CONDITIONS),
        "expiring": lifecycle.expiring_expr(today, current_app.config["EXPIRING_DAYS"]),
        "expired": and_(lifecycle.is_approval(), a.valid_until < today, ~_revoked()),
        "needs_review": and_(
            lifecycle.is_approval(),
            or_(_revoked(), and_(a.valid_until >= today, lifecycle.review_due_expr().is_(True))),
        ),
        "without_owner": or_(System.system_owner_id.is_(None), System.risk_owner_id.is_(None)),
        "without_system_owner": System.system_owner_id.is_(None),
        "without_risk_owner": System.risk_owner_id.is_(None),
        "actions_overdue": overdue_action.exists(),
        "conditions_overdue": overdue_condition.exists(),
        "has_sla": System.current_sla_id.is_not(None),
        "has_criticality": System.criticality.is_not(None),
    }


def residual_cell() -> tuple[ColumnElement[int], ColumnElement[int]]:
    """A risk's residual likelihood and consequence; where none is scored, the risk stands as it is."""
    return (
        func.coalesce(Risk.residual_likelihood, Risk.likelihood),
        func.coalesce(Risk.residual_consequence, Risk.consequence),
    )


def sla_target() -> Decimal:
    return Decimal(str(current_app.config["SLA_PRIORITY_TARGET"]))


def month_of(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def end_of_day(day: date) -> datetime:
    """The first instant (UTC) after ``day``: a record dated that day or before was made before it."""
    return datetime.combine(min(day, date(9998, 12, 31)) + timedelta(days=1), time(0), tzinfo=UTC)


def approval_in_force_on(day: date) -> ColumnElement[bool]:
    """The system held an approval in force on ``day``: decided by then, valid through that day, not
    revoked, not superseded by a later decision and not followed by a major change by the end of it.
    The same rule as the ``approved`` line of ``report_progress.progress`` (which counts it per week in
    one pass)."""
    ap, later = aliased(Approval, name="in_force"), aliased(Approval, name="in_force_later")
    end = end_of_day(day)
    return exists(
        select(ap.id).where(
            ap.system_id == System.id,
            ap.decision.in_(APPROVED_KINDS),
            ap.decided_at < end,
            ap.valid_until >= day,
            ~exists().where(ApprovalRevocation.approval_id == ap.id, ApprovalRevocation.revoked_at < end),
            ~exists().where(
                later.system_id == ap.system_id,
                later.decided_at < end,
                or_(
                    later.decided_at > ap.decided_at,
                    and_(later.decided_at == ap.decided_at, later.id > ap.id),
                ),
            ),
            ~exists().where(
                MajorChange.system_id == ap.system_id,
                MajorChange.recorded_at > ap.decided_at,
                MajorChange.recorded_at < end,
            ),
        )
    )


def drilldown_needs_stage_joins(flt) -> bool:
    return any(getattr(flt, name, None) is not None for name in STAGE_JOIN_FLAGS)


def drilldown_clauses(flt, today: date) -> list[ColumnElement[bool]]:
    """The report's drill-down filters of a ``SystemFilter`` as WHERE clauses (``False`` selects the gap:
    the systems lacking what the figure counts)."""
    out: list[ColumnElement[bool]] = []
    exprs: dict[str, ColumnElement[bool]] | None = None
    for name in FLAGS:
        wanted = getattr(flt, name, None)
        if wanted is None:
            continue
        exprs = exprs or flag_exprs(today)
        out.append(exprs[name] if wanted else exprs[name].is_not(True))
    if getattr(flt, "responsible_id", None) is not None:
        out.append(
            or_(System.system_owner_id == flt.responsible_id, System.risk_owner_id == flt.responsible_id)
        )
    if getattr(flt, "risk_cell", None):
        likelihood, consequence = (int(x) for x in flt.risk_cell.split("-"))
        rl, rc = residual_cell()
        out.append(
            exists().where(
                Risk.analysis_id == System.current_risk_analysis_id, rl == likelihood, rc == consequence
            )
        )
    if getattr(flt, "sla_month", None):
        out.append(_sla_clause(month_of(flt.sla_month), getattr(flt, "sla_result", None)))
    for name, model, column, conds in (
        (
            "classified_by",
            Classification,
            Classification.finalised_at,
            (Classification.status == RecordStatus.FINAL,),
        ),
        (
            "risk_analysed_by",
            RiskAnalysis,
            RiskAnalysis.finalised_at,
            (RiskAnalysis.status == RecordStatus.FINAL,),
        ),
        ("screened_by", DpiaScreening, DpiaScreening.created_at, ()),
    ):
        day = getattr(flt, name, None)
        if day is not None:
            out.append(exists().where(model.system_id == System.id, column < end_of_day(day), *conds))
    if getattr(flt, "approved_on", None) is not None:
        out.append(approval_in_force_on(flt.approved_on))
    return out


def _sla_clause(month: date, result: str | None) -> ColumnElement[bool]:
    measured = exists().where(SlaMeasurement.system_id == System.id, SlaMeasurement.period == month)
    met = exists().where(
        SlaMeasurement.system_id == System.id,
        SlaMeasurement.period == month,
        SlaMeasurement.availability >= sla_target(),
    )
    return {None: measured, "met": met, "missed": and_(measured, ~met), "missing": ~measured}[result]


# ====================================================================== the coverage figures

# JSON name of a figure → the systems-list query that lists what it counts (besides population & filters).
DRILL: dict[str, dict[str, str]] = {
    "classified": {"classified": "1"},
    "not_classified": {"classified": "0"},
    "risk_analysed": {"risk_analysed": "1"},
    "not_risk_analysed": {"risk_analysed": "0"},
    "screened": {"screened": "1"},
    "not_screened": {"screened": "0"},
    "dpia_required": {"dpia_required": "1"},
    "dpia_done": {"dpia_done": "1"},
    "dpia_missing": CUBE_EXTRA["dpia_missing"],
    "approved_valid": {"approved_valid": "1"},
    "without_valid_approval": {"approved_valid": "0"},
    "with_conditions": {"with_conditions": "1"},
    "expiring_90d": {"expiring": "1"},
    "expired": {"expired": "1"},
    "needs_review": {"needs_review": "1"},
    "awaiting_decision": {"stage": Stage.AWAITING_DECISION.value},
    "without_owner": {"without_owner": "1"},
    "without_system_owner": {"without_system_owner": "1"},
    "without_risk_owner": {"without_risk_owner": "1"},
    "actions_overdue": {"actions_overdue": "1"},
    "conditions_overdue": {"conditions_overdue": "1"},
    "on_priority_list": CUBE_EXTRA["on_priority_list"],
    "population": {},
}
# Figures over every lifecycle (not the population), with their own list query.
LIFECYCLE_DRILL = {
    "total": {},
    **{lc: {"lifecycle": lc} for lc in LIFECYCLES},
    "rejected": {"stage": Stage.REJECTED.value},
}
GAPS = {
    "not_classified": "classified",
    "not_risk_analysed": "risk_analysed",
    "not_screened": "screened",
    "without_valid_approval": "approved_valid",
}
FLAG_FIGURE = {"expiring": "expiring_90d"}  # a flag whose JSON name differs (API.md)


@dataclass
class Tally:
    total: int = 0
    population: int = 0
    lifecycles: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIFECYCLES, 0))
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    flags: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: int = 0

    def figures(self) -> dict[str, Any]:
        f = self.flags
        out: dict[str, Any] = {"total": self.total, **self.lifecycles, "population": self.population}
        for name in FLAGS:
            if name not in ("has_sla", "has_criticality"):
                out[FLAG_FIGURE.get(name, name)] = f[name]
        out.update(
            {
                "dpia_missing": f["dpia_missing"],
                "on_priority_list": f["on_priority_list"],
                "rejected": self.rejected,
                "awaiting_decision": self.stages[Stage.AWAITING_DECISION.value],
                "actions_overdue_count": f["actions_overdue_count"],
                "conditions_overdue_count": f["conditions_overdue_count"],
            }
        )
        out.update({gap: self.population - f[flag] for gap, flag in GAPS.items()})
        out["stages"] = dict(self.stages)
        return out


def _code(value: Any) -> str | None:
    return None if value is None else getattr(value, "value", value)


def coverage(session: Session, actor: Actor, rf: ReportFilter) -> dict[str, Any]:
    """The coverage report over the actor's scope and the filters: the headline figures, ``by_org_unit``
    and ``by_criticality`` (flat lists, each system counted once in its own unit), and the stages of the
    population. Raises NotAllowed for a user who reads no reports.

    Two statements, run side by side on PostgreSQL (riskreg/side_by_side.py): the systems counted per org
    unit × criticality × lifecycle × stage, and the population's figures (0/1 per system, and its overdue
    actions and conditions) summed per org unit × criticality; those few hundred groups are added up."""
    scope = scope_of(actor.user)
    today = actor.today()
    exprs = flag_exprs(today)
    # Past-due actions and conditions, counted once per analysis / approval and joined by key (an EXISTS per
    # system would probe the risks of every system); the systems list's filter is the EXISTS of flag_exprs.
    late_actions = (
        select(Risk.analysis_id.label("analysis_id"), func.count().label("n"))  # count(*): index-only
        .join(RiskAction, RiskAction.risk_id == Risk.id)
        .where(RiskAction.due_on < today, RiskAction.status.in_(OPEN_ACTIONS))
        .group_by(Risk.analysis_id)
        .subquery("late_actions")
    )
    late_conditions = (
        select(
            ApprovalCondition.approval_id.label("approval_id"), func.count(ApprovalCondition.id).label("n")
        )
        .where(ApprovalCondition.due_on < today, ApprovalCondition.status == ConditionStatus.OPEN)
        .group_by(ApprovalCondition.approval_id)
        .subquery("late_conditions")
    )
    # The approval figures share their parts: a row carries whether its approval is valid (lifecycle's
    # approval_valid_expr), its decision, valid_until and whether it is revoked, and the aggregate derives
    # with_conditions, expiring (valid and due within EXPIRING_DAYS: lifecycle.expiring_expr), expired and
    # needs_review from those (each approval is exactly one of valid / expired / to review) instead of
    # computing the revocation and the review rule once per figure.
    simple = (
        "classified",
        "risk_analysed",
        "screened",
        "dpia_required",
        "dpia_done",
        "approved_valid",
        "without_owner",
        "without_system_owner",
        "without_risk_owner",
        "has_sla",
        "has_criticality",
    )
    a = lifecycle.CurrentApproval
    per_row: dict[str, ColumnElement] = {
        **{n: case((exprs[n], 1), else_=0) for n in simple},
        "dpia_missing": case((and_(exprs["dpia_required"], System.current_dpia_id.is_(None)), 1), else_=0),
        "on_priority_list": case((System.priority_list.is_(True), 1), else_=0),
        "actions_overdue": case((late_actions.c.n.is_not(None), 1), else_=0),
        "actions_overdue_count": func.coalesce(late_actions.c.n, 0),
        "conditions_overdue": case((late_conditions.c.n.is_not(None), 1), else_=0),
        "conditions_overdue_count": func.coalesce(late_conditions.c.n, 0),
        "held": case((lifecycle.is_approval(), 1), else_=0),
        "revoked": case((_revoked(), 1), else_=0),
    }
    facts = (
        lifecycle.with_stage_joins(
            select(
                System.org_unit_id.label("org_unit_id"),
                System.criticality.label("criticality"),
                a.decision.label("decision"),
                a.valid_until.label("valid_until"),
                *[expr.label(name) for name, expr in per_row.items()],
            ).select_from(System)
        )
        .outerjoin(late_actions, late_actions.c.analysis_id == System.current_risk_analysis_id)
        .outerjoin(late_conditions, late_conditions.c.approval_id == System.current_approval_id)
        .where(scope.clause, *rf.clauses(), System.lifecycle == rf.population)
        .subquery("facts")
    )
    f = facts.c
    expired = and_(f.held == 1, f.valid_until < today, f.revoked == 0)
    derived = {
        "with_conditions": and_(f.approved_valid == 1, f.decision == Decision.APPROVED_WITH_CONDITIONS.value),
        "expiring": and_(
            f.approved_valid == 1,
            f.valid_until <= today + timedelta(days=current_app.config["EXPIRING_DAYS"]),
        ),
        "expired": expired,
        "needs_review": and_(f.held == 1, f.approved_valid == 0, ~expired),
    }
    summed = [n for n in per_row if n not in ("held", "revoked")]
    cube = [*summed, *derived]
    figures_stmt = select(
        f.org_unit_id,
        f.criticality,
        *[func.sum(f[name]) for name in summed],
        *[func.sum(case((cond, 1), else_=0)) for cond in derived.values()],
    ).group_by(f.org_unit_id, f.criticality)
    # grouped by the subquery's stage column: grouping on the bare CASE would repeat its bound parameters
    staged = (
        lifecycle.with_stage_joins(
            select(
                System.org_unit_id.label("org_unit_id"),
                System.criticality.label("criticality"),
                System.lifecycle.label("lifecycle"),
                lifecycle.stage_expr(today).label("stage"),
            ).select_from(System)
        )
        .where(scope.clause, *rf.clauses())
        .subquery("staged")
    )
    keys = (staged.c.org_unit_id, staged.c.criticality, staged.c.lifecycle, staged.c.stage)
    stages_stmt = select(*keys, func.count()).group_by(*keys)

    def rows_of(stmt):
        def run(part_session: Session) -> list:
            analytic(part_session)
            return part_session.execute(stmt).all()

        return run

    parts = side_by_side.run(session, {"figures": rows_of(figures_stmt), "stages": rows_of(stages_stmt)})
    overall, units, crits = Tally(), defaultdict(Tally), defaultdict(Tally)
    for unit_id, crit, lc, stage, n in parts["stages"]:
        crit, lc = _code(crit), _code(lc)
        for t in (overall, units[unit_id], crits[crit]):
            t.total += n
            t.lifecycles[lc] += n
            if stage == Stage.REJECTED.value:
                t.rejected += n
            if lc != rf.population:
                continue
            t.population += n
            t.stages[stage] += n
    for unit_id, crit, *sums in parts["figures"]:
        crit = _code(crit)
        for t in (overall, units[unit_id], crits[crit]):
            for name, total in zip(cube, sums, strict=True):
                t.flags[name] += int(total or 0)

    names = (
        {
            uid: (name, parent)
            for uid, name, parent in session.execute(
                select(OrgUnit.id, OrgUnit.name, OrgUnit.parent_id).where(OrgUnit.id.in_(list(units)))
            )
        }
        if units
        else {}
    )
    by_unit = sorted(
        (
            {
                "org_unit_id": uid,
                "name": names.get(uid, ("?", None))[0],
                "parent_id": names.get(uid, ("?", None))[1],
                **t.figures(),
            }
            for uid, t in units.items()
        ),
        key=lambda u: (str(u["name"]).casefold(), u["org_unit_id"]),
    )
    order = {c: i for i, c in enumerate(CRITICALITIES)}
    by_crit = [
        {"criticality": c, **crits[c].figures()} for c in sorted(crits, key=lambda c: order.get(c, 99))
    ]
    return {
        "generated_at": actor.at().isoformat(),
        "today": today.isoformat(),
        "filters": rf.as_dict(),
        "scope": "all" if scope.everything else "own",
        "population_lifecycle": rf.population,
        **overall.figures(),
        "by_org_unit": by_unit,
        "by_criticality": by_crit,
    }


def drilldown(figure: str, rf: ReportFilter, scope: Scope, **narrow: str) -> dict[str, str]:
    """The systems-list query that lists exactly the systems a figure counts (``narrow``: the row's own
    org unit, criticality, stage … in a table). Lifecycle figures ignore the population."""
    params = {**scope.params, **rf.params()}
    if figure in LIFECYCLE_DRILL:
        params.update(LIFECYCLE_DRILL[figure])
    else:
        params["lifecycle"] = rf.population
        params.update(DRILL.get(figure, {figure: "1"}))
    params.update(narrow)
    return params


def unit_narrowing(org_unit_id: int) -> dict[str, str]:
    return {"org_unit_id": str(org_unit_id)}


def criticality_narrowing(criticality: str | None) -> dict[str, str]:
    return {"criticality": criticality} if criticality else {"has_criticality": "0"}


# ====================================================================== the residual-risk heat map


def heatmap(session: Session, actor: Actor, rf: ReportFilter) -> dict[str, Any]:
    """Risks of the current (finalised) risk analyses of the population, by residual likelihood ×
    consequence: per cell the number of risks and of systems holding one; ``systems`` counts the systems
    whose current risk analysis is mapped (those risk-analysed). Raises NotAllowed."""
    scope = scope_of(actor.user)
    analytic(session)
    where = [scope.clause, *rf.clauses(), System.lifecycle == rf.population]
    rl, rc = residual_cell()
    risks = (
        select(rl.label("l"), rc.label("c"), System.id.label("system_id"))
        .select_from(Risk)
        .join(System, System.current_risk_analysis_id == Risk.analysis_id)
        .where(*where)
        .subquery("residual")
    )
    stmt = select(risks.c.l, risks.c.c, func.count(), func.count(func.distinct(risks.c.system_id))).group_by(
        risks.c.l, risks.c.c
    )
    counts = {(lk, cq): (n, s) for lk, cq, n, s in session.execute(stmt)}
    analysed = session.execute(
        select(func.count(System.id)).where(*where, System.current_risk_analysis_id.is_not(None))
    ).scalar_one()
    cells = []
    for likelihood in (4, 3, 2, 1):
        for consequence in (1, 2, 3, 4):
            n, s = counts.get((likelihood, consequence), (0, 0))
            value = likelihood * consequence
            cells.append(
                {
                    "likelihood": likelihood,
                    "consequence": consequence,
                    "value": value,
                    "band": band_of(value)[0],
                    "risks": n,
                    "systems": s,
                }
            )
    bands = {code: 0 for code, _label, _colour in bands_config()}
    for c in cells:
        bands[c["band"]] += c["risks"]
    return {
        "cells": cells,
        "risks": sum(c["risks"] for c in cells),
        "systems": analysed,
        "risks_by_band": bands,
    }


def bands_config() -> list[tuple[str, str, str]]:
    """(code, label, colour) of the risk bands, lowest first (configuration, DESIGN.md "Scales")."""
    return [
        (code, label, colour)
        for _limit, code, label, colour in sorted(current_app.config["RISK_BANDS"], key=lambda b: b[0])
    ]


def band_of(value: int) -> tuple[str, str, str]:
    for limit, code, label, colour in sorted(current_app.config["RISK_BANDS"], key=lambda b: b[0]):
        if value <= limit:
            return code, label, colour
    limit, code, label, colour = max(current_app.config["RISK_BANDS"], key=lambda b: b[0])
    return code, label, colour


# ====================================================================== SLA attainment


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def sla_attainment(session: Session, actor: Actor, rf: ReportFilter, months: int = 12) -> dict[str, Any]:
    """Per month (the last ``months`` up to this one): the priority-list systems of the population measured,
    meeting the programme's target (SLA_PRIORITY_TARGET, 99.00 %) in a measurement of that month, missing
    it, and not measured; with the mean and the lowest availability. Raises NotAllowed."""
    scope = scope_of(actor.user)
    analytic(session)
    today, target = actor.today(), sla_target()
    first, last = month_start(today, months - 1), month_start(today)
    where = [scope.clause, *rf.clauses(), System.lifecycle == rf.population, System.priority_list.is_(True)]
    best = (
        select(
            SlaMeasurement.period.label("period"),
            SlaMeasurement.system_id.label("system_id"),
            func.max(SlaMeasurement.availability).label("best"),
        )
        .join(System, System.id == SlaMeasurement.system_id)
        .where(*where, SlaMeasurement.period >= first, SlaMeasurement.period <= last)
        .group_by(SlaMeasurement.period, SlaMeasurement.system_id)
        .subquery("best")
    )
    rows = {
        p: (n, met, mean, low)
        for p, n, met, mean, low in session.execute(
            select(
                best.c.period,
                func.count(),
                func.count().filter(best.c.best >= target),
                func.avg(best.c.best),
                func.min(best.c.best),
            ).group_by(best.c.period)
        )
    }
    priority = session.execute(select(func.count(System.id)).where(*where)).scalar_one()
    out = []
    for back in range(months - 1, -1, -1):
        period = month_start(today, back)
        n, met, mean, low = rows.get(period, (0, 0, None, None))
        out.append(
            {
                "month": period.strftime("%Y-%m"),
                "measured": n,
                "met": met,
                "missed": n - met,
                "missing": priority - n,
                "attainment": round(100 * met / n, 1) if n else None,
                "mean_availability": round(float(mean), 3) if mean is not None else None,
                "lowest_availability": float(low) if low is not None else None,
            }
        )
    return {"target": float(target), "priority_systems": priority, "months": out}


def record_export(session: Session, actor: Actor, report: str, fmt: str, filters: dict[str, Any]) -> None:
    """A report or register taken out of riskreg as a file is itself an audit event (who, what, when)."""
    from riskreg import audit

    audit.record(
        session,
        actor,
        "report",
        None,
        "export",
        None,
        {"report": report, "format": fmt, "filters": {k: v for k, v in filters.items() if v is not None}},
    )
