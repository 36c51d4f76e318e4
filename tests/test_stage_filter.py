"""``lifecycle.stage_is`` (the index-friendly stage filter) selects exactly the systems whose CASE
``stage_expr`` says that stage — for systems built into every stage and the edge cases of precedence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from riskreg import lifecycle
from riskreg.models import ApprovalRevocation, System
from riskreg.models.codes import Lifecycle, Stage
from tests.conftest import NOW, TODAY
from tests.test_lifecycle import Records


@pytest.fixture
def world(db_session, make):
    """One org unit with a system in each stage, some stages reached more than one way."""
    unit = make.org_unit()
    decider = make.user("risk_owner")
    expected: dict[int, Stage] = {}

    def build(want: Stage, steps):
        system = make.system(org_unit_id=unit.id)
        rec = Records(db_session, system, decider)
        steps(rec)
        db_session.flush()
        expected[system.id] = want
        return rec

    def ready(rec, required=False):
        rec.classify()
        rec.analyse()
        rec.screen(required)
        if required:
            rec.dpia()

    build(Stage.NOT_STARTED, lambda r: None)
    build(Stage.NOT_STARTED, lambda r: r.classify(final=False))
    build(Stage.CLASSIFIED, lambda r: r.classify())
    build(Stage.CLASSIFIED, lambda r: (r.classify(), r.screen(True)))
    build(Stage.DPIA_PENDING, lambda r: (r.classify(), r.analyse(), r.screen(True)))
    build(Stage.RISK_ANALYSED, lambda r: (r.classify(), r.analyse()))
    build(Stage.RISK_ANALYSED, lambda r: (r.classify(), r.analyse(), r.screen(False)))
    build(Stage.RISK_ANALYSED, lambda r: ready(r, True))
    build(Stage.AWAITING_DECISION, lambda r: (ready(r), r.request()))
    build(Stage.APPROVED, lambda r: (ready(r), r.decide("approved")))
    build(Stage.APPROVED, lambda r: (ready(r, True), r.decide("approved"), r.classify(1, 1, 1)))
    build(Stage.APPROVED_WITH_CONDITIONS, lambda r: (ready(r), r.decide("approved_with_conditions")))
    build(Stage.APPROVED, lambda r: (ready(r), r.decide("approved", valid_until=TODAY)))
    build(Stage.EXPIRED, lambda r: (ready(r), r.decide("approved", valid_until=TODAY - timedelta(days=1))))
    build(
        Stage.EXPIRED,
        lambda r: (
            ready(r),
            r.decide("approved", valid_until=TODAY - timedelta(days=1)),
            setattr(r.system, "major_change_at", NOW + timedelta(hours=1)),
        ),
    )
    build(Stage.REJECTED, lambda r: (ready(r), r.decide("rejected")))
    build(Stage.REJECTED, lambda r: (ready(r), r.decide("rejected"), r.classify(4, 4, 4)))
    build(
        Stage.NEEDS_REVIEW,
        lambda r: (
            ready(r),
            r.decide("approved"),
            setattr(r.system, "major_change_at", NOW + timedelta(hours=1)),
        ),
    )
    build(
        Stage.APPROVED,
        lambda r: (
            ready(r),
            r.decide("approved"),
            setattr(r.system, "major_change_at", NOW - timedelta(days=1)),
        ),
    )
    build(Stage.NEEDS_REVIEW, lambda r: (ready(r), r.decide("approved"), r.classify(3, 2, 2)))
    build(Stage.NEEDS_REVIEW, lambda r: (ready(r), r.decide("approved"), r.analyse()))
    build(Stage.NEEDS_REVIEW, lambda r: (ready(r), r.decide("approved"), r.sla()))
    build(Stage.NEEDS_REVIEW, lambda r: (ready(r), r.decide("approved_with_conditions"), r.screen(False)))

    def revoked(r, valid_until=None):
        ready(r)
        a = r.decide("approved", valid_until=valid_until)
        r.add(ApprovalRevocation(approval_id=a.id, motivation="m", revoked_by_id=r.user.id))

    build(Stage.NEEDS_REVIEW, revoked)
    build(Stage.NEEDS_REVIEW, lambda r: revoked(r, TODAY - timedelta(days=5)))
    build(Stage.AWAITING_DECISION, lambda r: (revoked(r), r.request()))
    build(
        Stage.AWAITING_DECISION,
        lambda r: (ready(r), r.decide("approved", valid_until=TODAY - timedelta(days=9)), r.request()),
    )
    build(Stage.DECOMMISSIONED, lambda r: setattr(r.system, "lifecycle", Lifecycle.DECOMMISSIONED))
    build(
        Stage.DECOMMISSIONED,
        lambda r: (
            ready(r),
            r.decide("rejected"),
            r.request(),
            setattr(r.system, "lifecycle", Lifecycle.DECOMMISSIONED),
        ),
    )
    db_session.flush()
    return unit, expected


def test_every_stage_reached_as_built(db_session, world):
    unit, expected = world
    assert set(expected.values()) == set(Stage)
    got = lifecycle.stages_of(db_session, list(expected), TODAY)
    assert got == expected


@pytest.mark.parametrize("stage", list(Stage))
def test_stage_is_agrees_with_the_case(db_session, world, stage):
    unit, expected = world
    mine = System.org_unit_id == unit.id
    base = lifecycle.with_stage_joins(select(System.id).select_from(System)).where(mine)
    by_case = set(db_session.scalars(base.where(lifecycle.stage_expr(TODAY) == stage.value)))
    by_predicate = set(db_session.scalars(base.where(lifecycle.stage_is(stage, TODAY))))
    assert by_predicate == by_case == {sid for sid, s in expected.items() if s == stage}


@pytest.mark.parametrize("day", [TODAY - timedelta(days=6), TODAY + timedelta(days=400)])
def test_stage_is_agrees_on_other_days(db_session, world, day):
    unit, expected = world
    mine = System.org_unit_id == unit.id
    base = lifecycle.with_stage_joins(select(System.id).select_from(System)).where(mine)
    for stage in Stage:
        by_case = set(db_session.scalars(base.where(lifecycle.stage_expr(day) == stage.value)))
        assert set(db_session.scalars(base.where(lifecycle.stage_is(stage, day)))) == by_case, stage


def test_list_totals_match_count_by_stage(db_session, world, make, api):
    unit, expected = world
    today = datetime.now(UTC).date()  # the API's clock is the real one
    counts = lifecycle.count_by_stage(db_session, today, System.org_unit_id == unit.id)
    client = api(make.user("auditor"))
    for stage in Stage:
        body = client.get(f"/api/v1/systems?org_unit_id={unit.id}&stage={stage.value}&per_page=2").get_json()
        assert body["total"] == counts[stage], stage
        assert all(item["stage"] == stage.value for item in body["items"])
        assert len(body["items"]) == min(2, counts[stage])


def test_approval_valid_is_exactly_the_approved_stages(db_session, world):
    """Also for approvals without a DPIA or SLA (NULL on both sides is no difference, not unknown)."""
    unit, expected = world
    base = lifecycle.with_stage_joins(select(System.id).select_from(System)).where(
        System.org_unit_id == unit.id
    )
    valid = set(db_session.scalars(base.where(lifecycle.approval_valid_expr(TODAY))))
    assert valid == {
        sid for sid, s in expected.items() if s in (Stage.APPROVED, Stage.APPROVED_WITH_CONDITIONS)
    }


@pytest.mark.parametrize("sort", ["name", "-name", "criticality", "-updated_at", "id", "-id"])
@pytest.mark.parametrize("stage", [Stage.APPROVED, Stage.NEEDS_REVIEW, Stage.CLASSIFIED])
def test_stage_pages_are_sorted_complete_and_counted(db_session, world, make, api, sort, stage):
    unit, expected = world
    today = datetime.now(UTC).date()
    want = {sid for sid, s in lifecycle.stages_of(db_session, list(expected), today).items() if s == stage}
    client = api(make.user("auditor"))
    seen, totals = [], set()
    for page_no in range(1, len(want) + 2):
        body = client.get(
            f"/api/v1/systems?org_unit_id={unit.id}&stage={stage.value}&sort={sort}&per_page=1&page={page_no}"
        ).get_json()
        totals.add(body["total"])
        seen += [item["id"] for item in body["items"]]
    assert totals == {len(want)}
    assert sorted(seen) == sorted(want)
    key, desc = sort.lstrip("-"), sort.startswith("-")
    systems = {s.id: s for s in db_session.scalars(select(System).where(System.id.in_(seen)))}
    col = {
        "name": lambda s: (s.name, s.id),
        "criticality": lambda s: (s.criticality or "~", s.name, s.id),
        "updated_at": lambda s: (s.updated_at, s.id),
        "id": lambda s: (s.id,),
    }[key]
    assert seen == sorted(seen, key=lambda i: col(systems[i]), reverse=desc)
