"""Administration of org units (förvaltningar): list, create, rename and move (admins)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from riskreg import permissions
from riskreg.blueprints.accounts.pageutil import field_errors
from riskreg.blueprints.org_units import bp
from riskreg.blueprints.org_units.forms import OrgUnitForm
from riskreg.errors import DomainError, NotFound
from riskreg.extensions import db
from riskreg.models import OrgUnit, System, User
from riskreg.models.codes import Lifecycle
from riskreg.services import org_units as service
from riskreg.web import add_nav, current_actor

add_nav("org_units.index", _l("Org units"), "is_admin")


def require_admin() -> None:
    if not permissions.can_manage_register(current_user):
        abort(403)


def parent_choices(exclude_id: int | None = None):
    units = db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)).all()
    return [("", _("— top level —"))] + [(str(i), n) for i, n in units if i != exclude_id]


@bp.route("/admin/org-units", methods=["GET", "POST"])
@login_required
def index():
    require_admin()
    form = OrgUnitForm()
    form.parent_id.choices = parent_choices()
    if form.validate_on_submit():
        try:
            unit = service.create(
                db.session, current_actor(), name=form.name.data, parent_id=form.parent_id.data
            )
        except DomainError as exc:
            if exc.status == 403:
                raise
            db.session.rollback()
            field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The org unit %(name)s is created.", name=unit.name), "success")
            return redirect(url_for("org_units.index"))
    parent = aliased(OrgUnit)
    systems = (
        select(
            System.org_unit_id,
            func.count(System.id).label("n"),
            func.count(System.id).filter(System.lifecycle == Lifecycle.IN_OPERATION).label("in_op"),
        )
        .group_by(System.org_unit_id)
        .subquery()
    )
    users = select(User.org_unit_id, func.count(User.id).label("n")).group_by(User.org_unit_id).subquery()
    rows = db.session.execute(
        select(
            OrgUnit,
            parent.name,
            func.coalesce(systems.c.n, 0),
            func.coalesce(systems.c.in_op, 0),
            func.coalesce(users.c.n, 0),
        )
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .outerjoin(systems, systems.c.org_unit_id == OrgUnit.id)
        .outerjoin(users, users.c.org_unit_id == OrgUnit.id)
        .order_by(OrgUnit.name)
    ).all()
    return render_template("org_units/index.html", form=form, rows=rows), (422 if form.errors else 200)


@bp.route("/admin/org-units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def edit(unit_id: int):
    require_admin()
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(_l("No such org unit."))
    form = OrgUnitForm(obj=unit)
    form.parent_id.choices = parent_choices(exclude_id=unit.id)
    if form.validate_on_submit():
        try:
            service.rename(
                db.session, current_actor(), unit.id, name=form.name.data, parent_id=form.parent_id.data
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            unit = db.session.get(OrgUnit, unit_id)
            field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The org unit is saved."), "success")
            return redirect(url_for("org_units.index"))
    counts = db.session.execute(
        select(func.count(System.id)).where(System.org_unit_id == unit.id)
    ).scalar_one()
    return render_template("org_units/edit.html", form=form, unit=unit, system_count=counts), (
        422 if form.errors else 200
    )
