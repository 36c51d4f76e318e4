"""The approval services (riskreg.services.approvals, decommissioning): every rule of DESIGN.md's
approval lifecycle, the pointers the stage is derived from, and that a refused act writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from riskreg import lifecycle
from riskreg.errors import NotAllowed, RuleViolation
from riskreg.models import (
    AcceptedRisk,
    Approval,
    ApprovalCondition,
    ApprovalRequest,
    AuditEvent,
    MajorChange,
    ReferenceCounter,
)
from riskreg.models.codes import Stage
from riskreg.services import approval_snapshot, approvals, decommissioning
from tests.approval_support import World
from tests.conftest import NOW, TODAY, actor


@pytest.fixture
def world(make, db_session):
    return World(make, db_session)


def stage(world, today=TODAY):
    return lifecycle.stage_of(world.s, world.system.id, today)


def count(session, model):
    return session.execute(select(func.count()).select_from(model)).scalar_one()


# ------------------------------------------------------------------ request


def test_request_lists_every_missing_prerequisite(world):
    with pytest.raises(RuleViolation) as exc:
        world.request()
    codes = exc.value.fields["missing_codes"]
    assert codes == ["classification", "risk_analysis", "dpia_screening"]
    assert len(exc.value.fields["missing"]) == 3
    assert world.system.open_request_id is None


def test_request_needs_the_dpia_when_the_screening_requires_one(world):
    world.filing.classify()
    world.filing.analyse()
    world.filing.screen()
    with pytest.raises(RuleViolation) as exc:
        world.request()
    assert exc.value.fields["missing_codes"] == ["dpia"]
    world.filing.dpia(final=False)
    with pytest.raises(RuleViolation):
        world.request()
    world.filing.dpia()
    req = world.request()
    assert req.status == "pending" and world.system.open_request_id == req.id
    assert stage(world) == Stage.AWAITING_DECISION


def test_request_needs_the_analysis_to_rest_on_the_current_classification(world):
    world.filing.classify()
    world.filing.analyse()
    world.filing.screen(criteria=())
    world.filing.classify(k=4)  # a new classification after the analysis
    with pytest.raises(RuleViolation) as exc:
        world.request()
    assert exc.value.fields["missing_codes"] == ["risk_analysis_classification"]


def test_request_by_others_is_refused_before_the_rules(world, make):
    stranger = make.user("system_owner")
    with pytest.raises(NotAllowed):
        approvals.request(world.s, actor(stranger), world.system.id)
    with pytest.raises(NotAllowed):
        approvals.request(world.s, actor(world.risk_owner), world.system.id)


def test_admin_requests_for_the_owner_and_a_second_request_is_refused(world, make):
    world.ready()
    req = approvals.request(world.s, actor(make.admin()), world.system.id)
    assert req.requested_by_id == make.admin().id
    with pytest.raises(RuleViolation) as exc:
        world.request()
    assert exc.value.code == "already_requested"


def test_withdraw_clears_the_open_request(world):
    world.ready()
    req = world.request()
    approvals.withdraw(world.s, actor(world.owner), req.id)
    assert req.status == "withdrawn" and world.system.open_request_id is None
    assert stage(world) == Stage.RISK_ANALYSED
    with pytest.raises(RuleViolation):
        approvals.withdraw(world.s, actor(world.owner), req.id)


# ------------------------------------------------------------------ decision


def test_decision_with_conditions_sets_pointers_snapshot_and_checksum(world):
    world.ready()
    req = world.request()
    a = world.decide(valid_until=TODAY + timedelta(days=400))
    assert a.reference == "DG-2026-0001" and a.year == 2026 and a.sequence == 1
    assert world.system.current_approval_id == a.id and world.system.open_request_id is None
    assert req.status == "decided" and req.closed_at is not None
    assert stage(world) == Stage.APPROVED_WITH_CONDITIONS
    assert a.classification_id == world.system.current_classification_id
    assert (a.confidentiality, a.integrity, a.availability) == (3, 3, 2)
    assert a.risk_analysis_id == world.system.current_risk_analysis_id
    assert a.screening_id == world.system.current_screening_id and a.dpia_id == world.system.current_dpia_id
    assert a.sla_id == world.system.current_sla_id
    assert a.content_sha256 == approval_snapshot.sha256(a.snapshot) and len(a.content_sha256) == 64
    assert a.snapshot["system"]["name"] == "Journalsystemet Åäö"
    assert a.snapshot["classification"]["profile"] == "3-3-2"
    assert [r["title"] for r in a.snapshot["accepted_risks"]] == ["Ransomware slår ut driften"]
    assert a.snapshot["conditions"][0]["responsible"]["name"] == "Sara Systemägare"
    assert len(a.conditions) == 1 and a.conditions[0].status == "open"
    events = world.s.execute(select(AuditEvent).where(AuditEvent.entity == "approval")).scalars().all()
    assert [e.action for e in events] == ["decide"]


def test_checksum_is_over_canonical_content():
    content = {"b": [1, "å"], "a": {"y": None, "x": "ö"}}
    assert approval_snapshot.canonical(content) == '{"a":{"x":"ö","y":null},"b":[1,"å"]}'.encode()
    assert approval_snapshot.sha256(content) == approval_snapshot.sha256(
        {"a": {"x": "ö", "y": None}, "b": [1, "å"]}
    )


def test_valid_until_defaults_to_three_years_and_is_bounded(world):
    world.ready()
    world.request()
    for bad, message in (
        (TODAY - timedelta(days=1), ("after today", "efter i dag")),
        (TODAY, ("after today", "efter i dag")),
        (date(2029, 11, 25), ("2029-11-24",)),
    ):
        with pytest.raises(RuleViolation) as exc:
            world.decide(valid_until=bad)
        said = " ".join(map(str, exc.value.fields["valid_until"]))
        assert any(m in said for m in message), said
    a = world.decide()
    assert a.valid_until == date(2029, 11, 24)


def test_add_years_handles_leap_day():
    assert approvals.add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)


@pytest.mark.parametrize("who", ["system_owner", "other_risk_owner", "ciso"])
def test_only_the_named_risk_owner_decides(world, make, who):
    world.ready()
    world.request()
    user = {
        "system_owner": world.owner,
        "other_risk_owner": make.user("risk_owner"),
        "ciso": make.user("ciso"),
    }[who]
    with pytest.raises(NotAllowed) as exc:
        approvals.decide(world.s, actor(user), world.system.id, decision="rejected", motivation="x")
    assert exc.value.fields["reason"] == [
        {
            "system_owner": "only_risk_owner",
            "other_risk_owner": "not_named_risk_owner",
            "ciso": "only_risk_owner",
        }[who]
    ]


def test_segregation_of_duties_even_holding_both_roles(make, db_session):
    both = make.user("system_owner", "risk_owner")
    system = make.system(system_owner=both, risk_owner=both)
    from tests.approval_support import Filing

    Filing(db_session, system, both).ready()
    approvals.request(db_session, actor(both), system.id)
    with pytest.raises(NotAllowed) as exc:
        approvals.decide(
            db_session, actor(both), system.id, decision="approved", motivation="x", accepted_risk_ids=[]
        )
    assert exc.value.fields["reason"] == ["own_system"]
    assert any(w in str(exc.value.message) for w in ("segregation of duties", "åtskillnad mellan uppgifter"))


def test_permission_is_checked_before_the_rules(world):
    world.ready()  # no request: the rule would refuse too, but the system owner gets NotAllowed first
    with pytest.raises(NotAllowed):
        approvals.decide(world.s, actor(world.owner), world.system.id, decision="approved", motivation="x")


def test_every_high_residual_risk_must_be_accepted(world):
    world.ready()
    world.request()
    with pytest.raises(RuleViolation) as exc:
        world.decide(decision="approved", accepted_risks={})
    unaccepted = exc.value.fields["unaccepted_risks"]
    assert len(unaccepted) == 1 and "Ransomware" in str(unaccepted[0]) and "12" in str(unaccepted[0])
    assert count(world.s, Approval) == 0 and world.system.open_request_id is not None
    a = world.decide(
        decision="approved",
        accepted_risks=None,
        accepted_risk_ids=world.high_risk_ids(),
        motivation="Godtagbart",
    )
    assert [ar.motivation for ar in a.accepted_risks] == ["Godtagbart"]


def test_a_risk_without_residual_scoring_counts_as_it_stands(world):
    world.ready(risks=[("Oscorad risk", "K", 3, 3, None, None)])
    world.request()
    with pytest.raises(RuleViolation) as exc:
        world.decide(decision="approved", accepted_risks={})
    assert "Oscorad" in str(exc.value.fields["unaccepted_risks"][0])


def test_accepting_a_risk_of_another_system_is_refused(world, make, db_session):
    other = World(make, db_session)
    other.ready()
    world.ready()
    world.request()
    foreign = other.high_risk_ids()[0]
    with pytest.raises(RuleViolation) as exc:
        world.decide(
            decision="approved", accepted_risks={**{r: "ok" for r in world.high_risk_ids()}, foreign: "x"}
        )
    assert str(foreign) in str(exc.value.fields["accepted_risk_ids"][0])
    assert count(db_session, Approval) == 0 and count(db_session, AcceptedRisk) == 0


@pytest.mark.parametrize(
    "conditions, field",
    [
        ([{"text": "Övning", "due_on": None}], "conditions.0.due_on"),
        ([{"text": "  ", "due_on": TODAY + timedelta(days=3)}], "conditions.0.text"),
        ([{"text": "Övning", "due_on": TODAY - timedelta(days=1)}], "conditions.0.due_on"),
        (
            [{"text": "Övning", "due_on": TODAY + timedelta(days=3), "responsible_id": 10**8}],
            "conditions.0.responsible_id",
        ),
        ([], "conditions"),
    ],
)
def test_conditions_need_text_and_due_date(world, conditions, field):
    world.ready()
    world.request()
    with pytest.raises(RuleViolation) as exc:
        world.decide(conditions=conditions)
    assert field in exc.value.fields
    assert count(world.s, Approval) == 0 and count(world.s, ApprovalCondition) == 0
    assert count(world.s, ReferenceCounter) == 0


def test_plain_approval_takes_no_conditions(world):
    world.ready()
    world.request()
    with pytest.raises(RuleViolation) as exc:
        world.decide(decision="approved", conditions=[{"text": "x", "due_on": TODAY + timedelta(days=9)}])
    assert "conditions" in exc.value.fields


def test_a_condition_without_a_named_responsible_falls_to_the_system_owner(world):
    """The API may leave a condition's responsible out: each condition still has someone to follow it up,
    the system owner, whom the snapshot (and so the page and the PDF) names."""
    world.ready()
    world.request()
    a = world.decide(conditions=[{"text": "Logguppföljning", "due_on": TODAY + timedelta(days=30)}])
    assert a.conditions[0].responsible_id == world.owner.id
    assert a.snapshot["conditions"][0]["responsible"]["name"] == "Sara Systemägare"


def test_a_condition_without_responsible_and_no_active_system_owner_is_refused(world):
    """Each condition has a responsible person: with no active system owner to stand in, one must be named
    (never an inactive person, never nobody); nothing is written."""
    world.ready()
    world.request()
    world.owner.active = False
    world.s.flush()
    with pytest.raises(RuleViolation) as exc:
        world.decide(conditions=[{"text": "Logguppföljning", "due_on": TODAY + timedelta(days=30)}])
    assert "conditions.0.responsible_id" in exc.value.fields
    assert world.s.scalar(select(func.count()).select_from(Approval)) == 0


def test_the_decision_page_names_each_responsible_and_motivates_each_accepted_risk(world):
    """``explicit`` (the decision page): nothing is filled in — a condition needs its responsible person
    and each accepted risk its own motivation, each reported on its own field; nothing is written."""
    world.ready()
    world.request()
    rid = world.high_risk_ids()[0]
    with pytest.raises(RuleViolation) as exc:
        world.decide(
            conditions=[{"text": "Logguppföljning", "due_on": TODAY + timedelta(days=30)}],
            accepted_risks={rid: "  "},
            explicit=True,
        )
    assert "conditions.0.responsible_id" in exc.value.fields
    said = " ".join(map(str, exc.value.fields[f"accepted_risks.{rid}"]))
    assert "Ransomware slår ut driften" in said
    assert count(world.s, Approval) == 0 and count(world.s, ReferenceCounter) == 0
    a = world.decide(
        conditions=[
            {
                "text": "Logguppföljning",
                "due_on": TODAY + timedelta(days=30),
                "responsible_id": world.risk_owner.id,
            }
        ],
        accepted_risks={rid: "Reservrutin finns"},
        explicit=True,
    )
    assert [ar.motivation for ar in a.accepted_risks] == ["Reservrutin finns"]
    assert a.conditions[0].responsible_id == world.risk_owner.id


def test_deciding_twice_is_refused_and_writes_nothing(world):
    world.approved()
    before = (count(world.s, Approval), count(world.s, AuditEvent))
    with pytest.raises(RuleViolation) as exc:
        world.decide()
    assert exc.value.code == "not_awaiting_decision"
    assert (count(world.s, Approval), count(world.s, AuditEvent)) == before


def test_deciding_without_a_request_is_refused(world):
    world.ready()
    with pytest.raises(RuleViolation) as exc:
        world.decide()
    assert exc.value.code == "not_awaiting_decision"


def test_prerequisites_are_checked_again_at_the_decision(world):
    world.ready()
    world.request()
    world.system.current_screening_id = None  # e.g. a screening withdrawn meanwhile
    with pytest.raises(RuleViolation) as exc:
        world.decide()
    assert exc.value.fields["missing_codes"] == ["dpia_screening"]


def test_references_are_gap_free_per_year(world, make, db_session):
    refs = []
    for _ in range(3):
        w = World(make, db_session)
        w.ready()
        w.request()
        refs.append(w.decide(decision="rejected").reference)
    w = World(make, db_session)
    w.ready()
    w.request(now=datetime(2027, 1, 2, 9, tzinfo=UTC))
    refs.append(w.decide(decision="rejected", now=datetime(2027, 1, 2, 10, tzinfo=UTC)).reference)
    assert refs == ["DG-2026-0001", "DG-2026-0002", "DG-2026-0003", "DG-2027-0001"]


def test_a_refused_decision_does_not_use_up_a_number(world, make, db_session):
    world.ready()
    world.request()
    with pytest.raises(RuleViolation):
        world.decide(valid_until=TODAY - timedelta(days=3))
    assert world.decide().reference == "DG-2026-0001"


# ------------------------------------------------------------------ after the decision


def test_rejection_starts_decommissioning(world, make):
    world.ready()
    world.request()
    a = world.decide(decision="rejected", motivation="Oacceptabla risker")
    assert a.valid_until is None and world.system.lifecycle == "being_decommissioned"
    assert stage(world) == Stage.REJECTED
    plan = decommissioning.plan(
        world.s,
        actor(world.risk_owner),
        world.system.id,
        planned_on=TODAY + timedelta(days=120),
        responsible_id=world.owner.id,
        disposition="transferred",
        target_system_id=make.system().id,
    )
    assert plan.approval_id == a.id and plan.status == "planned"
    with pytest.raises(RuleViolation):
        decommissioning.plan(
            world.s,
            actor(world.owner),
            world.system.id,
            planned_on=TODAY,
            responsible_id=world.owner.id,
            disposition="archived",
        )
    with pytest.raises(RuleViolation) as exc:  # under an open plan no new round is asked for
        world.request()
    assert exc.value.code == "being_decommissioned" and "lifecycle" in exc.value.fields
    assert world.system.open_request_id is None and count(world.s, ApprovalRequest) == 1
    decommissioning.complete(world.s, actor(world.owner), plan.id)
    assert world.system.lifecycle == "decommissioned" and stage(world) == Stage.DECOMMISSIONED
    assert world.s.get(Approval, a.id).reference == a.reference  # history stays
    with pytest.raises(RuleViolation) as exc:
        decommissioning.cancel(world.s, actor(world.risk_owner), plan.id, motivation="För sent")
    assert exc.value.code == "already_done"


def reject_and_plan(world, planned=True):
    world.ready()
    world.request()
    rejection = world.decide(decision="rejected", motivation="Oacceptabla risker")
    if not planned:
        return rejection, None
    plan = decommissioning.plan(
        world.s,
        actor(world.owner),
        world.system.id,
        planned_on=TODAY + timedelta(days=60),
        responsible_id=world.owner.id,
        disposition="archived",
    )
    return rejection, plan


def events(world, entity, entity_id):
    return world.s.execute(
        select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    ).scalars().all()


def test_an_approval_after_a_rejection_puts_the_system_back_in_operation(world):
    """Rejected, no plan made, a new round approved: the system is in operation again (so it counts in
    coverage and reminders), not left being decommissioned."""
    reject_and_plan(world, planned=False)
    assert world.system.lifecycle == "being_decommissioned"
    world.request(now=NOW + timedelta(days=1))
    a = world.decide(now=NOW + timedelta(days=2))
    assert world.system.lifecycle == "in_operation"
    assert stage(world) == Stage.APPROVED_WITH_CONDITIONS and world.system.current_approval_id == a.id
    last = events(world, "system", world.system.id)[-1]
    assert (last.before, last.after) == ({"lifecycle": "being_decommissioned"}, {"lifecycle": "in_operation"})


def test_an_approval_after_a_rejection_restores_a_planned_system_to_planned(make, db_session):
    world = World(make, db_session, lifecycle="planned")
    reject_and_plan(world, planned=False)
    world.request(now=NOW + timedelta(days=1))
    world.decide(decision="approved", now=NOW + timedelta(days=2))
    assert world.system.lifecycle == "planned"


def test_a_cancelled_plan_gives_the_system_back_its_lifecycle_and_a_new_round(world, make):
    rejection, plan = reject_and_plan(world)
    assert world.system.lifecycle == "being_decommissioned"
    with pytest.raises(NotAllowed):  # the system owner plans, but does not call the avveckling off
        decommissioning.cancel(world.s, actor(world.owner), plan.id, motivation="Vi vill behålla det")
    with pytest.raises(NotAllowed):
        decommissioning.cancel(world.s, actor(make.user("risk_owner")), plan.id, motivation="x")
    with pytest.raises(RuleViolation) as exc:
        decommissioning.cancel(world.s, actor(world.risk_owner), plan.id, motivation="   ")
    assert "motivation" in exc.value.fields and plan.status == "planned"
    from riskreg.errors import Conflict

    with pytest.raises(Conflict):
        decommissioning.cancel(world.s, actor(world.risk_owner), plan.id, motivation="x", version=99)

    later = NOW + timedelta(days=3)
    decommissioning.cancel(
        world.s, actor(world.risk_owner, later), plan.id, motivation="Leverantören har åtgärdat bristerna"
    )
    assert plan.status == "cancelled" and plan.cancelled_at == later
    assert plan.cancelled_by_id == world.risk_owner.id
    assert plan.cancellation_motivation == "Leverantören har åtgärdat bristerna"
    assert world.system.lifecycle == "in_operation"
    assert decommissioning.open_plan(world.s, world.system.id) is None
    assert stage(world) == Stage.REJECTED  # the rejection stays the current decision until a new one
    cancel_event = events(world, "decommissioning_plan", plan.id)[-1]
    assert cancel_event.action == "cancel" and cancel_event.after["status"] == "cancelled"
    assert events(world, "system", world.system.id)[-1].after == {"lifecycle": "in_operation"}
    with pytest.raises(RuleViolation) as exc:
        decommissioning.cancel(world.s, actor(world.risk_owner), plan.id, motivation="igen")
    assert exc.value.code == "already_cancelled"
    with pytest.raises(RuleViolation) as exc:
        decommissioning.complete(world.s, actor(world.owner), plan.id)
    assert exc.value.code == "cancelled"

    world.request(now=later + timedelta(days=1))
    a = world.decide(now=later + timedelta(days=2))
    assert stage(world) == Stage.APPROVED_WITH_CONDITIONS and world.system.lifecycle == "in_operation"
    history = world.s.execute(decommissioning.plans_of(world.system.id)).scalars().all()
    assert [p.status for p in history] == ["cancelled"] and a.reference == "DG-2026-0002"


def test_the_ciso_cancels_and_a_planned_system_goes_back_to_planned(make, db_session):
    world = World(make, db_session, lifecycle="planned")
    _rejection, plan = reject_and_plan(world)
    decommissioning.cancel(world.s, actor(make.user("ciso")), plan.id, motivation="Felaktigt avslag")
    assert world.system.lifecycle == "planned" and plan.status == "cancelled"


def test_no_plan_while_a_new_decision_is_requested_and_no_approval_under_an_open_plan(world):
    reject_and_plan(world, planned=False)
    world.request(now=NOW + timedelta(days=1))
    with pytest.raises(RuleViolation) as exc:
        decommissioning.plan(
            world.s,
            actor(world.owner),
            world.system.id,
            planned_on=TODAY + timedelta(days=60),
            responsible_id=world.owner.id,
            disposition="archived",
        )
    assert exc.value.code == "decision_requested"
    # a plan left open beside a request (as older data may hold): approving is refused, nothing written
    from riskreg.models import DecommissioningPlan

    world.s.add(
        DecommissioningPlan(
            system_id=world.system.id,
            approval_id=world.system.current_approval_id,
            planned_on=TODAY + timedelta(days=60),
            responsible_id=world.owner.id,
            disposition="archived",
            status="planned",
            created_by_id=world.owner.id,
        )
    )
    world.s.flush()
    with pytest.raises(RuleViolation) as exc:
        world.decide(now=NOW + timedelta(days=2))
    assert exc.value.code == "being_decommissioned" and count(world.s, Approval) == 1


def test_rejection_validity_and_accepted_risks_are_refused(world):
    world.ready()
    world.request()
    with pytest.raises(RuleViolation) as exc:
        world.decide(
            decision="rejected",
            valid_until=TODAY + timedelta(days=30),
            accepted_risks={world.high_risk_ids()[0]: "x"},
        )
    assert {"valid_until", "accepted_risk_ids"} <= set(exc.value.fields)


@pytest.mark.parametrize(
    "values, field",
    [
        ({"disposition": "transferred"}, "target_system_id"),
        ({"disposition": "deleted"}, "retention_decision"),
        ({"disposition": "burnt"}, "disposition"),
        ({"disposition": "archived", "planned_on": TODAY - timedelta(days=1)}, "planned_on"),
        ({"disposition": "archived", "responsible_id": None}, "responsible_id"),
    ],
)
def test_decommissioning_plan_must_be_complete(world, values, field):
    world.ready()
    world.request()
    world.decide(decision="rejected")
    kw = {"planned_on": TODAY + timedelta(days=10), "responsible_id": world.owner.id, **values}
    with pytest.raises(RuleViolation) as exc:
        decommissioning.plan(world.s, actor(world.owner), world.system.id, **kw)
    assert field in exc.value.fields


def test_decommissioning_plan_only_after_rejection(world, make):
    world.approved()
    with pytest.raises(RuleViolation):
        decommissioning.plan(
            world.s,
            actor(world.owner),
            world.system.id,
            planned_on=TODAY,
            responsible_id=world.owner.id,
            disposition="archived",
        )
    with pytest.raises(NotAllowed):
        decommissioning.plan(
            world.s,
            actor(make.user("system_owner")),
            world.system.id,
            planned_on=TODAY,
            responsible_id=world.owner.id,
            disposition="archived",
        )


def test_revocation_is_a_new_record_and_needs_review(world, make):
    a = world.approved()
    with pytest.raises(NotAllowed):
        approvals.revoke(world.s, actor(world.owner), a.id, motivation="x")
    with pytest.raises(RuleViolation):
        approvals.revoke(world.s, actor(world.risk_owner), a.id, motivation="  ")
    rev = approvals.revoke(world.s, actor(make.user("ciso")), a.id, motivation="Större brister")
    assert rev.approval_id == a.id and stage(world) == Stage.NEEDS_REVIEW
    with pytest.raises(RuleViolation) as exc:
        approvals.revoke(world.s, actor(world.risk_owner), a.id, motivation="igen")
    assert exc.value.code == "already_revoked"
    world.s.expire_all()
    assert approvals.approval_state(world.s.get(Approval, a.id), world.system, TODAY) == "revoked"


def test_a_rejection_cannot_be_revoked(world):
    world.ready()
    world.request()
    a = world.decide(decision="rejected")
    with pytest.raises(RuleViolation):
        approvals.revoke(world.s, actor(world.risk_owner), a.id, motivation="x")


def test_expiring_and_expired_follow_from_dates(world):
    a = world.approved(valid_until=TODAY + timedelta(days=200))
    assert approvals.approval_state(a, world.system, TODAY) == "in_force"
    assert approvals.approval_state(a, world.system, TODAY + timedelta(days=120)) == "expiring"
    assert stage(world, TODAY + timedelta(days=200)) == Stage.APPROVED_WITH_CONDITIONS
    assert stage(world, TODAY + timedelta(days=201)) == Stage.EXPIRED
    assert approvals.approval_state(a, world.system, TODAY + timedelta(days=201)) == "expired"
    kinds = [c.kind for c in approvals.changes_since(world.s, a, world.system, TODAY + timedelta(days=150))]
    assert kinds == ["expiring"]


def test_changes_since_the_decision(world, make):
    from riskreg.services import systems

    a = world.approved()
    assert approvals.changes_since(world.s, a, world.system, TODAY) == []
    systems.record_major_change(
        world.s, actor(world.owner, NOW + timedelta(days=3)), world.system.id, "Ny driftplattform"
    )
    world.filing.classify(k=4, at=NOW + timedelta(days=4))
    world.filing.sla(target=98, at=NOW + timedelta(days=5))
    changes = approvals.changes_since(world.s, a, world.system, TODAY)
    assert [c.kind for c in changes] == ["major_change", "classification", "sla"]
    assert all(c.needs_review for c in changes)
    assert "4-3-2" in str(changes[1].message) and "3-3-2" in str(changes[1].message)
    assert stage(world) == Stage.NEEDS_REVIEW
    assert approvals.approval_state(a, world.system, TODAY) == "in_force"  # by its dates alone
    assert approvals.approval_state(a, world.system, TODAY, world.s) == "needs_review"
    assert world.s.execute(select(func.count()).select_from(MajorChange)).scalar_one() == 1


def test_condition_follow_up_and_overdue(world, make):
    a = world.approved(
        conditions=[
            {
                "text": "Öva offline-rutin",
                "due_on": TODAY + timedelta(days=10),
                "responsible_id": world.owner.id,
            },
            {"text": "Logguppföljning", "due_on": TODAY + timedelta(days=40)},
        ]
    )
    later = TODAY + timedelta(days=20)
    rows = approvals.overdue_conditions(world.s, later)
    assert [(r.text, r.reference, r.system_name) for r in rows] == [
        ("Öva offline-rutin", a.reference, "Journalsystemet Åäö")
    ]
    from riskreg.models import System

    assert (
        approvals.count_overdue_conditions(world.s, later, System.risk_owner_id == world.risk_owner.id) == 1
    )
    assert approvals.count_overdue_conditions(world.s, later, System.risk_owner_id == -1) == 0
    first = a.conditions[0]
    with pytest.raises(NotAllowed):
        approvals.fulfil_condition(world.s, actor(make.user("system_owner")), first.id)
    with pytest.raises(RuleViolation):
        approvals.fulfil_condition(
            world.s, actor(world.owner), first.id, fulfilled_on=TODAY + timedelta(days=1)
        )
    approvals.fulfil_condition(world.s, actor(world.owner), first.id, fulfilled_on=TODAY, note="Övad 24/11")
    assert first.status == "fulfilled" and first.fulfilled_on == TODAY
    assert approvals.overdue_conditions(world.s, later) == []
    with pytest.raises(RuleViolation):
        approvals.fulfil_condition(world.s, actor(world.owner), first.id)
    with pytest.raises(NotAllowed):
        approvals.reopen_condition(world.s, actor(world.owner), first.id)
    approvals.reopen_condition(world.s, actor(world.risk_owner), first.id, note="Övningen ofullständig")
    assert first.status == "open" and first.fulfilled_on is None


def test_overdue_conditions_leave_out_revoked_decisions(world, make):
    a = world.approved(conditions=[{"text": "X", "due_on": TODAY + timedelta(days=1)}])
    assert len(approvals.overdue_conditions(world.s, TODAY + timedelta(days=5))) == 1
    approvals.revoke(world.s, actor(world.risk_owner), a.id, motivation="Brister")
    assert approvals.overdue_conditions(world.s, TODAY + timedelta(days=5)) == []


def test_new_round_after_approval(world):
    first = world.approved()
    world.request(now=NOW + timedelta(days=1))
    assert stage(world) == Stage.AWAITING_DECISION
    second = world.decide(now=NOW + timedelta(days=2))
    assert second.reference == "DG-2026-0002" and world.system.current_approval_id == second.id
    assert approvals.approval_state(first, world.system, TODAY) == "superseded"
    assert count(world.s, ApprovalRequest) == 2


# ------------------------------------------------------------------ batch prints


def test_a_print_job_whose_worker_died_is_marked_failed_when_read_and_can_start_again(world, make, app):
    from riskreg.models.base import utcnow
    from riskreg.services import approval_prints

    a = world.approved()
    ciso = make.user("ciso")
    job = approval_prints.start(world.s, actor(ciso), approval_ids=[a.id])
    assert job.status == "running" and job.heartbeat_at is not None
    assert approval_prints.get_job(world.s, actor(ciso), job.id).status == "running"  # alive: left alone
    with pytest.raises(RuleViolation) as exc:
        approval_prints.restart(world.s, actor(ciso), job.id)
    assert exc.value.code == "not_failed"

    stale = app.config.get("PDF_JOB_STALE_SECONDS", approval_prints.STALE_SECONDS) + 5
    job.heartbeat_at = utcnow() - timedelta(seconds=stale)
    world.s.flush()
    with pytest.raises(NotAllowed):  # someone else's job is not even looked at
        approval_prints.get_job(world.s, actor(make.user("ciso")), job.id)
    assert job.status == "running"
    read = approval_prints.get_job(world.s, actor(ciso), job.id)
    assert read.status == "failed" and read.finished_at is not None and read.result is None
    assert any(w in read.error for w in ("interrupted", "avbröts"))
    (event,) = [e for e in events(world, "pdf_job", job.id) if e.action == "fail"]
    assert event.after["status"] == "failed"

    again = approval_prints.restart(world.s, actor(ciso), job.id)
    assert again.id != job.id and again.status == "running" and again.total == 1
    assert again.selection["approval_ids"] == [a.id] and again.selection["chosen"] is True


def test_a_finished_or_busy_print_job_is_never_marked_failed(world, make):
    from riskreg.models.base import utcnow
    from riskreg.services import approval_prints

    a = world.approved()
    ciso = make.user("ciso")
    job = approval_prints.start(world.s, actor(ciso), approval_ids=[a.id])
    job.status, job.heartbeat_at = "done", utcnow() - timedelta(days=2)
    world.s.flush()
    assert not approval_prints.fail_if_stale(world.s, actor(ciso), job) and job.status == "done"
    job.status, job.heartbeat_at = "running", utcnow() - timedelta(seconds=5)
    world.s.flush()
    assert not approval_prints.fail_if_stale(world.s, actor(ciso), job) and job.status == "running"


def test_the_unit_print_restarts_with_the_units_decisions_as_they_are_now(world, make, db_session):
    from riskreg.services import approval_prints

    world.approved()
    ciso = make.user("ciso")
    job = approval_prints.start(world.s, actor(ciso), org_unit_id=world.system.org_unit_id)
    job.status = "failed"
    world.s.flush()
    neighbour = World(make, db_session, org_unit_id=world.system.org_unit_id, name="Grannsystemet")
    neighbour.approved()
    again = approval_prints.restart(world.s, actor(ciso), job.id)
    assert again.total == 2 and again.selection["org_unit_id"] == world.system.org_unit_id
    assert again.selection["chosen"] is False


def test_the_list_to_choose_a_print_from(world, make, db_session):
    from riskreg.services import approval_prints

    a = world.approved()
    other = World(make, db_session, name="Röntgen Östra")
    b = other.approved()
    ciso = actor(make.user("ciso"))
    rows, total = approval_prints.printable_decisions(world.s, ciso)
    ids = [r.id for r in rows]
    assert a.id in ids and b.id in ids and total >= 2
    rows, total = approval_prints.printable_decisions(world.s, ciso, q="rontgen ostra")
    assert [r.id for r in rows] == [b.id] and total == 1 and rows[0].system_name == "Röntgen Östra"
    rows, total = approval_prints.printable_decisions(world.s, ciso, org_unit_id=world.system.org_unit_id)
    assert [r.id for r in rows] == [a.id] and total == 1
    rows, total = approval_prints.printable_decisions(world.s, actor(world.owner))  # their own scope
    assert [r.id for r in rows] == [a.id] and total == 1
