"""Pages of imports (admins): upload, the batch with its mapping and progress, the review, apply, undo."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from riskreg import labels, permissions
from riskreg.audit import plain
from riskreg.blueprints.imports import bp
from riskreg.blueprints.imports.forms import ActionForm, ReadAgainForm, ThresholdsForm, UploadForm
from riskreg.errors import DomainError
from riskreg.extensions import db
from riskreg.imports import applying, jobs, reading
from riskreg.imports.mapping import FIELD_LABELS, FIELDS
from riskreg.models import ImportBatch, ImportRow, OrgUnit, User
from riskreg.models.codes import ImportStatus
from riskreg.services import imports as service
from riskreg.web import add_nav, arg_int, current_actor

add_nav("imports.index", _l("Imports"), "can_import")

PER_PAGE = 25
BUSY = ("matching", "applying", "undoing")
STATUS_LABELS = labels.IMPORT_STATUS_LABELS
ACTION_LABELS = {"merge": _l("Merge"), "create": _l("Create new"), "skip": _l("Skip")}
REASON_LABELS = {
    "exact": _l("same name"), "similar": _l("similar spelling"), "reordered": _l("same words in another order"),
    "joined": _l("same words written together"), "contains": _l("one name holds the other"),
    "bracket": _l("a part in brackets or around a dash"), "acronym": _l("abbreviation"),
    "external_ref": _l("same external reference"), "repeats_row": _l("repeats an earlier row"),
    "no_name": _l("the row has no name"),
}
# the register's fields as the register names them (not as the list's columns: "Org unit", not "(name)")
FIELD_ATTR_LABELS = {attr: labels.FIELD_LABELS.get(attr, FIELD_LABELS[f]) for f, attr in applying.FIELD_ATTR.items()}
ATTR_FIELD = {attr: f for f, attr in applying.FIELD_ATTR.items()}
# What tells two candidates apart (Sectra PACS from Agfa PACS), shown for every candidate of a row.
KEY_ATTRS = ("supplier", "org_unit_id", "system_owner_id", "lifecycle", "description", "criticality")
CODED = ("lifecycle", "hosting", "personal_data")
UNCERTAIN_MERGES = "uncertain_merges"
PAGE_FILTERS = (*service.FILTERS, UNCERTAIN_MERGES)
# The upload form's fields a refusal may name; anything else is said of the file.
UPLOAD_FIELDS = ("file", "source", "org_unit_id", "encoding", "delimiter", "sheet")


def _admins_only() -> None:
    if not permissions.can_import(current_user):
        abort(403)


def _units() -> list[tuple[str, str]]:
    return [("", _("None (rows name their own)"))] + [
        (str(i), n) for i, n in db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name))]


def _flash_error(err: DomainError) -> None:
    flash(str(err.message), "error")
    for messages in err.fields.values():
        for m in messages:
            flash(str(m), "error")


@bp.route("/imports", methods=["GET", "POST"])
@login_required
def index():
    _admins_only()
    form = UploadForm()
    form.org_unit_id.choices = _units()
    status = 200
    if form.validate_on_submit():
        actor = current_actor()
        f = form.file.data
        content = f.read()
        try:
            batch = service.upload(db.session, actor, filename=f.filename or "list", content=content,
                                   source=form.source.data, org_unit_id=int(form.org_unit_id.data)
                                   if form.org_unit_id.data else None, encoding=form.encoding.data or None,
                                   delimiter=form.delimiter.data or None, sheet=form.sheet.data or None)
        except DomainError as err:
            db.session.rollback()
            err = service.naming_sheets(err, content, form.sheet.data or None)
            _form_errors(form, err)
            status = err.status
        else:
            db.session.commit()
            service.start_matching_within_budget(db.session, actor, batch)
            db.session.commit()
            return redirect(url_for("imports.batch", batch_id=batch.id))
    elif form.errors:
        status = 422
    page_no = max(arg_int("page", 1), 1)
    total = db.session.execute(select(func.count(ImportBatch.id))).scalar_one()
    batches = db.session.scalars(service.batches_statement(current_actor()).limit(20).offset((page_no - 1) * 20))
    return render_template("imports/index.html", form=form, batches=list(batches), total=total, page=page_no,
                           pages=max((total + 19) // 20, 1), status_labels=STATUS_LABELS,
                           args=lambda **kw: urlencode(kw)), status


def _form_errors(form: UploadForm, err: DomainError) -> None:
    """A refused upload on the form itself: the refusal said of the file, each detail at its field."""
    form.file.errors = [*form.file.errors, str(err.message)]
    for name, messages in err.fields.items():
        target = getattr(form, name) if name in UPLOAD_FIELDS and name != "file" else form.file
        target.errors = [*target.errors, *(str(m) for m in messages)]


def _samples(batch: ImportBatch) -> dict[str, list[str]]:
    rows = db.session.scalars(select(ImportRow.values).where(ImportRow.batch_id == batch.id)
                              .order_by(ImportRow.row_number).limit(3)).all()
    return {h: [str(r.get(h, "")) for r in rows if r.get(h)] for h in batch.headers}


@bp.route("/imports/<int:batch_id>")
@login_required
def batch(batch_id: int):
    _admins_only()
    actor = current_actor()
    b = service.get(db.session, actor, batch_id)
    service.recover_if_stale(db.session, actor, b)
    return _batch_page(b)


def _batch_page(b: ImportBatch) -> str:
    form = ReadAgainForm(obj=None)
    form.org_unit_id.choices = _units()
    form.org_unit_id.data = str(b.org_unit_id or "")
    form.encoding.data = b.encoding
    delims = {";": ";", ",": ",", "\t": "tab", "|": "|"}
    form.delimiter.data = delims.get(b.delimiter or "", "")
    sheets = reading.sheet_names(b.content) if b.file_kind == "xlsx" else []
    if b.sheet and b.sheet not in sheets:
        sheets = [b.sheet, *sheets]
    form.sheet.choices = [(s, s) for s in sheets]
    form.sheet.data = b.sheet
    th = service.thresholds(db.session)
    tform = ThresholdsForm(data=th.__dict__)
    return render_template("imports/batch.html", b=b, form=form, tform=tform, th=th, fields=FIELDS,
                           field_labels=FIELD_LABELS, samples=_samples(b), summary=service.summary(db.session, b),
                           status_labels=STATUS_LABELS, busy=b.status.value in BUSY, action_form=ActionForm(),
                           sheets=sheets, uncertain_merges=_uncertain_merges(b))


def _uncertain_merges(b: ImportBatch) -> int:
    return service.uncertain_merges(db.session, b) if b.status == ImportStatus.READY else 0


@bp.route("/imports/<int:batch_id>/progress")
@login_required
def progress(batch_id: int):
    _admins_only()
    actor = current_actor()
    b = service.get(db.session, actor, batch_id)
    service.recover_if_stale(db.session, actor, b)
    return jsonify({"status": b.status.value, "label": str(STATUS_LABELS[b.status.value]),
                    "done": b.progress_done, "total": b.progress_total, "error": b.error})


@bp.route("/imports/<int:batch_id>/read-again", methods=["POST"])
@login_required
def read_again(batch_id: int):
    _admins_only()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    actor = current_actor()
    b = service.get(db.session, actor, batch_id)
    sheet = request.form.get("sheet") or None
    content = b.content
    # the columns on the form are the current sheet's: another sheet has its own, suggested from its headers
    other_sheet = b.file_kind == "xlsx" and sheet is not None and sheet != b.sheet
    mapping = None if other_sheet else {h: request.form.get(f"map-{i}", "") for i, h in enumerate(b.headers)}
    unit = request.form.get("org_unit_id") or None
    try:
        b = service.remap(db.session, actor, batch_id, mapping=mapping,
                          encoding=request.form.get("encoding") or None,
                          delimiter=request.form.get("delimiter") or None, sheet=sheet,
                          org_unit_id=int(unit) if unit else None, keep_org_unit=False)
    except (DomainError, ValueError) as err:
        db.session.rollback()
        if isinstance(err, DomainError):
            _flash_error(service.naming_sheets(err, content, sheet))
        else:
            flash(_("Invalid input."), "error")
        return redirect(url_for("imports.batch", batch_id=batch_id))
    db.session.commit()
    service.start_matching_within_budget(db.session, actor, b)
    db.session.commit()
    flash(_("The list was read again and is being matched."), "success")
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.route("/imports/settings", methods=["POST"])
@login_required
def settings():
    _admins_only()
    form = ThresholdsForm()
    back = request.form.get("next") or url_for("imports.index")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("imports.index")
    if not form.validate_on_submit():
        flash(_("The thresholds must be numbers from 0 to 100."), "error")
        return redirect(back)
    try:
        service.update_settings(db.session, current_actor(), {k: float(getattr(form, k).data) for k in
                                                              service.SETTING_KEYS})
    except DomainError as err:
        db.session.rollback()
        _flash_error(err)
        return redirect(back)
    db.session.commit()
    flash(_("The thresholds were saved. They apply to lists matched from now on."), "success")
    return redirect(back)


def _review_args(**over) -> str:
    args = {k: request.args.get(k) for k in ("filter", "page") if request.args.get(k)}
    args.update({k: v for k, v in over.items() if v is not None})
    return urlencode(args)


@bp.route("/imports/<int:batch_id>/review")
@login_required
def review(batch_id: int):
    _admins_only()
    actor = current_actor()
    b = service.get(db.session, actor, batch_id)
    flt = request.args.get("filter", "all")
    if flt not in PAGE_FILTERS:
        flt = "all"
    page_no = max(arg_int("page", 1), 1)
    stmt = service.uncertain_merges_statement(b) if flt == UNCERTAIN_MERGES else service.rows_statement(b, flt)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = list(db.session.scalars(stmt.limit(PER_PAGE).offset((page_no - 1) * PER_PAGE)))
    ctx = service.row_context(db.session, b, rows)
    numbers = {r.id: r.row_number for r in db.session.execute(
        select(ImportRow.id, ImportRow.row_number).where(ImportRow.id.in_(
            sorted({x for r in rows for x in (r.duplicates_in_batch or [])} | {r.suggestion_row_id for r in rows
                                                                                 if r.suggestion_row_id}))))}
    names = _Names(ctx["systems"].values(), [ctx["resolved"][r.id][0] for r in rows])
    views = [_row_view(r, ctx, names) for r in rows]
    th = service.thresholds(db.session)
    uncertain = _uncertain_merges(b)
    return render_template("imports/review.html", b=b, views=views, flt=flt, total=total, page=page_no,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), args=_review_args, th=th,
                           summary={**service.summary(db.session, b), UNCERTAIN_MERGES: uncertain},
                           uncertain_merges=uncertain, numbers=numbers, action_labels=ACTION_LABELS,
                           reason_labels=REASON_LABELS, field_labels=FIELD_ATTR_LABELS, key_attrs=KEY_ATTRS,
                           editable=b.status == ImportStatus.READY, action_form=ActionForm(),
                           status_labels=STATUS_LABELS)


class _Names:
    """The org units' and people's names the review shows instead of ids: two queries for a page of rows."""

    def __init__(self, systems, values: list[dict]):
        units = {s.org_unit_id for s in systems} | {v.get("org_unit_id") for v in values}
        people = {getattr(s, a) for s in systems for a in ("system_owner_id", "risk_owner_id")}
        people |= {v.get(a) for v in values for a in ("system_owner_id", "risk_owner_id")}
        units.discard(None)
        people.discard(None)
        self.units = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(sorted(units)))
                                             ).all()) if units else {}
        self.people = {i: f"{n} ({e})" for i, n, e in db.session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(sorted(people))))} if people else {}

    def show(self, attr: str, value):
        """A value as a person reads it: names for ids, labels for codes."""
        if value is None or value == "":
            return None
        if attr == "org_unit_id":
            return self.units.get(value, value)
        if attr in ("system_owner_id", "risk_owner_id"):
            return self.people.get(value, value)
        labels_of = {"lifecycle": labels.LIFECYCLE_LABELS, "hosting": labels.HOSTING_LABELS,
                     "personal_data": labels.PERSONAL_DATA_LABELS}.get(attr)
        if labels_of is not None:
            return labels_of.get(value, value)
        return value


def _row_view(r: ImportRow, ctx: dict, names: _Names) -> dict:
    """A row of the review: its values, and every candidate's key fields and field-by-field comparison
    (what merging into that system would do), so that choosing another candidate shows its own conflicts."""
    values, problems = ctx["resolved"][r.id]
    fields = ctx["ctx"].fields[r.id][0]
    action = r.decision_action or r.suggestion_action
    chosen = r.decision_system_id or r.suggestion_system_id or (r.candidates[0]["system_id"] if r.candidates
                                                                else None)
    candidates = [dict(c) for c in (r.candidates or [])]
    if r.decision_system_id and all(c["system_id"] != r.decision_system_id for c in candidates):
        system = ctx["systems"].get(r.decision_system_id)  # decided (through the API) beyond the candidates
        candidates.append({"system_id": r.decision_system_id, "name": system.name if system else "?",
                           "score": None, "decided_only": True})
    cands = []
    for c in candidates:
        system = ctx["systems"].get(c["system_id"])
        comparison = []
        if system is not None:
            for row in applying.comparison(system, values):
                comparison.append({**row, "shown_current": names.show(row["field"], row["current"]),
                                   "shown_incoming": names.show(row["field"], row["incoming"])})
        cands.append({"c": c, "system": system, "comparison": comparison,
                      "states": {x["field"]: x["state"] for x in comparison},
                      "shown": {a: names.show(a, plain(getattr(system, a))) for a in KEY_ATTRS}
                      if system is not None else {}})
    # the list's own text, but for codes (lifecycle) shown by their labels
    listed = {a: names.show(a, fields.get(ATTR_FIELD[a])) if a in CODED else fields.get(ATTR_FIELD[a])
              for a in KEY_ATTRS}
    return {"row": r, "name": fields.get("name", ""), "fields": fields, "problems": problems, "cands": cands,
            "listed": listed, "action": action.value if action else "create", "system_id": chosen}


@bp.route("/imports/<int:batch_id>/decide", methods=["POST"])
@login_required
def decide(batch_id: int):
    _admins_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    choice = request.form.get("choice", "")
    back = url_for("imports.review", batch_id=batch_id) + "?" + urlencode(
        {k: request.form.get(k) for k in ("filter", "page") if request.form.get(k)})
    try:
        row_id = int(request.form.get("row_id", ""))
        if choice.startswith("merge:"):
            decision = {"row_id": row_id, "action": "merge", "system_id": int(choice.split(":", 1)[1])}
        elif choice in ("create", "skip"):
            decision = {"row_id": row_id, "action": choice}
        else:
            raise ValueError(choice)
    except ValueError:
        flash(_("Choose what to do with the row."), "error")
        return redirect(back)
    decision["field_choices"] = _field_choices(decision.get("system_id"))
    try:
        service.decide(db.session, current_actor(), batch_id, [decision])
    except DomainError as err:
        db.session.rollback()
        _flash_error(err)
        return redirect(back)
    db.session.commit()
    return redirect(f"{back}#row-{row_id}")


def _field_choices(system_id: int | None) -> dict[str, str]:
    """The conflicts' choices posted for the system the row merges into (``keep-<system id>-<field>``: the
    review shows every candidate's own), or for whatever system (``keep-<field>``)."""
    generic: dict[str, str] = {}
    own: dict[str, str] = {}
    for key, value in request.form.items():
        if not key.startswith("keep-") or value not in ("import", "keep"):
            continue
        head, _sep, attr = key[len("keep-"):].partition("-")
        if attr and head.isascii() and head.isdigit():
            if head == str(system_id):
                own[attr] = value
        else:
            generic[key[len("keep-"):]] = value
    return {**generic, **own}


@bp.route("/imports/<int:batch_id>/accept-confident", methods=["POST"])
@login_required
def accept_confident(batch_id: int):
    _admins_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        count = service.accept_confident(db.session, current_actor(), batch_id)
    except DomainError as err:
        db.session.rollback()
        _flash_error(err)
    else:
        db.session.commit()
        flash(_("%(n)s confident suggestions were accepted.", n=count), "success")
    return redirect(url_for("imports.review", batch_id=batch_id))


def _act(batch_id: int, fn, done_message: str, kind: str):
    _admins_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        b, background = fn(db.session, current_actor(), batch_id)
    except DomainError as err:
        db.session.rollback()
        _flash_error(err)
        return redirect(url_for("imports.batch", batch_id=batch_id))
    if background:
        service.progress_from_zero(b)
    db.session.commit()
    if not background:
        flash(done_message, "success")
        return redirect(url_for("imports.batch", batch_id=batch_id))
    # The batch page (status, progress "working") is the answer, rendered before the work starts: on SQLite
    # the work holds the write lock until it ends, and a page asked for after it started (a redirect to it)
    # would wait all that time, every transaction there beginning IMMEDIATE. (The work's own transaction
    # waits the few milliseconds until this request's reading ends.) The page's script puts the batch's own
    # address in the browser's history, and polls.
    user_id = current_actor().user_id
    page = _batch_page(b)
    jobs.run_in_background(kind, b.id, user_id)
    return page, 202


@bp.route("/imports/<int:batch_id>/apply", methods=["POST"])
@login_required
def apply(batch_id: int):
    return _act(batch_id, service.apply, _("The import was applied."), "apply")


@bp.route("/imports/<int:batch_id>/undo", methods=["POST"])
@login_required
def undo(batch_id: int):
    return _act(batch_id, service.undo, _("The import was undone."), "undo")
