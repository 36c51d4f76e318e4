"""The trail is append-only (a PostgreSQL trigger refuses UPDATE and DELETE) and the retention purge removes
only events older than max(180, AUDIT_RETENTION_DAYS) days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from riskreg import audit
from riskreg.actor import SYSTEM_ACTOR, Actor
from riskreg.errors import NotAllowed
from riskreg.models import AuditEvent
from riskreg.models.base import utcnow
from riskreg.services import audit_log


def _event(db_session, days_old: float, entity: str = "probe_retention") -> AuditEvent:
    event = audit.record(db_session, Actor(None, now=utcnow() - timedelta(days=days_old)), entity, 1, "create")
    db_session.flush()
    return event


def _ids(db_session, entity="probe_retention") -> set[int]:
    return set(db_session.execute(select(AuditEvent.id).where(AuditEvent.entity == entity)).scalars())


def _pg_only(app):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL")


def test_trigger_refuses_update_and_delete(app, db_session):
    _pg_only(app)
    event = _event(db_session, 400)
    for sql in ("UPDATE audit_events SET action = 'forged' WHERE id = :id", "DELETE FROM audit_events WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(sql), {"id": event.id})
    assert db_session.get(AuditEvent, event.id).action == "create"


def test_trigger_never_lets_a_young_event_go_even_with_the_purge_switched_on(app, db_session):
    _pg_only(app)
    young = _event(db_session, 179)
    with pytest.raises(DBAPIError, match="younger than 180 days"), db_session.begin_nested():
        db_session.execute(text("SELECT set_config('riskreg.audit_purge', 'on', true), "
                                "set_config('riskreg.audit_retention_days', '1', true)"))
        db_session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": young.id})
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("SELECT set_config('riskreg.audit_purge', 'on', true)"))
        db_session.execute(text("UPDATE audit_events SET action = 'forged' WHERE id = :id"), {"id": young.id})
    assert young.id in _ids(db_session)


@pytest.mark.parametrize("configured,kept_days", [(30, 180), (365, 365)])
def test_purge_removes_only_what_is_older_than_the_retention(app, db_session, configured, kept_days):
    app.config["AUDIT_RETENTION_DAYS"] = configured
    try:
        old = _event(db_session, kept_days + 20).id
        borderline = _event(db_session, kept_days - 1).id
        young = _event(db_session, 1).id
        n, cutoff, days = audit_log.purge(db_session, SYSTEM_ACTOR)
        db_session.flush()
    finally:
        app.config["AUDIT_RETENTION_DAYS"] = 730
    assert days == kept_days
    assert n >= 1 and cutoff < utcnow() - timedelta(days=kept_days - 1)
    db_session.expire_all()
    assert _ids(db_session) == {borderline, young}
    assert old not in _ids(db_session)
    purge = db_session.execute(select(AuditEvent).where(AuditEvent.action == "purge")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert purge.entity == "audit_event" and purge.after["removed"] == n and purge.after["retention_days"] == days


def test_the_trigger_is_back_on_after_a_purge(app, db_session):
    _pg_only(app)
    _event(db_session, 400)
    audit_log.purge(db_session, SYSTEM_ACTOR)
    young = _event(db_session, 1)
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": young.id})


def test_dry_run_counts_and_removes_nothing(app, db_session):
    old = _event(db_session, 800)
    n, _cutoff, _days = audit_log.purge(db_session, SYSTEM_ACTOR, dry_run=True)
    assert n >= 1 and old.id in _ids(db_session)


def test_only_an_admin_or_the_command_line_purges(make, db_session):
    with pytest.raises(NotAllowed):
        audit_log.purge(db_session, Actor(make.user("auditor", "ciso")))
    audit_log.purge(db_session, Actor(make.admin()), dry_run=True)


def test_cli_purge(app, db_session):
    old = _event(db_session, 900).id
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would be removed" in result.output and old in _ids(db_session)
    result = runner.invoke(args=["audit", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("removed ") and "older than 730 days" in result.output
    db_session.expire_all()
    assert old not in _ids(db_session)
    assert db_session.execute(select(func.count()).where(AuditEvent.action == "purge")).scalar_one() >= 1
