"""SLA pages: a system's SLAs (the current one first), the SLA form, one SLA with its monthly
measurements, and the priority-list view (prioriteringslista vid katastrofläge)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from riskreg import permissions
from riskreg.blueprints.filing import bp
from riskreg.blueprints.filing.common import as_int, conflict_rows, page_context, show_errors, system_for
from riskreg.blueprints.filing.forms import MeasurementForm, SlaForm
from riskreg.errors import Conflict, DomainError, NotAllowed, NotFound
from riskreg.extensions import db
from riskreg.models import Classification
from riskreg.services import sla as service
from riskreg.web import add_nav, arg_int, current_actor

add_nav("filing.priority_list", _l("Priority list"), "can_read_all")
PRIORITY_PAGE = 100


def _t_level(system) -> int | None:
    if system.current_classification_id is None:
        return None
    return db.session.execute(
        select(Classification.availability).where(Classification.id == system.current_classification_id)
    ).scalar_one()


@bp.route("/systems/<int:system_id>/slas")
@login_required
def slas(system_id: int):
    system = system_for(system_id)
    rows = list(db.session.execute(service.slas_statement(system.id)).scalars())
    t_level = _t_level(system)
    return render_template(
        "filing/slas.html",
        **page_context(system, "sla"),
        slas=rows,
        t_level=t_level,
        required=service.required_availability(t_level),
        weaker=lambda s: service.weaker_than_required(s.availability_target, t_level),
    )


@bp.route("/systems/<int:system_id>/slas/new", methods=["GET", "POST"])
@login_required
def new_sla(system_id: int):
    system = system_for(system_id, write=True)
    form = SlaForm()
    t_level = _t_level(system)
    conflict, status = None, 200
    if form.validate_on_submit():
        try:
            sla = service.create(
                db.session,
                current_actor(),
                system.id,
                supplier=form.supplier.data,
                availability_target=form.availability_target.data,
                agreement_ref=form.agreement_ref.data or "",
                service_hours=form.service_hours.data or "",
                rto_hours=form.rto_hours.data,
                rpo_hours=form.rpo_hours.data,
                valid_from=form.valid_from.data,
                valid_to=form.valid_to.data,
                replaces_id=as_int(form.replaces_id.data),
            )
        except (NotAllowed, NotFound):
            raise
        except Conflict as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            current = service.get(db.session, system.current_sla_id) if system.current_sla_id else None
            conflict = _conflict(form, current)
            form.replaces_id.data = current.id if current else ""  # saving again replaces that one
            form.replaces_id.raw_data = [str(form.replaces_id.data)]
            status = 409
        except DomainError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The SLA is saved and is now the system's current SLA."), "success")
            return redirect(url_for("filing.sla", sla_id=sla.id))
    elif not form.is_submitted() and system.current_sla_id:
        current = service.get(db.session, system.current_sla_id)
        form.replaces_id.data = current.id
        for key in (
            "supplier",
            "agreement_ref",
            "availability_target",
            "service_hours",
            "rto_hours",
            "rpo_hours",
            "valid_from",
            "valid_to",
        ):
            getattr(form, key).data = getattr(current, key)
    elif not form.is_submitted():
        form.supplier.data = system.supplier
        form.availability_target.data = service.required_availability(t_level)
        form.replaces_id.data = ""
    return render_template(
        "filing/sla_form.html",
        **page_context(system, "sla"),
        form=form,
        required=service.required_availability(t_level),
        t_level=t_level,
        conflict=conflict,
    ), 422 if form.errors else status


SLA_FIELDS = (
    "supplier",
    "agreement_ref",
    "availability_target",
    "service_hours",
    "rto_hours",
    "rpo_hours",
    "valid_from",
    "valid_to",
)


def _conflict(form: SlaForm, current) -> list[dict]:
    """The user's SLA beside the one recorded meanwhile (now the current one)."""
    return conflict_rows(
        (getattr(form, k).label.text, getattr(form, k).data, getattr(current, k) if current else None)
        for k in SLA_FIELDS
    )


@bp.route("/slas/<int:sla_id>", methods=["GET", "POST"])
@login_required
def sla(sla_id: int):
    record = service.get_readable(db.session, current_actor(), sla_id)
    system = system_for(record.system_id)
    form = MeasurementForm()
    status = 200
    if form.is_submitted():
        system_for(record.system_id, write=True)
        status = 422
        if form.validate_on_submit():
            try:
                service.add_measurement(
                    db.session,
                    current_actor(),
                    record.id,
                    period=form.period.data,
                    availability=form.availability.data,
                    downtime_minutes=form.downtime_minutes.data,
                    note=form.note.data or "",
                )
            except DomainError as exc:
                db.session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                db.session.commit()
                flash(_("The measurement is saved."), "success")
                return redirect(url_for("filing.sla", sla_id=record.id))
    measurements = list(db.session.execute(service.measurements_statement(record.id)).scalars())
    t_level = _t_level(system)
    return render_template(
        "filing/sla.html",
        **page_context(system, "sla"),
        record=record,
        form=form,
        measurements=measurements,
        current=record.id == system.current_sla_id,
        required=service.required_availability(t_level),
        weaker=service.weaker_than_required(record.availability_target, t_level),
    ), status


@bp.route("/slas/priority-list")
@login_required
def priority_list():
    actor = current_actor()
    if not permissions.can_read_all(actor.user):
        raise NotAllowed(
            _("The priority list is for the CISO, the data protection officer, administrators and auditors.")
        )
    page_no = max(arg_int("page", 1), 1)
    without_sla = request.args.get("without_sla") in ("1", "true")
    data = service.priority_list(
        db.session, actor.today(), page=page_no, per_page=PRIORITY_PAGE, without_sla=without_sla
    )
    pages = max((data["total"] + PRIORITY_PAGE - 1) // PRIORITY_PAGE, 1)
    return render_template(
        "filing/priority_list.html", data=data, page=page_no, pages=pages, without_sla=without_sla
    )
