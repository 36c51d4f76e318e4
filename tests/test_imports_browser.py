"""The import journey in a real browser (Playwright on Debian's chromium, headless): an admin uploads a
Windows-1252 semicolon list, reviews it (filters, keyboard decisions, a field conflict), applies it and undoes
it; a large list is matched in the background with progress on the page. Screenshots go to
test-artifacts/imports/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import (
    browser,  # noqa: F401  (a fixture)
    console_errors,
    live_app,
    log_in,
    screenshots,
    serve,
    upload_list,
)
from tests.conftest import Factory

shot = screenshots("imports")

pytestmark = pytest.mark.browser

ADMIN = "admin@region.example"

LIST = (
    "Systemnamn;Leverantör;Kritikalitet;sys_id\r\n"
    "COSMIC (Cambio);Cambio;A;sn1\r\n"
    "Cambio Cosmic 4.2;Cambio;;sn2\r\n"
    "Sectra IDS7 PACS;Sectra;;sn3\r\n"
    "PACS;;;sn4\r\n"
    "Heroma;CGI;C;sn5\r\n"
    "HEROMA lön;;;sn6\r\n"
    "Qlik Sense;Qlik;;sn7\r\n"
).encode("cp1252")


@pytest.fixture(scope="module")
def live():
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.services import org_units, systems

    app, tmp = live_app("imports", IMPORT_INLINE_ROWS=500)
    with app.app_context():
        s = db.session
        admin = Factory(s).user("admin", email=ADMIN, name="Ada Admin")
        unit = org_units.create(s, Actor(admin), name="Hälso- och sjukvård")
        ids = {}
        for name, supplier in (("Cosmic", "Cambio"), ("Sectra PACS", "Sectra"), ("Agfa PACS", "Agfa")):
            ids[name] = systems.create(
                s,
                Actor(admin),
                {"name": name, "org_unit_id": unit.id, "supplier": supplier, "criticality": "B"},
            ).id
        s.commit()
        unit_id = unit.id
    with serve(app) as base:
        yield {"base": base, "app": app, "unit": unit_id, "ids": ids, "tmp": tmp}


def upload(page, base, tmp, name, content, unit):
    path = Path(tmp) / name
    path.write_bytes(content)
    upload_list(page, base, path, "servicenow", unit)


def test_upload_review_apply_undo(live, browser):
    base, ids = live["base"], live["ids"]
    page = browser.new_context(locale="sv-SE").new_page()
    errors = console_errors(page)
    page.on("dialog", lambda d: d.accept())
    log_in(page, base, ADMIN)
    upload(page, base, live["tmp"], "servicenow.csv", LIST, live["unit"])
    assert "cp1252" in page.content() and "Klar för granskning" in page.inner_text("main")
    shot(page, "01-batch-mapping")

    page.click("#review-link")
    page.wait_for_selector("[data-row]")
    text = page.inner_text("main")
    assert "Slå samman med" in text and "upprepar rad" in text
    shot(page, "02-review-all")

    # keyboard: the row "PACS" has two equal candidates; take Sectra PACS with j/k and a digit, Enter saves
    rows = page.locator("[data-row]")
    names = [rows.nth(i).locator(".row-head").inner_text() for i in range(rows.count())]
    pacs = next(i for i, n in enumerate(names) if n.endswith(" PACS") and "Sectra" not in n)
    page.locator("[data-row]").nth(0).focus()
    for _ in range(pacs):
        page.keyboard.press("j")
    current = page.locator("[data-row].current")
    assert current.locator(".row-head").inner_text().endswith(" PACS")
    labels = current.locator("label[for^=c-]").all_inner_texts()
    sectra = next(i for i, t in enumerate(labels) if "Sectra PACS" in t) + 1
    page.keyboard.press(str(sectra))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    decided = page.locator("[data-row].decided")
    assert decided.count() == 1 and "Beslut" in decided.inner_text()
    shot(page, "03-review-decided-by-keyboard")

    # the first row conflicts with Cosmic on criticality (A in the list, B in the register): take the list's
    first = page.locator("[data-row]").nth(0)
    assert "behåll registrets" in first.inner_text()
    first.locator("input[value=import][name=keep-criticality]").check()
    with page.expect_navigation():
        first.locator("button.save").click()

    page.click("text=Dubbletter")
    assert "HEROMA lön" in page.inner_text("main")
    shot(page, "04-review-duplicates")
    page.click("text=Alla rader")
    with page.expect_navigation():
        page.click("#accept-confident")
    assert "säkra förslag godtogs" in page.inner_text("main")

    page.goto(f"{base}/imports")
    page.click("text=servicenow.csv")
    with page.expect_navigation():
        page.click("#apply-button")
    assert "Importen genomfördes" in page.inner_text("main")
    shot(page, "05-applied")
    page.goto(f"{base}/systems/{ids['Cosmic']}")
    aliases = page.locator("ul[aria-labelledby=aliases-h]").inner_text()
    assert "COSMIC (Cambio)" in aliases and "Cambio Cosmic 4.2" in aliases
    page.go_back()
    with page.expect_navigation():
        page.click("#undo-button")
    assert "Importen ångrades" in page.inner_text("main")
    shot(page, "06-undone")
    page.goto(f"{base}/systems/{ids['Cosmic']}")
    assert page.locator("ul[aria-labelledby=aliases-h]").count() == 0
    assert not errors, errors


def test_large_list_matches_in_the_background_with_progress(live, browser):
    base = live["base"]
    page = browser.new_context(locale="sv-SE").new_page()
    errors = console_errors(page)
    log_in(page, base, ADMIN)
    content = (
        "Namn;Leverantör\r\n" + "".join(f"System nummer {i};Leverantör {i % 50}\r\n" for i in range(3000))
    ).encode()
    upload(page, base, live["tmp"], "stor.csv", content, live["unit"])
    page.wait_for_selector("#review-link", timeout=60_000)  # the page reloads itself when matching is done
    assert "Klar för granskning" in page.inner_text("main")
    shot(page, "07-large-list-ready")
    assert not errors, errors
