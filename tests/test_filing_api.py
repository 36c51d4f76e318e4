"""The filing area through the JSON API (API.md): every endpoint with its status codes."""

from __future__ import annotations

import tempfile
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from riskreg import create_app
from tests.conftest import BACKENDS, TEST_CONFIG, Factory, actor, assert_error, database_url


@pytest.fixture
def world(make):
    owner, risk_owner = make.user("system_owner"), make.user("risk_owner")
    system = make.system(system_owner=owner, risk_owner=risk_owner, personal_data="yes")
    return {
        "owner": owner,
        "risk_owner": risk_owner,
        "system": system,
        "other": make.user("system_owner"),
        "ciso": make.user("ciso"),
        "dpo": make.user("dpo"),
        "auditor": make.user("auditor"),
        "admin": make.admin(),
        "stranger": make.user("risk_owner"),
    }


def today() -> date:
    return date.today()


def stage(api, user, sid) -> str:
    return api(user).get(f"/api/v1/systems/{sid}").get_json()["stage"]


CLASS = {
    "confidentiality": 2,
    "integrity": 3,
    "availability": 1,
    "motivation": "Patientdata",
    "information_sets": [
        {"name": "Journal", "confidentiality": 3, "integrity": 3, "availability": 2},
        {"name": "Schema", "confidentiality": 1, "integrity": 1, "availability": 3},
    ],
}


def risk_body(**over):
    body = {
        "analysed_on": str(today() - timedelta(days=1)),
        "participants": "Ägare, IT",
        "scope": "Allt",
        "risks": [
            {
                "title": "Obehörig åtkomst",
                "aspect": "K",
                "likelihood": 3,
                "consequence": 4,
                "residual_likelihood": 2,
                "residual_consequence": 4,
                "treatment": "reduce",
                "actions": [{"description": "Inför MFA", "due_on": str(today() - timedelta(days=3))}],
            },
            {"title": "Leverantören går i konkurs", "aspect": "T", "likelihood": 1, "consequence": 3},
        ],
    }
    body.update(over)
    return body


# ------------------------------------------------------------------ classifications


def test_classify_sets_effective_levels_and_stage(api, world):
    sid = world["system"].id
    c = api(world["owner"])
    resp = c.post(f"/api/v1/systems/{sid}/classifications", json=CLASS)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["confidentiality"], body["integrity"], body["availability"]) == (3, 3, 3)
    assert (body["declared_confidentiality"], body["declared_availability"]) == (2, 1)
    assert body["status"] == "final" and body["profile"] == "3-3-3" and body["number"] == 1
    assert [s["name"] for s in body["information_sets"]] == ["Journal", "Schema"]
    assert body["information_sets"][1]["availability"] == 3
    assert stage(api, world["ciso"], sid) == "classified"
    hist = api(world["ciso"]).get(f"/api/v1/systems/{sid}/classifications").get_json()
    assert hist["total"] == 1 and hist["page"] == 1 and hist["items"][0]["confidentiality"] == 3


@pytest.mark.parametrize(
    "body,field",
    [
        ({"confidentiality": 9, "integrity": 1, "availability": 1}, "confidentiality"),
        ({"confidentiality": -1, "integrity": 1, "availability": 1}, "confidentiality"),
        ({"confidentiality": "2", "integrity": 1, "availability": 1}, "confidentiality"),
        ({"integrity": 1, "availability": 1}, "confidentiality"),
        ({"confidentiality": 1, "integrity": 1, "availability": 1, "motivation": "x" * 10001}, "motivation"),
        (
            {"confidentiality": 1, "integrity": 1, "availability": 1, "information_sets": [{"name": ""}]},
            "information_sets.0.name",
        ),
        (
            {
                "confidentiality": 1,
                "integrity": 1,
                "availability": 1,
                "information_sets": [{"name": "A", "confidentiality": 5, "integrity": 1, "availability": 1}],
            },
            "information_sets.0.confidentiality",
        ),
        ({"confidentiality": 1, "integrity": 1, "availability": 1, "draft": "yes"}, "draft"),
        ({"confidentiality": 1, "integrity": 1, "availability": 1, "colour": "red"}, "colour"),
    ],
)
def test_classification_validation(api, world, body, field):
    resp = api(world["owner"]).post(f"/api/v1/systems/{world['system'].id}/classifications", json=body)
    err = assert_error(resp, 422, "invalid")
    assert field in err["fields"], err


def test_classification_permissions(api, world):
    sid = world["system"].id
    ok = {"confidentiality": 1, "integrity": 1, "availability": 1}
    for who in ("other", "ciso", "dpo", "auditor", "risk_owner"):
        assert_error(api(world[who]).post(f"/api/v1/systems/{sid}/classifications", json=ok), 403)
    # permission before validation: a second system owner gets 403 with an invalid body too
    assert_error(
        api(world["other"]).post(f"/api/v1/systems/{sid}/classifications", json={"confidentiality": 9}), 403
    )
    assert api(world["admin"]).post(f"/api/v1/systems/{sid}/classifications", json=ok).status_code == 201
    for who in ("owner", "risk_owner", "ciso", "dpo", "auditor", "admin"):
        assert api(world[who]).get(f"/api/v1/systems/{sid}/classifications").status_code == 200, who
    assert_error(api(world["other"]).get(f"/api/v1/systems/{sid}/classifications"), 403)
    assert_error(api(world["stranger"]).get(f"/api/v1/systems/{sid}/classifications"), 403)
    assert_error(api(world["owner"]).get("/api/v1/systems/999999/classifications"), 404)
    assert_error(api(world["owner"]).post("/api/v1/systems/999999/classifications", json=ok), 404)
    assert_error(api().get(f"/api/v1/systems/{sid}/classifications"), 401)


def test_classification_bad_json_is_400(api, world):
    resp = api(world["owner"]).post(
        f"/api/v1/systems/{world['system'].id}/classifications",
        data="{nope",
        headers={"Content-Type": "application/json"},
    )
    assert_error(resp, 400)


def test_draft_patch_finalise_and_get(api, world):
    sid, c = world["system"].id, api(world["owner"])
    resp = c.post(
        f"/api/v1/systems/{sid}/classifications",
        json={"confidentiality": 1, "integrity": 1, "availability": 1, "draft": True},
    )
    assert resp.status_code == 201
    draft = resp.get_json()
    assert draft["status"] == "draft" and stage(api, world["ciso"], sid) == "not_started"
    cid = draft["id"]
    resp = c.patch(f"/api/v1/classifications/{cid}", json={"confidentiality": 2, "version": draft["version"]})
    assert resp.status_code == 200 and resp.get_json()["confidentiality"] == 2
    newer = resp.get_json()["version"]
    assert newer > draft["version"]
    assert_error(
        c.patch(f"/api/v1/classifications/{cid}", json={"integrity": 4, "version": draft["version"]}), 409
    )
    assert_error(c.patch(f"/api/v1/classifications/{cid}", json={"integrity": 4}), 422)
    assert_error(
        api(world["other"]).patch(f"/api/v1/classifications/{cid}", json={"integrity": 4, "version": newer}),
        403,
    )
    assert_error(api(world["other"]).post(f"/api/v1/classifications/{cid}/finalise"), 403)
    assert_error(c.post(f"/api/v1/classifications/{cid}/finalise", json={"version": draft["version"]}), 409)
    resp = c.post(f"/api/v1/classifications/{cid}/finalise")
    assert resp.status_code == 200 and resp.get_json()["status"] == "final"
    assert stage(api, world["ciso"], sid) == "classified"
    assert_error(c.post(f"/api/v1/classifications/{cid}/finalise"), 422)
    err = assert_error(
        c.patch(f"/api/v1/classifications/{cid}", json={"integrity": 4, "version": newer + 1}), 422
    )
    assert err["code"] == "finalised"
    got = api(world["auditor"]).get(f"/api/v1/classifications/{cid}")
    assert got.status_code == 200 and got.get_json()["integrity"] == 1
    assert_error(api(world["other"]).get(f"/api/v1/classifications/{cid}"), 403)
    assert_error(c.get("/api/v1/classifications/999999"), 404)
    assert_error(c.post("/api/v1/classifications/999999/finalise"), 404)


def test_history_is_newest_first_and_paged(api, world):
    sid, c = world["system"].id, api(world["owner"])
    for level in (1, 2, 3):
        c.post(
            f"/api/v1/systems/{sid}/classifications",
            json={"confidentiality": level, "integrity": 1, "availability": 1},
        )
    page = api(world["ciso"]).get(f"/api/v1/systems/{sid}/classifications?per_page=2&page=1").get_json()
    assert page["total"] == 3 and page["per_page"] == 2
    assert [i["number"] for i in page["items"]] == [3, 2]
    assert_error(api(world["ciso"]).get(f"/api/v1/systems/{sid}/classifications?page=0"), 422)


# ------------------------------------------------------------------ risk analyses


def classify(api, world, **levels):
    body = {"confidentiality": 2, "integrity": 2, "availability": 2, **levels}
    resp = api(world["owner"]).post(f"/api/v1/systems/{world['system'].id}/classifications", json=body)
    assert resp.status_code == 201
    return resp.get_json()


def test_risk_analysis_flow(api, world):
    sid, c = world["system"].id, api(world["owner"])
    cl = classify(api, world)
    resp = c.post(f"/api/v1/systems/{sid}/risk-analyses", json=risk_body())
    assert resp.status_code == 201, resp.get_json()
    ra = resp.get_json()
    assert ra["status"] == "draft" and ra["classification_id"] == cl["id"]
    first = ra["risks"][0]
    assert (first["value"], first["band"], first["residual_value"], first["residual_band"]) == (
        12,
        "high",
        8,
        "high",
    )
    assert ra["risks"][1]["residual_value"] is None and ra["risks"][1]["residual_band"] is None
    assert first["treatment"] == "reduce" and first["actions"][0]["status"] == "planned"
    assert stage(api, world["ciso"], sid) == "classified"
    assert_error(api(world["other"]).post(f"/api/v1/risk-analyses/{ra['id']}/finalise"), 403)
    resp = c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise")
    assert resp.status_code == 200 and resp.get_json()["status"] == "final"
    assert stage(api, world["ciso"], sid) == "risk_analysed"
    err = assert_error(c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise"), 422)
    assert err["code"] == "finalised"
    err = assert_error(c.patch(f"/api/v1/risk-analyses/{ra['id']}", json={"scope": "x", "version": 99}), 422)
    listed = api(world["risk_owner"]).get(f"/api/v1/systems/{sid}/risk-analyses").get_json()
    assert listed["total"] == 1 and listed["items"][0]["risks"][0]["id"] == first["id"]
    assert api(world["dpo"]).get(f"/api/v1/risk-analyses/{ra['id']}").status_code == 200
    assert_error(api(world["other"]).get(f"/api/v1/risk-analyses/{ra['id']}"), 403)
    assert_error(api(world["other"]).get(f"/api/v1/systems/{sid}/risk-analyses"), 403)
    assert_error(c.get("/api/v1/risk-analyses/999999"), 404)


@pytest.mark.parametrize(
    "risk,field",
    [
        ({"title": "x", "aspect": "Q", "likelihood": 2, "consequence": 2}, "risks.0.aspect"),
        ({"title": "x", "aspect": "K", "likelihood": 7, "consequence": 2}, "risks.0.likelihood"),
        ({"title": "x", "aspect": "K", "likelihood": 2, "consequence": 0}, "risks.0.consequence"),
        ({"title": "", "aspect": "K", "likelihood": 2, "consequence": 2}, "risks.0.title"),
        (
            {"title": "x", "aspect": "K", "likelihood": 2, "consequence": 2, "treatment": "ignore"},
            "risks.0.treatment",
        ),
        (
            {"title": "x", "aspect": "K", "likelihood": 2, "consequence": 2, "residual_likelihood": 1},
            "risks.0.residual_consequence",
        ),
        (
            {
                "title": "x",
                "aspect": "K",
                "likelihood": 2,
                "consequence": 2,
                "actions": [{"description": "a", "due_on": "2026-02-30"}],
            },
            "risks.0.actions.0.due_on",
        ),
        (
            {
                "title": "x",
                "aspect": "K",
                "likelihood": 2,
                "consequence": 2,
                "actions": [{"description": "a", "status": "maybe"}],
            },
            "risks.0.actions.0.status",
        ),
        (
            {
                "title": "x",
                "aspect": "K",
                "likelihood": 2,
                "consequence": 2,
                "actions": [{"description": "a", "responsible": "nobody@example.org"}],
            },
            "risks.0.actions.0.responsible",
        ),
        (
            {
                "title": "x",
                "aspect": "K",
                "likelihood": 2,
                "consequence": 2,
                "actions": [{"description": "a", "responsible_id": 999999}],
            },
            "risks.0.actions.0.responsible_id",
        ),
    ],
)
def test_risk_validation(api, world, risk, field):
    classify(api, world)
    resp = api(world["owner"]).post(
        f"/api/v1/systems/{world['system'].id}/risk-analyses",
        json={"analysed_on": "2026-01-10", "risks": [risk]},
    )
    err = assert_error(resp, 422, "invalid")
    assert field in err["fields"], err


def test_risk_analysis_header_validation(api, world):
    sid, c = world["system"].id, api(world["owner"])
    err = assert_error(
        c.post(f"/api/v1/systems/{sid}/risk-analyses", json={"analysed_on": "10/01/2026"}), 422
    )
    assert "analysed_on" in err["fields"]
    err = assert_error(c.post(f"/api/v1/systems/{sid}/risk-analyses", json={"risks": []}), 422)
    assert "analysed_on" in err["fields"]
    err = assert_error(
        c.post(
            f"/api/v1/systems/{sid}/risk-analyses",
            json={"analysed_on": "2026-01-10", "classification_id": 999999},
        ),
        422,
    )
    assert "classification_id" in err["fields"]


def test_responsible_by_email_and_action_follow_up(api, world):
    sid, c = world["system"].id, api(world["owner"])
    classify(api, world)
    body = risk_body()
    body["risks"][0]["actions"][0]["responsible"] = world["owner"].email.upper()
    ra = c.post(f"/api/v1/systems/{sid}/risk-analyses", json=body).get_json()
    action = ra["risks"][0]["actions"][0]
    assert action["responsible_id"] == world["owner"].id
    c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise")
    overdue = api(world["ciso"]).get(f"/api/v1/systems/{sid}/overdue-actions").get_json()
    assert overdue["total"] == 1 and overdue["items"][0]["action_id"] == action["id"]
    assert overdue["items"][0]["days_overdue"] == 3
    assert_error(
        api(world["other"]).patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "done"}), 403
    )
    resp = c.patch(
        f"/api/v1/risk-actions/{action['id']}",
        json={"status": "in_progress", "note": "Påbörjad", "version": action["version"]},
    )
    assert resp.status_code == 200, resp.get_json()
    assert_error(
        c.patch(
            f"/api/v1/risk-actions/{action['id']}", json={"status": "done", "version": action["version"]}
        ),
        409,
    )
    assert_error(c.patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "finished"}), 422)
    resp = c.patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "done"})
    done = resp.get_json()
    assert done["status"] == "done" and done["completed_on"] == str(date.today())
    assert [h["to_status"] for h in done["history"]] == ["in_progress", "done"]
    assert done["history"][0]["note"] == "Påbörjad"
    assert api(world["auditor"]).get(f"/api/v1/risk-actions/{action['id']}").status_code == 200
    assert_error(api(world["other"]).get(f"/api/v1/risk-actions/{action['id']}"), 403)
    assert_error(c.get("/api/v1/risk-actions/999999"), 404)
    assert api(world["ciso"]).get(f"/api/v1/systems/{sid}/overdue-actions").get_json()["total"] == 0
    # the analysis itself stays frozen
    got = api(world["ciso"]).get(f"/api/v1/risk-analyses/{ra['id']}").get_json()
    assert got["status"] == "final" and got["version"] == ra["version"] + 1


def test_patch_draft_with_version_and_new_round(api, world):
    sid, c = world["system"].id, api(world["owner"])
    classify(api, world)
    ra = c.post(f"/api/v1/systems/{sid}/risk-analyses", json=risk_body()).get_json()
    keep = ra["risks"][0]
    resp = c.patch(
        f"/api/v1/risk-analyses/{ra['id']}",
        json={
            "version": ra["version"],
            "scope": "Ny avgränsning",
            "risks": [
                {"id": keep["id"], "title": "Ändrad", "aspect": "K", "likelihood": 1, "consequence": 1}
            ],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    patched = resp.get_json()
    assert patched["scope"] == "Ny avgränsning" and [r["id"] for r in patched["risks"]] == [keep["id"]]
    assert_error(
        c.patch(f"/api/v1/risk-analyses/{ra['id']}", json={"scope": "x", "version": ra["version"]}), 409
    )
    assert_error(
        api(world["other"]).patch(
            f"/api/v1/risk-analyses/{ra['id']}", json={"scope": "x", "version": patched["version"]}
        ),
        403,
    )
    error = assert_error(c.post(f"/api/v1/systems/{sid}/risk-analyses/new-round"), 422, "draft_exists")
    assert error["message"].startswith("Riskanalysen version 1 från ")  # the open draft, by its version
    assert error["fields"]["status"] == ["Det finns ett utkast: version 1."]
    c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise")
    resp = c.post(f"/api/v1/systems/{sid}/risk-analyses/new-round")
    assert resp.status_code == 201
    copy = resp.get_json()
    assert copy["status"] == "draft" and copy["number"] == 2 and copy["risks"][0]["title"] == "Ändrad"
    assert copy["risks"][0]["id"] != keep["id"] and copy["copied_from_id"] == ra["id"]
    assert_error(api(world["other"]).post(f"/api/v1/systems/{sid}/risk-analyses/new-round"), 403)


def test_finalise_needs_a_risk_and_a_classification(api, world):
    sid, c = world["system"].id, api(world["owner"])
    ra = c.post(f"/api/v1/systems/{sid}/risk-analyses", json={"analysed_on": "2026-01-10"}).get_json()
    err = assert_error(c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise"), 422)
    assert {"risks", "classification_id"} <= set(err["fields"])


# ------------------------------------------------------------------ DPIA


DPIA = {
    "description": "Journalföring",
    "purposes": "Vård",
    "legal_basis": "Rättslig förpliktelse",
    "necessity": "Nödvändig",
    "risks": "Obehörig åtkomst",
    "measures": "Behörighetsstyrning",
}


def test_screening_and_dpia_flow(api, world):
    sid, c = world["system"].id, api(world["owner"])
    classify(api, world)
    ra = c.post(f"/api/v1/systems/{sid}/risk-analyses", json=risk_body()).get_json()
    c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise")
    resp = c.post(
        f"/api/v1/systems/{sid}/dpia-screenings",
        json={"criteria": ["sensitive_data", "vulnerable_subjects"], "motivation": "Patienter"},
    )
    assert resp.status_code == 201 and resp.get_json()["dpia_required"] is True
    scr = resp.get_json()
    assert scr["criteria"] == ["sensitive_data", "vulnerable_subjects"]
    assert stage(api, world["ciso"], sid) == "dpia_pending"
    assert api(world["dpo"]).get(f"/api/v1/dpia-screenings/{scr['id']}").status_code == 200
    assert api(world["ciso"]).get(f"/api/v1/systems/{sid}/dpia-screenings").get_json()["total"] == 1
    resp = c.post(f"/api/v1/systems/{sid}/dpias", json={**DPIA, "high_residual_risk": True})
    assert resp.status_code == 201
    d = resp.get_json()
    assert (
        d["status"] == "draft" and d["screening_id"] == scr["id"] and d["prior_consultation_required"] is True
    )
    err = assert_error(c.post(f"/api/v1/dpias/{d['id']}/finalise"), 422)
    assert "opinion" in err["fields"]
    assert_error(c.post(f"/api/v1/dpias/{d['id']}/opinion", json={"opinion": "x"}), 403)
    assert_error(api(world["ciso"]).post(f"/api/v1/dpias/{d['id']}/opinion", json={"opinion": "x"}), 403)
    assert_error(api(world["dpo"]).post(f"/api/v1/dpias/{d['id']}/opinion", json={"opinion": ""}), 422)
    resp = api(world["dpo"]).post(
        f"/api/v1/dpias/{d['id']}/opinion",
        json={"opinion": "Inga invändningar", "prior_consultation_required": False},
    )
    assert resp.status_code == 200
    assert resp.get_json()["opinion_by_id"] == world["dpo"].id
    assert resp.get_json()["prior_consultation_required"] is False
    assert_error(api(world["dpo"]).post(f"/api/v1/dpias/{d['id']}/finalise"), 403)
    resp = c.post(f"/api/v1/dpias/{d['id']}/finalise")
    assert resp.status_code == 200 and resp.get_json()["status"] == "final"
    assert stage(api, world["ciso"], sid) == "risk_analysed"
    assert_error(c.post(f"/api/v1/dpias/{d['id']}/finalise"), 422)
    assert_error(api(world["dpo"]).post(f"/api/v1/dpias/{d['id']}/opinion", json={"opinion": "again"}), 422)
    assert_error(c.patch(f"/api/v1/dpias/{d['id']}", json={"measures": "x", "version": 1}), 422)
    assert api(world["auditor"]).get(f"/api/v1/dpias/{d['id']}").status_code == 200
    assert api(world["risk_owner"]).get(f"/api/v1/systems/{sid}/dpias").get_json()["total"] == 1
    assert_error(api(world["other"]).get(f"/api/v1/dpias/{d['id']}"), 403)
    assert_error(api(world["other"]).get(f"/api/v1/systems/{sid}/dpias"), 403)
    assert_error(c.get("/api/v1/dpias/999999"), 404)
    assert_error(c.get("/api/v1/dpia-screenings/999999"), 404)


def test_editing_a_dpia_clears_the_opinion(api, world):
    sid, c = world["system"].id, api(world["owner"])
    d = c.post(f"/api/v1/systems/{sid}/dpias", json=DPIA).get_json()
    given = api(world["dpo"]).post(f"/api/v1/dpias/{d['id']}/opinion", json={"opinion": "Bra"}).get_json()
    resp = c.patch(
        f"/api/v1/dpias/{d['id']}", json={"measures": "Fler åtgärder", "version": given["version"]}
    )
    assert resp.status_code == 200
    assert resp.get_json()["opinion"] is None
    assert_error(
        c.patch(f"/api/v1/dpias/{d['id']}", json={"measures": "y", "version": given["version"]}), 409
    )
    assert_error(
        api(world["other"]).patch(f"/api/v1/dpias/{d['id']}", json={"measures": "y", "version": 9}), 403
    )
    assert_error(c.post(f"/api/v1/dpias/{d['id']}/finalise"), 422)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"criteria": ["sensitive_data", "telepathy"]}, "criteria.1"),
        ({"criteria": "sensitive_data"}, "criteria"),
        ({}, "criteria"),
        ({"criteria": [], "require_anyway": True}, "motivation"),
        ({"criteria": [], "require_anyway": "yes"}, "require_anyway"),
    ],
)
def test_screening_validation(api, world, body, field):
    err = assert_error(
        api(world["owner"]).post(f"/api/v1/systems/{world['system'].id}/dpia-screenings", json=body), 422
    )
    assert field in err["fields"], err


def test_screening_require_anyway_and_permissions(api, world):
    sid = world["system"].id
    resp = api(world["owner"]).post(
        f"/api/v1/systems/{sid}/dpia-screenings",
        json={
            "criteria": ["large_scale"],
            "require_anyway": True,
            "motivation": "Ny teknik för patientövervakning",
        },
    )
    assert resp.status_code == 201 and resp.get_json()["dpia_required"] is True
    resp = api(world["owner"]).post(
        f"/api/v1/systems/{sid}/dpia-screenings", json={"criteria": ["large_scale"]}
    )
    assert resp.get_json()["dpia_required"] is False
    assert_error(
        api(world["other"]).post(f"/api/v1/systems/{sid}/dpia-screenings", json={"criteria": []}), 403
    )
    assert_error(api(world["dpo"]).post(f"/api/v1/systems/{sid}/dpia-screenings", json={"criteria": []}), 403)


@pytest.mark.parametrize(
    "missing", ["description", "purposes", "legal_basis", "necessity", "risks", "measures"]
)
def test_dpia_requires_every_part(api, world, missing):
    body = {k: v for k, v in DPIA.items() if k != missing}
    err = assert_error(
        api(world["owner"]).post(f"/api/v1/systems/{world['system'].id}/dpias", json=body), 422
    )
    assert missing in err["fields"]
    err = assert_error(
        api(world["owner"]).post(
            f"/api/v1/systems/{world['system'].id}/dpias", json={**DPIA, missing: "   "}
        ),
        422,
    )
    assert missing in err["fields"]


def test_dpia_write_permissions(api, world):
    sid = world["system"].id
    assert_error(api(world["other"]).post(f"/api/v1/systems/{sid}/dpias", json=DPIA), 403)
    assert_error(api(world["dpo"]).post(f"/api/v1/systems/{sid}/dpias", json=DPIA), 403)
    assert api(world["admin"]).post(f"/api/v1/systems/{sid}/dpias", json=DPIA).status_code == 201


# ------------------------------------------------------------------ SLA


def month(back: int) -> str:
    d = date.today().replace(day=1)
    for _ in range(back):
        d = (d - timedelta(days=1)).replace(day=1)
    return d.strftime("%Y-%m")


def test_sla_and_measurements(api, world):
    sid, c = world["system"].id, api(world["owner"])
    classify(api, world, availability=3)
    resp = c.post(
        f"/api/v1/systems/{sid}/slas",
        json={
            "supplier": "Cambio",
            "availability_target": 98.5,
            "rto_hours": 4,
            "rpo_hours": 0.25,
            "valid_from": "2026-01-01",
            "valid_to": "2028-12-31",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    sla = resp.get_json()
    assert sla["availability_target"] == 98.5 and sla["required_availability"] == 99.0
    assert sla["weaker_than_required"] is True
    assert api(world["ciso"]).get(f"/api/v1/systems/{sid}").get_json()["current_sla_id"] == sla["id"]
    m = c.post(
        f"/api/v1/slas/{sla['id']}/measurements",
        json={"period": month(2), "availability": 98.2, "downtime_minutes": 780},
    )
    assert m.status_code == 201 and m.get_json()["target_met"] is False and m.get_json()["period"] == month(2)
    m = c.post(f"/api/v1/slas/{sla['id']}/measurements", json={"period": month(3), "availability": 99.5})
    assert m.status_code == 201 and m.get_json()["target_met"] is True
    assert_error(
        c.post(f"/api/v1/slas/{sla['id']}/measurements", json={"period": month(3), "availability": 99}), 409
    )
    listed = api(world["auditor"]).get(f"/api/v1/slas/{sla['id']}/measurements").get_json()
    assert [i["period"] for i in listed["items"]] == [month(2), month(3)]
    assert api(world["risk_owner"]).get(f"/api/v1/slas/{sla['id']}").status_code == 200
    # a changed SLA is a new record
    newer = c.post(
        f"/api/v1/systems/{sid}/slas", json={"supplier": "Cambio", "availability_target": 99.5}
    ).get_json()
    assert newer["replaces_id"] == sla["id"] and newer["weaker_than_required"] is False
    listed = api(world["ciso"]).get(f"/api/v1/systems/{sid}/slas").get_json()
    assert [i["id"] for i in listed["items"]] == [newer["id"], sla["id"]]
    assert_error(api(world["other"]).get(f"/api/v1/slas/{sla['id']}"), 403)
    assert_error(api(world["other"]).get(f"/api/v1/systems/{sid}/slas"), 403)
    assert_error(api(world["other"]).get(f"/api/v1/slas/{sla['id']}/measurements"), 403)
    assert_error(
        api(world["other"]).post(
            f"/api/v1/slas/{sla['id']}/measurements", json={"period": month(4), "availability": 99}
        ),
        403,
    )
    assert_error(
        api(world["other"]).post(
            f"/api/v1/systems/{sid}/slas", json={"supplier": "X", "availability_target": 99}
        ),
        403,
    )
    assert_error(c.get("/api/v1/slas/999999"), 404)
    assert_error(
        c.post("/api/v1/slas/999999/measurements", json={"period": month(1), "availability": 99}), 404
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"period": "2026-13", "availability": 99}, "period"),
        ({"period": "2026-1", "availability": 99}, "period"),
        ({"period": "2026-01", "availability": 101}, "availability"),
        ({"period": "2026-01", "availability": -1}, "availability"),
        ({"period": "2026-01", "availability": "NaN"}, "availability"),
        ({"period": "2026-01", "availability": 99, "downtime_minutes": -5}, "downtime_minutes"),
        ({"period": "2026-01", "availability": 99, "downtime_minutes": 1.5}, "downtime_minutes"),
        ({"period": "2999-01", "availability": 99}, "period"),
    ],
)
def test_measurement_validation(api, world, body, field):
    c = api(world["owner"])
    sla = c.post(
        f"/api/v1/systems/{world['system'].id}/slas", json={"supplier": "Cambio", "availability_target": 99}
    ).get_json()
    err = assert_error(c.post(f"/api/v1/slas/{sla['id']}/measurements", json=body), 422)
    assert field in err["fields"], err


@pytest.mark.parametrize(
    "body,field",
    [
        ({"availability_target": 99}, "supplier"),
        ({"supplier": "X", "availability_target": 0}, "availability_target"),
        ({"supplier": "X", "availability_target": 100.5}, "availability_target"),
        ({"supplier": "X", "availability_target": 0.001}, "availability_target"),
        ({"supplier": "X", "availability_target": 99, "rto_hours": -1}, "rto_hours"),
        (
            {
                "supplier": "X",
                "availability_target": 99,
                "valid_from": "2026-05-01",
                "valid_to": "2026-01-01",
            },
            "valid_to",
        ),
        ({"supplier": "X", "availability_target": 99, "valid_from": "1 maj"}, "valid_from"),
    ],
)
def test_sla_validation(api, world, body, field):
    err = assert_error(api(world["owner"]).post(f"/api/v1/systems/{world['system'].id}/slas", json=body), 422)
    assert field in err["fields"], err


def test_priority_list(api, world, make):
    sid, c = world["system"].id, api(world["owner"])
    api(world["admin"]).patch(f"/api/v1/systems/{sid}", json={"priority_list": True, "version": 1})
    bare = make.system(system_owner=world["owner"], priority_list=True)
    sla = c.post(
        f"/api/v1/systems/{sid}/slas", json={"supplier": "Cambio", "availability_target": 99}
    ).get_json()
    c.post(f"/api/v1/slas/{sla['id']}/measurements", json={"period": month(1), "availability": 98.9})
    c.post(f"/api/v1/slas/{sla['id']}/measurements", json={"period": month(2), "availability": 99.9})
    c.post(f"/api/v1/slas/{sla['id']}/measurements", json={"period": month(13), "availability": 90})
    resp = api(world["ciso"]).get("/api/v1/slas/priority-list")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["target"] == 99.0 and len(body["months"]) == 12 and body["months"][-1] == month(1)
    rows = {r["system_id"]: r for r in body["items"]}
    assert rows[sid]["months_measured"] == 2 and rows[sid]["months_missed"] == 1
    assert rows[bare.id]["sla_id"] is None and body["without_sla"] == 1 and body["missed_any"] == 1
    assert body["total"] == body["systems"] == 2 and body["page"] == 1
    only = api(world["ciso"]).get("/api/v1/slas/priority-list?without_sla=true&per_page=1").get_json()
    assert (
        [r["system_id"] for r in only["items"]] == [bare.id] and only["total"] == 1 and only["per_page"] == 1
    )
    assert_error(api(world["ciso"]).get("/api/v1/slas/priority-list?without_sla=perhaps"), 422)
    assert_error(api(world["ciso"]).get("/api/v1/slas/priority-list?page=0"), 422)
    assert_error(api(world["owner"]).get("/api/v1/slas/priority-list"), 403)


def test_openapi_describes_the_filing_endpoints(api, world):
    spec = api(world["owner"]).get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/systems/{system_id}/classifications",
        "/api/v1/classifications/{classification_id}/finalise",
        "/api/v1/systems/{system_id}/risk-analyses",
        "/api/v1/risk-analyses/{analysis_id}/finalise",
        "/api/v1/systems/{system_id}/dpia-screenings",
        "/api/v1/systems/{system_id}/dpias",
        "/api/v1/dpias/{dpia_id}/opinion",
        "/api/v1/dpias/{dpia_id}/finalise",
        "/api/v1/systems/{system_id}/slas",
        "/api/v1/slas/{sla_id}/measurements",
        "/api/v1/risk-actions/{action_id}",
        "/api/v1/systems/{system_id}/classifications/compare",
        "/api/v1/me/overdue-actions",
    ):
        assert path in spec["paths"], path
    error = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert {"code", "message", "fields", "current"} <= set(error)
    sla_in = spec["paths"]["/api/v1/systems/{system_id}/slas"]["post"]["requestBody"]["content"]
    schema = sla_in["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    props = spec["components"]["schemas"][name]["properties"]
    assert "replaces_id" in props and "replaces_id" not in spec["components"]["schemas"][name].get(
        "required", []
    )
    history = spec["components"]["schemas"]["StatusChangeOut"]["properties"]
    assert {"from_completed_on", "completed_on"} <= set(history)


# ------------------------------------------------------------------ a stale version: 409, the record as it is


def test_a_stale_version_answers_409_with_the_current_record(api, world):
    sid, c = world["system"].id, api(world["owner"])
    admin = api(world["admin"])
    draft = c.post(
        f"/api/v1/systems/{sid}/classifications",
        json={"confidentiality": 1, "integrity": 1, "availability": 1, "draft": True},
    ).get_json()
    theirs = admin.patch(
        f"/api/v1/classifications/{draft['id']}", json={"motivation": "Adminens", "version": draft["version"]}
    ).get_json()
    for resp in (
        c.patch(f"/api/v1/classifications/{draft['id']}", json={"integrity": 3, "version": draft["version"]}),
        c.post(f"/api/v1/classifications/{draft['id']}/finalise", json={"version": draft["version"]}),
    ):
        err = assert_error(resp, 409, "conflict")
        assert err["current"]["id"] == draft["id"] and err["current"]["version"] == theirs["version"]
        assert err["current"]["motivation"] == "Adminens" and err["current"]["integrity"] == 1
        assert err["fields"]["version"]
    # the client merges and sends the version it was given: saved
    resp = c.patch(
        f"/api/v1/classifications/{draft['id']}", json={"integrity": 3, "version": err["current"]["version"]}
    )
    assert resp.status_code == 200 and resp.get_json()["motivation"] == "Adminens"
    c.post(f"/api/v1/classifications/{draft['id']}/finalise")

    ra = c.post(f"/api/v1/systems/{sid}/risk-analyses", json=risk_body()).get_json()
    admin.patch(f"/api/v1/risk-analyses/{ra['id']}", json={"scope": "Adminens", "version": ra["version"]})
    for resp in (
        c.patch(f"/api/v1/risk-analyses/{ra['id']}", json={"scope": "Min", "version": ra["version"]}),
        c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise", json={"version": ra["version"]}),
    ):
        current = assert_error(resp, 409)["current"]
        assert current["scope"] == "Adminens" and current["version"] > ra["version"]
        assert [r["title"] for r in current["risks"]] == ["Obehörig åtkomst", "Leverantören går i konkurs"]
        assert current["risks"][0]["band"] == "high" and current["risks"][0]["actions"][0]["description"]
    action = ra["risks"][0]["actions"][0]
    admin.patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "in_progress", "note": "Adminen"})
    current = assert_error(
        c.patch(
            f"/api/v1/risk-actions/{action['id']}", json={"status": "done", "version": action["version"]}
        ),
        409,
    )["current"]
    assert current["status"] == "in_progress" and current["history"][-1]["note"] == "Adminen"

    c.post(f"/api/v1/systems/{sid}/dpia-screenings", json={"criteria": ["large_scale", "sensitive_data"]})
    dpia = c.post(f"/api/v1/systems/{sid}/dpias", json=DPIA).get_json()
    admin.patch(f"/api/v1/dpias/{dpia['id']}", json={"measures": "Adminens", "version": dpia["version"]})
    for resp in (
        c.patch(f"/api/v1/dpias/{dpia['id']}", json={"measures": "Mina", "version": dpia["version"]}),
        api(world["dpo"]).post(
            f"/api/v1/dpias/{dpia['id']}/opinion", json={"opinion": "Bra", "version": dpia["version"]}
        ),
        c.post(f"/api/v1/dpias/{dpia['id']}/finalise", json={"version": dpia["version"]}),
    ):
        current = assert_error(resp, 409)["current"]
        assert current["measures"] == "Adminens" and current["version"] > dpia["version"]


def test_an_sla_recorded_meanwhile_answers_409(api, world):
    sid, c = world["system"].id, api(world["owner"])
    # a client that does not say which SLA it saw is not checked (as before)
    first = c.post(f"/api/v1/systems/{sid}/slas", json={"supplier": "Tieto", "availability_target": 99})
    assert first.status_code == 201
    first = first.get_json()
    # one that saw none while one exists: refused, the current SLA in the answer, nothing stored
    err = assert_error(
        c.post(
            f"/api/v1/systems/{sid}/slas",
            json={"supplier": "Cambio", "availability_target": 99.5, "replaces_id": None},
        ),
        409,
        "conflict",
    )
    assert err["current"]["id"] == first["id"] and err["current"]["supplier"] == "Tieto"
    assert "replaces_id" in err["fields"]
    assert api(world["ciso"]).get(f"/api/v1/systems/{sid}/slas").get_json()["total"] == 1
    second = c.post(
        f"/api/v1/systems/{sid}/slas",
        json={"supplier": "Cambio", "availability_target": 99.5, "replaces_id": first["id"]},
    )
    assert second.status_code == 201 and second.get_json()["replaces_id"] == first["id"]
    # the first one is no longer current: sending it as seen is stale
    err = assert_error(
        c.post(
            f"/api/v1/systems/{sid}/slas",
            json={"supplier": "Atea", "availability_target": 99.9, "replaces_id": first["id"]},
        ),
        409,
    )
    assert err["current"]["id"] == second.get_json()["id"]
    assert_error(
        c.post(
            f"/api/v1/systems/{sid}/slas",
            json={"supplier": "X", "availability_target": 99, "replaces_id": "1"},
        ),
        422,
    )


# ------------------------------------------------------------------ comparing versions, my overdue actions


def test_compare_two_classification_versions(api, world, make):
    sid, c = world["system"].id, api(world["owner"])
    first = classify(api, world, motivation="Gammal")
    second = classify(
        api,
        world,
        confidentiality=4,
        motivation="Ny",
        information_sets=[{"name": "Provsvar", "confidentiality": 1, "integrity": 4, "availability": 1}],
    )
    url = f"/api/v1/systems/{sid}/classifications/compare?a={first['id']}&b={second['id']}"
    resp = api(world["auditor"]).get(url)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["a"]["id"] == first["id"] and body["b"]["number"] == 2
    rows = {r["field"]: r for r in body["rows"]}
    assert rows["confidentiality"] == {
        "field": "confidentiality",
        "kind": "level",
        "a": 2,
        "b": 4,
        "differs": True,
    }
    assert rows["integrity"]["b"] == 4 and rows["declared_integrity"] == {
        "field": "declared_integrity",
        "kind": "level",
        "a": 2,
        "b": 2,
        "differs": False,
    }
    assert rows["motivation"]["a"] == "Gammal" and rows["motivation"]["differs"] is True
    assert body["sets"] == [{"name": "Provsvar", "a": None, "b": "1-4-1", "differs": True}]
    assert api(world["risk_owner"]).get(url).status_code == 200
    assert_error(api(None).get(url), 401)
    assert_error(api(world["other"]).get(url), 403)
    assert_error(c.get("/api/v1/systems/999999/classifications/compare?a=1&b=2"), 404)
    foreign = make.system(system_owner=world["other"])
    theirs = (
        api(world["other"])
        .post(
            f"/api/v1/systems/{foreign.id}/classifications",
            json={"confidentiality": 1, "integrity": 1, "availability": 1},
        )
        .get_json()
    )
    assert_error(
        c.get(f"/api/v1/systems/{sid}/classifications/compare?a={first['id']}&b={theirs['id']}"), 404
    )
    assert_error(c.get(f"/api/v1/systems/{sid}/classifications/compare?a={first['id']}&b=999999"), 404)
    err = assert_error(c.get(f"/api/v1/systems/{sid}/classifications/compare?a={first['id']}"), 422)
    assert "b" in err["fields"]
    err = assert_error(c.get(f"/api/v1/systems/{sid}/classifications/compare?a=x&b=0"), 422)
    assert {"a", "b"} <= set(err["fields"])


def test_my_overdue_actions_across_my_systems(api, world, make):
    owner, c = world["owner"], api(world["owner"])
    late = str(today() - timedelta(days=10))
    for system, title in ((world["system"], "Första"), (make.system(system_owner=owner), "Andra")):
        api(owner).post(
            f"/api/v1/systems/{system.id}/classifications",
            json={"confidentiality": 1, "integrity": 1, "availability": 1},
        )
        ra = c.post(
            f"/api/v1/systems/{system.id}/risk-analyses",
            json={
                "analysed_on": str(today()),
                "risks": [
                    {
                        "title": title,
                        "aspect": "K",
                        "likelihood": 2,
                        "consequence": 2,
                        "actions": [
                            {"description": f"{title} sen", "due_on": late, "responsible": world["ciso"].id},
                            {"description": f"{title} i tid", "due_on": str(today() + timedelta(days=5))},
                        ],
                    }
                ],
            },
        ).get_json()
        c.post(f"/api/v1/risk-analyses/{ra['id']}/finalise")
    # someone else's system: not mine
    stranger = make.system(system_owner=world["other"])
    api(world["other"]).post(
        f"/api/v1/systems/{stranger.id}/classifications",
        json={"confidentiality": 1, "integrity": 1, "availability": 1},
    )
    other_ra = (
        api(world["other"])
        .post(
            f"/api/v1/systems/{stranger.id}/risk-analyses",
            json={
                "analysed_on": str(today()),
                "risks": [
                    {
                        "title": "Främmande",
                        "aspect": "K",
                        "likelihood": 2,
                        "consequence": 2,
                        "actions": [{"description": "Främmande sen", "due_on": late}],
                    }
                ],
            },
        )
        .get_json()
    )
    api(world["other"]).post(f"/api/v1/risk-analyses/{other_ra['id']}/finalise")
    resp = c.get("/api/v1/me/overdue-actions")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"] == 2 and sorted(i["description"] for i in body["items"]) == [
        "Andra sen",
        "Första sen",
    ]
    assert all(i["days_overdue"] == 10 for i in body["items"])
    page2 = c.get("/api/v1/me/overdue-actions?per_page=1&page=2").get_json()
    assert page2["total"] == 2 and page2["page"] == 2 and len(page2["items"]) == 1
    assert (
        page2["items"][0]["action_id"]
        != c.get("/api/v1/me/overdue-actions?per_page=1").get_json()["items"][0]["action_id"]
    )
    # the risk owner follows up the system they decide on; the CISO those they are responsible for
    assert [
        i["description"]
        for i in api(world["risk_owner"]).get("/api/v1/me/overdue-actions").get_json()["items"]
    ] == ["Första sen"]
    assert api(world["ciso"]).get("/api/v1/me/overdue-actions").get_json()["total"] == 2
    assert api(world["auditor"]).get("/api/v1/me/overdue-actions").get_json()["total"] == 0
    assert api(world["other"]).get("/api/v1/me/overdue-actions").get_json()["items"][0]["description"] == (
        "Främmande sen"
    )
    assert_error(api(None).get("/api/v1/me/overdue-actions"), 401)
    assert_error(c.get("/api/v1/me/overdue-actions?page=0"), 422)


# ------------------------------------------------------------------ messages and action history


def test_api_messages_are_swedish_unless_english_is_asked_for(api, world):
    sid, c = world["system"].id, api(world["owner"])
    body = risk_body()
    body["risks"][0]["actions"][0]["responsible"] = "ingen@region.example"
    err = assert_error(c.post(f"/api/v1/systems/{sid}/risk-analyses", json=body), 422)
    assert err["message"] == "Uppgifterna är ogiltiga."
    assert err["fields"] == {"risks.0.actions.0.responsible": ["Ingen sådan användare."]}
    err = assert_error(
        c.post(f"/api/v1/systems/{sid}/risk-analyses", json=body, headers={"Accept-Language": "en"}), 422
    )
    assert err["fields"] == {"risks.0.actions.0.responsible": ["No such user."]}
    c.post(f"/api/v1/systems/{sid}/dpia-screenings", json={"criteria": ["large_scale", "sensitive_data"]})
    dpia = c.post(f"/api/v1/systems/{sid}/dpias", json=DPIA).get_json()
    err = assert_error(c.post(f"/api/v1/dpias/{dpia['id']}/opinion", json={"opinion": "x"}), 403)
    assert err["message"] == "Endast dataskyddsombudet yttrar sig över en konsekvensbedömning."
    err = assert_error(c.get("/api/v1/slas/priority-list"), 403)
    assert err["message"].startswith("Prioriteringslistan är till för CISO")


def test_action_history_keeps_the_completion_dates(api, world):
    sid, c = world["system"].id, api(world["owner"])
    classify(api, world)
    ra = c.post(f"/api/v1/systems/{sid}/risk-analyses", json=risk_body()).get_json()
    action = ra["risks"][0]["actions"][0]
    day1, day2 = str(today() - timedelta(days=3)), str(today() - timedelta(days=1))
    c.patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "done", "completed_on": day1})
    resp = c.patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "done", "completed_on": day2})
    assert resp.status_code == 200
    history = resp.get_json()["history"]
    assert [
        (h["from_status"], h["to_status"], h["from_completed_on"], h["completed_on"]) for h in history
    ] == [
        ("planned", "done", None, day1),
        ("done", "done", day1, day2),
    ]
    # nothing changed, no note: no row
    same = c.patch(f"/api/v1/risk-actions/{action['id']}", json={"status": "done", "completed_on": day2})
    assert len(same.get_json()["history"]) == 2


# ------------------------------------------------------------------ a new round pressed twice at once


@pytest.fixture(scope="module", params=BACKENDS)
def committing_app(request):
    """An app on a database of its own: the requests below commit (each thread its own transaction),
    which the rolled-back tests' database must not see."""
    url, drop = database_url(request.param, tempfile.mkdtemp(prefix="riskreg-round-"))
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        from flask_migrate import upgrade

        from riskreg.extensions import db

        upgrade(revision="heads")
        db.engine.dispose()
    engine = create_engine(url)
    yield application, engine
    with application.app_context():
        from riskreg.extensions import db

        db.engine.dispose()
    engine.dispose()
    drop()


def test_new_round_pressed_at_once_makes_one_draft(committing_app):
    """Several clients start a new round of one system at the same instant: the system row is locked (FOR
    UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so one draft is made and the others are told about
    it (422 draft_exists, naming it), not a second draft nor a 409 from the unique number."""
    from riskreg.models import RiskAnalysis
    from riskreg.services import classification, risk

    app, engine = committing_app
    clients = 4
    with app.app_context(), Session(engine) as session:
        make = Factory(session)
        owner = make.user("system_owner")
        system = make.system(system_owner=owner)
        levels = {"confidentiality": 2, "integrity": 2, "availability": 2}
        classification.create(session, actor(owner), system.id, **levels)
        first = risk.create(
            session,
            actor(owner),
            system.id,
            analysed_on=date(2026, 11, 1),
            risks=[{"title": "Avbrott", "aspect": "T", "likelihood": 2, "consequence": 3}],
        )
        risk.finalise(session, actor(owner), first.id)
        tokens = [make.token(owner) for _ in range(clients)]
        session.commit()
        sid, first_id = system.id, first.id
    barrier = threading.Barrier(clients)
    answers: list = [None] * clients

    def press(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            f"/api/v1/systems/{sid}/risk-analyses/new-round", headers={"Authorization": f"Bearer {tokens[i]}"}
        )
        answers[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=press, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [a[1] for a in answers if a is not None and a[0] == 201]
    refused = [a[1]["error"] for a in answers if a is not None and a[0] == 422]
    assert len(made) == 1 and len(refused) == clients - 1, answers
    assert made[0]["number"] == 2 and made[0]["copied_from_id"] == first_id
    for error in refused:
        assert error["code"] == "draft_exists" and "version 2 " in error["message"], error
    with Session(engine) as session:
        drafts = session.execute(
            select(RiskAnalysis.id).where(RiskAnalysis.system_id == sid, RiskAnalysis.status == "draft")
        ).scalars().all()
        assert drafts == [made[0]["id"]]
