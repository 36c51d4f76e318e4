"""Imports through the JSON API and the service, on SQLite and PostgreSQL: upload, mapping, matching, decisions,
apply, undo, refusals, background work."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from riskreg.models import AuditEvent, ExternalRef, ImportBatch, ImportMapping, ImportRow, MajorChange, System
from riskreg.models.base import utcnow
from riskreg.models.codes import ImportStatus
from tests.conftest import assert_error

CSV = ("Namn;Leverantör;Förvaltning;sys_id\r\n"
       "COSMIC (Cambio);Cambio;Förvaltning Acceptans;sn1\r\n"
       "Cambio Cosmic 4.2;Cambio;Förvaltning Acceptans;sn2\r\n"
       "Sectra IDS7 PACS;Sectra;Förvaltning Acceptans;sn3\r\n"
       "NPÖ;Inera;Förvaltning Acceptans;sn4\r\n"
       "Heroma;Leverantör Her;Förvaltning Acceptans;sn5\r\n"
       "Qlik Sense;Leverantör Qli;Förvaltning Acceptans;sn6\r\n"
       "HEROMA lön;;Förvaltning Acceptans;sn7\r\n"
       '"Citerat; med semikolon";"Leverantör ""X""";Förvaltning Acceptans;snq\r\n')


def upload(c, content: bytes, name="list.csv", **fields):
    data = {"file": (io.BytesIO(content), name), "source": "servicenow", **fields}
    return c.post("/api/v1/imports", data=data, content_type="multipart/form-data")


@pytest.fixture
def region(make):
    admin = make.admin()
    unit = make.org_unit("Förvaltning Acceptans")
    ids = {n: make.system(name=n, supplier=s, org_unit_id=unit.id, description="", criticality=None).id
           for n, s in (("Cosmic", "Cambio"), ("Sectra PACS", "Sectra"), ("Nationell patientöversikt (NPÖ)", "Inera"))}
    return admin, unit, ids


def rows_by_name(c, bid, flt=None):
    body = c.get(f"/api/v1/imports/{bid}/rows?per_page=500" + (f"&filter={flt}" if flt else "")).get_json()
    return {r["values"]["Namn"]: r for r in body["items"]}


def test_upload_match_decide_apply_undo(api, region, db_session):
    admin, unit, ids = region
    c = api(admin)
    resp = upload(c, CSV.encode("cp1252"), org_unit_id=str(unit.id),
                  mapping=json.dumps({"Namn": "name", "Leverantör": "supplier", "sys_id": "external_key"}))
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    assert (batch["status"], batch["row_count"], batch["encoding"], batch["delimiter"]) == ("ready", 8, "cp1252", ";")
    assert batch["progress"] == {"done": 8, "total": 8}
    got = c.get(f"/api/v1/imports/{batch['id']}").get_json()
    assert got["mapping"] == {"Namn": "name", "Leverantör": "supplier", "sys_id": "external_key"}
    rows = rows_by_name(c, batch["id"])
    assert rows["Cambio Cosmic 4.2"]["values"] == {"Namn": "Cambio Cosmic 4.2", "Leverantör": "Cambio",
                                                   "Förvaltning": "Förvaltning Acceptans", "sys_id": "sn2"}
    for name, sid in (("COSMIC (Cambio)", "Cosmic"), ("Cambio Cosmic 4.2", "Cosmic"), ("NPÖ", "Nationell patientöversikt (NPÖ)"),
                      ("Sectra IDS7 PACS", "Sectra PACS")):
        assert rows[name]["suggestion"]["action"] == "merge" and rows[name]["suggestion"]["system_id"] == ids[sid]
        assert rows[name]["candidates"][0]["system_id"] == ids[sid]
        assert 0 <= rows[name]["candidates"][0]["score"] <= 100
    assert rows["Heroma"]["suggestion"]["action"] == "create"
    assert rows["HEROMA lön"]["suggestion"] == {"action": "skip", "row_id": rows["Heroma"]["row_id"],
                                                "confidence": "uncertain"}
    assert rows["HEROMA lön"]["duplicates_in_batch"] == [rows["Heroma"]["row_id"]]
    assert rows['Citerat; med semikolon']["suggestion"]["action"] == "create"
    # every row with a duplicate in the list, the first of them too, whatever it is suggested to do
    assert rows["COSMIC (Cambio)"]["duplicates_in_batch"] == [rows["Cambio Cosmic 4.2"]["row_id"]]
    assert set(rows_by_name(c, batch["id"], "duplicates")) == {"HEROMA lön", "Heroma", "COSMIC (Cambio)",
                                                               "Cambio Cosmic 4.2"}
    assert set(rows_by_name(c, batch["id"], "create")) == {"Heroma", "Qlik Sense", "Citerat; med semikolon"}

    resp = c.post(f"/api/v1/imports/{batch['id']}/decisions",
                  json=[{"row_id": rows["Qlik Sense"]["row_id"], "action": "skip"},
                        {"row_id": rows["Sectra IDS7 PACS"]["row_id"], "action": "merge", "system_id": ids["Sectra PACS"]}])
    assert resp.status_code == 200 and resp.get_json()["status"] == "ready"
    before = db_session.execute(select(func.count(System.id))).scalar_one()
    resp = c.post(f"/api/v1/imports/{batch['id']}/apply")
    assert resp.status_code == 200 and resp.get_json()["status"] == "applied", resp.get_json()
    assert db_session.execute(select(func.count(System.id))).scalar_one() == before + 2  # Heroma, Citerat
    cosmic = c.get(f"/api/v1/systems/{ids['Cosmic']}").get_json()
    assert cosmic["aliases"] == ["COSMIC (Cambio)", "Cambio Cosmic 4.2"]
    assert {"source": "servicenow", "key": "sn1"} in cosmic["external_refs"]
    heroma = db_session.execute(select(System).where(System.name == "Heroma")).scalar_one()
    assert (heroma.org_unit_id, heroma.supplier) == (unit.id, "Leverantör Her")
    assert [(r.source, r.key) for r in heroma.external_refs] == [("servicenow", "sn5")]
    applied = rows_by_name(c, batch["id"])
    assert applied["Qlik Sense"]["applied"]["action"] == "skip"
    assert applied["NPÖ"]["applied"]["changes"]["aliases_added"] == ["NPÖ"]
    assert_error(c.post(f"/api/v1/imports/{batch['id']}/apply"), 409)

    resp = c.post(f"/api/v1/imports/{batch['id']}/undo")
    assert resp.status_code == 200 and resp.get_json()["status"] == "undone"
    assert db_session.execute(select(func.count(System.id))).scalar_one() == before
    cosmic = c.get(f"/api/v1/systems/{ids['Cosmic']}").get_json()
    assert cosmic["aliases"] == [] and cosmic["external_refs"] == []
    trail = c.get(f"/api/v1/audit?entity=import_batch&entity_id={batch['id']}&per_page=100")
    assert trail.status_code == 200, trail.get_json()
    actions = [e["action"] for e in trail.get_json()["items"]]
    assert {"create", "decide", "apply", "undo"} <= set(actions), actions
    system_trail = c.get(f"/api/v1/audit?entity=system&entity_id={ids['Cosmic']}&per_page=100").get_json()["items"]
    assert any("servicenow:sn1" in ((e.get("after") or {}).get("external_refs") or []) for e in system_trail)


def test_merge_fills_empty_fields_and_overwrites_only_by_choice(api, make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    owner = make.user("system_owner", email="anna@region.example")
    sid = make.system(name="Melior", supplier=None, description="Journal", criticality="B", org_unit_id=unit.id).id
    c = api(admin)
    data = ("Namn;Leverantör;Beskrivning;Kritikalitet;Systemägare\r\n"
            "Melior;Siemens;Sjukhusjournal;A;anna@region.example\r\n").encode()
    bid = upload(c, data).get_json()["id"]
    row = c.get(f"/api/v1/imports/{bid}/rows").get_json()["items"][0]
    assert row["suggestion"]["action"] == "merge"
    c.post(f"/api/v1/imports/{bid}/decisions", json=[{"row_id": row["row_id"], "action": "merge", "system_id": sid,
                                                      "field_choices": {"criticality": "import"}}])
    assert c.post(f"/api/v1/imports/{bid}/apply").status_code == 200
    system = db_session.get(System, sid)
    db_session.refresh(system)
    assert (system.supplier, system.description, system.criticality.value, system.system_owner_id) == (
        "Siemens", "Journal", "A", owner.id)  # filled, kept, chosen, filled
    changes = c.get(f"/api/v1/imports/{bid}/rows").get_json()["items"][0]["applied"]["changes"]
    assert changes["fields"] == {"supplier": [None, "Siemens"], "criticality": ["B", "A"],
                                 "system_owner_id": [None, owner.id]}
    assert c.post(f"/api/v1/imports/{bid}/undo").status_code == 200
    db_session.refresh(system)
    assert (system.supplier, system.criticality.value, system.system_owner_id) == (None, "B", None)


def test_undo_is_refused_when_later_changes_depend_on_it(api, make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    sid = make.system(name="Cosmic", supplier="Cambio", org_unit_id=unit.id).id
    c = api(admin)
    bid = upload(c, b"Namn\r\nCambio Cosmic\r\nHelt Nytt System\r\n", org_unit_id=str(unit.id)).get_json()["id"]
    assert c.post(f"/api/v1/imports/{bid}/apply").status_code == 200
    cosmic = c.get(f"/api/v1/systems/{sid}").get_json()
    assert c.patch(f"/api/v1/systems/{sid}", json={"description": "Ändrad", "version": cosmic["version"]}).status_code == 200
    err = assert_error(c.post(f"/api/v1/imports/{bid}/undo"), 409, "conflict")
    assert "Cosmic" in err["message"]
    # the created system gets a record of its own: that too blocks undo
    c.patch(f"/api/v1/systems/{sid}", json={"description": "", "version": cosmic["version"] + 1})
    new = db_session.execute(select(System).where(System.name == "Helt Nytt System")).scalar_one()
    db_session.add(MajorChange(system_id=new.id, description="x", recorded_at=utcnow()))
    db_session.flush()
    err = assert_error(c.post(f"/api/v1/imports/{bid}/undo"), 409)
    assert "Helt Nytt System" in err["message"] and "major_changes" in err["message"]
    assert c.get(f"/api/v1/imports/{bid}").get_json()["status"] == "applied"


def system_state(c, sid) -> dict:
    body = c.get(f"/api/v1/systems/{sid}").get_json()
    return {k: v for k, v in body.items() if k not in ("version", "updated_at", "stage", "etag")}


def test_undo_is_refused_while_a_later_import_uses_what_it_created_and_works_in_reverse_order(api, make, db_session):
    """Batch 1 creates a system; batch 2, from another source, merges a row into it that only adds its own
    external reference (no alias, no field). Undoing batch 1 would delete batch 2's work: refused (409,
    naming batch 2), changing nothing. Undone in reverse order, each restores exactly what it found."""
    admin = make.admin()
    unit = make.org_unit()
    c = api(admin)
    count = db_session.execute(select(func.count(System.id))).scalar_one()
    mapping = json.dumps({"Namn": "name", "sys_id": "external_key"})
    b1 = upload(c, b"Namn;sys_id\r\nHelt Nytt System;cmdb-1\r\n", source="CMDB", mapping=mapping,
                org_unit_id=str(unit.id)).get_json()["id"]
    assert c.post(f"/api/v1/imports/{b1}/apply").status_code == 200
    x = db_session.execute(select(System).where(System.name == "Helt Nytt System")).scalar_one().id
    created = system_state(c, x)
    assert created["external_refs"] == [{"source": "cmdb", "key": "cmdb-1"}]

    b2 = upload(c, b"Namn;sys_id\r\nHelt Nytt System;pf-7\r\n", source="Portfolio", mapping=mapping).get_json()["id"]
    row = c.get(f"/api/v1/imports/{b2}/rows").get_json()["items"][0]
    assert row["suggestion"]["action"] == "merge" and row["suggestion"]["system_id"] == x
    assert c.post(f"/api/v1/imports/{b2}/apply").status_code == 200  # undecided: by its suggestion
    applied = c.get(f"/api/v1/imports/{b2}/rows").get_json()["items"][0]["applied"]
    assert applied["changes"]["aliases_added"] == [] and applied["changes"]["fields"] == {}
    assert applied["changes"]["refs_added"] == [["portfolio", "pf-7"]]
    both = system_state(c, x)
    assert both["external_refs"] == [{"source": "cmdb", "key": "cmdb-1"}, {"source": "portfolio", "key": "pf-7"}]

    err = assert_error(c.post(f"/api/v1/imports/{b1}/undo"), 409, "conflict")
    assert f"import {b2}" in err["message"] or f"import {b2} " in err["message"], err
    assert "Helt Nytt System" in err["message"] and "Portfolio" in err["message"]
    assert any(f"import {b2}" in m for m in err["fields"]["changes"])
    assert c.get(f"/api/v1/imports/{b1}").get_json()["status"] == "applied"
    assert system_state(c, x) == both  # nothing changed

    assert c.post(f"/api/v1/imports/{b2}/undo").status_code == 200
    assert system_state(c, x) == created  # batch 2's reference gone, the rest as batch 1 left it
    assert db_session.execute(select(ExternalRef.key).where(ExternalRef.key == "pf-7")).all() == []
    resp = c.post(f"/api/v1/imports/{b1}/undo")
    assert resp.status_code == 200 and resp.get_json()["status"] == "undone", resp.get_json()
    assert db_session.execute(select(func.count(System.id))).scalar_one() == count
    assert db_session.get(System, x) is None
    assert db_session.execute(select(ExternalRef.key).where(ExternalRef.key.in_(["pf-7", "cmdb-1"]))).all() == []
    # the reference batch 2 added and removed is in the system's audit trail, as the create and the delete
    events = c.get(f"/api/v1/audit?entity=system&entity_id={x}&per_page=100").get_json()["items"]
    assert [e["action"] for e in reversed(events)] == ["create", "update", "update", "delete"]
    assert events[-1]["after"]["external_refs"] == ["cmdb:cmdb-1"]
    assert events[-2]["after"]["external_refs"] == ["cmdb:cmdb-1", "portfolio:pf-7"]
    assert events[-3]["after"]["external_refs"] == ["cmdb:cmdb-1"]


def test_a_row_without_a_name_is_skipped_not_created(api, make, db_session):
    admin = make.admin()
    c = api(admin)
    count = db_session.execute(select(func.count(System.id))).scalar_one()
    bid = upload(c, "Namn;Leverantör\r\n;Cambio\r\n?;Sectra\r\nNytt System;Ny\r\n".encode()).get_json()["id"]
    rows = {r["values"]["Namn"]: r for r in c.get(f"/api/v1/imports/{bid}/rows").get_json()["items"]}
    for name in ("", "?"):
        assert rows[name]["suggestion"] == {"action": "skip", "confidence": "uncertain"}, rows[name]
    assert rows["Nytt System"]["suggestion"]["action"] == "create"
    assert c.post(f"/api/v1/imports/{bid}/accept-confident").get_json() == {"accepted": 1}  # not the nameless
    # decided "create" anyway: the name and the org unit (the batch has none) are separate problems
    c.post(f"/api/v1/imports/{bid}/decisions", json=[{"row_id": rows[""]["row_id"], "action": "create"}])
    err = assert_error(c.post(f"/api/v1/imports/{bid}/apply"), 422)
    assert set(err["fields"]) == {"name", "org_unit_id"}, err
    assert err["fields"]["name"][0].startswith("Rad 2 saknar namn"), err  # one row: the singular
    assert err["fields"]["org_unit_id"][0].startswith("Raderna 2, 4 skulle skapa"), err
    assert db_session.execute(select(func.count(System.id))).scalar_one() == count


def test_a_confirmed_merge_is_remembered_and_the_next_list_matches_on_the_alias(api, make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    sid = make.system(name="Cosmic", supplier="Cambio", org_unit_id=unit.id).id
    c = api(admin)
    bid = upload(c, "Namn\r\nJournalsystemet Öst\r\n".encode()).get_json()["id"]
    row = c.get(f"/api/v1/imports/{bid}/rows").get_json()["items"][0]
    assert row["suggestion"]["action"] == "create" and row["candidates"] == []  # nothing in the name says Cosmic
    c.post(f"/api/v1/imports/{bid}/decisions", json=[{"row_id": row["row_id"], "action": "merge", "system_id": sid}])
    assert c.post(f"/api/v1/imports/{bid}/apply").status_code == 200
    assert c.get(f"/api/v1/systems/{sid}").get_json()["aliases"] == ["Journalsystemet Öst"]
    # the next list, from another source, in other case and with the Ö lost to the encoding
    for name in ("Journalsystemet Öst", "JOURNALSYSTEMET ÖST", "Journalsystemet Ã–st"):
        nxt = upload(c, f"Namn\r\n{name}\r\n".encode(), source="portfolio").get_json()["id"]
        row = c.get(f"/api/v1/imports/{nxt}/rows").get_json()["items"][0]
        best = row["candidates"][0]
        assert (best["system_id"], best["score"], best["field"], best["reason"], best["matched"]) == (
            sid, 100.0, "alias", "exact", "Journalsystemet Öst"), row
        assert row["suggestion"] == {"action": "merge", "system_id": sid, "confidence": "confident", "score": 100.0}


def test_external_reference_matches_first_and_mapping_is_remembered(api, make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    c = api(admin)
    mapping = json.dumps({"Applikation": "name", "CI": "external_key"})
    bid = upload(c, b"Applikation;CI\r\nAlfa Beta\r\n", mapping=mapping, org_unit_id=str(unit.id)).get_json()["id"]
    assert c.post(f"/api/v1/imports/{bid}/apply").status_code == 200
    assert db_session.execute(select(ImportMapping.mapping).where(ImportMapping.source == "servicenow")).scalar_one() == {
        "Applikation": "name", "CI": "external_key"}
    # the next list from the same source maps itself; its rows carry the key but another name
    resp = upload(c, b"Applikation;CI\r\nAlfa Beta\r\nGamma\r\n".replace(b"Alfa Beta\r\n", b"Zeta;\r\n"))
    assert resp.status_code == 201 and resp.get_json()["mapping"] == {"Applikation": "name", "CI": "external_key"}
    resp = upload(c, b"Applikation;CI\r\nHeltAnnat;\r\n")
    rows = c.get(f"/api/v1/imports/{bid}/rows").get_json()["items"]
    assert rows[0]["applied"]["action"] == "create"
    created_id = rows[0]["applied"]["system_id"]
    ref = db_session.execute(select(ExternalRef).where(ExternalRef.system_id == created_id)).scalar_one_or_none()
    assert ref is None  # no key in that row
    bid2 = upload(c, b"Applikation;CI\r\nSomething else entirely;k-1\r\n").get_json()["id"]
    db_session.add(ExternalRef(system_id=created_id, source="servicenow", key="k-1"))
    db_session.flush()
    c.patch(f"/api/v1/imports/{bid2}", json={})
    row = c.get(f"/api/v1/imports/{bid2}/rows").get_json()["items"][0]
    assert row["suggestion"] == {"action": "merge", "system_id": created_id, "confidence": "confident", "score": 100.0}
    assert row["candidates"][0]["reason"] == "external_ref"


@pytest.mark.parametrize("name, content, status", [
    ("empty.csv", b"", 422), ("garbage.csv", bytes(range(256)) * 16, 415), ("prog.exe", b"MZ\x90\x00" * 100, 415),
    ("bad.xlsx", b"PK\x03\x04notreallyazip", 422), ("header.csv", b"Namn;Leverantor\r\n", 422),
    ("noname.csv", b"Foo;Bar\r\n1;2\r\n", 422),
])
def test_bad_files_leave_nothing_behind(api, make, db_session, name, content, status):
    c = api(make.admin())
    err = assert_error(upload(c, content, name), status)
    assert err["message"]
    assert db_session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0
    assert db_session.execute(select(func.count(ImportRow.id))).scalar_one() == 0


@pytest.mark.parametrize("kind, status, code", [
    ("encrypted", 422, "encrypted_xlsx"), ("bomb by size", 413, "zip_bomb"), ("bomb by ratio", 413, "zip_bomb"),
])
def test_protected_workbooks_and_zip_bombs_leave_nothing_behind(api, make, app, db_session, monkeypatch,
                                                                 kind, status, code):
    from tests.test_import_reading import bomb, encrypted_xlsx

    if kind == "bomb by size":  # a limit small enough for a test, and a ratio the bomb stays within
        monkeypatch.setitem(app.config, "IMPORT_XLSX_MAX_UNCOMPRESSED", 1_000_000)
        monkeypatch.setitem(app.config, "IMPORT_XLSX_MAX_RATIO", 10_000)
    content = encrypted_xlsx() if kind == "encrypted" else bomb(2_000_000)
    c = api(make.admin())
    audit_before = db_session.execute(select(func.count(AuditEvent.id))).scalar_one()
    err = assert_error(upload(c, content, "lista.xlsx"), status, code)
    assert err["message"]
    assert db_session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0
    assert db_session.execute(select(func.count(ImportRow.id))).scalar_one() == 0
    assert db_session.execute(select(func.count(ImportMapping.id))).scalar_one() == 0
    assert db_session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.id > audit_before, AuditEvent.entity == "import_batch")).scalar_one() == 0


def test_too_many_rows_and_too_large_uploads_are_413(api, make, app, db_session):
    c = api(make.admin())
    rows = b"Namn\r\n" + b"".join(b"S%d\r\n" % i for i in range(app.config["IMPORT_MAX_ROWS"] + 1))
    assert_error(upload(c, rows), 413, "too_many_rows")
    assert_error(upload(c, b"Namn\r\n" + b"x" * app.config["IMPORT_MAX_BYTES"]), 413)
    big = b"Namn\r\n" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    assert_error(upload(c, big), 413, "too_large")
    assert db_session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0


def test_bad_input_answers_with_fields(api, make):
    c = api(make.admin())
    assert "mapping" in assert_error(upload(c, b"Namn\r\nA\r\n", mapping="{nope"), 422)["fields"]
    assert "mapping" in assert_error(upload(c, b"Namn\r\nA\r\n", mapping='{"Nope": "name"}'), 422)["fields"]
    assert "org_unit_id" in assert_error(upload(c, b"Namn\r\nA\r\n", org_unit_id="999999"), 422)["fields"]
    assert "file" in assert_error(c.post("/api/v1/imports", data={"source": "x"}, content_type="multipart/form-data"),
                                  422)["fields"]
    assert_error(c.post("/api/v1/imports", json={"source": "x"}), 400)
    bid = upload(c, b"Namn\r\nA\r\n").get_json()["id"]
    assert_error(c.post(f"/api/v1/imports/{bid}/decisions", json=[{"row_id": 1, "action": "explode"}]), 422)
    assert_error(c.post(f"/api/v1/imports/{bid}/decisions", json=[{"row_id": 999999, "action": "skip"}]), 422)
    assert_error(c.post(f"/api/v1/imports/{bid}/decisions", json=[{"row_id": 1, "action": "merge"}]), 422)
    assert_error(c.post(f"/api/v1/imports/{bid}/decisions", json={"row_id": 1}), 400)
    assert_error(c.get(f"/api/v1/imports/{bid}/rows?filter=nope"), 422)
    assert_error(c.get("/api/v1/imports/999999"), 404)
    assert_error(c.post(f"/api/v1/imports/{bid}/undo"), 409)


def test_only_admins_import(api, make):
    admin, owner = make.admin(), make.user("system_owner")
    bid = upload(api(admin), b"Namn\r\nA\r\n").get_json()["id"]
    o = api(owner)
    for role in ("system_owner", "risk_owner", "ciso", "dpo", "auditor"):
        u = make.user(role)
        assert_error(upload(api(u), b"Namn\r\nA\r\n"), 403)
    for method, path in (("GET", "/api/v1/imports"), ("GET", f"/api/v1/imports/{bid}"),
                         ("GET", f"/api/v1/imports/{bid}/rows"), ("POST", f"/api/v1/imports/{bid}/apply"),
                         ("POST", f"/api/v1/imports/{bid}/undo"), ("POST", f"/api/v1/imports/{bid}/accept-confident"),
                         ("PATCH", f"/api/v1/imports/{bid}"), ("GET", "/api/v1/imports/settings"),
                         ("PUT", "/api/v1/imports/settings")):
        resp = o.request(method, path, json=[] if path.endswith("decisions") else {})
        assert_error(resp, 403)
    assert_error(o.post(f"/api/v1/imports/{bid}/decisions", json=[]), 403)


def test_thresholds_are_readable_and_configurable(api, make):
    c = api(make.admin())
    th = c.get("/api/v1/imports/settings").get_json()
    assert th == {"merge": 90.0, "confident": 96.0, "review": 70.0, "duplicate": 90.0, "margin": 3.0}
    resp = c.request("PUT", "/api/v1/imports/settings", json={"merge": 95})
    assert resp.status_code == 200 and resp.get_json()["merge"] == 95.0
    assert_error(c.request("PUT", "/api/v1/imports/settings", json={"merge": 101}), 422)
    assert_error(c.request("PUT", "/api/v1/imports/settings", json={"confident": 50}), 422)


def test_accept_confident_and_remap(api, make, db_session):
    admin = make.admin()
    unit = make.org_unit()
    make.system(name="Cosmic", supplier="Cambio", org_unit_id=unit.id)
    c = api(admin)
    bid = upload(c, "Namn;Övrigt\r\nCOSMIC (Cambio);x\r\nCosmic journal;y\r\n".encode()).get_json()["id"]
    assert c.post(f"/api/v1/imports/{bid}/accept-confident").get_json() == {"accepted": 1}
    rows = c.get(f"/api/v1/imports/{bid}/rows?filter=decided").get_json()
    assert rows["total"] == 1 and rows["items"][0]["decision"]["action"] == "merge"
    resp = c.patch(f"/api/v1/imports/{bid}", json={"mapping": {"Övrigt": "name"}, "delimiter": ";"})
    assert resp.status_code == 200 and resp.get_json()["mapping"] == {"Övrigt": "name"}
    assert c.get(f"/api/v1/imports/{bid}/rows?filter=decided").get_json()["total"] == 0
    assert_error(c.patch(f"/api/v1/imports/{bid}", json={"mapping": {"Övrigt": "supplier"}}), 422)


def test_large_batches_work_in_the_background(api, make, app, db_session, monkeypatch):
    from riskreg.imports import jobs
    from riskreg.services import imports as service

    started = []
    monkeypatch.setattr(jobs, "run_in_background", lambda kind, bid, uid: started.append((kind, bid, uid)))
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 1)
    monkeypatch.setitem(app.config, "IMPORT_INLINE_APPLY_ROWS", 1)
    admin = make.admin()
    unit = make.org_unit()
    c = api(admin)
    resp = upload(c, b"Namn\r\nAlfa\r\nBeta\r\nAlfa\r\n", org_unit_id=str(unit.id))
    assert resp.status_code == 201 and resp.get_json()["status"] == "matching"
    bid = resp.get_json()["id"]
    assert started == [("match", bid, admin.id)]
    beats = []
    service.run_job(db_session, "match", bid, admin.id, lambda done, total, **kw: beats.append((done, total)))
    assert beats[-1] == (3, 3)
    meta = c.get(f"/api/v1/imports/{bid}").get_json()
    assert meta["status"] == "ready" and meta["progress"] == {"done": 3, "total": 3}
    resp = c.post(f"/api/v1/imports/{bid}/apply")
    assert resp.status_code == 202 and resp.get_json()["status"] == "applying"
    assert_error(c.post(f"/api/v1/imports/{bid}/apply"), 409)
    service.run_job(db_session, "apply", bid, admin.id, lambda *a, **k: None)
    assert c.get(f"/api/v1/imports/{bid}").get_json()["status"] == "applied"
    assert db_session.execute(select(func.count(System.id)).where(System.name.in_(["Alfa", "Beta"]))).scalar_one() == 2
    resp = c.post(f"/api/v1/imports/{bid}/undo")
    assert resp.status_code == 202 and resp.get_json()["status"] == "undoing"
    service.run_job(db_session, "undo", bid, admin.id, lambda *a, **k: None)
    assert c.get(f"/api/v1/imports/{bid}").get_json()["status"] == "undone"


def test_a_batch_whose_worker_died_is_recovered(api, make, app, db_session, monkeypatch):
    from riskreg.imports import jobs

    started = []
    monkeypatch.setattr(jobs, "run_in_background", lambda kind, bid, uid: started.append((kind, bid)))
    c = api(make.admin())
    bid = upload(c, b"Namn\r\nAlfa\r\n").get_json()["id"]
    batch = db_session.get(ImportBatch, bid)
    old = utcnow() - timedelta(seconds=app.config.get("IMPORT_STALE_SECONDS", 120) + 5)
    batch.status, batch.heartbeat_at = ImportStatus.APPLYING, old
    db_session.flush()
    meta = c.get(f"/api/v1/imports/{bid}").get_json()
    assert meta["status"] == "ready" and ("interrupted" in meta["error"] or "avbröts" in meta["error"])
    batch = db_session.get(ImportBatch, bid)
    db_session.refresh(batch)
    batch.status, batch.heartbeat_at = ImportStatus.MATCHING, old
    db_session.flush()
    assert c.get(f"/api/v1/imports/{bid}").get_json()["status"] == "matching"
    assert started == [("match", bid)]  # picked up again by whoever asked
    batch.heartbeat_at = utcnow()
    db_session.flush()
    started.clear()
    c.get(f"/api/v1/imports/{bid}")
    assert started == []  # a live worker is left alone


def test_xlsx_upload_with_sheet(api, make):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Info"
    wb.active.append(["Det här bladet är ingen lista"])
    ws = wb.create_sheet("System")
    ws.append(["Systemnamn", "Leverantör"])
    ws.append(["Cosmic", "Cambio"])
    buf = io.BytesIO()
    wb.save(buf)
    c = api(make.admin())
    assert_error(upload(c, buf.getvalue(), "lista.xlsx"), 422)  # the first sheet has no name column
    resp = upload(c, buf.getvalue(), "lista.xlsx", sheet="System")
    assert resp.status_code == 201
    assert (resp.get_json()["file_kind"], resp.get_json()["sheet"]) == ("xlsx", "System")


def test_a_heartbeat_on_sqlite_gives_up_at_once_and_leaves_the_connection_as_it_was(api, make, app, db_session):
    """Waiting for a lock (often the work's own transaction's) would hold SQLite's pending lock and keep
    every page asking for progress out; PostgreSQL is left as it is. Here the test's own transaction holds
    SQLite's write lock, as the work's does."""
    import time

    from sqlalchemy import event

    from riskreg.extensions import db
    from riskreg.imports import jobs

    bid = upload(api(make.admin()), b"Namn\r\nAlfa\r\n").get_json()["id"]
    seen: list[str] = []
    returned: list = []
    listen = lambda conn, cursor, statement, *a: seen.append(statement)  # noqa: E731
    checkin = lambda dbapi_conn, record: returned.append(dbapi_conn)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    event.listen(db.engine, "checkin", checkin)
    started = time.monotonic()
    try:
        jobs.Heartbeat(db.engine, bid)(1, 2, force=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
        event.remove(db.engine, "checkin", checkin)
    assert time.monotonic() - started < 2  # the busy timeout is 10 s: it did not wait for the lock
    if app.config["BACKEND"] == "sqlite":
        assert seen == ["BEGIN IMMEDIATE"]  # refused the lock at once, wrote nothing
        (used,) = returned  # the heartbeat's connection, back in the pool, waits for locks again
        assert used.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    else:
        assert any(s.startswith("UPDATE import_batches") for s in seen)
