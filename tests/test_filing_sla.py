"""SLAs in the service: records, measurements, the T level's requirement and the priority list."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from riskreg.errors import Conflict, NotAllowed, RuleViolation
from riskreg.models import AuditEvent, System
from riskreg.services import classification
from riskreg.services import sla as service
from tests.conftest import NOW, TODAY, actor


@pytest.fixture
def world(make):
    owner = make.user("system_owner")
    return {
        "owner": owner,
        "other": make.user("system_owner"),
        "admin": make.admin(),
        "dpo": make.user("dpo"),
        "system": make.system(system_owner=owner, priority_list=True, name="Cosmic"),
    }


def create(world, db_session, **kw):
    values = {"supplier": "Cambio", "availability_target": 99.0, **kw}
    return service.create(db_session, actor(world["owner"]), world["system"].id, **values)


def test_a_changed_sla_is_a_new_record(world, db_session):
    first = create(
        world,
        db_session,
        rto_hours=4,
        rpo_hours=0.25,
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        agreement_ref="AVT-1",
    )
    assert first.availability_target == Decimal("99.00") and first.rpo_hours == Decimal("0.25")
    assert db_session.get(System, world["system"].id).current_sla_id == first.id
    second = create(world, db_session, availability_target=99.5)
    assert second.replaces_id == first.id and first.availability_target == Decimal("99.00")
    assert db_session.get(System, world["system"].id).current_sla_id == second.id


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"supplier": " "}, "supplier"),
        ({"availability_target": 0}, "availability_target"),
        ({"availability_target": 100.01}, "availability_target"),
        ({"availability_target": 0.001}, "availability_target"),
        ({"availability_target": "hög"}, "availability_target"),
        ({"availability_target": float("nan")}, "availability_target"),
        ({"availability_target": None}, "availability_target"),
        ({"rto_hours": -1}, "rto_hours"),
        ({"rpo_hours": 10**7}, "rpo_hours"),
        ({"valid_from": date(2026, 5, 1), "valid_to": date(2026, 1, 1)}, "valid_to"),
        ({"valid_from": "1 maj"}, "valid_from"),
    ],
)
def test_sla_validation(world, db_session, kw, field):
    with pytest.raises(RuleViolation) as exc:
        create(world, db_session, **kw)
    assert field in exc.value.fields


def test_measurements_against_the_target(world, db_session):
    sla = create(world, db_session, availability_target=99.5)
    owner = actor(world["owner"])
    below = service.add_measurement(
        db_session, owner, sla.id, period=date(2026, 9, 1), availability=99.49, downtime_minutes=220
    )
    assert below.target_met is False and below.target == Decimal("99.50")
    met = service.add_measurement(db_session, owner, sla.id, period="2026-08", availability=99.5)
    assert met.target_met is True and met.period == date(2026, 8, 1)
    mid_month = service.add_measurement(db_session, owner, sla.id, period=date(2026, 7, 15), availability=100)
    assert mid_month.period == date(2026, 7, 1)
    current_month = service.add_measurement(
        db_session, owner, sla.id, period=TODAY.replace(day=1), availability=100
    )
    assert current_month.period == TODAY.replace(day=1)
    with pytest.raises(Conflict):
        service.add_measurement(db_session, owner, sla.id, period="2026-08", availability=98)
    event = db_session.execute(
        select(AuditEvent).where(AuditEvent.entity == "sla_measurement", AuditEvent.entity_id == below.id)
    ).scalar_one()
    assert event.after["target_met"] is False and event.at == NOW


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "26-01"}, "period"),
        ({"period": 202601}, "period"),
        ({"period": (TODAY.replace(day=1) + timedelta(days=40)).strftime("%Y-%m")}, "period"),
        ({"availability": 100.5}, "availability"),
        ({"availability": -0.1}, "availability"),
        ({"availability": True}, "availability"),
        ({"downtime_minutes": -1}, "downtime_minutes"),
        ({"downtime_minutes": 50000}, "downtime_minutes"),
        ({"downtime_minutes": 1.5}, "downtime_minutes"),
    ],
)
def test_measurement_validation(world, db_session, kw, field):
    sla = create(world, db_session)
    values = {"period": "2026-01", "availability": 99.0, **kw}
    with pytest.raises(RuleViolation) as exc:
        service.add_measurement(db_session, actor(world["owner"]), sla.id, **values)
    assert field in exc.value.fields


def test_permissions(world, db_session):
    with pytest.raises(NotAllowed):
        service.create(
            db_session, actor(world["other"]), world["system"].id, supplier="X", availability_target=99
        )
    with pytest.raises(NotAllowed):
        service.create(
            db_session, actor(world["dpo"]), world["system"].id, supplier="", availability_target=0
        )
    sla = service.create(
        db_session, actor(world["admin"]), world["system"].id, supplier="X", availability_target=99
    )
    with pytest.raises(NotAllowed):
        service.add_measurement(db_session, actor(world["other"]), sla.id, period="2026-01", availability=99)
    with pytest.raises(NotAllowed):
        service.get_readable(db_session, actor(world["other"]), sla.id)
    assert service.get_readable(db_session, actor(world["dpo"]), sla.id).id == sla.id


def test_required_availability_follows_the_t_level(app):
    with app.test_request_context():
        assert service.required_availability(None) is None and service.required_availability(1) is None
        assert service.required_availability(3) == Decimal("99.0")
        assert service.weaker_than_required(Decimal("98.9"), 3) and not service.weaker_than_required(
            Decimal("99"), 3
        )
        assert not service.weaker_than_required(Decimal("50"), 1) and not service.weaker_than_required(
            None, 4
        )
        saved = app.config["REQUIRED_AVAILABILITY_BY_T"]
        app.config["REQUIRED_AVAILABILITY_BY_T"] = {"0": None, "1": 95, "2": 97, "3": 99.9, "4": 99.99}
        try:
            assert service.required_availability(1) == Decimal("95") and service.weaker_than_required(
                Decimal("99"), 3
            )
        finally:
            app.config["REQUIRED_AVAILABILITY_BY_T"] = saved


def test_last_months_are_the_full_months_before_this_one():
    months = service.last_months(date(2026, 1, 15))
    assert months[0] == date(2025, 1, 1) and months[-1] == date(2025, 12, 1) and len(months) == 12


def test_priority_list(world, db_session, make, app):
    owner = actor(world["owner"])
    sid = world["system"].id
    classification.create(db_session, owner, sid, confidentiality=1, integrity=1, availability=4)
    old = create(world, db_session, availability_target=98)
    months = service.last_months(TODAY)
    service.add_measurement(db_session, owner, old.id, period=months[0], availability=90)  # replaced below
    sla = create(world, db_session, availability_target=99.5)
    service.add_measurement(db_session, owner, sla.id, period=months[0], availability=99.2)
    service.add_measurement(db_session, owner, sla.id, period=months[-1], availability=98.99)
    service.add_measurement(db_session, owner, sla.id, period=months[-2], availability=99.0)
    service.add_measurement(
        db_session, owner, sla.id, period=months[0] - timedelta(days=1), availability=50
    )  # too old
    service.add_measurement(
        db_session, owner, sla.id, period=TODAY.replace(day=1), availability=10
    )  # this month
    bare = make.system(system_owner=world["owner"], priority_list=True, name="Agresso")
    make.system(system_owner=world["owner"], name="Inte prioriterad")
    with app.test_request_context():
        data = service.priority_list(db_session, TODAY)
    assert data["months"] == months and data["target"] == Decimal("99.0")
    rows = {r["name"]: r for r in data["rows"]}
    assert set(rows) == {"Cosmic", "Agresso"} and [r["name"] for r in data["rows"]] == ["Agresso", "Cosmic"]
    cosmic = rows["Cosmic"]
    assert cosmic["measured"] == 3 and cosmic["missed"] == 1
    assert cosmic["cells"][0]["availability"] == Decimal("99.200")  # the later measurement of the month
    assert cosmic["cells"][-1]["missed"] is True and cosmic["cells"][-2]["missed"] is False
    assert cosmic["sla"].id == sla.id and cosmic["t_level"] == 4 and cosmic["required"] == Decimal("99.5")
    assert cosmic["weaker"] is False
    assert data["without_sla"] == 1 and data["missed_any"] == 1 and data["total"] == data["systems"] == 2
    with app.test_request_context():
        only_bare = service.priority_list(db_session, TODAY, without_sla=True)
        first_page = service.priority_list(db_session, TODAY, page=1, per_page=1)
        second_page = service.priority_list(db_session, TODAY, page=2, per_page=1)
    assert [r["system_id"] for r in only_bare["rows"]] == [bare.id] and only_bare["total"] == 1
    assert [r["name"] for r in first_page["rows"] + second_page["rows"]] == ["Agresso", "Cosmic"]
    assert second_page["missed_any"] == 1 and second_page["rows"][0]["missed"] == 1


def test_recording_an_sla_is_audited_with_its_content(world, db_session):
    first = create(world, db_session, agreement_ref="AVT-1", rto_hours=4, valid_from=date(2026, 1, 1))
    second = create(world, db_session, availability_target=99.5, replaces_id=first.id)
    events = (
        db_session.execute(select(AuditEvent).where(AuditEvent.entity == "sla").order_by(AuditEvent.id))
        .scalars()
        .all()
    )
    assert [(e.entity_id, e.action, e.before) for e in events] == [
        (first.id, "create", None),
        (second.id, "create", None),
    ]
    one, two = events[0].after, events[1].after
    assert one["supplier"] == "Cambio" and one["availability_target"] == 99.0 and one["rto_hours"] == 4.0
    assert (
        one["agreement_ref"] == "AVT-1" and one["valid_from"] == "2026-01-01" and one["replaces_id"] is None
    )
    assert one["system_id"] == world["system"].id and one["created_by_id"] == world["owner"].id
    assert two["availability_target"] == 99.5 and two["replaces_id"] == first.id
    assert events[0].user_id == world["owner"].id and events[0].at == NOW


def test_an_sla_recorded_meanwhile_is_a_conflict(world, db_session):
    sid = world["system"].id
    with pytest.raises(Conflict) as exc:  # saw an SLA that is not (any longer) the current one
        create(world, db_session, replaces_id=12345)
    assert exc.value.record is None and "replaces_id" in exc.value.fields
    first = create(world, db_session, replaces_id=None)  # saw none, and there is none
    with pytest.raises(Conflict) as exc:  # another owner saw none as well
        service.create(
            db_session,
            actor(world["admin"]),
            sid,
            supplier="Tieto",
            availability_target=99.9,
            replaces_id=None,
        )
    assert exc.value.status == 409 and exc.value.record.id == first.id
    with pytest.raises(Conflict):
        create(world, db_session, replaces_id=first.id + 1000)
    second = create(world, db_session, availability_target=99.5, replaces_id=first.id)
    assert db_session.get(System, sid).current_sla_id == second.id
    with pytest.raises(Conflict):
        create(world, db_session, replaces_id=first.id)
    third = create(world, db_session)  # not saying which one it saw: no check (older API clients)
    assert third.replaces_id == second.id
