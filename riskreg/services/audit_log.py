"""Reading the audit trail (lists, JSON Lines for a SIEM) and its retention purge.

The trail is written only by ``riskreg.audit.record``, in the transaction of the change it describes.
Nothing here updates an event. The one delete is the retention purge: it removes events older than
``max(180, AUDIT_RETENTION_DAYS)`` days and records itself as an event. On PostgreSQL the
append-only trigger (migration 0008_audit) refuses every UPDATE and every DELETE except, in a
transaction that switched the purge on, the DELETE of an event older than that same limit (floored at
180 days in the trigger itself)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import NotAllowed
from riskreg.models import AuditEvent, User

MIN_RETENTION_DAYS = 180
STREAM_BATCH = 1000


@dataclass(frozen=True)
class AuditFilter:
    """since: at >= since; until: at < until (a date-only ``until`` is taken as the end of that day)."""

    since: datetime | None = None
    until: datetime | None = None
    entity: str | None = None
    entity_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    after_id: int | None = None  # for a SIEM that polls: only events after the last one it has

    def clauses(self) -> list:
        out = []
        if self.since is not None:
            out.append(AuditEvent.at >= self.since)
        if self.until is not None:
            out.append(AuditEvent.at < self.until)
        if self.entity:
            out.append(AuditEvent.entity == self.entity)
        if self.entity_id is not None:
            out.append(AuditEvent.entity_id == self.entity_id)
        if self.user_id is not None:
            out.append(AuditEvent.user_id == self.user_id)
        if self.action:
            out.append(AuditEvent.action == self.action)
        if self.after_id is not None:
            out.append(AuditEvent.id > self.after_id)
        return out

    def as_dict(self) -> dict:
        return {k: v for k, v in audit.plain(self.__dict__).items() if v is not None}


def require_reader(actor: Actor) -> None:
    """The CISO, auditors and admins read the trail. Raises NotAllowed."""
    if not permissions.can_read_audit(actor.user):
        raise NotAllowed(_l("Only the CISO, auditors and administrators read the audit trail."))


def newest_first(flt: AuditFilter) -> Select:
    """The filtered events, newest first (the list answer and the page)."""
    return select(AuditEvent).where(*flt.clauses()).order_by(AuditEvent.id.desc())


def count_statement(flt: AuditFilter) -> Select:
    return select(func.count(AuditEvent.id)).where(*flt.clauses())


def count(session: Session, flt: AuditFilter) -> int:
    return session.execute(count_statement(flt)).scalar_one()


def page_with_users(session: Session, flt: AuditFilter, page_no: int, per_page: int):
    """One page of (event, user name or None) and the total, for the HTML page."""
    stmt = (select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.user_id)
            .where(*flt.clauses()).order_by(AuditEvent.id.desc())
            .limit(per_page).offset((page_no - 1) * per_page))
    return session.execute(stmt).all(), count(session, flt)


def record_export(session: Session, actor: Actor, flt: AuditFilter, fmt: str) -> None:
    """An export of the trail is itself an event (who took what out, and when)."""
    require_reader(actor)
    audit.record(session, actor, "audit_event", None, "export", None,
                 {"format": fmt, "filter": flt.as_dict()})


def stream(session: Session, flt: AuditFilter, batch: int = STREAM_BATCH) -> Iterator[list[AuditEvent]]:
    """The filtered events oldest first, in batches read by keyset (``id > last ORDER BY id``), so an
    export of millions of events holds at most one batch in memory and never uses OFFSET."""
    last = 0
    while True:
        stmt = (select(AuditEvent).where(*flt.clauses(), AuditEvent.id > last)
                .order_by(AuditEvent.id).limit(batch))
        rows = session.execute(stmt).scalars().all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id
        for row in rows:  # keep the identity map small on long exports
            session.expunge(row)
        if len(rows) < batch:
            return


def retention_days() -> int:
    """The configured retention, never below 180 days."""
    return max(MIN_RETENTION_DAYS, int(current_app.config.get("AUDIT_RETENTION_DAYS") or 0))


def purge(session: Session, actor: Actor, *, dry_run: bool = False) -> tuple[int, datetime, int]:
    """Remove events older than the retention; returns (count, cutoff, days). The purge records
    itself as an event in the same transaction. Only the command line (no user) or an administrator
    purges. Raises NotAllowed."""
    if actor.user is not None and not permissions.is_admin(actor.user):
        raise NotAllowed(_l("Only an administrator purges the audit trail."))
    days = retention_days()
    cutoff = actor.at() - timedelta(days=days)
    old = [AuditEvent.at < cutoff]
    if session.get_bind().dialect.name == "postgresql":
        # the trigger judges age by the database clock; agree with it so no row is refused mid-purge
        old.append(AuditEvent.at < func.now() - func.make_interval(0, 0, 0, days))
    n = session.execute(select(func.count(AuditEvent.id)).where(*old)).scalar_one()
    if dry_run or n == 0:
        return n, cutoff, days
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("riskreg.audit_purge", "on", True)))
        session.execute(select(func.set_config("riskreg.audit_retention_days", str(days), True)))
    session.execute(delete(AuditEvent).where(*old).execution_options(synchronize_session=False))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("riskreg.audit_purge", "off", True)))
    audit.record(session, actor, "audit_event", None, "purge", None,
                 {"removed": n, "older_than": cutoff, "retention_days": days})
    return n, cutoff, days
