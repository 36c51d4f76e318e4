"""JSON API: the audit trail (API.md `GET /api/v1/audit`), as pages or streamed as JSON Lines."""

from __future__ import annotations

import json

from flask import Response, stream_with_context

from riskreg.blueprints.api import paged, query_args, route
from riskreg.extensions import db
from riskreg.schemas.audit import AuditEventOut, AuditQuery
from riskreg.services import audit_log as service
from riskreg.web import current_actor

NDJSON = "application/x-ndjson"


def filter_from_args() -> tuple[service.AuditFilter, str]:
    """The filters of the query string (422 naming each bad one) and the wanted format."""
    args = query_args(AuditQuery())
    fmt = args.pop("format", "json")
    return service.AuditFilter(**args), fmt


def jsonl_response(flt: service.AuditFilter, filename: str | None = None) -> Response:
    """Every matching event, oldest first, one JSON object a line, streamed by keyset batches."""
    dump = AuditEventOut(many=True).dump

    def lines():
        for batch in service.stream(db.session, flt):
            yield "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                          for e in dump(batch))

    resp = Response(stream_with_context(lines()), content_type=f"{NDJSON}; charset=utf-8")
    if filename:
        resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@route("/audit", summary="The audit trail, newest first; ?format=jsonl streams JSON Lines for a "
                         "SIEM (ciso, auditor, admin)",
       response=AuditEventOut, paged=True, query=AuditQuery, errors=(403,), tag="audit",
       also_produces=(NDJSON,))
def list_events():
    actor = current_actor()
    service.require_reader(actor)  # permission before input: a user who may not read gets 403
    flt, fmt = filter_from_args()
    if fmt == "jsonl":
        service.record_export(db.session, actor, flt, "jsonl")
        db.session.commit()
        return jsonl_response(flt)
    return paged(service.newest_first(flt), AuditEventOut(many=True).dump,
                 count_stmt=service.count_statement(flt))
