"""The filing journey in a real browser (Playwright on Debian's chromium, headless): a system owner files a
classification, a risk analysis with two risks and an action, a screening that requires a DPIA and the
DPIA; the DPO gives the opinion; the owner finalises it. Screenshots go to test-artifacts/filing/."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "filing"

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

    tmp = tempfile.mkdtemp(prefix="riskreg-filing-browser-")
    os.environ["RISKREG_INSTANCE"] = tmp
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/filing.db",
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
        user("dso@region.example", "Dana Dataskyddsombud", "dpo")
        unit = org_units.create(s, Actor(admin), name="Hälso- och sjukvård")
        system = systems.create(
            s,
            Actor(admin),
            {
                "name": "Cosmic",
                "org_unit_id": unit.id,
                "criticality": "A",
                "system_owner_id": owner.id,
                "risk_owner_id": risk_owner.id,
                "personal_data": "yes",
            },
        )
        s.commit()
        ids = {"system": system.id, "owner": owner.id}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "app": app, **ids}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


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


def said(page, message: str) -> None:
    """The page the last action led to shows ``message`` in a flash (waits for it, as a person would)."""
    from playwright.sync_api import expect

    expect(page.locator(".flash", has_text=message).first).to_be_visible(timeout=15000)


def test_owner_files_everything_and_the_dpo_gives_the_opinion(live, browser):
    from playwright.sync_api import expect

    base, sid = live["base"], live["system"]
    errors: list[str] = []
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    # script errors and CSP refusals; a form answered 422 (validation) is expected, not an error
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "status of 422" not in m.text else None,
    )

    log_in(page, base, "agare@region.example")
    page.goto(f"{base}/systems/{sid}/filing")
    assert "Beslutsunderlag" in page.content()
    shot(page, "01-overview-empty")

    # informationsklassning: own levels, motivations and an information set that raises K
    page.click("text=Ny informationsklassning")
    page.select_option("select[name=confidentiality]", "2")
    page.fill("textarea[name=confidentiality_motivation]", "Uppgifter om patienter omfattas av sekretess.")
    page.select_option("select[name=integrity]", "3")
    page.select_option("select[name=availability]", "3")
    page.fill("textarea[name=motivation]", "Journalsystem för slutenvården.")
    page.fill("input[name='information_sets-0-name']", "Journalanteckningar")
    page.select_option("select[name='information_sets-0-confidentiality']", "4")
    page.select_option("select[name='information_sets-0-integrity']", "3")
    page.select_option("select[name='information_sets-0-availability']", "2")
    page.locator("details.guidance").first.click()
    shot(page, "02-classification-form")
    page.click("button[name=finalise]")
    said(page, "Informationsklassningen är fastställd.")
    assert "4-3-3" in page.content()
    shot(page, "03-classification")

    # riskanalys: header, two risks (one with an action), the matrix, finalise
    page.click("nav.filing-tabs >> text=Riskanalys")
    page.click("text=Ny tom analys")
    page.fill("input[name=analysed_on]", "2026-03-02")
    page.fill("textarea[name=participants]", "Sara Systemansvarig, IT-säkerhet, avdelningschef")
    page.fill("textarea[name=scope]", "Cosmic i slutenvården")
    page.click("main button[type=submit]")
    said(page, "Riskanalysen är påbörjad.")

    page.click("text=Lägg till en risk")
    page.click("main button[type=submit]")  # empty: the Swedish message beside the title
    assert "Obligatoriskt." in page.locator("#title-err").inner_text()
    shot(page, "04-risk-validation")
    page.fill("input[name=title]", "Obehörig åtkomst till journal")
    page.select_option("select[name=aspect]", "K")
    page.select_option("select[name=likelihood]", "3")
    page.select_option("select[name=consequence]", "4")
    page.select_option("select[name=treatment]", "reduce")
    page.fill("textarea[name='actions-0-description']", "Inför tvåfaktorsinloggning")
    page.select_option("select[name='actions-0-responsible_id']", str(live["owner"]))
    page.fill("input[name='actions-0-due_on']", "2026-06-30")
    page.select_option("select[name=residual_likelihood]", "2")
    page.select_option("select[name=residual_consequence]", "4")
    page.click("main button[type=submit]")
    said(page, "Risken är sparad.")

    page.click("text=Lägg till en risk")
    page.fill("input[name=title]", "Leverantören upphör med produkten")
    page.select_option("select[name=aspect]", "T")
    page.select_option("select[name=likelihood]", "1")
    page.select_option("select[name=consequence]", "3")
    page.click("main button[type=submit]")
    said(page, "Risken är sparad.")
    matrix = page.locator("table.matrix").first
    assert matrix.locator("a").count() == 2
    shot(page, "05-risk-matrix-draft")
    page.click("text=Fastställ analysen")
    said(page, "Riskanalysen är fastställd.")
    assert page.locator("text=Lägg till en risk").count() == 0  # frozen
    shot(page, "06-risk-analysis-final")
    page.locator("table.matrix").first.locator("a").first.click()  # a cell links to its risks
    expect(page.locator("#risks-h")).to_contain_text("i vald ruta")

    # förhandsbedömning that requires a DPIA, then the DPIA
    page.click("nav.filing-tabs >> text=Konsekvensbedömning")
    page.click("text=Ny förhandsbedömning")
    page.check("input[value=sensitive_data]")
    page.check("input[value=vulnerable_subjects]")
    page.fill("textarea[name=motivation]", "Hälsouppgifter om patienter.")
    shot(page, "07-screening-form")
    page.click("main button[type=submit]")
    said(page, "en konsekvensbedömning krävs")
    page.click("text=Ny konsekvensbedömning")
    for name, value in (
        ("description", "Journalföring i slutenvården."),
        ("purposes", "Vård och behandling."),
        ("legal_basis", "Rättslig förpliktelse, GDPR art. 6.1 c och 9.2 h."),
        ("necessity", "Uppgifterna behövs för en god och säker vård."),
        ("risks", "Obehörig åtkomst, felaktiga uppgifter."),
        ("measures", "Behörighetsstyrning, loggning och logguppföljning."),
    ):
        page.fill(f"textarea[name={name}]", value)
    page.click("main button[type=submit]")
    said(page, "Nästa steg är dataskyddsombudets yttrande.")
    assert page.locator("text=Lämna yttrande").count() == 0
    dpia_url = page.url
    shot(page, "08-dpia-draft")
    page.click("header button:has-text('Logga ut')")

    # the DPO gives the opinion
    log_in(page, base, "dso@region.example")
    page.goto(dpia_url)
    page.fill("textarea[name=opinion]", "Konsekvensbedömningen är tillräcklig. Inga invändningar.")
    page.select_option("select[name=prior_consultation_required]", "no")
    shot(page, "09-dpo-opinion-form")
    page.click("text=Lämna yttrande")
    said(page, "Yttrandet är registrerat.")
    assert "Inga invändningar" in page.content()
    shot(page, "10-dpo-opinion-given")
    page.click("header button:has-text('Logga ut')")

    # the owner finalises the DPIA; the overview shows every record
    log_in(page, base, "agare@region.example")
    page.goto(dpia_url)
    page.click("text=Fastställ konsekvensbedömningen")
    said(page, "Konsekvensbedömningen är fastställd.")
    page.goto(f"{base}/systems/{sid}/filing")
    content = page.content()
    assert "Konsekvensbedömning fastställd" in content and "4-3-3" in content
    shot(page, "11-overview-filed")
    assert not errors, errors
    context.close()

    from riskreg import lifecycle
    from riskreg.extensions import db
    from riskreg.models import System

    with live["app"].app_context():
        system = db.session.get(System, sid)
        assert system.current_classification_id and system.current_risk_analysis_id and system.current_dpia_id
        assert (
            lifecycle.stage_of(db.session, sid, __import__("datetime").date.today()).value == "risk_analysed"
        )
