"""What the browser tests share (Playwright on Debian's chromium, headless): the app on a file-based SQLite
database of its own, served by werkzeug in a thread; the browser; logging in and out; flash messages;
console errors; downloads; screenshots kept under test-artifacts/<feature>/.

Browser tests run on SQLite only: the server answers from another thread, so the data must be committed
to a database both see, not held in the rolled-back transaction of conftest's ``db_session``.

A browser test module defines its own module-scoped ``live`` fixture (its data), built with ``live_app``
and ``serve``, and imports the ``browser`` fixture from here by name (pytest injects it; ruff is told so
with F401/F811 exemptions, as for the reports' ``region`` fixture)."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_ROOT = Path(__file__).resolve().parent.parent / "test-artifacts"


def require_chromium() -> None:
    """Skip the module without Debian's chromium; with CI=true its absence is a failure."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required with CI=true")
        pytest.skip(f"{CHROMIUM} is not installed")


def live_app(name: str, **config):
    """A new app on ``sqlite:///<tmp>/<name>.db`` migrated to the heads, and its instance folder ``tmp``.
    Checks for chromium first (``require_chromium``), so a module without it builds nothing."""
    require_chromium()
    from flask_migrate import upgrade

    from riskreg import create_app

    tmp = tempfile.mkdtemp(prefix=f"riskreg-{name}-browser-")
    os.environ["RISKREG_INSTANCE"] = tmp
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/{name}.db",
            "RISKREG_ENV": "development",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **config,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    return app, tmp


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve ``app`` on a free local port in a daemon thread; yields the base URL."""
    from werkzeug.serving import make_server

    from riskreg.extensions import db

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live):
    """Debian's chromium, headless, for the module (after its ``live`` fixture, which checks for it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def artifacts(feature: str) -> Path:
    """test-artifacts/<feature>/, made when missing."""
    folder = ARTIFACTS_ROOT / feature
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(feature: str) -> Callable[..., None]:
    """``shot(page, name, full_page=True)`` saving test-artifacts/<feature>/<name>.png."""

    def shot(page, name: str, full_page: bool = True) -> None:
        page.screenshot(path=str(artifacts(feature) / f"{name}.png"), full_page=full_page)

    return shot


def log_in(page, base: str, email: str, *, press_enter: bool = False) -> None:
    """Sign in on the login page (by the submit button, or Enter in the password field) and land on the
    start page."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    if press_enter:
        page.locator("input[name=password]").press("Enter")
    else:
        page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def log_out(page, base: str) -> None:
    """Sign out by the header's button and land on the login page."""
    page.click("header form[action$='/logout'] button")
    page.wait_for_url(f"{base}/login")


def said(page, message: str) -> None:
    """The page the last action led to shows ``message`` in a flash (waits for it, as a person would)."""
    from playwright.sync_api import expect

    expect(page.locator(".flash", has_text=message).first).to_be_visible(timeout=15000)


def console_errors(page, ignore: tuple[str, ...] = ()) -> list[str]:
    """The list the page's console errors go to (script errors, CSP refusals), but for those holding any
    of ``ignore`` (e.g. "status of 422": a form answered with its validation errors)."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not any(s in m.text for s in ignore) else None
        ),
    )
    return errors


def download(page, selector: str, keep: Path | None = None) -> bytes:
    """Click ``selector``, wait for the download it starts and return its bytes (kept at ``keep``)."""
    with page.expect_download() as info:
        page.click(selector)
    if keep is None:
        return Path(info.value.path()).read_bytes()
    info.value.save_as(str(keep))
    return keep.read_bytes()


def upload_list(page, base: str, path: Path, source: str, unit: int) -> None:
    """Upload the list at ``path`` on the imports page for org unit ``unit``; lands on the batch page."""
    page.goto(f"{base}/imports")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=source]", source)
    page.select_option("select[name=org_unit_id]", str(unit))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{base}/imports/*")


# ------------------------------------------------------------------ filing steps the journeys share


def write_dpia(page, description: str) -> None:
    """Fill in and save a DPIA draft (the form open); it then waits for the DPO's opinion."""
    for name, value in (
        ("description", description),
        ("purposes", "Vård och behandling."),
        ("legal_basis", "Rättslig förpliktelse, GDPR art. 6.1 c och 9.2 h."),
        ("necessity", "Uppgifterna behövs för en god och säker vård."),
        ("risks", "Obehörig åtkomst, felaktiga uppgifter."),
        ("measures", "Behörighetsstyrning, loggning och logguppföljning."),
    ):
        page.fill(f"textarea[name={name}]", value)
    page.click("main button[type=submit]")
    said(page, "Nästa steg är dataskyddsombudets yttrande.")


def fill_opinion(page) -> None:
    """The DPO's opinion on the open DPIA: sufficient, no prior consultation (not yet sent)."""
    page.fill("textarea[name=opinion]", "Konsekvensbedömningen är tillräcklig. Inga invändningar.")
    page.select_option("select[name=prior_consultation_required]", "no")


def send_opinion(page) -> None:
    page.click("text=Lämna yttrande")
    said(page, "Yttrandet är registrerat.")
    assert "Inga invändningar" in page.content()
