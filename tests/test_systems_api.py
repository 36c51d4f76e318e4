"""The register through the JSON API (API.md): me, org units, systems."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error


def test_me_answers_with_roles(api, make):
    user = make.user("ciso", "auditor", name="Cissi")
    resp = api(user).get("/api/v1/me")
    assert resp.status_code == 200
    assert resp.get_json() == {"id": user.id, "email": user.email, "name": "Cissi", "roles": ["auditor", "ciso"],
                               "org_unit_id": None}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_bad_or_missing_token_is_401(client, header):
    resp = client.get("/api/v1/systems", headers={"Authorization": header} if header else {})
    assert_error(resp, 401, "unauthenticated")


def test_revoked_token_is_401(api, make, db_session):
    from riskreg.actor import SYSTEM_ACTOR
    from riskreg.models import ApiToken
    from riskreg.services import accounts

    user = make.user("ciso")
    c = api(user)
    assert c.get("/api/v1/me").status_code == 200
    token = db_session.query(ApiToken).filter_by(user_id=user.id).one()
    accounts.revoke_token(db_session, SYSTEM_ACTOR.__class__(user), token.id)
    db_session.flush()
    assert_error(c.get("/api/v1/me"), 401)


def test_create_get_patch_system(api, make):
    admin, owner, risk = make.admin(), make.user("system_owner"), make.user("risk_owner")
    unit = make.org_unit("Förvaltning Test")
    body = {"name": "Cosmic", "org_unit_id": unit.id, "criticality": "A", "system_owner_id": owner.id,
            "risk_owner_id": risk.id, "aliases": ["COSMIC (Cambio)"],
            "external_refs": [{"source": "servicenow", "key": "abc123"}], "priority_list": True}
    resp = api(admin).post("/api/v1/systems", json=body)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["stage"] == "not_started" and created["version"] == 1
    assert created["aliases"] == ["COSMIC (Cambio)"]
    assert created["external_refs"] == [{"source": "servicenow", "key": "abc123"}]
    sid = created["id"]
    c_owner = api(owner)
    got = c_owner.get(f"/api/v1/systems/{sid}").get_json()
    assert got["name"] == "Cosmic" and got["org_unit"] == "Förvaltning Test"
    resp = c_owner.patch(f"/api/v1/systems/{sid}", json={"description": "Journal", "version": got["version"]})
    assert resp.status_code == 200 and resp.get_json()["description"] == "Journal"
    assert resp.get_json()["version"] == got["version"] + 1
    stale = c_owner.patch(f"/api/v1/systems/{sid}", json={"description": "Again", "version": got["version"]})
    assert_error(stale, 409, "conflict")
    assert c_owner.get(f"/api/v1/systems/{sid}").get_json()["description"] == "Journal"


def test_owner_cannot_reassign_owner_nor_edit_others(api, make):
    owner, other = make.user("system_owner"), make.user("system_owner")
    system = make.system(system_owner=owner)
    resp = api(owner).patch(f"/api/v1/systems/{system.id}", json={"system_owner_id": other.id, "version": 1})
    assert_error(resp, 403)
    resp = api(other).patch(f"/api/v1/systems/{system.id}", json={"description": "x", "version": 1})
    assert_error(resp, 403)
    resp = api(make.user("auditor")).patch(f"/api/v1/systems/{system.id}", json={"description": "x", "version": 1})
    assert_error(resp, 403)


@pytest.mark.parametrize("body,field", [
    ({"name": "", "org_unit_id": 1}, "name"),
    ({"name": "X"}, "org_unit_id"),
    ({"name": "X", "org_unit_id": "1"}, "org_unit_id"),
    ({"name": "X" * 201, "org_unit_id": 1}, "name"),
    ({"name": "X", "org_unit_id": 1, "criticality": "Z"}, "criticality"),
    ({"name": "X", "org_unit_id": 1, "priority_list": "yes"}, "priority_list"),
    ({"name": "X", "org_unit_id": 1, "aliases": "Cosmic"}, "aliases"),
    ({"name": "X", "org_unit_id": 99999999}, "org_unit_id"),
])
def test_invalid_system_is_422_with_fields(api, make, body, field):
    err = assert_error(api(make.admin()).post("/api/v1/systems", json=body), 422)
    assert field in err["fields"], err


@pytest.mark.parametrize("raw", [b"{not json", b"[1,2]", b"\xff\xfe", b'"text"'])
def test_malformed_json_is_400(api, make, raw):
    resp = api(make.admin()).post("/api/v1/systems", data=raw, headers={"Content-Type": "application/json"})
    assert_error(resp, 400, "bad_request")


def test_unknown_system_is_404(api, make):
    c = api(make.user("ciso"))
    assert_error(c.get("/api/v1/systems/987654"), 404, "not_found")
    assert_error(c.get("/api/v1/systems/abc"), 404)


def test_list_paging_filters_and_fuzzy_search(api, make):
    unit = make.org_unit()
    owner = make.user("system_owner")
    for name in ("Cosmic", "Sectra PACS", "Heroma", "Raindance", "Melior"):
        make.system(name=name, org_unit_id=unit.id, criticality="A" if name == "Cosmic" else "C",
                    system_owner=owner if name != "Melior" else None, priority_list=name == "Cosmic")
    c = api(make.user("auditor"))
    page = c.get(f"/api/v1/systems?org_unit_id={unit.id}&per_page=2&page=2").get_json()
    assert page["total"] == 5 and page["page"] == 2 and page["per_page"] == 2 and len(page["items"]) == 2
    assert [s["name"] for s in c.get(f"/api/v1/systems?org_unit_id={unit.id}&criticality=A").get_json()["items"]] == ["Cosmic"]
    assert c.get(f"/api/v1/systems?org_unit_id={unit.id}&owner_id={owner.id}").get_json()["total"] == 4
    assert c.get(f"/api/v1/systems?org_unit_id={unit.id}&priority_list=true").get_json()["total"] == 1
    assert c.get(f"/api/v1/systems?org_unit_id={unit.id}&stage=not_started").get_json()["total"] == 5
    assert c.get(f"/api/v1/systems?org_unit_id={unit.id}&stage=approved").get_json()["total"] == 0
    found = c.get("/api/v1/systems?q=cosmik").get_json()["items"]
    assert found and found[0]["name"] == "Cosmic"
    assert c.get("/api/v1/systems?q=pacs").get_json()["items"][0]["name"] == "Sectra PACS"
    capped = c.get("/api/v1/systems?per_page=100000").get_json()
    assert capped["per_page"] == 500
    assert_error(c.get("/api/v1/systems?page=0"), 422)
    assert_error(c.get("/api/v1/systems?stage=bogus"), 422)


def test_search_finds_aliases(api, make):
    make.system(name="Nationell patientöversikt", aliases=["NPÖ"])
    items = api(make.user("auditor")).get("/api/v1/systems?q=npo").get_json()["items"]
    assert items and items[0]["name"] == "Nationell patientöversikt"


def test_org_units(api, make):
    admin = make.admin()
    resp = api(admin).post("/api/v1/org-units", json={"name": "Hälso- och sjukvårdsförvaltningen"})
    assert resp.status_code == 201
    unit = resp.get_json()
    assert_error(api(admin).post("/api/v1/org-units", json={"name": unit["name"]}), 409)
    assert_error(api(make.user("ciso")).post("/api/v1/org-units", json={"name": "X"}), 403)
    listed = api(make.user("ciso")).get("/api/v1/org-units?per_page=500").get_json()
    assert unit in listed["items"]


def test_major_change_is_recorded(api, make):
    owner = make.user("system_owner")
    system = make.system(system_owner=owner)
    resp = api(owner).post(f"/api/v1/systems/{system.id}/major-change", json={"description": "Ny molnplattform"})
    assert resp.status_code == 200 and resp.get_json()["major_change_at"]
    assert_error(api(owner).post(f"/api/v1/systems/{system.id}/major-change", json={}), 422)


def test_changes_are_audited(api, make, db_session):
    from riskreg.models import AuditEvent

    owner = make.user("system_owner")
    system = make.system(system_owner=owner)
    api(owner).patch(f"/api/v1/systems/{system.id}", json={"description": "Ändrad", "version": 1})
    events = db_session.query(AuditEvent).filter_by(entity="system", entity_id=system.id).order_by(AuditEvent.id).all()
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].after == {"description": "Ändrad"} and events[1].user_id == owner.id
