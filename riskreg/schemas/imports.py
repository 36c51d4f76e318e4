"""Imports (API.md): the batch, its rows, decisions, thresholds."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from riskreg.imports import reading
from riskreg.imports.mapping import FIELDS
from riskreg.schemas import Base, ident, query_ident

ACTIONS = ["merge", "create", "skip"]
FILTERS = ["all", "merge", "create", "skip", "duplicates", "uncertain", "undecided", "decided"]


class UploadForm(Base):
    """The multipart form of an upload (the file itself is the part `file`)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    source = fields.String(required=True, validate=validate.Length(min=1, max=50))
    mapping = fields.String(metadata={"description": "JSON object: column → field (" + ", ".join(FIELDS) + ")"})
    org_unit_id = query_ident(metadata={"description": "org unit for created systems whose row names none"})
    encoding = fields.String(validate=validate.OneOf(["utf-8", "cp1252", "iso-8859-1", "utf-16"]))
    delimiter = fields.String(validate=validate.OneOf([";", ",", "tab", "|"]))
    sheet = fields.String(validate=validate.Length(max=100))


class Progress(Schema):
    done = fields.Integer()
    total = fields.Integer()


class BatchOut(Base):
    id = fields.Integer()
    source = fields.String()
    filename = fields.String()
    status = fields.String(validate=validate.OneOf(["matching", "ready", "applying", "applied", "undoing", "undone",
                                                    "failed"]))
    progress = fields.Method("dump_progress", metadata={"type": "object"})
    row_count = fields.Integer()
    file_kind = fields.String()
    encoding = fields.String(allow_none=True)
    delimiter = fields.String(allow_none=True)
    sheet = fields.String(allow_none=True)
    sheets = fields.Method("dump_sheets", metadata={
        "type": "array", "items": {"type": "string"},
        "description": "the workbook's sheets in order (an XLSX file; [] for CSV); `sheet` is the one read, another "
                       "is chosen with PATCH"})
    headers = fields.List(fields.String())
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    org_unit_id = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_by = fields.Integer(attribute="created_by_id")
    created_at = fields.DateTime()
    applied_at = fields.DateTime(allow_none=True)
    applied_by = fields.Integer(attribute="applied_by_id", allow_none=True)
    undone_at = fields.DateTime(allow_none=True)
    undone_by = fields.Integer(attribute="undone_by_id", allow_none=True)

    def dump_progress(self, obj) -> dict:
        return {"done": obj.progress_done or 0, "total": obj.progress_total or 0}

    def dump_sheets(self, obj) -> list[str]:
        return reading.sheet_names(obj.content) if obj.file_kind == "xlsx" else []


class CandidateOut(Schema):
    system_id = fields.Integer()
    name = fields.String()
    score = fields.Float()
    matched = fields.String()
    field = fields.String()
    reason = fields.String()
    tokens = fields.List(fields.String())
    supplier_agrees = fields.Boolean(allow_none=True)


class SuggestionOut(Schema):
    action = fields.String()
    system_id = fields.Integer(allow_none=True)
    row_id = fields.Integer(allow_none=True)
    score = fields.Float(allow_none=True)
    confidence = fields.String(allow_none=True)


class RowOut(Base):
    row_id = fields.Integer(attribute="id")
    row_number = fields.Integer()
    values = fields.Dict()
    candidates = fields.List(fields.Nested(CandidateOut))
    duplicates_in_batch = fields.List(fields.Integer())
    suggestion = fields.Method("dump_suggestion", metadata={"type": "object"})
    decision = fields.Method("dump_decision", metadata={"type": "object"}, allow_none=True)
    applied = fields.Method("dump_applied", metadata={"type": "object"}, allow_none=True)

    def dump_suggestion(self, row) -> dict:
        out = {"action": row.suggestion_action.value if row.suggestion_action else None,
               "confidence": row.confidence}
        if row.suggestion_system_id:
            out["system_id"] = row.suggestion_system_id
        if row.suggestion_row_id:
            out["row_id"] = row.suggestion_row_id
        best = (row.candidates or [None])[0]
        if best and row.suggestion_action and row.suggestion_action.value == "merge" \
                and best.get("system_id") == row.suggestion_system_id:
            out["score"] = best.get("score")
        return out

    def dump_decision(self, row) -> dict | None:
        if row.decision_action is None:
            return None
        return {"action": row.decision_action.value, "system_id": row.decision_system_id,
                "field_choices": row.field_choices or {}, "decided_by": row.decided_by_id,
                "decided_at": row.decided_at.isoformat() if row.decided_at else None}

    def dump_applied(self, row) -> dict | None:
        if row.applied_action is None:
            return None
        return {"action": row.applied_action.value, "system_id": row.applied_system_id, "changes": row.changes}


class DecisionIn(Base):
    row_id = ident(required=True)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    system_id = ident(allow_none=True)
    field_choices = fields.Dict(keys=fields.String(validate=validate.Length(max=50)),
                                values=fields.String(validate=validate.OneOf(["import", "keep"])))

    @validates_schema
    def merge_needs_system(self, data, **kwargs):
        if data.get("action") == "merge" and not data.get("system_id"):
            raise ValidationError("Merging needs a system_id.", "system_id")


class RemapIn(Base):
    mapping = fields.Dict(keys=fields.String(validate=validate.Length(max=100)),
                          values=fields.String(allow_none=True, validate=validate.Length(max=50)))
    encoding = fields.String(validate=validate.OneOf(["utf-8", "cp1252", "iso-8859-1", "utf-16"]))
    delimiter = fields.String(validate=validate.OneOf([";", ",", "tab", "|"]))
    sheet = fields.String(validate=validate.Length(min=1, max=100))
    org_unit_id = ident(allow_none=True)


class RowQuery(Base):
    filter = fields.String(validate=validate.OneOf(FILTERS))


def _threshold(**kw) -> fields.Float:
    return fields.Float(validate=validate.Range(min=0, max=100), allow_nan=False, **kw)


class ThresholdsSchema(Base):
    merge = _threshold(metadata={"description": "suggest merging at or above this score"})
    confident = _threshold(metadata={"description": "bulk-acceptable at or above this score"})
    review = _threshold(metadata={"description": "candidates below this are not shown"})
    duplicate = _threshold(metadata={"description": "two rows at or above this are the same system"})
    margin = _threshold(metadata={"description": "the best system must lead the next by this much"})


class AcceptOut(Base):
    accepted = fields.Integer()
