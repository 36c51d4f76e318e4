"""Riskanalys in the service: validation, draft → final, new rounds, actions after finalising, the matrix."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from riskreg import lifecycle
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import ActionStatusChange, AuditEvent, RiskAnalysis, System
from riskreg.models.codes import Stage
from riskreg.services import classification
from riskreg.services import risk as service
from tests.conftest import TODAY, actor


@pytest.fixture
def world(make, db_session):
    owner, risk_owner = make.user("system_owner"), make.user("risk_owner")
    system = make.system(system_owner=owner, risk_owner=risk_owner)
    cl = classification.create(
        db_session, actor(owner), system.id, confidentiality=2, integrity=2, availability=2
    )
    return {
        "owner": owner,
        "risk_owner": risk_owner,
        "other": make.user("system_owner"),
        "admin": make.admin(),
        "system": system,
        "classification": cl,
        "helper": make.user("auditor"),
    }


def one_risk(**over):
    r = {
        "title": "Obehörig åtkomst",
        "aspect": "K",
        "likelihood": 3,
        "consequence": 4,
        "treatment": "reduce",
        "residual_likelihood": 2,
        "residual_consequence": 4,
        "actions": [{"description": "Inför MFA", "due_on": TODAY - timedelta(days=5)}],
    }
    r.update(over)
    return r


def create(world, db_session, risks=None, **kw):
    return service.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        analysed_on=date(2026, 11, 1),
        risks=[one_risk()] if risks is None else risks,
        **kw,
    )


def test_a_draft_rests_on_the_current_classification(world, db_session):
    analysis = create(world, db_session)
    assert analysis.status.value == "draft" and analysis.classification_id == world["classification"].id
    assert analysis.number == 1 and analysis.risks[0].value == 12 and analysis.risks[0].residual_value == 8
    assert analysis.risks[0].actions[0].status.value == "planned"
    assert db_session.get(System, world["system"].id).current_risk_analysis_id is None


@pytest.mark.parametrize(
    "risk,field",
    [
        (one_risk(aspect="Q"), "risks.0.aspect"),
        (one_risk(likelihood=5), "risks.0.likelihood"),
        (one_risk(consequence=0), "risks.0.consequence"),
        (one_risk(likelihood="3"), "risks.0.likelihood"),
        (one_risk(title=" "), "risks.0.title"),
        (one_risk(title="x" * 301), "risks.0.title"),
        (one_risk(treatment="ignore"), "risks.0.treatment"),
        (one_risk(residual_consequence=None), "risks.0.residual_consequence"),
        (one_risk(residual_likelihood=7), "risks.0.residual_likelihood"),
        (one_risk(actions=[{"description": ""}]), "risks.0.actions.0.description"),
        (one_risk(actions=[{"description": "a", "due_on": "30/6"}]), "risks.0.actions.0.due_on"),
        (one_risk(actions=[{"description": "a", "status": "maybe"}]), "risks.0.actions.0.status"),
        (
            one_risk(actions=[{"description": "a", "responsible_id": 999999}]),
            "risks.0.actions.0.responsible_id",
        ),
        (one_risk(actions="MFA"), "risks.0.actions"),
    ],
)
def test_validation_names_each_field(world, db_session, risk, field):
    with pytest.raises(RuleViolation) as exc:
        create(world, db_session, risks=[one_risk(), risk])
    assert field.replace("risks.0", "risks.1") in exc.value.fields, exc.value.fields
    assert db_session.execute(select(RiskAnalysis)).first() is None


def test_an_inactive_responsible_is_refused(world, db_session):
    world["helper"].active = False
    db_session.flush()
    with pytest.raises(RuleViolation) as exc:
        create(
            world,
            db_session,
            risks=[one_risk(actions=[{"description": "a", "responsible_id": world["helper"].id}])],
        )
    assert "risks.0.actions.0.responsible_id" in exc.value.fields


def test_the_classification_must_be_this_systems_and_final(world, db_session, make):
    foreign_system = make.system(system_owner=world["owner"])
    foreign = classification.create(
        db_session, actor(world["owner"]), foreign_system.id, confidentiality=1, integrity=1, availability=1
    )
    draft = classification.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        confidentiality=1,
        integrity=1,
        availability=1,
        draft=True,
    )
    for cid in (foreign.id, draft.id, 999999):
        with pytest.raises(RuleViolation) as exc:
            create(world, db_session, classification_id=cid)
        assert "classification_id" in exc.value.fields


def test_finalise_sets_the_stage_and_freezes(world, db_session):
    sid = world["system"].id
    analysis = create(world, db_session)
    finalised = service.finalise(db_session, actor(world["owner"]), analysis.id, version=analysis.version)
    assert finalised.status.value == "final" and finalised.finalised_by_id == world["owner"].id
    assert db_session.get(System, sid).current_risk_analysis_id == analysis.id
    assert lifecycle.stage_of(db_session, sid, TODAY) == Stage.RISK_ANALYSED
    owner = actor(world["owner"])
    for attempt in (
        lambda: service.finalise(db_session, owner, analysis.id),
        lambda: service.update(db_session, owner, analysis.id, version=analysis.version, scope="x"),
        lambda: service.save_risk(
            db_session, owner, analysis.id, version=analysis.version, values=one_risk()
        ),
        lambda: service.delete_risk(
            db_session, owner, analysis.id, analysis.risks[0].id, version=analysis.version
        ),
    ):
        with pytest.raises(RuleViolation) as exc:
            attempt()
        assert exc.value.code == "finalised"
    assert len(analysis.risks) == 1


def test_finalise_needs_a_risk_and_a_classification(world, db_session, make):
    bare = make.system(system_owner=world["owner"])
    analysis = service.create(db_session, actor(world["owner"]), bare.id, analysed_on=date(2026, 1, 1))
    assert analysis.classification_id is None
    with pytest.raises(RuleViolation) as exc:
        service.finalise(db_session, actor(world["owner"]), analysis.id)
    assert set(exc.value.fields) == {"risks", "classification_id"}
    # a classification filed later is the one it rests on when finalised
    cl = classification.create(
        db_session, actor(world["owner"]), bare.id, confidentiality=1, integrity=1, availability=1
    )
    service.save_risk(
        db_session, actor(world["owner"]), analysis.id, version=analysis.version, values=one_risk()
    )
    service.finalise(db_session, actor(world["owner"]), analysis.id)
    assert analysis.classification_id == cl.id


def test_draft_edits_are_versioned(world, db_session):
    analysis = create(world, db_session)
    seen = analysis.version
    risk = service.save_risk(
        db_session,
        actor(world["owner"]),
        analysis.id,
        version=seen,
        values=one_risk(title="Ransomware", aspect="T", actions=[]),
    )
    assert analysis.version == seen + 1 and [r.title for r in analysis.risks] == [
        "Obehörig åtkomst",
        "Ransomware",
    ]
    with pytest.raises(Conflict):
        service.save_risk(db_session, actor(world["owner"]), analysis.id, version=seen, values=one_risk())
    kept = analysis.risks[0]
    action_id = kept.actions[0].id
    service.save_risk(
        db_session,
        actor(world["admin"]),
        analysis.id,
        version=analysis.version,
        risk_id=kept.id,
        values=one_risk(
            likelihood=1,
            actions=[{"id": action_id, "description": "Inför MFA nu"}, {"description": "Utbilda"}],
        ),
    )
    assert kept.likelihood == 1 and [a.id for a in kept.actions][0] == action_id
    assert [a.description for a in kept.actions] == ["Inför MFA nu", "Utbilda"]
    service.delete_risk(db_session, actor(world["owner"]), analysis.id, risk.id, version=analysis.version)
    assert [r.title for r in analysis.risks] == ["Obehörig åtkomst"]
    with pytest.raises(NotFound):
        service.delete_risk(db_session, actor(world["owner"]), analysis.id, risk.id, version=analysis.version)
    service.update(
        db_session,
        actor(world["owner"]),
        analysis.id,
        version=analysis.version,
        scope="Ny",
        risks=[one_risk(id=kept.id, title="Behållen"), one_risk(title="Ny")],
    )
    assert analysis.scope == "Ny" and analysis.risks[0].id == kept.id and len(analysis.risks) == 2


def test_permissions(world, db_session):
    sid = world["system"].id
    for who in ("other", "risk_owner", "helper"):
        with pytest.raises(NotAllowed):
            service.create(db_session, actor(world[who]), sid, analysed_on=date(2026, 1, 1))
    with pytest.raises(NotAllowed):  # before the rules
        service.create(
            db_session, actor(world["other"]), sid, analysed_on="not a date", risks=[one_risk(aspect="Q")]
        )
    analysis = service.create(
        db_session, actor(world["admin"]), sid, analysed_on=date(2026, 1, 1), risks=[one_risk()]
    )
    with pytest.raises(NotAllowed):
        service.finalise(db_session, actor(world["other"]), analysis.id)
    with pytest.raises(NotAllowed):
        service.new_round(db_session, actor(world["other"]), sid)
    with pytest.raises(NotAllowed):
        service.update_action(
            db_session, actor(world["other"]), analysis.risks[0].actions[0].id, status="done"
        )
    with pytest.raises(NotAllowed):
        service.get_readable(db_session, actor(world["other"]), analysis.id)
    assert service.get_readable(db_session, actor(world["risk_owner"]), analysis.id).id == analysis.id


def test_new_round_copies_the_last_analysis(world, db_session, make):
    analysis = create(
        world,
        db_session,
        risks=[one_risk(), one_risk(title="Avbrott", aspect="T", actions=[])],
        participants="Ägare",
        scope="Allt",
    )
    with pytest.raises(RuleViolation) as exc:
        service.new_round(db_session, actor(world["owner"]), world["system"].id)
    assert exc.value.code == "draft_exists"
    service.finalise(db_session, actor(world["owner"]), analysis.id)
    newer = classification.create(
        db_session, actor(world["owner"]), world["system"].id, confidentiality=3, integrity=2, availability=2
    )
    copy = service.new_round(db_session, actor(world["owner"]), world["system"].id)
    assert copy.status.value == "draft" and copy.number == 2 and copy.copied_from_id == analysis.id
    assert copy.classification_id == newer.id and copy.participants == "Ägare"
    assert [(r.title, r.likelihood, r.residual_consequence) for r in copy.risks] == [
        (r.title, r.likelihood, r.residual_consequence) for r in analysis.risks
    ]
    assert (
        copy.risks[0].actions[0].description == "Inför MFA"
        and copy.risks[0].actions[0].id != analysis.risks[0].actions[0].id
    )
    assert (
        db_session.get(System, world["system"].id).current_risk_analysis_id == analysis.id
    )  # until finalised
    bare = make.system(system_owner=world["owner"])
    with pytest.raises(RuleViolation):
        service.new_round(db_session, actor(world["owner"]), bare.id)


def test_no_new_round_while_any_analysis_is_a_draft(world, db_session):
    """One draft at a time: also an older draft behind a newer finalised analysis (an empty analysis
    started beside it) stops a new round, and the refusal names that draft."""
    owner = actor(world["owner"])
    first = create(world, db_session)
    with pytest.raises(RuleViolation) as exc:
        service.new_round(db_session, owner, world["system"].id)
    assert exc.value.code == "draft_exists" and exc.value.status == 422
    assert str(exc.value.message) == (
        "Riskanalysen version 1 från 2026-11-01 är fortfarande ett utkast; fortsätt med den i stället för "
        "att starta en ny omgång."
    )
    assert [str(m) for m in exc.value.fields["status"]] == ["Det finns ett utkast: version 1."]
    second = create(world, db_session)
    service.finalise(db_session, owner, second.id)
    assert first.status.value == "draft" and second.number == 2
    with pytest.raises(RuleViolation) as exc:
        service.new_round(db_session, owner, world["system"].id)
    assert exc.value.code == "draft_exists" and "version 1 från" in str(exc.value.message)
    drafts = db_session.execute(
        select(RiskAnalysis).where(
            RiskAnalysis.system_id == world["system"].id, RiskAnalysis.status == "draft"
        )
    ).scalars().all()
    assert [a.id for a in drafts] == [first.id]
    service.finalise(db_session, owner, first.id)
    copy = service.new_round(db_session, owner, world["system"].id)
    assert copy.number == 3 and copy.copied_from_id == second.id  # the last one, by number


def test_actions_are_followed_up_after_finalising_with_history(world, db_session):
    analysis = create(world, db_session)
    service.finalise(db_session, actor(world["owner"]), analysis.id)
    frozen_version = analysis.version
    action = analysis.risks[0].actions[0]
    service.update_action(
        db_session,
        actor(world["owner"]),
        action.id,
        status="in_progress",
        note="Påbörjad",
        version=action.version,
    )
    with pytest.raises(Conflict):
        service.update_action(db_session, actor(world["owner"]), action.id, status="done", version=1)
    with pytest.raises(RuleViolation) as exc:
        service.update_action(
            db_session,
            actor(world["owner"]),
            action.id,
            status="done",
            completed_on=TODAY + timedelta(days=1),
        )
    assert "completed_on" in exc.value.fields
    with pytest.raises(RuleViolation):
        service.update_action(db_session, actor(world["owner"]), action.id, status="finished")
    service.update_action(db_session, actor(world["admin"]), action.id, status="done")
    assert action.status.value == "done" and action.completed_on == TODAY
    history = (
        db_session.execute(
            select(ActionStatusChange)
            .where(ActionStatusChange.action_id == action.id)
            .order_by(ActionStatusChange.id)
        )
        .scalars()
        .all()
    )
    assert [(h.from_status.value, h.to_status.value) for h in history] == [
        ("planned", "in_progress"),
        ("in_progress", "done"),
    ]
    assert history[0].note == "Påbörjad" and history[1].changed_by_id == world["admin"].id
    service.update_action(db_session, actor(world["owner"]), action.id, status="planned")
    assert action.completed_on is None
    db_session.refresh(analysis)
    assert analysis.version == frozen_version and analysis.status.value == "final"
    events = (
        db_session.execute(
            select(AuditEvent.action).where(
                AuditEvent.entity == "risk_action", AuditEvent.entity_id == action.id
            )
        )
        .scalars()
        .all()
    )
    assert events == ["status", "status", "status"]


def test_overdue_actions_of_the_current_analysis(world, db_session, make):
    from riskreg.models import System as S

    sid = world["system"].id
    analysis = create(
        world,
        db_session,
        risks=[
            one_risk(
                actions=[
                    {
                        "description": "Sen",
                        "due_on": TODAY - timedelta(days=5),
                        "responsible_id": world["owner"].id,
                    },
                    {"description": "Klar", "due_on": TODAY - timedelta(days=5), "status": "done"},
                    {"description": "Avbruten", "due_on": TODAY - timedelta(days=5), "status": "cancelled"},
                    {"description": "I tid", "due_on": TODAY},
                    {"description": "Utan datum"},
                ]
            )
        ],
    )
    assert service.overdue_actions(db_session, TODAY, S.id == sid) == []  # a draft is not followed up yet
    service.finalise(db_session, actor(world["owner"]), analysis.id)
    rows = service.overdue_actions(db_session, TODAY, S.id == sid)
    assert [(r["description"], r["days_overdue"], r["responsible"]) for r in rows] == [
        ("Sen", 5, world["owner"].name)
    ]
    assert rows[0]["system_id"] == sid and rows[0]["risk_title"] == "Obehörig åtkomst"
    assert service.count_overdue_actions(db_session, TODAY, S.system_owner_id == world["owner"].id) == 1
    assert service.overdue_actions(db_session, TODAY, S.system_owner_id == world["other"].id) == []
    copy = service.new_round(db_session, actor(world["owner"]), sid)
    assert (
        len(service.overdue_actions(db_session, TODAY)) >= 1
    )  # still the finalised one until the copy is final
    service.finalise(db_session, actor(world["owner"]), copy.id)
    assert [r["risk_id"] for r in service.overdue_actions(db_session, TODAY, S.id == sid)] == [
        copy.risks[0].id
    ]


def test_matrix_and_bands_follow_configuration(world, db_session, app):
    analysis = create(
        world,
        db_session,
        risks=[
            one_risk(),
            one_risk(
                title="B",
                likelihood=3,
                consequence=4,
                residual_likelihood=None,
                residual_consequence=None,
                actions=[],
            ),
            one_risk(
                title="C",
                likelihood=1,
                consequence=1,
                residual_likelihood=None,
                residual_consequence=None,
                actions=[],
            ),
        ],
    )
    with app.test_request_context():
        before = service.matrix(analysis.risks)
        after = service.matrix(analysis.risks, residual=True)
        assert [c["likelihood"] for c in (row[0] for row in before)] == [4, 3, 2, 1]
        assert before[1][3]["count"] == 2 and before[3][0]["count"] == 1  # (3,4) and (1,1)
        assert after[1][3]["count"] == 1 and after[2][3]["count"] == 1  # B stands; A moved to (2,4)
        assert before[1][3]["band"]["code"] == "high" and before[0][3]["band"]["code"] == "extreme"
        assert [service.band_code(v) for v in (1, 2, 3, 6, 8, 12, 16)] == [
            "low",
            "low",
            "medium",
            "medium",
            "high",
            "high",
            "extreme",
        ]
        assert service.likelihood_label(4) == "Mycket hög" and service.consequence_label(1) == "Försumbar"
        saved = app.config["RISK_BANDS"]
        app.config["RISK_BANDS"] = [
            (4, "low", "Låg", "#00ff00"),
            (9, "medium", "Medel", "#ffff00"),
            (16, "high", "Hög", "#ff0000"),
        ]
        try:
            assert service.band(8) == {"code": "medium", "label": "Medel", "colour": "#ffff00", "upper": 9}
        finally:
            app.config["RISK_BANDS"] = saved


def _events(db_session, entity: str, entity_id: int) -> list:
    return (
        db_session.execute(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )


def test_every_change_of_an_analysis_is_audited_with_before_and_after(world, db_session):
    owner, admin = actor(world["owner"]), actor(world["admin"])
    analysis = create(world, db_session, participants="Ägare")
    first_risk = analysis.risks[0]
    service.update(db_session, owner, analysis.id, version=analysis.version, participants="Ägare, IT")
    added = service.save_risk(
        db_session,
        admin,
        analysis.id,
        version=analysis.version,
        values=one_risk(title="Ransomware", aspect="T", likelihood=2, actions=[]),
    )
    service.save_risk(
        db_session,
        owner,
        analysis.id,
        version=analysis.version,
        risk_id=added.id,
        values=one_risk(title="Ransomware", aspect="T", likelihood=4, actions=[]),
    )
    service.delete_risk(db_session, owner, analysis.id, added.id, version=analysis.version)
    service.finalise(db_session, owner, analysis.id)
    copy = service.new_round(db_session, owner, world["system"].id)

    events = _events(db_session, "risk_analysis", analysis.id)
    assert [e.action for e in events] == ["create", "update", "update", "update", "update", "finalise"]
    assert all(e.client_address == "127.0.0.1" for e in events)
    created, header, add, change, delete, final = events
    assert created.before is None and created.user_id == world["owner"].id
    assert created.after["status"] == "draft" and created.after["participants"] == "Ägare"
    assert created.after["classification_id"] == world["classification"].id
    assert [r["title"] for r in created.after["risks"]] == ["Obehörig åtkomst"]
    assert created.after["risks"][0]["actions"][0]["description"] == "Inför MFA"
    # only what changed, before and after
    assert header.before == {"participants": "Ägare"} and header.after == {"participants": "Ägare, IT"}
    assert add.user_id == world["admin"].id and set(add.after) == {"risks"}
    assert [r["title"] for r in add.before["risks"]] == ["Obehörig åtkomst"]
    assert [(r["title"], r["likelihood"]) for r in add.after["risks"]] == [
        ("Obehörig åtkomst", 3),
        ("Ransomware", 2),
    ]
    assert [r["likelihood"] for r in change.before["risks"]] == [3, 2]
    assert [r["likelihood"] for r in change.after["risks"]] == [3, 4]
    assert [r["id"] for r in delete.before["risks"]] == [first_risk.id, added.id]
    assert [r["id"] for r in delete.after["risks"]] == [first_risk.id]
    assert final.before == {"status": "draft"}
    assert final.after["status"] == "final" and final.after["finalised_at"]
    assert final.after["classification_id"] == world["classification"].id

    (copied,) = _events(db_session, "risk_analysis", copy.id)
    assert copied.action == "create" and copied.before is None
    assert copied.after["copied_from_id"] == analysis.id and copied.after["number"] == 2
    assert [r["title"] for r in copied.after["risks"]] == ["Obehörig åtkomst"]
    assert copied.after["risks"][0]["id"] == copy.risks[0].id != first_risk.id


def test_a_change_of_the_completion_date_alone_is_a_history_row(world, db_session):
    analysis = create(world, db_session)
    service.finalise(db_session, actor(world["owner"]), analysis.id)
    action = analysis.risks[0].actions[0]
    owner = actor(world["owner"])
    service.update_action(db_session, owner, action.id, status="done", completed_on=TODAY - timedelta(days=4))
    service.update_action(db_session, owner, action.id, status="done", completed_on=TODAY - timedelta(days=2))
    service.update_action(db_session, owner, action.id, status="done")  # keeps the date: nothing changes
    service.update_action(db_session, owner, action.id, status="in_progress")
    history = (
        db_session.execute(
            select(ActionStatusChange)
            .where(ActionStatusChange.action_id == action.id)
            .order_by(ActionStatusChange.id)
        )
        .scalars()
        .all()
    )
    assert [
        (h.from_status.value, h.to_status.value, h.from_completed_on, h.completed_on) for h in history
    ] == [
        ("planned", "done", None, TODAY - timedelta(days=4)),
        ("done", "done", TODAY - timedelta(days=4), TODAY - timedelta(days=2)),
        ("done", "in_progress", TODAY - timedelta(days=2), None),
    ]
    events = _events(db_session, "risk_action", action.id)
    assert events[1].before == {"status": "done", "completed_on": str(TODAY - timedelta(days=4))}
    assert events[1].after == {"status": "done", "completed_on": str(TODAY - timedelta(days=2)), "note": ""}
