"""The stage is derived from the records, in SQL, by one expression (riskreg.lifecycle). These tests
build the records directly so the expression is checked on its own, stage by stage and in precedence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from riskreg import lifecycle
from riskreg.models import (
    Approval,
    ApprovalRequest,
    ApprovalRevocation,
    Classification,
    Dpia,
    DpiaScreening,
    RiskAnalysis,
    Sla,
)
from riskreg.models.codes import Lifecycle, Stage
from tests.conftest import NOW, TODAY


class Records:
    def __init__(self, session, system, user):
        self.s, self.system, self.user = session, system, user

    def add(self, obj):
        self.s.add(obj)
        self.s.flush()
        return obj

    def classify(self, k=2, r=2, t=2, final=True):
        c = self.add(Classification(system_id=self.system.id, number=self._n(Classification), status="final" if final else "draft",
                                    confidentiality=k, integrity=r, availability=t, declared_confidentiality=k,
                                    declared_integrity=r, declared_availability=t, finalised_at=NOW if final else None))
        if final:
            self.system.current_classification_id = c.id
        return c

    def analyse(self):
        ra = self.add(RiskAnalysis(system_id=self.system.id, number=self._n(RiskAnalysis), status="final", analysed_on=TODAY,
                                   classification_id=self.system.current_classification_id, finalised_at=NOW))
        self.system.current_risk_analysis_id = ra.id
        return ra

    def screen(self, required: bool):
        sc = self.add(DpiaScreening(system_id=self.system.id, dpia_required=required))
        self.system.current_screening_id = sc.id
        return sc

    def dpia(self):
        d = self.add(Dpia(system_id=self.system.id, status="final", description="d", purposes="p", legal_basis="l",
                          necessity="n", risks="r", measures="m", opinion="ok", finalised_at=NOW))
        self.system.current_dpia_id = d.id
        return d

    def sla(self):
        s = self.add(Sla(system_id=self.system.id, supplier="X", availability_target=99))
        self.system.current_sla_id = s.id
        return s

    def request(self):
        r = self.add(ApprovalRequest(system_id=self.system.id, status="pending", requested_at=NOW))
        self.system.open_request_id = r.id
        return r

    _seq = 0

    def decide(self, decision="approved", valid_until=None, decided_at=NOW):
        Records._seq += 1
        c = self.s.get(Classification, self.system.current_classification_id)
        a = self.add(Approval(
            system_id=self.system.id, reference=f"DG-2099-{Records._seq:04d}", year=2099, sequence=Records._seq,
            decision=decision, motivation="m", valid_until=None if decision == "rejected" else (valid_until or TODAY + timedelta(days=365)),
            decided_by_id=self.user.id, decided_at=decided_at, classification_id=c.id, confidentiality=c.confidentiality,
            integrity=c.integrity, availability=c.availability, risk_analysis_id=self.system.current_risk_analysis_id,
            screening_id=self.system.current_screening_id, dpia_id=self.system.current_dpia_id,
            sla_id=self.system.current_sla_id, snapshot={}, content_sha256="0" * 64))
        self.system.current_approval_id = a.id
        self.system.open_request_id = None
        self.s.flush()
        return a

    def _n(self, model):
        return self.s.query(model).filter_by(system_id=self.system.id).count() + 1


@pytest.fixture
def rec(db_session, make):
    system = make.system()
    return Records(db_session, system, make.user("risk_owner"))


def stage(rec):
    rec.s.flush()
    return lifecycle.stage_of(rec.s, rec.system.id, TODAY)


def test_walk_through_every_stage(rec):
    assert stage(rec) == Stage.NOT_STARTED
    rec.classify(final=False)
    assert stage(rec) == Stage.NOT_STARTED, "a draft classification does not count"
    rec.classify()
    assert stage(rec) == Stage.CLASSIFIED
    rec.screen(required=True)
    assert stage(rec) == Stage.CLASSIFIED, "dpia_pending comes after the risk analysis"
    rec.analyse()
    assert stage(rec) == Stage.DPIA_PENDING
    rec.dpia()
    assert stage(rec) == Stage.RISK_ANALYSED
    rec.request()
    assert stage(rec) == Stage.AWAITING_DECISION
    rec.decide("approved_with_conditions")
    assert stage(rec) == Stage.APPROVED_WITH_CONDITIONS


def test_expiry_is_computed_from_dates(rec):
    rec.classify(); rec.analyse(); rec.screen(False)
    rec.decide("approved", valid_until=TODAY + timedelta(days=10))
    assert stage(rec) == Stage.APPROVED
    assert lifecycle.stage_of(rec.s, rec.system.id, TODAY + timedelta(days=10)) == Stage.APPROVED
    assert lifecycle.stage_of(rec.s, rec.system.id, TODAY + timedelta(days=11)) == Stage.EXPIRED


def test_revocation_and_rejection(rec):
    rec.classify(); rec.analyse(); rec.screen(False)
    approval = rec.decide("approved")
    rec.add(ApprovalRevocation(approval_id=approval.id, motivation="m", revoked_by_id=rec.user.id))
    assert stage(rec) == Stage.NEEDS_REVIEW
    rec.request()
    assert stage(rec) == Stage.AWAITING_DECISION, "a new request after a revocation awaits the decision"
    rec.decide("rejected")
    assert stage(rec) == Stage.REJECTED
    rec.system.lifecycle = Lifecycle.DECOMMISSIONED
    assert stage(rec) == Stage.DECOMMISSIONED


@pytest.mark.parametrize("change", ["major_change", "higher_k", "new_analysis", "new_sla", "new_screening"])
def test_changes_after_the_decision_need_review(rec, change):
    rec.classify(2, 2, 2); rec.analyse(); rec.screen(False); rec.sla()
    rec.decide("approved")
    assert stage(rec) == Stage.APPROVED
    if change == "major_change":
        rec.system.major_change_at = NOW + timedelta(hours=1)
    elif change == "higher_k":
        rec.classify(3, 2, 2)
    elif change == "new_analysis":
        rec.analyse()
    elif change == "new_sla":
        rec.sla()
    elif change == "new_screening":
        rec.screen(False)
    assert stage(rec) == Stage.NEEDS_REVIEW


def test_equal_or_lower_classification_keeps_the_approval(rec):
    rec.classify(3, 3, 3); rec.analyse(); rec.screen(False)
    rec.decide("approved")
    rec.classify(3, 2, 1)
    assert stage(rec) == Stage.APPROVED


def test_expired_wins_over_needs_review_and_counts_agree(rec, make, db_session):
    rec.classify(); rec.analyse(); rec.screen(False)
    rec.decide("approved", valid_until=TODAY - timedelta(days=1))
    rec.system.major_change_at = NOW + timedelta(hours=1)
    assert stage(rec) == Stage.EXPIRED
    db_session.flush()
    from riskreg.models import System

    counts = lifecycle.count_by_stage(db_session, TODAY, System.id == rec.system.id)
    assert counts[Stage.EXPIRED] == 1 and sum(counts.values()) == 1


def test_count_by_stage_and_list_filter_agree(db_session, make, api):
    from riskreg.models import System

    unit = make.org_unit()
    systems = [make.system(org_unit_id=unit.id) for _ in range(3)]
    rec = Records(db_session, systems[0], make.user("risk_owner"))
    rec.classify()
    db_session.flush()
    counts = lifecycle.count_by_stage(db_session, TODAY, System.org_unit_id == unit.id)
    assert counts[Stage.CLASSIFIED] == 1 and counts[Stage.NOT_STARTED] == 2
    c = api(make.user("ciso"))
    assert c.get(f"/api/v1/systems?org_unit_id={unit.id}&stage=classified").get_json()["total"] == 1
    assert c.get(f"/api/v1/systems/{systems[0].id}").get_json()["stage"] == "classified"
