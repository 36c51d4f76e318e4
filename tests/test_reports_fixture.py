"""A small region for the coverage report tests, built directly through the models (the filing and
approval services are written elsewhere), setting ``System.current_*_id`` and ``open_request_id`` the way
those services do (riskreg/lifecycle.py). Every date is relative to the real today ``T`` (the API's clock),
so the expected figures below, worked out by hand from this table, hold on any day.

    system unit crit lifecycle             owners    records → stage
    S1     N    A    in_operation          so1, –    a draft classification only → not_started
    S2     N    B    in_operation          so1, ro1  classified (T-48)
    S3     N    B    in_operation          so1, ro1  + risk analysis (late actions), screening → risk_analysed
    S4     N    C    in_operation          so1, ro2  + screening requiring a DPIA, none → dpia_pending
    S5     S    A    in_operation, prio    so2, ro1  approved T-75 until T+400 (2 classifications) → approved
    S6     S    B    in_operation          so2, ro2  DPIA done; with conditions until T+30 → expiring
    S7     S    C    in_operation, prio    so1, ro1  approved T-31 until T-1 → expired
    S8     S    D    in_operation          so2, ro1  approved T-24, major change T-15 → needs_review
    S9     N    –    in_operation          so1, ro2  approved T-17, revoked T-6 → needs_review
    S10    N    B    in_operation          so1, ro1  approved T-12, again T-5; open request → awaiting
    S11    S    B    being_decommissioned  so2, ro1  rejected T-10 → rejected
    S12    N    A    decommissioned        so1, ro1  classified T-48 → decommissioned
    S13    S    B    planned               so2, ro2  nothing → not_started
    S14    N    B    in_operation          –, –      nothing → not_started

PROGRAMME_START is set to T-52 so that the eight weeks end on T-46, T-39, T-32, T-25, T-18, T-11, T-4, T.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from riskreg import lifecycle
from riskreg.models import (
    Approval,
    ApprovalCondition,
    ApprovalRequest,
    ApprovalRevocation,
    Classification,
    Dpia,
    DpiaScreening,
    MajorChange,
    Risk,
    RiskAction,
    RiskAnalysis,
    Sla,
    SlaMeasurement,
)
from riskreg.models.codes import ActionStatus, ConditionStatus, Decision, RecordStatus, RequestStatus
from riskreg.services.reports import month_start


def real_today() -> date:
    return datetime.now(UTC).date()


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class Region:
    today: date
    units: dict
    users: dict
    systems: dict
    ids: dict = field(default_factory=dict)

    def names(self, *keys: str) -> set[str]:
        return {self.systems[k].name for k in keys}

    def id(self, key: str) -> int:
        return self.systems[key].id


class Builder:
    def __init__(self, session, today: date):
        self.s, self.T, self.n = session, today, 0

    def day(self, offset: int) -> date:
        return self.T + timedelta(days=offset)

    def add(self, obj):
        self.s.add(obj)
        self.s.flush()
        return obj

    def classify(self, system, offset, levels=(2, 2, 2), final=True):
        k, r, t = levels
        number = len(self.s.query(Classification).filter_by(system_id=system.id).all()) + 1
        c = self.add(
            Classification(
                system_id=system.id,
                number=number,
                status=RecordStatus.FINAL if final else RecordStatus.DRAFT,
                confidentiality=k,
                integrity=r,
                availability=t,
                declared_confidentiality=k,
                declared_integrity=r,
                declared_availability=t,
                created_at=at(self.day(offset)),
                finalised_at=at(self.day(offset)) if final else None,
            )
        )
        if final:
            system.current_classification_id = c.id
        return c

    def analyse(self, system, offset, risks, actions=()):
        """risks: (likelihood, consequence, residual likelihood, residual consequence or None);
        actions: (risk index, due offset, status)."""
        ra = self.add(
            RiskAnalysis(
                system_id=system.id,
                number=1,
                status=RecordStatus.FINAL,
                analysed_on=self.day(offset),
                classification_id=system.current_classification_id,
                created_at=at(self.day(offset)),
                finalised_at=at(self.day(offset)),
            )
        )
        rows = []
        for i, (lk, cq, rl, rc) in enumerate(risks):
            rows.append(
                self.add(
                    Risk(
                        analysis_id=ra.id,
                        position=i,
                        title=f"Risk {i}",
                        aspect="T",
                        likelihood=lk,
                        consequence=cq,
                        residual_likelihood=rl,
                        residual_consequence=rc,
                    )
                )
            )
        for index, due, status in actions:
            self.add(
                RiskAction(
                    risk_id=rows[index].id,
                    description="Åtgärd",
                    due_on=self.day(due),
                    status=status,
                    completed_on=self.day(due) if status == ActionStatus.DONE else None,
                )
            )
        system.current_risk_analysis_id = ra.id
        return ra

    def screen(self, system, offset, required=False):
        sc = self.add(
            DpiaScreening(system_id=system.id, dpia_required=required, created_at=at(self.day(offset)))
        )
        system.current_screening_id = sc.id
        return sc

    def dpia(self, system, offset):
        d = self.add(
            Dpia(
                system_id=system.id,
                screening_id=system.current_screening_id,
                status=RecordStatus.FINAL,
                description="d",
                purposes="p",
                legal_basis="l",
                necessity="n",
                risks="r",
                measures="m",
                opinion="Inga invändningar",
                opinion_at=at(self.day(offset)),
                created_at=at(self.day(offset)),
                finalised_at=at(self.day(offset)),
            )
        )
        system.current_dpia_id = d.id
        return d

    def sla(self, system, measurements=()):
        sla = self.add(
            Sla(system_id=system.id, supplier="Leverantör AB", availability_target=Decimal("99.50"))
        )
        for period, availability in measurements:
            self.add(
                SlaMeasurement(
                    sla_id=sla.id,
                    system_id=system.id,
                    period=period,
                    availability=Decimal(availability),
                    target=Decimal("99.50"),
                )
            )
        system.current_sla_id = sla.id
        return sla

    def decide(self, system, decider, offset, decision=Decision.APPROVED, valid=None, conditions=()):
        self.n += 1
        c = self.s.get(Classification, system.current_classification_id)
        a = self.add(
            Approval(
                system_id=system.id,
                reference=f"DG-2099-{self.n:04d}",
                year=2099,
                sequence=self.n,
                decision=decision,
                motivation="Motivering",
                valid_until=self.day(valid) if valid is not None else None,
                decided_by_id=decider.id,
                decided_at=at(self.day(offset)),
                classification_id=c.id,
                confidentiality=c.confidentiality,
                integrity=c.integrity,
                availability=c.availability,
                risk_analysis_id=system.current_risk_analysis_id,
                screening_id=system.current_screening_id,
                dpia_id=system.current_dpia_id,
                sla_id=system.current_sla_id,
                snapshot={},
                content_sha256="0" * 64,
            )
        )
        for due, status in conditions:
            done = status == ConditionStatus.FULFILLED
            self.add(
                ApprovalCondition(
                    approval_id=a.id,
                    text="Villkor",
                    due_on=self.day(due),
                    status=status,
                    fulfilled_on=self.day(due) if done else None,
                )
            )
        system.current_approval_id = a.id
        return a


def build_region(make, session, today: date | None = None) -> Region:
    T = today or real_today()
    b = Builder(session, T)
    north, south = make.org_unit("Förvaltning Norr"), make.org_unit("Förvaltning Söder")
    users = {
        "so1": make.user("system_owner", name="Sara Ägare"),
        "so2": make.user("system_owner", name="Sven Ägare"),
        "ro1": make.user("risk_owner", name="Rut Riskägare"),
        "ro2": make.user("risk_owner", name="Rolf Riskägare"),
        "ciso": make.user("ciso"),
        "dpo": make.user("dpo"),
        "auditor": make.user("auditor"),
        "admin": make.admin(),
    }
    U = users
    spec = {  # key: (unit, criticality, lifecycle, priority, system owner, risk owner)
        "S1": (north, "A", "in_operation", False, "so1", None),
        "S2": (north, "B", "in_operation", False, "so1", "ro1"),
        "S3": (north, "B", "in_operation", False, "so1", "ro1"),
        "S4": (north, "C", "in_operation", False, "so1", "ro2"),
        "S5": (south, "A", "in_operation", True, "so2", "ro1"),
        "S6": (south, "B", "in_operation", False, "so2", "ro2"),
        "S7": (south, "C", "in_operation", True, "so1", "ro1"),
        "S8": (south, "D", "in_operation", False, "so2", "ro1"),
        "S9": (north, None, "in_operation", False, "so1", "ro2"),
        "S10": (north, "B", "in_operation", False, "so1", "ro1"),
        "S11": (south, "B", "being_decommissioned", False, "so2", "ro1"),
        "S12": (north, "A", "decommissioned", False, "so1", "ro1"),
        "S13": (south, "B", "planned", False, "so2", "ro2"),
        "S14": (north, "B", "in_operation", False, None, None),
    }
    systems = {}
    for key, (unit, crit, lc, prio, so, ro) in spec.items():
        systems[key] = make.system(
            name=f"Rapportsystem {key}",
            org_unit_id=unit.id,
            criticality=crit,
            lifecycle=lc,
            priority_list=prio,
            system_owner=U[so] if so else None,
            risk_owner=U[ro] if ro else None,
        )
    S = systems
    # S1: a draft only
    b.classify(S["S1"], -5, final=False)
    # S2: classified
    b.classify(S["S2"], -48)
    # S3: analysed; two open actions past due, one done past due, one open not yet due
    b.classify(S["S3"], -41)
    b.analyse(
        S["S3"],
        -40,
        [(3, 4, 2, 2), (4, 4, None, None)],
        [
            (0, -10, ActionStatus.PLANNED),
            (1, -2, ActionStatus.IN_PROGRESS),
            (0, -10, ActionStatus.DONE),
            (1, 10, ActionStatus.IN_PROGRESS),
        ],
    )
    b.screen(S["S3"], -39)
    # S4: a DPIA is required and not done
    b.classify(S["S4"], -41)
    b.analyse(S["S4"], -40, [(1, 1, None, None)])
    b.screen(S["S4"], -39, required=True)
    # S5: first classification T-80, the current one T-3 (same levels); approved until T+400; SLA
    b.classify(S["S5"], -80)
    b.analyse(S["S5"], -79, [(2, 3, 1, 2)])
    b.screen(S["S5"], -78)
    b.classify(S["S5"], -3)
    b.sla(
        S["S5"], [(month_start(T, 1), "99.500"), (month_start(T), "99.000"), (month_start(T, 12), "10.000")]
    )
    b.decide(S["S5"], U["ro1"], -75, valid=400)
    # S6: DPIA required and done; approved with conditions until T+30 (expiring); an SLA but not prioritised
    b.classify(S["S6"], -34)
    b.analyse(S["S6"], -33, [(3, 3, 2, 3)])
    b.screen(S["S6"], -32, required=True)
    b.dpia(S["S6"], -31)
    b.sla(S["S6"], [(month_start(T, 1), "97.000")])
    b.decide(
        S["S6"],
        U["ro2"],
        -30,
        Decision.APPROVED_WITH_CONDITIONS,
        valid=30,
        conditions=[(-5, ConditionStatus.OPEN), (-20, ConditionStatus.FULFILLED), (20, ConditionStatus.OPEN)],
    )
    # S7: approved T-31 until T-1: expired; on the priority list, missed the target last month
    b.classify(S["S7"], -34)
    b.analyse(S["S7"], -33, [(2, 2, None, None)])
    b.screen(S["S7"], -32)
    b.sla(S["S7"], [(month_start(T, 1), "98.000")])
    b.decide(S["S7"], U["ro1"], -31, valid=-1)
    # S8: approved T-24; a major change T-15
    b.classify(S["S8"], -27)
    b.analyse(S["S8"], -26, [(1, 2, None, None)])
    b.screen(S["S8"], -25)
    b.decide(S["S8"], U["ro1"], -24, valid=700)
    S["S8"].major_change_at = at(b.day(-15))
    b.add(MajorChange(system_id=S["S8"].id, description="Ny modul", recorded_at=at(b.day(-15))))
    # S9: approved T-17, revoked T-6; an action past due
    b.classify(S["S9"], -20)
    b.analyse(S["S9"], -19, [(4, 4, 3, 4)], [(0, -1, ActionStatus.IN_PROGRESS)])
    b.screen(S["S9"], -18)
    a9 = b.decide(S["S9"], U["ro2"], -17, valid=700)
    b.add(
        ApprovalRevocation(
            approval_id=a9.id, motivation="Återkallat", revoked_by_id=U["ciso"].id, revoked_at=at(b.day(-6))
        )
    )
    # S10: approved T-12, decided again T-5; a new request is open
    b.classify(S["S10"], -13)
    b.analyse(S["S10"], -12, [(2, 2, 1, 1)])
    b.screen(S["S10"], -11)
    b.decide(S["S10"], U["ro1"], -12, valid=700)
    b.decide(S["S10"], U["ro1"], -5, valid=700)
    req = b.add(
        ApprovalRequest(system_id=S["S10"].id, status=RequestStatus.PENDING, requested_at=at(b.day(-2)))
    )
    S["S10"].open_request_id = req.id
    # S11: rejected, being decommissioned
    b.classify(S["S11"], -14)
    b.analyse(S["S11"], -13, [(4, 4, None, None)])
    b.screen(S["S11"], -12)
    b.decide(S["S11"], U["ro1"], -10, Decision.REJECTED)
    # S12: decommissioned, classified once
    b.classify(S["S12"], -48)
    session.flush()
    return Region(T, {"north": north, "south": south}, users, systems)


@pytest.fixture
def region(make, db_session, app, monkeypatch) -> Region:
    r = build_region(make, db_session)
    monkeypatch.setitem(app.config, "PROGRAMME_START", (r.today - timedelta(days=52)).isoformat())
    db_session.commit()
    return r


EXPECTED_STAGES = {
    "S1": "not_started",
    "S2": "classified",
    "S3": "risk_analysed",
    "S4": "dpia_pending",
    "S5": "approved",
    "S6": "approved_with_conditions",
    "S7": "expired",
    "S8": "needs_review",
    "S9": "needs_review",
    "S10": "awaiting_decision",
    "S11": "rejected",
    "S12": "decommissioned",
    "S13": "not_started",
    "S14": "not_started",
}


def test_the_region_is_in_the_stages_the_table_says(region, db_session):
    """The fixture itself: each system is in the stage its records are meant to put it in."""
    stages = lifecycle.stages_of(db_session, [s.id for s in region.systems.values()], region.today)
    assert {k: stages[s.id].value for k, s in region.systems.items()} == EXPECTED_STAGES
