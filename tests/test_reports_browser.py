"""The coverage report in a real browser (Playwright on Debian's chromium, headless): the CISO opens the
page, clicks a number and lands on the list of exactly those systems, clicks a bar of a chart likewise;
the page as printed; the PDF's first page rendered with pypdfium2. Screenshots go to
test-artifacts/reports/."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PASSWORD, Factory
from tests.test_reports_fixture import build_region

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reports"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    """The app on a file-based SQLite database holding the report's test region, served by werkzeug."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required with CI=true")
        pytest.skip(f"{CHROMIUM} is not installed")
    from datetime import timedelta

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from riskreg import create_app
    from riskreg.extensions import db

    tmp = tempfile.mkdtemp(prefix="riskreg-reports-browser-")
    os.environ["RISKREG_INSTANCE"] = tmp
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/reports.db",
            "RISKREG_ENV": "development",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        region = build_region(Factory(db.session), db.session)
        db.session.commit()
        app.config["PROGRAMME_START"] = (region.today - timedelta(days=52)).isoformat()
        info = {
            "email": region.users["ciso"].email,
            "S7": region.systems["S7"].name,
            "approved": {region.systems[k].name for k in ("S5", "S6", "S10")},
        }
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", info
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def names_listed(page) -> set[str]:
    return set(page.locator("td.primary > a").all_inner_texts())


def test_ciso_clicks_a_number_and_lands_on_those_systems(live, browser):
    base, info = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", info["email"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "button[type=submit]"
    ).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Täckningsrapport").first.click()
    page.wait_for_url(re.compile(r"/reports/coverage"))
    assert page.get_by_role("heading", name="Täckningsrapport").is_visible()
    page.screenshot(path=str(ARTIFACTS / "coverage.png"), full_page=True)

    expired = page.locator('a[data-figure="expired"]')
    assert expired.inner_text() == "1"
    expired.click()
    page.wait_for_url(re.compile(r"/systems\?.*expired=1"))
    assert names_listed(page) == {info["S7"]}
    page.screenshot(path=str(ARTIFACTS / "drilldown-expired.png"), full_page=True)

    page.go_back()
    page.wait_for_url(re.compile(r"/reports/coverage"))
    bar = page.locator("#chart-funnel a").filter(has_text="3 (27 %)")  # approved and valid, in the SVG
    bar.click()
    page.wait_for_url(re.compile(r"/systems\?.*approved_valid=1"))
    assert names_listed(page) == info["approved"]

    page.goto(f"{base}/reports/coverage")
    page.keyboard.press("Tab")
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "coverage-print.png"), full_page=True)
    assert not page.locator(".report-filters").is_visible()
    page.emulate_media(media="screen")
    assert not violations, violations

    pdf = page.request.get(f"{base}/reports/coverage.pdf")
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf.body())
    doc[0].render(scale=1.5).to_pil().save(ARTIFACTS / "coverage-pdf-page1.png")
    assert len(doc) >= 2
    context.close()


def test_phone_width_keeps_the_page_in_the_viewport(live, browser):
    base, info = live
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", info["email"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state()
    page.goto(f"{base}/reports/coverage")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways ({width}px)"
    page.screenshot(path=str(ARTIFACTS / "coverage-phone.png"), full_page=True)
    context.close()
