"""Background work for large batches: matching, applying, undoing.

A thread of the process that took the request does the work with its own app context and its own
database session; nothing kept in memory matters to anyone else. The batch row is the truth: its status
(`matching`, `applying`, `undoing`), progress and heartbeat are written as the work goes, in short
transactions of their own, so any process of any server can answer for it. A batch whose heartbeat is
older than IMPORT_STALE_SECONDS lost its worker: matching is started again (it changes nothing in the
register), an interrupted apply or undo — whose one transaction was rolled back with its worker — is put
back to where it was with an explanation (``recover_if_stale``)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from riskreg.extensions import SQLITE_BUSY_TIMEOUT, db
from riskreg.models import ImportBatch
from riskreg.models.base import utcnow
from riskreg.models.codes import ImportStatus

log = logging.getLogger("riskreg.imports")
WORKER = f"{socket.gethostname()}:{os.getpid()}"
HEARTBEAT_EVERY = 2.0  # seconds between progress writes


def worker_id() -> str:
    return f"{WORKER}:{threading.get_ident()}"


def claim(session: Session, batch_id: int, *, from_status: ImportStatus | tuple, to_status: ImportStatus,
          stale_before=None) -> bool:
    """Move a batch from one status to another atomically (one UPDATE … WHERE status = …); False when another
    request or worker got there first. With ``stale_before``, only a batch whose heartbeat is older."""
    statuses = from_status if isinstance(from_status, tuple) else (from_status,)
    stmt = (update(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.status.in_(statuses))
            .values(status=to_status, heartbeat_at=utcnow(), worker=worker_id(), version=ImportBatch.version + 1)
            .execution_options(synchronize_session=False))
    if stale_before is not None:
        stmt = stmt.where(or_(ImportBatch.heartbeat_at.is_(None), ImportBatch.heartbeat_at < stale_before))
    return session.execute(stmt).rowcount == 1


class Heartbeat:
    """Writes progress and a heartbeat in a connection of its own (best effort: SQLite may be locked by the
    work's own transaction; the work goes on regardless)."""

    def __init__(self, engine, batch_id: int):
        self.engine, self.batch_id, self.last = engine, batch_id, 0.0

    def __call__(self, done: int, total: int, *, force: bool = False) -> None:
        import time

        now = time.monotonic()
        if not force and now - self.last < HEARTBEAT_EVERY and done < total:
            return
        self.last = now
        try:
            table = ImportBatch.__table__
            with self.engine.connect() as conn, _no_waiting(conn):
                conn.execute(update(table).where(table.c.id == self.batch_id)
                             .values(progress_done=done, progress_total=total, heartbeat_at=utcnow()))
                conn.commit()
        except Exception as exc:  # noqa: BLE001 - progress is a courtesy, the work must go on
            log.debug("progress of batch %s not written: %s", self.batch_id, exc)


@contextmanager
def _no_waiting(conn):
    """SQLite (tests, development): a heartbeat gives up at once when the database is locked — often by the
    work's own transaction. Waiting for it would hold SQLite's pending lock, which keeps every reader (the
    pages asking for progress) out until the wait ends."""
    if conn.dialect.name != "sqlite":
        yield
        return
    # On the driver's connection, outside any transaction: the transaction's own BEGIN IMMEDIATE must not
    # wait either.
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        conn.rollback()
        raw.execute(SQLITE_BUSY_TIMEOUT)


def run_in_background(kind: str, batch_id: int, user_id: int | None) -> None:
    """Start the work in a daemon thread of this process."""
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run, args=(app, kind, batch_id, user_id), daemon=True,
                              name=f"import-{kind}-{batch_id}")
    thread.start()


def _run(app: Flask, kind: str, batch_id: int, user_id: int | None) -> None:
    from riskreg.services import imports as service

    with app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
        try:
            service.run_job(session, kind, batch_id, user_id, Heartbeat(db.engine, batch_id))
        except Exception as exc:  # noqa: BLE001 - recorded on the batch, never lost
            log.exception("import %s of batch %s failed", kind, batch_id)
            session.rollback()
            service.job_failed(session, kind, batch_id, service.describe(exc))
        finally:
            session.close()


def stale_before(app: Flask | None = None):
    app = app or current_app
    return utcnow() - timedelta(seconds=app.config.get("IMPORT_STALE_SECONDS", 120))
