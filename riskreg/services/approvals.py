"""Driftgodkännande: the request, the risk owner's decision, revocation and the follow-up of conditions.

The stage a system is in is derived (riskreg.lifecycle) from the pointers these services keep:
a request sets ``System.open_request_id``; a decision writes an immutable ``Approval`` (with the versions
of the records it rests on, their content and its SHA-256), points ``System.current_approval_id`` at it
and clears the open request; a revocation is a new ``ApprovalRevocation`` row. Rules (DESIGN.md,
"The approval lifecycle") are checked here, permission first; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from riskreg import audit, lifecycle, permissions
from riskreg.actor import Actor
from riskreg.errors import NotAllowed, NotFound, RuleViolation
from riskreg.models import (
    AcceptedRisk,
    Approval,
    ApprovalCondition,
    ApprovalRequest,
    ApprovalRevocation,
    Classification,
    DecommissioningPlan,
    MajorChange,
    ReferenceCounter,
    Risk,
    System,
    User,
)
from riskreg.models.codes import (
    ConditionStatus,
    Decision,
    DecommissioningStatus,
    Lifecycle,
    RecordStatus,
    RequestStatus,
    Stage,
)
from riskreg.services import approval_snapshot as content

MOTIVATION_MAX = 10_000
APPROVING = (Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS)


config = content.setting


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def default_valid_until(today: date) -> date:
    return add_years(today, int(config("APPROVAL_VALIDITY_YEARS")))


# ------------------------------------------------------------------ loading


def get_system(session: Session, system_id: int, *, for_update: bool = False) -> System:
    stmt = select(System).where(System.id == system_id)
    if for_update:
        stmt = stmt.with_for_update()
    system = session.execute(stmt).scalar_one_or_none()
    if system is None:
        raise NotFound(_l("System %(id)s does not exist.", id=system_id))
    return system


def get_approval(session: Session, approval_id: int) -> Approval:
    approval = session.execute(
        select(Approval)
        .where(Approval.id == approval_id)
        .options(
            selectinload(Approval.conditions),
            selectinload(Approval.accepted_risks),
            selectinload(Approval.revocation),
        )
    ).scalar_one_or_none()
    if approval is None:
        raise NotFound(_l("Decision %(id)s does not exist.", id=approval_id))
    return approval


def get_by_reference(session: Session, reference: str) -> Approval:
    approval = session.execute(
        select(Approval).where(Approval.reference == reference.strip().upper())
    ).scalar_one_or_none()
    if approval is None:
        raise NotFound(_l("No decision has the reference %(ref)s.", ref=reference[:40]))
    return approval


def readable_approval(session: Session, actor: Actor, approval_id: int) -> tuple[Approval, System]:
    """A decision the actor may read (its system's owners and the read-all roles). NotFound, NotAllowed."""
    approval = get_approval(session, approval_id)
    system = get_system(session, approval.system_id)
    if not permissions.can_read_records(actor.user, system):
        raise NotAllowed(
            _l("Only the system's owners, the CISO, the DPO, admins and auditors read its decisions.")
        )
    return approval, system


# ------------------------------------------------------------------ prerequisites


@dataclass(frozen=True)
class Missing:
    """A prerequisite that does not hold: a code (for links) and a sentence naming it."""

    code: str
    message: Any


def prerequisites(session: Session, system: System, records: content.Records | None = None) -> list[Missing]:
    """What a decision still lacks (DESIGN.md): a finalised classification; a finalised risk analysis
    resting on it; a DPIA screening; where it requires one, a finalised DPIA with the DPO's opinion.
    Also a named risk owner, who is the one to decide."""
    missing: list[Missing] = []
    records = records or content.Records(session, system)
    c, ra, sc, d = records.classification, records.risk_analysis, records.screening, records.dpia
    if c is None or c.status != RecordStatus.FINAL:
        missing.append(Missing("classification", _l("A finalised information classification.")))
    if ra is None or ra.status != RecordStatus.FINAL:
        missing.append(Missing("risk_analysis", _l("A finalised risk analysis.")))
    elif c is not None and ra.classification_id != c.id:
        missing.append(
            Missing(
                "risk_analysis_classification",
                _l("A finalised risk analysis resting on the current classification."),
            )
        )
    if sc is None:
        missing.append(Missing("dpia_screening", _l("A DPIA screening (förhandsbedömning).")))
    elif sc.dpia_required and (d is None or d.status != RecordStatus.FINAL or not d.opinion):
        missing.append(Missing("dpia", _l("A finalised DPIA with the data protection officer's opinion.")))
    if system.risk_owner_id is None:
        missing.append(Missing("risk_owner", _l("A named risk owner to decide.")))
    return missing


def _refuse_missing(missing: list[Missing]) -> None:
    raise RuleViolation(
        _l("A decision cannot be requested yet; what is missing is listed."),
        fields={"missing": [m.message for m in missing], "missing_codes": [m.code for m in missing]},
        code="prerequisites_missing",
    )


# ------------------------------------------------------------------ decommissioning in the way


BEING_DECOMMISSIONED_MESSAGE = _l(
    "The system is being decommissioned according to a decommissioning plan; no decision can be requested "
    "until the risk owner (or the CISO) cancels the plan."
)
GONE = (Lifecycle.BEING_DECOMMISSIONED, Lifecycle.DECOMMISSIONED)


def open_plan_id(session: Session, system_id: int) -> int | None:
    """The system's decommissioning plan that is neither carried out nor cancelled, if any."""
    return session.execute(
        select(DecommissioningPlan.id)
        .where(
            DecommissioningPlan.system_id == system_id,
            DecommissioningPlan.status == DecommissioningStatus.PLANNED,
        )
        .limit(1)
    ).scalar_one_or_none()


def record_lifecycle(session: Session, actor: Actor, system: System, before: Lifecycle) -> None:
    """The audit event of a system's lifecycle moved by a decision, a plan or its cancellation (none when
    it did not move)."""
    if system.lifecycle != before:
        audit.record(session, actor, "system", system.id, "update", {"lifecycle": before},
                     {"lifecycle": system.lifecycle})


def lifecycle_before_rejection(session: Session, rejection: Approval | None) -> Lifecycle:
    """The lifecycle a system had before a rejection put it under decommissioning: as the rejection's
    snapshot recorded it, or (when that one already found it being decommissioned, e.g. a second
    rejection) as the latest earlier decision recorded it; ``in_operation`` when none tells."""
    if rejection is None:
        return Lifecycle.IN_OPERATION
    decisions = session.execute(
        select(Approval.snapshot)
        .where(Approval.system_id == rejection.system_id, Approval.decided_at <= rejection.decided_at)
        .order_by(Approval.decided_at.desc(), Approval.id.desc())
        .limit(20)
    ).scalars()
    for snapshot in decisions:
        try:
            value = Lifecycle(((snapshot or {}).get("system") or {}).get("lifecycle"))
        except ValueError:
            continue
        if value not in GONE:
            return value
    return Lifecycle.IN_OPERATION


# ------------------------------------------------------------------ request


def request(session: Session, actor: Actor, system_id: int, note: str = "") -> ApprovalRequest:
    """The system owner (or an admin for them) asks for a decision. NotAllowed unless they may edit the
    system; RuleViolation when a request is already open, the system is decommissioned, or any
    prerequisite is missing (``fields.missing`` names each)."""
    system = get_system(session, system_id, for_update=True)
    if not permissions.can_edit_system(actor.user, system):
        raise NotAllowed(_l("Only the system's own system owner (or an administrator) requests a decision."))
    if system.open_request_id is not None:
        raise RuleViolation(
            _l("A decision is already requested for this system and awaits the risk owner."),
            code="already_requested",
        )
    if system.lifecycle == Lifecycle.DECOMMISSIONED:
        raise RuleViolation(
            _l("The system is decommissioned; no decision can be requested."), code="decommissioned"
        )
    if system.lifecycle == Lifecycle.BEING_DECOMMISSIONED and open_plan_id(session, system.id) is not None:
        raise RuleViolation(
            BEING_DECOMMISSIONED_MESSAGE,
            fields={"lifecycle": [BEING_DECOMMISSIONED_MESSAGE]},
            code="being_decommissioned",
        )
    if len(note) > MOTIVATION_MAX:
        raise RuleViolation(_l("The input is invalid."), fields={"note": [_l("At most 10000 characters.")]})
    missing = prerequisites(session, system)
    if missing:
        _refuse_missing(missing)
    req = ApprovalRequest(
        system_id=system.id,
        status=RequestStatus.PENDING,
        requested_by_id=actor.user_id,
        requested_at=actor.at(),
        note=note.strip(),
        classification_id=system.current_classification_id,
        risk_analysis_id=system.current_risk_analysis_id,
        screening_id=system.current_screening_id,
        dpia_id=system.current_dpia_id,
        sla_id=system.current_sla_id,
    )
    session.add(req)
    session.flush()
    system.open_request_id = req.id
    session.flush()
    audit.record(session, actor, "approval_request", req.id, "create", None, audit.columns_of(req))
    return req


def withdraw(session: Session, actor: Actor, request_id: int) -> ApprovalRequest:
    """The system owner withdraws a pending request. NotFound, NotAllowed, RuleViolation (not pending)."""
    req = session.get(ApprovalRequest, request_id)
    if req is None:
        raise NotFound(_l("Request %(id)s does not exist.", id=request_id))
    system = get_system(session, req.system_id, for_update=True)
    if not permissions.can_edit_system(actor.user, system):
        raise NotAllowed(
            _l("Only the system's own system owner (or an administrator) withdraws the request.")
        )
    if req.status != RequestStatus.PENDING or system.open_request_id != req.id:
        raise RuleViolation(_l("The request is no longer pending."), code="not_pending")
    req.status, req.closed_at = RequestStatus.WITHDRAWN, actor.at()
    system.open_request_id = None
    session.flush()
    audit.record(
        session,
        actor,
        "approval_request",
        req.id,
        "withdraw",
        {"status": RequestStatus.PENDING},
        {"status": req.status},
    )
    return req


# ------------------------------------------------------------------ decision


REFUSAL_MESSAGES = {
    "only_risk_owner": _l("Only a risk owner decides on approval to operate."),
    "not_named_risk_owner": _l("Only the system's named risk owner decides on it."),
    "own_system": _l(
        "You are the system owner of this system, so you may not decide on it (segregation of duties)."
    ),
}


def refusal_message(reason: str | None):
    return REFUSAL_MESSAGES.get(reason or "", _l("You may not decide on this system."))


def next_reference(session: Session, year: int) -> tuple[str, int]:
    """The next diarienummer of the year, DG-<year>-<NNNN>: the year's counter row is locked
    (SELECT … FOR UPDATE) until the decision commits, so numbers are unique and without gaps."""
    stmt = select(ReferenceCounter).where(ReferenceCounter.year == year).with_for_update()
    counter = session.execute(stmt).scalar_one_or_none()
    if counter is None:
        _create_counter(session, year)
        counter = session.execute(stmt.execution_options(populate_existing=True)).scalar_one()
    counter.last += 1
    session.flush()
    return f"DG-{year}-{counter.last:04d}", counter.last


def _create_counter(session: Session, year: int) -> None:
    """Insert the year's counter row unless a concurrent transaction just did."""
    table = ReferenceCounter.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(year=year, last=0).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).values(year=year, last=0).on_conflict_do_nothing())


@dataclass
class DecisionInput:
    decision: Decision
    motivation: str
    valid_until: date | None
    conditions: list[dict]
    accepted: dict[int, str]
    problems: dict[str, list] = field(default_factory=dict)

    def problem(self, key: str, message) -> None:
        self.problems.setdefault(key, []).append(message)


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _parse(
    decision, motivation, valid_until, conditions, accepted_risks, accepted_risk_ids, default_responsible=None
) -> DecisionInput:
    """The decision's input as plain values. A condition that names no responsible person gets
    ``default_responsible`` (the system owner): each condition has someone to follow it up."""
    try:
        code = Decision(str(decision))
    except ValueError:
        raise RuleViolation(
            _l("The input is invalid."),
            fields={"decision": [_l("Choose approved, approved_with_conditions or rejected.")]},
        ) from None
    motivation = (motivation or "").strip()
    accepted: dict[int, str] = {}
    for rid in accepted_risk_ids or ():
        accepted[int(rid)] = ""
    for rid, text in (accepted_risks or {}).items():
        accepted[int(rid)] = (text or "").strip()
    data = DecisionInput(code, motivation, None, [], accepted)
    try:
        data.valid_until = _as_date(valid_until)
    except ValueError:
        data.problem("valid_until", _l("Give a date as YYYY-MM-DD."))
    for i, cond in enumerate(conditions or ()):
        text = str(cond.get("text") or "").strip()
        try:
            due = _as_date(cond.get("due_on"))
        except ValueError:
            due = None
            data.problem(f"conditions.{i}.due_on", _l("Give a date as YYYY-MM-DD."))
        data.conditions.append(
            {"text": text, "due_on": due, "responsible_id": cond.get("responsible_id") or default_responsible}
        )
    return data


def _check_validity(data: DecisionInput, today: date) -> None:
    longest = default_valid_until(today)
    if data.decision == Decision.REJECTED:
        if data.valid_until is not None:
            data.problem("valid_until", _l("A rejection has no validity."))
        return
    if data.valid_until is None:
        data.valid_until = longest
    elif data.valid_until <= today:
        data.problem("valid_until", _l("The validity must end after today."))
    elif data.valid_until > longest:
        data.problem(
            "valid_until",
            _l(
                "At most %(years)s years: %(date)s at the latest.",
                years=config("APPROVAL_VALIDITY_YEARS"),
                date=longest.isoformat(),
            ),
        )


def _check_conditions(session: Session, data: DecisionInput, today: date, explicit: bool = False) -> None:
    if data.decision == Decision.APPROVED_WITH_CONDITIONS and not data.conditions:
        data.problem("conditions", _l("An approval with conditions needs at least one condition."))
    if data.decision != Decision.APPROVED_WITH_CONDITIONS and data.conditions:
        data.problem("conditions", _l("Only an approval with conditions has conditions."))
        return
    people = {c["responsible_id"] for c in data.conditions if c["responsible_id"] is not None}
    active = (
        set(session.scalars(select(User.id).where(User.id.in_(people), User.active.is_(True))))
        if people
        else set()
    )
    for i, cond in enumerate(data.conditions):
        if not cond["text"]:
            data.problem(f"conditions.{i}.text", _l("Describe the condition."))
        elif len(cond["text"]) > 2000:
            data.problem(f"conditions.{i}.text", _l("At most 2000 characters."))
        if cond["due_on"] is None and f"conditions.{i}.due_on" not in data.problems:
            data.problem(f"conditions.{i}.due_on", _l("A condition needs a due date."))
        elif cond["due_on"] is not None and cond["due_on"] < today:
            data.problem(f"conditions.{i}.due_on", _l("The due date cannot be in the past."))
        if cond["responsible_id"] is not None and cond["responsible_id"] not in active:
            data.problem(f"conditions.{i}.responsible_id", _l("No such active user."))
        elif cond["responsible_id"] is None:  # not chosen, and no active system owner to stand in
            data.problem(f"conditions.{i}.responsible_id", _l("Choose who is responsible for the condition."))


def _check_risks(data: DecisionInput, risks: list[Risk], explicit: bool = False) -> None:
    by_id = {r.id: r for r in risks}
    foreign = sorted(rid for rid in data.accepted if rid not in by_id)
    if foreign:
        data.problem(
            "accepted_risk_ids",
            _l(
                "Not risks of this system's current risk analysis: %(ids)s.", ids=", ".join(map(str, foreign))
            ),
        )
    if data.decision == Decision.REJECTED:
        if data.accepted:
            data.problem("accepted_risk_ids", _l("A rejection accepts no risks."))
        return
    threshold = content.acceptance_threshold()
    unaccepted = [r for r in risks if r.effective_residual_value >= threshold and r.id not in data.accepted]
    for r in unaccepted:
        data.problem(
            "unaccepted_risks",
            _l(
                "%(id)s: %(title)s (residual risk %(value)s)",
                id=r.id,
                title=r.title,
                value=r.effective_residual_value,
            ),
        )
    if unaccepted:
        data.problem(
            "accepted_risk_ids",
            _l("Every residual risk of %(n)s or more must be accepted explicitly.", n=threshold),
        )
    for rid in data.accepted:
        if rid in by_id and not data.accepted[rid]:
            if explicit:  # each accepted risk its own motivation, not the decision's
                data.problem(
                    f"accepted_risks.{rid}",
                    _l("Say why %(title)s is accepted.", title=by_id[rid].title),
                )
                continue
            data.accepted[rid] = data.motivation
        if len(data.accepted[rid]) > MOTIVATION_MAX:
            data.problem(f"accepted_risks.{rid}", _l("At most 10000 characters."))


def decide(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    decision,
    motivation: str,
    valid_until: date | None = None,
    conditions: Iterable[Mapping] = (),
    accepted_risks: Mapping[int, str] | None = None,
    accepted_risk_ids: Iterable[int] | None = None,
    explicit: bool = False,
) -> Approval:
    """Record the named risk owner's decision on a system awaiting one.

    Rules: only the system's named risk owner, never its system owner (NotAllowed, segregation of duties);
    the system must await a decision; the prerequisites must still hold; approving needs every residual
    risk >= ACCEPTANCE_THRESHOLD accepted explicitly, with a motivation (the decision's when none is given
    per risk), and accepts only risks of the system's current analysis; conditions (only with
    ``approved_with_conditions``, at least one) each need a text and a due date not in the past, and
    have a responsible person (the system owner when none is named). With ``explicit`` (the decision
    page) nothing is filled in: each accepted risk needs its own motivation and each condition its named
    responsible person. ``valid_until`` defaults to APPROVAL_VALIDITY_YEARS, may be shorter, must end
    after today. Approving a system under an open decommissioning plan is refused (the plan is cancelled
    first); approving one a rejection left being decommissioned gives it back its earlier lifecycle.
    Any broken rule raises RuleViolation naming each problem, and nothing is written.
    """
    system = get_system(session, system_id, for_update=True)
    reason = permissions.decide_refusal(actor.user, system)
    if reason:
        raise NotAllowed(refusal_message(reason), fields={"reason": [reason]})
    req = session.get(ApprovalRequest, system.open_request_id) if system.open_request_id else None
    if req is None or req.status != RequestStatus.PENDING:
        raise RuleViolation(
            _l("The system is not awaiting a decision: a decision must be requested first."),
            code="not_awaiting_decision",
        )
    data = _parse(
        decision,
        motivation,
        valid_until,
        conditions,
        accepted_risks,
        accepted_risk_ids,
        default_responsible=None if explicit else _active_system_owner(session, system),
    )
    if data.decision in APPROVING and open_plan_id(session, system.id) is not None:
        raise RuleViolation(
            _l("The system is being decommissioned according to a plan; cancel the plan before approving."),
            code="being_decommissioned",
        )
    records = content.Records(session, system)
    missing = prerequisites(session, system, records)
    if missing:
        _refuse_missing(missing)
    today = actor.today()
    if not data.motivation:
        data.problem("motivation", _l("Give the motivation for the decision."))
    elif len(data.motivation) > MOTIVATION_MAX:
        data.problem("motivation", _l("At most 10000 characters."))
    _check_validity(data, today)
    _check_conditions(session, data, today, explicit)
    _check_risks(data, records.risks, explicit)
    if data.problems:
        summary = "; ".join(str(m) for key in sorted(data.problems) for m in data.problems[key])
        raise RuleViolation(
            _l("The decision cannot be recorded: %(problems)s", problems=summary),
            fields=data.problems,
            code="decision_refused",
        )
    return _record(session, actor, system, req, records, data)


def _active_system_owner(session: Session, system: System) -> int | None:
    if system.system_owner_id is None:
        return None
    owner = session.get(User, system.system_owner_id)
    return owner.id if owner is not None and owner.active else None


def _record(
    session: Session,
    actor: Actor,
    system: System,
    req: ApprovalRequest,
    records: content.Records,
    data: DecisionInput,
) -> Approval:
    now = actor.at()
    reference, sequence = next_reference(session, now.year)
    snapshot = content.build(
        session,
        records,
        reference=reference,
        decision=data.decision.value,
        motivation=data.motivation,
        valid_until=data.valid_until,
        decided_at=now,
        decided_by=actor.user,
        conditions=data.conditions,
        accepted=data.accepted,
    )
    c = records.classification
    approval = Approval(
        system_id=system.id,
        request_id=req.id,
        reference=reference,
        year=now.year,
        sequence=sequence,
        decision=data.decision,
        motivation=data.motivation,
        valid_until=data.valid_until,
        decided_by_id=actor.user_id,
        decided_at=now,
        classification_id=c.id,
        confidentiality=c.confidentiality,
        integrity=c.integrity,
        availability=c.availability,
        risk_analysis_id=records.risk_analysis.id,
        screening_id=records.screening.id,
        dpia_id=system.current_dpia_id,
        sla_id=system.current_sla_id,
        snapshot=snapshot,
        content_sha256=content.sha256(snapshot),
    )
    approval.conditions = [
        ApprovalCondition(
            text=cond["text"],
            due_on=cond["due_on"],
            note="",
            responsible_id=cond["responsible_id"],
            status=ConditionStatus.OPEN,
        )
        for cond in data.conditions
    ]
    approval.accepted_risks = [
        AcceptedRisk(risk_id=rid, motivation=text) for rid, text in data.accepted.items()
    ]
    session.add(approval)
    session.flush()
    set_committed_value(approval, "revocation", None)  # a new decision has none; no query to find out
    req.status, req.closed_at = RequestStatus.DECIDED, now
    previous = session.get(Approval, system.current_approval_id) if system.current_approval_id else None
    system.current_approval_id = approval.id
    system.open_request_id = None
    before_lifecycle = system.lifecycle
    if data.decision == Decision.REJECTED and system.lifecycle != Lifecycle.DECOMMISSIONED:
        system.lifecycle = Lifecycle.BEING_DECOMMISSIONED
    elif (
        data.decision in APPROVING
        and system.lifecycle == Lifecycle.BEING_DECOMMISSIONED
        and previous is not None
        and previous.decision == Decision.REJECTED
    ):
        # the rejection put the system under decommissioning (no plan was made, or it was cancelled):
        # this approval takes it back to where it was, so it counts again in coverage and reminders
        system.lifecycle = lifecycle_before_rejection(session, previous)
    session.flush()
    audit.record(
        session,
        actor,
        "approval",
        approval.id,
        "decide",
        None,
        {
            **audit.columns_of(approval, exclude=("snapshot",)),
            "conditions": data.conditions,
            "accepted_risks": data.accepted,
        },
    )
    record_lifecycle(session, actor, system, before_lifecycle)
    return approval


# ------------------------------------------------------------------ revocation


def revoke(session: Session, actor: Actor, approval_id: int, *, motivation: str) -> ApprovalRevocation:
    """The risk owner who may decide on the system, or the CISO, revokes an approval with a motivation:
    a new record, and the system needs review. NotFound, NotAllowed; RuleViolation when the decision is
    a rejection, no longer the system's current decision, already revoked, or the motivation is empty."""
    approval = get_approval(session, approval_id)
    system = get_system(session, approval.system_id, for_update=True)
    if not permissions.can_revoke(actor.user, system):
        raise NotAllowed(_l("Only the system's risk owner or the CISO revokes a decision."))
    if approval.decision not in APPROVING:
        raise RuleViolation(_l("Only an approval can be revoked, not a rejection."), code="not_revocable")
    revoked = session.execute(
        select(ApprovalRevocation.id).where(ApprovalRevocation.approval_id == approval.id)
    )
    if revoked.first() is not None:
        raise RuleViolation(_l("The decision is already revoked."), code="already_revoked")
    if system.current_approval_id != approval.id:
        raise RuleViolation(
            _l("A later decision has replaced this one; only the current one can be revoked."),
            code="superseded",
        )
    motivation = (motivation or "").strip()
    if not motivation or len(motivation) > MOTIVATION_MAX:
        raise RuleViolation(
            _l("Give the motivation for the revocation."),
            fields={"motivation": [_l("Give the motivation for the revocation.")]},
        )
    rev = ApprovalRevocation(
        approval_id=approval.id, motivation=motivation, revoked_by_id=actor.user_id, revoked_at=actor.at()
    )
    session.add(rev)
    session.flush()
    approval.revocation = (
        rev  # the loaded decision shows it at once (no UPDATE: the key is on the revocation)
    )
    audit.record(session, actor, "approval", approval.id, "revoke", None, audit.columns_of(rev))
    return rev


# ------------------------------------------------------------------ conditions


def _condition(session: Session, condition_id: int) -> tuple[ApprovalCondition, Approval, System]:
    cond = session.get(ApprovalCondition, condition_id)
    if cond is None:
        raise NotFound(_l("Condition %(id)s does not exist.", id=condition_id))
    approval = session.get(Approval, cond.approval_id)
    return cond, approval, get_system(session, approval.system_id)


def can_follow_up(user: User | None, system: System, cond: ApprovalCondition) -> bool:
    """The system owner (or an admin), the risk owner, or the person responsible for the condition."""
    if user is None:
        return False
    return (
        permissions.can_edit_system(user, system)
        or user.id == system.risk_owner_id
        or user.id == cond.responsible_id
    )


def fulfil_condition(
    session: Session,
    actor: Actor,
    condition_id: int,
    *,
    fulfilled_on: date | None = None,
    note: str = "",
    version: int | None = None,
) -> ApprovalCondition:
    """Mark a condition fulfilled with a date (not in the future) and a note. NotFound, NotAllowed;
    Conflict on a stale version; RuleViolation when already fulfilled or the date is in the future."""
    from riskreg.errors import Conflict

    cond, approval, system = _condition(session, condition_id)
    if not can_follow_up(actor.user, system, cond):
        raise NotAllowed(_l("Only the system's owners or the person responsible follow up a condition."))
    if version is not None and version != cond.version:
        raise Conflict(_l("The condition has changed meanwhile."), fields={"version": [str(cond.version)]})
    if cond.status == ConditionStatus.FULFILLED:
        raise RuleViolation(_l("The condition is already fulfilled."), code="already_fulfilled")
    day = fulfilled_on or actor.today()
    problems: dict[str, list] = {}
    if day > actor.today():
        problems["fulfilled_on"] = [_l("The date cannot be in the future.")]
    if len(note or "") > MOTIVATION_MAX:
        problems["note"] = [_l("At most 10000 characters.")]
    if problems:
        raise RuleViolation(_l("The input is invalid."), fields=problems)
    before = audit.columns_of(cond)
    cond.status, cond.fulfilled_on, cond.note = ConditionStatus.FULFILLED, day, (note or "").strip()
    session.flush()
    b, a = audit.changed(before, audit.columns_of(cond))
    audit.record(session, actor, "approval_condition", cond.id, "fulfil", b, a)
    return cond


def reopen_condition(
    session: Session, actor: Actor, condition_id: int, *, note: str = ""
) -> ApprovalCondition:
    """The risk owner (or the CISO) reopens a condition whose fulfilment does not hold."""
    cond, approval, system = _condition(session, condition_id)
    if not permissions.can_revoke(actor.user, system):
        raise NotAllowed(_l("Only the system's risk owner or the CISO reopens a condition."))
    if cond.status != ConditionStatus.FULFILLED:
        raise RuleViolation(_l("The condition is open already."), code="already_open")
    before = audit.columns_of(cond)
    cond.status, cond.fulfilled_on, cond.note = ConditionStatus.OPEN, None, (note or "").strip()
    session.flush()
    b, a = audit.changed(before, audit.columns_of(cond))
    audit.record(session, actor, "approval_condition", cond.id, "reopen", b, a)
    return cond


def _revoked(approval=Approval) -> ColumnElement[bool]:
    return exists().where(ApprovalRevocation.approval_id == approval.id)


def conditions_in_force() -> ColumnElement[bool]:
    """Conditions that still bind (joined with their approval and the system it is current for): the
    decision is not revoked and the system not decommissioned."""
    return and_(~_revoked(), System.lifecycle != Lifecycle.DECOMMISSIONED)


def overdue_conditions_stmt(today: date, clause: ColumnElement[bool] | None = None):
    """Open conditions past their due date, of decisions in force (current, not revoked, system not
    decommissioned), oldest due first. ``clause`` narrows the systems (e.g. ``report_scope(user)``)."""
    return (
        select(
            ApprovalCondition.id.label("condition_id"),
            ApprovalCondition.text,
            ApprovalCondition.due_on,
            ApprovalCondition.responsible_id,
            User.name.label("responsible_name"),
            Approval.id.label("approval_id"),
            Approval.reference,
            System.id.label("system_id"),
            System.name.label("system_name"),
            System.risk_owner_id,
            System.system_owner_id,
        )
        .join(Approval, Approval.id == ApprovalCondition.approval_id)
        .join(System, System.current_approval_id == Approval.id)
        .outerjoin(User, User.id == ApprovalCondition.responsible_id)
        .where(
            ApprovalCondition.status == ConditionStatus.OPEN,
            ApprovalCondition.due_on < today,
            conditions_in_force(),
            clause if clause is not None else true(),
        )
        .order_by(ApprovalCondition.due_on, ApprovalCondition.id)
    )


def overdue_conditions(
    session: Session, today: date, clause: ColumnElement[bool] | None = None, limit: int | None = None
) -> list:
    """Rows of overdue conditions (see ``overdue_conditions_stmt``) for start pages and reports."""
    stmt = overdue_conditions_stmt(today, clause)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt))


def count_overdue_conditions(session: Session, today: date, clause: ColumnElement[bool] | None = None) -> int:
    stmt = overdue_conditions_stmt(today, clause).order_by(None)
    return session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


# ------------------------------------------------------------------ what changed since a decision


@dataclass(frozen=True)
class Change:
    kind: str
    message: Any
    needs_review: bool  # the change puts the approval back to review (riskreg.lifecycle's rule)
    at: datetime | date | None = None


def changes_since(session: Session, approval: Approval, system: System, today: date) -> list[Change]:
    """What changed since the decision: a revocation, a later decision, major changes, a new
    classification (higher level or not), newer versions of the records it rests on, and its validity."""
    changes: list[Change] = []
    if approval.revocation is not None:
        changes.append(
            Change(
                "revoked",
                _l("The decision was revoked: %(why)s", why=approval.revocation.motivation),
                True,
                approval.revocation.revoked_at,
            )
        )
    if system.current_approval_id != approval.id:
        later = session.get(Approval, system.current_approval_id) if system.current_approval_id else None
        changes.append(
            Change(
                "superseded",
                _l("A later decision replaces this one: %(ref)s.", ref=later.reference if later else "–"),
                False,
                later.decided_at if later else None,
            )
        )
    for mc in session.execute(
        select(MajorChange)
        .where(MajorChange.system_id == system.id, MajorChange.recorded_at > approval.decided_at)
        .order_by(MajorChange.recorded_at)
    ).scalars():
        changes.append(
            Change(
                "major_change",
                _l("Major change recorded: %(what)s", what=mc.description),
                True,
                mc.recorded_at,
            )
        )
    if system.current_classification_id != approval.classification_id and system.current_classification_id:
        c = session.get(Classification, system.current_classification_id)
        higher = (
            c.confidentiality > approval.confidentiality
            or c.integrity > approval.integrity
            or c.availability > approval.availability
        )
        was = f"{approval.confidentiality}-{approval.integrity}-{approval.availability}"
        msg = (
            _l(
                "A classification with a higher level was finalised: %(new)s "
                "(the decision rests on %(old)s).",
                new=c.profile,
                old=was,
            )
            if higher
            else _l(
                "A new classification was finalised: %(new)s (the decision rests on %(old)s).",
                new=c.profile,
                old=was,
            )
        )
        changes.append(Change("classification", msg, higher, c.finalised_at))
    for kind, current, decided, message in (
        (
            "risk_analysis",
            system.current_risk_analysis_id,
            approval.risk_analysis_id,
            _l("The risk analysis the decision rests on has been replaced."),
        ),
        (
            "dpia_screening",
            system.current_screening_id,
            approval.screening_id,
            _l("The DPIA screening the decision rests on has been replaced."),
        ),
        ("dpia", system.current_dpia_id, approval.dpia_id, _l("The DPIA differs from the one decided on.")),
        ("sla", system.current_sla_id, approval.sla_id, _l("The SLA differs from the one decided on.")),
    ):
        if current != decided:
            changes.append(Change(kind, message, True))
    if approval.decision in APPROVING and approval.valid_until is not None:
        if approval.valid_until < today:
            changes.append(
                Change(
                    "expired",
                    _l("The approval expired on %(date)s.", date=approval.valid_until.isoformat()),
                    False,
                )
            )
        elif approval.valid_until <= today + timedelta(days=int(config("EXPIRING_DAYS"))):
            changes.append(
                Change(
                    "expiring",
                    _l("The approval expires on %(date)s.", date=approval.valid_until.isoformat()),
                    False,
                )
            )
    return changes


def approval_state(approval: Approval, system: System, today: date, session: Session | None = None) -> str:
    """One word for a decision's standing: revoked, superseded, rejected, expired, needs_review (a change
    since the decision, as riskreg.lifecycle reads it; asked of the database when ``session`` is given),
    expiring or in_force."""
    if approval.revocation is not None:
        return "revoked"
    if system.current_approval_id != approval.id:
        return "superseded"
    if approval.decision == Decision.REJECTED:
        return "rejected"
    if approval.valid_until is not None and approval.valid_until < today:
        return "expired"
    if session is not None and lifecycle.stage_of(session, system.id, today) == Stage.NEEDS_REVIEW:
        return "needs_review"
    if approval.valid_until is not None and approval.valid_until <= today + timedelta(
        days=int(config("EXPIRING_DAYS"))
    ):
        return "expiring"
    return "in_force"


def history(session: Session, system_id: int):
    """A system's decisions, newest first (a statement, for paging)."""
    return (
        select(Approval)
        .where(Approval.system_id == system_id)
        .order_by(Approval.decided_at.desc(), Approval.id.desc())
        .options(
            selectinload(Approval.conditions),
            selectinload(Approval.accepted_risks),
            selectinload(Approval.revocation),
        )
    )


def requests_of(session: Session, system_id: int):
    return (
        select(ApprovalRequest)
        .where(ApprovalRequest.system_id == system_id)
        .order_by(ApprovalRequest.requested_at.desc(), ApprovalRequest.id.desc())
    )


def high_residual_risks(session: Session, system: System) -> list[Risk]:
    """The risks of the current analysis whose residual value reaches the acceptance threshold."""
    records = content.Records(session, system)
    threshold = content.acceptance_threshold()
    return sorted(
        (r for r in records.risks if r.effective_residual_value >= threshold),
        key=lambda r: (-r.effective_residual_value, r.position, r.id),
    )
