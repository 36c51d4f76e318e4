"""The approval pages through the test client: checklist and request, the decision form (refusal shown
with its reason, unaccepted risks, conditions), the decision page with follow-up and revocation, queues,
decommissioning, verification of a printed copy (matching, wrong and tampered) and batch printing."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text as sql

from riskreg.models import Approval, PdfJob
from tests.approval_support import World
from tests.conftest import PASSWORD


def login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def page_text(resp) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))).split())


def today():
    return datetime.now(UTC).date()


@pytest.fixture
def world(make, db_session, app):
    app.config["PDF_JOBS_INLINE"] = True
    return World(make, db_session)


def decide_form(world, **extra):
    data = {
        "decision": "approved_with_conditions",
        "motivation": "Godtagbart med villkor",
        "valid_until": (today() + timedelta(days=365)).isoformat(),
        "conditions-0-text": "Offline-rutin övas",
        "conditions-0-due_on": (today() + timedelta(days=60)).isoformat(),
        "conditions-0-responsible_id": str(world.owner.id),
    }
    for rid in world.high_risk_ids():
        data[f"accept-{rid}"] = "on"
        data[f"accept-{rid}-motivation"] = "Reservrutiner finns"
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_checklist_links_each_gap_and_request_follows(world, client):
    login(client, world.owner)
    resp = client.get(f"/systems/{world.system.id}/approval")
    assert resp.status_code == 200
    body = page_text(resp)
    assert "Förutsättningar för beslut" in body and "Saknas: En fastställd informationsklassning" in body
    assert body.count("Åtgärda") == 3  # classification, risk analysis, screening
    assert "Ännu inte känt: En fastställd konsekvensbedömning" in body  # until the screening says
    assert "Begär beslut" not in body
    world.ready()
    resp = client.get(f"/systems/{world.system.id}/approval")
    assert "Alla förutsättningar" not in page_text(resp) and "Begär beslut" in page_text(resp)
    resp = client.post(f"/systems/{world.system.id}/approval/request", data={"note": "Snälla"})
    assert resp.status_code == 302
    assert world.system.open_request_id is not None
    body = page_text(client.get(f"/systems/{world.system.id}/approval"))
    assert "Inväntar beslut" in body and "Dra tillbaka begäran" in body


def test_system_page_shows_the_approval_panel(world, client):
    world.approved()
    login(client, world.owner)
    body = page_text(client.get(f"/systems/{world.system.id}"))
    assert "Driftgodkännande" in body and "DG-2026-0001" in body and "Godkänd med villkor" in body


def test_decide_page_refuses_with_the_reason(world, client, make, db_session):
    world.ready()
    world.request()
    login(client, world.owner)
    resp = client.get(f"/systems/{world.system.id}/approval/decide")
    assert resp.status_code == 403 and "Bara en riskägare beslutar" in page_text(resp)
    both = make.user("system_owner", "risk_owner")
    world.system.system_owner_id = both.id
    world.system.risk_owner_id = both.id
    db_session.flush()
    login(client, both)
    resp = client.get(f"/systems/{world.system.id}/approval/decide")
    assert resp.status_code == 403 and "åtskillnad mellan uppgifter" in page_text(resp)


def test_decide_through_the_form(world, client, db_session):
    world.ready()
    world.request()
    login(client, world.risk_owner)
    resp = client.get(f"/systems/{world.system.id}/approval/decide")
    body = page_text(resp)
    assert resp.status_code == 200 and "Acceptera: Ransomware slår ut driften" in body
    assert "kvarstående risk 12 (Hög)" in body
    # not accepting the high risk: refused with the list, nothing written
    data = decide_form(world)
    for rid in world.high_risk_ids():
        data.pop(f"accept-{rid}")
    resp = client.post(f"/systems/{world.system.id}/approval/decide", data=data)
    assert resp.status_code == 422
    assert "Ransomware slår ut driften (kvarstående risk 12)" in page_text(resp)
    assert db_session.query(Approval).count() == 0
    # a condition without a due date
    resp = client.post(
        f"/systems/{world.system.id}/approval/decide", data=decide_form(world, **{"conditions-0-due_on": ""})
    )
    assert resp.status_code == 422 and "Ett villkor behöver ett datum" in page_text(resp)
    # a validity in the past
    resp = client.post(
        f"/systems/{world.system.id}/approval/decide",
        data=decide_form(world, valid_until=(today() - timedelta(days=1)).isoformat()),
    )
    assert resp.status_code == 422 and "Giltighetstiden måste sluta efter i dag" in page_text(resp)
    resp = client.post(f"/systems/{world.system.id}/approval/decide", data=decide_form(world))
    assert resp.status_code == 302, page_text(resp)[:1500]
    approval = db_session.query(Approval).one()
    assert resp.headers["Location"].endswith(f"/approvals/{approval.id}")
    assert approval.accepted_risks[0].motivation == "Reservrutiner finns"
    assert approval.conditions[0].responsible_id == world.owner.id
    page = client.get(f"/approvals/{approval.id}")
    body = page_text(page)
    assert page.status_code == 200 and approval.reference in body and "Offline-rutin övas" in body
    assert approval.content_sha256 in body and "Inget har ändrats sedan beslutet." in body
    pdf = client.get(f"/approvals/{approval.id}/pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    # deciding twice from the form: back to the system page with the reason
    resp = client.get(f"/systems/{world.system.id}/approval/decide")
    assert resp.status_code == 302


def test_follow_up_and_revoke_on_the_decision_page(world, client, make):
    approval = world.approved()
    cond = approval.conditions[0]
    login(client, world.owner)
    body = page_text(client.get(f"/approvals/{approval.id}"))
    assert "Markera som uppfyllt" in body and "Återkalla beslutet" not in body
    resp = client.post(
        f"/approvals/conditions/{cond.id}/fulfil",
        data={"fulfilled_on": today().isoformat(), "note": "Övning genomförd"},
    )
    assert resp.status_code == 302 and cond.status == "fulfilled"
    login(client, world.risk_owner)
    body = page_text(client.get(f"/approvals/{approval.id}"))
    assert "Uppfyllt" in body and "Övning genomförd" in body and "Återkalla beslutet" in body
    resp = client.post(f"/approvals/{approval.id}/revoke", data={"motivation": ""})
    assert resp.status_code == 422
    resp = client.post(f"/approvals/{approval.id}/revoke", data={"motivation": "Brister i driften"})
    assert resp.status_code == 302
    body = page_text(client.get(f"/approvals/{approval.id}"))
    assert "Återkallat" in body and "Brister i driften" in body and "behöver omprövas" in body


def test_queue_and_all_queues(world, client, make):
    world.ready()
    world.request()
    login(client, world.risk_owner)
    resp = client.get("/approvals/queue")
    body = page_text(resp)
    assert resp.status_code == 200 and "Journalsystemet Åäö" in body and "3-3-2" in body
    assert "Ransomware slår ut driften" in body
    assert "Journalsystemet Åäö" in page_text(client.get("/approvals"))
    login(client, make.user("risk_owner"))
    assert "Journalsystemet Åäö" not in page_text(client.get("/approvals/queue"))
    login(client, make.user("ciso"))
    body = page_text(client.get("/approvals/queues"))
    assert "Åsa Öberg-Riskägare" in body
    login(client, world.owner)
    assert client.get("/approvals/queue").status_code == 403


def test_overdue_condition_shows_for_owners(world, client, make):
    from tests.conftest import NOW

    world.approved(
        conditions=[{"text": "Logguppföljning införs", "due_on": today() + timedelta(days=1)}],
        now=NOW - timedelta(days=30),
    )
    db = world.s
    cond = world.s.query(Approval).one().conditions[0]
    cond.due_on = today() - timedelta(days=2)
    db.flush()
    for user in (world.risk_owner, world.owner, make.user("ciso")):
        login(client, user)
        body = page_text(client.get("/approvals"))
        assert "Logguppföljning införs" in body, user.roles
        assert "Logguppföljning införs" in page_text(client.get("/approvals/conditions?show=overdue"))
    login(client, world.owner)
    assert "1 villkor är försenat." in page_text(client.get(f"/systems/{world.system.id}"))


def test_the_conditions_page_counts_as_the_start_page_no_condition_of_a_revoked_decision(world, client, make):
    from riskreg.services import approvals as service
    from tests.conftest import NOW, actor

    world.approved(
        conditions=[{"text": "Logguppföljning införs", "due_on": today() + timedelta(days=1)}],
        now=NOW - timedelta(days=30),
    )
    approval = world.s.query(Approval).one()
    approval.conditions[0].due_on = today() - timedelta(days=2)
    world.s.flush()
    service.revoke(world.s, actor(world.risk_owner), approval.id, motivation="Villkoren följs inte")
    world.s.flush()
    login(client, world.risk_owner)
    assert "Logguppföljning införs" not in page_text(client.get("/approvals/conditions?show=overdue"))
    assert "Logguppföljning införs" not in page_text(client.get("/"))


def test_rejection_leads_to_the_plan_page(world, client, db_session):
    world.ready()
    world.request()
    login(client, world.risk_owner)
    resp = client.post(
        f"/systems/{world.system.id}/approval/decide",
        data={"decision": "rejected", "motivation": "Oacceptabla risker"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/systems/{world.system.id}/decommissioning"
    )
    assert world.system.lifecycle == "being_decommissioned"
    resp = client.post(
        f"/systems/{world.system.id}/decommissioning",
        data={
            "planned_on": (today() + timedelta(days=90)).isoformat(),
            "responsible_id": str(world.owner.id),
            "disposition": "transferred",
            "target_system": "Finns inte",
        },
    )
    assert resp.status_code == 422 and "Inget enskilt system har det namnet" in page_text(resp)
    resp = client.post(
        f"/systems/{world.system.id}/decommissioning",
        data={
            "planned_on": (today() + timedelta(days=90)).isoformat(),
            "responsible_id": str(world.owner.id),
            "disposition": "archived",
        },
    )
    assert resp.status_code == 302
    body = page_text(client.get(f"/systems/{world.system.id}/decommissioning"))
    assert "Arkiveras" in body and "Systemet är avvecklat" in body
    plan_id = int(
        re.search(
            r"/decommissioning/(\d+)/complete",
            client.get(f"/systems/{world.system.id}/decommissioning").get_data(as_text=True),
        ).group(1)
    )
    login(client, world.owner)
    assert client.post(f"/decommissioning/{plan_id}/complete").status_code == 302
    assert world.system.lifecycle == "decommissioned"


def test_verify_page_matching_wrong_and_tampered(world, client, make, db_session, app):
    approval = world.approved()
    login(client, make.user("dpo"))
    resp = client.get(f"/verify/{approval.reference}?sha256={approval.content_sha256}")
    assert resp.status_code == 200 and "Kontrollsumman stämmer: utskriften överensstämmer" in page_text(resp)
    resp = client.get(f"/verify/{approval.reference}?sha256={'f' * 64}")
    assert "Kontrollsumman stämmer inte" in page_text(resp)
    resp = client.get("/verify/DG-1999-0042")
    assert resp.status_code == 404 and "Registret har inget beslut" in page_text(resp)
    if app.config["BACKEND"] == "sqlite":  # PostgreSQL's trigger refuses this UPDATE (tested below)
        db_session.execute(
            sql("UPDATE approvals SET snapshot = :s WHERE id = :i"),
            {"s": '{"decision": "approved", "system": {"name": "Förfalskat"}}', "i": approval.id},
        )
        db_session.expire_all()
        resp = client.get(f"/verify/{approval.reference}?sha256={approval.content_sha256}")
        body = page_text(resp)
        assert "posten i registret har ändrats" in body and "Kontrollsumman stämmer inte" in body


def test_postgresql_refuses_editing_a_decision(world, db_session, app):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("the immutability trigger is PostgreSQL's")
    from sqlalchemy.exc import DBAPIError

    approval = world.approved()
    nested = db_session.begin_nested()
    with pytest.raises(DBAPIError):
        db_session.execute(
            sql("UPDATE approvals SET motivation = 'ändrad' WHERE id = :i"), {"i": approval.id}
        )
    nested.rollback()


def test_batch_print_with_progress(world, client, make, db_session):
    world.approved()
    other = World(make, db_session, name="Röntgensystemet")
    other.approved()
    ciso = make.user("ciso")
    login(client, ciso)
    assert client.get("/approvals/print").status_code == 200
    resp = client.post("/approvals/print", data={"org_unit_id": ""})
    assert resp.status_code == 302
    job = db_session.query(PdfJob).one()
    assert resp.headers["Location"].endswith(f"/approvals/print/{job.id}")
    assert job.total >= 2 and job.status == "done"
    body = page_text(client.get(f"/approvals/print/{job.id}"))
    assert "Ladda ned PDF-filen" in body and "Klart." in body
    status = client.get(f"/approvals/print/{job.id}/status").get_json()
    assert status["status"] == "done" and status["done"] == status["total"] and status["download"]
    pdf = client.get(status["download"])
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    login(client, make.user("ciso"))
    assert client.get(f"/approvals/print/{job.id}").status_code == 403


def reject_with_plan(world, client):
    world.ready()
    world.request()
    world.decide(decision="rejected", motivation="Oacceptabla risker")
    login(client, world.owner)
    resp = client.post(
        f"/systems/{world.system.id}/decommissioning",
        data={
            "planned_on": (today() + timedelta(days=90)).isoformat(),
            "responsible_id": str(world.owner.id),
            "disposition": "archived",
        },
    )
    assert resp.status_code == 302, page_text(resp)[:800]


def test_no_request_while_a_decommissioning_plan_is_open(world, client):
    reject_with_plan(world, client)
    body = page_text(client.get(f"/systems/{world.system.id}/approval"))
    assert "Systemet är under avveckling enligt en avvecklingsplan" in body and "Begär beslut" not in body
    resp = client.post(f"/systems/{world.system.id}/approval/request", data={"note": "Ny runda"})
    assert resp.status_code == 422
    assert "Beslut kan inte begäras förrän riskägaren (eller CISO) har avbrutit planen" in page_text(resp)
    assert world.system.open_request_id is None


def test_the_risk_owner_cancels_the_plan_on_its_page(world, client, make):
    reject_with_plan(world, client)
    page = client.get(f"/systems/{world.system.id}/decommissioning")
    assert "Avbryt avvecklingen" not in page_text(page)  # the system owner does not call it off
    plan_id = int(re.search(r"/decommissioning/(\d+)/complete", page.get_data(as_text=True)).group(1))
    assert client.post(f"/decommissioning/{plan_id}/cancel", data={"motivation": "x"}).status_code == 403
    login(client, world.risk_owner)
    assert "Avbryt avvecklingen" in page_text(client.get(f"/systems/{world.system.id}/decommissioning"))
    resp = client.post(f"/decommissioning/{plan_id}/cancel", data={"motivation": ""})
    assert resp.status_code == 422 and "Motivera varför planen avbryts" in page_text(resp)
    assert world.system.lifecycle == "being_decommissioned"
    resp = client.post(f"/decommissioning/{plan_id}/cancel", data={"motivation": "Bristerna är åtgärdade"})
    assert resp.status_code == 302
    body = page_text(client.get(f"/systems/{world.system.id}/decommissioning"))
    assert "Avvecklingsplanen är avbruten. Systemets livscykel är nu: I drift." in body
    assert "Avbruten" in body and "Bristerna är åtgärdade" in body and "Åsa Öberg-Riskägare" in body
    assert "Avbryt avvecklingen" not in body and world.system.lifecycle == "in_operation"
    login(client, world.owner)
    assert "Begär beslut" in page_text(client.get(f"/systems/{world.system.id}/approval"))


def test_the_decision_form_needs_each_risks_motivation_and_each_responsible(world, client, db_session):
    world.ready()
    world.request()
    login(client, world.risk_owner)
    form = client.get(f"/systems/{world.system.id}/approval/decide").get_data(as_text=True)
    selected = re.search(r'<select[^>]*name="conditions-0-responsible_id".*?</select>', form, re.S).group(0)
    owner = world.owner.id
    assert re.search(rf'<option selected value="{owner}"|<option value="{owner}" selected', selected)
    rid = world.high_risk_ids()[0]
    data = decide_form(world, **{f"accept-{rid}-motivation": "", "conditions-0-responsible_id": ""})
    resp = client.post(f"/systems/{world.system.id}/approval/decide", data=data)
    assert resp.status_code == 422 and db_session.query(Approval).count() == 0
    html_text = resp.get_data(as_text=True)
    beside = re.search(rf'<ul class="errors" id="accept-{rid}-errors">(.*?)</ul>', html_text, re.S)
    assert beside
    assert "Motivera varför Ransomware slår ut driften accepteras." in html.unescape(beside.group(1))
    assert "Välj vem som ansvarar för villkoret." in page_text(resp)
    resp = client.post(f"/systems/{world.system.id}/approval/decide", data=decide_form(world))
    assert resp.status_code == 302


def test_the_print_page_prints_a_chosen_selection(world, client, make, db_session):
    a = world.approved()
    other = World(make, db_session, name="Röntgen Östra")
    b = other.approved()
    login(client, make.user("ciso"))
    page = client.get("/approvals/print")
    text = page.get_data(as_text=True)
    assert f'name="approval_id" value="{a.id}"' in text and f'name="approval_id" value="{b.id}"' in text
    narrowed = client.get("/approvals/print?q=röntgen").get_data(as_text=True)
    assert f'value="{b.id}"' in narrowed and f'name="approval_id" value="{a.id}"' not in narrowed
    by_unit = client.get(f"/approvals/print?unit={world.system.org_unit_id}").get_data(as_text=True)
    assert f'value="{a.id}"' in by_unit and f'name="approval_id" value="{b.id}"' not in by_unit
    resp = client.post("/approvals/print", data={"print": "chosen"})
    assert resp.status_code == 422 and "Kryssa i de beslut som ska skrivas ut" in page_text(resp)
    resp = client.post("/approvals/print", data={"print": "chosen", "approval_id": [str(b.id)]})
    assert resp.status_code == 302
    job = db_session.query(PdfJob).one()
    assert job.selection["approval_ids"] == [b.id] and job.selection["chosen"] and job.status == "done"


def test_a_print_left_by_a_dead_worker_says_so_and_starts_again(world, client, make, db_session, app):
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
    login(client, ciso)
    page = client.get(f"/approvals/print/{job.id}")
    body = page_text(page)
    assert "Utskriften misslyckades." in body and "Utskriften avbröts (serverprocessen stoppades)" in body
    restart = re.search(r'<form method="post" class="restart"[^>]*>', page.get_data(as_text=True)).group(0)
    assert "hidden" not in restart
    assert client.get(f"/approvals/print/{job.id}/status").get_json()["status"] == "failed"
    resp = client.post(f"/approvals/print/{job.id}/restart")
    assert resp.status_code == 302
    new = db_session.query(PdfJob).filter(PdfJob.id != job.id).one()
    assert resp.headers["Location"].endswith(f"/approvals/print/{new.id}") and new.status == "done"


def test_overdue_conditions_on_the_risk_owners_start_page_and_the_systems_approval_page(world, client, make):
    from tests.conftest import NOW

    world.approved(
        conditions=[{"text": "Logguppföljning införs", "due_on": today() + timedelta(days=1),
                     "responsible_id": world.owner.id}],
        now=NOW - timedelta(days=30),
    )
    cond = world.s.query(Approval).one().conditions[0]
    cond.due_on = today() - timedelta(days=2)
    world.s.flush()
    login(client, world.risk_owner)
    body = page_text(client.get("/"))
    assert "Försenade villkor i dina beslut (1)" in body and "Logguppföljning införs" in body
    assert "Sara Systemägare" in body
    body = page_text(client.get(f"/systems/{world.system.id}/approval"))
    assert "1 villkor är försenat" in body and "Logguppföljning införs" in body
    login(client, make.user("risk_owner"))
    assert "Logguppföljning införs" not in page_text(client.get("/"))


def test_a_queued_system_of_ones_own_says_why_it_cannot_be_decided(make, db_session, client):
    both = make.user("system_owner", "risk_owner", name="Bo Båda")
    own = World(make, db_session, name="Eget system")
    own.system.system_owner_id = both.id
    own.system.risk_owner_id = both.id
    db_session.flush()
    from tests.approval_support import Filing

    Filing(db_session, own.system, both).ready()
    from riskreg.services import approvals
    from tests.conftest import actor

    approvals.request(db_session, actor(both), own.system.id)
    login(client, both)
    resp = client.get("/approvals/queue")
    body = page_text(resp)
    assert "Eget system" in body and "åtskillnad mellan uppgifter" in body
    assert f"/systems/{own.system.id}/approval/decide" not in resp.get_data(as_text=True)
    assert "åtskillnad mellan uppgifter" in page_text(client.get("/"))
    overview = client.get("/approvals")
    assert "åtskillnad mellan uppgifter" in page_text(overview)
    assert f"/systems/{own.system.id}/approval/decide" not in overview.get_data(as_text=True)


def test_a_risk_owner_has_the_decision_queue_in_the_menu(world, client):
    """The main menu leads a risk owner straight to their queue; a system owner has no queue."""
    nav = re.compile(r'<nav id="main-nav".*?</nav>', re.S)
    login(client, world.risk_owner)
    menu = nav.search(client.get("/").get_data(as_text=True)).group(0)
    assert 'href="/approvals/queue"' in menu and "Beslutskö" in menu
    login(client, world.owner)
    menu = nav.search(client.get("/").get_data(as_text=True)).group(0)
    assert "/approvals/queue" not in menu
