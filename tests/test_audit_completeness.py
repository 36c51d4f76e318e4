"""Every change writes an audit event in the same transaction as the change; so do logins, failed logins,
token use and exports.

Two layers: a static walk over every service module (it grows with each capability: a service entry point
that writes rows must reach ``audit.record``), and behavioural checks of each service that exists now, each
run in a SAVEPOINT that is rolled back afterwards: the event must vanish with the change, which it does only
when both were written in one transaction."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from riskreg.actor import SYSTEM_ACTOR, Actor
from riskreg.models import AuditEvent, LoginAttempt, OrgUnit, System, User
from riskreg.models.base import utcnow
from riskreg.services import accounts, audit_log, org_units, systems
from tests.conftest import PASSWORD, actor

SERVICES = Path(__file__).resolve().parent.parent / "riskreg" / "services"
WRITES = {
    "add",
    "add_all",
    "delete",
    "merge",
    "bulk_save_objects",
    "bulk_insert_mappings",
    "bulk_update_mappings",
}
STATEMENTS = {"insert", "update", "delete"}
# Entry points that change rows through a caller that records the event (each one reported to the lead)
KNOWN_SILENT = {
    "systems.add_alias": "adds an alias for the imports' apply, which records the row it merges",
}


# ------------------------------------------------------------------ static: every writing service audits


class _Module:
    def __init__(self, path: Path):
        self.name = path.stem
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions = {n.name: n for n in self.tree.body if isinstance(n, ast.FunctionDef)}
        self.aliases = {}  # local name -> services module name
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module == "riskreg.services":
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = alias.name


def _calls(fn: ast.FunctionDef):
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            yield node


def _direct(fn: ast.FunctionDef) -> tuple[bool, bool]:
    """(writes rows, records an audit event) by itself."""
    writes = audits = False
    for call in _calls(fn):
        f = call.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            if f.value.id == "audit" and f.attr == "record":
                audits = True
            if f.value.id in ("session", "db_session") and f.attr in WRITES:
                writes = True
            if f.attr == "execute" and call.args and isinstance(call.args[0], ast.Call):
                inner = call.args[0].func
                name = inner.id if isinstance(inner, ast.Name) else getattr(inner, "attr", "")
                if name == "insert" and "AuditEvent" in ast.unparse(call.args[0]):
                    audits = True  # events written in bulk (the same rows audit.record adds one by one)
                else:
                    writes |= name in STATEMENTS
    return writes, audits


def _callees(module: _Module, fn: ast.FunctionDef, modules: dict[str, _Module]):
    for call in _calls(fn):
        f = call.func
        if isinstance(f, ast.Name) and f.id in module.functions:
            yield module, module.functions[f.id]
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in module.aliases:
            other = modules.get(module.aliases[f.value.id])
            if other and f.attr in other.functions:
                yield other, other.functions[f.attr]


def _reach(module, fn, modules, seen=None) -> tuple[bool, bool]:
    seen = seen if seen is not None else set()
    if (module.name, fn.name) in seen:
        return False, False
    seen.add((module.name, fn.name))
    writes, audits = _direct(fn)
    for m, callee in _callees(module, fn, modules):
        w, a = _reach(m, callee, modules, seen)
        writes, audits = writes or w, audits or a
    return writes, audits


def _takes_actor(fn: ast.FunctionDef) -> bool:
    return any(a.arg == "actor" for a in fn.args.args + fn.args.kwonlyargs)


def test_every_service_entry_point_that_writes_records_an_audit_event():
    modules = {p.stem: _Module(p) for p in SERVICES.glob("*.py") if p.stem != "__init__"}
    silent = []
    for module in modules.values():
        for fn in module.functions.values():
            if f"{module.name}.{fn.name}" in KNOWN_SILENT:
                continue
            if fn.name.startswith("_") or not _takes_actor(fn):
                continue  # entry points take (session, actor, …); helpers are covered by their callers
            writes, audits = _reach(module, fn, modules)
            if writes and not audits:
                silent.append(f"{module.name}.{fn.name}")
    assert not silent, f"services that change rows without audit.record: {silent}"
    assert {"accounts", "systems", "org_units", "audit_log"} <= set(modules)


def test_the_static_walk_sees_writes_and_audits():
    sample = ast.parse(
        "def f(session, actor):\n    session.add(x)\n\n"
        "def g(session, actor):\n    session.execute(update(T))\n    audit.record(session, actor)\n\n"
        "def h(session, actor):\n    session.execute(insert(AuditEvent.__table__), rows)\n"
    )
    f, g_, h = sample.body
    assert _direct(f) == (True, False) and _direct(g_) == (True, True) and _direct(h) == (False, True)


# ------------------------------------------------------------------ behavioural: one transaction


def _last_id(session) -> int:
    return session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()


def in_one_transaction(session, change, entity: str, action: str, gone=None):
    """Run ``change`` in a SAVEPOINT: it must write (entity, action); after a rollback the event is gone
    with the change (``gone()`` says the change itself is gone too)."""
    start = _last_id(session)
    savepoint = session.begin_nested()
    result = change()
    session.flush()
    events = session.execute(select(AuditEvent).where(AuditEvent.id > start)).scalars().all()
    assert (entity, action) in {(e.entity, e.action) for e in events}, [(e.entity, e.action) for e in events]
    event = next(e for e in events if (e.entity, e.action) == (entity, action))
    assert event.at is not None and event.request_id == "test" and event.client_address == "127.0.0.1"
    savepoint.rollback()
    assert _last_id(session) == start, "the audit event outlived the rollback of its change"
    if gone is not None:
        assert gone(), "the change outlived the rollback"
    return result


def test_accounts(make, db_session):
    admin = make.admin()
    who = actor(admin)
    in_one_transaction(
        db_session,
        lambda: accounts.create_user(
            db_session, who, email="ny.person@region.example", name="Ny", roles=["auditor"], password=PASSWORD
        ),
        "user",
        "create",
        gone=lambda: (
            db_session.execute(select(User).where(User.email == "ny.person@region.example")).first() is None
        ),
    )
    user = make.user("ciso")
    in_one_transaction(
        db_session, lambda: accounts.update_user(db_session, who, user.id, name="Nytt namn"), "user", "update"
    )
    in_one_transaction(
        db_session, lambda: accounts.update_user(db_session, who, user.id, active=False), "user", "update"
    )
    in_one_transaction(
        db_session,
        lambda: accounts.set_password(db_session, actor(user), user, "Ett-Annat-Lösen-5"),
        "user",
        "password_changed",
    )
    token = in_one_transaction(
        db_session, lambda: accounts.create_token(db_session, actor(user), user, "t"), "api_token", "create"
    )
    del token
    _row, _plain = accounts.create_token(db_session, actor(user), user, "t2")
    db_session.flush()
    in_one_transaction(
        db_session, lambda: accounts.revoke_token(db_session, actor(user), _row.id), "api_token", "revoke"
    )


def test_logins_and_failed_logins(make, db_session):
    user = make.user("ciso")
    in_one_transaction(
        db_session,
        lambda: accounts.authenticate(db_session, actor(None), user.email, PASSWORD),
        "user",
        "login",
    )
    in_one_transaction(
        db_session,
        lambda: accounts.authenticate(db_session, actor(None), user.email, "fel"),
        "user",
        "login_failed",
        gone=lambda: db_session.execute(select(LoginAttempt)).first() is None,
    )
    for _ in range(5):
        accounts.authenticate(db_session, actor(None), user.email, "fel")
    db_session.flush()

    def throttled():
        with pytest.raises(accounts.LoginThrottled):
            accounts.authenticate(db_session, actor(None), user.email, PASSWORD)

    in_one_transaction(db_session, throttled, "user", "login_throttled")


def test_the_login_page_records_success_and_failure(client, make, db_session):
    user = make.user("auditor")
    start = _last_id(db_session)
    g.pop("_login_user", None)
    client.post("/login", data={"email": user.email, "password": "fel-lösenord"})
    g.pop("_login_user", None)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    events = db_session.execute(select(AuditEvent).where(AuditEvent.id > start)).scalars().all()
    assert [(e.action, e.entity_id) for e in events] == [("login_failed", user.id), ("login", user.id)]
    assert [e.user_id for e in events] == [None, user.id]  # nobody was signed in when the first failed
    assert all(e.request_id and len(e.request_id) >= 8 for e in events)


def test_token_use_is_recorded_at_most_every_15_minutes(api, make, db_session):
    user = make.user("auditor")
    c = api(user)
    start = _last_id(db_session)
    for _ in range(3):
        assert c.get("/api/v1/me").status_code == 200
    used = (
        db_session.execute(select(AuditEvent).where(AuditEvent.id > start, AuditEvent.action == "used"))
        .scalars()
        .all()
    )
    assert len(used) == 1 and used[0].entity == "api_token" and used[0].user_id == user.id
    assert used[0].after == {"path": "/api/v1/me", "method": "GET"}


def test_org_units(make, db_session):
    who = actor(make.admin())
    unit = in_one_transaction(
        db_session,
        lambda: org_units.create(db_session, who, name="Ny förvaltning"),
        "org_unit",
        "create",
        gone=lambda: (
            db_session.execute(select(OrgUnit).where(OrgUnit.name == "Ny förvaltning")).first() is None
        ),
    )
    del unit
    unit = make.org_unit()
    in_one_transaction(
        db_session,
        lambda: org_units.rename(db_session, who, unit.id, name="Omdöpt", parent_id=None),
        "org_unit",
        "update",
    )


def test_systems(make, db_session):
    admin = make.admin()
    owner = make.user("system_owner")
    unit = make.org_unit()
    in_one_transaction(
        db_session,
        lambda: systems.create(
            db_session, actor(admin), {"name": "Transaktionssystemet", "org_unit_id": unit.id}
        ),
        "system",
        "create",
        gone=lambda: (
            db_session.execute(select(System).where(System.name == "Transaktionssystemet")).first() is None
        ),
    )
    system = make.system(system_owner=owner)
    in_one_transaction(
        db_session,
        lambda: systems.update(
            db_session, actor(owner), system.id, {"description": "Ny"}, version=system.version
        ),
        "system",
        "update",
    )
    db_session.expire_all()
    in_one_transaction(
        db_session,
        lambda: systems.record_major_change(db_session, actor(owner), system.id, "Nytt journalsystem"),
        "system",
        "major_change",
    )


def test_audit_export_and_purge(make, db_session):
    auditor = make.user("auditor")
    in_one_transaction(
        db_session,
        lambda: audit_log.record_export(db_session, actor(auditor), audit_log.AuditFilter(), "jsonl"),
        "audit_event",
        "export",
    )
    old = Actor(None, now=utcnow() - timedelta(days=800))
    from riskreg import audit

    audit.record(db_session, old, "probe", 1, "create")
    audit.record(db_session, actor(auditor), "probe", 2, "create")  # the newest stays (SQLite reuses top ids)
    db_session.flush()
    in_one_transaction(
        db_session,
        lambda: audit_log.purge(
            db_session, SYSTEM_ACTOR.__class__(None, client_address="127.0.0.1", request_id="test")
        ),
        "audit_event",
        "purge",
    )


def test_exports_of_reports_are_recorded_when_reports_exist(app, api, make, db_session):
    paths = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/reports/coverage.")]
    if not paths:
        pytest.skip("no report exports yet")
    c = api(make.user("ciso"))
    for path in paths:
        start = _last_id(db_session)
        assert c.get(path).status_code == 200, path
        actions = db_session.execute(select(AuditEvent.action).where(AuditEvent.id > start)).scalars().all()
        assert "export" in actions, (path, actions)
