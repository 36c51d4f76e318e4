"""DPIA pages: screenings (förhandsbedömning) and DPIAs (konsekvensbedömning) of a system, the DPIA
form, one DPIA with the DPO's opinion form and the finalise button."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from riskreg import permissions
from riskreg.blueprints.filing import bp
from riskreg.blueprints.filing.common import (
    as_int,
    conflict_rows,
    page_context,
    save_form,
    show_errors,
    system_for,
)
from riskreg.blueprints.filing.forms import (
    CRITERION_LABELS,
    DpiaForm,
    OpinionForm,
    ScreeningForm,
    VersionForm,
)
from riskreg.errors import Conflict, DomainError, NotAllowed, NotFound
from riskreg.extensions import db
from riskreg.models import User
from riskreg.models.codes import RecordStatus
from riskreg.services import dpia as service
from riskreg.web import current_actor

CONTENT = service.CONTENT_FIELDS


@bp.route("/systems/<int:system_id>/dpia")
@login_required
def dpia_index(system_id: int):
    system = system_for(system_id)
    screenings = list(db.session.execute(service.screenings_statement(system.id)).scalars())
    dpias = list(db.session.execute(service.dpias_statement(system.id)).scalars())
    return render_template(
        "filing/dpia_index.html",
        **page_context(system, "dpia"),
        screenings=screenings,
        dpias=dpias,
        criterion_labels=CRITERION_LABELS,
        current_screening_id=system.current_screening_id,
        current_dpia_id=system.current_dpia_id,
    )


@bp.route("/systems/<int:system_id>/dpia-screenings/new", methods=["GET", "POST"])
@login_required
def new_screening(system_id: int):
    system = system_for(system_id, write=True)
    form = ScreeningForm()
    done = save_form(
        form,
        lambda: service.screen(
            db.session,
            current_actor(),
            system.id,
            criteria=form.criteria.data or [],
            motivation=form.motivation.data or "",
            require_anyway=bool(form.require_anyway.data),
        ),
    )
    if done.saved:
        flash(
            _("The screening is saved: a DPIA is required.")
            if done.result.dpia_required
            else _("The screening is saved: no DPIA is required."),
            "success",
        )
        return redirect(url_for("filing.dpia_index", system_id=system.id))
    return render_template(
        "filing/screening_form.html", **page_context(system, "dpia"), form=form
    ), done.status(form)


def _content(form: DpiaForm) -> dict:
    values = {k: getattr(form, k).data or "" for k in CONTENT}
    values["high_residual_risk"] = bool(form.high_residual_risk.data)
    return values


@bp.route("/systems/<int:system_id>/dpias/new", methods=["GET", "POST"])
@login_required
def new_dpia(system_id: int):
    system = system_for(system_id, write=True)
    form = DpiaForm()
    done = save_form(form, lambda: service.create(db.session, current_actor(), system.id, **_content(form)))
    if done.saved:
        flash(
            _("The DPIA is saved as a draft. The data protection officer gives the opinion next."),
            "success",
        )
        return redirect(url_for("filing.dpia", dpia_id=done.result.id))
    return render_template(
        "filing/dpia_form.html", **page_context(system, "dpia"), form=form, record=None
    ), done.status(form)


@bp.route("/dpias/<int:dpia_id>/edit", methods=["GET", "POST"])
@login_required
def edit_dpia(dpia_id: int):
    record = service.get(db.session, dpia_id)
    system = system_for(record.system_id, write=True)
    if record.status == RecordStatus.FINAL:
        flash(_("A finalised DPIA never changes; draft a new one instead."), "error")
        return redirect(url_for("filing.dpia", dpia_id=record.id))
    form = DpiaForm()
    if request.method == "GET":
        for key in (*CONTENT, "high_residual_risk", "version"):
            getattr(form, key).data = getattr(record, key)
    done = save_form(
        form,
        lambda: service.update(
            db.session, current_actor(), record.id, version=as_int(form.version.data), **_content(form)
        ),
        reload=lambda: service.get(db.session, dpia_id),
    )
    if done.saved:
        flash(_("The draft is saved."), "success")
        return redirect(url_for("filing.dpia", dpia_id=record.id))
    return render_template(
        "filing/dpia_form.html",
        **page_context(system, "dpia"),
        form=form,
        record=record,
        conflict=_conflict(form, done.conflict) if done.conflict else None,
    ), done.status(form)


def _conflict(form: DpiaForm, theirs) -> list[dict]:
    """Every part of the DPIA: the user's text beside the saved one."""
    return conflict_rows(
        [(getattr(form, k).label.text, getattr(form, k).data, getattr(theirs, k)) for k in CONTENT]
        + [
            (
                form.high_residual_risk.label.text,
                bool(form.high_residual_risk.data),
                theirs.high_residual_risk,
            )
        ]
    )


def _names(record) -> dict:
    ids = {record.created_by_id, record.opinion_by_id, record.finalised_by_id} - {None}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


@bp.route("/dpias/<int:dpia_id>", methods=["GET"])
@login_required
def dpia(dpia_id: int):
    record = service.get_readable(db.session, current_actor(), dpia_id)
    system = system_for(record.system_id)
    opinion_form = OpinionForm()
    opinion_form.version.data = record.version
    return render_template(
        "filing/dpia.html",
        **page_context(system, "dpia"),
        record=record,
        names=_names(record),
        opinion_form=opinion_form,
        action_form=VersionForm(),
        may_give_opinion=permissions.can_give_opinion(current_actor().user, record),
    )


@bp.route("/dpias/<int:dpia_id>/opinion", methods=["GET", "POST"])
@login_required
def dpia_opinion(dpia_id: int):
    record = service.get_readable(db.session, current_actor(), dpia_id)
    system = system_for(record.system_id)
    if not permissions.can_give_opinion(current_actor().user, record):
        raise NotAllowed(_("Only the data protection officer gives the opinion on a DPIA."))
    form = OpinionForm()
    if request.method == "GET":
        return redirect(url_for("filing.dpia", dpia_id=record.id) + "#opinion")
    status = 422
    if form.validate_on_submit():
        try:
            service.give_opinion(
                db.session,
                current_actor(),
                record.id,
                opinion=form.opinion.data,
                prior_consultation_required=form.prior_consultation_required.data,
                version=as_int(form.version.data),
            )
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, Conflict):
                flash(
                    _(
                        "The DPIA was changed while you wrote. Read the new text and give the opinion "
                        "again; what you wrote is kept in the form."
                    ),
                    "error",
                )
                status = 409
            else:
                show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The opinion is recorded."), "success")
            return redirect(url_for("filing.dpia", dpia_id=record.id))
    record = service.get(db.session, dpia_id)
    return render_template(
        "filing/dpia.html",
        **page_context(system, "dpia"),
        record=record,
        names=_names(record),
        opinion_form=form,
        action_form=VersionForm(),
        may_give_opinion=True,
    ), status


@bp.route("/dpias/<int:dpia_id>/finalise", methods=["POST"])
@login_required
def finalise_dpia(dpia_id: int):
    record = service.get(db.session, dpia_id)
    system_for(record.system_id, write=True)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            service.finalise(db.session, current_actor(), record.id, version=as_int(form.version.data))
        except (NotAllowed, NotFound):
            raise
        except Conflict:
            db.session.rollback()
            flash(
                _(
                    "Someone else changed the DPIA after you opened it, so it is not finalised. It is shown "
                    "below as it is now: check it and finalise again."
                ),
                "error",
            )
            return dpia(dpia_id), 409
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The DPIA is finalised."), "success")
    return redirect(url_for("filing.dpia", dpia_id=dpia_id))
