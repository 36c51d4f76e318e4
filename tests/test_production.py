"""RISKREG_ENV=production refuses to start without a real SECRET_KEY, with SQLite unless allowed, or with
debug on — each with a one-line reason, from create_app, from `import wsgi` and from gunicorn."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from riskreg import create_app
from riskreg.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = secrets.token_hex(32)
PG_URL = (
    "postgresql://riskreg@db.region.example/riskreg"  # never connected to: the checks run before any query
)

REFUSALS = [
    ({"SECRET_KEY": None}, "production needs SECRET_KEY set to a random value of at least 32 characters"),
    (
        {"SECRET_KEY": "changeme"},
        "production needs SECRET_KEY set to a random value of at least 32 characters",
    ),
    ({"SECRET_KEY": "short-but-random-9f8e"}, "production needs SECRET_KEY"),
    ({"DATABASE_URL": "sqlite:////tmp/riskreg-prod.db"}, "production refuses SQLite"),
    ({"DATABASE_URL": None}, "production refuses SQLite"),  # the default is a SQLite file
    ({"FLASK_DEBUG": "1"}, "production refuses to run with debug on"),
]


def _env(tmp_path, changes: dict) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DATABASE_URL", "FLASK_DEBUG", "RISKREG_ALLOW_SQLITE")
    }
    env.update(
        {
            "RISKREG_ENV": "production",
            "SECRET_KEY": GOOD_KEY,
            "DATABASE_URL": PG_URL,
            "RISKREG_INSTANCE": str(tmp_path),
        }
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize("changes,reason", REFUSALS)
def test_create_app_refuses_with_one_line(tmp_path, monkeypatch, changes, reason):
    env = _env(tmp_path, changes)
    for key in (
        "SECRET_KEY",
        "DATABASE_URL",
        "FLASK_DEBUG",
        "RISKREG_ALLOW_SQLITE",
        "RISKREG_ENV",
        "RISKREG_INSTANCE",
    ):
        if key in env:
            monkeypatch.setenv(key, env[key])
        else:
            monkeypatch.delenv(key, raising=False)
    with pytest.raises(ConfigError) as exc:
        create_app()
    assert str(exc.value).startswith(reason) and "\n" not in str(exc.value)


def test_debug_in_the_config_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKREG_INSTANCE", str(tmp_path))
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="debug"):
        create_app(
            {
                "RISKREG_ENV": "production",
                "SECRET_KEY": GOOD_KEY,
                "SQLALCHEMY_DATABASE_URI": PG_URL,
                "DEBUG": True,
            }
        )


def test_a_sound_production_config_starts_and_sqlite_can_be_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKREG_INSTANCE", str(tmp_path))
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({"RISKREG_ENV": "production", "SECRET_KEY": GOOD_KEY, "SQLALCHEMY_DATABASE_URI": PG_URL})
    assert app.config["RISKREG_ENV"] == "production" and not app.debug
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    monkeypatch.setenv("RISKREG_ALLOW_SQLITE", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/allowed.db")
    assert create_app({"RISKREG_ENV": "production", "SECRET_KEY": GOOD_KEY}).config[
        "ALLOW_SQLITE_IN_PRODUCTION"
    ]


@pytest.mark.parametrize("changes,reason", REFUSALS[::2])
def test_the_wsgi_entry_point_stops_with_the_reason_last(tmp_path, changes, reason):
    run = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=_env(tmp_path, changes),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("riskreg.config.ConfigError: " + reason), last


def test_gunicorn_refuses_to_start_and_says_why(tmp_path):
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        pytest.skip("gunicorn is not installed")
    env = _env(tmp_path, {"SECRET_KEY": None})
    env["RISKREG_BIND"] = "127.0.0.1:0"
    run = subprocess.run(  # noqa: S603 - the project's own gunicorn
        [gunicorn, "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0
    assert "production needs SECRET_KEY set to a random value of at least 32 characters" in run.stderr


def test_gunicorn_config_is_production_ready():
    import runpy

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 2 and conf["workers"] >= 2
    assert conf["timeout"] >= 30 and conf["graceful_timeout"] > 0 and conf["keepalive"] > 0
    assert conf["preload_app"] is True and conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert conf["forwarded_allow_ips"] in ("127.0.0.1,::1", os.environ.get("FORWARDED_ALLOW_IPS"))
    assert conf["bind"].startswith("127.0.0.1:") or "RISKREG_BIND" in os.environ
    assert conf["accesslog"] == "-" and conf["logger_class"].__name__ == "JsonLogger"
