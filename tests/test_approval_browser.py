"""Driftgodkännande in a real browser (Playwright on Debian's chromium, headless): the system owner sees
the checklist of what is missing, completes it and requests a decision; the risk owner finds it in the
queue, accepts the high residual risk, sets a condition and approves; the PDF is downloaded and read; the
CISO prints decisions as one PDF and follows the progress. Screenshots go to test-artifacts/approvals/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pypdf
import pytest

from tests.browser_support import (
    artifacts,
    browser,  # noqa: F401  (a fixture)
    console_errors,
    download,
    live_app,
    log_in,
    log_out,
    screenshots,
    serve,
)
from tests.conftest import Factory

shot = screenshots("approvals")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.services import org_units, systems
    from tests.approval_support import Filing

    app, _ = live_app("approval")
    with app.app_context():
        s = db.session
        make = Factory(s)
        admin = make.user("admin", email="admin@region.example", name="Ada Admin")
        owner = make.user("system_owner", email="agare@region.example", name="Sara Systemansvarig")
        risk_owner = make.user("risk_owner", email="risk@region.example", name="Rolf Riskägare")
        make.user("ciso", email="ciso@region.example", name="Cecilia Säkerhetschef")
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
    with serve(app) as base:
        yield {"base": base, "app": app, **ids}


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


def test_request_decide_with_conditions_and_download_the_pdf(live, browser):
    base, sid = live["base"], live["system"]
    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    page = context.new_page()
    errors = console_errors(page, ignore=("status of 422",))

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
    log_out(page, base)

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

    pdf = download(page, "a:has-text('Ladda ned PDF')", keep=artifacts("approvals") / "decision.pdf")
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
    data = download(page, "a.download")
    assert data[:5] == b"%PDF-"
    context.close()
