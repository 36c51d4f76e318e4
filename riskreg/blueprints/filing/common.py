"""What the filing pages share: the system with its permission checks, saving a submitted form through a
service, putting a service's field problems beside the form's inputs, scale choices from configuration,
and the system panel's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app, flash
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from riskreg import lifecycle, permissions
from riskreg.errors import Conflict, DomainError, NotAllowed, NotFound
from riskreg.extensions import db
from riskreg.models import (
    Classification,
    Dpia,
    DpiaScreening,
    Risk,
    RiskAction,
    RiskAnalysis,
    Sla,
    SlaMeasurement,
    System,
    User,
)
from riskreg.models.codes import RecordStatus
from riskreg.services import classification as classifications
from riskreg.services import filing
from riskreg.services import risk as risks
from riskreg.services import sla as slas
from riskreg.web import current_actor


def system_for(system_id: int, *, write: bool = False) -> System:
    """The system; 404 when unknown, 403 when the user may not read (or write) its records."""
    actor = current_actor()
    system = filing.system(db.session, system_id)
    (filing.require_write if write else filing.require_read)(actor, system)
    return system


def can_edit(system: System) -> bool:
    return permissions.can_edit_system(current_actor().user, system)


def page_context(system: System, section: str) -> dict[str, Any]:
    today = current_actor().today()
    return {
        "system": system,
        "section": section,
        "can_edit": can_edit(system),
        "stage": lifecycle.stage_of(db.session, system.id, today).value,
        "today": today,
    }


def _field(form, path: list[str]):
    node = form
    for part in path:
        if node is None:
            return None
        if part.isdigit():
            entries = getattr(node, "entries", None)
            index = int(part)
            node = entries[index] if entries is not None and index < len(entries) else None
            continue
        if hasattr(node, "form"):  # a FormField
            node = node.form
        node = getattr(node, part, None) if hasattr(node, part) else None
    return node


def show_errors(form, exc: DomainError, *, drop_prefix: str | None = None) -> None:
    """Put each of the service's field problems beside its input; the rest in a message at the top."""
    placed = False
    for name, messages in (exc.fields or {}).items():
        parts = name.split(".")
        if drop_prefix and parts and parts[0] == drop_prefix:
            parts = parts[1:]
        target = _field(form, parts) if parts else None
        if target is not None and hasattr(target, "errors") and not hasattr(target, "entries"):
            errors = list(target.errors) if isinstance(target.errors, list) else []
            target.errors = errors + [str(m) for m in messages]
            placed = True
    flash(str(exc.message) if not placed else _("The form has errors. Correct them and save again."), "error")


@dataclass
class Submitted:
    """What became of a form given to ``save_form``."""

    saved: bool = False  # the service call succeeded and is committed
    result: Any = None  # what the service call returned, when saved
    refused: bool = False  # the service refused (rolled back; the problems are shown)
    conflict: Any = None  # on a stale version: the record as it now is

    def status(self, form) -> int:
        """The status of the page that shows the form again: 409 after a stale version, 422 when the form
        has errors, else 200."""
        return 409 if self.conflict else 422 if form.errors else 200


def take_version(form, record: Any) -> None:
    """After a stale version: the form keeps what the user typed but now carries the version the record
    has, so that saving again (after comparing) replaces the other person's change instead of being
    refused for ever."""
    form.version.data = record.version
    form.version.raw_data = [str(record.version)]


def save_form(
    form, call: Callable[[], Any], *, reload: Callable[[], Any] | None = None, drop_prefix: str | None = None
) -> Submitted:
    """When ``form`` is submitted and valid, make the service call ``call()`` and commit. Unknown records
    and refusals of the permission (404, 403) go on to the error page. With ``reload`` (a form that sends
    the version it was read at) a stale version rolls back, says so at the top, keeps ``reload()``, the
    record as another user left it, and puts its version into the form (``take_version``); any other
    problem of the service rolls back and stands beside the form's inputs (``show_errors``). The caller
    says what was saved and where to go next."""
    if not form.validate_on_submit():
        return Submitted()
    try:
        result = call()
    except (NotAllowed, NotFound):
        raise
    except DomainError as exc:
        db.session.rollback()
        if reload is not None and isinstance(exc, Conflict):
            flash(str(exc.message), "error")
            current = reload()
            take_version(form, current)
            return Submitted(refused=True, conflict=current)
        show_errors(form, exc, drop_prefix=drop_prefix)
        return Submitted(refused=True)
    db.session.commit()
    return Submitted(saved=True, result=result)


# ------------------------------------------------------------------ a stale save: both sides shown


def shown(value: Any) -> str:
    """A value as the conflict table shows it: text as typed (line ends as stored), '–' for nothing."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # 99.0 typed and 99.00 stored are the same target
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if hasattr(value, "value") and not isinstance(value, str | int):  # an enum code
        return str(value.value)
    text = str(value).replace("\r\n", "\n").strip()
    return text or "–"


def conflict_rows(pairs) -> list[dict[str, Any]]:
    """(label, the user's value, the saved value) → rows of the conflict table, each difference marked."""
    rows = []
    for label, mine, theirs in pairs:
        a, b = shown(mine), shown(theirs)
        rows.append({"label": label, "mine": a, "theirs": b, "differs": a != b})
    return rows


def labelled(choices, value: Any) -> Any:
    """A choice's label (from a select's choices) for a value, the value itself when it is not one."""
    for key, label in choices or ():
        if key == value or (key not in (None, "") and str(key) == str(value)):
            return label
    return value


def level_choices() -> list[tuple[int, str]]:
    labels = current_app.config["LEVEL_LABELS"]
    return [(n, f"{n} – {labels.get(n, n)}") for n in range(5)]


def likelihood_choices(optional: bool = False) -> list[tuple[Any, str]]:
    choices = [(n, f"{n} – {risks.likelihood_label(n)}") for n in range(1, 5)]
    return ([("", _("Not scored"))] if optional else []) + choices


def consequence_choices(optional: bool = False) -> list[tuple[Any, str]]:
    choices = [(n, f"{n} – {risks.consequence_label(n)}") for n in range(1, 5)]
    return ([("", _("Not scored"))] if optional else []) + choices


def user_choices(session: Session) -> list[tuple[Any, str]]:
    users = session.execute(select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)).all()
    return [("", _("Nobody named"))] + [(uid, name) for uid, name in users]


def as_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ the system panel


def _latest(model, *where):
    return select(model.id).where(*where).order_by(model.id.desc()).limit(1).scalar_subquery()


def panel(session: Session, system: System, today: date) -> dict[str, Any]:
    """The system's filing status for its page: current records, open drafts, overdue actions.
    Three queries: the current records, the drafts and counts, the current analysis's scores."""
    data: dict[str, Any] = {
        "can_read": permissions.can_read_records(current_actor().user, system),
        "can_edit": can_edit(system),
    }
    if not data["can_read"]:
        return data
    current = session.execute(
        select(Classification, RiskAnalysis, DpiaScreening, Dpia, Sla)
        .select_from(System)
        .outerjoin(Classification, Classification.id == System.current_classification_id)
        .outerjoin(RiskAnalysis, RiskAnalysis.id == System.current_risk_analysis_id)
        .outerjoin(DpiaScreening, DpiaScreening.id == System.current_screening_id)
        .outerjoin(Dpia, Dpia.id == System.current_dpia_id)
        .outerjoin(Sla, Sla.id == System.current_sla_id)
        .options(
            lazyload(DpiaScreening.criteria_rows),
            lazyload(Classification.information_sets),
            lazyload(RiskAnalysis.risks),
        )
        .where(System.id == system.id)
    ).one()
    cl, ra, screening, dpia, sla = current
    sid = system.id

    def last(column):  # of the current SLA's latest month
        return (
            select(column)
            .where(SlaMeasurement.sla_id == System.current_sla_id)
            .order_by(SlaMeasurement.period.desc())
            .limit(1)
            .scalar_subquery()
            .label(column.key)
        )

    extra = session.execute(
        select(
            _latest(
                Classification, Classification.system_id == sid, Classification.status == RecordStatus.DRAFT
            ).label("classification_draft"),
            _latest(
                RiskAnalysis, RiskAnalysis.system_id == sid, RiskAnalysis.status == RecordStatus.DRAFT
            ).label("analysis_draft"),
            _latest(Dpia, Dpia.system_id == sid, Dpia.status == RecordStatus.DRAFT).label("dpia_draft"),
            select(func.count(RiskAction.id))
            .join(Risk, Risk.id == RiskAction.risk_id)
            .where(Risk.analysis_id == System.current_risk_analysis_id, risks.overdue_clause(today))
            .scalar_subquery()
            .label("overdue"),
            last(SlaMeasurement.period),
            last(SlaMeasurement.availability),
            last(SlaMeasurement.target),
        )
        .select_from(System)
        .where(System.id == sid)
    ).one()
    data.update(
        classification=cl,
        analysis=ra,
        screening=screening,
        dpia=dpia,
        sla=sla,
        classification_draft=extra.classification_draft,
        analysis_draft=extra.analysis_draft,
        overdue=extra.overdue,
        classification_review_due=classifications.is_review_due(cl, today),
        classification_review_on=classifications.review_due_on(cl),
    )
    data["dpia_draft"] = session.get(Dpia, extra.dpia_draft) if extra.dpia_draft else None
    if ra is not None:
        counts: dict[str, int] = {}
        scores = session.execute(
            select(
                Risk.likelihood, Risk.consequence, Risk.residual_likelihood, Risk.residual_consequence
            ).where(Risk.analysis_id == ra.id)
        ).all()
        for likelihood, consequence, rl, rc in scores:
            code = risks.band_code(rl * rc if rl is not None and rc is not None else likelihood * consequence)
            counts[code] = counts.get(code, 0) + 1
        data["risk_count"] = len(scores)
        data["residual_bands"] = [(b, counts.get(b[1], 0)) for b in risks.bands()]
    if sla is not None:
        data["sla_last"] = (
            None
            if extra.period is None
            else {
                "period": extra.period,
                "availability": extra.availability,
                "target_met": extra.availability >= extra.target,
            }
        )
        t_level = cl.availability if cl else None
        data["sla_required"] = slas.required_availability(t_level)
        data["sla_weaker"] = slas.weaker_than_required(sla.availability_target, t_level)
    return data


def record_counts(session: Session, system_id: int) -> dict[str, int]:
    """How many versions of each record the system has (for the tabs), in one query."""
    models = {
        "classifications": Classification,
        "analyses": RiskAnalysis,
        "screenings": DpiaScreening,
        "dpias": Dpia,
        "slas": Sla,
    }
    cols = [
        select(func.count(m.id)).where(m.system_id == system_id).scalar_subquery().label(k)
        for k, m in models.items()
    ]
    return dict(session.execute(select(*cols)).one()._mapping)
