"""A batch print run by its real worker thread (as in production, not inline): it renews the job's heartbeat
as pages are laid out and ends done with the PDF; a job whose worker stops renewing it is marked failed
the next time it is read, and can be started again. Runs on SQLite and PostgreSQL, each in a database of
its own (the worker's own connections must see committed rows)."""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from riskreg import create_app
from riskreg.models import PdfJob, User
from riskreg.models.base import utcnow
from riskreg.services import approval_prints
from tests.approval_support import World
from tests.conftest import BACKENDS, TEST_CONFIG, Factory, actor, database_url


@pytest.fixture(scope="module", params=BACKENDS)
def worker_app(request):
    url, drop = database_url(request.param, tempfile.mkdtemp(prefix="riskreg-print-"))
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "PDF_JOB_STALE_SECONDS": 60})
    with application.app_context():
        from flask_migrate import upgrade

        from riskreg.extensions import db

        upgrade(revision="heads")
        db.engine.dispose()
    engine = create_engine(application.config["SQLALCHEMY_DATABASE_URI"])
    yield application, engine
    engine.dispose()
    with application.app_context():
        from riskreg.extensions import db

        db.engine.dispose()
    drop()


def approved_decisions(app, engine, n: int) -> tuple[list[int], int]:
    """n committed decisions and a CISO to print them; (approval ids, the CISO's id)."""
    with app.app_context(), Session(engine) as session:
        make = Factory(session)
        ids = [World(make, session).approved().id for _ in range(n)]
        ciso = make.user("ciso")
        session.commit()
        return ids, ciso.id


def wait_until_finished(engine, job_id: int, seconds: float = 60) -> PdfJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with Session(engine) as session:
            job = session.get(PdfJob, job_id)
            if job.status != "running":
                return job
        time.sleep(0.1)
    raise AssertionError(f"print job {job_id} still running after {seconds} s")


def test_the_worker_renews_the_heartbeat_and_finishes(worker_app, monkeypatch):
    app, engine = worker_app
    ids, ciso_id = approved_decisions(app, engine, 12)
    beats: list = []
    real_heartbeat = approval_prints.Heartbeat.__call__

    def watched(self, n, *, force=False):  # records what the job row says after each report
        real_heartbeat(self, n, force=force)
        with Session(engine) as s:
            row = s.get(PdfJob, self.job_id)
            beats.append((row.done, row.heartbeat_at))

    monkeypatch.setattr(approval_prints.Heartbeat, "__call__", watched)
    with app.app_context(), Session(engine) as session:
        ciso = session.get(User, ciso_id)
        job = approval_prints.start(session, actor(ciso, utcnow()), approval_ids=ids)
        session.commit()
        started = job.heartbeat_at
        approval_prints.launch(app, session, job)
        job_id = job.id
    done = wait_until_finished(engine, job_id)
    assert done.status == "done" and done.done == 12 and done.result[:5] == b"%PDF-", done.error
    assert done.heartbeat_at >= started and done.finished_at is not None
    assert 10 in {n for n, _at in beats}  # progress written at least every PROGRESS_EVERY decisions
    assert all(at is not None and at >= started for _n, at in beats)
    assert beats[-1][1] > started  # the heartbeat was renewed while the pages were laid out


def test_a_job_whose_worker_died_fails_when_read_and_starts_again(worker_app):
    app, engine = worker_app
    ids, ciso_id = approved_decisions(app, engine, 2)
    with app.app_context(), Session(engine) as session:
        ciso = session.get(User, ciso_id)
        job = approval_prints.start(session, actor(ciso, utcnow()), approval_ids=ids)
        job.heartbeat_at = utcnow() - timedelta(seconds=61)  # its worker went with a restart
        session.commit()
        job_id = job.id
    with app.app_context(), Session(engine) as session:
        ciso = session.get(User, ciso_id)
        read = approval_prints.get_job(session, actor(ciso, utcnow()), job_id)
        session.commit()
        assert read.status == "failed"
        again = approval_prints.restart(session, actor(ciso, utcnow()), job_id)
        session.commit()
        approval_prints.launch(app, session, again)
        again_id = again.id
    assert wait_until_finished(engine, again_id).status == "done"
    with Session(engine) as session:
        both = select(PdfJob.id, PdfJob.status).where(PdfJob.id.in_([job_id, again_id]))
        statuses = dict(session.execute(both).all())
    assert statuses == {job_id: "failed", again_id: "done"}
