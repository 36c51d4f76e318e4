"""Configuration from the environment (API.md: DATABASE_URL, SECRET_KEY, RISKREG_ENV).

Scales (labels, colours, band limits) are configuration because each organisation chooses its own;
the defaults follow DESIGN.md."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The app refuses to start; the message is one line saying why."""


DEFAULTS: dict = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "LANGUAGES": ["sv", "en"],
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "PER_PAGE_DEFAULT": 50,
    "PER_PAGE_MAX": 500,
    "PASSWORD_HASH_METHOD": "scrypt",
    "PASSWORD_MIN_LENGTH": 12,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "API_TOKEN_DAYS": 365,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_THROTTLE_MINUTES": 15,
    # The approval lifecycle
    "APPROVAL_VALIDITY_YEARS": 3,
    "EXPIRING_DAYS": 90,
    "CLASSIFICATION_REVIEW_DAYS": 365,
    "REQUEST_WAITING_REMINDER_DAYS": 14,
    "ACCEPTANCE_THRESHOLD": 8,
    # Scales (DESIGN.md); (upper limit inclusive, code, Swedish label, colour)
    "RISK_BANDS": [
        (2, "low", "Låg", "#2e7d32"),
        (6, "medium", "Medelhög", "#f9a825"),
        (12, "high", "Hög", "#ef6c00"),
        (16, "extreme", "Extremt hög", "#c62828"),
    ],
    "LIKELIHOOD_LABELS": {1: "Låg", 2: "Medel", 3: "Hög", 4: "Mycket hög"},
    "CONSEQUENCE_LABELS": {1: "Försumbar", 2: "Begränsad", 3: "Allvarlig", 4: "Mycket allvarlig"},
    "LEVEL_LABELS": {0: "Ingen eller försumbar", 1: "Måttlig", 2: "Betydande", 3: "Allvarlig",
                     4: "Synnerligen allvarlig"},
    # Required SLA availability by the T level (configurable)
    "REQUIRED_AVAILABILITY_BY_T": {0: None, 1: None, 2: 98.0, 3: 99.0, 4: 99.5},
    "SLA_PRIORITY_TARGET": 99.0,
    "PROGRAMME_START": "2025-01-06",
    # The report's figures, heat map, SLA and progress as parallel queries on one snapshot (PostgreSQL;
    # riskreg/side_by_side.py). Off in the tests, whose data is never committed.
    "REPORT_PARTS_SIDE_BY_SIDE": True,
    # Imports
    "IMPORT_MAX_BYTES": 10 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 50_000,
    "IMPORT_XLSX_MAX_UNCOMPRESSED": 100 * 1024 * 1024,
    "IMPORT_XLSX_MAX_RATIO": 100,
    # A list is matched within the upload's request while rows × (names in the register + rows) stays within
    # this budget (a few seconds on two cores), else in the background with progress to poll
    # (riskreg.imports.runner.matches_inline); IMPORT_INLINE_ROWS (default 3,000) caps the rows besides.
    "IMPORT_INLINE_COMPARISONS": 20_000_000,
    # Audit retention: never below 180 days
    "AUDIT_RETENTION_DAYS": 730,
    # Reminders
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_SENDER": "riskreg@region.example",
    "BASE_URL": "http://localhost:5000",
    "ALLOW_SQLITE_IN_PRODUCTION": False,
}


def engine_options(url: str) -> dict:
    """Connections are checked before use (a restarted database is survived). On PostgreSQL the JIT
    is off: it compiled every report query anew and cost seconds where the query takes milliseconds."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c jit=off"}
    return options


def _instance_secret(app: Flask) -> str:
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """A bare postgresql:// URL uses psycopg 3, the driver the project installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Whole-number settings read from RISKREG_<KEY>, with the range each must lie in.
RANGED_INTEGERS = {
    "APPROVAL_VALIDITY_YEARS": (1, 10),  # how long an approval is valid at most (and by default)
}


def _ranged_integer(name: str, low: int, high: int) -> int | None:
    """An environment variable holding a whole number from ``low`` to ``high``; None when unset or empty.
    Anything else stops the start with a ConfigError naming the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {value}")
    return value


def load(app: Flask, overrides: dict | None) -> None:
    app.config.update(DEFAULTS)
    overrides = dict(overrides or {})
    env = overrides.get("RISKREG_ENV") or os.environ.get("RISKREG_ENV", "development")
    if overrides.get("TESTING"):
        env = "testing"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"RISKREG_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    app.config["RISKREG_ENV"] = env
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'riskreg.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    for key in ("SMTP_HOST", "SMTP_SENDER", "BASE_URL"):
        if os.environ.get(f"RISKREG_{key}"):
            app.config[key] = os.environ[f"RISKREG_{key}"]
    if os.environ.get("RISKREG_SMTP_PORT"):
        app.config["SMTP_PORT"] = int(os.environ["RISKREG_SMTP_PORT"])
    if os.environ.get("RISKREG_ALLOW_SQLITE") == "1":
        app.config["ALLOW_SQLITE_IN_PRODUCTION"] = True
    for key, (low, high) in RANGED_INTEGERS.items():
        value = _ranged_integer(f"RISKREG_{key}", low, high)
        if value is not None:
            app.config[key] = value
    app.config.update(overrides)
    if "SQLALCHEMY_DATABASE_URI" in overrides:
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(overrides["SQLALCHEMY_DATABASE_URI"])
        if "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    if env == "production":
        check_production(app)
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)


WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development"}


def check_production(app: Flask) -> None:
    key = app.config.get("SECRET_KEY") or ""
    if key.lower() in WEAK_SECRETS or len(key) < 32:
        raise ConfigError("production needs SECRET_KEY set to a random value of at least 32 characters")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not app.config["ALLOW_SQLITE_IN_PRODUCTION"]:
        raise ConfigError("production refuses SQLite; set DATABASE_URL to PostgreSQL (or RISKREG_ALLOW_SQLITE=1)")
    if app.debug or os.environ.get("FLASK_DEBUG") in ("1", "true", "True"):
        raise ConfigError("production refuses to run with debug on; unset FLASK_DEBUG")
