"""Schemathesis against the running app: every endpoint of the OpenAPI document, with every role's token, on
SQLite and PostgreSQL — no 500, no status code, content type, header or body that breaks the document.

Needs the dev dependency ``schemathesis>=4,<5``; skipped where it is not installed."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402  (installed with schemathesis)
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import BACKENDS, database_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ROLES = ["system_owner", "risk_owner", "ciso", "dpo", "admin", "auditor"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = int(os.environ.get("RISKREG_SCHEMATHESIS_EXAMPLES", "25"))


def _populate(app) -> dict[str, str]:
    """A user and token per role, org units and systems owned by them (so that ids 1… exist)."""
    from riskreg.actor import SYSTEM_ACTOR, Actor
    from riskreg.extensions import db
    from riskreg.services import accounts, org_units, systems

    with app.app_context():
        users = {r: accounts.create_user(db.session, SYSTEM_ACTOR, email=f"{r}@schemathesis.example",
                                         name=f"Schemathesis {r}", roles=[r],
                                         password=secrets.token_urlsafe(16), check_permission=False)
                 for r in ROLES}
        admin = Actor(users["admin"])
        units = [org_units.create(db.session, admin, name=f"Förvaltning {i}") for i in range(3)]
        for i in range(20):
            systems.create(db.session, admin, {
                "name": f"System {i}", "org_unit_id": units[i % 3].id, "lifecycle": "in_operation",
                "system_owner_id": users["system_owner"].id, "risk_owner_id": users["risk_owner"].id})
        tokens = {r: accounts.create_token(db.session, SYSTEM_ACTOR, u, "schemathesis")[1]
                  for r, u in users.items()}
        db.session.commit()
    return tokens


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app, url: str, tmp: str, key: str):
    """gunicorn with the repository's gunicorn.conf.py (as in production and in accept.py); werkzeug's
    threaded server where gunicorn is not installed. Returns (base URL, stop)."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_port}", server.shutdown
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": key, "RISKREG_ENV": "development",
           "RISKREG_INSTANCE": tmp, "RISKREG_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    log = open(f"{tmp}/gunicorn.log", "w")  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen([gunicorn, "wsgi:app"], cwd=ROOT, env=env, stdout=log,  # noqa: S603
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()  # noqa: S310 - loopback
            break
        except OSError:
            assert proc.poll() is None, Path(f"{tmp}/gunicorn.log").read_text()[-2000:]
            time.sleep(0.1)

    def stop():
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    return base, stop


@pytest.fixture(scope="module", params=BACKENDS)
def live(request):
    """The app served by a real HTTP server over its own database, not the rolled-back session."""
    from flask_migrate import upgrade

    from riskreg import create_app
    from riskreg.extensions import db

    tmp = tempfile.mkdtemp(prefix="riskreg-schemathesis-")
    url, drop = database_url(request.param, tmp)
    os.environ["RISKREG_INSTANCE"] = tmp
    key = secrets.token_hex(32)
    app = create_app({"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": url, "RISKREG_ENV": "development",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade(revision="heads")
    tokens = _populate(app)
    with app.app_context():
        db.engine.dispose()
    base, stop = _serve(app, url, tmp, key)
    try:
        yield SimpleNamespace(base=base, tokens=tokens)
    finally:
        stop()
        with app.app_context():
            db.engine.dispose()
        drop()


def _exercise(operation, mode, live) -> list[str]:
    """Generated requests for one operation, each sent with every role's token and with a bad one."""
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        for who, token in [*live.tokens.items(), ("no_token", "not-a-token")]:
            try:
                case.call_and_validate(base_url=live.base, headers={"Authorization": f"Bearer {token}"},
                                       checks=CHECKS)
            except (AssertionError, FailureGroup) as exc:  # a failed check; collect all, then fail
                failures.append(f"{operation.label} [{mode.value}, {who}]: {str(exc).strip()[:600]}")
                return

    run()
    return failures


def test_every_endpoint_for_every_role(live):
    schema = schemathesis.openapi.from_url(f"{live.base}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    failures = [f for op in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                for f in _exercise(op, mode, live)]
    assert not failures, "\n\n".join(failures[:10])
