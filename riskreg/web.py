"""Request plumbing: request ids, the acting user, security headers, locale, JSON logs."""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, abort, g, has_request_context, request, session
from flask_login import current_user

from riskreg.actor import Actor
from riskreg.extensions import db, login_manager


def select_locale() -> str:
    """Swedish unless the user chose English (or an API client asks for it)."""
    if not has_request_context():
        return "sv"
    chosen = session.get("locale")
    if chosen in ("sv", "en"):
        return chosen
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(["sv", "en"], default="sv")
    return "sv"


INT4_MAX = 2**31 - 1  # ids are PostgreSQL integers (and SQLite's are 64-bit): a larger one names no record


def small_int(raw: str | None) -> int | None:
    """A whole number from 0 to INT4_MAX written in ASCII digits, else None (not "²", not 10**30)."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if value <= INT4_MAX else None


def arg_int(name: str, default: int | None = None) -> int | None:
    """A query argument as ``small_int``, or ``default`` when it is missing or not such a number."""
    value = small_int(request.args.get(name))
    return default if value is None else value


def client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def current_actor() -> Actor:
    user = g.get("api_user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    return Actor(user=user, client_address=client_address(), request_id=g.get("request_id"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        for key in ("method", "path", "status", "ms", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    from riskreg.models import User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(ident: str):
        try:
            user_id, epoch = (int(x) for x in ident.split(":", 1))
        except ValueError:
            return None
        user = db.session.get(User, user_id)
        if user is None or not user.active or user.session_epoch != epoch:
            return None
        return user

    if app.config["RISKREG_ENV"] == "production" and not app.logger.handlers[1:]:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        app.logger.handlers = [handler]
        app.logger.setLevel(logging.INFO)
    access = logging.getLogger("riskreg.access")

    @app.context_processor
    def template_helpers():
        from flask_babel import get_locale

        from riskreg import labels, permissions

        return {
            "current_locale": lambda: str(get_locale() or "sv"),
            "stage_label": lambda code: labels.STAGE_LABELS.get(code, code),
            "lifecycle_label": lambda code: labels.LIFECYCLE_LABELS.get(code, code),
            "hosting_label": lambda code: labels.HOSTING_LABELS.get(code, code or ""),
            "role_label": lambda code: labels.ROLE_LABELS.get(code, code),
            "nav_items": nav_items,
            "perm": permissions,
        }

    @app.before_request
    def start_request():
        # an app context can outlive one request (tests, CLI); nothing of the previous request carries over
        from flask_babel import refresh

        g.pop("api_user", None)
        g.pop("_login_user", None)
        refresh()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else secrets.token_hex(8)
        g.started = time.perf_counter()
        if not request.path.startswith("/api/") and any(  # the API says so in its own shape (api.check_input)
                isinstance(v, int) and not 0 <= v <= INT4_MAX for v in (request.view_args or {}).values()):
            abort(404)

    @app.after_request
    def finish_request(resp):
        resp.headers["X-Request-ID"] = g.get("request_id", "")
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure or app.config["RISKREG_ENV"] == "production":
            resp.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.path.startswith("/api/") or (current_user and current_user.is_authenticated):
            resp.headers.setdefault("Cache-Control", "no-store")
        if "started" in g:
            ms = round((time.perf_counter() - g.started) * 1000, 1)
            access.info("%s %s %s", request.method, request.path, resp.status_code,
                        extra={"method": request.method, "path": request.path, "status": resp.status_code,
                               "ms": ms})
        return resp


NAV: list[tuple[str, str, str | None]] = []  # (endpoint, label msgid, permission function name)


def add_nav(endpoint: str, label, permission: str | None = None) -> None:
    """Feature blueprints add their pages to the main menu (in registration order)."""
    if not any(e == endpoint for e, _, _ in NAV):
        NAV.append((endpoint, label, permission))


def nav_items() -> list[dict]:
    from flask import url_for

    from riskreg import permissions

    user = current_user._get_current_object() if current_user.is_authenticated else None
    items = []
    for endpoint, label, permission in NAV:
        if permission and not getattr(permissions, permission)(user):
            continue
        items.append({"url": url_for(endpoint), "label": str(label),
                      "active": request.endpoint == endpoint})
    return items
