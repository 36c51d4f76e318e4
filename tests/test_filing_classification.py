"""Informationsklassning in the service: levels, information sets, draft → final, versions, review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from riskreg import lifecycle
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import Approval, AuditEvent, Classification, System
from riskreg.models.codes import Decision, Stage
from riskreg.services import classification as service
from tests.conftest import NOW, TODAY, actor


@pytest.fixture
def world(make):
    owner, risk_owner = make.user("system_owner"), make.user("risk_owner")
    return {
        "owner": owner,
        "risk_owner": risk_owner,
        "other": make.user("system_owner"),
        "admin": make.admin(),
        "system": make.system(system_owner=owner, risk_owner=risk_owner),
    }


def levels(k=1, r=1, t=1, **kw):
    return {"confidentiality": k, "integrity": r, "availability": t, **kw}


def test_the_highest_level_wins_and_sets_keep_their_own(world, db_session):
    record = service.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        **levels(2, 3, 1),
        information_sets=[
            {"name": "Journal", "confidentiality": 3, "integrity": 3, "availability": 2},
            {"name": "Schema", "confidentiality": 1, "integrity": 0, "availability": 3},
        ],
    )
    assert (record.confidentiality, record.integrity, record.availability) == (3, 3, 3)
    assert (record.declared_confidentiality, record.declared_integrity, record.declared_availability) == (
        2,
        3,
        1,
    )
    assert [(s.name, s.availability) for s in record.information_sets] == [("Journal", 2), ("Schema", 3)]
    assert record.profile == "3-3-3"


def test_not_draft_is_final_and_current_at_once(world, db_session):
    system = world["system"]
    record = service.create(db_session, actor(world["owner"]), system.id, **levels())
    assert record.status.value == "final" and record.finalised_at == NOW
    assert record.finalised_by_id == world["owner"].id and record.number == 1
    assert db_session.get(System, system.id).current_classification_id == record.id
    assert lifecycle.stage_of(db_session, system.id, TODAY) == Stage.CLASSIFIED


def test_draft_then_finalise(world, db_session):
    system = world["system"]
    draft = service.create(db_session, actor(world["owner"]), system.id, **levels(), draft=True)
    assert draft.status.value == "draft" and draft.finalised_at is None
    assert db_session.get(System, system.id).current_classification_id is None
    assert lifecycle.stage_of(db_session, system.id, TODAY) == Stage.NOT_STARTED
    with pytest.raises(Conflict):
        service.finalise(db_session, actor(world["owner"]), draft.id, version=draft.version + 7)
    service.finalise(db_session, actor(world["owner"]), draft.id, version=draft.version)
    assert db_session.get(System, system.id).current_classification_id == draft.id
    with pytest.raises(RuleViolation) as exc:
        service.finalise(db_session, actor(world["owner"]), draft.id)
    assert exc.value.code == "finalised"


def test_a_final_version_never_changes_and_a_new_one_is_numbered(world, db_session):
    first = service.create(db_session, actor(world["owner"]), world["system"].id, **levels())
    with pytest.raises(RuleViolation):
        service.update(db_session, actor(world["owner"]), first.id, version=first.version, confidentiality=4)
    second = service.create(db_session, actor(world["owner"]), world["system"].id, **levels(2))
    assert second.number == 2 and first.confidentiality == 1
    assert db_session.get(System, world["system"].id).current_classification_id == second.id
    history = service.history(db_session, actor(world["risk_owner"]), world["system"].id)
    assert [c.number for c in history] == [2, 1]


def test_update_a_draft_with_optimistic_locking(world, db_session):
    draft = service.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        **levels(),
        draft=True,
        information_sets=[{"name": "A", "confidentiality": 2, "integrity": 0, "availability": 0}],
    )
    seen = draft.version
    service.update(
        db_session,
        actor(world["admin"]),
        draft.id,
        version=seen,
        motivation="Adminens",
        information_sets=[{"name": "B", "confidentiality": 4, "integrity": 0, "availability": 0}],
    )
    assert (
        draft.version == seen + 1
        and draft.confidentiality == 4
        and [s.name for s in draft.information_sets] == ["B"]
    )
    with pytest.raises(Conflict) as exc:
        service.update(db_session, actor(world["owner"]), draft.id, version=seen, motivation="Min")
    assert "version" in exc.value.fields
    assert draft.motivation == "Adminens"
    service.update(db_session, actor(world["owner"]), draft.id, version=draft.version, integrity=3)
    assert draft.integrity == 3 and draft.confidentiality == 4  # the sets stay when none are given


@pytest.mark.parametrize(
    "values,field",
    [
        (levels(5), "confidentiality"),
        (levels(-1), "confidentiality"),
        (levels(r="2"), "integrity"),
        (levels(t=True), "availability"),
        (levels(t=None), "availability"),
        (levels(motivation="x" * 10001), "motivation"),
        (
            levels(information_sets=[{"name": "", "confidentiality": 1, "integrity": 1, "availability": 1}]),
            "information_sets.0.name",
        ),
        (
            levels(
                information_sets=[
                    {"name": "A", "confidentiality": 1, "integrity": 1, "availability": 1},
                    {"name": "a", "confidentiality": 1, "integrity": 1, "availability": 9},
                ]
            ),
            "information_sets.1.name",
        ),
        (
            levels(information_sets=[{"name": "A", "confidentiality": 1, "integrity": 1, "availability": 9}]),
            "information_sets.0.availability",
        ),
    ],
)
def test_validation_names_each_field(world, db_session, values, field):
    with pytest.raises(RuleViolation) as exc:
        service.create(db_session, actor(world["owner"]), world["system"].id, **values)
    assert field in exc.value.fields
    assert db_session.execute(select(Classification)).first() is None


def test_permissions(world, db_session):
    sid = world["system"].id
    for who in ("other", "risk_owner"):
        with pytest.raises(NotAllowed):
            service.create(db_session, actor(world[who]), sid, **levels())
    with pytest.raises(NotAllowed):  # permission before the rules
        service.create(db_session, actor(world["other"]), sid, **levels(9))
    record = service.create(db_session, actor(world["admin"]), sid, **levels(), draft=True)
    with pytest.raises(NotAllowed):
        service.finalise(db_session, actor(world["other"]), record.id)
    with pytest.raises(NotAllowed):
        service.history(db_session, actor(world["other"]), sid)
    with pytest.raises(NotFound):
        service.create(db_session, actor(world["owner"]), 999999, **levels())
    with pytest.raises(NotFound):
        service.finalise(db_session, actor(world["owner"]), 2**40)


def test_every_change_is_audited(world, db_session):
    draft = service.create(db_session, actor(world["owner"]), world["system"].id, **levels(), draft=True)
    service.update(db_session, actor(world["owner"]), draft.id, version=draft.version, confidentiality=3)
    service.finalise(db_session, actor(world["owner"]), draft.id)
    events = (
        db_session.execute(
            select(AuditEvent)
            .where(AuditEvent.entity == "classification", AuditEvent.entity_id == draft.id)
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [e.action for e in events] == ["create", "update", "finalise"]
    assert events[1].before["confidentiality"] == 1 and events[1].after["confidentiality"] == 3
    assert events[0].user_id == world["owner"].id and events[0].after["status"] == "draft"


def _approve(db_session, world, record):
    from datetime import date

    from riskreg.services import dpia, risk

    owner = actor(world["owner"])
    analysis = risk.create(
        db_session,
        owner,
        world["system"].id,
        analysed_on=date(2026, 1, 1),
        risks=[{"title": "Avbrott", "aspect": "T", "likelihood": 1, "consequence": 1}],
    )
    risk.finalise(db_session, owner, analysis.id)
    screening = dpia.screen(db_session, owner, world["system"].id, criteria=[])
    system = db_session.get(System, world["system"].id)
    approval = Approval(
        system_id=system.id,
        reference="DG-2026-0001",
        year=2026,
        sequence=1,
        decision=Decision.APPROVED,
        motivation="OK",
        valid_until=TODAY + timedelta(days=900),
        decided_by_id=world["risk_owner"].id,
        decided_at=NOW,
        classification_id=record.id,
        confidentiality=record.confidentiality,
        integrity=record.integrity,
        availability=record.availability,
        risk_analysis_id=analysis.id,
        screening_id=screening.id,
        snapshot={},
        content_sha256="0" * 64,
    )
    db_session.add(approval)
    db_session.flush()
    system.current_approval_id = approval.id
    db_session.flush()


def test_a_higher_level_than_the_approval_puts_the_system_in_needs_review(world, db_session):
    sid = world["system"].id
    record = service.create(db_session, actor(world["owner"]), sid, **levels(2, 2, 2))
    _approve(db_session, world, record)
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.APPROVED
    service.create(db_session, actor(world["owner"]), sid, **levels(2, 2, 2), motivation="Omprövad")
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.APPROVED  # not higher
    draft = service.create(db_session, actor(world["owner"]), sid, **levels(2, 2, 3), draft=True)
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.APPROVED  # a draft does not count
    service.finalise(db_session, actor(world["owner"]), draft.id)
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.NEEDS_REVIEW


def test_review_is_due_after_the_configured_interval(world, db_session, app):
    record = service.create(db_session, actor(world["owner"]), world["system"].id, **levels())
    with app.test_request_context():
        assert not service.is_review_due(record, TODAY + timedelta(days=365))
        assert service.is_review_due(record, TODAY + timedelta(days=366))
        assert service.review_due_on(record) == TODAY + timedelta(days=365)
        app.config["CLASSIFICATION_REVIEW_DAYS"] = 30
        try:
            assert service.is_review_due(record, TODAY + timedelta(days=31))
        finally:
            app.config["CLASSIFICATION_REVIEW_DAYS"] = 365
    draft = service.create(db_session, actor(world["owner"]), world["system"].id, **levels(), draft=True)
    assert not service.is_review_due(draft, TODAY + timedelta(days=4000))


def test_compare_side_by_side(world, db_session):
    a = service.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        **levels(1, 1, 1, motivation="A"),
        information_sets=[{"name": "Journal", "confidentiality": 2, "integrity": 1, "availability": 1}],
    )
    b = service.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        **levels(1, 1, 1, motivation="A"),
        information_sets=[
            {"name": "Journal", "confidentiality": 3, "integrity": 1, "availability": 1},
            {"name": "Lab", "confidentiality": 1, "integrity": 1, "availability": 1},
        ],
    )
    diff = service.compare(a, b)
    differs = {r["field"] for r in diff["rows"] if r["differs"]}
    assert differs == {"confidentiality"}
    assert [(s["name"], s["left"], s["right"]) for s in diff["sets"]] == [
        ("Journal", "2-1-1", "3-1-1"),
        ("Lab", None, "1-1-1"),
    ]
