"""The audit page for auditors, the CISO and admins: same filters as the API, escaped output, export."""

from __future__ import annotations

import json

import pytest

from riskreg.services import systems
from tests.conftest import PASSWORD, actor


def login(client, user):
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/audit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("role,status", [("auditor", 200), ("ciso", 200), ("admin", 200), ("system_owner", 403),
                                         ("risk_owner", 403), ("dpo", 403)])
def test_who_sees_the_page(client, make, role, status):
    login(client, make.user(role))
    assert client.get("/audit").status_code == status
    assert client.get("/audit/export.jsonl").status_code == status


def test_page_filters_and_escapes(client, make, db_session):
    owner = make.user("system_owner")
    system = make.system(system_owner=owner, name="<script>alert('x')</script>Cosmic")
    systems.update(db_session, actor(owner), system.id, {"description": "<img src=x onerror=alert(1)>"}, version=1)
    other = make.system(name="Annat system")
    db_session.flush()
    login(client, make.user("auditor"))
    html = client.get(f"/audit?entity=system&entity_id={system.id}").get_data(as_text=True)
    assert "Granskningslogg" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Annat system" not in html  # the other system's events are filtered out
    assert f"?entity=system&amp;entity_id={other.id}" not in html
    assert "2 händelser" in html


def test_bad_filter_is_shown_not_a_crash(client, make):
    login(client, make.user("ciso"))
    resp = client.get("/audit?since=nonsense&entity_id=abc")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Inget giltigt datum." in html and "Ett positivt heltal." in html


def test_export_downloads_json_lines_and_is_recorded(client, make, db_session):
    system = make.system(name="Exporteras")
    auditor = make.user("auditor")
    login(client, auditor)
    resp = client.get(f"/audit/export.jsonl?entity=system&entity_id={system.id}")
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=\"riskreg-audit-")
    events = [json.loads(x) for x in resp.get_data(as_text=True).splitlines()]
    assert [(e["entity"], e["entity_id"], e["action"]) for e in events] == [("system", system.id, "create")]
    html = client.get(f"/audit?action=export&user_id={auditor.id}").get_data(as_text=True)
    assert "1 händelse" in html


def test_events_of_any_shape_render(client, make, db_session):
    from riskreg import audit

    for before, after in (([1, 2], "text"), (None, {"nested": {"a": [1, "<b>"]}}), ({"k": 1}, None)):
        audit.record(db_session, actor(make.admin()), "probe_shape", 1, "update", before, after)
    db_session.flush()
    login(client, make.user("auditor"))
    resp = client.get("/audit?entity=probe_shape")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "3 händelser" in html and "<b>" not in html
