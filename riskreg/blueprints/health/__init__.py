"""GET /healthz for load balancers and orchestrators: 200 when the database answers ``SELECT 1``, else
503 with a JSON reason. No authentication, no session, one round trip: cheap enough to poll every second."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from riskreg.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        try:
            db.session.rollback()
        except SQLAlchemyError:  # the connection is gone; nothing to roll back
            current_app.logger.debug("rollback after a failed health check failed too")
        current_app.logger.warning("health check: database unavailable: %s", str(exc).splitlines()[0][:200])
        resp = jsonify({"status": "unavailable", "database": "unavailable"})
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
    else:
        ms = round((time.perf_counter() - started) * 1000, 1)
        resp = jsonify({"status": "ok", "database": "ok", "database_ms": ms})
    resp.headers["Cache-Control"] = "no-store"
    return resp
