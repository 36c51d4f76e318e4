"""/healthz: 200 with the database checked, 503 with JSON when it does not answer; no auth, no session."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError


def test_healthz_checks_the_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert resp.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_the_database_is_down(client, db_session, monkeypatch):
    def down(*_a, **_kw):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db_session, "execute", down)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "unavailable", "database": "unavailable"}
    assert resp.headers["Retry-After"] == "5"


def test_health_and_api_answers_set_no_cookie(client):
    """Only pages that need a session (login, forms) write one; /healthz and the API do not."""
    assert "Set-Cookie" not in client.get("/healthz").headers
    assert "Set-Cookie" not in client.get("/api/v1/openapi.json").headers
