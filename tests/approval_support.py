"""Builds the records a decision rests on directly through the models (the filing services are written
elsewhere), setting the ``System.current_*_id`` pointers exactly as those services do when a record
becomes current: a finalised classification, a finalised risk analysis resting on it with its risks, a
DPIA screening, where required a finalised DPIA with the DPO's opinion, and an SLA."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from riskreg.models import (
    Classification,
    Dpia,
    DpiaScreening,
    Risk,
    RiskAction,
    RiskAnalysis,
    ScreeningCriterion,
    Sla,
)
from riskreg.services import approvals
from tests.conftest import NOW, TODAY, actor

# (title, aspect, likelihood, consequence, residual likelihood, residual consequence)
DEFAULT_RISKS = [
    ("Ransomware slår ut driften", "T", 3, 4, 3, 4),  # residual 12: Hög, must be accepted
    ("Felaktig läkemedelsdos", "R", 2, 4, 1, 4),  # residual 4
    ("Obehörig åtkomst till journaler", "K", 3, 3, 2, 2),  # residual 4
]


class Filing:
    """The filing of one system, made through the models."""

    def __init__(self, session, system, owner):
        self.s, self.system, self.owner = session, system, owner

    def _add(self, obj):
        self.s.add(obj)
        self.s.flush()
        return obj

    def _number(self, model) -> int:
        return (
            self.s.execute(select(func.max(model.number)).where(model.system_id == self.system.id)).scalar()
            or 0
        ) + 1

    def classify(self, k=3, r=3, t=2, final=True, at=NOW):
        c = self._add(
            Classification(
                system_id=self.system.id,
                number=self._number(Classification),
                status="final" if final else "draft",
                confidentiality=k,
                integrity=r,
                availability=t,
                declared_confidentiality=k,
                declared_integrity=r,
                declared_availability=t,
                motivation="Patientuppgifter; sekretess enligt OSL.",
                confidentiality_motivation="Sekretessbelagda uppgifter om hälsa.",
                integrity_motivation="Felaktiga uppgifter påverkar vårdbeslut.",
                availability_motivation="Vården kan fortgå med reservrutiner några timmar.",
                created_by_id=self.owner.id,
                created_at=at,
                finalised_by_id=self.owner.id if final else None,
                finalised_at=at if final else None,
            )
        )
        if final:
            self.system.current_classification_id = c.id
            self.s.flush()
        return c

    def analyse(self, risks=DEFAULT_RISKS, final=True, classification_id=None, at=NOW, with_actions=True):
        ra = self._add(
            RiskAnalysis(
                system_id=self.system.id,
                number=self._number(RiskAnalysis),
                status="final" if final else "draft",
                analysed_on=at.date() - timedelta(days=3),
                participants="Systemansvarig, IT-säkerhet, verksamheten",
                scope="Drift, behörigheter och integrationer.",
                classification_id=classification_id or self.system.current_classification_id,
                created_by_id=self.owner.id,
                created_at=at,
                finalised_by_id=self.owner.id if final else None,
                finalised_at=at if final else None,
            )
        )
        for i, (title, aspect, lik, cons, rl, rc) in enumerate(risks):
            risk = Risk(
                analysis_id=ra.id,
                position=i,
                title=title,
                aspect=aspect,
                likelihood=lik,
                consequence=cons,
                residual_likelihood=rl,
                residual_consequence=rc,
                treatment="reduce",
                existing_protection="Säkerhetskopiering",
            )
            if with_actions:
                risk.actions.append(
                    RiskAction(
                        description="Öva återläsning av säkerhetskopior",
                        responsible_id=self.owner.id,
                        due_on=TODAY - timedelta(days=5),
                        status="planned",
                    )
                )
            self.s.add(risk)
        self.s.flush()
        if final:
            self.system.current_risk_analysis_id = ra.id
            self.s.flush()
        self.s.refresh(ra)
        return ra

    def screen(self, criteria=("sensitive_data", "large_scale"), required=None, at=NOW):
        required = len(criteria) >= 2 if required is None else required
        sc = self._add(
            DpiaScreening(
                system_id=self.system.id,
                dpia_required=required,
                motivation="Patientdata",
                require_anyway=False,
                created_by_id=self.owner.id,
                created_at=at,
            )
        )
        for code in criteria:
            self.s.add(ScreeningCriterion(screening_id=sc.id, criterion=code))
        self.system.current_screening_id = sc.id
        self.s.flush()
        return sc

    def dpia(self, final=True, opinion="Inga invändningar; åtgärderna är tillräckliga.", at=NOW):
        d = self._add(
            Dpia(
                system_id=self.system.id,
                screening_id=self.system.current_screening_id,
                status="final" if final else "draft",
                description="Journalföring",
                purposes="Vård",
                legal_basis="Rättslig förpliktelse",
                necessity="Nödvändig",
                risks="Obehörig åtkomst",
                measures="Behörighetsstyrning, loggning",
                opinion=opinion,
                opinion_at=at if opinion else None,
                created_by_id=self.owner.id,
                created_at=at,
                finalised_by_id=self.owner.id if final else None,
                finalised_at=at if final else None,
            )
        )
        if final:
            self.system.current_dpia_id = d.id
            self.s.flush()
        return d

    def sla(self, target=99.5, at=NOW):
        s = self._add(
            Sla(
                system_id=self.system.id,
                supplier="Cambio",
                agreement_ref="AVT-2024-17",
                availability_target=target,
                service_hours="Dygnet runt",
                rto_hours=4,
                rpo_hours=1,
                valid_from=TODAY - timedelta(days=400),
                created_by_id=self.owner.id,
                created_at=at,
            )
        )
        self.system.current_sla_id = s.id
        self.s.flush()
        return s

    def ready(self, risks=DEFAULT_RISKS, dpia=True, sla=True):
        """Everything a request needs."""
        self.classify()
        self.analyse(risks=risks)
        if dpia:
            self.screen()
            self.dpia()
        else:
            self.screen(criteria=())
        if sla:
            self.sla()
        return self


class World:
    """A system with a system owner and a risk owner, and shortcuts through the approval services."""

    def __init__(self, make, session, **system_values):
        self.make, self.s = make, session
        self.owner = make.user("system_owner", name="Sara Systemägare")
        self.risk_owner = make.user("risk_owner", name="Åsa Öberg-Riskägare")
        self.system = make.system(
            system_owner=self.owner,
            risk_owner=self.risk_owner,
            **{"name": "Journalsystemet Åäö", "supplier": "Cambio", **system_values},
        )
        self.filing = Filing(session, self.system, self.owner)

    @property
    def risks(self):
        ra = self.s.get(RiskAnalysis, self.system.current_risk_analysis_id)
        return list(ra.risks)

    def high_risk_ids(self):
        return [r.id for r in self.risks if r.effective_residual_value >= 8]

    def ready(self, **kw):
        self.filing.ready(**kw)
        return self

    def request(self, now=NOW):
        return approvals.request(self.s, actor(self.owner, now), self.system.id)

    def decide(self, decision="approved_with_conditions", now=NOW, **kw):
        kw.setdefault("motivation", "Riskerna är godtagbara under villkoren.")
        if decision != "rejected":
            kw.setdefault("accepted_risks", {rid: "Reservrutiner finns." for rid in self.high_risk_ids()})
        if decision == "approved_with_conditions":
            kw.setdefault(
                "conditions",
                [
                    {
                        "text": "Offline-rutin övas årligen",
                        "due_on": TODAY + timedelta(days=90),
                        "responsible_id": self.owner.id,
                    }
                ],
            )
        return approvals.decide(self.s, actor(self.risk_owner, now), self.system.id, decision=decision, **kw)

    def approved(self, **kw):
        self.ready()
        self.request()
        return self.decide(**kw)
