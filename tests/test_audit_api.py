"""The audit trail through the API (API.md `GET /api/v1/audit`): filters, paging, roles, JSON Lines."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from riskreg import audit
from riskreg.services import systems
from tests.conftest import NOW, actor, assert_error

FIELDS = {"id", "at", "user_id", "entity", "entity_id", "action", "before", "after", "client_address", "request_id"}


def _changed_system(make, db_session):
    owner = make.user("system_owner")
    system = make.system(system_owner=owner, name="Cosmic")
    systems.update(db_session, actor(owner), system.id, {"description": "Journal <b>ändrad</b>"}, version=1)
    db_session.flush()
    return owner, system


def test_filter_by_record_shows_creation_and_change(api, make, db_session):
    owner, system = _changed_system(make, db_session)
    resp = api(make.user("auditor")).get(f"/api/v1/audit?entity=system&entity_id={system.id}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 50
    update, create = body["items"]  # newest first
    assert set(update) == FIELDS
    assert (create["action"], update["action"]) == ("create", "update")
    assert update["user_id"] == owner.id and update["entity"] == "system" and update["entity_id"] == system.id
    assert update["after"] == {"description": "Journal <b>ändrad</b>"}
    assert update["before"] == {"description": ""} or update["before"]["description"] in ("", None)
    assert update["client_address"] == "127.0.0.1" and update["request_id"] == "test"
    assert create["at"].startswith(NOW.date().isoformat())


@pytest.mark.parametrize("role,status", [("ciso", 200), ("auditor", 200), ("admin", 200), ("system_owner", 403),
                                         ("risk_owner", 403), ("dpo", 403)])
def test_who_reads_the_trail(api, make, role, status):
    c = api(make.user(role))
    assert c.get("/api/v1/audit").status_code == status
    assert c.get("/api/v1/audit?format=jsonl").status_code == status
    # permission before input: a bad filter still answers 403 to a user who may not read
    assert c.get("/api/v1/audit?since=nonsense").status_code == (422 if status == 200 else 403)


def test_no_token_is_401(client):
    assert_error(client.get("/api/v1/audit"), 401, "unauthenticated")


@pytest.mark.parametrize("query,field", [
    ("since=yesterday", "since"), ("until=2026-13-01", "until"), ("entity_id=abc", "entity_id"),
    ("entity_id=0", "entity_id"), ("user_id=-3", "user_id"), ("entity=" + "x" * 51, "entity"),
    ("format=xml", "format"), ("per_page=0", "per_page"), ("page=x", "page"), ("after_id=-1", "after_id"),
    ("since=" + "9" * 60, "since"),
])
def test_bad_filters_are_422_naming_the_field(api, make, query, field):
    err = assert_error(api(make.user("auditor")).get(f"/api/v1/audit?{query}"), 422, "invalid")
    assert field in err["fields"], err


def test_time_window_user_and_action_filters(api, make, db_session):
    ciso, other = make.user("ciso"), make.user("auditor")
    for days, who, action in ((10, ciso, "a_old"), (5, other, "a_mid"), (1, ciso, "a_new")):
        audit.record(db_session, actor(who, NOW - timedelta(days=days)), "probe", 7, action)
    db_session.flush()
    c = api(ciso)

    def actions(q):
        resp = c.get(f"/api/v1/audit?entity=probe&{q}")
        assert resp.status_code == 200, resp.get_json()
        return [e["action"] for e in resp.get_json()["items"]]

    assert actions("") == ["a_new", "a_mid", "a_old"]
    since = (NOW - timedelta(days=6)).date().isoformat()
    until = (NOW - timedelta(days=5)).date().isoformat()
    assert actions(f"since={since}") == ["a_new", "a_mid"]
    assert actions(f"since={since}&until={until}") == ["a_mid"]  # a date-only until includes that day
    assert actions(f"until={(NOW - timedelta(days=5, hours=1)).isoformat().replace('+00:00', 'Z')}") == ["a_old"]
    assert actions(f"user_id={ciso.id}") == ["a_new", "a_old"]
    assert actions("action=a_mid") == ["a_mid"]
    assert actions("entity_id=8") == []
    first = c.get("/api/v1/audit?entity=probe&per_page=2&page=2").get_json()
    assert first["total"] == 3 and [e["action"] for e in first["items"]] == ["a_old"]


def test_jsonl_streams_every_match_oldest_first_and_records_the_export(api, make, db_session):
    owner, system = _changed_system(make, db_session)
    auditor = make.user("auditor")
    resp = api(auditor).get(f"/api/v1/audit?format=jsonl&entity=system&entity_id={system.id}&per_page=1")
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-ndjson"
    lines = resp.get_data(as_text=True).splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["action"] for e in events] == ["create", "update"]  # no paging, oldest first
    assert all(set(e) == FIELDS for e in events)
    assert "Journal <b>ändrad</b>" in lines[1]  # UTF-8, not \\u escapes
    exported = api(auditor).get(f"/api/v1/audit?entity=audit_event&action=export&user_id={auditor.id}").get_json()
    assert exported["total"] == 1
    assert exported["items"][0]["after"]["filter"] == {"entity": "system", "entity_id": system.id}


def test_after_id_lets_a_siem_poll_for_new_events(api, make, db_session):
    _owner, system = _changed_system(make, db_session)
    c = api(make.user("auditor"))
    everything = c.get(f"/api/v1/audit?entity=system&entity_id={system.id}").get_json()["items"]
    newest = everything[0]["id"]
    resp = c.get(f"/api/v1/audit?format=jsonl&entity=system&after_id={everything[1]['id']}")
    assert [json.loads(x)["id"] for x in resp.get_data(as_text=True).splitlines()] == [newest]


def test_stream_reads_by_keyset_in_batches(app, make, db_session):
    from riskreg.services import audit_log

    for i in range(7):
        audit.record(db_session, actor(None), "probe_stream", i, "create")
    db_session.flush()
    batches = list(audit_log.stream(db_session, audit_log.AuditFilter(entity="probe_stream"), batch=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [e.entity_id for b in batches for e in b] == list(range(7))


def test_nobody_deletes_or_changes_the_trail_through_the_api(api, make):
    c = api(make.admin())
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        resp = c.request(method, "/api/v1/audit", json={})
        assert resp.status_code == 405, (method, resp.status_code)
        assert_error(resp, 405)
