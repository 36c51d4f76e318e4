"""The whole way in one browser over every role (issue #8; Playwright on Debian's chromium, headless): the
admin imports a list of systems and applies it; the system owner named in the list files the
classification, a risk analysis, the screening that requires a DPIA and the DPIA; the DPO gives the
opinion; the owner finalises the DPIA and requests a decision; the risk owner decides from the queue; the
CISO finds the system behind the coverage report's approved figure and downloads the report and the
decision as PDF. Screenshots and PDFs go to test-artifacts/journey/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pypdf
import pytest

from tests.browser_support import (
    artifacts,
    browser,  # noqa: F401  (a fixture)
    console_errors,
    download,
    fill_opinion,
    live_app,
    log_in,
    log_out,
    said,
    screenshots,
    send_opinion,
    serve,
    upload_list,
    write_dpia,
)
from tests.conftest import Factory

shot = screenshots("journey")

pytestmark = pytest.mark.browser

ADMIN, OWNER, RISK_OWNER, DPO, CISO = (
    "admin@region.example",
    "agare@region.example",
    "risk@region.example",
    "dso@region.example",
    "ciso@region.example",
)
NEW = "Akutjournalen"
# one row the register already holds (to be merged) and one new system with its owners and facts
LIST = (
    "Systemnamn;Leverantör;Systemägare;Riskägare;Personuppgifter;Kritikalitet\r\n"
    "Cosmic;Cambio;;;;\r\n"
    f"{NEW};Nordvård AB;{OWNER};{RISK_OWNER};ja;A\r\n"
).encode()


@pytest.fixture(scope="module")
def live():
    """Minimal data: one account per role, an org unit and one system already in the register."""
    from riskreg.extensions import db

    app, _ = live_app("journey")
    with app.app_context():
        make = Factory(db.session)
        admin = make.user("admin", email=ADMIN, name="Ada Admin")
        owner = make.user("system_owner", email=OWNER, name="Sara Systemansvarig")
        make.user("risk_owner", email=RISK_OWNER, name="Rolf Riskägare")
        make.user("dpo", email=DPO, name="Dana Dataskyddsombud")
        make.user("ciso", email=CISO, name="Cecilia Säkerhetschef")
        unit = make.org_unit(name="Hälso- och sjukvård")
        make.system(admin=admin, name="Cosmic", supplier="Cambio", org_unit_id=unit.id)
        db.session.commit()
        ids = {"unit": unit.id, "owner": owner.id}
    with serve(app) as base:
        yield {"base": base, **ids}


def stage_is(page, label: str) -> None:
    """The page's heading carries the stage badge ``label``."""
    from playwright.sync_api import expect

    expect(page.locator("h1 .badge")).to_have_text(label)


def import_row(page, name: str):
    """The review's row for the system called ``name`` (by its heading: candidates may name others)."""
    return page.locator("[data-row]").filter(has=page.locator(".row-head", has_text=name))


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages).split())


def test_the_whole_way_over_every_role(live, browser):
    from playwright.sync_api import expect

    base = live["base"]
    today = date.today()
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="sv-SE", accept_downloads=True
    )
    page = context.new_page()
    errors = console_errors(page)  # script errors, CSP refusals; no form here is refused (422)
    page.on("dialog", lambda d: d.accept())  # the import's "apply?" confirmation

    # 1. the admin uploads the list, decides both rows and applies it: the new system exists
    log_in(page, base, ADMIN)
    path = artifacts("journey") / "systems.csv"
    path.write_bytes(LIST)
    upload_list(page, base, path, "servicenow", live["unit"])
    page.wait_for_selector("#review-link")
    assert "Klar för granskning" in page.locator("#import-status").inner_text()
    mapped = {page.locator(f"#map-{i}").input_value() for i in range(6)}
    assert mapped == {"name", "supplier", "system_owner", "risk_owner", "personal_data", "criticality"}
    shot(page, "01-admin-import-uploaded")

    page.click("#review-link")
    page.wait_for_selector("[data-row]")
    known = import_row(page, "Cosmic")
    merge = known.locator("input[value^='merge:']")
    assert merge.count() == 1 and "Cosmic" in known.locator("label[for^=c-]").first.inner_text()
    merge.check()
    with page.expect_navigation():
        known.locator("button.save").click()
    new = import_row(page, NEW)
    new.locator("input[value=create]").check()
    with page.expect_navigation():
        new.locator("button.save").click()
    for name in ("Cosmic", NEW):
        expect(import_row(page, name).locator(".row-meta")).to_contain_text("Beslut:")
    shot(page, "02-admin-review-decided")
    page.click("button:has-text('Genomför importen')")
    said(page, "Importen genomfördes.")
    shot(page, "03-admin-import-applied")

    page.click("text=Visa raderna")
    import_row(page, NEW).locator(".row-meta a").click()
    page.wait_for_url(re.compile(r"/systems/\d+$"))
    system_url = page.url
    stage_is(page, "Ej påbörjad")
    owners = page.locator("section[aria-labelledby=owners-h]").inner_text()
    assert "Sara Systemansvarig" in owners and "Rolf Riskägare" in owners
    facts = page.locator("section[aria-labelledby=facts-h]").inner_text()
    assert "Nordvård AB" in facts and "Hälso- och sjukvård" in facts
    shot(page, "04-admin-new-system")
    log_out(page, base)

    # 2. the system owner finds the system on the start page and files the decision's basis
    log_in(page, base, OWNER)
    page.locator("section[aria-labelledby=own-h]").get_by_role("link", name=NEW).click()
    page.wait_for_url(system_url)
    page.locator(".filing-panel").get_by_role("link", name="Ny informationsklassning").click()
    page.select_option("select[name=confidentiality]", "3")
    page.fill("textarea[name=confidentiality_motivation]", "Patientuppgifter omfattas av sekretess.")
    page.select_option("select[name=integrity]", "3")
    page.select_option("select[name=availability]", "2")
    page.fill("textarea[name=motivation]", "Journalsystem för akutmottagningen.")
    shot(page, "05-owner-classification-form")
    page.click("button[name=finalise]")
    said(page, "Informationsklassningen är fastställd.")
    assert "3-3-2" in page.content()
    shot(page, "06-owner-classified")

    page.click("nav.filing-tabs >> text=Riskanalys")
    page.click("text=Ny tom analys")
    page.fill("input[name=analysed_on]", today.isoformat())
    page.fill("textarea[name=participants]", "Sara Systemansvarig, IT-säkerhet")
    page.fill("textarea[name=scope]", f"{NEW} på akutmottagningen")
    page.click("main button[type=submit]")
    said(page, "Riskanalysen är påbörjad.")
    page.click("text=Lägg till en risk")
    page.fill("input[name=title]", "Obehörig åtkomst till journalen")
    page.select_option("select[name=aspect]", "K")
    page.select_option("select[name=likelihood]", "3")
    page.select_option("select[name=consequence]", "3")
    page.select_option("select[name=treatment]", "reduce")
    page.fill("textarea[name='actions-0-description']", "Inför tvåfaktorsinloggning")
    page.select_option("select[name='actions-0-responsible_id']", str(live["owner"]))
    page.fill("input[name='actions-0-due_on']", (today + timedelta(days=120)).isoformat())
    page.select_option("select[name=residual_likelihood]", "2")
    page.select_option("select[name=residual_consequence]", "2")
    page.click("main button[type=submit]")
    said(page, "Risken är sparad.")
    page.click("text=Fastställ analysen")
    said(page, "Riskanalysen är fastställd.")
    assert page.locator("table.matrix").first.locator("a").count() == 1
    shot(page, "07-owner-risk-analysis")

    page.click("nav.filing-tabs >> text=Konsekvensbedömning")
    page.click("text=Ny förhandsbedömning")
    page.check("input[value=sensitive_data]")
    page.check("input[value=vulnerable_subjects]")
    page.fill("textarea[name=motivation]", "Hälsouppgifter om patienter i akut läge.")
    page.click("main button[type=submit]")
    said(page, "en konsekvensbedömning krävs")
    page.click("text=Ny konsekvensbedömning")
    write_dpia(page, "Journalföring på akutmottagningen.")
    shot(page, "08-owner-dpia-draft")

    # the approval page names what is still missing: the DPIA with the DPO's opinion
    page.goto(system_url)
    stage_is(page, "Konsekvensbedömning pågår")
    page.locator(".approval-panel a.button").click()
    missing = page.locator("ul.checklist li.missing")
    expect(missing).to_have_count(1)
    assert "dataskyddsombudets yttrande" in missing.inner_text()
    assert page.locator("button:has-text('Begär beslut')").count() == 0
    shot(page, "09-owner-checklist-awaits-opinion")
    log_out(page, base)

    # 3. the DPO finds the DPIA on the start page and gives the opinion
    log_in(page, base, DPO)
    page.locator("section[aria-labelledby=dpo-h]").get_by_role("link", name=NEW).click()
    page.wait_for_url(re.compile(r"/dpias/\d+$"))
    fill_opinion(page)
    send_opinion(page)
    shot(page, "10-dpo-opinion")
    log_out(page, base)

    # the owner finalises the DPIA and requests the decision
    log_in(page, base, OWNER)
    page.goto(system_url)
    page.locator(".filing-panel").get_by_role("link", name="Ett utkast med yttrande, att fastställa").click()
    page.click("text=Fastställ konsekvensbedömningen")
    said(page, "Konsekvensbedömningen är fastställd.")
    page.goto(system_url)
    page.locator(".approval-panel a.button").click()
    expect(page.locator("ul.checklist li.missing")).to_have_count(0)
    page.fill("textarea[name=note]", "Akutjournalen tas i drift efter importen.")
    page.click("button:has-text('Begär beslut')")
    said(page, "Beslut är begärt.")
    stage_is(page, "Inväntar beslut")
    shot(page, "11-owner-requested")
    log_out(page, base)

    # 4. the risk owner decides from the queue: approved with a condition
    log_in(page, base, RISK_OWNER)
    page.locator("#main-nav").get_by_role("link", name="Beslutskö", exact=True).click()  # a risk owner's own entry
    row = page.locator("table.queue tbody tr", has_text=NEW)
    expect(row).to_have_count(1)
    assert "3-3-2" in row.inner_text()
    shot(page, "12-risk-owner-queue")
    row.locator("a:has-text('Besluta')").click()
    page.wait_for_url(re.compile(r"/approval/decide$"))
    assert page.locator(".accept-risk").count() == 0  # no residual risk high enough to accept
    page.check("input[value=approved_with_conditions]")
    page.fill("textarea[name=motivation]", "Godtagbart när tvåfaktorsinloggningen är införd.")
    due = (today + timedelta(days=90)).isoformat()
    page.fill("#conditions-0-text", "Tvåfaktorsinloggning införd på akutmottagningen")
    page.select_option("#conditions-0-responsible_id", label="Sara Systemansvarig")
    page.fill("#conditions-0-due_on", due)
    shot(page, "13-risk-owner-decision-form")
    page.click("button:has-text('Registrera beslutet')")
    said(page, "är registrerat.")
    reference = page.locator("dl.facts dd").first.inner_text().strip()
    assert reference.startswith("DG-")
    main = page.locator("main").inner_text()
    assert "Godkänd med villkor" in main and "Tvåfaktorsinloggning införd på akutmottagningen" in main
    shot(page, "14-risk-owner-decided")
    page.goto(system_url)
    stage_is(page, "Godkänd med villkor")
    log_out(page, base)

    # 5. the CISO reads the coverage report, follows the approved figure to the system, downloads PDFs
    log_in(page, base, CISO)
    page.locator("#main-nav").get_by_role("link", name="Täckningsrapport").click()
    page.wait_for_url(re.compile(r"/reports/coverage"))
    approved = page.locator('a[data-figure="approved_valid"]')
    assert approved.inner_text() == "1"
    assert page.locator('a[data-figure="with_conditions"]').inner_text() == "1"
    shot(page, "15-ciso-coverage")
    coverage = download(page, "ul.exports a:text-is('PDF')", keep=artifacts("journey") / "coverage.pdf")
    assert coverage[:5] == b"%PDF-"
    assert "Täckningsrapport" in pdf_text(coverage)

    approved.click()
    page.wait_for_url(re.compile(r"/systems\?.*approved_valid="))
    assert set(page.locator("td.primary > a").all_inner_texts()) == {NEW}
    shot(page, "16-ciso-approved-systems")
    page.locator("td.primary > a", has_text=NEW).click()
    page.wait_for_url(system_url)
    page.locator(".approval-panel").get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(r"/approvals/\d+$"))
    shot(page, "17-ciso-decision")
    decision = download(page, "a:has-text('Ladda ned PDF')", keep=artifacts("journey") / "decision.pdf")
    assert decision[:5] == b"%PDF-"
    text = pdf_text(decision)
    assert reference in text and NEW in text and "Godkänt med villkor" in text
    assert "Tvåfaktorsinloggning införd på akutmottagningen" in text
    assert errors == [], errors
    context.close()
