"""`flask --app wsgi seed demo`: a believable region of ~670 systems taken through every stage.

Records are written through the same services the screens and the API use, with the clock set to
the day each step happened, so the history (and the progress-over-time chart) is true to the dates.
Idempotent: a region already seeded is left as it is."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskreg.actor import SYSTEM_ACTOR, Actor
from riskreg.models import System, User
from riskreg.search import fold
from seed import catalogue as cat

DEMO_PASSWORD = "Riskreg-Demo-2026"
TARGET_SYSTEMS = 670
DEMO_USERS = [
    ("admin@region.example", "Adam Administratör", ["admin"]),
    ("systemansvarig@region.example", "Sara Systemansvarig", ["system_owner"]),
    ("riskagare@region.example", "Rikard Riskägare", ["risk_owner"]),
    ("ciso@region.example", "Cecilia Säkerhetschef", ["ciso"]),
    ("dso@region.example", "Dan Dataskyddsombud", ["dpo"]),
    ("granskare@region.example", "Greta Granskare", ["auditor"]),
]

# Share of systems in operation per target stage (the rest fill "not_started").
STAGE_PLAN = [
    ("decommissioned", 0.025), ("rejected", 0.015), ("expired", 0.05), ("needs_review", 0.02),
    ("expiring", 0.03), ("approved_with_conditions", 0.08), ("approved", 0.17), ("awaiting_decision", 0.045),
    ("dpia_pending", 0.05), ("risk_analysed", 0.08), ("classified", 0.12),
]


def run(session: Session, echo: Callable[..., None] = print, today: date | None = None,
        target: int = TARGET_SYSTEMS) -> str:
    today = today or date.today()
    existing = session.execute(select(func.count(System.id))).scalar_one()
    if session.execute(select(User.id).where(User.email == DEMO_USERS[0][0])).first() and existing >= target:
        return f"The demo region is already seeded ({existing} systems); nothing changed."
    rng = random.Random(20261124)
    demo = Demo(session, rng, today, echo, target)
    demo.build()
    lines = [f"Seeded {demo.count} systems in {len(demo.units)} förvaltningar.",
             f"Demo users (password {DEMO_PASSWORD}):"]
    lines += [f"  {email:34} {', '.join(roles)}" for email, _, roles in DEMO_USERS]
    return "\n".join(lines)


class Demo:
    def __init__(self, session: Session, rng: random.Random, today: date, echo, target: int = TARGET_SYSTEMS):
        self.session, self.rng, self.today, self.echo, self.target = session, rng, today, echo, target
        self.units: dict[str, int] = {}
        self.users: dict[str, User] = {}
        self.owners: list[User] = []
        self.risk_owners: list[User] = []
        self.count = 0
        self.password_hash: str | None = None  # one KDF run for every demo user (they share a password)

    # ------------------------------------------------------------------ people and units
    def build(self) -> None:
        from riskreg.services import org_units

        admin_actor = SYSTEM_ACTOR
        for name in cat.ORG_UNITS:
            unit = org_units.by_name(self.session, name)
            if unit is None:
                unit = org_units.create(self.session, Actor(self._admin()), name=name)
            self.units[name] = unit.id
        self._people()
        specs = self._system_specs()
        self.echo(f"seed: creating {len(specs)} systems")
        systems = [self._create_system(spec) for spec in specs]
        self.count = len(systems)
        self.session.flush()
        self.echo("seed: taking systems through the approval process")
        self._stages(systems)
        del admin_actor

    def _user(self, email: str, name: str, roles: list[str], unit: str | None = None) -> User:
        from riskreg.services import accounts

        user = accounts.find_user_by_email(self.session, email)
        if user is None:
            if self.password_hash is None:
                self.password_hash = accounts.hash_password(DEMO_PASSWORD)
            user = accounts.create_user(self.session, SYSTEM_ACTOR, email=email, name=name, roles=roles,
                                        password=DEMO_PASSWORD, org_unit_id=self.units.get(unit) if unit else None,
                                        check_permission=False, password_hash=self.password_hash)
        return user

    def _admin(self) -> User:
        if "admin" not in self.users:
            email, name, roles = DEMO_USERS[0]
            self.users["admin"] = self._user(email, name, roles)
        return self.users["admin"]

    def _people(self) -> None:
        for email, name, roles in DEMO_USERS:
            self.users[roles[0]] = self._user(email, name, roles)
        rng = self.rng
        used = set()
        for i in range(60):
            while True:
                first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
                if (first, last) not in used:
                    used.add((first, last))
                    break
            role = "risk_owner" if i < 14 else "system_owner"
            email = f"{fold(first).replace(' ', '')}.{fold(last).replace(' ', '')}@region.example"
            unit = cat.ORG_UNITS[i % len(cat.ORG_UNITS)]
            user = self._user(email, f"{first} {last}", [role], unit)
            (self.risk_owners if role == "risk_owner" else self.owners).append(user)

    # ------------------------------------------------------------------ the register
    def _system_specs(self) -> list[dict]:
        rng, specs, seen = self.rng, [], set()

        def add(name, supplier, description, unit, kind):
            if name in seen:
                return
            seen.add(name)
            specs.append({"name": name, "supplier": supplier, "description": description, "unit": unit,
                          "kind": kind})

        for name, supplier, description, unit_ix, kind in cat.CORE_SYSTEMS:
            add(name, supplier, description, cat.ORG_UNITS[unit_ix], kind)
        for hospital in cat.HOSPITALS:
            for name, supplier, description in cat.DEVICE_FAMILIES:
                add(f"{name} – {hospital}", supplier, description, cat.ORG_UNITS[0], "device")
        for dept in cat.DEPARTMENTS:
            for app, supplier, description in cat.DEPARTMENT_APPS:
                add(f"{dept} – {app}", supplier, description, cat.ORG_UNITS[0], "clinical")
        for register in cat.QUALITY_REGISTERS:
            add(f"Kvalitetsregister {register}", "Nationellt registercentrum",
                "Inrapportering till nationellt kvalitetsregister.", cat.ORG_UNITS[0], "register")
        for name, unit in cat.LOCAL_APPS:
            add(name, rng.choice(cat.LOCAL_SUPPLIERS), "Lokalt verksamhetsstöd.", unit, "local")
        for a, b in cat.INTEGRATIONS:
            add(f"Integration {a}–{b}", "Region (egenutvecklat)", f"Informationsutbyte mellan {a} och {b}.",
                "Regionservice", "integration")
        for service in cat.E_SERVICES:
            add(f"E-tjänst: {service}", "Inera", "Invånartjänst via 1177.", cat.ORG_UNITS[1], "web")
        for centre in cat.HEALTH_CENTRES:
            for app, supplier in cat.HEALTH_CENTRE_APPS:
                add(f"{app} – Vårdcentral {centre}", supplier, "Stöd för vårdcentralens verksamhet.",
                    cat.ORG_UNITS[1], "clinical")
        for clinic in cat.PSYCHIATRY_CLINICS:
            for app, supplier in cat.PSYCHIATRY_APPS:
                add(f"{app} – {clinic}", supplier, "Stöd för psykiatrisk vård.", cat.ORG_UNITS[2], "clinical")
        for clinic in cat.DENTAL_CLINICS:
            for app, supplier in cat.DENTAL_APPS:
                add(f"{app} – {clinic}", supplier, "Stöd för tandvården.", cat.ORG_UNITS[3], "clinical")
        for unit in cat.ORG_UNITS:
            for name, supplier, description in cat.UNIT_FAMILIES:
                if len(specs) >= self.target:
                    break
                add(f"{name} {unit}", supplier, description, unit, "local")
        return specs[:self.target]

    CRITICALITY = {"journal": "A", "imaging": "A", "lab": "A", "pharmacy": "A", "device": "B", "national": "B",
                   "integration": "B", "scheduling": "B", "clinical": "C", "hr": "B", "finance": "B", "it": "A",
                   "register": "C", "admin": "C", "analytics": "C", "web": "D", "local": "D"}
    PERSONAL = {"journal", "imaging", "lab", "pharmacy", "device", "national", "clinical", "register", "scheduling",
                "hr", "integration"}

    def _create_system(self, spec: dict) -> System:
        from riskreg.services import systems

        rng = self.rng
        kind = spec["kind"]
        crit = self.CRITICALITY.get(kind, "C")
        if rng.random() < 0.25:
            crit = rng.choice("ABCD")
        personal = "yes" if kind in self.PERSONAL else rng.choice(["no", "no", "unknown", "yes"])
        owner = self.users["system_owner"] if rng.random() < 0.03 else rng.choice(self.owners)
        if rng.random() < 0.06:
            owner = None
        risk = self.users["risk_owner"] if rng.random() < 0.08 else rng.choice(self.risk_owners)
        if rng.random() < 0.05:
            risk = None
        values = {
            "name": spec["name"], "description": spec["description"], "supplier": spec["supplier"],
            "org_unit_id": self.units[spec["unit"]], "criticality": crit, "lifecycle": "in_operation",
            "hosting": rng.choice(["own_datacentre", "external_operations", "saas"]),
            "personal_data": personal, "special_categories": personal == "yes" and kind in {"journal", "lab",
                                                                                          "imaging", "clinical",
                                                                                          "register"},
            "system_owner_id": owner.id if owner else None, "risk_owner_id": risk.id if risk else None,
            "aliases": self._aliases(spec),
            "external_refs": [{"source": "servicenow", "key": f"{rng.getrandbits(64):016x}"}],
        }
        created = datetime.combine(date(2024, 9, 1) + timedelta(days=rng.randrange(0, 120)), time(9), UTC)
        return systems.create(self.session, Actor(self._admin(), "seed", now=created), values)

    def _aliases(self, spec: dict) -> list[str]:
        name, supplier = spec["name"], spec["supplier"]
        aliases = []
        if spec["kind"] in ("journal", "imaging", "lab", "pharmacy", "hr", "finance") and supplier not in name:
            aliases.append(f"{supplier} {name}")
        if "(" in name:
            aliases.append(name[name.index("(") + 1:name.index(")")])
        return aliases

    # ------------------------------------------------------------------ the process
    def _stages(self, systems: list[System]) -> None:
        rng = self.rng
        order = list(systems)
        rng.shuffle(order)
        priority = self._priority(systems)
        plan: list[str] = []
        for stage, share in STAGE_PLAN:
            plan += [stage] * round(share * len(order))
        plan += ["not_started"] * (len(order) - len(plan))
        # the priority-list systems are the furthest along; five of them are being decommissioned
        by_stage = {id(s): st for s, st in zip(order, plan, strict=False)}
        for i, system in enumerate(priority):
            if i < 5:
                by_stage[id(system)] = "being_decommissioned"
            elif by_stage[id(system)] in ("not_started", "decommissioned", "rejected"):
                by_stage[id(system)] = rng.choice(["approved", "approved_with_conditions", "expiring", "classified"])
        for n, system in enumerate(order):
            stage = by_stage[id(system)]
            if system.system_owner_id is None or system.risk_owner_id is None:
                stage = stage if stage in ("not_started", "classified", "risk_analysed") else "classified"
            if stage != "not_started":
                Walk(self, system, stage).run()
            if n % 100 == 99:
                self.echo(f"seed: {n + 1} of {len(order)} systems")
        self._slas(priority)

    def _priority(self, systems: list[System]) -> list[System]:
        """36 systems on the prioriteringslista vid katastrofläge: the most critical ones."""
        ranked = sorted(systems, key=lambda s: (s.criticality or "D", s.id))
        chosen = [s for s in ranked if s.system_owner_id and s.risk_owner_id][:36]
        for system in chosen:
            system.priority_list = True
        return chosen

    def _slas(self, priority: list[System]) -> None:
        from riskreg.services import sla

        rng = self.rng
        with_sla = priority[5:]  # the five being decommissioned have none
        with_sla = with_sla[:26] + [s for s in self._others_with_sla()]
        start = date(self.today.year - 1, self.today.month, 1)
        for system in with_sla[:31]:
            owner = self.session.get(User, system.system_owner_id) if system.system_owner_id else self._admin()
            actor = Actor(owner, "seed", now=datetime.combine(start - timedelta(days=40), time(10), UTC))
            target = 99.0 if system.priority_list else rng.choice([98.0, 99.0, 99.5])
            agreement = sla.create(self.session, actor, system.id, supplier=system.supplier or "Leverantör",
                                   availability_target=target, agreement_ref=f"AVT-{rng.randrange(1000, 9999)}",
                                   service_hours="Dygnet runt, årets alla dagar" if system.criticality == "A"
                                   else "Vardagar 07–18", rto_hours=rng.choice([2, 4, 8, 24]),
                                   rpo_hours=rng.choice([0.25, 1, 4, 24]), valid_from=start - timedelta(days=30),
                                   valid_to=start + timedelta(days=3 * 365))
            month = start
            for _ in range(12):
                availability = round(min(100.0, rng.gauss(99.55, 0.45)), 3)
                downtime = round((100 - availability) / 100 * 30 * 24 * 60)
                measure_at = datetime.combine(month + timedelta(days=35), time(8), UTC)
                sla.add_measurement(self.session, Actor(owner, "seed", now=measure_at), agreement.id,
                                    period=month, availability=availability, downtime_minutes=downtime)
                month = (month + timedelta(days=32)).replace(day=1)

    def _others_with_sla(self) -> list[System]:
        stmt = (select(System).where(System.priority_list.is_(False), System.criticality == "A",
                                     System.system_owner_id.is_not(None)).order_by(System.id).limit(5))
        return list(self.session.execute(stmt).scalars())


class Walk:
    """Takes one system to its target stage through the services, on dates that fit the history."""

    def __init__(self, demo: Demo, system: System, target: str):
        self.demo, self.system, self.target = demo, system, target
        self.session, self.rng = demo.session, demo.rng
        self.owner = self.session.get(User, system.system_owner_id) if system.system_owner_id else demo._admin()
        self.risk_owner = self.session.get(User, system.risk_owner_id) if system.risk_owner_id else None
        today = demo.today
        if target == "expired":
            self.day = today - timedelta(days=3 * 365 + self.rng.randrange(150, 400))
        elif target == "expiring":
            self.day = today - timedelta(days=3 * 365)
        else:
            start = date(2025, 1, 13)
            span = max((today - start).days - 60, 30)
            self.day = start + timedelta(days=self.rng.randrange(0, span))

    def at(self, user: User | None, days: int = 0) -> Actor:
        self.day += timedelta(days=days)
        return Actor(user, "seed", now=datetime.combine(self.day, time(10, self.rng.randrange(0, 59)), UTC))

    def run(self) -> None:
        from riskreg.services import approvals, classification, decommissioning, dpia, risk, systems

        rng, sid, t = self.rng, self.system.id, self.target
        levels = self._levels()
        classification.create(self.session, self.at(self.owner), sid, **levels)
        if t == "classified":
            return
        analysis = risk.create(self.session, self.at(self.owner, rng.randrange(7, 40)), sid,
                               analysed_on=self.day, participants=self._participants(),
                               scope="Systemets drift, behörigheter, integrationer och leverantörsberoenden.",
                               risks=self._risks(t))
        risk.finalise(self.session, self.at(self.owner, rng.randrange(1, 10)), analysis.id)
        personal = self.system.personal_data == "yes"
        criteria = self._criteria(personal, t)
        dpia.screen(self.session, self.at(self.owner, 2), sid, criteria=criteria,
                    motivation="Personuppgifter om patienter behandlas." if criteria else "Inga personuppgifter av betydelse.")
        if len(criteria) >= 2:
            d = dpia.create(self.session, self.at(self.owner, rng.randrange(5, 30)), sid,
                            description=f"Behandling av personuppgifter i {self.system.name}.",
                            purposes="Vård och behandling samt administration av vården.",
                            legal_basis="Rättslig förpliktelse och uppgift av allmänt intresse (GDPR art. 6.1 c, e; art. 9.2 h).",
                            necessity="Uppgifterna är nödvändiga för att ge god och säker vård (patientdatalagen).",
                            risks="Obehörig åtkomst, felaktiga uppgifter, otillgänglighet vid vårdtillfälle.",
                            measures="Behörighetsstyrning, loggning och logguppföljning, kryptering, kontinuitetsplan.")
            if t == "dpia_pending":
                return
            dpia.give_opinion(self.session, self.at(self.demo.users["dpo"], rng.randrange(3, 20)), d.id,
                              opinion="Konsekvensbedömningen är tillräcklig; åtgärderna bedöms minska riskerna.",
                              prior_consultation_required=False)
            dpia.finalise(self.session, self.at(self.owner, 1), d.id)
        if t in ("risk_analysed", "dpia_pending"):
            return
        approvals.request(self.session, self.at(self.owner, rng.randrange(1, 10)), sid)
        if t == "awaiting_decision":
            return
        decider = self.risk_owner
        decision = {"rejected": "rejected", "decommissioned": "rejected", "being_decommissioned": "rejected",
                    "approved_with_conditions": "approved_with_conditions"}.get(t, "approved")
        actor = self.at(decider, rng.randrange(3, 25))
        accepted = {r.id: "Risken bedöms acceptabel med hänsyn till verksamhetens behov."
                    for r in self._high_residual(analysis)}
        conditions = []
        if decision == "approved_with_conditions":
            conditions = [{"text": "Logguppföljning av åtkomst ska införas och rapporteras kvartalsvis.",
                           "due_on": actor.today() + timedelta(days=rng.choice([60, 120, 240, 400])),
                           "responsible_id": self.owner.id}]
        valid_until = None
        full = actor.today() + timedelta(days=3 * 365)
        if t == "expiring":
            valid_until = min(full, self.demo.today + timedelta(days=rng.randrange(20, 85)))
        elif t == "expired":
            valid_until = min(full, self.demo.today - timedelta(days=rng.randrange(1, 120)))
        elif decision != "rejected":
            latest = self.demo.today + timedelta(days=120)  # still valid, and not expiring, today
            valid_until = max(latest, min(full, actor.today() + timedelta(days=rng.choice([730, 3 * 365]))))
        approval = approvals.decide(self.session, actor, sid, decision=decision,
                                    motivation=self._motivation(decision), valid_until=valid_until,
                                    conditions=conditions, accepted_risks=accepted if decision != "rejected" else None)
        if t == "needs_review":
            systems.record_major_change(self.session, self.at(self.owner, rng.randrange(30, 120)), sid,
                                        "Byte av driftplattform till extern leverantör.")
        if decision == "rejected":
            plan = decommissioning.plan(self.session, self.at(decider, 5), sid,
                                        planned_on=self.day + timedelta(days=180), responsible_id=self.owner.id,
                                        disposition=rng.choice(["archived", "deleted"]),
                                        retention_decision="Enligt regionens informationshanteringsplan.")
            if t == "decommissioned":
                decommissioning.complete(self.session, self.at(self.owner, 200), plan.id)
        del approval

    def _levels(self) -> dict:
        rng = self.rng
        crit = self.system.criticality or "C"
        base = {"A": 3, "B": 2, "C": 2, "D": 1}[crit]
        k = min(4, base + (1 if self.system.personal_data == "yes" else 0) + (1 if self.system.special_categories else 0))
        return {"confidentiality": k, "integrity": min(4, base + rng.choice([0, 0, 1])),
                "availability": min(4, base + rng.choice([-1, 0, 0, 1])) if base > 1 else base,
                "motivation": "Bedömd utifrån informationsmängder och konsekvens för vård och invånare.",
                "confidentiality_motivation": "Patientuppgifter omfattas av sekretess." if k >= 3 else "Begränsad sekretess.",
                "integrity_motivation": "Felaktiga uppgifter kan påverka vårdbeslut.",
                "availability_motivation": "Verksamheten kan fortgå med reservrutiner en kortare tid."}

    THREATS = [
        ("Obehörig åtkomst till patientuppgifter", "K"), ("Ransomware slår ut driften", "T"),
        ("Felaktig läkemedelsdos till följd av integrationsfel", "R"), ("Leverantören upphör med produkten", "T"),
        ("Bristande logguppföljning", "K"), ("Driftavbrott i nätverket", "T"), ("Felaktiga provsvar", "R"),
        ("Delade konton på avdelningen", "K"), ("Saknad kontinuitetsplan", "T"), ("Ej patchade servrar", "K"),
    ]

    def _risks(self, target: str) -> list[dict]:
        rng = self.rng
        risks = []
        for title, aspect in rng.sample(self.THREATS, rng.randrange(3, 7)):
            likelihood, consequence = rng.randrange(1, 5), rng.randrange(1, 5)
            residual_l = max(1, likelihood - rng.choice([0, 1, 1, 2]))
            residual_c = max(1, consequence - rng.choice([0, 0, 1]))
            due = self.day + timedelta(days=rng.choice([-40, 30, 90, 180]))
            risks.append({
                "title": title, "aspect": aspect, "likelihood": likelihood, "consequence": consequence,
                "description": "Scenariot bedömt i workshop med verksamhet och IT.",
                "existing_protection": "Behörighetsstyrning och säkerhetskopiering finns.",
                "treatment": rng.choice(["reduce", "reduce", "transfer", "accept"]),
                "residual_likelihood": residual_l, "residual_consequence": residual_c,
                "actions": [{"description": "Inför tvåfaktorsinloggning och granska behörigheter.",
                             "responsible_id": self.owner.id, "due_on": due,
                             "status": rng.choice(["planned", "in_progress", "done"])}],
            })
        return risks

    def _high_residual(self, analysis) -> list:
        return [r for r in analysis.risks if r.effective_residual_value >= 8]

    def _criteria(self, personal: bool, target: str) -> list[str]:
        if target == "dpia_pending" or (personal and self.system.special_categories and self.rng.random() < 0.6):
            return ["sensitive_data", "vulnerable_subjects"] + (["large_scale"] if self.rng.random() < 0.5 else [])
        if personal:
            return self.rng.choice([[], ["large_scale"], ["sensitive_data"]])
        return []

    def _participants(self) -> str:
        return f"{self.owner.name} (systemansvarig), IT-säkerhetsspecialist, verksamhetsföreträdare"

    def _motivation(self, decision: str) -> str:
        return {
            "approved": "Riskerna är hanterade till en acceptabel nivå.",
            "approved_with_conditions": "Godkänns under förutsättning att villkoren uppfylls i tid.",
            "rejected": "Riskerna är oacceptabla och kan inte hanteras inom rimlig tid; systemet avvecklas.",
        }[decision]
