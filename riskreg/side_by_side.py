"""Independent read-only parts of one answer (a report's figures, heat map, SLA and progress), run side
by side on PostgreSQL: each part on its own connection that reads the request's own snapshot of the
database (``pg_export_snapshot`` / ``SET TRANSACTION SNAPSHOT``, as pg_dump's parallel jobs do), so the
parts add up exactly as if they had run one after the other in the request's transaction.

The parts run in a small pool of threads shared by the process while the request's thread waits.
Elsewhere (SQLite), with ``REPORT_PARTS_SIDE_BY_SIDE`` off, or for a single part, they
simply run one after the other in the request's session. The snapshot holds only what is committed, so
the tests (which work in a transaction they roll back) turn the option off, and tests/test_side_by_side.py
checks the parallel way on committed data."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app
from psycopg import sql
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from riskreg.config import engine_options

Part = Callable[[Session], Any]

POOL_THREADS = 8
_pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="riskreg-part")
_engine_lock = threading.Lock()
_here = threading.local()
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


def run(session: Session, parts: dict[str, Part]) -> dict[str, Any]:
    """Each part's result by name. A part only reads; an exception in one is raised here."""
    bind = session.get_bind()
    if (
        len(parts) < 2
        or getattr(_here, "in_part", False)  # a part's own parts: one after the other (no pool starvation)
        or bind.dialect.name != "postgresql"
        or not current_app.config.get("REPORT_PARTS_SIDE_BY_SIDE", True)
    ):
        return {name: part(session) for name, part in parts.items()}
    snapshot = session.execute(select(func.pg_export_snapshot())).scalar_one()
    if not _SNAPSHOT_ID.match(snapshot):
        raise RuntimeError(f"unexpected snapshot id from PostgreSQL: {snapshot!r}")
    app = current_app._get_current_object()
    # The request's transaction exported the snapshot and stays open while the parts import it (an
    # exported snapshot can be imported only while its transaction lasts): it waits for them all here.
    engine = _parts_engine(app, bind.engine)
    futures = {name: _pool.submit(_run_part, app, engine, snapshot, part) for name, part in parts.items()}
    failures = [f.exception() for f in futures.values()]
    for failure in failures:
        if failure is not None:
            raise failure
    return {name: future.result() for name, future in futures.items()}


def _parts_engine(app: Flask, engine: Engine) -> Engine:
    """The parts' own connections: a pool as large as the pool of threads, apart from the requests' pool,
    so a part never waits for a connection that a request (itself waiting for its parts) holds."""
    key = "riskreg.side_by_side"
    with _engine_lock:
        parts_engine = app.extensions.get(key)
        if parts_engine is None:
            url = engine.url.render_as_string(hide_password=False)
            options = {**engine_options(url), "pool_size": POOL_THREADS, "max_overflow": 0}
            parts_engine = app.extensions[key] = create_engine(engine.url, **options)
    return parts_engine


def _run_part(app: Flask, engine: Engine, snapshot: str, part: Part) -> Any:
    _here.in_part = True
    try:
        return _run_in_snapshot(app, engine, snapshot, part)
    finally:
        _here.in_part = False


def _run_in_snapshot(app: Flask, engine: Engine, snapshot: str, part: Part) -> Any:
    with app.app_context(), engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # Must be the transaction's first statement; SET takes no parameters, so the (checked) id is
            # quoted by the driver as a literal.
            conn.connection.driver_connection.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            )
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # parts only read: the database enforces it
            with Session(bind=conn) as part_session:
                return part(part_session)
