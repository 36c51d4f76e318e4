"""The coverage report's figures, charts' data and drill-downs over the region of test_reports_fixture.py.
Every expected number below is worked out by hand from that table, not by calling the report's code."""

# ruff: noqa: F811  (the region fixture is imported by name; pytest injects it)
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from riskreg.errors import NotAllowed
from riskreg.services import report_progress, reports
from riskreg.services import systems as systems_service
from riskreg.services.reports import ReportFilter, month_start
from tests.conftest import actor
from tests.test_reports_fixture import region  # noqa: F401 (fixture)

IN_OPERATION = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S14"]

# The headline figures by hand, and the systems behind each (the drill-down must list exactly these).
HEADLINE = {
    "total": 14,
    "in_operation": 11,
    "planned": 1,
    "being_decommissioned": 1,
    "decommissioned": 1,
    "population": 11,
    "classified": 9,
    "not_classified": 2,
    "risk_analysed": 8,
    "not_risk_analysed": 3,
    "screened": 8,
    "not_screened": 3,
    "dpia_required": 2,
    "dpia_done": 1,
    "dpia_missing": 1,
    "approved_valid": 3,
    "without_valid_approval": 8,
    "with_conditions": 1,
    "expiring_90d": 1,
    "expired": 1,
    "needs_review": 2,
    "awaiting_decision": 1,
    "rejected": 1,
    "without_owner": 2,
    "without_system_owner": 1,
    "without_risk_owner": 2,
    "actions_overdue": 2,
    "actions_overdue_count": 3,
    "conditions_overdue": 1,
    "conditions_overdue_count": 1,
    "on_priority_list": 2,
}
MEMBERS = {
    "total": [f"S{i}" for i in range(1, 15)],
    "in_operation": IN_OPERATION,
    "planned": ["S13"],
    "being_decommissioned": ["S11"],
    "decommissioned": ["S12"],
    "population": IN_OPERATION,
    "classified": ["S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10"],
    "not_classified": ["S1", "S14"],
    "risk_analysed": ["S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10"],
    "not_risk_analysed": ["S1", "S2", "S14"],
    "screened": ["S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10"],
    "not_screened": ["S1", "S2", "S14"],
    "dpia_required": ["S4", "S6"],
    "dpia_done": ["S6"],
    "dpia_missing": ["S4"],
    "approved_valid": ["S5", "S6", "S10"],
    "without_valid_approval": ["S1", "S2", "S3", "S4", "S7", "S8", "S9", "S14"],
    "with_conditions": ["S6"],
    "expiring_90d": ["S6"],
    "expired": ["S7"],
    "needs_review": ["S8", "S9"],
    "awaiting_decision": ["S10"],
    "rejected": ["S11"],
    "without_owner": ["S1", "S14"],
    "without_system_owner": ["S14"],
    "without_risk_owner": ["S1", "S14"],
    "actions_overdue": ["S3", "S9"],
    "conditions_overdue": ["S6"],
    "on_priority_list": ["S5", "S7"],
}
STAGES = {
    "not_started": 2,
    "classified": 1,
    "risk_analysed": 1,
    "dpia_pending": 1,
    "awaiting_decision": 1,
    "approved": 1,
    "approved_with_conditions": 1,
    "needs_review": 2,
    "expired": 1,
    "rejected": 0,
    "decommissioned": 0,
}


def ciso_actor(region):
    return actor(region.users["ciso"], datetime.combine(region.today, time(10), tzinfo=UTC))


def listed(session, region, params: dict) -> set[str]:
    """The names the systems list shows for a drill-down query (all pages)."""
    from riskreg.schemas.systems import SystemQuery

    values = SystemQuery().load(params)
    flt = systems_service.SystemFilter(**values)
    rows, total = systems_service.page(session, flt, region.today, 1, 500)
    assert total == len(rows)
    return {s.name for s, _stage in rows}


def test_headline_figures(region, db_session):
    cov = reports.coverage(db_session, ciso_actor(region), ReportFilter())
    assert {k: cov[k] for k in HEADLINE} == HEADLINE
    assert cov["stages"] == STAGES
    assert cov["scope"] == "all" and cov["population_lifecycle"] == "in_operation"
    # the funnel narrows, and each system holding an approval is exactly one of valid / expired / review
    assert cov["in_operation"] >= cov["classified"] >= cov["risk_analysed"] >= cov["approved_valid"]
    assert cov["approved_valid"] + cov["expired"] + cov["needs_review"] == 6  # S5 S6 S10 | S7 | S8 S9


@pytest.mark.parametrize("figure", sorted(MEMBERS))
def test_every_figure_drills_down_to_exactly_its_systems(region, db_session, figure):
    scope = reports.scope_of(region.users["ciso"])
    params = reports.drilldown(figure, ReportFilter(), scope)
    assert listed(db_session, region, params) == region.names(*MEMBERS[figure])
    assert len(MEMBERS[figure]) == HEADLINE[figure]


def test_decommissioned_systems_leave_the_denominators(region, db_session):
    cov = reports.coverage(db_session, ciso_actor(region), ReportFilter())
    # S12 is decommissioned and classified: it is counted as decommissioned, never as classified
    assert cov["decommissioned"] == 1 and cov["classified"] == 9 and cov["population"] == 11
    north = next(u for u in cov["by_org_unit"] if u["org_unit_id"] == region.units["north"].id)
    assert north["total"] == 8 and north["in_operation"] == 7 and north["classified"] == 5  # S2 S3 S4 S9 S10
    # the report over the decommissioned systems counts them instead
    gone = reports.coverage(db_session, ciso_actor(region), ReportFilter(lifecycle="decommissioned"))
    assert (
        gone["population"] == 1
        and gone["classified"] == 1
        and gone["total"] == 1
        and gone["in_operation"] == 0
    )


def test_per_org_unit_and_per_criticality_add_up(region, db_session):
    cov = reports.coverage(db_session, ciso_actor(region), ReportFilter())
    units = {u["name"]: u for u in cov["by_org_unit"]}
    assert set(units) == {"Förvaltning Norr", "Förvaltning Söder"}
    north, south = units["Förvaltning Norr"], units["Förvaltning Söder"]
    # by hand: Norr = S1 S2 S3 S4 S9 S10 S12 S14, Söder = S5 S6 S7 S8 S11 S13
    assert (north["total"], north["in_operation"], north["approved_valid"], north["needs_review"]) == (
        8,
        7,
        1,
        1,
    )
    assert (south["total"], south["in_operation"], south["approved_valid"], south["needs_review"]) == (
        6,
        4,
        2,
        1,
    )
    assert (north["without_owner"], south["without_owner"]) == (2, 0)
    assert (north["actions_overdue_count"], south["conditions_overdue_count"]) == (3, 1)
    assert north["stages"]["not_started"] == 2 and south["stages"]["expired"] == 1
    crit = {c["criticality"]: c for c in cov["by_criticality"]}
    assert [c["criticality"] for c in cov["by_criticality"]] == ["A", "B", "C", "D", None]
    assert {k: c["in_operation"] for k, c in crit.items()} == {"A": 2, "B": 5, "C": 2, "D": 1, None: 1}
    assert {k: c["total"] for k, c in crit.items()} == {"A": 3, "B": 7, "C": 2, "D": 1, None: 1}
    for key in HEADLINE:
        assert sum(u[key] for u in cov["by_org_unit"]) == cov[key], key
        assert sum(c[key] for c in cov["by_criticality"]) == cov[key], key
    for stage, n in STAGES.items():
        assert sum(u["stages"][stage] for u in cov["by_org_unit"]) == n


def test_table_rows_drill_down_within_their_unit_and_criticality(region, db_session):
    scope = reports.scope_of(region.users["ciso"])
    north = region.units["north"].id
    params = reports.drilldown("classified", ReportFilter(), scope, **reports.unit_narrowing(north))
    assert listed(db_session, region, params) == region.names("S2", "S3", "S4", "S9", "S10")
    params = reports.drilldown("population", ReportFilter(), scope, **reports.criticality_narrowing(None))
    assert listed(db_session, region, params) == region.names("S9")
    params = reports.drilldown(
        "population", ReportFilter(), scope, stage="not_started", **reports.criticality_narrowing("B")
    )
    assert listed(db_session, region, params) == region.names("S14")


def test_filters_narrow_the_whole_report(region, db_session):
    act = ciso_actor(region)
    south = reports.coverage(db_session, act, ReportFilter(org_unit_id=region.units["south"].id))
    assert (south["total"], south["in_operation"], south["approved_valid"], south["expired"]) == (6, 4, 2, 1)
    assert [u["name"] for u in south["by_org_unit"]] == ["Förvaltning Söder"]
    b = reports.coverage(db_session, act, ReportFilter(criticality="B"))
    assert (b["total"], b["in_operation"], b["classified"], b["rejected"], b["planned"]) == (7, 5, 4, 1, 1)
    prio = reports.coverage(db_session, act, ReportFilter(priority_list=True))
    assert (prio["total"], prio["approved_valid"], prio["expired"]) == (2, 1, 1)
    planned = reports.coverage(db_session, act, ReportFilter(lifecycle="planned"))
    assert (
        planned["total"],
        planned["population"],
        planned["in_operation"],
        planned["stages"]["not_started"],
    ) == (1, 1, 0, 1)
    heat = reports.heatmap(db_session, act, ReportFilter(org_unit_id=region.units["south"].id))
    assert heat["risks"] == 4 and heat["systems"] == 4  # S5 S6 S7 S8, one risk each


def test_role_views(region, db_session):
    now = datetime.combine(region.today, time(10), tzinfo=UTC)
    so1 = reports.coverage(db_session, actor(region.users["so1"], now), ReportFilter())
    # so1 owns S1 S2 S3 S4 S7 S9 S10 S12
    assert (so1["scope"], so1["total"], so1["in_operation"], so1["classified"], so1["expired"]) == (
        "own",
        8,
        7,
        6,
        1,
    )
    ro1 = reports.coverage(db_session, actor(region.users["ro1"], now), ReportFilter())
    # ro1 decides on S2 S3 S5 S7 S8 S10 S11 S12
    assert (ro1["total"], ro1["in_operation"], ro1["approved_valid"], ro1["rejected"]) == (8, 6, 2, 1)
    scope = reports.scope_of(region.users["so1"])
    assert scope.params == {"owner_id": str(region.users["so1"].id)}
    params = reports.drilldown("classified", ReportFilter(), scope)
    assert listed(db_session, region, params) == region.names("S2", "S3", "S4", "S7", "S9", "S10")
    for role in ("ciso", "dpo", "auditor", "admin"):
        assert reports.coverage(db_session, actor(region.users[role], now), ReportFilter())["total"] == 14
    nobody = region.users["dpo"]
    nobody.role_rows = []
    db_session.flush()
    with pytest.raises(NotAllowed):
        reports.coverage(db_session, actor(nobody, now), ReportFilter())


def test_a_user_holding_both_owner_roles_sees_either(region, db_session, make):
    from riskreg.services import systems

    both = make.user("system_owner", "risk_owner")
    admin_act = actor(region.users["admin"])
    s2, s5 = region.systems["S2"], region.systems["S5"]
    systems.update(db_session, admin_act, s2.id, {"system_owner_id": both.id}, version=s2.version)
    systems.update(db_session, admin_act, s5.id, {"risk_owner_id": both.id}, version=s5.version)
    cov = reports.coverage(
        db_session, actor(both, datetime.combine(region.today, time(10), tzinfo=UTC)), ReportFilter()
    )
    assert cov["total"] == 2 and cov["approved_valid"] == 1
    scope = reports.scope_of(both)
    assert scope.params == {"responsible_id": str(both.id)}
    assert listed(db_session, region, reports.drilldown("total", ReportFilter(), scope)) == region.names(
        "S2", "S5"
    )


def test_heat_map_cells(region, db_session):
    heat = reports.heatmap(db_session, ciso_actor(region), ReportFilter())
    cells = {(c["likelihood"], c["consequence"]): (c["risks"], c["systems"]) for c in heat["cells"]}
    # residual (or inherent where none scored) of S3..S10's current analyses
    expected = {
        (2, 2): (2, 2),
        (4, 4): (1, 1),
        (1, 1): (2, 2),
        (1, 2): (2, 2),
        (2, 3): (1, 1),
        (3, 4): (1, 1),
    }
    assert {k: v for k, v in cells.items() if v != (0, 0)} == expected
    assert len(heat["cells"]) == 16 and heat["risks"] == 9 and heat["systems"] == 8
    assert heat["risks_by_band"] == {"low": 4, "medium": 3, "high": 1, "extreme": 1}
    scope = reports.scope_of(region.users["ciso"])
    for (lk, cq), members in {
        (2, 2): ("S3", "S7"),
        (4, 4): ("S3",),
        (3, 4): ("S9",),
        (1, 2): ("S5", "S8"),
    }.items():
        params = reports.drilldown("population", ReportFilter(), scope, risk_cell=f"{lk}-{cq}")
        assert listed(db_session, region, params) == region.names(*members)


def test_sla_attainment_month_by_month(region, db_session):
    sla = reports.sla_attainment(db_session, ciso_actor(region), ReportFilter())
    assert sla["target"] == 99.0 and sla["priority_systems"] == 2 and len(sla["months"]) == 12
    months = {m["month"]: m for m in sla["months"]}
    this, last = month_start(region.today).strftime("%Y-%m"), month_start(region.today, 1).strftime("%Y-%m")
    assert sla["months"][-1]["month"] == this
    # last month: S5 99.5 (met), S7 98.0 (missed); this month: S5 99.0 (met, on the line), S7 not measured
    assert {k: months[last][k] for k in ("measured", "met", "missed", "missing", "attainment")} == {
        "measured": 2,
        "met": 1,
        "missed": 1,
        "missing": 0,
        "attainment": 50.0,
    }
    assert {k: months[this][k] for k in ("measured", "met", "missed", "missing", "attainment")} == {
        "measured": 1,
        "met": 1,
        "missed": 0,
        "missing": 1,
        "attainment": 100.0,
    }
    assert months[last]["mean_availability"] == 98.75 and months[last]["lowest_availability"] == 98.0
    older = [m for m in sla["months"] if m["month"] not in (this, last)]
    assert all(m["measured"] == 0 and m["missing"] == 2 and m["attainment"] is None for m in older)
    scope = reports.scope_of(region.users["ciso"])
    for month, result, members in (
        (last, "missed", ("S7",)),
        (last, "met", ("S5",)),
        (this, "missing", ("S7",)),
        (this, None, ("S5",)),
    ):
        narrow = {"priority_list": "1", "sla_month": month, **({"sla_result": result} if result else {})}
        params = reports.drilldown("population", ReportFilter(), scope, **narrow)
        assert listed(db_session, region, params) == region.names(*members), (month, result)


def test_progress_week_by_week_from_the_records_dates(region, db_session):
    prog = report_progress.progress(db_session, ciso_actor(region), ReportFilter())
    T = region.today
    assert prog["programme_start"] == (T - timedelta(days=52)).isoformat() and prog["population"] == 11
    ends = [w["end"] for w in prog["weeks"]]
    assert ends == [(T - timedelta(days=d)).isoformat() for d in (46, 39, 32, 25, 18, 11, 4, 0)]
    series = {
        name: [w[name] for w in prog["weeks"]]
        for name in ("classified", "risk_analysed", "screened", "approved")
    }
    assert series == {
        "classified": [2, 4, 6, 7, 8, 9, 9, 9],  # S5 (T-80) S2 | S3 S4 | S6 S7 | S8 | S9 | S10
        "risk_analysed": [1, 3, 5, 6, 7, 8, 8, 8],
        "screened": [1, 3, 5, 6, 7, 8, 8, 8],  # each on a week's last day
        "approved": [1, 1, 1, 3, 4, 5, 4, 3],  # S5 | +S7 S6 | +S8 | -S8 +S9 +S10 | -S9 | -S7 (expired)
    }
    scope = reports.scope_of(region.users["ciso"])
    by_day = {
        "classified_by": (32, ("S5", "S2", "S3", "S4", "S6", "S7")),
        "screened_by": (39, ("S5", "S3", "S4")),
        "approved_on": (11, ("S5", "S6", "S7", "S9", "S10")),
    }
    for name, (days, members) in by_day.items():
        params = reports.drilldown(
            "population", ReportFilter(), scope, **{name: (T - timedelta(days=days)).isoformat()}
        )
        assert listed(db_session, region, params) == region.names(*members), name
    params = reports.drilldown("population", ReportFilter(), scope, approved_on=T.isoformat())
    assert listed(db_session, region, params) == region.names("S5", "S6", "S10")
    params = reports.drilldown(
        "population", ReportFilter(), scope, approved_on=(T - timedelta(days=4)).isoformat()
    )
    assert listed(db_session, region, params) == region.names("S5", "S6", "S7", "S10")


def test_progress_starts_empty_before_the_programme(region, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "PROGRAMME_START", (region.today + timedelta(days=3)).isoformat())
    assert report_progress.progress(db_session, ciso_actor(region), ReportFilter())["weeks"] == []
