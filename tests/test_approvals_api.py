"""The approval endpoints of the JSON API (API.md), with their status codes, error shapes and what a
refused request leaves behind (nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from riskreg.models import Approval, ApprovalCondition, ReferenceCounter
from tests.approval_support import World
from tests.conftest import TODAY, assert_error


@pytest.fixture
def world(make, db_session, app):
    app.config["PDF_JOBS_INLINE"] = True
    return World(make, db_session)


def count(session, model):
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def body(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)[:800]
    return resp.get_json()


def decision(world, **kw):
    data = {
        "decision": "approved_with_conditions",
        "motivation": "Godtagbart med villkor",
        "valid_until": (TODAY + timedelta(days=400)).isoformat(),
        "accepted_risk_ids": world.high_risk_ids(),
        "conditions": [
            {
                "text": "Offline-rutin övas",
                "due_on": (TODAY + timedelta(days=60)).isoformat(),
                "responsible_id": world.owner.id,
            }
        ],
    }
    data.update(kw)
    return data


def test_request_then_decide_then_read(world, api):
    owner, risk_owner = api(world.owner), api(world.risk_owner)
    sid = world.system.id
    err = assert_error(owner.post(f"/api/v1/systems/{sid}/approval-requests"), 422, "prerequisites_missing")
    assert len(err["fields"]["missing"]) == 3
    world.ready()
    pre = body(owner.get(f"/api/v1/systems/{sid}/approval-prerequisites"), 200)
    assert pre == {"ready": True, "missing": []}
    req = body(
        owner.post(f"/api/v1/systems/{sid}/approval-requests", json={"note": "Inför driftsättning"}), 201
    )
    assert req["status"] == "pending" and req["system_id"] == sid and req["note"] == "Inför driftsättning"
    assert body(owner.get(f"/api/v1/systems/{sid}"), 200)["stage"] == "awaiting_decision"
    listed = body(owner.get(f"/api/v1/systems/{sid}/approval-requests"), 200)
    assert listed["total"] == 1 and listed["items"][0]["id"] == req["id"]

    a = body(risk_owner.post(f"/api/v1/systems/{sid}/approvals", json=decision(world)), 201)
    assert a["reference"] == "DG-2026-0001" and a["decision"] == "approved_with_conditions"
    assert a["valid_until"] == (TODAY + timedelta(days=400)).isoformat() and a["state"] == "in_force"
    assert a["accepted_risk_ids"] == world.high_risk_ids()
    assert a["accepted_risks"][0]["motivation"] == "Godtagbart med villkor"
    assert a["conditions"][0]["text"] == "Offline-rutin övas" and a["conditions"][0]["overdue"] is False
    assert a["profile"] == "3-3-2" and len(a["content_sha256"]) == 64 and a["revocation"] is None
    one = body(owner.get(f"/api/v1/approvals/{a['id']}"), 200)
    assert one["changes_since_decision"] == [] and one["reference"] == a["reference"]
    assert body(owner.get(f"/api/v1/systems/{sid}"), 200)["stage"] == "approved_with_conditions"
    history = body(owner.get(f"/api/v1/systems/{sid}/approvals"), 200)
    assert history["total"] == 1 and history["items"][0]["id"] == a["id"] and "page" in history

    resp = owner.get(f"/api/v1/approvals/{a['id']}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data[:5] == b"%PDF-"
    assert a["reference"] in resp.headers["Content-Disposition"]


def test_accepted_risks_with_their_own_motivations(world, api):
    world.ready()
    world.request()
    rid = world.high_risk_ids()[0]
    a = body(
        api(world.risk_owner).post(
            f"/api/v1/systems/{world.system.id}/approvals",
            json={
                "decision": "approved",
                "motivation": "OK",
                "accepted_risks": [{"risk_id": rid, "motivation": "Reservrutin"}],
            },
        ),
        201,
    )
    assert a["accepted_risks"] == [{"risk_id": rid, "motivation": "Reservrutin"}]
    assert a["valid_until"] == "2029-11-24"


@pytest.mark.parametrize("who", ["system_owner", "ciso", "auditor", "other_risk_owner"])
def test_only_the_named_risk_owner_decides(world, api, make, who):
    world.ready()
    world.request()
    user = {
        "system_owner": world.owner,
        "ciso": make.user("ciso"),
        "auditor": make.user("auditor"),
        "other_risk_owner": make.user("risk_owner"),
    }[who]
    assert_error(
        api(user).post(f"/api/v1/systems/{world.system.id}/approvals", json=decision(world)), 403, "forbidden"
    )
    assert count(world.s, Approval) == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"valid_until": (TODAY - timedelta(days=1)).isoformat()}, "valid_until"),
        ({"valid_until": "2031-01-01"}, "valid_until"),
        ({"conditions": [{"text": "Utan datum"}]}, "conditions.0.due_on"),
        ({"conditions": [{"text": "", "due_on": "2027-01-01"}]}, "conditions.0.text"),
        ({"accepted_risk_ids": []}, "unaccepted_risks"),
        ({"decision": "maybe"}, "decision"),
        ({"motivation": ""}, "motivation"),
        ({"valid_until": "24/11/2027"}, "valid_until"),
        ({"accepted_risk_ids": ["1"]}, "accepted_risk_ids.0"),
    ],
)
def test_bad_decisions_are_422_and_write_nothing(world, api, change, field):
    world.ready()
    world.request()
    err = assert_error(
        api(world.risk_owner).post(
            f"/api/v1/systems/{world.system.id}/approvals", json=decision(world, **change)
        ),
        422,
    )
    assert field in err["fields"], err
    assert err["message"]
    assert count(world.s, Approval) == 0 and count(world.s, ApprovalCondition) == 0
    assert count(world.s, ReferenceCounter) == 0
    assert world.system.open_request_id is not None


def test_risk_of_another_system_is_422(world, api, make, db_session):
    other = World(make, db_session)
    other.ready()
    world.ready()
    world.request()
    ids = world.high_risk_ids() + other.high_risk_ids()
    err = assert_error(
        api(world.risk_owner).post(
            f"/api/v1/systems/{world.system.id}/approvals", json=decision(world, accepted_risk_ids=ids)
        ),
        422,
    )
    assert str(other.high_risk_ids()[0]) in " ".join(err["fields"]["accepted_risk_ids"])


def test_deciding_twice_and_without_request(world, api):
    world.ready()
    ro = api(world.risk_owner)
    err = assert_error(
        ro.post(f"/api/v1/systems/{world.system.id}/approvals", json=decision(world)),
        422,
        "not_awaiting_decision",
    )
    assert "begäras" in err["message"]  # Swedish unless the client asks for English
    world.request()
    body(ro.post(f"/api/v1/systems/{world.system.id}/approvals", json=decision(world)), 201)
    assert_error(
        ro.post(f"/api/v1/systems/{world.system.id}/approvals", json=decision(world)),
        422,
        "not_awaiting_decision",
    )
    assert count(world.s, Approval) == 1


def test_malformed_and_unknown(world, api):
    ro = api(world.risk_owner)
    assert_error(
        ro.post(
            f"/api/v1/systems/{world.system.id}/approvals",
            data="{nope",
            headers={"Content-Type": "application/json"},
        ),
        400,
    )
    assert_error(
        ro.post("/api/v1/systems/999999/approvals", json={"decision": "approved", "motivation": "x"}), 404
    )
    assert_error(ro.get("/api/v1/approvals/999999"), 404)
    assert_error(ro.get("/api/v1/approvals/999999/pdf"), 404)
    assert_error(ro.post("/api/v1/approvals/999999/revoke", json={"motivation": "x"}), 404)
    assert_error(ro.post(f"/api/v1/systems/{world.system.id}/approvals", json={"decision": "approved"}), 422)
    assert_error(
        ro.post(
            f"/api/v1/systems/{world.system.id}/approvals",
            json={"decision": "approved", "motivation": "x", "extra": 1},
        ),
        422,
    )
    assert_error(api(None).get("/api/v1/approval-queue"), 401)


def test_reading_a_decision_needs_the_records_right(world, api, make):
    a = world.approved()
    stranger = make.user("system_owner")
    assert_error(api(stranger).get(f"/api/v1/approvals/{a.id}"), 403)
    assert_error(api(stranger).get(f"/api/v1/approvals/{a.id}/pdf"), 403)
    assert_error(api(stranger).get(f"/api/v1/systems/{world.system.id}/approvals"), 403)
    for role in ("ciso", "dpo", "admin", "auditor"):
        assert api(make.user(role)).get(f"/api/v1/approvals/{a.id}").status_code == 200


def test_revoke(world, api, make):
    a = world.approved()
    assert_error(api(world.owner).post(f"/api/v1/approvals/{a.id}/revoke", json={"motivation": "x"}), 403)
    assert_error(api(world.risk_owner).post(f"/api/v1/approvals/{a.id}/revoke", json={}), 422)
    rev = body(
        api(world.risk_owner).post(f"/api/v1/approvals/{a.id}/revoke", json={"motivation": "Större brister"}),
        201,
    )
    assert rev["approval_id"] == a.id and rev["motivation"] == "Större brister"
    assert body(api(world.owner).get(f"/api/v1/systems/{world.system.id}"), 200)["stage"] == "needs_review"
    one = body(api(world.owner).get(f"/api/v1/approvals/{a.id}"), 200)
    assert one["state"] == "revoked" and one["revocation"]["id"] == rev["id"]
    assert [c["kind"] for c in one["changes_since_decision"]] == ["revoked"]
    assert_error(
        api(make.user("ciso")).post(f"/api/v1/approvals/{a.id}/revoke", json={"motivation": "igen"}),
        422,
        "already_revoked",
    )


def test_queue_oldest_first_with_profile_and_bands(world, api, make, db_session):
    from tests.conftest import NOW

    second = World(make, db_session, name="Andra systemet")
    second.risk_owner = world.risk_owner
    second.system.risk_owner_id = world.risk_owner.id
    second.ready()
    second.request(now=NOW - timedelta(days=20))
    world.ready()
    world.request(now=NOW - timedelta(days=2))
    q = body(api(world.risk_owner).get("/api/v1/approval-queue"), 200)
    assert [i["system_id"] for i in q["items"]] == [second.system.id, world.system.id] and q["total"] == 2
    first = q["items"][0]
    assert first["age_days"] == 20 and first["profile"] == "3-3-2"
    assert first["bands"] == {"low": 0, "medium": 2, "high": 1, "extreme": 0}
    assert first["top_risks"][0] == {
        "id": second.high_risk_ids()[0],
        "title": "Ransomware slår ut driften",
        "value": 12,
        "band": "high",
    }
    assert body(api(make.user("risk_owner")).get("/api/v1/approval-queue"), 200)["total"] == 0
    ciso = api(make.user("ciso"))
    assert body(ciso.get("/api/v1/approval-queue"), 200)["total"] >= 2
    assert body(ciso.get(f"/api/v1/approval-queue?risk_owner_id={world.risk_owner.id}"), 200)["total"] == 2
    summary = body(ciso.get("/api/v1/approval-queue/summary"), 200)
    row = next(r for r in summary["items"] if r["risk_owner_id"] == world.risk_owner.id)
    assert row["waiting"] == 2 and row["oldest_days"] == 20 and row["over_limit"] == 1
    assert_error(api(world.owner).get("/api/v1/approval-queue"), 403)
    assert_error(ciso.get("/api/v1/approval-queue?risk_owner_id=abc"), 422)


def test_conditions_follow_up(world, api, make):
    a = world.approved(conditions=[{"text": "Öva", "due_on": TODAY + timedelta(days=1)}])
    cid = a.conditions[0].id
    listed = body(api(world.risk_owner).get("/api/v1/approval-conditions?status=open"), 200)
    assert [c["id"] for c in listed["items"]] == [cid] and listed["items"][0]["reference"] == a.reference
    assert body(api(world.risk_owner).get("/api/v1/approval-conditions?overdue=true"), 200)["total"] == 0
    assert body(api(make.user("system_owner")).get("/api/v1/approval-conditions"), 200)["total"] == 0
    assert_error(
        api(make.user("system_owner")).post(f"/api/v1/approval-conditions/{cid}/fulfil", json={}), 403
    )
    assert_error(
        api(world.owner).post(
            f"/api/v1/approval-conditions/{cid}/fulfil",
            json={"fulfilled_on": (TODAY + timedelta(days=3)).isoformat()},
        ),
        422,
    )
    assert_error(
        api(world.owner).post(f"/api/v1/approval-conditions/{cid}/fulfil", json={"version": 99}), 409
    )
    done = body(
        api(world.owner).post(
            f"/api/v1/approval-conditions/{cid}/fulfil",
            json={"fulfilled_on": TODAY.isoformat(), "note": "Övat"},
        ),
        200,
    )
    assert (
        done["status"] == "fulfilled" and done["fulfilled_on"] == TODAY.isoformat() and done["note"] == "Övat"
    )
    assert_error(api(world.owner).post(f"/api/v1/approval-conditions/{cid}/fulfil", json={}), 422)
    assert_error(api(world.owner).post(f"/api/v1/approval-conditions/{cid}/reopen", json={}), 403)
    again = body(
        api(world.risk_owner).post(f"/api/v1/approval-conditions/{cid}/reopen", json={"note": "Nej"}), 200
    )
    assert again["status"] == "open"
    assert_error(api(world.owner).post("/api/v1/approval-conditions/999999/fulfil", json={}), 404)


def test_withdraw(world, api, make):
    world.ready()
    req = world.request()
    assert_error(api(world.risk_owner).post(f"/api/v1/approval-requests/{req.id}/withdraw"), 403)
    out = body(api(world.owner).post(f"/api/v1/approval-requests/{req.id}/withdraw"), 200)
    assert out["status"] == "withdrawn" and out["closed_at"]
    assert_error(api(world.owner).post(f"/api/v1/approval-requests/{req.id}/withdraw"), 422)


def test_rejection_and_decommissioning(world, api, make):
    world.ready()
    world.request()
    sid = world.system.id
    ro = api(world.risk_owner)
    a = body(
        ro.post(f"/api/v1/systems/{sid}/approvals", json={"decision": "rejected", "motivation": "Nej"}), 201
    )
    assert a["valid_until"] is None and a["state"] == "rejected"
    system = body(ro.get(f"/api/v1/systems/{sid}"), 200)
    assert system["stage"] == "rejected" and system["lifecycle"] == "being_decommissioned"
    err = assert_error(
        ro.post(
            f"/api/v1/systems/{sid}/decommissioning-plans",
            json={
                "planned_on": (TODAY + timedelta(days=90)).isoformat(),
                "responsible_id": world.owner.id,
                "disposition": "deleted",
            },
        ),
        422,
    )
    assert "retention_decision" in err["fields"]
    plan = body(
        ro.post(
            f"/api/v1/systems/{sid}/decommissioning-plans",
            json={
                "planned_on": (TODAY + timedelta(days=90)).isoformat(),
                "responsible_id": world.owner.id,
                "disposition": "deleted",
                "retention_decision": "Gallras enligt RS 2024/17",
            },
        ),
        201,
    )
    assert plan["status"] == "planned" and plan["approval_id"] == a["id"]
    assert body(ro.get(f"/api/v1/systems/{sid}/decommissioning-plans"), 200)["total"] == 1
    assert_error(
        api(make.user("system_owner")).post(f"/api/v1/decommissioning-plans/{plan['id']}/complete"), 403
    )
    assert_error(
        api(world.owner).post(f"/api/v1/decommissioning-plans/{plan['id']}/complete", json={"version": 7}),
        409,
    )
    done = body(api(world.owner).post(f"/api/v1/decommissioning-plans/{plan['id']}/complete"), 200)
    assert done["status"] == "done" and done["completed_at"]
    system = body(ro.get(f"/api/v1/systems/{sid}"), 200)
    assert system["stage"] == "decommissioned" and system["lifecycle"] == "decommissioned"
    assert body(ro.get(f"/api/v1/approvals/{a['id']}"), 200)["reference"] == a["reference"]  # history stays


def test_verify_matching_and_tampered(world, api, make, db_session, app):
    a = world.approved()
    anyone = api(make.user("system_owner"))  # any signed-in user may verify
    ok = body(anyone.get(f"/api/v1/verify/{a.reference}?sha256={a.content_sha256}"), 200)
    assert (
        ok["matches"] is True and ok["register_intact"] is True and ok["system_name"] == "Journalsystemet Åäö"
    )
    bad = body(anyone.get(f"/api/v1/verify/{a.reference}?sha256={'0' * 64}"), 200)
    assert bad["matches"] is False
    assert body(anyone.get(f"/api/v1/verify/{a.reference.lower()}"), 200)["matches"] is None
    assert_error(anyone.get(f"/api/v1/verify/{a.reference}?sha256=xyz"), 422)
    assert_error(anyone.get("/api/v1/verify/DG-1999-0001"), 404)


def test_batch_print(world, api, make, db_session):
    a = world.approved()
    other = World(make, db_session, name="Andra systemet")
    b = other.approved()
    ciso = api(make.user("ciso"))
    job = body(ciso.post("/api/v1/approval-prints", json={"approval_ids": [b.id, a.id]}), 201)
    assert job["total"] == 2 and job["status"] == "done" and job["done"] == 2
    assert body(ciso.get(f"/api/v1/approval-prints/{job['id']}"), 200)["status"] == "done"
    resp = ciso.get(f"/api/v1/approval-prints/{job['id']}/pdf")
    assert resp.status_code == 200 and resp.data[:5] == b"%PDF-"
    assert_error(api(make.user("ciso")).get(f"/api/v1/approval-prints/{job['id']}"), 403)
    unit = body(ciso.post("/api/v1/approval-prints", json={"org_unit_id": world.system.org_unit_id}), 201)
    assert unit["total"] == 1
    assert_error(
        api(make.user("system_owner")).post("/api/v1/approval-prints", json={"approval_ids": [a.id]}), 403
    )
    assert_error(api(world.owner).post("/api/v1/approval-prints", json={"approval_ids": [b.id]}), 403)
    assert_error(ciso.post("/api/v1/approval-prints", json={"approval_ids": [999999]}), 404)
    assert_error(ciso.post("/api/v1/approval-prints", json={"org_unit_id": make.org_unit().id}), 422)


def test_openapi_lists_the_approval_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/systems/{system_id}/approval-requests",
        "/api/v1/systems/{system_id}/approvals",
        "/api/v1/approvals/{approval_id}",
        "/api/v1/approvals/{approval_id}/pdf",
        "/api/v1/approvals/{approval_id}/revoke",
    ):
        assert path in spec["paths"], path


@pytest.mark.parametrize("path", ["/api/v1/approvals/99999999999", "/api/v1/approvals/99999999999/pdf",
                                  "/api/v1/systems/99999999999/approvals", "/api/v1/approval-prints/99999999999",
                                  "/api/v1/verify/" + "X" * 300, "/api/v1/verify/%C3%A5%00",
                                  "/api/v1/approval-queue?risk_owner_id=99999999999",
                                  "/api/v1/approval-conditions?system_id=-1&overdue=maybe"])
def test_odd_input_is_never_a_500(world, api, make, path):
    resp = api(make.user("ciso")).get(path)
    assert resp.status_code in (400, 404, 422), (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.get_json()["error"]["code"]


def test_odd_bodies_are_never_a_500(world, api):
    world.ready()
    world.request()
    ro = api(world.risk_owner)
    for body in ([], "x", {"decision": "approved", "motivation": "x", "conditions": [{"text": "x", "due_on": "2027-02-30"}]},
                 {"decision": "approved", "motivation": "x", "accepted_risk_ids": [2**40]},
                 {"decision": "approved", "motivation": "x", "conditions": "nope"},
                 {"decision": "approved", "motivation": "x", "conditions": [{"text": "x", "responsible_id": 2**40}]},
                 {"decision": "approved", "motivation": "x" * 10001}):
        resp = ro.post(f"/api/v1/systems/{world.system.id}/approvals", json=body)
        assert resp.status_code in (400, 422), (body, resp.status_code, resp.get_data(as_text=True)[:300])


def test_a_condition_without_responsible_id_names_the_system_owner(world, api):
    world.ready()
    world.request()
    data = decision(world, conditions=[{"text": "Logguppföljning", "due_on": (TODAY + timedelta(days=30)).isoformat()}])
    a = body(api(world.risk_owner).post(f"/api/v1/systems/{world.system.id}/approvals", json=data), 201)
    assert a["conditions"][0]["responsible_id"] == world.owner.id


def reject(world, api):
    world.ready()
    world.request()
    body(
        api(world.risk_owner).post(
            f"/api/v1/systems/{world.system.id}/approvals", json={"decision": "rejected", "motivation": "Nej"}
        ),
        201,
    )


def test_approving_after_a_rejection_puts_the_system_back_in_operation(world, api):
    reject(world, api)
    sid = world.system.id
    body(api(world.owner).post(f"/api/v1/systems/{sid}/approval-requests"), 201)
    body(api(world.risk_owner).post(f"/api/v1/systems/{sid}/approvals", json=decision(world)), 201)
    system = body(api(world.owner).get(f"/api/v1/systems/{sid}"), 200)
    assert system["stage"] == "approved_with_conditions" and system["lifecycle"] == "in_operation"


def test_cancel_a_decommissioning_plan(world, api, make):
    reject(world, api)
    sid = world.system.id
    owner, ro = api(world.owner), api(world.risk_owner)
    plan = body(
        owner.post(
            f"/api/v1/systems/{sid}/decommissioning-plans",
            json={
                "planned_on": (TODAY + timedelta(days=90)).isoformat(),
                "responsible_id": world.owner.id,
                "disposition": "archived",
            },
        ),
        201,
    )
    err = assert_error(owner.post(f"/api/v1/systems/{sid}/approval-requests"), 422, "being_decommissioned")
    assert "lifecycle" in err["fields"] and "avveckl" in err["message"]
    url = f"/api/v1/decommissioning-plans/{plan['id']}/cancel"
    assert_error(owner.post(url, json={"motivation": "Vi behåller det"}), 403)
    assert_error(api(make.user("risk_owner")).post(url, json={"motivation": "x"}), 403)
    assert_error(ro.post(url, json={}), 422)
    assert_error(ro.post(url, json={"motivation": "x", "version": 99}), 409)
    done = body(ro.post(url, json={"motivation": "Bristerna är åtgärdade"}), 200)
    assert done["status"] == "cancelled" and done["cancellation_motivation"] == "Bristerna är åtgärdade"
    assert done["cancelled_by_id"] == world.risk_owner.id and done["cancelled_at"]
    assert body(ro.get(f"/api/v1/systems/{sid}"), 200)["lifecycle"] == "in_operation"
    assert_error(ro.post(url, json={"motivation": "igen"}), 422, "already_cancelled")
    assert_error(owner.post(f"/api/v1/decommissioning-plans/{plan['id']}/complete"), 422, "cancelled")
    listed = body(ro.get(f"/api/v1/systems/{sid}/decommissioning-plans"), 200)
    assert [p["status"] for p in listed["items"]] == ["cancelled"]  # history stays
    body(owner.post(f"/api/v1/systems/{sid}/approval-requests"), 201)
    assert_error(owner.post("/api/v1/decommissioning-plans/999999/cancel", json={"motivation": "x"}), 404)


def test_reading_prerequisites_and_plans_needs_the_records_right(world, api, make):
    world.ready()
    stranger = api(make.user("system_owner"))
    sid = world.system.id
    assert_error(stranger.get(f"/api/v1/systems/{sid}/approval-prerequisites"), 403, "forbidden")
    assert_error(stranger.get(f"/api/v1/systems/{sid}/decommissioning-plans"), 403, "forbidden")
    assert_error(api(make.user("risk_owner")).get(f"/api/v1/systems/{sid}/decommissioning-plans"), 403)
    for user in (world.owner, world.risk_owner, make.user("dpo"), make.user("auditor")):
        assert body(api(user).get(f"/api/v1/systems/{sid}/approval-prerequisites"), 200)["ready"] is True
        assert body(api(user).get(f"/api/v1/systems/{sid}/decommissioning-plans"), 200)["total"] == 0


def test_a_print_pdf_before_the_job_is_done_is_409(world, api, make, monkeypatch):
    from riskreg.services import approval_prints

    a = world.approved()
    ciso = make.user("ciso")
    launched = []
    monkeypatch.setattr(approval_prints, "launch", lambda *args: launched.append(args))  # not started yet
    job = body(api(ciso).post("/api/v1/approval-prints", json={"approval_ids": [a.id]}), 201)
    assert job["status"] == "running" and len(launched) == 1
    err = assert_error(api(ciso).get(f"/api/v1/approval-prints/{job['id']}/pdf"), 409, "not_finished")
    assert "inte klar" in err["message"]


def test_a_print_job_left_by_a_dead_worker_fails_when_read_and_restarts(world, api, make, app, db_session):
    from riskreg.models import PdfJob
    from riskreg.models.base import utcnow

    a = world.approved()
    ciso = make.user("ciso")
    job = PdfJob(
        created_by_id=ciso.id,
        selection={"org_unit_id": None, "approval_ids": [a.id], "chosen": True},
        status="running",
        total=1,
        heartbeat_at=utcnow() - timedelta(seconds=app.config.get("PDF_JOB_STALE_SECONDS", 120) + 30),
    )
    db_session.add(job)
    db_session.flush()
    read = body(api(ciso).get(f"/api/v1/approval-prints/{job.id}"), 200)
    assert read["status"] == "failed" and "avbröts" in read["error"]
    assert_error(api(ciso).get(f"/api/v1/approval-prints/{job.id}/pdf"), 409)
    assert_error(api(make.user("ciso")).post(f"/api/v1/approval-prints/{job.id}/restart"), 403)
    again = body(api(ciso).post(f"/api/v1/approval-prints/{job.id}/restart"), 201)
    assert again["id"] != job.id and again["status"] == "done" and again["total"] == 1
    assert_error(api(ciso).post(f"/api/v1/approval-prints/{again['id']}/restart"), 422, "not_failed")
    twice = assert_error(api(ciso).post(f"/api/v1/approval-prints/{job.id}/restart"), 422, "already_restarted")
    assert str(again["id"]) in twice["message"]  # a second press names the print the first one started
    assert api(ciso).get(f"/api/v1/approval-prints/{again['id']}/pdf").data[:5] == b"%PDF-"
