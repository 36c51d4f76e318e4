"""The audit trail: the event as answered (API.md) and the filters of the list."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marshmallow import fields, validate

from riskreg.schemas import Base, query_ident


class Moment(fields.String):
    """A query-string instant: an ISO 8601 date (``2026-11-24``) or date-time; no zone means UTC.

    ``end_of_day`` makes a bare date mean the end of that day (for ``until``)."""

    def __init__(self, *, end_of_day: bool = False, **kw):
        kw.setdefault("metadata", {})
        kw["metadata"].setdefault("description", "ISO 8601 date or date-time (UTC when no offset is given)")
        kw["metadata"].setdefault("maxLength", 40)
        super().__init__(**kw)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > 40:
            raise self.make_error("invalid_moment")
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                start = datetime.combine(day, time.min, tzinfo=UTC)
                return start + timedelta(days=1) if self.end_of_day else start
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except (ValueError, OverflowError) as exc:
            raise self.make_error("invalid_moment") from exc
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    default_error_messages = {"invalid_moment": "Not an ISO 8601 date or date-time."}


class AuditQuery(Base):
    since = Moment()
    until = Moment(end_of_day=True)
    entity = fields.String(validate=validate.Length(min=1, max=50),
                           metadata={"description": "snake_case record name: system, classification, …"})
    entity_id = query_ident()
    user_id = query_ident()
    action = fields.String(validate=validate.Length(min=1, max=50))
    after_id = fields.Integer(validate=validate.Range(min=0, max=2**63 - 1),
                              metadata={"description": "only events with a greater id (for polling)"})
    format = fields.String(validate=validate.OneOf(["json", "jsonl"]),
                           metadata={"description": "jsonl streams every matching event as JSON Lines "
                                                    "(application/x-ndjson), oldest first, without paging"})


class AuditEventOut(Base):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    user_id = fields.Integer(allow_none=True)
    entity = fields.String(required=True)
    entity_id = fields.Integer(allow_none=True)
    action = fields.String(required=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    client_address = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
