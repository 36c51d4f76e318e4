"""Filing pages: the system's filing overview and panel, band colours, and the classification pages
(history, form with guidance, one version, two versions side by side)."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from riskreg.blueprints.filing import bp
from riskreg.blueprints.filing.common import (
    conflict_rows,
    labelled,
    level_choices,
    page_context,
    panel,
    record_counts,
    show_errors,
    system_for,
    take_version,
)
from riskreg.blueprints.filing.forms import (
    ASPECT_LABELS,
    GUIDANCE,
    ClassificationForm,
    CompareForm,
    VersionForm,
)
from riskreg.errors import Conflict, DomainError, NotAllowed, NotFound
from riskreg.extensions import db
from riskreg.services import classification as service
from riskreg.services import risk as risks
from riskreg.web import arg_int, current_actor

ASPECTS = service.ASPECTS
BLANK_SETS = 3


@bp.app_context_processor
def filing_helpers():
    def filing_panel(system):
        return panel(db.session, system, current_actor().today())

    return {
        "filing_panel": filing_panel,
        "risk_band": risks.band,
        "aspect_label": lambda a: ASPECT_LABELS.get(a, a),
        "level_label": lambda n: current_app.config["LEVEL_LABELS"].get(n, n),
    }


def _contrast(colour: str) -> str:
    """Black or white text, whichever reads better on the band's colour."""
    try:
        r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "#000"
    return "#000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#fff"


@bp.route("/filing/bands.css")
def bands_css():
    """The risk bands' colours come from configuration; a stylesheet carries them (the CSP allows no
    inline styles)."""
    lines = []
    for _upper, code, _label, colour in risks.bands():
        safe = colour if all(c in "#0123456789abcdefABCDEF" for c in colour) else "#999"
        lines.append(f".band-{code}{{background:{safe};color:{_contrast(safe)}}}")
    resp = Response("\n".join(lines) + "\n", mimetype="text/css")
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.route("/systems/<int:system_id>/filing")
@login_required
def overview(system_id: int):
    system = system_for(system_id)
    today = current_actor().today()
    overdue = risks.overdue_actions(db.session, today, _system_clause(system.id))
    return render_template(
        "filing/overview.html",
        **page_context(system, "overview"),
        overdue=overdue,
        counts=record_counts(db.session, system.id),
    )


def _system_clause(system_id: int):
    from riskreg.models import System

    return System.id == system_id


# ------------------------------------------------------------------ classification


def _prepare(form: ClassificationForm) -> None:
    for name in ASPECTS:
        getattr(form, name).choices = level_choices()
    for entry in form.information_sets:
        for name in ASPECTS:
            getattr(entry.form, name).choices = level_choices()


def _fill_form(form: ClassificationForm, record) -> None:
    for name in ASPECTS:
        getattr(form, name).data = getattr(record, f"declared_{name}")
        getattr(form, f"{name}_motivation").data = getattr(record, f"{name}_motivation")
    form.motivation.data = record.motivation
    for s in record.information_sets:
        form.information_sets.append_entry({"name": s.name, **{a: getattr(s, a) for a in ASPECTS}})


def _sets_from(form: ClassificationForm) -> list[dict]:
    return [
        {"name": e.form.name.data.strip(), **{a: getattr(e.form, a).data for a in ASPECTS}}
        for e in form.information_sets
        if (e.form.name.data or "").strip()
    ]


def _values_from(form: ClassificationForm) -> dict:
    values = {a: getattr(form, a).data for a in ASPECTS}
    values.update({f"{a}_motivation": getattr(form, f"{a}_motivation").data or "" for a in ASPECTS})
    values["motivation"] = form.motivation.data or ""
    values["information_sets"] = _sets_from(form)
    return values


def _set_rows(form: ClassificationForm) -> dict[int, int]:
    """Which form row each information set the service saw came from (rows without a name are left out
    before the service sees them, so its index and the form's may differ)."""
    named = [i for i, e in enumerate(form.information_sets) if (e.form.name.data or "").strip()]
    return dict(enumerate(named))


def _show_errors(form: ClassificationForm, exc: DomainError) -> None:
    """The service's problems beside the inputs, ``information_sets.<i>`` counted as the form's rows."""
    rows = _set_rows(form)
    fields = {}
    for name, messages in (exc.fields or {}).items():
        parts = name.split(".")
        if parts[0] == "information_sets" and len(parts) > 1 and parts[1].isdigit():
            parts[1] = str(rows.get(int(parts[1]), parts[1]))
        fields[".".join(parts)] = messages
    exc.fields = fields
    show_errors(form, exc)


def _profile(values) -> str:
    return "-".join(str(values.get(a) if isinstance(values, dict) else getattr(values, a)) for a in ASPECTS)


def _conflict(form: ClassificationForm, theirs) -> list[dict]:
    """Every field of the draft: what the user sent beside what is saved now."""
    levels = level_choices()
    pairs = []
    for a in ASPECTS:
        label = getattr(form, a).label.text
        mine, saved = getattr(form, a).data, getattr(theirs, f"declared_{a}")
        pairs.append((label, labelled(levels, mine), labelled(levels, saved)))
        motivation = getattr(form, f"{a}_motivation")
        pairs.append((motivation.label.text, motivation.data, getattr(theirs, f"{a}_motivation")))
    pairs.append((form.motivation.label.text, form.motivation.data, theirs.motivation))
    my_sets = {s["name"]: _profile(s) for s in _sets_from(form)}
    saved_sets = {s.name: _profile(s) for s in theirs.information_sets}
    absent = _("(absent)")
    for name in [*my_sets, *(n for n in saved_sets if n not in my_sets)]:
        label = _("Information set %(name)s (K-R-T)", name=name)
        pairs.append((label, my_sets.get(name, absent), saved_sets.get(name, absent)))
    return conflict_rows(pairs)


def _render_form(system, form, record=None, conflict=None, status=200):
    while (
        len([e for e in form.information_sets if not (e.form.name.data or "").strip()]) < BLANK_SETS
        and len(form.information_sets) < 50
    ):
        form.information_sets.append_entry()
    _prepare(form)
    return render_template(
        "filing/classification_form.html",
        **page_context(system, "classification"),
        form=form,
        record=record,
        conflict=_conflict(form, conflict) if conflict is not None else None,
        guidance=GUIDANCE,
        aspects=ASPECTS,
    ), status


@bp.route("/systems/<int:system_id>/classifications")
@login_required
def classifications(system_id: int):
    system = system_for(system_id)
    history = service.history(db.session, current_actor(), system.id)
    compare = CompareForm(request.args)
    choices = [(c.id, _("Version %(n)s", n=c.number)) for c in history]
    compare.a.choices, compare.b.choices = choices, choices
    if len(history) >= 2 and not request.args:
        compare.a.data, compare.b.data = history[1].id, history[0].id
    return render_template(
        "filing/classifications.html",
        **page_context(system, "classification"),
        history=history,
        compare=compare,
        is_review_due=service.is_review_due,
        action_form=VersionForm(),
    )


@bp.route("/systems/<int:system_id>/classifications/new", methods=["GET", "POST"])
@login_required
def new_classification(system_id: int):
    system = system_for(system_id, write=True)
    form = ClassificationForm()
    _prepare(form)
    if request.method == "GET" and system.current_classification_id:
        _fill_form(form, service.get(db.session, system.current_classification_id))
    if form.validate_on_submit():
        try:
            record = service.create(
                db.session, current_actor(), system.id, **_values_from(form), draft=not form.finalise.data
            )
        except (NotAllowed, NotFound):
            raise
        except DomainError as exc:
            db.session.rollback()
            _show_errors(form, exc)
            return _render_form(system, form, status=422)
        db.session.commit()
        flash(
            _("The classification is finalised.")
            if record.status.value == "final"
            else _("The classification is saved as a draft."),
            "success",
        )
        return redirect(url_for("filing.classification", classification_id=record.id))
    return _render_form(system, form, status=422 if form.errors else 200)


@bp.route("/classifications/<int:classification_id>")
@login_required
def classification(classification_id: int):
    record = service.get_readable(db.session, current_actor(), classification_id)
    system = system_for(record.system_id)
    return render_template(
        "filing/classification.html",
        **page_context(system, "classification"),
        record=record,
        review_due=service.is_review_due(record, current_actor().today()),
        review_on=service.review_due_on(record),
        action_form=VersionForm(),
    )


@bp.route("/classifications/<int:classification_id>/edit", methods=["GET", "POST"])
@login_required
def edit_classification(classification_id: int):
    record = service.get(db.session, classification_id)
    system = system_for(record.system_id, write=True)
    if record.status.value == "final":
        flash(_("A finalised classification never changes; file a new version instead."), "error")
        return redirect(url_for("filing.classification", classification_id=record.id))
    form = ClassificationForm()
    _prepare(form)
    if request.method == "GET":
        _fill_form(form, record)
        form.version.data = record.version
    if form.validate_on_submit():
        actor = current_actor()
        try:
            service.update(db.session, actor, record.id, version=_version(form), **_values_from(form))
            if form.finalise.data:
                service.finalise(db.session, actor, record.id)
        except Conflict as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            theirs = service.get(db.session, classification_id)
            take_version(form, theirs)
            return _render_form(system, form, record=theirs, conflict=theirs, status=409)
        except (NotAllowed, NotFound):
            raise
        except DomainError as exc:
            db.session.rollback()
            _show_errors(form, exc)
            return _render_form(system, form, record=service.get(db.session, classification_id), status=422)
        db.session.commit()
        flash(
            _("The classification is finalised.") if form.finalise.data else _("The draft is saved."),
            "success",
        )
        return redirect(url_for("filing.classification", classification_id=record.id))
    return _render_form(system, form, record=record, status=422 if form.errors else 200)


def _version(form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


@bp.route("/classifications/<int:classification_id>/finalise", methods=["POST"])
@login_required
def finalise_classification(classification_id: int):
    record = service.get(db.session, classification_id)
    system_for(record.system_id, write=True)
    form = VersionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Try again."), "error")
        return redirect(url_for("filing.classification", classification_id=record.id))
    try:
        service.finalise(db.session, current_actor(), record.id, version=_version(form))
    except (NotAllowed, NotFound):
        raise
    except Conflict:
        db.session.rollback()
        flash(
            _(
                "Someone else saved the draft after you opened it, so it is not finalised. It is shown "
                "below as it is now: check it and finalise again."
            ),
            "error",
        )
        return classification(classification_id), 409
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("filing.classification", classification_id=classification_id))
    db.session.commit()
    flash(_("The classification is finalised."), "success")
    return redirect(url_for("filing.classification", classification_id=classification_id))


@bp.route("/systems/<int:system_id>/classifications/compare")
@login_required
def compare_classifications(system_id: int):
    system = system_for(system_id)
    left_id, right_id = arg_int("a"), arg_int("b")
    if not left_id or not right_id:
        flash(_("Choose two versions to compare."), "error")
        return redirect(url_for("filing.classifications", system_id=system.id))
    left, right = service.versions_to_compare(db.session, current_actor(), system.id, left_id, right_id)
    return render_template(
        "filing/classification_compare.html",
        **page_context(system, "classification"),
        left=left,
        right=right,
        diff=service.compare(left, right),
    )


from riskreg.blueprints.filing import views_dpia, views_risk, views_sla  # noqa: E402,F401
