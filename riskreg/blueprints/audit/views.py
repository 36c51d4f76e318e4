"""The audit trail page for auditors, the CISO and admins: the API's filters, and a JSON Lines export."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError

from riskreg import permissions
from riskreg.blueprints.api import flatten_messages
from riskreg.blueprints.audit import bp
from riskreg.blueprints.audit.api import jsonl_response
from riskreg.extensions import db
from riskreg.schemas.audit import AuditQuery
from riskreg.services import audit_log as service
from riskreg.web import add_nav, arg_int, current_actor

add_nav("audit.index", _l("Audit trail"), "can_read_audit")

PER_PAGE = 50
FILTERS = ("since", "until", "entity", "entity_id", "user_id", "action")
ENTITIES = ("system", "org_unit", "user", "api_token", "classification", "risk_analysis", "dpia_screening",
            "dpia", "sla", "sla_measurement", "approval_request", "approval", "approval_revocation",
            "import_batch", "report", "audit_event")
ACTIONS = ("create", "update", "finalise", "major_change", "login", "login_failed", "login_throttled", "used",
           "revoke", "export", "purge", "apply", "undo", "opinion", "decide")


def _filters() -> tuple[service.AuditFilter, dict[str, str], dict[str, list[str]]]:
    """The filter as parsed, the raw values (to refill the form) and any problems per field."""
    raw = {k: request.args.get(k, "").strip() for k in FILTERS}
    given = {k: v for k, v in raw.items() if v}
    try:
        args = AuditQuery().load(given)
    except ValidationError as exc:
        return service.AuditFilter(), raw, flatten_messages(exc.messages)
    return service.AuditFilter(**args), raw, {}


def _readers_only() -> None:
    if not permissions.can_read_audit(current_user):
        abort(403)


@bp.route("/audit")
@login_required
def index():
    _readers_only()
    flt, raw, problems = _filters()
    page_no = max(arg_int("page", 1), 1)
    rows, total = ([], 0) if problems else service.page_with_users(db.session, flt, page_no, PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)

    def args(**over) -> str:
        return urlencode({**{k: v for k, v in raw.items() if v}, **over})

    return render_template("audit/index.html", rows=rows, total=total, page=page_no, pages=pages, raw=raw,
                           problems=problems, args=args, entities=ENTITIES, actions=ACTIONS,
                           export_query=urlencode({k: v for k, v in raw.items() if v}),
                           retention_days=service.retention_days())


@bp.route("/audit/export.jsonl")
@login_required
def export():
    _readers_only()
    flt, _raw, problems = _filters()
    if problems:
        abort(400)
    service.record_export(db.session, current_actor(), flt, "jsonl")
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return jsonl_response(flt, filename=f"riskreg-audit-{stamp}.jsonl")
