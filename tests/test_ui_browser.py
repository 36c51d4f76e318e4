"""The register in a real browser (Playwright on Debian's chromium, headless): log in, search the list,
open a system, edit it as an admin; the same list on a phone; keyboard use; and an accessibility sweep of
each page (labels, alt texts, no horizontal scrolling, no CSP violations). Screenshots go to
test-artifacts/ui/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

import pytest

from tests.browser_support import (
    browser,  # noqa: F401  (a fixture)
    live_app,
    log_in,
    screenshots,
    serve,
)
from tests.conftest import Factory

shot = screenshots("ui")

pytestmark = pytest.mark.browser

# Problems a page must not have, found by script in the browser: unlabelled controls, images without alt.
A11Y_SCRIPT = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || el.type === 'submit' || el.type === 'button') continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled ' + el.tagName + ' ' + (el.name || el.id));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt ' + img.src);
  }
  for (const b of document.querySelectorAll('button, a[href]')) {
    const visible = b.checkVisibility();
    if (visible && !(b.innerText || '').trim() && !b.getAttribute('aria-label'))
      problems.push('nameless ' + b.outerHTML.slice(0, 80));
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def live():
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.services import org_units, systems

    app, _ = live_app("ui")
    with app.app_context():
        s = db.session
        make = Factory(s)
        admin = make.user("admin", email="admin@region.example", name="Ada Admin")
        owner = make.user("system_owner", email="agare@region.example", name="Sara Systemansvarig")
        risk = make.user("risk_owner", email="risk@region.example", name="Rolf Riskägare")
        units = [
            org_units.create(s, Actor(admin), name=n).id
            for n in ("Hälso- och sjukvård", "Regionservice", "Kultur och utbildning")
        ]
        cosmic = systems.create(
            s,
            Actor(admin),
            {
                "name": "Cosmic",
                "org_unit_id": units[0],
                "criticality": "A",
                "system_owner_id": owner.id,
                "risk_owner_id": risk.id,
                "supplier": "Cambio",
                "aliases": ["COSMIC journal"],
                "priority_list": True,
                "external_refs": [{"source": "servicenow", "key": "4f2a9c"}],
                "description": "Vårdens journalsystem.",
            },
        )
        names = [
            "Sectra PACS",
            "Labportalen",
            "Pascal",
            "Heroma",
            "Raindance",
            "Melior",
            "NCS Cross",
            "Procapita",
            "TakeCare",
            "Webcert",
            "Platina",
            "Agresso",
            "Lifecare",
            "Journalen",
            "BabyBay",
        ]
        for i in range(60):
            systems.create(
                s,
                Actor(admin),
                {
                    "name": f"{names[i % len(names)]} {i // len(names) + 1}",
                    "org_unit_id": units[i % 3],
                    "criticality": "ABCD"[i % 4],
                    "lifecycle": "planned" if i % 7 == 0 else "in_operation",
                    "system_owner_id": owner.id if i % 2 else None,
                },
            )
        s.commit()
        ids = {"cosmic": cosmic.id}
    with serve(app) as base:
        yield {"base": base, "app": app, **ids}


def watch(pg):
    """Record script errors and CSP violations (the console), and sub-resources that fail to load (a page
    itself may answer 4xx on purpose, e.g. a form with errors)."""
    pg.console_errors = []
    pg.on(
        "console",
        lambda m: (
            pg.console_errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    pg.on(
        "response",
        lambda r: (
            pg.console_errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    return pg


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    yield watch(context.new_page())
    context.close()


def check_page(page) -> None:
    """Labels, alt texts and names on this page; no CSP violation or script error; no sideways scrolling."""
    assert page.evaluate(A11Y_SCRIPT) == [], page.url
    assert page.console_errors == [], page.console_errors
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
        f"{page.url} scrolls sideways at {page.viewport_size}"
    )


def test_admin_searches_opens_and_edits_a_system(page, live):
    base = live["base"]
    page.goto(f"{base}/login")
    check_page(page)
    shot(page, "01-login")
    log_in(page, base, "admin@region.example")
    assert page.locator("h1").inner_text().startswith("Välkommen")
    check_page(page)
    shot(page, "02-start-admin")

    page.click("nav >> text=System")
    page.wait_for_url(f"{base}/systems")
    assert "61 system" in page.locator("#count").inner_text()
    check_page(page)
    shot(page, "03-systems-list")

    page.fill("#q", "cosmik journl")  # a misspelling still finds it (via the alias)
    page.click("form[role=search] button.primary")
    page.wait_for_url("**/systems?q=*")
    rows = page.locator("table.systems tbody tr")
    assert rows.first.locator("td.primary a").inner_text() == "Cosmic"
    shot(page, "04-systems-search")

    page.select_option("#f-crit", "A")
    page.click("text=Använd filtren")
    page.wait_for_url("**criticality=A**")
    assert page.locator("ul.active-filters").inner_text().count("✕") == 2
    check_page(page)

    page.click("table.systems >> text=Cosmic")
    page.wait_for_url(f"{base}/systems/{live['cosmic']}")
    body = page.locator("main").inner_text()
    for expected in (
        "Cambio",
        "COSMIC journal",
        "servicenow:4f2a9c",
        "Sara Systemansvarig",
        "Rolf Riskägare",
        "Ej påbörjad",
        "Historik",
    ):
        assert expected in body, expected
    check_page(page)
    shot(page, "05-system-page")

    page.click("main >> text=Redigera")
    page.wait_for_url(f"{base}/systems/{live['cosmic']}/edit")
    check_page(page)
    page.fill("#supplier", "Cambio Healthcare Systems")
    page.fill("#aliases", "COSMIC journal\nCosmic Link")
    page.select_option("#hosting", "external_operations")
    shot(page, "06-system-edit")
    page.click("main button.primary")
    page.wait_for_url(f"{base}/systems/{live['cosmic']}")
    body = page.locator("main").inner_text()
    assert "Ändringarna är sparade." in body and "Cambio Healthcare Systems" in body and "Cosmic Link" in body
    assert "Extern drift" in body
    assert "Leverantör: Cambio → Cambio Healthcare Systems" in page.locator("#history-h + ol").inner_text()
    shot(page, "07-system-saved")


def test_form_errors_are_shown_and_focused(page, live):
    base = live["base"]
    log_in(page, base, "admin@region.example")
    page.goto(f"{base}/systems/new")
    page.fill("#name", "")
    page.click("main button.primary")
    summary = page.locator(".error-summary")
    summary.wait_for(state="visible")  # the answer to the POST, not the form before it
    assert "Ange ett namn." in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.locator("#name").get_attribute("aria-invalid") == "true"
    check_page(page)
    shot(page, "08-form-errors")


def test_keyboard_reaches_the_skip_link_and_the_search(page, live):
    base = live["base"]
    log_in(page, base, "admin@region.example")
    page.goto(f"{base}/systems")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#main'")
    page.focus("#q")
    page.keyboard.type("Heroma")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=Heroma**")
    assert page.locator("table.systems tbody tr").count() >= 1


def test_language_switch(page, live):
    base = live["base"]
    log_in(page, base, "admin@region.example")
    page.click("button:has-text('English')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("button:has-text('Svenska')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Välkommen")


def test_the_list_works_on_a_phone(browser, live):
    base = live["base"]
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    pg = watch(context.new_page())
    try:
        log_in(pg, base, "agare@region.example")
        check_page(pg)
        shot(pg, "10-phone-start", full_page=False)
        nav = pg.locator("#main-nav")
        assert not nav.is_visible()  # folded behind the menu button
        pg.click(".menu-toggle")
        assert nav.is_visible() and pg.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
        shot(pg, "10-phone-menu", full_page=False)
        pg.click("#main-nav >> text=System")
        pg.wait_for_url(f"{base}/systems")
        check_page(pg)
        # rows become cards with each value named
        first = pg.locator("table.systems tbody tr").first
        assert first.locator("td[data-label]").count() >= 5
        assert (
            pg.evaluate("getComputedStyle(document.querySelector('table.systems thead')).position")
            == "absolute"
        )
        shot(pg, "11-phone-systems", full_page=False)
        pg.goto(f"{base}/systems/{live['cosmic']}")
        check_page(pg)
        shot(pg, "12-phone-system")
    finally:
        context.close()


def test_admin_pages_and_tokens_pass_the_sweep(page, live):
    base = live["base"]
    log_in(page, base, "admin@region.example")
    for path, name in (("/admin/users", "13-users"), ("/admin/org-units", "15-org-units")):
        page.goto(base + path)
        check_page(page)
        shot(page, name)
    page.goto(f"{base}/admin/users")
    page.click("table >> text=Sara Systemansvarig")
    page.wait_for_url("**/admin/users/*")
    assert page.locator("fieldset legend").inner_text() == "Roller"
    check_page(page)
    shot(page, "14-user-edit")
    page.goto(f"{base}/account/tokens")
    page.fill("#name", "Mitt skript")
    page.click("main button.primary")
    page.wait_for_load_state()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("rr_")
    assert page.locator("button[data-copy]").is_visible()  # the copy button appears with JavaScript
    check_page(page)
    shot(page, "16-tokens")
    page.click("nav.subnav >> text=Lösenord")
    page.wait_for_url("**/account/password")
    check_page(page)
    shot(page, "17-password")
