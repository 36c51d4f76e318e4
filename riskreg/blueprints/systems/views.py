"""Pages of the register: the systems list, one system, creating and editing a system, major changes."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from riskreg import labels, lifecycle, permissions
from riskreg.blueprints.accounts.pageutil import field_errors, query_args
from riskreg.blueprints.systems import bp
from riskreg.blueprints.systems.forms import MajorChangeForm, SystemForm, format_refs
from riskreg.errors import Conflict, DomainError
from riskreg.extensions import db
from riskreg.models import OrgUnit
from riskreg.models.codes import Role, Stage
from riskreg.schemas.systems import SystemQuery
from riskreg.services import dashboard
from riskreg.services import systems as service
from riskreg.web import add_nav, arg_int, current_actor

add_nav("systems.index", _l("Systems"))

PER_PAGE_CHOICES = (25, 50, 100, 200)
PER_PAGE_DEFAULT = 50
HISTORY_PER_PAGE = 20
# Filters the list page draws as controls; any other SystemQuery field (report drill-downs) is kept
# as a hidden input and shown as a removable chip.
DRAWN_FILTERS = (
    "q",
    "org_unit_id",
    "criticality",
    "lifecycle",
    "stage",
    "owner_id",
    "risk_owner_id",
    "priority_list",
    "sort",
)
SORT_COLUMNS = ("name", "criticality", "updated_at")
ADMIN_FIELDS = ("org_unit_id", "system_owner_id", "risk_owner_id")


def systems_url(**filters) -> str | None:
    """A link to the systems list with these filters, or None when the list cannot filter so."""
    known = SystemQuery().fields
    if any(k not in known for k in filters):
        return None
    return url_for("systems.index", **filters)


@bp.record_once
def template_globals(state) -> None:
    state.app.jinja_env.globals["systems_url"] = systems_url


# ------------------------------------------------------------------ the list


def parse_list_args(args) -> tuple[dict, dict[str, list[str]], dict[str, str]]:
    """Validate the query string with the API's SystemQuery schema (every field it accepts, also those
    other features add). Returns (valid values, errors per field in the user's language, raw values)."""
    schema = SystemQuery()
    raw = {k: v.strip() for k, v in args.items() if k in schema.fields and v.strip() != ""}
    try:
        return schema.load(raw), {}, raw
    except ValidationError as exc:
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        errors = {
            name: [
                _(
                    "“%(value)s” is not a valid value for %(field)s.",
                    value=raw.get(name, "")[:60],
                    field=labels.field_label(name),
                )
            ]
            for name in exc.messages
        }
        return {k: v for k, v in valid.items() if k not in errors}, errors, raw


def system_filter(values: dict) -> service.SystemFilter:
    accepted = {f.name for f in dataclasses.fields(service.SystemFilter)}
    return service.SystemFilter(**{k: v for k, v in values.items() if k in accepted})


def positive_int(name: str, default: int, errors: dict, allowed=None) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
        if value < 1 or (allowed and value not in allowed):
            raise ValueError
    except ValueError:
        errors[name] = [
            _(
                "“%(value)s” is not a valid value for %(field)s.",
                value=raw[:20],
                field=labels.field_label(name),
            )
        ]
        return default
    return value


@bp.route("/systems")
@login_required
def index():
    values, errors, raw = parse_list_args(request.args)
    flt = system_filter(values)
    per_page = positive_int("per_page", PER_PAGE_DEFAULT, errors, PER_PAGE_CHOICES)
    page_no = positive_int("page", 1, errors)
    actor = current_actor()
    rows, total = service.page(db.session, flt, actor.today(), page_no, per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    if page_no > pages and total:
        return redirect(url_for("systems.index") + "?" + query_args(page=pages))
    people = dashboard.names_of(
        db.session, [s.system_owner_id for s, _ in rows] + [s.risk_owner_id for s, _ in rows]
    )
    options = filter_options(values)
    chips = active_filters(values, raw, options)
    extra = {k: v for k, v in raw.items() if k not in DRAWN_FILTERS and k not in errors}
    status = 422 if errors else 200
    return render_template(
        "systems/index.html",
        rows=rows,
        total=total,
        page=page_no,
        pages=pages,
        per_page=per_page,
        per_page_choices=PER_PAGE_CHOICES,
        values=values,
        raw=raw,
        errors=errors,
        options=options,
        chips=chips,
        extra=extra,
        people=people,
        sort=flt.sort,
        args=query_args,
        filtered=bool(raw),
        stage_codes=[s.value for s in Stage],
    ), status


def filter_options(values: dict) -> dict:
    units = db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)).all()
    return {
        "org_units": [(i, n) for i, n in units],
        "owners": [
            (i, n)
            for i, n, _e in dashboard.users_with_role(
                db.session, Role.SYSTEM_OWNER, (values.get("owner_id"),)
            )
        ],
        "risk_owners": [
            (i, n)
            for i, n, _e in dashboard.users_with_role(
                db.session, Role.RISK_OWNER, (values.get("risk_owner_id"),)
            )
        ],
    }


def active_filters(values: dict, raw: dict, options: dict) -> list[dict]:
    """The filters in force, each with a link that removes it."""
    names = {
        "org_unit_id": dict(options["org_units"]),
        "owner_id": dict(options["owners"]),
        "risk_owner_id": dict(options["risk_owners"]),
    }
    if "responsible_id" in values:
        names["responsible_id"] = dashboard.names_of(db.session, [values["responsible_id"]])
    chips = []
    for key, value in values.items():
        if key == "sort":
            continue
        if key in names:
            shown = names[key].get(value, str(value))
        elif key == "stage":
            shown = str(labels.STAGE_LABELS.get(value, value))
        elif key == "lifecycle":
            shown = str(labels.LIFECYCLE_LABELS.get(value, value))
        elif key == "criticality":
            shown = str(value)
        elif key == "sla_result":
            shown = str(labels.SLA_RESULT_LABELS.get(value, value))
        elif isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        elif isinstance(value, date):
            shown = format_date(value, "short")
        else:
            shown = str(raw.get(key, value))
        chips.append(
            {
                "key": key,
                "label": labels.field_label(key),
                "value": shown,
                "remove": query_args(**{key: None, "page": None}),
            }
        )
    return chips


# ------------------------------------------------------------------ one system


@bp.route("/systems/<int:system_id>")
@login_required
def detail(system_id: int, change_form: MajorChangeForm | None = None, status: int = 200):
    system = service.get(db.session, system_id)
    actor = current_actor()
    stage = lifecycle.stage_of(db.session, system.id, actor.today())
    hpage = max(arg_int("hpage", 1), 1)
    history, history_total = dashboard.system_history(db.session, system.id, hpage, HISTORY_PER_PAGE)
    can_edit = permissions.can_edit_system(current_user, system)
    return render_template(
        "systems/detail.html",
        system=system,
        stage=stage.value,
        can_edit=can_edit,
        is_admin=permissions.is_admin(current_user),
        changes=dashboard.major_changes(db.session, system.id),
        history=describe_events(history),
        history_total=history_total,
        hpage=hpage,
        hpages=max((history_total + HISTORY_PER_PAGE - 1) // HISTORY_PER_PAGE, 1),
        change_form=change_form or (MajorChangeForm() if can_edit else None),
        args=query_args,
    ), status


@bp.route("/systems/<int:system_id>/major-change", methods=["POST"])
@login_required
def major_change(system_id: int):
    system = service.get(db.session, system_id)
    if not permissions.can_edit_system(current_user, system):
        abort(403)
    form = MajorChangeForm()
    if form.validate_on_submit():
        try:
            service.record_major_change(db.session, current_actor(), system.id, form.description.data)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The major change is recorded. An approval in force now needs review."), "success")
            return redirect(url_for("systems.detail", system_id=system.id))
    return detail(system_id, change_form=form, status=422)


# ------------------------------------------------------------------ create and edit


def prepare_form(form: SystemForm, system=None) -> SystemForm:
    """Choices for the selects; a system owner's form loses the fields only an admin changes."""
    if not permissions.is_admin(current_user):
        for key in ADMIN_FIELDS:
            del form[key]
        return form
    units = db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)).all()
    form.org_unit_id.choices = [("", _("— choose —"))] + [(str(i), n) for i, n in units]
    current = (system.system_owner_id, system.risk_owner_id) if system else ()
    for key, role in (("system_owner_id", Role.SYSTEM_OWNER), ("risk_owner_id", Role.RISK_OWNER)):
        people = dashboard.users_with_role(db.session, role, current)
        form[key].choices = [("", _("— nobody —"))] + [(str(i), f"{n} ({e})") for i, n, e in people]
    return form


def fill_form(form: SystemForm, system) -> None:
    for key in ("name", "description", "supplier"):
        form[key].data = getattr(system, key) or ""
    for key in ("criticality", "lifecycle", "hosting", "personal_data"):
        value = getattr(system, key)
        form[key].data = value.value if value is not None else ""
    form.special_categories.data = system.special_categories
    form.priority_list.data = system.priority_list
    for key in ADMIN_FIELDS:
        if key in form:
            form[key].data = getattr(system, key)
    form.aliases.data = "\n".join(a.name for a in system.aliases)
    form.external_refs.data = format_refs(system.external_refs)
    form.version.data = str(system.version)
    form.last_event.data = str(dashboard.last_event_id(db.session, system.id))


@bp.route("/systems/new", methods=["GET", "POST"])
@login_required
def create():
    if not permissions.can_manage_register(current_user):
        abort(403)
    form = prepare_form(SystemForm())
    if form.validate_on_submit():
        try:
            system = service.create(db.session, current_actor(), form.values())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The system %(name)s is created.", name=system.name), "success")
            return redirect(url_for("systems.detail", system_id=system.id))
    return render_template("systems/edit.html", form=form, system=None, conflict=None), (
        422 if form.errors else 200
    )


@bp.route("/systems/<int:system_id>/edit", methods=["GET", "POST"])
@login_required
def edit(system_id: int):
    system = service.get(db.session, system_id)
    if not permissions.can_edit_system(current_user, system):
        abort(403)
    form = prepare_form(SystemForm(), system)
    conflict = None
    if request.method == "GET":
        fill_form(form, system)
    elif form.validate_on_submit():
        version = form.version_number()
        try:
            if version is None:
                raise Conflict(_l("The form is missing the version it was opened at."))
            service.update(db.session, current_actor(), system.id, form.values(), version=version)
            db.session.commit()
        except (Conflict, StaleDataError):
            db.session.rollback()
            system = service.get(db.session, system_id)
            conflict = describe_conflict(form, system)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            system = service.get(db.session, system_id)
            field_errors(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("systems.detail", system_id=system.id))
    status = 409 if conflict else (422 if form.errors else 200)
    return render_template("systems/edit.html", form=form, system=system, conflict=conflict), status


def describe_conflict(form: SystemForm, system) -> dict:
    """Someone saved the system after this form was opened. Keep everything the user typed, show what the
    other change was (from the audit trail) and where it differs from the form, and let the next save
    overwrite it knowingly (the form now carries the current version)."""
    since = form.last_event_number()
    events = describe_events(dashboard.changes_since(db.session, system.id, since))
    current = current_values(system)
    typed = form.values()
    differs = []
    for key, mine in typed.items():
        theirs = current.get(key)
        if normalise(mine) != normalise(theirs):
            differs.append(
                {
                    "key": key,
                    "label": labels.field_label(key),
                    "theirs": display_value(key, theirs),
                    "mine": display_value(key, mine),
                }
            )
    form.version.data = str(system.version)
    form.last_event.data = str(dashboard.last_event_id(db.session, system.id))
    return {"events": events, "differs": differs}


def current_values(system) -> dict:
    data = {
        key: getattr(system, key)
        for key in ("name", "description", "supplier", "special_categories", "priority_list", *ADMIN_FIELDS)
    }
    for key in ("criticality", "lifecycle", "hosting", "personal_data"):
        value = getattr(system, key)
        data[key] = value.value if value is not None else None
    data["aliases"] = [a.name for a in system.aliases]
    data["external_refs"] = [{"source": r.source, "key": r.key} for r in system.external_refs]
    return data


def normalise(value):
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return [normalise(v) for v in value] or None
    return value


# ------------------------------------------------------------------ how values read in the history


CODE_LABELS = {
    "lifecycle": labels.LIFECYCLE_LABELS,
    "hosting": labels.HOSTING_LABELS,
    "personal_data": labels.PERSONAL_DATA_LABELS,
    "criticality": labels.CRITICALITY_LABELS,
}
PERSON_KEYS = ("system_owner_id", "risk_owner_id", "owner_id")


def display_value(key: str, value, people: dict | None = None, units: dict | None = None) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key in CODE_LABELS:
        return str(CODE_LABELS[key].get(value, value))
    if key in PERSON_KEYS:
        people = people if people is not None else dashboard.names_of(db.session, [value])
        return people.get(value, f"#{value}")
    if key == "org_unit_id":
        if units is None:
            unit = db.session.get(OrgUnit, value)
            return unit.name if unit else f"#{value}"
        return units.get(value, f"#{value}")
    if isinstance(value, list):
        return ", ".join(f"{v['source']}:{v['key']}" if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    if isinstance(value, date):
        return format_date(value, "short")
    if key.endswith("_at") and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value), "short")
        except ValueError:
            return value
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


def describe_events(rows) -> list[dict]:
    """Audit events as the page shows them: who, when, what, and each changed field before → after
    (names of people and org units looked up in one query each)."""
    person_ids, unit_ids = set(), set()
    for event, _name in rows:
        for values in (event.before or {}, event.after or {}):
            person_ids.update(v for k, v in values.items() if k in PERSON_KEYS and isinstance(v, int))
            if isinstance(values.get("org_unit_id"), int):
                unit_ids.add(values["org_unit_id"])
    people = dashboard.names_of(db.session, person_ids)
    units = (
        dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all())
        if unit_ids
        else {}
    )
    out = []
    for event, name in rows:
        before, after = event.before or {}, event.after or {}
        keys = [k for k in after if k not in ("id", "search_key")] if event.action != "create" else []
        out.append(
            {
                "id": event.id,
                "at": event.at,
                "who": name or _("the system"),
                "action": str(labels.ACTION_LABELS.get(event.action, event.action)),
                "code": event.action,
                "changes": [
                    {
                        "label": labels.field_label(k),
                        "before": display_value(k, before.get(k), people, units),
                        "after": display_value(k, after.get(k), people, units),
                    }
                    for k in keys
                ],
            }
        )
    return out
