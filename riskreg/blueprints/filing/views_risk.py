"""Risk analysis pages: the list, the header form, the analysis with its 4×4 matrices (before and after
actions, each cell linking to its risks), the risk form with actions, and action follow-up."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from riskreg.blueprints.filing import bp
from riskreg.blueprints.filing.common import (
    as_int,
    conflict_rows,
    consequence_choices,
    labelled,
    likelihood_choices,
    page_context,
    save_form,
    show_errors,
    system_for,
    take_version,
    user_choices,
)
from riskreg.blueprints.filing.forms import (
    ACTION_STATUS_LABELS,
    TREATMENT_LABELS,
    ActionStatusForm,
    RiskAnalysisForm,
    RiskForm,
    VersionForm,
)
from riskreg.errors import Conflict, DomainError, NotAllowed, NotFound
from riskreg.extensions import db
from riskreg.models import Classification, User
from riskreg.models.codes import RecordStatus
from riskreg.services import filing
from riskreg.services import risk as service
from riskreg.web import current_actor

BLANK_ACTIONS = 2
CELL = re.compile(r"^(before|after)-([1-4])-([1-4])$")


def _labels() -> dict:
    return {"treatment": TREATMENT_LABELS, "action_status": ACTION_STATUS_LABELS}


@bp.route("/systems/<int:system_id>/risk-analyses")
@login_required
def risk_analyses(system_id: int):
    system = system_for(system_id)
    history = service.history(db.session, current_actor(), system.id)
    return render_template(
        "filing/risk_analyses.html",
        **page_context(system, "risk"),
        history=history,
        action_form=VersionForm(),
        has_draft=any(a.status == RecordStatus.DRAFT for a in history),
    )


def _classification_choices(system) -> list:
    rows = db.session.execute(
        select(
            Classification.id,
            Classification.number,
            Classification.confidentiality,
            Classification.integrity,
            Classification.availability,
        )
        .where(Classification.system_id == system.id, Classification.status == RecordStatus.FINAL)
        .order_by(Classification.number.desc())
    ).all()
    return [("", _("The current classification"))] + [
        (cid, _("Version %(n)s (%(profile)s)", n=n, profile=f"{k}-{r}-{t}")) for cid, n, k, r, t in rows
    ]


def _header_values(form: RiskAnalysisForm) -> dict:
    return {
        "analysed_on": form.analysed_on.data,
        "participants": form.participants.data or "",
        "scope": form.scope.data or "",
        "classification_id": form.classification_id.data,
    }


@bp.route("/systems/<int:system_id>/risk-analyses/new", methods=["GET", "POST"])
@login_required
def new_risk_analysis(system_id: int):
    system = system_for(system_id, write=True)
    form = RiskAnalysisForm()
    form.classification_id.choices = _classification_choices(system)
    if request.method == "GET":
        form.analysed_on.data = current_actor().today()

    def create():
        values = _header_values(form)
        if values["classification_id"] is None:
            values.pop("classification_id")
        return service.create(db.session, current_actor(), system.id, **values)

    done = save_form(form, create)
    if done.saved:
        flash(_("The risk analysis is started. Add its risks."), "success")
        return redirect(url_for("filing.risk_analysis", analysis_id=done.result.id))
    return render_template(
        "filing/risk_analysis_form.html", **page_context(system, "risk"), form=form, analysis=None
    ), done.status(form)


def _header_conflict(form: RiskAnalysisForm, theirs) -> list[dict]:
    choices = form.classification_id.choices
    return conflict_rows(
        [
            (form.analysed_on.label.text, form.analysed_on.data, theirs.analysed_on),
            (form.participants.label.text, form.participants.data, theirs.participants),
            (form.scope.label.text, form.scope.data, theirs.scope),
            (
                form.classification_id.label.text,
                labelled(choices, form.classification_id.data),
                labelled(choices, theirs.classification_id),
            ),
        ]
    )


@bp.route("/risk-analyses/<int:analysis_id>/edit", methods=["GET", "POST"])
@login_required
def edit_risk_analysis(analysis_id: int):
    analysis = service.get(db.session, analysis_id)
    system = system_for(analysis.system_id, write=True)
    if analysis.status == RecordStatus.FINAL:
        flash(_("A finalised risk analysis never changes; start a new round instead."), "error")
        return redirect(url_for("filing.risk_analysis", analysis_id=analysis.id))
    form = RiskAnalysisForm()
    form.classification_id.choices = _classification_choices(system)
    if request.method == "GET":
        form.analysed_on.data, form.participants.data = analysis.analysed_on, analysis.participants
        form.scope.data, form.classification_id.data = analysis.scope, analysis.classification_id
        form.version.data = analysis.version
    done = save_form(
        form,
        lambda: service.update(
            db.session,
            current_actor(),
            analysis.id,
            version=as_int(form.version.data),
            **_header_values(form),
        ),
        reload=lambda: service.get(db.session, analysis_id),
    )
    if done.saved:
        flash(_("The draft is saved."), "success")
        return redirect(url_for("filing.risk_analysis", analysis_id=analysis.id))
    return render_template(
        "filing/risk_analysis_form.html",
        **page_context(system, "risk"),
        form=form,
        analysis=done.conflict or analysis,
        conflict=_header_conflict(form, done.conflict) if done.conflict else None,
    ), done.status(form)


@bp.route("/risk-analyses/<int:analysis_id>")
@login_required
def risk_analysis(analysis_id: int):
    """The matrix page: the analysis, both matrices and its risks (optionally those of one cell)."""
    analysis = service.get_readable(db.session, current_actor(), analysis_id)
    system = system_for(analysis.system_id)
    risks = list(analysis.risks)
    cell = CELL.match(request.args.get("cell", ""))
    shown = risks
    if cell:
        when, likelihood, consequence = cell.group(1), int(cell.group(2)), int(cell.group(3))
        shown = [r for r in risks if _in_cell(r, when, likelihood, consequence)]
    user_ids = {a.responsible_id for r in risks for a in r.actions}
    names = (
        dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    classification = (
        db.session.get(Classification, analysis.classification_id) if analysis.classification_id else None
    )
    return render_template(
        "filing/risk_analysis.html",
        **page_context(system, "risk"),
        analysis=analysis,
        risks=shown,
        all_count=len(risks),
        cell=cell.group(0) if cell else None,
        before=service.matrix(risks),
        after=service.matrix(risks, residual=True),
        names=names,
        classification=classification,
        action_form=VersionForm(),
        likelihood_label=service.likelihood_label,
        consequence_label=service.consequence_label,
        labels=_labels(),
    )


def _in_cell(risk, when: str, likelihood: int, consequence: int) -> bool:
    if when == "after" and risk.residual_likelihood is not None:
        return (risk.residual_likelihood, risk.residual_consequence) == (likelihood, consequence)
    return (risk.likelihood, risk.consequence) == (likelihood, consequence)


@bp.route("/risk-analyses/<int:analysis_id>/finalise", methods=["POST"])
@login_required
def finalise_risk_analysis(analysis_id: int):
    analysis = service.get(db.session, analysis_id)
    system_for(analysis.system_id, write=True)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            service.finalise(db.session, current_actor(), analysis.id, version=as_int(form.version.data))
        except (NotAllowed, NotFound):
            raise
        except Conflict:
            db.session.rollback()
            flash(
                _(
                    "Someone else changed the analysis after you opened it, so it is not finalised. It is "
                    "shown below as it is now: check it and finalise again."
                ),
                "error",
            )
            return risk_analysis(analysis_id), 409
        except DomainError as exc:
            db.session.rollback()
            problems = " ".join(str(m) for ms in (exc.fields or {}).values() for m in ms)
            flash(f"{exc.message} {problems}".strip(), "error")
        else:
            db.session.commit()
            flash(
                _("The risk analysis is finalised. It can no longer change; actions are still followed up."),
                "success",
            )
    return redirect(url_for("filing.risk_analysis", analysis_id=analysis_id))


@bp.route("/systems/<int:system_id>/risk-analyses/new-round", methods=["POST"])
@login_required
def new_round(system_id: int):
    system = system_for(system_id, write=True)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            copy = service.new_round(db.session, current_actor(), system.id)
        except (NotAllowed, NotFound):
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("A new round is started from the last analysis."), "success")
            return redirect(url_for("filing.risk_analysis", analysis_id=copy.id))
    return redirect(url_for("filing.risk_analyses", system_id=system.id))


# ------------------------------------------------------------------ risks


def _prepare_risk_form(form: RiskForm) -> None:
    form.likelihood.choices, form.consequence.choices = likelihood_choices(), consequence_choices()
    form.residual_likelihood.choices = likelihood_choices(optional=True)
    form.residual_consequence.choices = consequence_choices(optional=True)
    users = user_choices(db.session)
    for entry in form.actions:
        entry.form.responsible_id.choices = users


def _risk_values(form: RiskForm) -> dict:
    actions = []
    for entry in form.actions:
        a = entry.form
        if not (a.description.data or "").strip():
            continue
        actions.append(
            {
                "id": as_int(a.id.data),
                "description": a.description.data,
                "responsible_id": a.responsible_id.data,
                "due_on": a.due_on.data,
                "status": a.status.data,
            }
        )
    return {
        "title": form.title.data,
        "description": form.description.data or "",
        "aspect": form.aspect.data,
        "likelihood": form.likelihood.data,
        "consequence": form.consequence.data,
        "existing_protection": form.existing_protection.data or "",
        "treatment": form.treatment.data,
        "residual_likelihood": form.residual_likelihood.data,
        "residual_consequence": form.residual_consequence.data,
        "actions": actions,
    }


def _action_rows(form: RiskForm, saved) -> list[tuple]:
    """Each action's text, responsible, due date and status: the form's (matched to the saved risk's by
    id) beside the saved one; the actions only saved come last."""
    users = dict(user_choices(db.session))
    theirs = {a.id: a for a in (saved.actions if saved is not None else [])}
    unknown = {a.responsible_id for a in theirs.values()} - set(users) - {None}  # inactive users
    if unknown:
        users.update(db.session.execute(select(User.id, User.name).where(User.id.in_(unknown))).all())
    statuses = list(ACTION_STATUS_LABELS.items())
    mine = [e.form for e in form.actions if (e.form.description.data or "").strip()]
    matched = [(a, theirs.get(as_int(a.id.data))) for a in mine]
    seen = {other.id for _a, other in matched if other is not None}
    matched += [(None, other) for other in theirs.values() if other.id not in seen]
    pairs: list[tuple] = []
    for n, (a, other) in enumerate(matched, start=1):
        for field, mine_value, theirs_value in (
            (
                _("Risk action"),
                a.description.data if a is not None else None,
                other.description if other is not None else None,
            ),
            (
                _("Responsible"),
                users.get(a.responsible_id.data) if a is not None else None,
                users.get(other.responsible_id) if other is not None else None,
            ),
            (
                _("Due date"),
                a.due_on.data if a is not None else None,
                other.due_on if other is not None else None,
            ),
            (
                _("Status"),
                labelled(statuses, a.status.data) if a is not None else None,
                labelled(statuses, other.status) if other is not None else None,
            ),
        ):
            pairs.append((_("Action %(n)s: %(field)s", n=n, field=field), mine_value, theirs_value))
    return pairs


def _risk_conflict(form: RiskForm, analysis, risk_id: int | None) -> dict:
    """A stale save of a risk: every field of the form beside the saved risk (for a new risk, one of the
    same title if someone else added it), with a note on what else happened."""
    saved = next((r for r in analysis.risks if r.id == risk_id), None) if risk_id is not None else None
    note, action = None, None
    if risk_id is not None and saved is None:
        note = _(
            "The other person removed this risk from the analysis. Saving the form adds it again, as a "
            "new risk."
        )
        action = url_for("filing.new_risk", analysis_id=analysis.id)
    elif risk_id is None:
        title = (form.title.data or "").strip().lower()
        saved = next((r for r in analysis.risks if r.title.strip().lower() == title), None)
        note = _(
            "Your risk is a new one. The analysis now holds: %(titles)s.",
            titles=" · ".join(r.title for r in analysis.risks) or "–",
        )
        if saved is not None:
            note += " " + _("One of them has the same title as yours; it is shown beside your proposal.")

    def theirs(key):
        return getattr(saved, key) if saved is not None else None

    def choice(field, key):
        return (field.label.text, labelled(field.choices, field.data), labelled(field.choices, theirs(key)))

    pairs = [
        (form.title.label.text, form.title.data, theirs("title")),
        (form.description.label.text, form.description.data, theirs("description")),
        choice(form.aspect, "aspect"),
        choice(form.likelihood, "likelihood"),
        choice(form.consequence, "consequence"),
        (form.existing_protection.label.text, form.existing_protection.data, theirs("existing_protection")),
        choice(form.treatment, "treatment"),
        *_action_rows(form, saved),
        choice(form.residual_likelihood, "residual_likelihood"),
        choice(form.residual_consequence, "residual_consequence"),
    ]
    return {"rows": conflict_rows(pairs), "note": note, "action": action}


def _render_risk_form(system, analysis, form, risk=None, conflict=None, status=200):
    while (
        len([e for e in form.actions if not (e.form.description.data or "").strip()]) < BLANK_ACTIONS
        and len(form.actions) < 50
    ):
        form.actions.append_entry()
    _prepare_risk_form(form)
    return render_template(
        "filing/risk_form.html",
        **page_context(system, "risk"),
        form=form,
        analysis=analysis,
        risk=risk,
        conflict=conflict,
    ), status


def _risk_page(analysis_id: int, risk_id: int | None):
    analysis = service.get(db.session, analysis_id, eager=True)
    system = system_for(analysis.system_id, write=True)
    if analysis.status == RecordStatus.FINAL:
        flash(_("A finalised risk analysis never changes; start a new round instead."), "error")
        return redirect(url_for("filing.risk_analysis", analysis_id=analysis.id))
    risk = None
    if risk_id is not None:
        risk = next((r for r in analysis.risks if r.id == risk_id), None)
        sent = as_int(request.form.get("version")) if request.method == "POST" else None
        if risk is None and sent in (None, analysis.version):
            raise NotFound(_("Risk %(id)s is not part of this analysis.", id=risk_id))
        # else: removed by someone else since the form was opened; the save below is refused as stale and
        # the conflict page offers to add it again
    form = RiskForm()
    _prepare_risk_form(form)
    if request.method == "GET":
        form.version.data = analysis.version
        if risk is not None:
            for key in (
                "title",
                "description",
                "aspect",
                "likelihood",
                "consequence",
                "existing_protection",
                "residual_likelihood",
                "residual_consequence",
            ):
                getattr(form, key).data = getattr(risk, key)
            form.treatment.data = risk.treatment.value if risk.treatment else ""
            for a in risk.actions:
                form.actions.append_entry(
                    {
                        "id": a.id,
                        "description": a.description,
                        "responsible_id": a.responsible_id,
                        "due_on": a.due_on,
                        "status": a.status.value,
                    }
                )
    done = save_form(
        form,
        lambda: service.save_risk(
            db.session,
            current_actor(),
            analysis.id,
            version=as_int(form.version.data),
            risk_id=risk_id,
            values=_risk_values(form),
        ),
        reload=lambda: service.get(db.session, analysis_id, eager=True),
        drop_prefix="risk",
    )
    if done.saved:
        flash(_("The risk is saved."), "success")
        return redirect(url_for("filing.risk_analysis", analysis_id=analysis.id) + "#risks")
    if done.conflict:
        theirs = done.conflict
        current = next((r for r in theirs.risks if r.id == risk_id), None) if risk_id else None
        return _render_risk_form(
            system, theirs, form, risk=current, conflict=_risk_conflict(form, theirs, risk_id), status=409
        )
    if risk_id is not None and risk is None:
        # The risk was removed meanwhile and a field failed validation, so the stale version never reached
        # the service. Its edit URL is gone (with the analysis's current version it answers 404), so the
        # form is shown as the conflict shows it: the removal said, the analysis's current version taken,
        # and the form posting to "new risk", which adds it again once the fields are put right.
        theirs = service.get(db.session, analysis_id, eager=True)
        take_version(form, theirs)
        return _render_risk_form(
            system, theirs, form, conflict=_risk_conflict(form, theirs, risk_id), status=422
        )
    return _render_risk_form(
        system, analysis, form, risk=risk, status=422 if done.refused else done.status(form)
    )


@bp.route("/risk-analyses/<int:analysis_id>/risks/new", methods=["GET", "POST"])
@login_required
def new_risk(analysis_id: int):
    return _risk_page(analysis_id, None)


@bp.route("/risk-analyses/<int:analysis_id>/risks/<int:risk_id>/edit", methods=["GET", "POST"])
@login_required
def edit_risk(analysis_id: int, risk_id: int):
    return _risk_page(analysis_id, risk_id)


@bp.route("/risk-analyses/<int:analysis_id>/risks/<int:risk_id>/delete", methods=["POST"])
@login_required
def delete_risk(analysis_id: int, risk_id: int):
    analysis = service.get(db.session, analysis_id)
    system_for(analysis.system_id, write=True)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            service.delete_risk(
                db.session, current_actor(), analysis.id, risk_id, version=as_int(form.version.data)
            )
        except NotAllowed:
            raise
        except Conflict:
            db.session.rollback()
            flash(
                _(
                    "Someone else changed the analysis after you opened it, so the risk is not removed. "
                    "The analysis is shown below as it is now: check it and remove the risk again if it "
                    "should go."
                ),
                "error",
            )
            return risk_analysis(analysis_id), 409
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The risk is removed from the draft."), "success")
    return redirect(url_for("filing.risk_analysis", analysis_id=analysis_id) + "#risks")


# ------------------------------------------------------------------ actions


@bp.route("/risk-actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action(action_id: int):
    item = service.get_action(db.session, action_id)
    system = service.action_system(db.session, item)
    filing.require_read(current_actor(), system)
    form = ActionStatusForm()
    if request.method == "GET":
        form.status.data, form.completed_on.data = item.status.value, item.completed_on
        form.version.data = item.version
    conflict = None
    if request.method == "POST":
        filing.require_write(current_actor(), system)
        if form.validate_on_submit():
            try:
                service.update_action(
                    db.session,
                    current_actor(),
                    item.id,
                    status=form.status.data,
                    completed_on=form.completed_on.data,
                    note=form.note.data or "",
                    version=as_int(form.version.data),
                )
            except Conflict as exc:
                db.session.rollback()
                flash(str(exc.message), "error")
                item = service.get_action(db.session, action_id)
                statuses = list(ACTION_STATUS_LABELS.items())
                conflict = conflict_rows(
                    [
                        (
                            form.status.label.text,
                            labelled(statuses, form.status.data),
                            labelled(statuses, item.status),
                        ),
                        (form.completed_on.label.text, form.completed_on.data, item.completed_on),
                    ]
                )
            except DomainError as exc:
                db.session.rollback()
                show_errors(form, exc)
            else:
                db.session.commit()
                flash(_("The action's status is saved."), "success")
                return redirect(url_for("filing.action", action_id=item.id))
    user_ids = {item.responsible_id, *(h.changed_by_id for h in item.history)} - {None}
    names = (
        dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    status = 409 if conflict else 422 if form.errors else 200
    return render_template(
        "filing/action.html",
        **page_context(system, "risk"),
        item=item,
        form=form,
        names=names,
        conflict=conflict,
        labels=_labels(),
        analysis=item.risk.analysis,
    ), status
