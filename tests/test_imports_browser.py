"""The import journey in a real browser (Playwright on Debian's chromium, headless): an admin uploads a
Windows-1252 semicolon list, reviews it (filters, every candidate's fields side by side, keyboard decisions
showing the chosen candidate's own conflicts), applies it — the confirmation naming the undecided uncertain
merges — and undoes it; a list too large for the request's budget is matched, applied and undone in the
background with progress on the page (indeterminate "working" where SQLite's write lock keeps the figures
out). Screenshots go to test-artifacts/imports/."""

# ruff: noqa: F811  (the browser fixture is imported by name; pytest injects it)

from __future__ import annotations

import random
import re
import string
from pathlib import Path

import pytest
from playwright.sync_api import expect

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
    "PACS;;A;sn4\r\n"
    "Heroma;CGI;C;sn5\r\n"
    "HEROMA lön;;;sn6\r\n"
    "Qlik Sense;Qlik;;sn7\r\n"
).encode("cp1252")


@pytest.fixture(scope="module")
def live():
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.services import org_units, systems

    # a list is matched within the request up to 100,000 comparisons (rows × (names + rows)): the journey's
    # 7 rows are, the large list of 3,000 goes to the background
    app, tmp = live_app("imports", IMPORT_INLINE_COMPARISONS=100_000)
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
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    log_in(page, base, ADMIN)
    upload(page, base, live["tmp"], "servicenow.csv", LIST, live["unit"])
    assert "cp1252" in page.content() and "Klar för granskning" in page.inner_text("main")
    shot(page, "01-batch-mapping")

    page.click("#review-link")
    page.wait_for_selector("[data-row]")
    text = page.inner_text("main")
    assert "Slå samman med" in text and "upprepar rad" in text
    shot(page, "02-review-all")

    # the row "PACS" has two equal candidates, told apart by their fields side by side
    rows = page.locator("[data-row]")
    names = [rows.nth(i).locator(".row-head").inner_text() for i in range(rows.count())]
    pacs = next(i for i, n in enumerate(names) if n.endswith(" PACS") and "Sectra" not in n)
    side = rows.nth(pacs).locator("table.candidates")
    for seen in ("Sectra PACS", "Agfa PACS", "Sectra", "Agfa", "Hälso- och sjukvård", "I drift"):
        expect(side).to_contain_text(seen)
    shot(page, "02b-review-candidates-side-by-side")

    # keyboard: j/k to the row, a digit chooses a candidate and shows that candidate's own conflicts
    page.locator("[data-row]").nth(0).focus()
    for _ in range(pacs):
        page.keyboard.press("j")
    current = page.locator("[data-row].current")
    assert current.locator(".row-head").inner_text().endswith(" PACS")
    labels = current.locator("label[for^=c-]").all_inner_texts()
    sectra = next(i for i, t in enumerate(labels) if "Sectra PACS" in t) + 1
    agfa = next(i for i, t in enumerate(labels) if "Agfa PACS" in t) + 1
    sectra_block = current.locator(f'[data-merge-into="merge:{ids["Sectra PACS"]}"]')
    agfa_block = current.locator(f'[data-merge-into="merge:{ids["Agfa PACS"]}"]')
    page.keyboard.press(str(agfa))
    expect(agfa_block).to_be_visible()
    expect(sectra_block).to_be_hidden()
    expect(current.locator(f'th[data-system="{ids["Agfa PACS"]}"]')).to_have_class(re.compile("chosen"))
    page.keyboard.press(str(sectra))
    expect(sectra_block).to_be_visible()
    expect(agfa_block).to_be_hidden()
    expect(sectra_block).to_contain_text("Rad")  # the caption names the row and the system
    expect(sectra_block).to_contain_text("Sectra PACS")
    shot(page, "03a-review-chosen-candidates-conflicts")
    current.locator('label[for^="c-"]:has-text("Agfa PACS")').click()  # a click shows Agfa's again
    expect(agfa_block).to_be_visible()
    expect(sectra_block).to_be_hidden()
    page.keyboard.press(str(sectra))
    sectra_block.locator('input[value=import][name$="-criticality"]').check()  # the list's A over the register's B
    with page.expect_navigation():
        page.keyboard.press("Enter")
    decided = page.locator("[data-row].decided")
    assert decided.count() == 1 and "Beslut" in decided.inner_text()
    shot(page, "03-review-decided-by-keyboard")

    # the first row conflicts with Cosmic on criticality (A in the list, B in the register): take the list's
    first = page.locator("[data-row]").nth(0)
    assert "behåll registrets" in first.inner_text()
    first.locator(f'input[value=import][name="keep-{ids["Cosmic"]}-criticality"]').check()
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
    # apply takes the suggestion where no one decided: the page and the confirmation say how many of those
    # are uncertain merges, with a link to them
    batch_url = page.url.split("#")[0]
    page.goto(f"{batch_url}/review?filter=uncertain_merges")  # counted on the review's filter
    n = page.locator("[data-row]").count()
    page.goto(batch_url)
    notice = page.locator("#uncertain-merges")
    said = f"{n} osäkra sammanslagningar är inte beslutade" if n > 1 else "1 osäker sammanslagning är inte beslutad"
    if n:
        expect(notice).to_contain_text(said)
        with page.expect_navigation():
            notice.locator("a").click()
        assert page.locator("[data-row]").count() == n and "filter=uncertain_merges" in page.url
        page.goto(batch_url)
    else:
        expect(notice).to_have_count(0)
    shot(page, "04b-before-apply")
    with page.expect_navigation():
        page.click("#apply-button")
    assert dialogs and dialogs[-1].startswith("Genomföra importen?")
    assert (said in dialogs[-1]) if n else ("osäk" not in dialogs[-1])
    assert "Importen genomfördes" in page.inner_text("main")
    shot(page, "05-applied")
    with live["app"].app_context():
        from riskreg.extensions import db
        from riskreg.models import System

        chosen = db.session.get(System, ids["Sectra PACS"])
        assert chosen.criticality.value == "A"  # the choice made for Sectra PACS, not Agfa's
        db.session.remove()
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


def random_names(n: int) -> list[str]:
    """Names unlike each other (so that applying creates them all: work that takes a while)."""
    rng = random.Random(6)
    word = lambda: "".join(rng.choice(string.ascii_lowercase) for _ in range(9)).capitalize()  # noqa: E731
    return [f"{word()} {word()}" for _ in range(n)]


def expect_working(page, status: str) -> None:
    """The batch page while the work goes on: the status, the bar and its text."""
    expect(page.locator("#import-status")).to_have_text(status)
    expect(page.locator("#import-progress")).to_be_visible()
    expect(page.locator("#import-progress-text")).to_be_visible()
    expect(page.locator("#import-progress-text")).to_have_text(re.compile(r"^(Arbetar …|\d+ av \d+ rader)$"))


def test_large_list_matches_applies_and_undoes_in_the_background_with_progress(live, browser):
    base, app = live["base"], live["app"]
    page = browser.new_context(locale="sv-SE").new_page()
    errors = console_errors(page)
    page.on("dialog", lambda d: d.accept())
    log_in(page, base, ADMIN)
    names = random_names(3000)
    content = ("Namn;Leverantör\r\n" + "".join(f"{n};Leverantör {i % 50}\r\n" for i, n in enumerate(names))).encode()
    upload(page, base, live["tmp"], "stor.csv", content, live["unit"])
    # 3,000 × (3 names + 3,000) comparisons are over the budget: the page answers at once, matching goes on
    expect_working(page, "Matchar")
    shot(page, "07-large-list-matching")
    page.wait_for_selector("#review-link", timeout=60_000)  # the page reloads itself when matching is done
    assert "Klar för granskning" in page.inner_text("main")
    shot(page, "07b-large-list-ready")

    app.config["IMPORT_INLINE_APPLY_ROWS"] = 100  # apply and undo of the 3,000 rows go to the background too
    try:
        with page.expect_navigation():
            page.click("#apply-button")
        expect_working(page, "Genomförs")
        expect(page).to_have_url(re.compile(r"/imports/\d+$"))  # the page's own address: reloading does not post
        # SQLite: apply holds the write lock, so no figures reach the batch: an indeterminate bar, "working"
        expect(page.locator("#import-progress")).to_have_text("")
        expect(page.locator("progress#import-progress:indeterminate")).to_have_count(1)
        expect(page.locator("#import-progress-text")).to_have_text("Arbetar …")
        shot(page, "08-large-list-applying")
        page.wait_for_selector("#undo-button", timeout=120_000)
        assert "Genomförd" in page.inner_text("#import-status")
        with page.expect_navigation():
            page.click("#undo-button")
        expect_working(page, "Ångras")
        expect(page.locator("progress#import-progress:indeterminate")).to_have_count(1)
        shot(page, "09-large-list-undoing")
        expect(page.locator("#import-status")).to_have_text("Ångrad", timeout=120_000)
    finally:
        app.config.pop("IMPORT_INLINE_APPLY_ROWS", None)
    assert not errors, errors
