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
    changes = [dict(r.changes) for r in rows]
    helt = db_session.execute(select(System).where(System.name == "Helt Nytt")).scalar_one()
    tva = db_session.execute(select(System).where(System.name == "Nytt Två")).scalar_one()
    # the last row that changed a system, and every created one, record the system as the batch left it
    states = {i: c.pop("state_after") for i, c in enumerate(changes) if "state_after" in c}
    assert sorted(states) == [1, 2, 3, 4]
    for i, system in ((1, cosmic), (2, helt), (3, tva), (4, melior)):
        db_session.refresh(system)
        assert states[i] == systems.snapshot(system)
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
    assert created[0][3] == systems.snapshot(helt)  # its key was taken by row 1: none
    assert created[1][3] == systems.snapshot(tva)  # with its key: the audit trail records every reference
    assert created[1][3]["external_refs"] == ["servicenow:sn2"] and created[1][3]["name"] == "Nytt Två"
    assert [t for t in trail if t[1] == "update"] == [
        (cosmic.id, "update", {"aliases": ["Cosmic R8"], "external_refs": []},
         {"aliases": ["Cosmic R8", "Cosmic journal"], "external_refs": ["servicenow:sn1"]}),
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


# ------------------------------------------------------------------ undo, with other imports and later changes


def applied_batch(session, a, content: str, *, source: str, org_unit_id=None, decisions=None):
    """Upload, match, decide (row number → decision) and apply a list; returns the batch."""
    b = service.upload(session, a, filename="lista.csv", content=content.encode(), source=source,
                       mapping=MAPPING, org_unit_id=org_unit_id)
    service.start_matching(session, a, b)
    if decisions:
        rows = {r.row_number: r.id for r in session.scalars(select(ImportRow).where(ImportRow.batch_id == b.id))}
        service.decide(session, a, b.id, [{"row_id": rows[n], **d} for n, d in decisions.items()])
    service.apply(session, a, b.id)
    session.flush()
    return b


def state(session, sid) -> dict | None:
    session.expire_all()
    system = session.get(System, sid)
    return None if system is None else systems.snapshot(system)


@pytest.mark.parametrize("clock", ["same instant", "real clock"])
def test_undo_of_a_batch_whose_system_another_batch_used_is_refused_until_that_one_is_undone(
        make, db_session, clock):
    """In the same instant (a fixed clock) a reference alone moves no version: undo must not rest on versions."""
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin) if clock == "same instant" else Actor(admin, client_address="127.0.0.1", request_id="t")
    head = "Namn;Leverantör;Alias;sys_id\r\n"
    b1 = applied_batch(db_session, a, head + "Ny Tjänst;Lev;NT;k-1\r\n", source="CMDB", org_unit_id=unit.id)
    x = db_session.execute(select(System.id).where(System.name == "Ny Tjänst")).scalar_one()
    left_by_b1 = state(db_session, x)
    version = db_session.get(System, x).version
    b2 = applied_batch(db_session, a, head + "Ny Tjänst;;;p-9\r\n", source="Portfolio")
    [row] = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b2.id))
    assert (row.applied_action, row.applied_system_id) == ("merge", x)
    assert row.changes["refs_added"] == [["portfolio", "p-9"]] and not row.changes["aliases_added"]
    if clock == "same instant":
        assert db_session.get(System, x).version == version  # nothing tells the change but the record
    left_by_b2 = state(db_session, x)
    assert left_by_b2["external_refs"] == ["cmdb:k-1", "portfolio:p-9"]

    with pytest.raises(Conflict) as refused:
        service.undo(db_session, a, b1.id)
    message = str(refused.value.message)
    assert f"import {b2.id} (Portfolio, lista.csv)" in message and "Ny Tjänst" in message, message
    assert state(db_session, x) == left_by_b2  # refused before anything was written

    service.undo(db_session, a, b2.id)
    db_session.flush()
    assert state(db_session, x) == left_by_b1
    service.undo(db_session, a, b1.id)
    db_session.flush()
    assert state(db_session, x) is None
    assert db_session.scalars(select(ExternalRef.key).where(ExternalRef.key.in_(["k-1", "p-9"]))).all() == []
    assert db_session.scalars(select(SearchGram.system_id).where(SearchGram.system_id == x)).all() == []
    db_session.expire_all()
    assert [r.applied_action for r in db_session.scalars(
        select(ImportRow).where(ImportRow.batch_id.in_([b1.id, b2.id])))] == [None, None]


def test_undo_is_refused_for_any_change_since_that_the_batch_did_not_record(make, db_session):
    """Aliases and references on a created system that the batch did not make, in the same instant (no new
    version), a person's decision in a batch still to be applied, records resting on it: each refuses,
    each named."""
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin)
    head = "Namn;Leverantör;Alias;sys_id\r\n"
    b1 = applied_batch(db_session, a, head + "Ny Tjänst;Lev;NT;k-1\r\n", source="CMDB", org_unit_id=unit.id)
    x = db_session.get(System, db_session.execute(select(System.id).where(System.name == "Ny Tjänst")).scalar_one())
    systems.update(db_session, a, x.id, {"aliases": ["NT", "Tjänsten"]}, version=x.version)
    db_session.flush()
    with pytest.raises(Conflict) as refused:
        service.undo(db_session, a, b1.id)
    assert "Ny Tjänst" in str(refused.value.message) and "+Tjänsten" in str(refused.value.message)
    x = db_session.get(System, x.id)
    systems.update(db_session, a, x.id, {"aliases": ["NT"]}, version=x.version)  # back as the batch left it
    db_session.flush()
    # a batch still to be applied, with a person's decision to merge into the new system
    b2 = service.upload(db_session, a, filename="andra.csv", content=(head + "Tjänsten ny;;;\r\n").encode(),
                        source="Portfolio", mapping=MAPPING)
    service.start_matching(db_session, a, b2)
    [row] = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b2.id))
    service.decide(db_session, a, b2.id, [{"row_id": row.id, "action": "merge", "system_id": x.id}])
    db_session.flush()
    with pytest.raises(Conflict) as refused:
        service.undo(db_session, a, b1.id)
    assert f"import {b2.id} (Portfolio, andra.csv)" in str(refused.value.message)
    assert "rows 2 " in str(refused.value.message) or "raderna 2 " in str(refused.value.message)
    service.decide(db_session, a, b2.id, [{"row_id": row.id, "action": "skip"}])
    db_session.flush()
    service.undo(db_session, a, b1.id)  # nothing in the way any more
    db_session.flush()
    assert db_session.get(System, x.id) is None


@pytest.mark.parametrize("clock", ["same instant", "real clock"])
def test_undo_of_merges_works_in_reverse_order_and_not_under_a_later_import(make, db_session, clock):
    """Batches merge into the same existing system (with the real clock each change is a version; in the
    same instant the audit trail tells which came later): the later one is undone first, then the earlier;
    the earlier alone is refused while the later stands — also when the later one's row changed nothing
    because it found the earlier one's alias in place."""
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin) if clock == "same instant" else Actor(admin, client_address="127.0.0.1", request_id="t")
    s = make.system(name="Melior", supplier=None, description="", org_unit_id=unit.id)
    before = state(db_session, s.id)
    head = "Namn;Leverantör;Alias;sys_id\r\n"
    b1 = applied_batch(db_session, a, head + "Melior journal;Siemens;;m-1\r\n", source="CMDB",
                       decisions={2: {"action": "merge", "system_id": s.id}})
    after_b1 = state(db_session, s.id)
    assert (after_b1["supplier"], after_b1["aliases"], after_b1["external_refs"]) == (
        "Siemens", ["Melior journal"], ["cmdb:m-1"])
    b2 = applied_batch(db_session, a, head + "Melior journal;;;\r\n", source="Portfolio",
                       decisions={2: {"action": "merge", "system_id": s.id}})
    [row] = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b2.id))
    assert row.changes["aliases_added"] == [] and row.changes["fields"] == {}  # found b1's alias in place
    with pytest.raises(Conflict) as refused:
        service.undo(db_session, a, b1.id)
    assert f"import {b2.id} (Portfolio" in str(refused.value.message)
    service.undo(db_session, a, b2.id)
    db_session.flush()
    assert state(db_session, s.id) == after_b1
    b3 = applied_batch(db_session, a, head + "Melior 2;;;p-3\r\n", source="Portfolio",
                       decisions={2: {"action": "merge", "system_id": s.id}})
    with pytest.raises(Conflict):
        service.undo(db_session, a, b1.id)
    service.undo(db_session, a, b3.id)
    db_session.flush()
    service.undo(db_session, a, b1.id)  # the version may have moved since: the state is what counts
    db_session.flush()
    assert state(db_session, s.id) == before


def test_an_undecided_suggested_merge_into_a_created_system_refuses_its_undo(make, db_session):
    """Apply follows a row's suggestion where no one decided: a batch still to be applied whose row is
    suggested to merge into a system the earlier batch created stands in the way of that batch's undo."""
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin)
    head = "Namn;Leverantör;Alias;sys_id\r\n"
    b1 = applied_batch(db_session, a, head + "Ny Tjänst;Lev;NT;k-1\r\n", source="CMDB", org_unit_id=unit.id)
    x = db_session.execute(select(System.id).where(System.name == "Ny Tjänst")).scalar_one()
    b2 = service.upload(db_session, a, filename="andra.csv", content=(head + "Ny Tjänst;;;\r\n").encode(),
                        source="Portfolio", mapping=MAPPING)
    service.start_matching(db_session, a, b2)
    [row] = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == b2.id))
    assert (row.suggestion_action, row.suggestion_system_id, row.decision_action) == ("merge", x, None)
    with pytest.raises(Conflict) as refused:
        service.undo(db_session, a, b1.id)
    assert f"import {b2.id} (Portfolio, andra.csv)" in str(refused.value.message)
    service.decide(db_session, a, b2.id, [{"row_id": row.id, "action": "create"}])
    db_session.flush()
    service.undo(db_session, a, b1.id)
    db_session.flush()
    assert db_session.get(System, x) is None


def test_a_major_change_on_a_merged_system_does_not_stand_in_the_way_of_undo(make, db_session):
    """Undo puts back the register fields, names and references it changed on a system it merged into;
    what it never touches (a major change recorded since) does not refuse it, and is kept."""
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin)
    s = make.system(name="Melior", supplier=None, description="", org_unit_id=unit.id)
    head = "Namn;Leverantör;Alias;sys_id\r\n"
    b1 = applied_batch(db_session, a, head + "Melior journal;Siemens;;m-1\r\n", source="CMDB",
                       decisions={2: {"action": "merge", "system_id": s.id}})
    systems.record_major_change(db_session, a, s.id, "Ny databasserver")
    db_session.flush()
    service.undo(db_session, a, b1.id)
    db_session.flush()
    after = state(db_session, s.id)
    assert (after["supplier"], after["aliases"], after["external_refs"]) == (None, [], [])
    assert after["major_change_at"] is not None


def test_summary_and_the_duplicates_filter_take_every_row_with_a_duplicate(make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    a = actor(admin)
    make.system(name="Cosmic", supplier="Cambio", org_unit_id=unit.id)
    content = ("Namn;Leverantör;Alias;sys_id\r\n"
               "Cosmic;Cambio;;\r\n"  # 2 merge
               "COSMIC (Cambio);;;\r\n"  # 3 merge, repeats row 2
               "Qlik Sense;;;\r\n"  # 4 create
               "QLIK SENSE 2023;;;\r\n"  # 5 skip: repeats row 4
               "Heroma;;;\r\n")  # 6 alone
    b = service.upload(db_session, a, filename="l.csv", content=content.encode(), source="x", mapping=MAPPING,
                       org_unit_id=unit.id)
    service.start_matching(db_session, a, b)
    db_session.flush()
    rows = db_session.scalars(service.rows_statement(b, "duplicates")).all()
    assert [r.row_number for r in rows] == [2, 3, 4, 5]
    assert [r.suggestion_action.value for r in rows] == ["merge", "merge", "create", "skip"]
    assert service.summary(db_session, b)["duplicates"] == 4
