"""Imports through the JSON API and the service, on SQLite and PostgreSQL: upload, mapping, matching, decisions,
apply, undo, refusals, background work."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from riskreg.models import ExternalRef, ImportBatch, ImportMapping, ImportRow, MajorChange, System
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
    assert set(rows_by_name(c, batch["id"], "duplicates")) == {"HEROMA lön"}
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
    actions = [e["action"] for e in c.get(f"/api/v1/audit?entity=import_batch&entity_id={batch['id']}")
               .get_json()["items"]] if c.get("/api/v1/audit").status_code == 200 else []
    if actions:
        assert {"create", "decide", "apply", "undo"} <= set(actions)


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
