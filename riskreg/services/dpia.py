"""Förhandsbedömning (DPIA screening) and konsekvensbedömning (DPIA, GDPR art. 35).

Rules (DESIGN.md, issue 4):
- the screening ticks the nine EDPB/WP248 criteria; two or more require a DPIA; fewer may still
  require one with a motivation (``require_anyway``); the newest screening is the system's current one;
- the DPIA holds what art. 35.7 requires: description and purposes, legal basis, necessity and
  proportionality, risks to the data subjects, measures — all required;
- the DPO alone gives the opinion, on the completed draft; changing the text afterwards clears the
  opinion (it was given on other content); whether prior consultation (art. 36) is needed is recorded;
- finalising needs the opinion (422 without) and makes the DPIA the system's current one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import NotAllowed, RuleViolation
from riskreg.models import Dpia, DpiaScreening, ScreeningCriterion
from riskreg.models.codes import DpiaCriterion, RecordStatus
from riskreg.services import filing

REQUIRED_CRITERIA = 2
CONTENT_FIELDS = ("description", "purposes", "legal_basis", "necessity", "risks", "measures")
TEXT_MAX = 20000


# ------------------------------------------------------------------ screening


def get_screening(session: Session, screening_id: int) -> DpiaScreening:
    return filing.load(
        session, DpiaScreening, screening_id, _l("DPIA screening %(id)s does not exist.", id=screening_id)
    )


def screening_snapshot(s: DpiaScreening) -> dict[str, Any]:
    return {**audit.columns_of(s), "criteria": s.criteria}


def screen(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    criteria: Iterable[str],
    motivation: str = "",
    require_anyway: bool = False,
) -> DpiaScreening:
    """Record a screening; ``dpia_required`` = two or more criteria, or ``require_anyway`` with a
    motivation. It becomes the system's current screening. Raises NotFound, NotAllowed,
    RuleViolation (unknown criterion codes, require_anyway without motivation)."""
    system = filing.writable_system(session, actor, system_id)
    problems = filing.Problems()
    codes: list[DpiaCriterion] = []
    if isinstance(criteria, str) or not isinstance(criteria, Iterable):
        problems.add("criteria", _l("A list of criterion codes."))
        criteria = []
    for i, raw in enumerate(criteria):
        code = problems.code(f"criteria.{i}", raw, DpiaCriterion)
        if code is not None and code not in codes:
            codes.append(code)
    motivation = problems.text("motivation", motivation, 10000)
    if not isinstance(require_anyway, bool):
        problems.add("require_anyway", _l("Not a valid boolean."))
        require_anyway = False
    if require_anyway and len(codes) < REQUIRED_CRITERIA and not motivation:
        problems.add(
            "motivation", _l("Motivate why a DPIA is required although fewer than two criteria apply.")
        )
    problems.raise_if_any(_l("The screening is invalid."))
    codes.sort(key=lambda c: c.value)  # the order they are read back in
    screening = DpiaScreening(
        system_id=system.id,
        motivation=motivation,
        require_anyway=require_anyway,
        dpia_required=len(codes) >= REQUIRED_CRITERIA or require_anyway,
        created_by_id=actor.user_id,
        created_at=actor.at(),
        criteria_rows=[ScreeningCriterion(criterion=c) for c in codes],
    )
    session.add(screening)
    session.flush()
    system.current_screening_id = screening.id
    session.flush()
    audit.record(
        session, actor, "dpia_screening", screening.id, "create", None, screening_snapshot(screening)
    )
    return screening


def screenings_statement(system_id: int):
    return (
        select(DpiaScreening)
        .where(DpiaScreening.system_id == system_id)
        .order_by(DpiaScreening.created_at.desc(), DpiaScreening.id.desc())
    )


# ------------------------------------------------------------------ DPIA


def get(session: Session, dpia_id: int) -> Dpia:
    return filing.load(session, Dpia, dpia_id, _l("DPIA %(id)s does not exist.", id=dpia_id))


def get_readable(session: Session, actor: Actor, dpia_id: int) -> Dpia:
    record = get(session, dpia_id)
    filing.require_read(actor, filing.system(session, record.system_id))
    return record


def dpias_statement(system_id: int):
    return select(Dpia).where(Dpia.system_id == system_id).order_by(Dpia.created_at.desc(), Dpia.id.desc())


def snapshot(d: Dpia) -> dict[str, Any]:
    return audit.columns_of(d, exclude=("version",))


def _check_content(values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    problems = filing.Problems()
    clean: dict[str, Any] = {}
    for key in CONTENT_FIELDS:
        if partial and key not in values:
            continue
        clean[key] = problems.text(key, values.get(key), TEXT_MAX, required=True)
    if "high_residual_risk" in values or not partial:
        flag = values.get("high_residual_risk", False)
        if not isinstance(flag, bool):
            problems.add("high_residual_risk", _l("Not a valid boolean."))
        clean["high_residual_risk"] = bool(flag)
    problems.raise_if_any(_l("The DPIA is incomplete."))
    return clean


def create(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    description: str,
    purposes: str,
    legal_basis: str,
    necessity: str,
    risks: str,
    measures: str,
    high_residual_risk: bool = False,
) -> Dpia:
    """Draft a DPIA (all of art. 35.7's parts required). It refers to the system's current screening.
    Raises NotFound, NotAllowed, RuleViolation (a part missing)."""
    system = filing.writable_system(session, actor, system_id)
    clean = _check_content(
        {
            "description": description,
            "purposes": purposes,
            "legal_basis": legal_basis,
            "necessity": necessity,
            "risks": risks,
            "measures": measures,
            "high_residual_risk": high_residual_risk,
        }
    )
    record = Dpia(
        system_id=system.id,
        screening_id=system.current_screening_id,
        status=RecordStatus.DRAFT,
        prior_consultation_required=clean["high_residual_risk"],
        created_by_id=actor.user_id,
        created_at=actor.at(),
        **clean,
    )
    session.add(record)
    session.flush()
    audit.record(session, actor, "dpia", record.id, "create", None, snapshot(record))
    return record


def _refuse_final(record: Dpia) -> None:
    if record.status == RecordStatus.FINAL:
        raise RuleViolation(
            _l("A finalised DPIA never changes; draft a new one instead."),
            fields={"status": [_l("Already finalised.")]},
            code="finalised",
        )


def update(session: Session, actor: Actor, dpia_id: int, *, version: int | None, **values: Any) -> Dpia:
    """Change a draft. A change of its content clears the DPO's opinion, which was given on the text
    as it was. Raises NotFound, NotAllowed, Conflict (stale version), RuleViolation."""
    record = get(session, dpia_id)
    filing.require_write(actor, filing.system(session, record.system_id))
    _refuse_final(record)
    filing.check_version(record, version)
    clean = _check_content(values, partial=True)
    before = snapshot(record)
    changed = any(getattr(record, k) != v for k, v in clean.items())
    for key, value in clean.items():
        setattr(record, key, value)
    if changed and record.opinion is not None:
        record.opinion, record.opinion_by_id, record.opinion_at = None, None, None
    if record.opinion is None:  # until the DPO says otherwise, high residual risk means consultation
        record.prior_consultation_required = record.high_residual_risk
    flag_modified(record, "description")
    session.flush()
    b, a = audit.changed(before, snapshot(record))
    audit.record(session, actor, "dpia", record.id, "update", b, a)
    return record


def give_opinion(
    session: Session,
    actor: Actor,
    dpia_id: int,
    *,
    opinion: str,
    prior_consultation_required: bool | None = None,
    version: int | None = None,
) -> Dpia:
    """The DPO's opinion (yttrande) on the completed draft, and whether prior consultation with IMY is
    needed (by default: when high residual risk remains). Raises NotFound, NotAllowed (not the DPO),
    Conflict, RuleViolation (finalised, no text)."""
    record = get(session, dpia_id)
    if not permissions.can_give_opinion(actor.user, record):
        raise NotAllowed(_l("Only the data protection officer gives the opinion on a DPIA."))
    _refuse_final(record)
    filing.check_version(record, version)
    problems = filing.Problems()
    opinion = problems.text("opinion", opinion, TEXT_MAX, required=True)
    if prior_consultation_required is not None and not isinstance(prior_consultation_required, bool):
        problems.add("prior_consultation_required", _l("Not a valid boolean."))
    problems.raise_if_any(_l("The opinion is invalid."))
    before = {
        k: audit.plain(getattr(record, k))
        for k in ("opinion", "opinion_by_id", "prior_consultation_required")
    }
    record.opinion = opinion
    record.opinion_by_id = actor.user_id
    record.opinion_at = actor.at()
    record.prior_consultation_required = (
        record.high_residual_risk if prior_consultation_required is None else prior_consultation_required
    )
    session.flush()
    audit.record(
        session,
        actor,
        "dpia",
        record.id,
        "opinion",
        before,
        {
            "opinion": opinion,
            "opinion_by_id": actor.user_id,
            "prior_consultation_required": record.prior_consultation_required,
        },
    )
    return record


def finalise(session: Session, actor: Actor, dpia_id: int, *, version: int | None = None) -> Dpia:
    """Finalise a DPIA that carries the DPO's opinion; it becomes the system's current DPIA.
    Raises NotFound, NotAllowed, Conflict, RuleViolation (already final, no opinion)."""
    record = get(session, dpia_id)
    system = filing.writable_system(session, actor, record.system_id)
    _refuse_final(record)
    filing.check_version(record, version)
    if not record.opinion:
        raise RuleViolation(
            _l("The data protection officer's opinion is needed before the DPIA is finalised."),
            fields={"opinion": [_l("No opinion given yet.")]},
            code="opinion_missing",
        )
    record.status = RecordStatus.FINAL
    record.finalised_at = actor.at()
    record.finalised_by_id = actor.user_id
    session.flush()
    system.current_dpia_id = record.id
    session.flush()
    audit.record(
        session,
        actor,
        "dpia",
        record.id,
        "finalise",
        {"status": RecordStatus.DRAFT.value},
        {"status": record.status.value, "finalised_at": record.finalised_at},
    )
    return record
