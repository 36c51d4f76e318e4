"""Förhandsbedömning and konsekvensbedömning in the service: criteria, the DPO's opinion, finalising."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from riskreg import lifecycle
from riskreg.errors import Conflict, NotAllowed, RuleViolation
from riskreg.models import AuditEvent, System
from riskreg.models.codes import Stage
from riskreg.services import classification, risk
from riskreg.services import dpia as service
from tests.conftest import TODAY, actor

CONTENT = {
    "description": "Journalföring",
    "purposes": "Vård",
    "legal_basis": "Rättslig förpliktelse",
    "necessity": "Nödvändig",
    "risks": "Obehörig åtkomst",
    "measures": "Behörighetsstyrning",
}


@pytest.fixture
def world(make):
    owner, risk_owner = make.user("system_owner"), make.user("risk_owner")
    return {
        "owner": owner,
        "risk_owner": risk_owner,
        "other": make.user("system_owner"),
        "admin": make.admin(),
        "dpo": make.user("dpo"),
        "ciso": make.user("ciso"),
        "system": make.system(system_owner=owner, risk_owner=risk_owner),
    }


def analysed(world, db_session):
    owner = actor(world["owner"])
    sid = world["system"].id
    classification.create(db_session, owner, sid, confidentiality=3, integrity=2, availability=2)
    analysis = risk.create(
        db_session,
        owner,
        sid,
        analysed_on=date(2026, 1, 1),
        risks=[{"title": "Avbrott", "aspect": "T", "likelihood": 2, "consequence": 2}],
    )
    risk.finalise(db_session, owner, analysis.id)


@pytest.mark.parametrize(
    "criteria,anyway,required",
    [
        ([], False, False),
        (["large_scale"], False, False),
        (["large_scale", "sensitive_data"], False, True),
        (["large_scale", "large_scale"], False, False),
        (["evaluation_scoring"], True, True),
        (list(service.DpiaCriterion), False, True),
    ],
)
def test_two_criteria_or_a_motivated_choice_require_a_dpia(world, db_session, criteria, anyway, required):
    screening = service.screen(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        criteria=criteria,
        require_anyway=anyway,
        motivation="Ny teknik" if anyway else "",
    )
    assert screening.dpia_required is required
    assert screening.criteria == sorted({str(c) for c in criteria})
    assert db_session.get(System, world["system"].id).current_screening_id == screening.id


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"criteria": ["telepathy"]}, "criteria.0"),
        ({"criteria": "sensitive_data"}, "criteria"),
        ({"criteria": [], "require_anyway": True}, "motivation"),
        ({"criteria": ["large_scale"], "require_anyway": True, "motivation": "  "}, "motivation"),
        ({"criteria": [], "require_anyway": "yes"}, "require_anyway"),
    ],
)
def test_screening_validation(world, db_session, kwargs, field):
    with pytest.raises(RuleViolation) as exc:
        service.screen(db_session, actor(world["owner"]), world["system"].id, **kwargs)
    assert field in exc.value.fields


def test_the_stage_waits_for_a_required_dpia(world, db_session):
    sid = world["system"].id
    analysed(world, db_session)
    service.screen(db_session, actor(world["owner"]), sid, criteria=["sensitive_data", "vulnerable_subjects"])
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.DPIA_PENDING
    record = service.create(db_session, actor(world["owner"]), sid, **CONTENT)
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.DPIA_PENDING  # a draft is not enough
    service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="Inga invändningar")
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.DPIA_PENDING  # nor an opinion
    service.finalise(db_session, actor(world["owner"]), record.id)
    assert db_session.get(System, sid).current_dpia_id == record.id
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.RISK_ANALYSED


def test_a_later_screening_without_need_ends_dpia_pending(world, db_session):
    sid = world["system"].id
    analysed(world, db_session)
    service.screen(db_session, actor(world["owner"]), sid, criteria=["sensitive_data", "large_scale"])
    service.screen(db_session, actor(world["owner"]), sid, criteria=[], motivation="Inga personuppgifter")
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.RISK_ANALYSED


@pytest.mark.parametrize("missing", list(CONTENT))
def test_every_part_of_art_35_7_is_required(world, db_session, missing):
    with pytest.raises(RuleViolation) as exc:
        service.create(db_session, actor(world["owner"]), world["system"].id, **{**CONTENT, missing: "  "})
    assert list(exc.value.fields) == [missing]


def test_only_the_dpo_gives_the_opinion(world, db_session):
    record = service.create(
        db_session, actor(world["owner"]), world["system"].id, **CONTENT, high_residual_risk=True
    )
    for who in ("owner", "admin", "ciso", "risk_owner"):
        with pytest.raises(NotAllowed):
            service.give_opinion(db_session, actor(world[who]), record.id, opinion="x")
    with pytest.raises(NotAllowed):  # before the rule
        service.give_opinion(db_session, actor(world["owner"]), record.id, opinion="")
    with pytest.raises(RuleViolation):
        service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion=" ")
    service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="Förhandssamråd behövs")
    assert record.opinion_by_id == world["dpo"].id and record.prior_consultation_required is True
    service.give_opinion(
        db_session,
        actor(world["dpo"]),
        record.id,
        opinion="Efter översyn: nej",
        prior_consultation_required=False,
    )
    assert record.prior_consultation_required is False


def test_finalise_needs_the_opinion_and_freezes(world, db_session):
    record = service.create(db_session, actor(world["owner"]), world["system"].id, **CONTENT)
    with pytest.raises(RuleViolation) as exc:
        service.finalise(db_session, actor(world["owner"]), record.id)
    assert exc.value.code == "opinion_missing"
    service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="OK")
    with pytest.raises(NotAllowed):
        service.finalise(db_session, actor(world["dpo"]), record.id)
    with pytest.raises(NotAllowed):
        service.finalise(db_session, actor(world["other"]), record.id)
    with pytest.raises(Conflict):
        service.finalise(db_session, actor(world["owner"]), record.id, version=1)
    service.finalise(db_session, actor(world["owner"]), record.id, version=record.version)
    assert record.status.value == "final"
    for attempt in (
        lambda: service.finalise(db_session, actor(world["owner"]), record.id),
        lambda: service.update(
            db_session, actor(world["owner"]), record.id, version=record.version, measures="x"
        ),
        lambda: service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="y"),
    ):
        with pytest.raises(RuleViolation):
            attempt()


def test_changing_the_text_clears_the_opinion(world, db_session):
    record = service.create(db_session, actor(world["owner"]), world["system"].id, **CONTENT)
    service.give_opinion(
        db_session, actor(world["dpo"]), record.id, opinion="OK", prior_consultation_required=True
    )
    seen = record.version
    service.update(db_session, actor(world["owner"]), record.id, version=seen, measures="Fler åtgärder")
    assert (
        record.opinion is None
        and record.opinion_by_id is None
        and record.prior_consultation_required is False
    )
    with pytest.raises(Conflict):
        service.update(db_session, actor(world["owner"]), record.id, version=seen, measures="Andra")
    with pytest.raises(Conflict):  # the DPO answers on the text as it was
        service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="OK", version=seen)
    with pytest.raises(RuleViolation):
        service.update(db_session, actor(world["owner"]), record.id, version=record.version, purposes="")


def test_every_change_is_audited(world, db_session):
    screening = service.screen(
        db_session, actor(world["owner"]), world["system"].id, criteria=["large_scale"]
    )
    record = service.create(db_session, actor(world["owner"]), world["system"].id, **CONTENT)
    service.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="OK")
    service.finalise(db_session, actor(world["owner"]), record.id)
    rows = db_session.execute(
        select(AuditEvent.entity, AuditEvent.action, AuditEvent.user_id)
        .where(AuditEvent.entity.in_(["dpia", "dpia_screening"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e, a) for e, a, _ in rows] == [
        ("dpia_screening", "create"),
        ("dpia", "create"),
        ("dpia", "opinion"),
        ("dpia", "finalise"),
    ]
    assert rows[2][2] == world["dpo"].id
    event = db_session.execute(
        select(AuditEvent).where(AuditEvent.entity == "dpia_screening", AuditEvent.entity_id == screening.id)
    ).scalar_one()
    assert event.after["criteria"] == ["large_scale"] and event.after["dpia_required"] is False
