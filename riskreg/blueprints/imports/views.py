"""Pages of imports (admins): upload, the batch with its mapping and progress, the review, apply, undo."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from riskreg import labels, permissions
from riskreg.blueprints.imports import bp
from riskreg.blueprints.imports.forms import ActionForm, ReadAgainForm, ThresholdsForm, UploadForm
from riskreg.errors import DomainError
from riskreg.extensions import db
from riskreg.imports import applying, jobs
from riskreg.imports.mapping import FIELD_LABELS, FIELDS
from riskreg.models import ImportBatch, ImportRow, OrgUnit
from riskreg.models.codes import ImportStatus
from riskreg.services import imports as service
from riskreg.web import add_nav, current_actor

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
}
FIELD_ATTR_LABELS = {attr: FIELD_LABELS[f] for f, attr in applying.FIELD_ATTR.items()}


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
    if form.validate_on_submit():
        actor = current_actor()
        f = form.file.data
        try:
            batch = service.upload(db.session, actor, filename=f.filename or "list", content=f.read(),
                                   source=form.source.data, org_unit_id=int(form.org_unit_id.data)
                                   if form.org_unit_id.data else None, encoding=form.encoding.data or None,
                                   delimiter=form.delimiter.data or None, sheet=form.sheet.data or None)
        except DomainError as err:
            db.session.rollback()
            _flash_error(err)
        else:
            db.session.commit()
            service.start_matching(db.session, actor, batch)
            db.session.commit()
            return redirect(url_for("imports.batch", batch_id=batch.id))
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db.session.execute(select(func.count(ImportBatch.id))).scalar_one()
    batches = db.session.scalars(service.batches_statement(current_actor()).limit(20).offset((page_no - 1) * 20))
    return render_template("imports/index.html", form=form, batches=list(batches), total=total, page=page_no,
                           pages=max((total + 19) // 20, 1), status_labels=STATUS_LABELS,
                           args=lambda **kw: urlencode(kw)), 200 if request.method == "GET" or not form.errors else 422


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
    form = ReadAgainForm(obj=None)
    form.org_unit_id.choices = _units()
    form.org_unit_id.data = str(b.org_unit_id or "")
    form.encoding.data = b.encoding
    delims = {";": ";", ",": ",", "\t": "tab", "|": "|"}
    form.delimiter.data = delims.get(b.delimiter or "", "")
    sheets = [b.sheet] if b.sheet else []
    form.sheet.choices = [(s, s) for s in sheets]
    th = service.thresholds(db.session)
    tform = ThresholdsForm(data=th.__dict__)
    return render_template("imports/batch.html", b=b, form=form, tform=tform, th=th, fields=FIELDS,
                           field_labels=FIELD_LABELS, samples=_samples(b), summary=service.summary(db.session, b),
                           status_labels=STATUS_LABELS, busy=b.status.value in BUSY, action_form=ActionForm())


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
    mapping = {h: request.form.get(f"map-{i}", "") for i, h in enumerate(b.headers)}
    unit = request.form.get("org_unit_id") or None
    try:
        b = service.remap(db.session, actor, batch_id, mapping=mapping,
                          encoding=request.form.get("encoding") or None, delimiter=request.form.get("delimiter") or None,
                          sheet=request.form.get("sheet") or None, org_unit_id=int(unit) if unit else None,
                          keep_org_unit=False)
    except (DomainError, ValueError) as err:
        db.session.rollback()
        _flash_error(err) if isinstance(err, DomainError) else flash(_("Invalid input."), "error")
        return redirect(url_for("imports.batch", batch_id=batch_id))
    db.session.commit()
    service.start_matching(db.session, actor, b)
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
    if flt not in service.FILTERS:
        flt = "all"
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = service.rows_statement(b, flt)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = list(db.session.scalars(stmt.limit(PER_PAGE).offset((page_no - 1) * PER_PAGE)))
    ctx = service.row_context(db.session, b, rows)
    numbers = {r.id: r.row_number for r in db.session.execute(
        select(ImportRow.id, ImportRow.row_number).where(ImportRow.id.in_(
            sorted({x for r in rows for x in (r.duplicates_in_batch or [])} | {r.suggestion_row_id for r in rows
                                                                                 if r.suggestion_row_id}))))}
    views = []
    for r in rows:
        values, problems = ctx["resolved"][r.id]
        fields = ctx["ctx"].fields[r.id][0]
        chosen = r.decision_system_id or r.suggestion_system_id or (r.candidates[0]["system_id"] if r.candidates
                                                                    else None)
        system = ctx["systems"].get(chosen)
        views.append({"row": r, "name": fields.get("name", ""), "fields": fields, "problems": problems,
                      "system": system, "comparison": applying.comparison(system, values) if system else [],
                      "action": (r.decision_action or r.suggestion_action).value if (r.decision_action or
                                                                                     r.suggestion_action) else "create",
                      "system_id": chosen})
    th = service.thresholds(db.session)
    return render_template("imports/review.html", b=b, views=views, flt=flt, total=total, page=page_no,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), args=_review_args, th=th,
                           summary=service.summary(db.session, b), numbers=numbers, action_labels=ACTION_LABELS,
                           reason_labels=REASON_LABELS, field_labels=FIELD_ATTR_LABELS,
                           editable=b.status == ImportStatus.READY, action_form=ActionForm(),
                           status_labels=STATUS_LABELS)


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
    decision["field_choices"] = {k[len("keep-"):]: v for k, v in request.form.items()
                                 if k.startswith("keep-") and v in ("import", "keep")}
    try:
        service.decide(db.session, current_actor(), batch_id, [decision])
    except DomainError as err:
        db.session.rollback()
        _flash_error(err)
        return redirect(back)
    db.session.commit()
    return redirect(f"{back}#row-{row_id}")


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
    db.session.commit()
    if background:
        jobs.run_in_background(kind, b.id, current_actor().user_id)
    else:
        flash(done_message, "success")
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.route("/imports/<int:batch_id>/apply", methods=["POST"])
@login_required
def apply(batch_id: int):
    return _act(batch_id, service.apply, _("The import was applied."), "apply")


@bp.route("/imports/<int:batch_id>/undo", methods=["POST"])
@login_required
def undo(batch_id: int):
    return _act(batch_id, service.undo, _("The import was undone."), "undo")
