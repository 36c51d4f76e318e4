"""Domain errors raised by services, mapped once to HTTP answers.

NotFound → 404, NotAllowed → 403, Conflict → 409, RuleViolation → 422 (with ``fields``)."""

from __future__ import annotations

import contextlib

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class BadInput(DomainError):
    status, code = 400, "bad_request"


class NotAuthenticated(DomainError):
    status, code = 401, "unauthenticated"


class NotFound(DomainError):
    status, code = 404, "not_found"


class NotAllowed(DomainError):
    status, code = 403, "forbidden"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TooLarge(DomainError):
    status, code = 413, "too_large"


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


class RuleViolation(DomainError):
    status, code = 422, "invalid"


def error_body(code: str, message, fields: dict | None = None) -> dict:
    """The API's error shape; lazy (translatable) messages are rendered to text here."""
    body: dict = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = {str(k): [str(m) for m in v] for k, v in fields.items()}
    return {"error": body}


def json_error(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    resp = jsonify(error_body(code, message, fields))
    resp.status_code = status
    return resp


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
    503: "unavailable",
}


def register(app: Flask) -> None:
    from flask_babel import gettext as _
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
    from sqlalchemy.exc import InterfaceError as SAInterfaceError
    from sqlalchemy.orm.exc import StaleDataError

    from riskreg.extensions import db, login_manager

    @app.teardown_appcontext
    def release_session(_exc):
        """Runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse order). When the database
        went away after the request's last query, the closing ROLLBACK fails; that must not turn an answer
        already made into a 500, nor leave the broken session behind for the thread's next request."""
        try:
            db.session.remove()
        except SQLAlchemyError as err:
            app.logger.warning("closing the session failed: %s", str(err).splitlines()[0][:200])
            with contextlib.suppress(SQLAlchemyError):
                db.session.registry().invalidate()  # drop its connections rather than pool them
            db.session.registry.clear()

    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        db.session.rollback()
        if wants_json():
            return json_error(err.status, err.code, err.message, err.fields)
        return render_template("error.html", status=err.status, message=err.message), err.status

    @app.errorhandler(StaleDataError)
    def stale(err):
        db.session.rollback()
        msg = _("Someone else changed the record meanwhile. Reload the page and try again.")
        if wants_json():
            return json_error(409, "conflict", msg)
        return render_template("error.html", status=409, message=msg), 409

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        status = err.code or 500
        if wants_json():
            resp = json_error(status, HTTP_CODES.get(status, "error"), err.description or err.name)
        else:
            resp = make_response(render_template("error.html", status=status, message=err.description), status)
        for name, value in err.get_headers():  # e.g. Allow on 405 (RFC 9110), Retry-After
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(DataError)
    def data_error(err):
        # the database refused a value (out of range, too long, bad encoding): the input's fault, not ours
        app.logger.warning("database refused a value: %s", str(err.orig).splitlines()[0][:200])
        db.session.rollback()
        msg = _("A value is out of range or not allowed.")
        if wants_json():
            return json_error(422, "invalid", msg)
        return render_template("error.html", status=422, message=msg), 422

    @app.errorhandler(IntegrityError)
    def integrity_error(err):
        # a uniqueness or reference check lost a race with another request
        app.logger.warning("integrity error: %s", str(err.orig).splitlines()[0][:200])
        db.session.rollback()
        msg = _("Someone else changed the record meanwhile. Reload the page and try again.")
        if wants_json():
            return json_error(409, "conflict", msg)
        return render_template("error.html", status=409, message=msg), 409

    @app.errorhandler(OperationalError)
    @app.errorhandler(SAInterfaceError)
    def database_down(err):
        app.logger.warning("database unavailable: %s", str(err).splitlines()[0])
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001,S110 - the connection is gone; nothing to roll back
            pass
        # the rest of this request is anonymous: loading the user again would only hit the dead
        # connection once more (in the page template and in after_request) and turn the 503 into a 500
        g._login_user = login_manager.anonymous_user()
        msg = _("The database is not answering right now. Try again in a moment.")
        resp = (json_error(503, "unavailable", msg) if wants_json()
                else make_response(render_template("error.html", status=503, message=msg), 503))
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        msg = _("An unexpected error occurred. It has been logged.")
        if wants_json():
            return json_error(500, "internal_error", msg)
        return render_template("error.html", status=500, message=msg), 500
