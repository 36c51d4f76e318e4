"""The content a decision rests on, frozen at the moment of the decision, and its SHA-256.

A decision records the exact versions of the classification, risk analysis, screening/DPIA and SLA it
rests on (their ids in columns) and, in ``Approval.snapshot``, their content as plain JSON. The checksum
is SHA-256 over the canonical form of that JSON (sorted keys, no spaces, UTF-8), so a printed copy (which
shows the checksum) can be compared with the register, and the register with itself."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from riskreg.config import DEFAULTS
from riskreg.models import (
    Classification,
    Dpia,
    DpiaScreening,
    OrgUnit,
    Risk,
    RiskAnalysis,
    Sla,
    System,
    User,
)

SNAPSHOT_FORMAT = 1


def canonical(content: dict[str, Any]) -> bytes:
    """The canonical bytes of a snapshot: sorted keys, no insignificant spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    return value


def setting(key: str):
    return current_app.config[key] if has_app_context() else DEFAULTS[key]


def band(value: int | None) -> str | None:
    """The band code (low, medium, high, extreme) of a risk value, per configuration."""
    if value is None:
        return None
    for upper, code, _label, _colour in setting("RISK_BANDS"):
        if value <= upper:
            return code
    return setting("RISK_BANDS")[-1][1]


def acceptance_threshold() -> int:
    return int(setting("ACCEPTANCE_THRESHOLD"))


def _person(user: User | None) -> dict | None:
    return {"id": user.id, "name": user.name, "email": user.email} if user else None


class Records:
    """The records a decision on one system rests on, loaded with what their content needs."""

    def __init__(self, session: Session, system: System):
        self.session, self.system = session, system
        self.classification = self._one(
            Classification, system.current_classification_id, selectinload(Classification.information_sets)
        )
        self.risk_analysis = self._one(
            RiskAnalysis,
            system.current_risk_analysis_id,
            selectinload(RiskAnalysis.risks).selectinload(Risk.actions),
        )
        self.screening = self._one(DpiaScreening, system.current_screening_id)
        self.dpia = self._one(Dpia, system.current_dpia_id)
        self.sla = self._one(Sla, system.current_sla_id)

    def _one(self, model, ident, *options):
        if ident is None:
            return None
        return self.session.execute(
            select(model).where(model.id == ident).options(*options)
        ).scalar_one_or_none()

    @property
    def risks(self) -> list[Risk]:
        return list(self.risk_analysis.risks) if self.risk_analysis else []


def _users(session: Session, ids: set[int | None]) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()}


def build(
    session: Session,
    records: Records,
    *,
    reference: str,
    decision: str,
    motivation: str,
    valid_until: date | None,
    decided_at: datetime,
    decided_by: User,
    conditions: list[dict],
    accepted: dict[int, str],
) -> dict[str, Any]:
    """The decision's content as plain JSON: what the PDF prints and the checksum covers."""
    system = records.system
    people = {system.system_owner_id, system.risk_owner_id}
    people |= {c.get("responsible_id") for c in conditions}
    people |= {a.responsible_id for r in records.risks for a in r.actions}
    users = _users(session, people)
    unit = session.get(OrgUnit, system.org_unit_id)
    return {
        "format": SNAPSHOT_FORMAT,
        "reference": reference,
        "decision": decision,
        "motivation": motivation,
        "valid_until": _plain(valid_until),
        "decided_at": _plain(decided_at),
        "decided_by": _person(decided_by),
        "system": {
            "id": system.id,
            "name": system.name,
            "description": system.description,
            "org_unit": unit.name if unit else None,
            "supplier": system.supplier,
            "hosting": _plain(system.hosting),
            "lifecycle": _plain(system.lifecycle),
            "criticality": _plain(system.criticality),
            "priority_list": bool(system.priority_list),
            "personal_data": _plain(system.personal_data),
            "special_categories": bool(system.special_categories),
            "system_owner": _person(users.get(system.system_owner_id)),
            "risk_owner": _person(users.get(system.risk_owner_id)),
        },
        "classification": _classification(records.classification),
        "risk_analysis": _risk_analysis(records.risk_analysis, users, accepted),
        "screening": _screening(records.screening),
        "dpia": _dpia(records.dpia),
        "sla": _sla(records.sla),
        "conditions": [
            {
                "text": c["text"],
                "due_on": _plain(c["due_on"]),
                "responsible": _person(users.get(c.get("responsible_id"))),
            }
            for c in conditions
        ],
        "accepted_risks": [
            {
                "risk_id": r.id,
                "title": r.title,
                "aspect": _plain(r.aspect),
                "residual_value": r.effective_residual_value,
                "residual_band": band(r.effective_residual_value),
                "motivation": accepted[r.id],
            }
            for r in records.risks
            if r.id in accepted
        ],
        "acceptance_threshold": acceptance_threshold(),
    }


def _classification(c: Classification | None) -> dict | None:
    if c is None:
        return None
    return {
        "id": c.id,
        "number": c.number,
        "finalised_at": _plain(c.finalised_at),
        "confidentiality": c.confidentiality,
        "integrity": c.integrity,
        "availability": c.availability,
        "profile": c.profile,
        "motivation": c.motivation,
        "confidentiality_motivation": c.confidentiality_motivation,
        "integrity_motivation": c.integrity_motivation,
        "availability_motivation": c.availability_motivation,
        "information_sets": [
            {
                "name": s.name,
                "confidentiality": s.confidentiality,
                "integrity": s.integrity,
                "availability": s.availability,
            }
            for s in c.information_sets
        ],
    }


def _risk_analysis(ra: RiskAnalysis | None, users: dict[int, User], accepted: dict[int, str]) -> dict | None:
    if ra is None:
        return None
    return {
        "id": ra.id,
        "number": ra.number,
        "analysed_on": _plain(ra.analysed_on),
        "finalised_at": _plain(ra.finalised_at),
        "participants": ra.participants,
        "scope": ra.scope,
        "classification_id": ra.classification_id,
        "risks": [
            {
                "id": r.id,
                "title": r.title,
                "aspect": _plain(r.aspect),
                "likelihood": r.likelihood,
                "consequence": r.consequence,
                "value": r.value,
                "band": band(r.value),
                "residual_likelihood": r.residual_likelihood,
                "residual_consequence": r.residual_consequence,
                "residual_value": r.effective_residual_value,
                "residual_band": band(r.effective_residual_value),
                "treatment": _plain(r.treatment),
                "accepted": r.id in accepted,
                "actions": [
                    {
                        "description": a.description,
                        "due_on": _plain(a.due_on),
                        "status": _plain(a.status),
                        "responsible": (users[a.responsible_id].name if a.responsible_id in users else None),
                    }
                    for a in r.actions
                ],
            }
            for r in ra.risks
        ],
    }


def _screening(s: DpiaScreening | None) -> dict | None:
    if s is None:
        return None
    return {
        "id": s.id,
        "criteria": s.criteria,
        "dpia_required": bool(s.dpia_required),
        "require_anyway": bool(s.require_anyway),
        "motivation": s.motivation,
        "created_at": _plain(s.created_at),
    }


def _dpia(d: Dpia | None) -> dict | None:
    if d is None:
        return None
    return {
        "id": d.id,
        "status": _plain(d.status),
        "finalised_at": _plain(d.finalised_at),
        "opinion": d.opinion,
        "opinion_at": _plain(d.opinion_at),
        "high_residual_risk": bool(d.high_residual_risk),
        "prior_consultation_required": bool(d.prior_consultation_required),
    }


def _sla(s: Sla | None) -> dict | None:
    if s is None:
        return None
    return {
        "id": s.id,
        "supplier": s.supplier,
        "agreement_ref": s.agreement_ref,
        "availability_target": _plain(s.availability_target),
        "service_hours": s.service_hours,
        "rto_hours": _plain(s.rto_hours),
        "rpo_hours": _plain(s.rpo_hours),
        "valid_from": _plain(s.valid_from),
        "valid_to": _plain(s.valid_to),
    }
