"""The demo region: every stage present, the priority list, SLAs, owners missing here and there, and a
second run that changes nothing. (A smaller region than `seed demo`'s 670, for speed; same code.)"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from riskreg import lifecycle
from riskreg.models import Sla, System, User
from riskreg.models.codes import Lifecycle, Stage
from seed import demo


def test_demo_region_spreads_over_every_stage(db_session):
    today = date(2026, 11, 24)
    summary = demo.run(db_session, echo=lambda *_: None, today=today, target=220)
    assert "Seeded 220 systems" in summary
    counts = lifecycle.count_by_stage(db_session, today)
    assert sum(counts.values()) == 220
    missing = [s for s in Stage if counts[s] == 0]
    assert missing == [], counts
    assert db_session.scalar(select(func.count()).where(System.priority_list.is_(True))) == 36
    being = db_session.scalar(select(func.count()).where(System.priority_list.is_(True),
                                                         System.lifecycle == Lifecycle.BEING_DECOMMISSIONED))
    assert being == 5
    assert 20 <= db_session.scalar(select(func.count(Sla.id))) <= 31
    without = db_session.scalar(select(func.count()).where(
        (System.system_owner_id.is_(None)) | (System.risk_owner_id.is_(None))))
    assert 0 < without < 60
    expiring = db_session.scalar(lifecycle.with_stage_joins(select(func.count(System.id)).select_from(System))
                                 .where(lifecycle.expiring_expr(today)))
    assert expiring > 0
    roles = {r.value for u in db_session.scalars(select(User).where(User.email.like("%@region.example")))
             for r in u.roles}
    assert roles == {"system_owner", "risk_owner", "ciso", "dpo", "admin", "auditor"}
    again = demo.run(db_session, echo=lambda *_: None, today=today, target=220)
    assert "nothing changed" in again
    assert db_session.scalar(select(func.count(System.id))) == 220
