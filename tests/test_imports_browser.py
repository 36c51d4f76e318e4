"""The import journey in a real browser (Playwright on Debian's chromium, headless): an admin uploads a
Windows-1252 semicolon list, reviews it (filters, keyboard decisions, a field conflict), applies it and undoes
it; a large list is matched in the background with progress on the page. Screenshots go to
test-artifacts/imports/."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "imports"

pytestmark = pytest.mark.browser

LIST = ("Systemnamn;Leverantör;Kritikalitet;sys_id\r\n"
        "COSMIC (Cambio);Cambio;A;sn1\r\n"
        "Cambio Cosmic 4.2;Cambio;;sn2\r\n"
        "Sectra IDS7 PACS;Sectra;;sn3\r\n"
        "PACS;;;sn4\r\n"
        "Heroma;CGI;C;sn5\r\n"
        "HEROMA lön;;;sn6\r\n"
        "Qlik Sense;Qlik;;sn7\r\n").encode("cp1252")


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

    tmp = tempfile.mkdtemp(prefix="riskreg-imports-browser-")
    os.environ["RISKREG_INSTANCE"] = tmp
    app = create_app({"SECRET_KEY": secrets.token_hex(32), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/imports.db",
                      "RISKREG_ENV": "development", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "IMPORT_INLINE_ROWS": 500})
    with app.app_context():
        upgrade(revision="heads")
        s = db.session
        admin = accounts.create_user(s, SYSTEM_ACTOR, email="admin@region.example", name="Ada Admin", roles=["admin"],
                                     password=PASSWORD, check_permission=False)
        unit = org_units.create(s, Actor(admin), name="Hälso- och sjukvård")
        ids = {}
        for name, supplier in (("Cosmic", "Cambio"), ("Sectra PACS", "Sectra"), ("Agfa PACS", "Agfa")):
            ids[name] = systems.create(s, Actor(admin), {"name": name, "org_unit_id": unit.id, "supplier": supplier,
                                                         "criticality": "B"}).id
        s.commit()
        unit_id = unit.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "app": app, "unit": unit_id, "ids": ids, "tmp": tmp}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "admin@region.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def upload(page, base, tmp, name, content, unit):
    path = Path(tmp) / name
    path.write_bytes(content)
    page.goto(f"{base}/imports")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=source]", "servicenow")
    page.select_option("select[name=org_unit_id]", str(unit))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{base}/imports/*")


def test_upload_review_apply_undo(live, browser):
    base, ids = live["base"], live["ids"]
    errors: list[str] = []
    page = browser.new_context(locale="sv-SE").new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: d.accept())
    log_in(page, base)
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
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, base)
    content = ("Namn;Leverantör\r\n" + "".join(f"System nummer {i};Leverantör {i % 50}\r\n" for i in range(3000))
               ).encode()
    upload(page, base, live["tmp"], "stor.csv", content, live["unit"])
    page.wait_for_selector("#review-link", timeout=60_000)  # the page reloads itself when matching is done
    assert "Klar för granskning" in page.inner_text("main")
    shot(page, "07-large-list-ready")
    assert not errors, errors
