"""Test harness: every database test runs on SQLite and, when 127.0.0.1:5432 answers (required with
CI=true), on PostgreSQL. Each backend gets a database made and dropped here; each test runs in an
outer transaction that is rolled back (SAVEPOINTs stand in for the app's commits)."""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from riskreg import create_app
from riskreg.actor import Actor
from riskreg.extensions import db as _db

PG_ADMIN_URL = os.environ.get("RISKREG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql: runs against PostgreSQL")
    if IN_CI and not pg_available():
        raise pytest.UsageError("CI=true but PostgreSQL does not answer at 127.0.0.1:5432")


def _make_pg_database() -> tuple[str, callable]:
    name = f"riskreg_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def database_url(backend: str, tmp: str):
    if backend == "sqlite":
        return f"sqlite:///{tmp}/riskreg-test.db", (lambda: None)
    if not pg_available():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    return _make_pg_database()


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-" + "x" * 32,
    "WTF_CSRF_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "PASSWORD_MIN_LENGTH": 12,
    "SERVER_NAME": None,
    "REPORT_PARTS_SIDE_BY_SIDE": False,  # the parts' own connections would not see the test's data
}


@pytest.fixture(scope="session", params=BACKENDS)
def app(request):
    backend = request.param
    tmp = tempfile.mkdtemp(prefix="riskreg-test-")
    url, drop = database_url(backend, tmp)
    os.environ["RISKREG_INSTANCE"] = tmp
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    application.config["BACKEND"] = backend
    with application.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        _db.engine.dispose()
    yield application
    with application.app_context():
        _db.engine.dispose()
    drop()


@pytest.fixture
def db_session(app) -> Iterator:
    """The app's session, joined to an outer transaction that is rolled back after the test."""
    with app.app_context():
        conn = _db.engine.connect()
        outer = conn.begin()
        original = _db.session
        _db.session = scoped_session(sessionmaker(bind=conn, join_transaction_mode="create_savepoint"))
        try:
            yield _db.session
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            conn.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


# ------------------------------------------------------------------ factories

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
PASSWORD = "Korrekt-Häst-Batteri-9"


class Factory:
    def __init__(self, session):
        self.session = session
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def org_unit(self, name: str | None = None, parent_id: int | None = None):
        from riskreg.models import OrgUnit

        unit = OrgUnit(name=name or f"Förvaltning {self._next()}-{secrets.token_hex(2)}", parent_id=parent_id)
        self.session.add(unit)
        self.session.flush()
        return unit

    def user(self, *roles: str, email: str | None = None, name: str | None = None, org_unit=None):
        from riskreg.actor import SYSTEM_ACTOR
        from riskreg.services import accounts

        n = self._next()
        return accounts.create_user(
            self.session, SYSTEM_ACTOR, email=email or f"user{n}-{secrets.token_hex(2)}@region.example",
            name=name or f"Användare {n}", roles=list(roles or ("auditor",)), password=PASSWORD,
            org_unit_id=org_unit.id if org_unit else None, check_permission=False)

    def system(self, **overrides):
        from riskreg.services import systems

        admin = overrides.pop("admin", None) or self.admin()
        values = {"name": f"System {self._next()}", "lifecycle": "in_operation", "criticality": "B"}
        values.update(overrides)
        if "org_unit_id" not in values:
            values["org_unit_id"] = self.org_unit().id
        for key in ("system_owner", "risk_owner"):
            if key in values:
                user = values.pop(key)
                values[f"{key}_id"] = user.id if user is not None else None
        return systems.create(self.session, Actor(admin, now=NOW), values)

    _admin = None

    def admin(self):
        if self._admin is None:
            self._admin = self.user("admin", name="Admin Adminsson")
        return self._admin

    def token(self, user) -> str:
        from riskreg.actor import SYSTEM_ACTOR
        from riskreg.services import accounts

        _, plain = accounts.create_token(self.session, SYSTEM_ACTOR, user, "test")
        return plain


@pytest.fixture
def make(db_session) -> Factory:
    return Factory(db_session)


def actor(user, now: datetime = NOW) -> Actor:
    return Actor(user=user, client_address="127.0.0.1", request_id="test", now=now)


class ApiClient:
    """The Flask test client with a bearer token and JSON helpers."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, json=None, data=None, headers=None, **kw):
        return self.client.open(path, method=method, json=json, data=data, headers=self._headers(headers), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)


@pytest.fixture
def api(client, make):
    def for_user(user=None) -> ApiClient:
        return ApiClient(client, make.token(user) if user is not None else None)

    return for_user


def assert_error(resp, status: int, code: str | None = None):
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert isinstance(body, dict) and "error" in body, body
    assert {"code", "message"} <= set(body["error"]), body
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]
