"""The coverage report in a real browser (Playwright on Debian's chromium, headless): the CISO opens the
page, clicks a number and lands on the list of exactly those systems, clicks a bar of a chart likewise;
the page as printed; the PDF's first page rendered with pypdfium2. Screenshots go to
test-artifacts/reports/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

import re

import pytest

from tests.browser_support import (
    artifacts,
    browser,  # noqa: F401  (a fixture)
    live_app,
    log_in,
    screenshots,
    serve,
)
from tests.conftest import Factory
from tests.test_reports_fixture import build_region

shot = screenshots("reports")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    """The app on a file-based SQLite database holding the report's test region, served by werkzeug."""
    from datetime import timedelta

    from riskreg.extensions import db

    app, _ = live_app("reports")
    with app.app_context():
        region = build_region(Factory(db.session), db.session)
        db.session.commit()
        app.config["PROGRAMME_START"] = (region.today - timedelta(days=52)).isoformat()
        info = {
            "email": region.users["ciso"].email,
            "S7": region.systems["S7"].name,
            "approved": {region.systems[k].name for k in ("S5", "S6", "S10")},
        }
    with serve(app) as base:
        yield base, info


def names_listed(page) -> set[str]:
    return set(page.locator("td.primary > a").all_inner_texts())


def test_ciso_clicks_a_number_and_lands_on_those_systems(live, browser):
    base, info = live
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, base, info["email"])
    page.get_by_role("link", name="Täckningsrapport").first.click()
    page.wait_for_url(re.compile(r"/reports/coverage"))
    assert page.get_by_role("heading", name="Täckningsrapport").is_visible()
    shot(page, "coverage")

    expired = page.locator('a[data-figure="expired"]')
    assert expired.inner_text() == "1"
    expired.click()
    page.wait_for_url(re.compile(r"/systems\?.*expired=1"))
    assert names_listed(page) == {info["S7"]}
    shot(page, "drilldown-expired")

    page.go_back()
    page.wait_for_url(re.compile(r"/reports/coverage"))
    bar = page.locator("#chart-funnel a").filter(has_text="3 (27 %)")  # approved and valid, in the SVG
    bar.click()
    page.wait_for_url(re.compile(r"/systems\?.*approved_valid=1"))
    assert names_listed(page) == info["approved"]

    page.goto(f"{base}/reports/coverage")
    page.keyboard.press("Tab")
    page.emulate_media(media="print")
    shot(page, "coverage-print")
    assert not page.locator(".report-filters").is_visible()
    page.emulate_media(media="screen")
    assert not violations, violations

    pdf = page.request.get(f"{base}/reports/coverage.pdf")
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf.body())
    doc[0].render(scale=1.5).to_pil().save(artifacts("reports") / "coverage-pdf-page1.png")
    assert len(doc) >= 2
    context.close()


def test_phone_width_keeps_the_page_in_the_viewport(live, browser):
    base, info = live
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, base, info["email"], press_enter=True)
    page.goto(f"{base}/reports/coverage")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways ({width}px)"
    shot(page, "coverage-phone")
    context.close()
