"""Riskanalys: risks scored likelihood × consequence (1–4 each), treatments, actions and residual risk.

Rules (DESIGN.md, issue 4):
- a draft holds date, participants, scope and the classification version it rests on, and its risks;
- finalising makes it the system's current analysis; a finalised analysis never changes (422);
- a new round copies the last analysis into a new draft (risks and actions), nobody retypes them;
- actions are followed up after finalisation: status and completion change, with history rows;
- bands, colours and labels come from configuration (RISK_BANDS, LIKELIHOOD_LABELS, CONSEQUENCE_LABELS).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql.elements import ColumnElement

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import NotFound, RuleViolation
from riskreg.models import ActionStatusChange, Classification, Risk, RiskAction, RiskAnalysis, System, User
from riskreg.models.codes import ActionStatus, Aspect, RecordStatus, Treatment
from riskreg.services import filing

MAX_RISKS = 500
MAX_ACTIONS = 50
TEXT_MAX = 10000
OPEN_ACTION = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


# ------------------------------------------------------------------ scales


def bands() -> list[tuple[int, str, str, str]]:
    """(upper limit inclusive, code, label, colour), lowest first, from configuration."""
    return sorted((tuple(b) for b in current_app.config["RISK_BANDS"]), key=lambda b: b[0])  # type: ignore[misc]


def band(value: int | None) -> dict[str, Any] | None:
    if value is None:
        return None
    table = bands()
    for upper, code, label, colour in table:
        if value <= upper:
            return {"code": code, "label": label, "colour": colour, "upper": upper}
    upper, code, label, colour = table[-1]
    return {"code": code, "label": label, "colour": colour, "upper": upper}


def band_code(value: int | None) -> str | None:
    found = band(value)
    return found["code"] if found else None


def likelihood_label(n: int | None) -> str:
    labels = current_app.config["LIKELIHOOD_LABELS"]
    return str(labels.get(n, labels.get(str(n), n))) if n is not None else ""


def consequence_label(n: int | None) -> str:
    labels = current_app.config["CONSEQUENCE_LABELS"]
    return str(labels.get(n, labels.get(str(n), n))) if n is not None else ""


def matrix(risks: Iterable[Risk], *, residual: bool = False) -> list[list[dict[str, Any]]]:
    """The 4×4 matrix: rows likelihood 4 → 1 (top to bottom), columns consequence 1 → 4; each cell
    with its value, band and the risks in it. Residual: a risk without residual scores stands as it is."""
    cells: dict[tuple[int, int], list[Risk]] = {}
    for r in risks:
        if residual and r.residual_likelihood is not None and r.residual_consequence is not None:
            key = (r.residual_likelihood, r.residual_consequence)
        else:
            key = (r.likelihood, r.consequence)
        cells.setdefault(key, []).append(r)
    grid = []
    for likelihood in range(4, 0, -1):
        row = []
        for consequence in range(1, 5):
            in_cell = cells.get((likelihood, consequence), [])
            row.append(
                {
                    "likelihood": likelihood,
                    "consequence": consequence,
                    "value": likelihood * consequence,
                    "band": band(likelihood * consequence),
                    "risks": in_cell,
                    "count": len(in_cell),
                }
            )
        grid.append(row)
    return grid


# ------------------------------------------------------------------ reading


def _eager():
    return selectinload(RiskAnalysis.risks).selectinload(Risk.actions)


def get(session: Session, analysis_id: int, *, eager: bool = False) -> RiskAnalysis:
    message = _l("Risk analysis %(id)s does not exist.", id=analysis_id)
    if eager:
        filing.load(session, RiskAnalysis, analysis_id, message)
        stmt = select(RiskAnalysis).where(RiskAnalysis.id == analysis_id).options(_eager())
        return session.execute(stmt).scalar_one()
    return filing.load(session, RiskAnalysis, analysis_id, message)


def get_readable(session: Session, actor: Actor, analysis_id: int) -> RiskAnalysis:
    record = get(session, analysis_id, eager=True)
    filing.require_read(actor, filing.system(session, record.system_id))
    return record


def history_statement(system_id: int):
    return (
        select(RiskAnalysis)
        .where(RiskAnalysis.system_id == system_id)
        .options(_eager())
        .order_by(RiskAnalysis.number.desc())
    )


def history(session: Session, actor: Actor, system_id: int) -> list[RiskAnalysis]:
    filing.require_read(actor, filing.system(session, system_id))
    return list(session.execute(history_statement(system_id)).scalars())


# ------------------------------------------------------------------ validation


def _check_header(session: Session, system: System, problems: filing.Problems, values: dict) -> dict:
    clean: dict[str, Any] = {}
    if "analysed_on" in values:
        clean["analysed_on"] = problems.day("analysed_on", values["analysed_on"])
    for key in ("participants", "scope"):
        if key in values:
            clean[key] = problems.text(key, values[key], TEXT_MAX)
    if values.get("classification_id") is not None:
        cid = values["classification_id"]
        found = (
            session.get(Classification, cid) if isinstance(cid, int) and 0 < cid <= filing.MAX_ID else None
        )
        if found is None or found.system_id != system.id:
            problems.add("classification_id", _l("No such classification of this system."))
        elif found.status != RecordStatus.FINAL:
            problems.add("classification_id", _l("A risk analysis rests on a finalised classification."))
        else:
            clean["classification_id"] = cid
    return clean


def _check_action(session: Session, problems: filing.Problems, at: str, raw: Any) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    status = problems.code(f"{at}.status", raw.get("status") or ActionStatus.PLANNED.value, ActionStatus)
    return {
        "id": raw.get("id"),
        "description": problems.text(f"{at}.description", raw.get("description"), TEXT_MAX, required=True),
        "responsible_id": problems.user(session, f"{at}.responsible_id", raw.get("responsible_id")),
        "due_on": problems.day(f"{at}.due_on", raw.get("due_on"), required=False),
        "status": status,
        "completed_on": problems.day(f"{at}.completed_on", raw.get("completed_on"), required=False),
    }


def _check_risk(session: Session, problems: filing.Problems, at: str, raw: Any) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    clean = {
        "id": raw.get("id"),
        "title": problems.text(f"{at}.title", raw.get("title"), 300, required=True),
        "description": problems.text(f"{at}.description", raw.get("description"), TEXT_MAX),
        "aspect": problems.code(f"{at}.aspect", raw.get("aspect"), Aspect),
        "likelihood": problems.scale(f"{at}.likelihood", raw.get("likelihood"), 1, 4),
        "consequence": problems.scale(f"{at}.consequence", raw.get("consequence"), 1, 4),
        "existing_protection": problems.text(
            f"{at}.existing_protection", raw.get("existing_protection"), TEXT_MAX
        ),
        "treatment": problems.code(f"{at}.treatment", raw.get("treatment"), Treatment, required=False),
        "residual_likelihood": problems.scale(
            f"{at}.residual_likelihood", raw.get("residual_likelihood"), 1, 4, required=False
        ),
        "residual_consequence": problems.scale(
            f"{at}.residual_consequence", raw.get("residual_consequence"), 1, 4, required=False
        ),
    }
    if (raw.get("residual_likelihood") is None) != (raw.get("residual_consequence") is None):
        problems.add(
            f"{at}.residual_consequence",
            _l("Give both the residual likelihood and the residual consequence, or neither."),
        )
    actions = raw.get("actions") or []
    if not isinstance(actions, list | tuple):
        problems.add(f"{at}.actions", _l("A list of actions."))
        actions = []
    if len(actions) > MAX_ACTIONS:
        problems.add(f"{at}.actions", _l("At most %(n)s actions per risk.", n=MAX_ACTIONS))
    clean["actions"] = [
        _check_action(session, problems, f"{at}.actions.{j}", a) for j, a in enumerate(actions[:MAX_ACTIONS])
    ]
    return clean


def _check_risks(session: Session, problems: filing.Problems, risks: Any) -> list[dict]:
    if not isinstance(risks, list | tuple):
        problems.add("risks", _l("A list of risks."))
        return []
    if len(risks) > MAX_RISKS:
        problems.add("risks", _l("At most %(n)s risks.", n=MAX_RISKS))
    return [_check_risk(session, problems, f"risks.{i}", r) for i, r in enumerate(risks[:MAX_RISKS])]


# ------------------------------------------------------------------ building rows

RISK_FIELDS = (
    "title",
    "description",
    "aspect",
    "likelihood",
    "consequence",
    "existing_protection",
    "treatment",
    "residual_likelihood",
    "residual_consequence",
)
ACTION_FIELDS = ("description", "responsible_id", "due_on", "status", "completed_on")


def _fill_actions(risk: Risk, actions: list[dict], actor: Actor) -> None:
    keep = {a.id: a for a in risk.actions}
    rows = []
    for data in actions:
        row = keep.get(data["id"]) if isinstance(data.get("id"), int) else None
        if row is None:
            row = RiskAction()
        for key in ACTION_FIELDS:
            setattr(row, key, data[key])
        if row.status == ActionStatus.DONE and row.completed_on is None:
            row.completed_on = actor.today()
        rows.append(row)
    risk.actions[:] = rows


def _fill_risk(risk: Risk, data: dict, actor: Actor) -> None:
    for key in RISK_FIELDS:
        setattr(risk, key, data[key])
    _fill_actions(risk, data["actions"], actor)


def _set_risks(analysis: RiskAnalysis, risks: list[dict], actor: Actor) -> None:
    keep = {r.id: r for r in analysis.risks}
    rows = []
    for position, data in enumerate(risks):
        row = keep.get(data["id"]) if isinstance(data.get("id"), int) else None
        row = row or Risk()
        row.position = position
        _fill_risk(row, data, actor)
        rows.append(row)
    analysis.risks[:] = rows


def snapshot(analysis: RiskAnalysis) -> dict[str, Any]:
    data = audit.columns_of(analysis, exclude=("version",))
    data["risks"] = [
        {
            **{k: audit.plain(getattr(r, k)) for k in ("id", *RISK_FIELDS)},
            "actions": [{k: audit.plain(getattr(a, k)) for k in ("id", *ACTION_FIELDS)} for a in r.actions],
        }
        for r in analysis.risks
    ]
    return data


# ------------------------------------------------------------------ writing


def create(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    analysed_on: date,
    participants: str = "",
    scope: str = "",
    classification_id: int | None = None,
    risks: Iterable[dict] = (),
) -> RiskAnalysis:
    """Start a risk analysis (a draft). It rests on the given classification, by default the system's
    current one. Raises NotFound, NotAllowed, RuleViolation (fields named ``risks.<i>.<field>``)."""
    system = filing.writable_system(session, actor, system_id)
    problems = filing.Problems()
    header = _check_header(
        session,
        system,
        problems,
        {
            "analysed_on": analysed_on,
            "participants": participants,
            "scope": scope,
            "classification_id": classification_id,
        },
    )
    clean_risks = _check_risks(session, problems, list(risks))
    problems.raise_if_any(_l("The risk analysis is invalid."))
    number = (
        session.execute(
            select(func.coalesce(func.max(RiskAnalysis.number), 0)).where(RiskAnalysis.system_id == system.id)
        ).scalar_one()
        + 1
    )
    analysis = RiskAnalysis(
        system_id=system.id,
        number=number,
        status=RecordStatus.DRAFT,
        classification_id=header.get("classification_id", system.current_classification_id),
        analysed_on=header["analysed_on"],
        participants=header["participants"],
        scope=header["scope"],
        created_by_id=actor.user_id,
        created_at=actor.at(),
    )
    _set_risks(analysis, clean_risks, actor)
    session.add(analysis)
    session.flush()
    audit.record(session, actor, "risk_analysis", analysis.id, "create", None, snapshot(analysis))
    return analysis


def _draft_for_write(session: Session, actor: Actor, analysis_id: int, version: int | None) -> RiskAnalysis:
    analysis = get(session, analysis_id, eager=True)
    filing.require_write(actor, filing.system(session, analysis.system_id))
    refuse_final(analysis)
    filing.check_version(analysis, version)
    return analysis


def refuse_final(analysis: RiskAnalysis) -> None:
    if analysis.status == RecordStatus.FINAL:
        raise RuleViolation(
            _l("A finalised risk analysis never changes; start a new round instead."),
            fields={"status": [_l("Already finalised.")]},
            code="finalised",
        )


def _changed(session: Session, actor: Actor, analysis: RiskAnalysis, before: dict, action: str) -> None:
    flag_modified(analysis, "participants")  # every saved change is a new version, children included
    session.flush()
    b, a = audit.changed(before, snapshot(analysis))
    audit.record(session, actor, "risk_analysis", analysis.id, action, b, a)


def update(
    session: Session, actor: Actor, analysis_id: int, *, version: int | None, **values: Any
) -> RiskAnalysis:
    """Change a draft: header fields given, and ``risks`` (replacing the list; a risk or action with a
    known ``id`` is kept). Raises Conflict (stale version), RuleViolation (final, invalid)."""
    analysis = _draft_for_write(session, actor, analysis_id, version)
    system = filing.system(session, analysis.system_id)
    problems = filing.Problems()
    header = _check_header(session, system, problems, values)
    clean_risks = (
        _check_risks(session, problems, values["risks"]) if values.get("risks") is not None else None
    )
    problems.raise_if_any(_l("The risk analysis is invalid."))
    before = snapshot(analysis)
    for key, value in header.items():
        setattr(analysis, key, value)
    if clean_risks is not None:
        _set_risks(analysis, clean_risks, actor)
    _changed(session, actor, analysis, before, "update")
    return analysis


def save_risk(
    session: Session,
    actor: Actor,
    analysis_id: int,
    *,
    version: int | None,
    risk_id: int | None = None,
    values: dict,
) -> Risk:
    """Add a risk to a draft, or replace one (its actions with it; an action with a known ``id`` is kept)."""
    analysis = _draft_for_write(session, actor, analysis_id, version)
    problems = filing.Problems()
    data = _check_risk(session, problems, "risk", values)
    problems.raise_if_any(_l("The risk is invalid."))
    risk = None
    if risk_id is not None:
        risk = next((r for r in analysis.risks if r.id == risk_id), None)
        if risk is None:
            raise NotFound(_l("Risk %(id)s is not part of this analysis.", id=risk_id))
    before = snapshot(analysis)
    if risk is None:
        risk = Risk(position=max((r.position for r in analysis.risks), default=-1) + 1)
        analysis.risks.append(risk)
    _fill_risk(risk, data, actor)
    _changed(session, actor, analysis, before, "update")
    return risk


def delete_risk(
    session: Session, actor: Actor, analysis_id: int, risk_id: int, *, version: int | None
) -> None:
    analysis = _draft_for_write(session, actor, analysis_id, version)
    risk = next((r for r in analysis.risks if r.id == risk_id), None)
    if risk is None:
        raise NotFound(_l("Risk %(id)s is not part of this analysis.", id=risk_id))
    before = snapshot(analysis)
    analysis.risks.remove(risk)
    _changed(session, actor, analysis, before, "update")


def finalise(session: Session, actor: Actor, analysis_id: int, *, version: int | None = None) -> RiskAnalysis:
    """Finalise a draft: it needs at least one risk and a finalised classification to rest on (the
    system's current one when none was chosen); it becomes the system's current analysis.
    Raises NotFound, NotAllowed, Conflict, RuleViolation (already final, no risk, not classified)."""
    analysis = get(session, analysis_id, eager=True)
    system = filing.writable_system(session, actor, analysis.system_id)
    refuse_final(analysis)
    filing.check_version(analysis, version)
    problems = filing.Problems()
    if not analysis.risks:
        problems.add("risks", _l("Add at least one risk before finalising."))
    if analysis.classification_id is None:
        if system.current_classification_id is None:
            problems.add("classification_id", _l("Classify the system before finalising its risk analysis."))
        else:
            analysis.classification_id = system.current_classification_id
    problems.raise_if_any(_l("The risk analysis cannot be finalised yet."))
    analysis.status = RecordStatus.FINAL
    analysis.finalised_at = actor.at()
    analysis.finalised_by_id = actor.user_id
    session.flush()
    system.current_risk_analysis_id = analysis.id
    session.flush()
    audit.record(
        session,
        actor,
        "risk_analysis",
        analysis.id,
        "finalise",
        {"status": RecordStatus.DRAFT.value},
        {
            "status": analysis.status.value,
            "finalised_at": analysis.finalised_at,
            "classification_id": analysis.classification_id,
        },
    )
    return analysis


def new_round(session: Session, actor: Actor, system_id: int) -> RiskAnalysis:
    """Copy the last analysis (risks, actions and their status) into a new draft resting on the
    current classification. Raises RuleViolation when there is none, or while any analysis of the
    system is a draft (``draft_exists``, naming it): one draft at a time, so two people pressing "new
    round" at once get one draft and, for the second, the refusal. The system row is locked first
    (SELECT … FOR UPDATE on PostgreSQL; SQLite's transactions begin IMMEDIATE), so the second call
    reads the first one's draft only after it is committed."""
    system = filing.writable_system(session, actor, system_id)
    draft = session.execute(
        select(RiskAnalysis)
        .where(RiskAnalysis.system_id == system.id, RiskAnalysis.status == RecordStatus.DRAFT)
        .order_by(RiskAnalysis.number.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if draft is not None:
        raise RuleViolation(
            _l(
                "Risk analysis version %(n)s of %(day)s is still a draft; continue that one instead of "
                "starting a new round.",
                n=draft.number,
                day=draft.analysed_on.isoformat(),
            ),
            fields={"status": [_l("A draft exists: version %(n)s.", n=draft.number)]},
            code="draft_exists",
        )
    last = session.execute(history_statement(system.id).limit(1)).scalar_one_or_none()
    if last is None:
        raise RuleViolation(
            _l("There is no earlier risk analysis to copy."),
            fields={"system_id": [_l("No earlier risk analysis.")]},
        )
    copy = RiskAnalysis(
        system_id=system.id,
        number=last.number + 1,
        status=RecordStatus.DRAFT,
        analysed_on=actor.today(),
        participants=last.participants,
        scope=last.scope,
        classification_id=system.current_classification_id,
        copied_from_id=last.id,
        created_by_id=actor.user_id,
        created_at=actor.at(),
    )
    for risk in last.risks:
        new = Risk(position=risk.position, **{k: getattr(risk, k) for k in RISK_FIELDS})
        new.actions = [RiskAction(**{k: getattr(a, k) for k in ACTION_FIELDS}) for a in risk.actions]
        copy.risks.append(new)
    session.add(copy)
    session.flush()
    audit.record(
        session,
        actor,
        "risk_analysis",
        copy.id,
        "create",
        None,
        {**snapshot(copy), "copied_from_id": last.id},
    )
    return copy


# ------------------------------------------------------------------ actions (followed up after finalising)


def get_action(session: Session, action_id: int) -> RiskAction:
    return filing.load(session, RiskAction, action_id, _l("Action %(id)s does not exist.", id=action_id))


def action_system(session: Session, action: RiskAction) -> System:
    return filing.system(session, action.risk.analysis.system_id)


def update_action(
    session: Session,
    actor: Actor,
    action_id: int,
    *,
    status: str | ActionStatus,
    completed_on: date | None = None,
    note: str = "",
    version: int | None = None,
) -> RiskAction:
    """Follow up an action, also after the analysis is finalised: a new status (``done`` gets a
    completion date, today unless given). A history row records every change of the status or of the
    completion date (and a note given on its own). Raises NotFound, NotAllowed, Conflict,
    RuleViolation (unknown status, completion in the future)."""
    action = get_action(session, action_id)
    filing.require_write(actor, action_system(session, action))
    filing.check_version(action, version)
    problems = filing.Problems()
    new_status = problems.code(
        "status", status.value if isinstance(status, ActionStatus) else status, ActionStatus
    )
    done_on = problems.day("completed_on", completed_on, required=False)
    note = problems.text("note", note, 2000)
    if done_on is not None and done_on > actor.today():
        problems.add("completed_on", _l("The completion date cannot be in the future."))
    problems.raise_if_any(_l("The action's status is invalid."))
    before = {k: audit.plain(getattr(action, k)) for k in ("status", "completed_on")}
    old_status, old_completed_on = action.status, action.completed_on
    action.status = new_status
    if new_status == ActionStatus.DONE:
        action.completed_on = done_on or action.completed_on or actor.today()
    else:
        action.completed_on = None
    if old_status != new_status or old_completed_on != action.completed_on or note:
        action.history.append(
            ActionStatusChange(
                from_status=old_status,
                to_status=new_status,
                from_completed_on=old_completed_on,
                completed_on=action.completed_on,
                note=note,
                changed_by_id=actor.user_id,
                changed_at=actor.at(),
            )
        )
    flag_modified(action, "status")
    session.flush()
    after = {k: audit.plain(getattr(action, k)) for k in ("status", "completed_on")}
    audit.record(session, actor, "risk_action", action.id, "status", before, {**after, "note": note})
    return action


def overdue_clause(today: date) -> ColumnElement[bool]:
    return (RiskAction.due_on < today) & RiskAction.status.in_(OPEN_ACTION)


def followed_up_by(user: User) -> ColumnElement[bool]:
    """The actions a user follows up (a WHERE for ``overdue_actions``): those of the systems they own or
    decide on, and those they are named responsible for where they may read the system's records (the
    read-all roles; an owner reads their own systems' already)."""
    clause = (System.system_owner_id == user.id) | (System.risk_owner_id == user.id)
    if not permissions.can_read_all(user):
        return clause
    # one set of action ids from two index walks: an OR across the two tables would join every system's
    # current analysis to its actions first (a quarter of a second at 100,000 systems)
    own = (
        select(RiskAction.id)
        .join(Risk, Risk.id == RiskAction.risk_id)
        .join(System, System.current_risk_analysis_id == Risk.analysis_id)
        .where(clause)
    )
    named = select(RiskAction.id).where(RiskAction.responsible_id == user.id)
    return RiskAction.id.in_(union(own, named))


def overdue_actions(
    session: Session,
    today: date,
    system_ids_clause: ColumnElement[bool] | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Open actions (planned, in progress) of the systems' current risk analyses whose due date has
    passed, oldest first. ``system_ids_clause`` narrows them (a WHERE on System or RiskAction, e.g.
    ``System.system_owner_id == user.id``, ``System.id == 7`` or ``followed_up_by(user)``). One query."""
    stmt = (
        select(
            RiskAction.id,
            RiskAction.description,
            RiskAction.due_on,
            RiskAction.status,
            RiskAction.responsible_id,
            User.name,
            Risk.id,
            Risk.title,
            System.id,
            System.name,
        )
        .select_from(System)
        .join(Risk, Risk.analysis_id == System.current_risk_analysis_id)
        .join(RiskAction, RiskAction.risk_id == Risk.id)
        .outerjoin(User, User.id == RiskAction.responsible_id)
        .where(overdue_clause(today))
    )
    if system_ids_clause is not None:
        stmt = stmt.where(system_ids_clause)
    stmt = stmt.order_by(RiskAction.due_on, RiskAction.id).limit(limit).offset(offset)
    keys = (
        "action_id",
        "description",
        "due_on",
        "status",
        "responsible_id",
        "responsible",
        "risk_id",
        "risk_title",
        "system_id",
        "system_name",
    )
    return [
        dict(zip(keys, row, strict=True)) | {"days_overdue": (today - row[2]).days}
        for row in session.execute(stmt)
    ]


def count_overdue_actions(
    session: Session, today: date, system_ids_clause: ColumnElement[bool] | None = None
) -> int:
    stmt = (
        select(func.count(RiskAction.id))
        .select_from(System)
        .join(Risk, Risk.analysis_id == System.current_risk_analysis_id)
        .join(RiskAction, RiskAction.risk_id == Risk.id)
        .where(overdue_clause(today))
    )
    if system_ids_clause is not None:
        stmt = stmt.where(system_ids_clause)
    return session.execute(stmt).scalar_one()
