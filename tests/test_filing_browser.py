"""The filing journey in a real browser (Playwright on Debian's chromium, headless): a system owner files a
classification, a risk analysis with two risks and an action, a screening that requires a DPIA and the
DPIA; the DPO gives the opinion; the owner finalises it. Screenshots go to test-artifacts/filing/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

import pytest

from tests.browser_support import (
    browser,  # noqa: F401  (a fixture)
    console_errors,
    fill_opinion,
    live_app,
    log_in,
    log_out,
    said,
    screenshots,
    send_opinion,
    serve,
    write_dpia,
)
from tests.conftest import Factory

shot = screenshots("filing")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.services import org_units, systems

    app, _ = live_app("filing")
    with app.app_context():
        s = db.session
        make = Factory(s)
        admin = make.user("admin", email="admin@region.example", name="Ada Admin")
        owner = make.user("system_owner", email="agare@region.example", name="Sara Systemansvarig")
        risk_owner = make.user("risk_owner", email="risk@region.example", name="Rolf Riskägare")
        make.user("dpo", email="dso@region.example", name="Dana Dataskyddsombud")
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
    with serve(app) as base:
        yield {"base": base, "app": app, **ids}


def test_owner_files_everything_and_the_dpo_gives_the_opinion(live, browser):
    from playwright.sync_api import expect

    base, sid = live["base"], live["system"]
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    # script errors and CSP refusals; a form answered 422 (validation) is expected, not an error
    errors = console_errors(page, ignore=("status of 422",))

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
    write_dpia(page, "Journalföring i slutenvården.")
    assert page.locator("text=Lämna yttrande").count() == 0
    dpia_url = page.url
    shot(page, "08-dpia-draft")
    log_out(page, base)

    # the DPO gives the opinion
    log_in(page, base, "dso@region.example")
    page.goto(dpia_url)
    fill_opinion(page)
    shot(page, "09-dpo-opinion-form")
    send_opinion(page)
    shot(page, "10-dpo-opinion-given")
    log_out(page, base)

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
