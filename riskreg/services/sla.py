"""SLAs (tjänstenivåavtal) and their monthly availability measurements.

Rules (DESIGN.md, issue 4):
- an SLA is never edited: a changed SLA is a new record that replaces the current one
  (``system.current_sla_id``; ``replaces_id`` keeps the chain);
- a measurement is one calendar month (``period`` = the first day), at most one per SLA and month,
  not for a month that has not begun; it is met when the availability reaches the SLA's target;
- the priority list (prioriteringslista vid katastrofläge) follows the last 12 full months against
  SLA_PRIORITY_TARGET (99.00 %); the required availability can follow the T level
  (REQUIRED_AVAILABILITY_BY_T) and an SLA weaker than required is flagged.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from riskreg import audit, lifecycle
from riskreg.actor import Actor
from riskreg.errors import Conflict
from riskreg.models import Sla, SlaMeasurement, System
from riskreg.services import filing

MAX_HOURS = Decimal("100000")
UNSEEN = object()  # ``replaces_id`` not given: the client does not say which SLA it saw
MAX_DOWNTIME = 31 * 24 * 60
PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


def get(session: Session, sla_id: int) -> Sla:
    return filing.load(session, Sla, sla_id, _l("SLA %(id)s does not exist.", id=sla_id))


def get_readable(session: Session, actor: Actor, sla_id: int) -> Sla:
    record = get(session, sla_id)
    filing.require_read(actor, filing.system(session, record.system_id))
    return record


def slas_statement(system_id: int):
    return select(Sla).where(Sla.system_id == system_id).order_by(Sla.created_at.desc(), Sla.id.desc())


def measurements_statement(sla_id: int):
    return (
        select(SlaMeasurement).where(SlaMeasurement.sla_id == sla_id).order_by(SlaMeasurement.period.desc())
    )


def _number(
    problems: filing.Problems,
    field: str,
    value: Any,
    places: str,
    low: Decimal,
    high: Decimal,
    *,
    required: bool = True,
    low_open: bool = False,
) -> Decimal | None:
    """A number quantised to the column's places, checked after rounding (what is stored is checked)."""
    if value is None or value == "":
        if required:
            problems.add(field, _l("Required."))
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise InvalidOperation
        number = Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems.add(field, _l("Not a valid number."))
        return None
    if number < low or number > high or (low_open and number == low):
        problems.add(
            field,
            _l(
                "Must be %(op)s %(low)s and at most %(high)s.",
                op=">" if low_open else "≥",
                low=low,
                high=high,
            ),
        )
        return None
    return number


def month_of(problems: filing.Problems, value: Any) -> date | None:
    """A period: a date (its month) or ``YYYY-MM``."""
    if isinstance(value, date):
        return value.replace(day=1)
    if isinstance(value, str):
        m = PERIOD.match(value.strip())
        if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1900:
            return date(int(m.group(1)), int(m.group(2)), 1)
    problems.add("period", _l("A month as YYYY-MM."))
    return None


def snapshot(sla: Sla) -> dict[str, Any]:
    return audit.columns_of(sla)


def create(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    supplier: str,
    availability_target: Any,
    agreement_ref: str = "",
    service_hours: str = "",
    rto_hours: Any = None,
    rpo_hours: Any = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    replaces_id: Any = UNSEEN,
) -> Sla:
    """Record an SLA; it replaces the system's current one (an SLA is never edited).
    ``replaces_id`` is the current SLA the user saw (None: they saw none); when another SLA has been
    recorded since, the new one is refused (two owners recording a changed SLA at once: the second
    would silently replace the first). Without it (older API clients) there is no such check.
    Raises NotFound, NotAllowed, StaleVersion (409: another SLA is current now), RuleViolation
    (supplier missing, target outside (0, 100], negative RTO/RPO, validity ending before it starts)."""
    system = filing.writable_system(session, actor, system_id)
    if replaces_id is not UNSEEN and replaces_id != system.current_sla_id:
        current = get(session, system.current_sla_id) if system.current_sla_id else None
        raise filing.StaleVersion(
            _l("Someone else recorded an SLA for this system meanwhile; yours is not saved."),
            fields={
                "replaces_id": [
                    _l("The current SLA is %(id)s.", id=system.current_sla_id)
                    if system.current_sla_id
                    else _l("The system has no SLA now.")
                ]
            },
            record=current,
        )
    problems = filing.Problems()
    clean = {
        "supplier": problems.text("supplier", supplier, 200, required=True),
        "agreement_ref": problems.text("agreement_ref", agreement_ref, 200),
        "service_hours": problems.text("service_hours", service_hours, 2000),
        "availability_target": _number(
            problems,
            "availability_target",
            availability_target,
            "0.01",
            Decimal(0),
            Decimal(100),
            low_open=True,
        ),
        "rto_hours": _number(problems, "rto_hours", rto_hours, "0.01", Decimal(0), MAX_HOURS, required=False),
        "rpo_hours": _number(problems, "rpo_hours", rpo_hours, "0.01", Decimal(0), MAX_HOURS, required=False),
        "valid_from": problems.day("valid_from", valid_from, required=False),
        "valid_to": problems.day("valid_to", valid_to, required=False),
    }
    if clean["valid_from"] and clean["valid_to"] and clean["valid_to"] < clean["valid_from"]:
        problems.add("valid_to", _l("The agreement cannot end before it starts."))
    problems.raise_if_any(_l("The SLA is invalid."))
    sla = Sla(
        system_id=system.id,
        replaces_id=system.current_sla_id,
        created_by_id=actor.user_id,
        created_at=actor.at(),
        **clean,
    )
    session.add(sla)
    session.flush()
    system.current_sla_id = sla.id
    session.flush()
    audit.record(session, actor, "sla", sla.id, "create", None, snapshot(sla))
    return sla


def add_measurement(
    session: Session,
    actor: Actor,
    sla_id: int,
    *,
    period: date | str,
    availability: Any,
    downtime_minutes: int | None = None,
    note: str = "",
) -> SlaMeasurement:
    """Record a month's measured availability against the SLA's target. Raises NotFound, NotAllowed,
    Conflict (the month is already measured), RuleViolation (period, availability 0–100, downtime)."""
    sla = get(session, sla_id)
    filing.require_write(actor, filing.system(session, sla.system_id))
    problems = filing.Problems()
    month = month_of(problems, period)
    if month is not None and month > actor.today().replace(day=1):
        problems.add("period", _l("The month has not begun yet."))
    value = _number(problems, "availability", availability, "0.001", Decimal(0), Decimal(100))
    if downtime_minutes is not None and (
        isinstance(downtime_minutes, bool)
        or not isinstance(downtime_minutes, int)
        or not 0 <= downtime_minutes <= MAX_DOWNTIME
    ):
        problems.add("downtime_minutes", _l("Must be a whole number from 0 to %(max)s.", max=MAX_DOWNTIME))
    note = problems.text("note", note, 2000)
    problems.raise_if_any(_l("The measurement is invalid."))
    taken = session.execute(
        select(SlaMeasurement.id).where(SlaMeasurement.sla_id == sla.id, SlaMeasurement.period == month)
    ).first()
    if taken:
        raise Conflict(
            _l("%(month)s is already measured for this SLA.", month=month.strftime("%Y-%m")),
            fields={"period": [_l("Already measured.")]},
        )
    m = SlaMeasurement(
        sla_id=sla.id,
        system_id=sla.system_id,
        period=month,
        availability=value,
        downtime_minutes=downtime_minutes,
        target=sla.availability_target,
        note=note,
        created_by_id=actor.user_id,
        created_at=actor.at(),
    )
    session.add(m)
    session.flush()
    audit.record(
        session,
        actor,
        "sla_measurement",
        m.id,
        "create",
        None,
        {**audit.columns_of(m), "target_met": m.target_met},
    )
    return m


# ------------------------------------------------------------------ requirements and the priority list


def required_availability(t_level: int | None) -> Decimal | None:
    """The availability an SLA should promise for a T level (configuration; None = no requirement)."""
    if t_level is None:
        return None
    table = current_app.config.get("REQUIRED_AVAILABILITY_BY_T") or {}
    value = table.get(t_level, table.get(str(t_level)))
    return None if value is None else Decimal(str(value))


def weaker_than_required(target: Decimal | None, t_level: int | None) -> bool:
    required = required_availability(t_level)
    return target is not None and required is not None and Decimal(target) < required


def priority_target() -> Decimal:
    return Decimal(str(current_app.config.get("SLA_PRIORITY_TARGET", 99.0)))


def last_months(today: date, n: int = 12) -> list[date]:
    """The n full calendar months before this one, oldest first."""
    months = []
    y, m = today.year, today.month
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        months.append(date(y, m, 1))
    return months[::-1]


def priority_list(
    session: Session, today: date, *, page: int = 1, per_page: int = 100, without_sla: bool = False
) -> dict[str, Any]:
    """The priority-list systems with their current SLA, the T level's requirement, and availability for
    the last 12 full months against the priority target: one page of systems (by name), and the figures
    over all of them counted in SQL. Four queries, whatever the number of systems."""
    months = last_months(today)
    target = priority_target()
    on_list = System.priority_list.is_(True)
    no_sla = System.current_sla_id.is_(None)
    total, bare = session.execute(
        select(func.count(System.id), func.coalesce(func.sum(case((no_sla, 1), else_=0)), 0)).where(on_list)
    ).one()
    latest = (
        select(
            SlaMeasurement.system_id,
            SlaMeasurement.period,
            SlaMeasurement.availability,
            func.row_number()
            .over(
                partition_by=(SlaMeasurement.system_id, SlaMeasurement.period),
                order_by=(SlaMeasurement.created_at.desc(), SlaMeasurement.id.desc()),
            )
            .label("rn"),
        )
        .join(System, System.id == SlaMeasurement.system_id)
        .where(on_list, SlaMeasurement.period >= months[0], SlaMeasurement.period <= months[-1])
        .subquery()
    )
    missed_any = session.execute(
        select(func.count(func.distinct(latest.c.system_id))).where(
            latest.c.rn == 1, latest.c.availability < target
        )
    ).scalar_one()
    cc = lifecycle.CurrentClassification
    stmt = (
        select(
            System.id,
            System.name,
            System.criticality,
            System.lifecycle,
            System.supplier,
            Sla,
            cc.availability,
        )
        .select_from(System)
        .outerjoin(Sla, Sla.id == System.current_sla_id)
        .outerjoin(cc, cc.id == System.current_classification_id)
        .where(on_list, *([no_sla] if without_sla else []))
        .order_by(System.name, System.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = []
    for sid, name, crit, life, supplier, sla, t_level in session.execute(stmt):
        rows.append(
            {
                "system_id": sid,
                "name": name,
                "criticality": crit,
                "lifecycle": life,
                "supplier": supplier,
                "sla": sla,
                "t_level": t_level,
                "required": required_availability(t_level),
                "weaker": weaker_than_required(sla.availability_target if sla else None, t_level),
                "months": {},
            }
        )
    by_id = {r["system_id"]: r for r in rows}
    if by_id:
        mstmt = (
            select(SlaMeasurement.system_id, SlaMeasurement.period, SlaMeasurement.availability)
            .where(
                SlaMeasurement.system_id.in_(list(by_id)),
                SlaMeasurement.period >= months[0],
                SlaMeasurement.period <= months[-1],
            )
            .order_by(SlaMeasurement.created_at, SlaMeasurement.id)
        )
        for sid, period, availability in session.execute(mstmt):
            by_id[sid]["months"][period] = availability  # the latest measurement of a month wins
    for r in rows:
        values = [r["months"].get(m) for m in months]
        r["cells"] = [
            {"period": m, "availability": v, "missed": v is not None and v < target}
            for m, v in zip(months, values, strict=True)
        ]
        r["measured"] = sum(v is not None for v in values)
        r["missed"] = sum(v is not None and v < target for v in values)
    return {
        "months": months,
        "target": target,
        "rows": rows,
        "page": page,
        "per_page": per_page,
        "total": bare if without_sla else total,
        "systems": total,
        "without_sla": bare,
        "missed_any": missed_any,
    }
