"""Every route × every role against a table of expected answers (CONVENTIONS.md §5).

The walk takes each rule of ``app.url_map`` and each role — anonymous, a system owner on their own system
(``owner_own``) and on someone else's (``owner_other``), the system's named risk owner, the CISO, the DPO,
an admin and an auditor — and checks the answer against ``EXPECTED``. A route that is not in the table
fails ``test_every_route_is_in_the_table``, so a new page or API call cannot ship unclassified.

Expected values:
  200, 201, 404 … exactly that status
  OK       allowed: any answer that is not 401/403/5xx and not a redirect to the login page (a POST with a
           minimal body may answer 200, 201, 302, 400, 409 or 422 — permission was not what stopped it)
  LOGIN    a redirect to the login page (HTML routes, anonymous)
  401, 403 refused

Each feature's expectations are one dict, ``EXPECTED["<feature>"]``; a feature adding routes adds its dict
(and, where its routes need them, entries in PARAMS and BODIES). Route parameters name real records of one
system owned by ``owner_own`` (see ``world``); an unknown parameter name gets 999999 (a record that does
not exist)."""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from riskreg.extensions import db as _db
from riskreg.models import (
    Approval,
    ApprovalCondition,
    ApprovalRequest,
    Classification,
    DecommissioningPlan,
    Dpia,
    DpiaScreening,
    ImportBatch,
    PdfJob,
    Risk,
    RiskAction,
    RiskAnalysis,
    Sla,
)
from riskreg.models.base import utcnow
from riskreg.models.codes import (
    Aspect,
    Decision,
    ImportStatus,
    InformationDisposition,
    RecordStatus,
    RequestStatus,
)

OK, LOGIN = "ok", "login"
ROLES = ("anonymous", "owner_own", "owner_other", "risk_owner", "ciso", "dpo", "admin", "auditor")
SIGNED_IN = ROLES[1:]
READ_ALL = ("ciso", "dpo", "admin", "auditor")
READ_RECORDS = ("owner_own", "risk_owner", *READ_ALL)  # the system's own owners and the read-all roles
EDITORS = ("owner_own", "admin")  # the system's own system owner, or an admin acting for one
ADMIN = ("admin",)
REPORT_READERS = SIGNED_IN  # every role reads reports (owners over their own systems)


def page(allowed=SIGNED_IN, ok=200, anonymous=LOGIN) -> dict:
    """An HTML route behind login."""
    return {"anonymous": anonymous, **{r: (ok if r in allowed else 403) for r in SIGNED_IN}}


def api(allowed=SIGNED_IN, ok=200) -> dict:
    """A JSON route behind a bearer token."""
    return {"anonymous": 401, **{r: (ok if r in allowed else 403) for r in SIGNED_IN}}


def public(ok=200) -> dict:
    return {r: ok for r in ROLES}


def same(value) -> dict:
    return {r: value for r in ROLES}


def with_(base: dict, **changes) -> dict:
    return {**base, **changes}


EXPECTED: dict[str, dict[tuple[str, str], dict]] = {}

EXPECTED["static"] = {
    ("GET", "/static/<path:filename>"): public(200),
}

EXPECTED["health"] = {
    ("GET", "/healthz"): public(200),
}

EXPECTED["accounts"] = {
    ("GET", "/login"): with_(same(OK), anonymous=200),  # signed in: back to the start page
    ("POST", "/login"): same(OK),
    ("POST", "/logout"): same(LOGIN),
    ("POST", "/language"): same(OK),
    ("GET", "/"): page(),
    ("GET", "/account/tokens"): page(),
    ("POST", "/account/tokens"): page(ok=OK),
    # the token belongs to owner_own; an admin may revoke anyone's
    ("POST", "/account/tokens/<int:token_id>/revoke"): page(("owner_own", "admin"), ok=OK),
    ("GET", "/admin/users"): page(ADMIN),
    ("POST", "/admin/users"): page(ADMIN, ok=OK),
    ("GET", "/admin/users/<int:user_id>"): page(ADMIN),
    ("POST", "/admin/users/<int:user_id>"): page(ADMIN, ok=OK),
    ("POST", "/admin/users/<int:user_id>/password"): page(ADMIN, ok=OK),
    ("GET", "/account/password"): page(),
    ("POST", "/account/password"): page(ok=OK),  # an empty form: 422, the fields asked for
    ("GET", "/api/v1/me"): api(),
    ("GET", "/api/v1/openapi.json"): public(200),
}

EXPECTED["org_units"] = {
    ("GET", "/admin/org-units"): page(ADMIN),
    ("POST", "/admin/org-units"): page(ADMIN, ok=OK),
    ("GET", "/admin/org-units/<int:unit_id>"): page(ADMIN),
    ("POST", "/admin/org-units/<int:unit_id>"): page(ADMIN, ok=OK),
    ("GET", "/api/v1/org-units"): api(),
    ("POST", "/api/v1/org-units"): api(ADMIN, ok=201),
}

EXPECTED["systems"] = {
    ("GET", "/systems"): page(),
    ("GET", "/systems/<int:system_id>"): page(),
    ("GET", "/systems/new"): page(ADMIN),
    ("POST", "/systems/new"): page(ADMIN, ok=OK),
    ("GET", "/systems/<int:system_id>/edit"): page(EDITORS),
    ("POST", "/systems/<int:system_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/systems/<int:system_id>/major-change"): page(EDITORS, ok=OK),
    ("GET", "/api/v1/systems"): api(),
    ("POST", "/api/v1/systems"): api(ADMIN, ok=201),
    ("GET", "/api/v1/systems/<int:system_id>"): api(),
    ("PATCH", "/api/v1/systems/<int:system_id>"): api(EDITORS, ok=OK),
    ("POST", "/api/v1/systems/<int:system_id>/major-change"): api(EDITORS, ok=OK),
}

EXPECTED["audit"] = {
    ("GET", "/audit"): page(("ciso", "admin", "auditor")),
    ("GET", "/audit/export.jsonl"): page(("ciso", "admin", "auditor")),
    ("GET", "/api/v1/audit"): api(("ciso", "admin", "auditor")),
}


DPO = ("dpo",)
DECIDER = ("risk_owner",)  # the system's named risk owner (who is not its system owner)
FOLLOW_UP = ("owner_own", "risk_owner", "admin")  # the system's owners (admin acting for one)

EXPECTED["filing"] = {
    ("GET", "/filing/bands.css"): public(200),
    ("GET", "/systems/<int:system_id>/filing"): page(READ_RECORDS),
    ("GET", "/systems/<int:system_id>/classifications"): page(READ_RECORDS),
    ("GET", "/systems/<int:system_id>/classifications/compare"): page(READ_RECORDS, ok=OK),
    ("GET", "/systems/<int:system_id>/classifications/new"): page(EDITORS),
    ("POST", "/systems/<int:system_id>/classifications/new"): page(EDITORS, ok=OK),
    ("GET", "/classifications/<int:classification_id>"): page(READ_RECORDS),
    ("GET", "/classifications/<int:classification_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/classifications/<int:classification_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/classifications/<int:classification_id>/finalise"): page(EDITORS, ok=OK),
    ("GET", "/systems/<int:system_id>/risk-analyses"): page(READ_RECORDS),
    ("GET", "/systems/<int:system_id>/risk-analyses/new"): page(EDITORS, ok=OK),
    ("POST", "/systems/<int:system_id>/risk-analyses/new"): page(EDITORS, ok=OK),
    ("POST", "/systems/<int:system_id>/risk-analyses/new-round"): page(EDITORS, ok=OK),
    ("GET", "/risk-analyses/<int:analysis_id>"): page(READ_RECORDS),
    ("GET", "/risk-analyses/<int:analysis_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/risk-analyses/<int:analysis_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/risk-analyses/<int:analysis_id>/finalise"): page(EDITORS, ok=OK),
    ("GET", "/risk-analyses/<int:analysis_id>/risks/new"): page(EDITORS, ok=OK),
    ("POST", "/risk-analyses/<int:analysis_id>/risks/new"): page(EDITORS, ok=OK),
    ("GET", "/risk-analyses/<int:analysis_id>/risks/<int:risk_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/risk-analyses/<int:analysis_id>/risks/<int:risk_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/risk-analyses/<int:analysis_id>/risks/<int:risk_id>/delete"): page(EDITORS, ok=OK),
    ("GET", "/risk-actions/<int:action_id>"): page(READ_RECORDS),
    ("POST", "/risk-actions/<int:action_id>"): page(EDITORS, ok=OK),
    ("GET", "/systems/<int:system_id>/dpia"): page(READ_RECORDS),
    ("GET", "/systems/<int:system_id>/dpia-screenings/new"): page(EDITORS),
    ("POST", "/systems/<int:system_id>/dpia-screenings/new"): page(EDITORS, ok=OK),
    ("GET", "/systems/<int:system_id>/dpias/new"): page(EDITORS, ok=OK),
    ("POST", "/systems/<int:system_id>/dpias/new"): page(EDITORS, ok=OK),
    ("GET", "/dpias/<int:dpia_id>"): page(READ_RECORDS),
    ("GET", "/dpias/<int:dpia_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/dpias/<int:dpia_id>/edit"): page(EDITORS, ok=OK),
    ("POST", "/dpias/<int:dpia_id>/finalise"): page(EDITORS, ok=OK),
    ("GET", "/dpias/<int:dpia_id>/opinion"): page(DPO, ok=OK),
    ("POST", "/dpias/<int:dpia_id>/opinion"): page(DPO, ok=OK),
    ("GET", "/systems/<int:system_id>/slas"): page(READ_RECORDS),
    ("GET", "/systems/<int:system_id>/slas/new"): page(EDITORS),
    ("POST", "/systems/<int:system_id>/slas/new"): page(EDITORS, ok=OK),
    ("GET", "/slas/<int:sla_id>"): page(READ_RECORDS),
    ("POST", "/slas/<int:sla_id>"): page(EDITORS, ok=OK),
    ("GET", "/slas/priority-list"): page(READ_ALL),
    ("GET", "/api/v1/systems/<int:system_id>/classifications"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/classifications"): api(EDITORS, ok=201),
    ("GET", "/api/v1/classifications/<int:classification_id>"): api(READ_RECORDS),
    ("PATCH", "/api/v1/classifications/<int:classification_id>"): api(EDITORS, ok=OK),
    ("POST", "/api/v1/classifications/<int:classification_id>/finalise"): api(EDITORS, ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/risk-analyses"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/risk-analyses"): api(EDITORS, ok=201),
    ("POST", "/api/v1/systems/<int:system_id>/risk-analyses/new-round"): api(EDITORS, ok=OK),
    ("GET", "/api/v1/risk-analyses/<int:analysis_id>"): api(READ_RECORDS),
    ("PATCH", "/api/v1/risk-analyses/<int:analysis_id>"): api(EDITORS, ok=OK),
    ("POST", "/api/v1/risk-analyses/<int:analysis_id>/finalise"): api(EDITORS, ok=OK),
    ("GET", "/api/v1/risk-actions/<int:action_id>"): api(READ_RECORDS),
    ("PATCH", "/api/v1/risk-actions/<int:action_id>"): api(EDITORS, ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/overdue-actions"): api(READ_RECORDS),
    ("GET", "/api/v1/me/overdue-actions"): api(),
    # without ?a=&b= the readers get 422 (the query), the others 403 first
    ("GET", "/api/v1/systems/<int:system_id>/classifications/compare"): api(READ_RECORDS, ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/dpia-screenings"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/dpia-screenings"): api(EDITORS, ok=201),
    ("GET", "/api/v1/dpia-screenings/<int:screening_id>"): api(READ_RECORDS),
    ("GET", "/api/v1/systems/<int:system_id>/dpias"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/dpias"): api(EDITORS, ok=201),
    ("GET", "/api/v1/dpias/<int:dpia_id>"): api(READ_RECORDS),
    ("PATCH", "/api/v1/dpias/<int:dpia_id>"): api(EDITORS, ok=OK),
    ("POST", "/api/v1/dpias/<int:dpia_id>/finalise"): api(EDITORS, ok=OK),
    ("POST", "/api/v1/dpias/<int:dpia_id>/opinion"): api(DPO, ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/slas"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/slas"): api(EDITORS, ok=201),
    ("GET", "/api/v1/slas/<int:sla_id>"): api(READ_RECORDS),
    ("GET", "/api/v1/slas/<int:sla_id>/measurements"): api(READ_RECORDS),
    ("POST", "/api/v1/slas/<int:sla_id>/measurements"): api(EDITORS, ok=OK),  # the second one: 409
    ("GET", "/api/v1/slas/priority-list"): api(READ_ALL),
}

EXPECTED["approvals"] = {
    ("GET", "/approvals"): page(REPORT_READERS),
    ("GET", "/approvals/queue"): page(("risk_owner", *READ_ALL)),
    ("GET", "/approvals/queues"): page(READ_ALL),
    ("GET", "/approvals/conditions"): page(REPORT_READERS),
    ("GET", "/approvals/<int:approval_id>"): page(READ_RECORDS),
    ("GET", "/approvals/<int:approval_id>/pdf"): page(READ_RECORDS),
    ("POST", "/approvals/<int:approval_id>/revoke"): page(("risk_owner", "ciso"), ok=OK),
    ("POST", "/approvals/conditions/<int:condition_id>/fulfil"): page(FOLLOW_UP, ok=OK),
    ("POST", "/approvals/conditions/<int:condition_id>/reopen"): page(("risk_owner", "ciso"), ok=OK),
    ("GET", "/systems/<int:system_id>/approval"): page(READ_RECORDS),
    ("POST", "/systems/<int:system_id>/approval/request"): page(EDITORS, ok=OK),
    ("POST", "/approval-requests/<int:request_id>/withdraw"): page(EDITORS, ok=OK),
    ("GET", "/systems/<int:system_id>/approval/decide"): page(DECIDER, ok=OK),
    ("POST", "/systems/<int:system_id>/approval/decide"): page(DECIDER, ok=OK),
    ("GET", "/systems/<int:system_id>/decommissioning"): page(READ_RECORDS),
    ("POST", "/systems/<int:system_id>/decommissioning"): page(FOLLOW_UP, ok=OK),
    ("POST", "/decommissioning/<int:plan_id>/complete"): page(FOLLOW_UP, ok=OK),
    ("POST", "/decommissioning/<int:plan_id>/cancel"): page(("risk_owner", "ciso"), ok=OK),
    ("GET", "/verify/<reference>"): page(),
    ("GET", "/approvals/print"): page(REPORT_READERS),
    ("POST", "/approvals/print"): page(REPORT_READERS, ok=OK),
    # a print job is its creator's (the CISO's here)
    ("GET", "/approvals/print/<int:job_id>"): page(("ciso",)),
    ("GET", "/approvals/print/<int:job_id>/status"): page(("ciso",)),
    ("GET", "/approvals/print/<int:job_id>/pdf"): page(("ciso",), ok=OK),
    ("POST", "/approvals/print/<int:job_id>/restart"): page(("ciso",), ok=OK),
    ("GET", "/api/v1/approval-queue"): api(("risk_owner", *READ_ALL)),
    ("GET", "/api/v1/approval-queue/summary"): api(("risk_owner", *READ_ALL)),
    ("GET", "/api/v1/approval-conditions"): api(REPORT_READERS),
    ("POST", "/api/v1/approval-conditions/<int:condition_id>/fulfil"): api(FOLLOW_UP, ok=OK),
    ("POST", "/api/v1/approval-conditions/<int:condition_id>/reopen"): api(("risk_owner", "ciso"), ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/approval-prerequisites"): api(READ_RECORDS),
    ("GET", "/api/v1/systems/<int:system_id>/approval-requests"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/approval-requests"): api(EDITORS, ok=OK),
    ("POST", "/api/v1/approval-requests/<int:request_id>/withdraw"): api(EDITORS, ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/approvals"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/approvals"): api(DECIDER, ok=OK),
    ("GET", "/api/v1/approvals/<int:approval_id>"): api(READ_RECORDS),
    ("GET", "/api/v1/approvals/<int:approval_id>/pdf"): api(READ_RECORDS),
    ("POST", "/api/v1/approvals/<int:approval_id>/revoke"): api(("risk_owner", "ciso"), ok=OK),
    ("GET", "/api/v1/systems/<int:system_id>/decommissioning-plans"): api(READ_RECORDS),
    ("POST", "/api/v1/systems/<int:system_id>/decommissioning-plans"): api(FOLLOW_UP, ok=OK),
    ("POST", "/api/v1/decommissioning-plans/<int:plan_id>/complete"): api(FOLLOW_UP, ok=OK),
    ("POST", "/api/v1/decommissioning-plans/<int:plan_id>/cancel"): api(("risk_owner", "ciso"), ok=OK),
    ("GET", "/api/v1/verify/<reference>"): api(),
    ("POST", "/api/v1/approval-prints"): api(REPORT_READERS, ok=OK),
    ("GET", "/api/v1/approval-prints/<int:job_id>"): api(("ciso",)),
    ("GET", "/api/v1/approval-prints/<int:job_id>/pdf"): api(("ciso",), ok=OK),
    ("POST", "/api/v1/approval-prints/<int:job_id>/restart"): api(("ciso",), ok=OK),
}

EXPECTED["imports"] = {
    ("GET", "/imports"): page(ADMIN),
    ("POST", "/imports"): page(ADMIN, ok=OK),
    ("POST", "/imports/settings"): page(ADMIN, ok=OK),
    ("GET", "/imports/<int:batch_id>"): page(ADMIN),
    ("GET", "/imports/<int:batch_id>/review"): page(ADMIN),
    ("GET", "/imports/<int:batch_id>/progress"): page(ADMIN, ok=OK),
    ("POST", "/imports/<int:batch_id>/decide"): page(ADMIN, ok=OK),
    ("POST", "/imports/<int:batch_id>/accept-confident"): page(ADMIN, ok=OK),
    ("POST", "/imports/<int:batch_id>/read-again"): page(ADMIN, ok=OK),
    ("POST", "/imports/<int:batch_id>/apply"): page(ADMIN, ok=OK),
    ("POST", "/imports/<int:batch_id>/undo"): page(ADMIN, ok=OK),
    ("GET", "/api/v1/imports"): api(ADMIN),
    ("POST", "/api/v1/imports"): api(ADMIN, ok=OK),
    ("GET", "/api/v1/imports/settings"): api(ADMIN),
    ("PUT", "/api/v1/imports/settings"): api(ADMIN, ok=OK),
    ("GET", "/api/v1/imports/<int:batch_id>"): api(ADMIN),
    ("PATCH", "/api/v1/imports/<int:batch_id>"): api(ADMIN, ok=OK),
    ("GET", "/api/v1/imports/<int:batch_id>/rows"): api(ADMIN),
    ("POST", "/api/v1/imports/<int:batch_id>/decisions"): api(ADMIN, ok=OK),
    ("POST", "/api/v1/imports/<int:batch_id>/accept-confident"): api(ADMIN, ok=OK),
    ("POST", "/api/v1/imports/<int:batch_id>/apply"): api(ADMIN, ok=OK),
    ("POST", "/api/v1/imports/<int:batch_id>/undo"): api(ADMIN, ok=OK),
}


EXPECTED["reports"] = {
    # every role reads the coverage report: the read-all roles over everything, owners over their systems
    ("GET", "/reports/coverage"): page(REPORT_READERS),
    ("GET", "/reports/coverage.pdf"): page(REPORT_READERS),
    ("GET", "/reports/coverage.csv"): page(REPORT_READERS),
    ("GET", "/reports/coverage.xlsx"): page(REPORT_READERS),
    ("GET", "/reports/systems.csv"): page(REPORT_READERS),
    ("GET", "/reports/systems.xlsx"): page(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage"): api(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage.pdf"): api(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage.csv"): api(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage.xlsx"): api(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage/heatmap"): api(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage/progress"): api(REPORT_READERS),
    ("GET", "/api/v1/reports/coverage/sla"): api(REPORT_READERS),
    ("GET", "/api/v1/systems.csv"): api(REPORT_READERS),
    ("GET", "/api/v1/systems.xlsx"): api(REPORT_READERS),
}


@dataclass
class World:
    """One system owned by ``owner_own`` with a record of every kind, and a user per role. Plain values only:
    each request runs in an app context of its own, which ends the session the ORM objects belonged to."""

    emails: dict
    session_ids: dict
    user_ids: dict
    tokens: dict
    system_id: int
    unit_id: int
    other_unit_id: int
    token_id: int
    records: dict


def build_world(session) -> World:
    from riskreg.models import ApiToken
    from tests.conftest import Factory

    make = Factory(session)
    users = {
        "owner_own": make.user("system_owner", name="Ägare Egen"),
        "owner_other": make.user("system_owner", name="Ägare Annan"),
        "risk_owner": make.user("risk_owner", name="Risk Ägare"),
        "ciso": make.user("ciso"),
        "dpo": make.user("dpo"),
        "admin": make.admin(),
        "auditor": make.user("auditor"),
    }
    unit, other_unit = make.org_unit(), make.org_unit()
    system = make.system(
        name="Walk", org_unit_id=unit.id, system_owner=users["owner_own"], risk_owner=users["risk_owner"]
    )
    make.system(name="Annans", org_unit_id=other_unit.id, system_owner=users["owner_other"])
    tokens = {role: make.token(user) for role, user in users.items()}
    token_id = session.query(ApiToken.id).filter_by(user_id=users["owner_own"].id).scalar()
    return World(
        {r: u.email for r, u in users.items()},
        {r: u.get_id() for r, u in users.items()},
        {r: u.id for r, u in users.items()},
        tokens,
        system.id,
        unit.id,
        other_unit.id,
        token_id,
        make_records(session, system, users),
    )


@pytest.fixture(scope="module")
def walk_db(app):
    """The world, built once per database for the whole walk, in a transaction that is rolled back at
    the end; each test then runs inside a savepoint of its own (see ``world``)."""
    with app.app_context():
        conn = _db.engine.connect()
        outer = conn.begin()
        session = scoped_session(sessionmaker(bind=conn, join_transaction_mode="create_savepoint"))
        original, _db.session = _db.session, session
        try:
            world = build_world(session)
            session.commit()  # into the outer transaction
            session.remove()
        finally:
            _db.session = original
        try:
            yield conn, session, world
        finally:
            session.remove()
            outer.rollback()
            conn.close()


@pytest.fixture
def world(walk_db) -> World:
    """The shared world; whatever a test's requests change is rolled back after it."""
    conn, session, world = walk_db
    nested = conn.begin_nested()
    original, _db.session = _db.session, session
    try:
        yield world
    finally:
        session.remove()
        _db.session = original
        if nested.is_active:
            nested.rollback()


def current_version(w: World) -> int:
    from sqlalchemy import select

    from riskreg.extensions import db
    from riskreg.models import System

    return db.session.execute(select(System.version).where(System.id == w.system_id)).scalar_one()


def make_records(session, system, users) -> dict:
    """Rows written directly (not through the features' services, which may still be changing): enough for
    each route to find its record."""
    now, today = utcnow(), date.today()
    owner = users["owner_own"]
    cls = Classification(
        system_id=system.id,
        number=1,
        status=RecordStatus.FINAL,
        confidentiality=2,
        integrity=2,
        availability=2,
        declared_confidentiality=2,
        declared_integrity=2,
        declared_availability=2,
        created_by_id=owner.id,
        finalised_by_id=owner.id,
        finalised_at=now,
    )
    session.add(cls)
    session.flush()
    analysis = RiskAnalysis(
        system_id=system.id,
        number=1,
        status=RecordStatus.FINAL,
        analysed_on=today,
        classification_id=cls.id,
        created_by_id=owner.id,
        finalised_by_id=owner.id,
        finalised_at=now,
    )
    session.add(analysis)
    session.flush()
    risk = Risk(
        analysis_id=analysis.id, position=0, title="Avbrott", aspect=Aspect.T, likelihood=2, consequence=2
    )
    session.add(risk)
    session.flush()
    action = RiskAction(
        risk_id=risk.id, description="Reservrutin", responsible_id=owner.id, due_on=today + timedelta(days=30)
    )
    screening = DpiaScreening(system_id=system.id, dpia_required=True, created_by_id=owner.id)
    session.add_all([action, screening])
    session.flush()
    dpia = Dpia(
        system_id=system.id,
        screening_id=screening.id,
        status=RecordStatus.DRAFT,
        description="d",
        purposes="p",
        legal_basis="l",
        necessity="n",
        risks="r",
        measures="m",
        created_by_id=owner.id,
    )
    sla = Sla(
        system_id=system.id,
        supplier="Leverantör AB",
        availability_target=Decimal("99.00"),
        created_by_id=owner.id,
    )
    session.add_all([dpia, sla])
    session.flush()
    system.current_classification_id, system.current_risk_analysis_id = cls.id, analysis.id
    system.current_screening_id, system.current_sla_id = screening.id, sla.id
    session.flush()
    reference, valid_until = f"DG-{today.year}-9001", today + timedelta(days=3 * 365)
    conditions = [{"text": "Logga åtkomst", "due_on": today + timedelta(days=60), "responsible_id": owner.id}]
    snapshot = decision_snapshot(
        session,
        system,
        reference=reference,
        decision="approved_with_conditions",
        motivation="m",
        valid_until=valid_until,
        decided_at=now,
        decided_by=users["risk_owner"],
        conditions=conditions,
        accepted={},
    )
    approval = Approval(
        system_id=system.id,
        reference=reference,
        year=today.year,
        sequence=9001,
        decision=Decision.APPROVED_WITH_CONDITIONS,
        motivation="m",
        valid_until=valid_until,
        decided_by_id=users["risk_owner"].id,
        decided_at=now,
        classification_id=cls.id,
        confidentiality=2,
        integrity=2,
        availability=2,
        risk_analysis_id=analysis.id,
        screening_id=screening.id,
        sla_id=sla.id,
        snapshot=snapshot,
        content_sha256=hashlib.sha256(repr(snapshot).encode()).hexdigest(),
    )
    session.add(approval)
    session.flush()
    condition = ApprovalCondition(
        approval_id=approval.id,
        text="Logga åtkomst",
        responsible_id=owner.id,
        due_on=today + timedelta(days=60),
    )
    request = ApprovalRequest(
        system_id=system.id, status=RequestStatus.PENDING, requested_by_id=owner.id, requested_at=now
    )
    plan = DecommissioningPlan(
        system_id=system.id,
        planned_on=today + timedelta(days=90),
        responsible_id=owner.id,
        disposition=InformationDisposition.ARCHIVED,
        created_by_id=owner.id,
    )
    job = PdfJob(created_by_id=users["ciso"].id, selection={}, status="done")
    content = b"Namn;Leverant\xf6r\r\nCosmic;Cambio\r\n"
    batch = ImportBatch(
        source="walk",
        filename="lista.csv",
        content=content,
        content_sha256=hashlib.sha256(content).hexdigest(),
        file_kind="csv",
        encoding="cp1252",
        delimiter=";",
        headers=["Namn", "Leverantör"],
        mapping={"Namn": "name"},
        status=ImportStatus.READY,
        row_count=1,
        created_by_id=users["admin"].id,
    )
    session.add_all([condition, request, plan, job, batch])
    session.flush()
    system.current_approval_id, system.open_request_id = approval.id, request.id
    session.flush()
    return {
        "classification_id": cls.id,
        "analysis_id": analysis.id,
        "action_id": action.id,
        "screening_id": screening.id,
        "dpia_id": dpia.id,
        "sla_id": sla.id,
        "approval_id": approval.id,
        "condition_id": condition.id,
        "request_id": request.id,
        "plan_id": plan.id,
        "job_id": job.id,
        "reference": approval.reference,
        "risk_id": risk.id,
        "batch_id": batch.id,
    }


def decision_snapshot(session, system, **decision) -> dict:
    """A decision's frozen content as the approvals feature builds it (the PDF prints it); {} without it."""
    try:
        from riskreg.services import approval_snapshot
    except ImportError:
        return {}
    return approval_snapshot.build(session, approval_snapshot.Records(session, system), **decision)


# Route parameters by name. Features add theirs here.
PARAMS: dict[str, Callable[[World], object]] = {
    "system_id": lambda w: w.system_id,
    "user_id": lambda w: w.user_ids["auditor"],
    "unit_id": lambda w: w.unit_id,
    "org_unit_id": lambda w: w.unit_id,
    "token_id": lambda w: w.token_id,
    "filename": lambda w: "app.css",
}
for _name in (
    "classification_id",
    "analysis_id",
    "action_id",
    "screening_id",
    "dpia_id",
    "sla_id",
    "approval_id",
    "condition_id",
    "request_id",
    "plan_id",
    "job_id",
    "reference",
    "risk_id",
    "batch_id",
):
    PARAMS[_name] = (lambda key: lambda w: w.records[key])(_name)
MISSING_ID = 999999

# Bodies for JSON writes, so that the permission (not a missing field) decides. Features add theirs.
BODIES: dict[tuple[str, str], Callable[[World], object]] = {
    ("POST", "/api/v1/org-units"): lambda w: {"name": "Walk-enhet"},
    ("POST", "/api/v1/systems"): lambda w: {"name": "Walk-nytt", "org_unit_id": w.unit_id},
    ("PATCH", "/api/v1/systems/<int:system_id>"): lambda w: {
        "description": "ändrad",
        "version": current_version(w),
    },
    ("POST", "/api/v1/systems/<int:system_id>/major-change"): lambda w: {"description": "Ny modul"},
    ("POST", "/api/v1/systems/<int:system_id>/classifications"): lambda w: {
        "confidentiality": 2,
        "integrity": 2,
        "availability": 3,
    },
    ("POST", "/api/v1/systems/<int:system_id>/risk-analyses"): lambda w: {
        "analysed_on": date.today().isoformat(),
        "risks": [],
    },
    ("POST", "/api/v1/systems/<int:system_id>/dpia-screenings"): lambda w: {"criteria": []},
    ("POST", "/api/v1/systems/<int:system_id>/dpias"): lambda w: {
        k: "x" for k in ("description", "purposes", "legal_basis", "necessity", "risks", "measures")
    },
    ("POST", "/api/v1/systems/<int:system_id>/slas"): lambda w: {
        "supplier": "Leverantör AB",
        "availability_target": 99.5,
    },
    ("POST", "/api/v1/slas/<int:sla_id>/measurements"): lambda w: {
        "period": (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
        "availability": 99.9,
    },
    ("POST", "/api/v1/dpias/<int:dpia_id>/opinion"): lambda w: {"opinion": "Godtagbar."},
    ("POST", "/api/v1/systems/<int:system_id>/approvals"): lambda w: {
        "decision": "rejected",
        "motivation": "Nej.",
    },
    ("POST", "/api/v1/approvals/<int:approval_id>/revoke"): lambda w: {
        "motivation": "Ändrade förutsättningar."
    },
    ("POST", "/api/v1/decommissioning-plans/<int:plan_id>/cancel"): lambda w: {
        "motivation": "Beslutet omprövas."
    },
    ("POST", "/api/v1/approval-conditions/<int:condition_id>/fulfil"): lambda w: {},
    ("POST", "/api/v1/approval-conditions/<int:condition_id>/reopen"): lambda w: {},
    ("POST", "/api/v1/imports/<int:batch_id>/decisions"): lambda w: [],
    ("POST", "/api/v1/systems/<int:system_id>/decommissioning-plans"): lambda w: {
        "planned_on": (date.today() + timedelta(days=30)).isoformat(),
        "disposition": "archived",
        "responsible_id": w.user_ids["owner_own"],
    },
}

# Form fields for HTML posts where an empty form would be refused before the permission is asked.
FORMS: dict[tuple[str, str], Callable[[World], dict]] = {
    ("POST", "/approvals/<int:approval_id>/revoke"): lambda w: {"motivation": "Ändrade förutsättningar."},
}


def url_for_rule(rule, w: World) -> str:
    values = {arg: PARAMS[arg](w) if arg in PARAMS else MISSING_ID for arg in rule.arguments}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def all_expectations() -> dict[tuple[str, str], tuple[str, dict]]:
    out = {}
    for feature, table in EXPECTED.items():
        for key, roles in table.items():
            assert key not in out, f"{key} is in both {out[key][0]} and {feature}"
            assert set(roles) == set(ROLES), (
                f"{feature} {key}: roles {sorted(set(ROLES) - set(roles))} missing"
            )
            out[key] = (feature, roles)
    return out


def routes_of(app) -> set[tuple[str, str]]:
    return {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_table(app):
    routes, table = routes_of(app), set(all_expectations())
    missing = sorted(routes - table, key=lambda k: (k[1], k[0]))
    stale = sorted(table - routes, key=lambda k: (k[1], k[0]))
    assert not missing, (
        "routes with no expected answers in EXPECTED (add them to their feature's dict):\n"
        + "\n".join(f'    ("{m}", "{r}")' for m, r in missing)
    )
    if stale:  # a feature still on its way (its routes not there yet) or a route renamed: say so, do not fail
        warnings.warn(
            "EXPECTED names routes that do not exist: " + ", ".join(f"{m} {r}" for m, r in stale),
            stacklevel=1,
        )


def matches(resp, expected) -> bool:
    location = resp.headers.get("Location", "")
    to_login = resp.status_code in (301, 302, 303, 307, 308) and "/login" in location
    if expected == LOGIN:
        return to_login
    if expected == OK:
        return resp.status_code < 500 and resp.status_code not in (401, 403) and not to_login
    return resp.status_code == expected


def login(app, session_id: str):
    """A client signed in as the user (Flask-Login's session keys, as its FlaskLoginClient sets them; the
    login form itself is tested in test_ui_accounts)."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = session_id, True
        sess.permanent = True
    return client


def call(app, w: World, role: str, method: str, rule) -> object:
    """One request as the role, in an app context of its own (as on a server: nothing in ``g`` carries
    over from another user's request)."""
    url = url_for_rule(rule, w)
    with app.app_context():
        if rule.rule.startswith("/api/"):
            headers = {"Authorization": f"Bearer {w.tokens[role]}"} if role != "anonymous" else {}
            body = BODIES.get((method, rule.rule))
            kwargs = {"json": body(w) if body else {}} if method in ("POST", "PATCH", "PUT") else {}
            resp = app.test_client().open(url, method=method, headers=headers, **kwargs)
        else:
            client = app.test_client() if role == "anonymous" else login(app, w.session_ids[role])
            form = FORMS.get((method, rule.rule))
            resp = client.open(
                url, method=method, data=(form(w) if form else {}) if method == "POST" else None
            )
        resp.get_data()  # a streamed answer runs to its end (and closes its request) inside this context
        resp.close()
    return resp


@pytest.mark.parametrize(
    "key", sorted(all_expectations(), key=lambda k: (k[1], k[0])), ids=lambda k: f"{k[0]} {k[1]}"
)
def test_route_answers_each_role_as_expected(app, world, key, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_JOBS_INLINE", True)  # batch prints run in the request, not a thread
    method, path = key
    feature, expected = all_expectations()[key]
    rules = [r for r in app.url_map.iter_rules() if r.rule == path and method in r.methods]
    if not rules:
        pytest.skip(f"{method} {path} is not (yet) a route; test_every_route_is_in_the_table reports it")
    wrong = []
    for role in ROLES:
        resp = call(app, world, role, method, rules[0])
        if not matches(resp, expected[role]):
            wrong.append(
                f"{role}: expected {expected[role]}, got {resp.status_code} "
                f"{resp.headers.get('Location', '')}".rstrip()
            )
    assert not wrong, f"[{feature}] {method} {path}\n  " + "\n  ".join(wrong)
