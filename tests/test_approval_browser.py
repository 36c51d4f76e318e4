"""Driftgodkännande in a real browser (Playwright on Debian's chromium, headless): the system owner sees
the checklist of what is missing, completes it and requests a decision; the risk owner finds it in the
queue, accepts the high residual risk, sets a condition and approves; the PDF is downloaded and read; the
CISO prints decisions as one PDF and follows the progress. Screenshots go to test-artifacts/approvals/."""

from __future__ import annotations

import io
import os
import secrets
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from tests.conftest import IN_CI, PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "approvals"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required with CI=true")
        pytest.skip(f"{CHROMIUM} is not installed")
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from riskreg import create_app
    from riskreg.actor import SYSTEM_ACTOR, Actor
    from riskreg.extensions import db
    from riskreg.services import accounts, org_units, systems
    from tests.approval_support import Filing

    tmp = tempfile.mkdtemp(prefix="riskreg-approval-browser-")
    os.environ["RISKREG_INSTANCE"] = tmp
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/approval.db",
            "RISKREG_ENV": "development",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        s = db.session

        def user(email, name, role):
            return accounts.create_user(
                s,
                SYSTEM_ACTOR,
                email=email,
                name=name,
                roles=[role],
                password=PASSWORD,
                check_permission=False,
            )

        admin = user("admin@region.example", "Ada Admin", "admin")
        owner = user("agare@region.example", "Sara Systemansvarig", "system_owner")
        risk_owner = user("risk@region.example", "Rolf Riskägare", "risk_owner")
        user("ciso@region.example", "Cecilia Säkerhetschef", "ciso")
        unit = org_units.create(s, Actor(admin), name="Hälso- och sjukvård")
        system = systems.create(
            s,
            Actor(admin),
            {
                "name": "Cosmic Journal",
                "org_unit_id": unit.id,
                "criticality": "A",
                "system_owner_id": owner.id,
                "risk_owner_id": risk_owner.id,
                "personal_data": "yes",
                "supplier": "Cambio",
            },
        )
        Filing(s, system, owner).classify(at=datetime.now(UTC))
        s.commit()
        ids = {"system": system.id, "owner": owner.id}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "app": app, **ids}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def finish_filing(live) -> None:
    """The rest of the filing (the filing feature's own pages are tested in its browser test)."""
    from riskreg.extensions import db
    from riskreg.models import System, User
    from tests.approval_support import Filing

    with live["app"].app_context():
        system = db.session.get(System, live["system"])
        filing = Filing(db.session, system, db.session.get(User, live["owner"]))
        now = datetime.now(UTC)
        filing.analyse(at=now)
        filing.screen(at=now)
        filing.dpia(at=now)
        filing.sla(at=now)
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_request_decide_with_conditions_and_download_the_pdf(live, browser):
    base, sid = live["base"], live["system"]
    errors: list[str] = []
    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    page = context.new_page()
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "status of 422" not in m.text else None,
    )

    # the system owner: the checklist names each gap with a link to fix it
    log_in(page, base, "agare@region.example")
    page.goto(f"{base}/systems/{sid}/approval")
    checklist = page.locator("ul.checklist")
    assert checklist.locator("li.missing").count() == 2  # the risk analysis and the screening
    assert checklist.locator("li.missing a").count() == 2
    assert page.locator("text=Begär beslut").count() == 0
    shot(page, "01-checklist-missing")

    finish_filing(live)
    page.reload()
    assert page.locator("ul.checklist li.missing").count() == 0
    page.fill("textarea[name=note]", "Inför förnyad drift efter uppgradering.")
    page.click("button:has-text('Begär beslut')")
    page.wait_for_url(f"{base}/systems/{sid}/approval")
    assert "Inväntar beslut" in page.content()
    shot(page, "02-requested")
    page.click("header .who button:has-text('Logga ut')")

    # the risk owner: the queue, then the decision
    log_in(page, base, "risk@region.example")
    page.goto(f"{base}/approvals/queue")
    row = page.locator("table.queue tbody tr", has_text="Cosmic Journal")
    assert row.count() == 1 and "3-3-2" in row.inner_text()
    shot(page, "03-queue")
    row.locator("a:has-text('Besluta')").click()
    page.wait_for_url(f"{base}/systems/{sid}/approval/decide")
    page.check("input[value=approved_with_conditions]")
    assert page.locator("#conditions").is_visible()
    page.check("input[value=rejected]")
    assert not page.locator("#conditions").is_visible() and not page.locator("#risks").is_visible()
    page.check("input[value=approved_with_conditions]")
    page.fill("textarea[name=motivation]", "Godtagbart under förutsättning att offline-rutinen övas.")
    risk = page.locator(".accept-risk", has_text="Ransomware")
    risk.locator("input[type=checkbox]").check()
    risk.locator("textarea").fill("Reservrutiner och säkerhetskopior finns; risken bärs av verksamheten.")
    rows_before = page.locator(".condition-row").count()
    page.click("button.add-condition")
    assert page.locator(".condition-row").count() == rows_before + 1
    due = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    page.fill("#conditions-0-text", "Offline-rutin övas på akutmottagningen")
    page.select_option("#conditions-0-responsible_id", label="Sara Systemansvarig")
    page.fill("#conditions-0-due_on", due)
    shot(page, "04-decision-form")
    page.click("button:has-text('Registrera beslutet')")
    page.wait_for_url(f"{base}/approvals/*")
    content = page.content()
    assert "DG-" in content and "Offline-rutin övas på akutmottagningen" in content
    reference = page.locator("dl.facts dd").first.inner_text().strip()
    shot(page, "05-decision")

    with page.expect_download() as info:
        page.click("a:has-text('Ladda ned PDF')")
    download = info.value
    target = ARTIFACTS / "decision.pdf"
    download.save_as(str(target))
    pdf = target.read_bytes()
    assert pdf[:5] == b"%PDF-"
    text = " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert reference in text and "Cosmic Journal" in text and "Godkänt med villkor" in text
    assert "Offline-rutin övas på akutmottagningen" in text and "Sida 1 av" in text

    # anyone signed in checks a printed copy against the register
    page.goto(f"{base}/verify/{reference}")
    sha = page.locator("dl.facts code.sha").inner_text().strip()
    page.fill("input[name=sha256]", sha)
    page.click("form.verify-form button")
    assert "Kontrollsumman stämmer" in page.locator(".verdict").inner_text()
    shot(page, "06-verified")
    assert errors == [], errors
    context.close()


def decided_system(live, name: str) -> None:
    """A system with a decision, made through the services (this test must not rely on the one above:
    under xdist the module's server may be set up again between the two)."""
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.models import OrgUnit, System, User
    from riskreg.services import approvals, systems
    from tests.approval_support import Filing

    with live["app"].app_context():
        s = db.session
        owner, risk_owner = (
            s.query(User).filter_by(email=e).one() for e in ("agare@region.example", "risk@region.example")
        )
        admin = s.query(User).filter_by(email="admin@region.example").one()
        system = systems.create(
            s,
            Actor(admin),
            {
                "name": name,
                "org_unit_id": s.query(OrgUnit).first().id,
                "system_owner_id": owner.id,
                "risk_owner_id": risk_owner.id,
            },
        )
        Filing(s, s.get(System, system.id), owner).ready(risks=[("Driftavbrott", "T", 2, 2, 1, 2)])
        approvals.request(s, Actor(owner), system.id)
        approvals.decide(s, Actor(risk_owner), system.id, decision="approved", motivation="Låga risker")
        s.commit()
        db.session.remove()


def test_ciso_prints_decisions_with_progress(live, browser):
    base = live["base"]
    decided_system(live, "Röntgen PACS")
    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    page = context.new_page()
    log_in(page, base, "ciso@region.example")
    page.goto(f"{base}/approvals/print")
    page.click("button:has-text('Starta utskriften')")
    page.wait_for_url(f"{base}/approvals/print/*")
    page.locator("a.download").wait_for(state="visible", timeout=30_000)
    assert page.locator("progress").get_attribute("value") == page.locator("progress").get_attribute("max")
    shot(page, "07-batch-print-done")
    with page.expect_download() as info:
        page.click("a.download")
    data = Path(info.value.path()).read_bytes()
    assert data[:5] == b"%PDF-"
    context.close()
