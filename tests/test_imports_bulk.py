"""Apply and undo work in bulk (riskreg.imports.applying with the bulk helpers of riskreg.services.systems):
the records they leave must be exactly those of applying the rows one after the other with systems.create
and systems.update — per row, per system, in the audit trail and in the search trigrams — on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from riskreg.actor import Actor
from riskreg.errors import Conflict, NotAllowed, RuleViolation
from riskreg.models import AuditEvent, ExternalRef, ImportRow, SearchGram, System
from riskreg.search import trigrams
from riskreg.services import imports as service
from riskreg.services import systems
from tests.conftest import actor

MAPPING = {"Namn": "name", "Leverantör": "supplier", "Alias": "aliases", "sys_id": "external_key"}
CSV = (
    "Namn;Leverantör;Alias;sys_id\r\n"
    "Cosmic journal;;;sn1\r\n"  # 1 merge into Cosmic: an alias and the key
    "COSMIC (Cambio);Cambio;;sn1\r\n"  # 2 merge into Cosmic again: another alias; the key is already its own
    "Helt Nytt;Leverantör N;HN;sn1\r\n"  # 3 create: the key is taken by row 1
    "Nytt Två;;;sn2\r\n"  # 4 create with the key
    "Melior;Siemens;;sn2\r\n"  # 5 merge into Melior: fills the supplier; the key is taken by row 4
    "Skippas;;;sn3\r\n"
)  # 6 skip


def grams_of(session, sid) -> set[str]:
    return set(session.scalars(select(SearchGram.gram).where(SearchGram.system_id == sid)))


def expected_grams(system) -> set[str]:
    found = trigrams(system.name)
    for alias in system.aliases:
        found |= trigrams(alias.name)
    return found


def events(session, since: int, entity="system") -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > since, AuditEvent.entity == entity)
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def batch(make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    cosmic = make.system(name="Cosmic", supplier="Cambio", org_unit_id=unit.id, aliases=["Cosmic R8"])
    melior = make.system(name="Melior", supplier=None, org_unit_id=unit.id)
    a = actor(admin)
    b = service.upload(
        db_session,
        a,
        filename="lista.csv",
        content=CSV.encode(),
        source="ServiceNow",
        mapping=MAPPING,
        org_unit_id=unit.id,
    )
    service.start_matching(db_session, a, b)
    rows = list(
        db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b.id).order_by(ImportRow.row_number))
    )
    decisions = [
        {"row_id": rows[0].id, "action": "merge", "system_id": cosmic.id},
        {"row_id": rows[1].id, "action": "merge", "system_id": cosmic.id},
        {"row_id": rows[2].id, "action": "create"},
        {"row_id": rows[3].id, "action": "create"},
        {"row_id": rows[4].id, "action": "merge", "system_id": melior.id},
        {"row_id": rows[5].id, "action": "skip"},
    ]
    service.decide(db_session, a, b.id, decisions)
    db_session.flush()
    return a, b, cosmic, melior


def test_apply_records_each_row_as_if_applied_one_by_one(db_session, batch):
    _, b, cosmic, melior = batch
    a = Actor(
        batch[0].user, client_address="127.0.0.1", request_id="test"
    )  # the real clock: a row, an instant
    v_cosmic, v_melior = cosmic.version, melior.version
    last = db_session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    service.apply(db_session, a, b.id)
    db_session.flush()
    db_session.expire_all()
    rows = list(
        db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b.id).order_by(ImportRow.row_number))
    )
    changes = [r.changes for r in rows]
    helt = db_session.execute(select(System).where(System.name == "Helt Nytt")).scalar_one()
    tva = db_session.execute(select(System).where(System.name == "Nytt Två")).scalar_one()
    assert changes == [
        {
            "system_id": cosmic.id,
            "created": False,
            "fields": {},
            "aliases_added": ["Cosmic journal"],
            "refs_added": [["servicenow", "sn1"]],
            "version_after": v_cosmic + 1,
        },
        {
            "system_id": cosmic.id,
            "created": False,
            "fields": {},
            "aliases_added": ["COSMIC (Cambio)"],
            "refs_added": [],
            "version_after": v_cosmic + 2,
        },  # each row a version, as one update after the other
        {"system_id": helt.id, "created": True, "version_after": 1, "refs_in_use": ["sn1"]},
        {"system_id": tva.id, "created": True, "version_after": 1},
        {
            "system_id": melior.id,
            "created": False,
            "fields": {"supplier": [None, "Siemens"]},
            "aliases_added": [],
            "refs_added": [],
            "version_after": v_melior + 1,
            "refs_in_use": ["sn2"],
        },
        {},
    ]
    assert [(r.applied_action.value, r.applied_system_id) for r in rows] == [
        ("merge", cosmic.id),
        ("merge", cosmic.id),
        ("create", helt.id),
        ("create", tva.id),
        ("merge", melior.id),
        ("skip", None),
    ]
    cosmic, melior = db_session.get(System, cosmic.id), db_session.get(System, melior.id)
    assert (cosmic.version, melior.version) == (v_cosmic + 2, v_melior + 1)
    assert [x.name for x in cosmic.aliases] == ["Cosmic R8", "Cosmic journal", "COSMIC (Cambio)"]
    assert [(r.source, r.key) for r in cosmic.external_refs] == [("servicenow", "sn1")]
    assert (melior.supplier, [x.name for x in melior.aliases], melior.external_refs) == ("Siemens", [], [])
    assert (helt.supplier, helt.org_unit_id, [x.name for x in helt.aliases], helt.external_refs) == (
        "Leverantör N",
        b.org_unit_id,
        ["HN"],
        [],
    )
    assert [(r.source, r.key) for r in tva.external_refs] == [("servicenow", "sn2")]
    for system in (cosmic, melior, helt, tva):  # fuzzy search finds them by every name
        assert grams_of(db_session, system.id) == expected_grams(system)

    trail = [(e.entity_id, e.action, e.before, e.after) for e in events(db_session, last)]
    assert [(t[0], t[1]) for t in trail] == [  # in the rows' order
        (cosmic.id, "update"),
        (cosmic.id, "update"),
        (helt.id, "create"),
        (tva.id, "create"),
        (melior.id, "update"),
    ]
    created = [t for t in trail if t[1] == "create"]
    after = created[0][3]
    assert after == {**systems.snapshot(helt), "external_refs": []}  # as create() saw it: the key came after
    assert created[1][3]["external_refs"] == [] and created[1][3]["name"] == "Nytt Två"
    assert [t for t in trail if t[1] == "update"] == [
        (cosmic.id, "update", {"aliases": ["Cosmic R8"]}, {"aliases": ["Cosmic R8", "Cosmic journal"]}),
        (
            cosmic.id,
            "update",
            {"aliases": ["Cosmic R8", "Cosmic journal"]},
            {"aliases": ["COSMIC (Cambio)", "Cosmic R8", "Cosmic journal"]},
        ),
        (melior.id, "update", {"supplier": None}, {"supplier": "Siemens"}),
    ]
    assert all(e.user_id == a.user_id and e.request_id == "test" for e in events(db_session, last))


def test_undo_reverses_exactly_what_apply_did(db_session, batch):
    _, b, cosmic, melior = batch
    a = Actor(batch[0].user, client_address="127.0.0.1", request_id="test")
    v_cosmic, v_melior = cosmic.version, melior.version
    grams_before = {cosmic.id: grams_of(db_session, cosmic.id), melior.id: grams_of(db_session, melior.id)}
    service.apply(db_session, a, b.id)
    db_session.flush()
    created = [
        r.applied_system_id
        for r in db_session.scalars(
            select(ImportRow).where(ImportRow.batch_id == b.id, ImportRow.applied_action == "create")
        )
    ]
    last = db_session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    service.undo(db_session, a, b.id)
    db_session.flush()
    db_session.expire_all()
    assert db_session.scalars(select(System.id).where(System.id.in_(created))).all() == []
    assert (
        db_session.scalars(select(SearchGram.system_id).where(SearchGram.system_id.in_(created))).all() == []
    )
    assert db_session.scalars(select(ExternalRef.key).where(ExternalRef.key.in_(["sn1", "sn2"]))).all() == []
    cosmic, melior = db_session.get(System, cosmic.id), db_session.get(System, melior.id)
    assert ([x.name for x in cosmic.aliases], cosmic.external_refs, melior.supplier) == (
        ["Cosmic R8"],
        [],
        None,
    )
    assert (cosmic.version, melior.version) == (v_cosmic + 4, v_melior + 2)  # two rows undone, one row undone
    for system in (cosmic, melior):
        assert grams_of(db_session, system.id) == grams_before[system.id] == expected_grams(system)
    trail = [(e.entity_id, e.action, e.before, e.after) for e in events(db_session, last)]
    assert [(t[0], t[1]) for t in trail] == [  # newest row first
        (melior.id, "update"),
        (created[1], "delete"),
        (created[0], "delete"),
        (cosmic.id, "update"),
        (cosmic.id, "update"),
    ]
    assert trail[0][2:] == ({"supplier": "Siemens"}, {"supplier": None})
    assert trail[1][2]["name"] == "Nytt Två" and trail[1][2]["external_refs"] == ["servicenow:sn2"]
    assert trail[3][2:] == (
        {"aliases": ["COSMIC (Cambio)", "Cosmic R8", "Cosmic journal"]},
        {"aliases": ["Cosmic R8", "Cosmic journal"]},
    )
    rows = db_session.scalars(
        select(ImportRow).where(ImportRow.batch_id == b.id).order_by(ImportRow.row_number)
    )
    assert [r.applied_action for r in rows] == [None, None, None, None, None, "skip"]


def test_in_the_same_instant_an_alias_is_no_new_version(db_session, batch):
    a, b, cosmic, melior = batch  # the tests' fixed clock: updated_at does not move, the row is not written
    v_cosmic, v_melior = cosmic.version, melior.version
    service.apply(db_session, a, b.id)
    db_session.flush()
    db_session.expire_all()
    rows = list(
        db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b.id).order_by(ImportRow.row_number))
    )
    assert [r.changes.get("version_after") for r in rows] == [v_cosmic, v_cosmic, 1, 1, v_melior + 1, None]
    assert (db_session.get(System, cosmic.id).version, db_session.get(System, melior.id).version) == (
        v_cosmic,
        v_melior + 1,
    )
    service.undo(db_session, a, b.id)
    db_session.flush()
    db_session.expire_all()
    assert (db_session.get(System, cosmic.id).version, db_session.get(System, melior.id).version) == (
        v_cosmic,
        v_melior + 2,
    )


def test_undo_is_refused_after_a_later_change_and_changes_nothing(db_session, batch):
    a, b, cosmic, _ = batch
    service.apply(db_session, a, b.id)
    db_session.flush()
    db_session.expire_all()
    cosmic = db_session.get(System, cosmic.id)
    systems.update(db_session, a, cosmic.id, {"description": "Ändrad"}, version=cosmic.version)
    db_session.flush()
    with pytest.raises(Conflict):
        service.undo(db_session, a, b.id)


def test_create_many_follows_the_rules_of_create(make, db_session):
    admin, owner = make.admin(), make.user("system_owner")
    unit = make.org_unit()
    a = actor(admin)
    values = {
        "name": " Alfa ",
        "org_unit_id": unit.id,
        "criticality": "A",
        "supplier": " Leverantör ",
        "system_owner_id": owner.id,
        "aliases": ["Alfa", "A1", "A1", " "],
        "external_refs": [{"source": "cmdb", "key": "k1 "}],
    }
    one = systems.create(db_session, a, values)
    db_session.flush()
    [sid] = systems.create_many(
        db_session, a, [{**values, "external_refs": [{"source": "cmdb", "key": "k2"}]}]
    )
    db_session.flush()
    many = db_session.get(System, sid)
    ev = {
        e.entity_id: e.after
        for e in db_session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "system",
                AuditEvent.action == "create",
                AuditEvent.entity_id.in_([one.id, sid]),
            )
        )
    }
    assert {**ev[sid], "id": one.id, "external_refs": ["cmdb:k1"]} == ev[one.id]
    assert systems.snapshot(many) == {**systems.snapshot(one), "id": sid, "external_refs": ["cmdb:k2"]}
    assert (many.version, many.search_key, many.created_at) == (one.version, one.search_key, one.created_at)
    assert grams_of(db_session, sid) == grams_of(db_session, one.id) == expected_grams(many)
    with pytest.raises(NotAllowed):
        systems.create_many(db_session, actor(owner), [{"name": "X", "org_unit_id": unit.id}])
    with pytest.raises(RuleViolation):
        systems.create_many(
            db_session, a, [{"name": "X", "org_unit_id": unit.id}, {"name": " ", "org_unit_id": unit.id}]
        )
    with pytest.raises(RuleViolation) as err:
        systems.create_many(
            db_session, a, [{"name": "X", "org_unit_id": unit.id, "system_owner_id": admin.id}]
        )
    assert "system_owner_id" in err.value.fields
    with pytest.raises(RuleViolation) as err:  # a key in use, and one key for two new systems
        systems.create_many(
            db_session,
            a,
            [{"name": "X", "org_unit_id": unit.id, "external_refs": [{"source": "cmdb", "key": "k1"}]}],
        )
    assert "external_refs" in err.value.fields
    with pytest.raises(RuleViolation):
        systems.create_many(
            db_session,
            a,
            [
                {"name": "X", "org_unit_id": unit.id, "external_refs": [{"source": "cmdb", "key": "k9"}]},
                {"name": "Y", "org_unit_id": unit.id, "external_refs": [{"source": "cmdb", "key": "k9"}]},
            ],
        )


def test_staged_changes_write_what_update_would(make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin)
    one = make.system(name="Ett", org_unit_id=unit.id, aliases=["E1"])
    two = make.system(name="Ett", org_unit_id=unit.id, aliases=["E1"])
    db_session.flush()
    changes = [
        {"description": "Ny", "aliases": ["E1", "E2"]},
        {"criticality": "A", "aliases": ["E2"]},
        {"name": "Ett"},
    ]
    last = db_session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    for values in changes:
        systems.update(db_session, a, one.id, values, version=one.version)
    db_session.flush()
    staged = systems.StagedChanges()
    for values in changes:
        staged.update(db_session, a, two, values)
    staged.write(db_session, a)
    db_session.flush()
    db_session.expire_all()
    one, two = db_session.get(System, one.id), db_session.get(System, two.id)
    assert systems.snapshot(two) == {**systems.snapshot(one), "id": two.id}
    assert (two.version, two.updated_at) == (one.version, one.updated_at)
    assert grams_of(db_session, two.id) == grams_of(db_session, one.id) == expected_grams(two)
    trail = events(db_session, last)
    assert [(e.before, e.after) for e in trail if e.entity_id == two.id] == [
        (e.before, e.after) for e in trail if e.entity_id == one.id
    ]
    # a row changed meanwhile (its version moved) is not overwritten
    staged = systems.StagedChanges()
    staged.update(db_session, a, two, {"description": "Igen"})
    with db_session.no_autoflush:  # another transaction's change, as the database sees it
        db_session.execute(
            update(System)
            .where(System.id == two.id)
            .values(version=System.version + 1)
            .execution_options(synchronize_session=False)
        )
    with pytest.raises(Conflict):
        staged.write(db_session, a)
