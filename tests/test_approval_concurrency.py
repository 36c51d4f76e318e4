"""Decisions made at the same instant on PostgreSQL, each in its own thread, connection and transaction:
diarienummer stay unique and gap-free (the year's counter row is locked with SELECT … FOR UPDATE), and
two decisions on one system leave exactly one (the system row is locked). SQLite serialises writers
itself, so these run on PostgreSQL only, in a database of their own (committed rows must not leak into
the rolled-back tests)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from riskreg import create_app
from riskreg.errors import RuleViolation
from riskreg.models import Approval, ReferenceCounter
from riskreg.services import approvals
from tests.approval_support import World
from tests.conftest import NOW, TEST_CONFIG, Factory, _make_pg_database, actor, pg_available

pytestmark = pytest.mark.postgresql
THREADS = 8


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    if not pg_available():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    url, drop = _make_pg_database()
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        from flask_migrate import upgrade

        from riskreg.extensions import db

        upgrade(revision="heads")
        db.engine.dispose()
    engine = create_engine(application.config["SQLALCHEMY_DATABASE_URI"], pool_size=THREADS + 2)
    yield application, engine
    engine.dispose()
    drop()


def ready_worlds(app, engine, n: int) -> list[tuple[int, int]]:
    """n systems awaiting a decision, committed; returns (system id, risk owner id) pairs."""
    with app.app_context(), Session(engine) as session:
        make = Factory(session)
        worlds = []
        for _ in range(n):
            world = World(make, session)
            world.ready()
            world.request()
            worlds.append(world)
        session.commit()
        return [(w.system.id, w.risk_owner.id) for w in worlds]


def decide_all_at_once(app, engine, jobs: list[tuple[int, int]], when) -> list:
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def work(i: int, system_id: int, risk_owner_id: int) -> None:
        from riskreg.models import User

        with app.app_context(), Session(engine) as session:
            user = session.get(User, risk_owner_id)
            risks = {
                r.id: "Godtas"
                for r in approvals.high_residual_risks(session, approvals.get_system(session, system_id))
            }
            barrier.wait()
            try:
                a = approvals.decide(
                    session,
                    actor(user, when),
                    system_id,
                    decision="approved",
                    motivation="OK",
                    accepted_risks=risks,
                )
                session.commit()
                results[i] = a.reference
            except RuleViolation as exc:
                session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=work, args=(i, sid, rid)) for i, (sid, rid) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_simultaneous_decisions_get_unique_gap_free_references(pg_app):
    app, engine = pg_app
    when = NOW.replace(year=2031)
    jobs = ready_worlds(app, engine, THREADS)
    refs = decide_all_at_once(app, engine, jobs, when)
    assert all(isinstance(r, str) for r in refs), refs
    assert sorted(refs) == [f"DG-2031-{n:04d}" for n in range(1, THREADS + 1)]
    with Session(engine) as session:
        assert session.get(ReferenceCounter, 2031).last == THREADS


def test_two_decisions_on_one_system_leave_one(pg_app):
    app, engine = pg_app
    when = NOW.replace(year=2032) + timedelta(hours=1)
    (job,) = ready_worlds(app, engine, 1)
    results = decide_all_at_once(app, engine, [job, job], when)
    refs = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert refs == ["DG-2032-0001"] and len(refused) == 1 and refused[0].code == "not_awaiting_decision"
    with Session(engine) as session:
        assert (
            session.execute(select(Approval).where(Approval.system_id == job[0])).scalars().all().__len__()
            == 1
        )
        assert session.get(ReferenceCounter, 2032).last == 1


def test_simultaneous_decisions_through_the_api_get_unique_gap_free_references(pg_app):
    """The same, end to end: each thread posts its decision to the real app with its own bearer token, so
    each runs in a request, session and transaction of its own."""
    app, engine = pg_app
    with app.app_context(), Session(engine) as session:
        make = Factory(session)
        jobs = []
        for _ in range(THREADS):
            world = World(make, session)
            world.ready()
            world.request()
            jobs.append((world.system.id, make.token(world.risk_owner), world.high_risk_ids()))
        session.commit()
    barrier = threading.Barrier(THREADS)
    answers: list = [None] * THREADS

    def post(i: int, system_id: int, token: str, high: list[int]) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            f"/api/v1/systems/{system_id}/approvals",
            json={"decision": "approved", "motivation": "Godtagbart", "accepted_risk_ids": high},
            headers={"Authorization": f"Bearer {token}"},
        )
        answers[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=post, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a is not None and a[0] == 201 for a in answers), answers
    refs = sorted(a[1]["reference"] for a in answers)
    year = refs[0][3:7]  # the year the requests were made in (only this test decides in it)
    assert refs == [f"DG-{year}-{n:04d}" for n in range(1, THREADS + 1)]
    with Session(engine) as session:
        assert session.get(ReferenceCounter, int(year)).last == THREADS
