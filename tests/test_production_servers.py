"""Two gunicorn servers against one PostgreSQL behave as one: nothing that matters lives in process memory.

A session started on one is honoured by the other, a token works on both, a change made through one is seen
through the other, login throttling counts failures from both, deactivation ends the session on both. The
access log is one JSON object a line carrying the request id."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import PASSWORD, database_url, pg_available

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.postgresql


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping client that does not follow redirects; the cookie jar is shared between servers."""

    def __init__(self, jar=None):
        self.jar = jar or http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def call(self, method, url, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - http://127.0.0.1 only
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read().decode()

    def login(self, base, email, password=PASSWORD):
        _s, _h, page = self.call("GET", f"{base}/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return self.call("POST", f"{base}/login", {"csrf_token": token, "email": email, "password": password})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup_database(url: str, tmp: str) -> dict:
    """Migrate, and make the users and a system through the services (committed, as the CLI would)."""
    from flask_migrate import upgrade

    from riskreg import create_app
    from riskreg.actor import SYSTEM_ACTOR, Actor
    from riskreg.extensions import db
    from riskreg.services import accounts, org_units, systems

    os.environ["RISKREG_INSTANCE"] = tmp
    app = create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": url, "RISKREG_ENV": "development"})
    with app.app_context():
        upgrade(revision="heads")
        made = {}
        for key, role in (("admin", "admin"), ("ciso", "ciso"), ("system_owner", "system_owner"),
                          ("leaver", "system_owner")):
            made[key] = accounts.create_user(db.session, SYSTEM_ACTOR, email=f"{key}@two.example", name=key,
                                             roles=[role], password=PASSWORD, check_permission=False)
        unit = org_units.create(db.session, Actor(made["admin"]), name="Förvaltningen")
        system = systems.create(db.session, Actor(made["admin"]), {
            "name": "Delat system", "org_unit_id": unit.id, "system_owner_id": made["system_owner"].id})
        token = accounts.create_token(db.session, SYSTEM_ACTOR, made["system_owner"], "two")[1]
        leaver_token = accounts.create_token(db.session, SYSTEM_ACTOR, made["leaver"], "two")[1]
        db.session.commit()
        ids = {role: u.id for role, u in made.items()}
        out = {"users": ids, "system_id": system.id, "token": token, "leaver_token": leaver_token}
        db.engine.dispose()
    return out


@pytest.fixture(scope="module")
def two_servers():
    if not pg_available():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        pytest.skip("gunicorn is not installed")
    tmp = tempfile.mkdtemp(prefix="riskreg-two-")
    url, drop = database_url("postgresql", tmp)
    data = _setup_database(url, tmp)
    key = secrets.token_hex(32)
    servers, logs = [], []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = open(f"{tmp}/{name}.log", "w")  # noqa: SIM115 - closed below
            logs.append(log)
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": key, "RISKREG_ENV": "development",
                   "RISKREG_INSTANCE": tmp, "RISKREG_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
                   "RISKREG_THREADS": "2", "RISKREG_PROXY_HOPS": "1" if name == "a" else "0"}
            proc = subprocess.Popen([gunicorn, "wsgi:app"], cwd=ROOT, env=env, stdout=log,  # noqa: S603
                                    stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            servers.append(SimpleNamespace(proc=proc, base=base, log=f"{tmp}/{name}.log"))
        for server in servers:
            for _ in range(150):
                try:
                    urllib.request.urlopen(server.base + "/healthz", timeout=2).close()  # noqa: S310
                    break
                except OSError:
                    assert server.proc.poll() is None, Path(server.log).read_text()[-2000:]
                    time.sleep(0.1)
        yield SimpleNamespace(a=servers[0], b=servers[1], url=url, tmp=tmp, **data)
    finally:
        for server in servers:
            server.proc.terminate()
        for server in servers:
            try:
                server.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.proc.kill()
        for log in logs:
            log.close()
        drop()


def _api(base, token, method="GET", path="", body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return Browser().call(method, f"{base}/api/v1{path}", data, headers)


def test_a_session_from_one_server_works_on_the_other(two_servers):
    a, b = two_servers.a.base, two_servers.b.base
    browser = Browser()
    status, headers, _ = browser.login(a, "ciso@two.example")
    assert status == 302, "login on A"
    assert browser.call("GET", f"{b}/systems")[0] == 200  # the same cookie, the other server
    assert browser.call("GET", f"{a}/systems")[0] == 200


def test_a_change_through_one_is_seen_through_the_other(two_servers):
    a, b, token, sid = two_servers.a.base, two_servers.b.base, two_servers.token, two_servers.system_id
    status, _h, body = _api(b, token, path=f"/systems/{sid}")
    assert status == 200
    version = json.loads(body)["version"]
    text = f"Ändrad på A {secrets.token_hex(3)}"
    status, _h, body = _api(a, token, "PATCH", f"/systems/{sid}", {"description": text, "version": version})
    assert status == 200, body
    assert json.loads(_api(b, token, path=f"/systems/{sid}")[2])["description"] == text
    stale = _api(b, token, "PATCH", f"/systems/{sid}", {"description": "B", "version": version})
    assert stale[0] == 409  # B knows A's version too


def test_login_throttling_counts_failures_on_both(two_servers):
    a, b = two_servers.a.base, two_servers.b.base
    for i in range(5):
        status, _h, page = Browser().login(a if i % 2 else b, "admin@two.example", "fel-lösenord-123")
        assert status == 200 and "Fel e-postadress eller lösenord" in page
    status, _h, page = Browser().login(a, "admin@two.example")
    assert status == 429 and "För många misslyckade inloggningar" in page


def test_deactivation_ends_the_session_on_both(two_servers):
    from sqlalchemy import create_engine, update

    from riskreg.config import normalise_database_url
    from riskreg.models import User

    browser = Browser()
    assert browser.login(two_servers.b.base, "leaver@two.example")[0] == 302
    assert browser.call("GET", f"{two_servers.a.base}/systems")[0] == 200
    engine = create_engine(normalise_database_url(two_servers.url))
    with engine.begin() as conn:  # as the admin page does: deactivate and bump the session epoch
        conn.execute(update(User).where(User.email == "leaver@two.example")
                     .values(active=False, session_epoch=User.session_epoch + 1))
    engine.dispose()
    for base in (two_servers.a.base, two_servers.b.base):
        status, headers, _ = browser.call("GET", f"{base}/systems")
        assert status == 302 and "/login" in headers["Location"], base
        assert _api(base, two_servers.leaver_token, path="/me")[0] == 401


def test_access_log_is_json_with_the_request_id(two_servers):
    rid = "req-" + secrets.token_hex(8)
    Browser().call("GET", f"{two_servers.a.base}/healthz", headers={"X-Request-ID": rid})
    for _ in range(50):
        lines = [json.loads(x) for x in Path(two_servers.a.log).read_text().splitlines() if x.startswith("{")]
        mine = [x for x in lines if x.get("request_id") == rid and x.get("logger") == "gunicorn.access"]
        if mine:
            break
        time.sleep(0.1)
    assert mine and mine[0]["path"] == "/healthz" and mine[0]["status"] == 200 and mine[0]["ms"] >= 0
    assert mine[0]["remote_addr"] == "127.0.0.1" and mine[0]["method"] == "GET"


def test_behind_a_proxy_the_audit_trail_records_the_client_address(two_servers):
    from sqlalchemy import create_engine, select

    from riskreg.config import normalise_database_url
    from riskreg.models import AuditEvent

    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}  # a client's claim, then what the proxy saw
    for base, who in ((two_servers.a.base, "via-proxy"), (two_servers.b.base, "direct")):
        browser = Browser()
        _s, _h, page = browser.call("GET", f"{base}/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        browser.call("POST", f"{base}/login", {"csrf_token": token, "email": f"{who}@nobody.example",
                                               "password": "fel-lösenord-123"}, headers=forwarded)
    engine = create_engine(normalise_database_url(two_servers.url))
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.after, AuditEvent.client_address)
                            .where(AuditEvent.action == "login_failed")).all()
    engine.dispose()
    seen = {after["email"]: address for after, address in rows}
    assert seen["via-proxy@nobody.example"] == "203.0.113.7"  # RISKREG_PROXY_HOPS=1: the proxy's view
    assert seen["direct@nobody.example"] == "127.0.0.1"  # no proxy configured: the header is not believed
