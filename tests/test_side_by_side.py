"""The report's parts side by side on PostgreSQL (riskreg/side_by_side.py): each on its own connection
reading the request's snapshot. The rest of the suite turns this off (its data is never committed), so
these tests run on committed data in a database of their own."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from riskreg import create_app, side_by_side
from riskreg.extensions import db
from riskreg.models import System
from tests.approval_support import World
from tests.conftest import NOW, TEST_CONFIG, Factory, _make_pg_database, pg_available

pytestmark = pytest.mark.postgresql


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """An app on a database of its own (its request pool a single connection, as a busy server's may be
    all taken) with a small region committed: systems in several stages, a decision with conditions."""
    if not pg_available():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    url, drop = _make_pg_database()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "REPORT_PARTS_SIDE_BY_SIDE": True,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 5}})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        db.engine.dispose()
    engine = create_engine(url)
    with app.app_context(), Session(engine) as session:
        make = Factory(session)
        for decision in ("approved", "approved_with_conditions", "rejected"):
            world = World(make, session)
            world.ready()
            world.request()
            world.decide(decision)
        World(make, session).ready()
        for _ in range(3):
            make.system()
        ciso = make.user("ciso")
        session.commit()
        ciso_id = ciso.id
    yield app, engine, ciso_id
    with app.app_context():
        db.engine.dispose()
        app.extensions.pop("riskreg.side_by_side").dispose()
    engine.dispose()
    drop()


def as_ciso(app, ciso_id: int, side_by_side_on: bool, report):
    """``report(actor, filter)`` in a request of the CISO, with the parts side by side or not."""
    from riskreg.actor import Actor
    from riskreg.models import User
    from riskreg.services.reports import ReportFilter

    app.config["REPORT_PARTS_SIDE_BY_SIDE"] = side_by_side_on
    try:
        with app.test_request_context():
            data = report(Actor(user=db.session.get(User, ciso_id), now=NOW), ReportFilter())
            db.session.rollback()
            return data
    finally:
        app.config["REPORT_PARTS_SIDE_BY_SIDE"] = True


def gathered(app, ciso_id: int, side_by_side_on: bool) -> dict:
    from riskreg.blueprints.reports.common import gather

    return as_ciso(app, ciso_id, side_by_side_on, gather)


def test_parts_side_by_side_give_what_they_give_one_after_the_other(committed):
    app, _engine, ciso_id = committed
    together, apart = gathered(app, ciso_id, True), gathered(app, ciso_id, False)
    assert together == apart
    assert together["cov"]["total"] == 7 and together["cov"]["approved_valid"] == 2
    assert together["cov"]["with_conditions"] == 1 and together["cov"]["rejected"] == 1
    # the rejected system is being decommissioned: out of the population, as the DESIGN says
    assert together["cov"]["population"] == 6 and together["cov"]["being_decommissioned"] == 1
    assert together["heat"]["systems"] == together["cov"]["risk_analysed"] == 3


def test_every_part_reads_the_snapshot_of_the_request_even_after_a_commit(committed):
    """Part "late" waits until part "writer" has committed a new system from a connection of its own,
    then counts: it still counts what the request saw when it exported its snapshot."""
    app, engine, _ = committed
    written = threading.Event()

    def writer(session: Session) -> int:
        with Session(engine) as other:
            Factory(other).system(name="Skriven under tiden")
            other.commit()
        written.set()
        return session.scalar(select(func.count(System.id)))

    def late(session: Session) -> tuple[int, str]:
        assert written.wait(10), "the writer never ran"
        return session.scalar(select(func.count(System.id))), threading.current_thread().name

    with app.test_request_context():
        before = db.session.scalar(select(func.count(System.id)))
        counts = side_by_side.run(db.session, {"writer": writer, "late": late})
        db.session.rollback()
        after = db.session.scalar(select(func.count(System.id)))
    assert counts["writer"] == before
    assert counts["late"][0] == before and counts["late"][1].startswith("riskreg-part")
    assert after == before + 1
    with Session(engine) as other:
        other.delete(other.scalars(select(System).where(System.name == "Skriven under tiden")).one())
        other.commit()


def test_a_failing_part_fails_the_whole_and_the_others_finish(committed):
    app, _engine, _ = committed
    finished = []

    def fine(session: Session) -> int:
        finished.append(True)
        return session.scalar(select(func.count(System.id)))

    def broken(session: Session) -> int:
        raise LookupError("no such figure")

    with app.test_request_context():
        with pytest.raises(LookupError, match="no such figure"):
            side_by_side.run(db.session, {"fine": fine, "broken": broken})
        db.session.rollback()
    assert finished == [True]


def test_a_part_cannot_write(committed):
    from sqlalchemy.exc import InternalError

    app, _engine, _ = committed

    def sneaky(session: Session) -> None:
        session.execute(System.__table__.update().values(description="ändrad i en del"))

    with app.test_request_context():
        with pytest.raises(InternalError, match="read-only transaction"):
            side_by_side.run(db.session, {"sneaky": sneaky, "n": lambda s: s.scalar(select(func.count()))})
        db.session.rollback()


def test_off_or_on_sqlite_the_parts_run_in_the_request_session(app, db_session, make):
    """The rest of the suite: the parts see the test's uncommitted data because they run in its session."""
    make.system(name="Bara i testets transaktion")
    named = select(func.count(System.id)).where(System.name == "Bara i testets transaktion")
    seen = side_by_side.run(db_session, {"a": lambda s: s.scalar(named), "b": lambda s: s is db_session})
    assert seen == {"a": 1, "b": True}


def test_the_coverage_figures_side_by_side_match_one_after_the_other(committed):
    """The coverage JSON runs its two statements (stages, figures) side by side itself."""
    from riskreg.services import reports

    app, _engine, ciso_id = committed

    def coverage(actor, rf):
        return reports.coverage(db.session, actor, rf)

    together, apart = as_ciso(app, ciso_id, True, coverage), as_ciso(app, ciso_id, False, coverage)
    assert together == apart
    assert together["stages"]["approved"] == 1 and together["actions_overdue_count"] == 9
