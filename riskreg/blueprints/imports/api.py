"""JSON API: imports (API.md `/api/v1/imports…`). Admins only."""

from __future__ import annotations

import json
import time

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l

from riskreg.blueprints.api import body, json_body, load, paged, route
from riskreg.errors import BadInput, DomainError, RuleViolation, TooLarge
from riskreg.extensions import db
from riskreg.schemas.imports import (
    AcceptOut,
    BatchOut,
    DecisionIn,
    RemapIn,
    RowOut,
    RowQuery,
    ThresholdsSchema,
    UploadForm,
)
from riskreg.services import imports as service
from riskreg.web import current_actor

batch_out = BatchOut()
DRAIN_MAX = 256 * 1024 * 1024


def drain_request_body() -> None:
    """Read and drop what the client is still sending, so that a refusal reaches it instead of a reset
    connection (a server that closes with unread data makes the client's TCP stack discard the answer)."""
    length = request.content_length or 0
    if length <= 0 or length > DRAIN_MAX:
        return
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    deadline = time.monotonic() + 30
    left = length
    try:
        while left > 0 and time.monotonic() < deadline:
            chunk = stream.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError):
        return


def _upload_fields() -> dict:
    form = {k: v for k, v in request.form.items() if k in UploadForm().fields and k != "file" and v != ""}
    data = load(UploadForm(exclude=("file",)), form)
    if "mapping" in data:
        try:
            mapping = json.loads(data["mapping"])
        except ValueError as exc:
            raise RuleViolation(_l("The mapping is not valid JSON."),
                                fields={"mapping": [_l("A JSON object: column → field.")]}) from exc
        if not isinstance(mapping, dict) or not all(isinstance(v, str | type(None)) for v in mapping.values()):
            raise RuleViolation(_l("The mapping must be a JSON object."),
                                fields={"mapping": [_l("A JSON object: column → field.")]})
        data["mapping"] = mapping
    return data


@route("/imports", "POST", summary="Upload a list of systems (CSV or XLSX) to match against the register (admin)",
       body=UploadForm, response=BatchOut, status=201, errors=(403, 413, 415, 422),
       request_content_type="multipart/form-data", tag="imports")
def upload():
    actor = current_actor()
    try:
        service.require_importer(actor)
        if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
            raise TooLarge(_l("The upload is larger than %(mb)s MB.",
                              mb=current_app.config["MAX_CONTENT_LENGTH"] // 2**20))
        if request.mimetype != "multipart/form-data":
            raise BadInput(_l("Send the list as multipart/form-data with the file in the part named file."))
        data = _upload_fields()
        upload_file = request.files.get("file")
        if upload_file is None:
            raise RuleViolation(_l("No file was sent."), fields={"file": [_l("Required.")]})
        content = upload_file.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    except DomainError:
        drain_request_body()
        raise
    try:
        batch = service.upload(db.session, actor, filename=upload_file.filename or "list", content=content,
                               source=data["source"], mapping=data.get("mapping"),
                               org_unit_id=data.get("org_unit_id"), encoding=data.get("encoding"),
                               delimiter=data.get("delimiter"), sheet=data.get("sheet"))
    except DomainError as err:
        named = service.naming_sheets(err, content, data.get("sheet"))
        if named is err:
            raise
        raise named from err
    db.session.commit()
    service.start_matching_within_budget(db.session, actor, batch)
    db.session.commit()
    resp = jsonify(batch_out.dump(batch))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/imports/{batch.id}"
    return resp


@route("/imports", summary="Import batches, newest first (admin)", response=BatchOut, paged=True, errors=(403,),
       tag="imports")
def list_batches():
    stmt = service.batches_statement(current_actor())
    return paged(stmt, BatchOut(many=True).dump)


@route("/imports/<int:batch_id>", summary="One import batch with its status and progress (admin); poll while "
                                          "`matching`, `applying` or `undoing`",
       response=BatchOut, errors=(403,), tag="imports")
def get_batch(batch_id: int):
    actor = current_actor()
    batch = service.get(db.session, actor, batch_id)
    service.recover_if_stale(db.session, actor, batch)
    return jsonify(batch_out.dump(batch))


@route("/imports/<int:batch_id>", "PATCH", summary="Read the file again with another mapping, encoding, separator, "
                                                   "sheet or org unit, and match anew (admin)",
       body=RemapIn, response=BatchOut, errors=(403, 409, 413, 415), tag="imports")
def remap(batch_id: int):
    data = body(RemapIn())
    actor = current_actor()
    try:
        batch = service.remap(db.session, actor, batch_id, mapping=data.get("mapping"),
                              encoding=data.get("encoding"), delimiter=data.get("delimiter"),
                              sheet=data.get("sheet"), org_unit_id=data.get("org_unit_id"),
                              keep_org_unit="org_unit_id" not in data)
    except DomainError as err:
        db.session.rollback()
        if "mapping" not in err.fields:
            raise
        refused = service.get(db.session, actor, batch_id)
        named = service.naming_sheets(err, refused.content, data.get("sheet") or refused.sheet)
        if named is err:
            raise
        raise named from err
    db.session.commit()
    service.start_matching_within_budget(db.session, actor, batch)
    db.session.commit()
    return jsonify(batch_out.dump(batch))


@route("/imports/<int:batch_id>/rows", summary="The rows of a batch with candidates and suggestions, in file order "
                                               "(admin); ?filter= merge, create, skip, duplicates, uncertain, "
                                               "undecided, decided",
       response=RowOut, paged=True, query=RowQuery, errors=(403,), tag="imports")
def rows(batch_id: int):
    batch = service.get(db.session, current_actor(), batch_id)
    args = load(RowQuery(), {k: v for k, v in request.args.items() if k == "filter"})
    return paged(service.rows_statement(batch, args.get("filter", "all")), RowOut(many=True).dump)


@route("/imports/<int:batch_id>/decisions", "POST", summary="Decide rows: merge into a system, create or skip, "
                                                            "with field choices for conflicts (admin)",
       body=DecisionIn(many=True), response=BatchOut, errors=(403, 409), tag="imports")
def decisions(batch_id: int):
    data = load(DecisionIn(many=True), json_body(list))
    batch = service.decide(db.session, current_actor(), batch_id, data)
    db.session.commit()
    return jsonify(batch_out.dump(batch))


@route("/imports/<int:batch_id>/accept-confident", "POST", summary="Take the suggestion as the decision for every "
                                                                   "undecided row the matcher is confident about",
       response=AcceptOut, errors=(403, 409), tag="imports")
def accept_confident(batch_id: int):
    count = service.accept_confident(db.session, current_actor(), batch_id)
    db.session.commit()
    return jsonify({"accepted": count})


def _acted(batch, background: bool):
    if background:
        service.progress_from_zero(batch)
    db.session.commit()
    if background:
        from riskreg.imports import jobs

        jobs.run_in_background("apply" if batch.status.value == "applying" else "undo", batch.id,
                               current_actor().user_id)
    resp = jsonify(batch_out.dump(batch))
    resp.status_code = 202 if background else 200
    return resp


@route("/imports/<int:batch_id>/apply", "POST", summary="Apply the batch in one transaction, each row by its "
                                                        "decision or else its suggestion (admin); 202 while a large "
                                                        "batch is `applying`",
       response=BatchOut, errors=(403, 409), tag="imports")
def apply(batch_id: int):
    batch, background = service.apply(db.session, current_actor(), batch_id)
    return _acted(batch, background)


@route("/imports/<int:batch_id>/undo", "POST", summary="Undo an applied batch exactly; refused (409) when later "
                                                       "changes depend on it (admin)",
       response=BatchOut, errors=(403, 409), tag="imports")
def undo(batch_id: int):
    batch, background = service.undo(db.session, current_actor(), batch_id)
    return _acted(batch, background)


@route("/imports/settings", summary="The matcher's thresholds (admin)", response=ThresholdsSchema, errors=(403,),
       tag="imports")
def get_settings():
    actor = current_actor()
    service.require_importer(actor)
    return jsonify(service.thresholds(db.session).__dict__)


@route("/imports/settings", "PUT", summary="Change the matcher's thresholds (admin)", body=ThresholdsSchema,
       response=ThresholdsSchema, errors=(403,), tag="imports")
def put_settings():
    actor = current_actor()
    service.require_importer(actor)
    data = body(ThresholdsSchema())
    th = service.update_settings(db.session, actor, data)
    db.session.commit()
    return jsonify(th.__dict__)
