"""Informationsklassning: K, R and T on 0–4, with information sets; draft → final, versioned.

Rules (DESIGN.md, issue 4):
- a system's level per aspect is the highest of the declared level and of every information set;
- a finalised classification never changes; a new classification is a new version (``number``);
- finalising makes it the system's current classification (``system.current_classification_id``);
  one with a level above what an approval rests on puts the system in ``needs_review`` (lifecycle);
- a classification older than CLASSIFICATION_REVIEW_DAYS is due for review.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from riskreg import audit
from riskreg.actor import Actor
from riskreg.errors import NotFound, RuleViolation
from riskreg.models import Classification, InformationSet, System
from riskreg.models.codes import RecordStatus
from riskreg.services import filing

ASPECTS = ("confidentiality", "integrity", "availability")
MAX_SETS = 50
TEXT_MAX = 10000


def get(session: Session, classification_id: int) -> Classification:
    return filing.load(
        session,
        Classification,
        classification_id,
        _l("Classification %(id)s does not exist.", id=classification_id),
    )


def get_readable(session: Session, actor: Actor, classification_id: int) -> Classification:
    record = get(session, classification_id)
    filing.require_read(actor, filing.system(session, record.system_id))
    return record


def _check(values: dict[str, Any], sets: Iterable[dict]) -> tuple[dict, list[dict]]:
    problems = filing.Problems()
    clean = {a: problems.scale(a, values.get(a), 0, 4) for a in ASPECTS}
    for key in ("motivation", *(f"{a}_motivation" for a in ASPECTS)):
        clean[key] = problems.text(key, values.get(key), TEXT_MAX)
    clean_sets = []
    sets = list(sets or ())
    if len(sets) > MAX_SETS:
        problems.add("information_sets", _l("At most %(n)s information sets.", n=MAX_SETS))
    names: set[str] = set()
    for i, raw in enumerate(sets[:MAX_SETS]):
        raw = raw if isinstance(raw, dict) else {}
        name = problems.text(f"information_sets.{i}.name", raw.get("name"), 200, required=True)
        if name and name.lower() in names:
            problems.add(f"information_sets.{i}.name", _l("The name is used by another information set."))
        names.add(name.lower())
        item = {"name": name}
        for a in ASPECTS:
            item[a] = problems.scale(f"information_sets.{i}.{a}", raw.get(a), 0, 4)
        clean_sets.append(item)
    problems.raise_if_any(_l("The classification is invalid."))
    return clean, clean_sets


def effective_levels(declared: dict[str, int], sets: list[dict]) -> dict[str, int]:
    """The highest level wins: per aspect, the maximum of the declared level and every set."""
    return {a: max([declared[a], *(s[a] for s in sets)]) for a in ASPECTS}


def _fill(record: Classification, clean: dict, sets: list[dict]) -> None:
    for a in ASPECTS:
        setattr(record, f"declared_{a}", clean[a])
    for a, level in effective_levels(clean, sets).items():
        setattr(record, a, level)
    record.motivation = clean["motivation"]
    for a in ASPECTS:
        setattr(record, f"{a}_motivation", clean[f"{a}_motivation"])
    record.information_sets[:] = [InformationSet(position=i, **s) for i, s in enumerate(sets)]


def snapshot(record: Classification) -> dict[str, Any]:
    data = audit.columns_of(record, exclude=("version",))
    data["information_sets"] = [
        {
            "name": s.name,
            "confidentiality": s.confidentiality,
            "integrity": s.integrity,
            "availability": s.availability,
        }
        for s in record.information_sets
    ]
    return data


def create(
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    confidentiality: int,
    integrity: int,
    availability: int,
    motivation: str = "",
    confidentiality_motivation: str = "",
    integrity_motivation: str = "",
    availability_motivation: str = "",
    information_sets: Iterable[dict] = (),
    draft: bool = False,
) -> Classification:
    """File a new classification version. Not a draft → finalised at once and current.
    Raises NotFound, NotAllowed (not the system's owner or an admin), RuleViolation (levels, texts)."""
    system = filing.writable_system(session, actor, system_id)
    clean, sets = _check(
        {
            "confidentiality": confidentiality,
            "integrity": integrity,
            "availability": availability,
            "motivation": motivation,
            "confidentiality_motivation": confidentiality_motivation,
            "integrity_motivation": integrity_motivation,
            "availability_motivation": availability_motivation,
        },
        information_sets,
    )
    number = (
        session.execute(
            select(func.coalesce(func.max(Classification.number), 0)).where(
                Classification.system_id == system.id
            )
        ).scalar_one()
        + 1
    )
    record = Classification(
        system_id=system.id,
        number=number,
        status=RecordStatus.DRAFT,
        created_by_id=actor.user_id,
        created_at=actor.at(),
    )
    _fill(record, clean, sets)
    if not draft:
        _make_final(record, actor)
    session.add(record)
    session.flush()
    if not draft:
        _make_current(session, record, system)
    audit.record(session, actor, "classification", record.id, "create", None, snapshot(record))
    return record


def update(
    session: Session, actor: Actor, classification_id: int, *, version: int | None, **values: Any
) -> Classification:
    """Change a draft (every field given replaces the stored one). A stale ``version`` → Conflict;
    a finalised classification → RuleViolation (it never changes; file a new version)."""
    record = get(session, classification_id)
    filing.require_write(actor, filing.system(session, record.system_id))
    _refuse_final(record)
    filing.check_version(record, version)
    current = {a: getattr(record, f"declared_{a}") for a in ASPECTS}
    current.update(
        {
            "motivation": record.motivation,
            **{f"{a}_motivation": getattr(record, f"{a}_motivation") for a in ASPECTS},
        }
    )
    current_sets = [{"name": s.name, **{a: getattr(s, a) for a in ASPECTS}} for s in record.information_sets]
    sets = values.pop("information_sets", None)
    current.update({k: v for k, v in values.items() if k in current})
    clean, clean_sets = _check(current, current_sets if sets is None else sets)
    before = snapshot(record)
    _fill(record, clean, clean_sets)
    flag_modified(record, "motivation")  # a new version number even when only the sets changed
    session.flush()
    b, a = audit.changed(before, snapshot(record))
    audit.record(session, actor, "classification", record.id, "update", b, a)
    return record


def _refuse_final(record: Classification) -> None:
    if record.status == RecordStatus.FINAL:
        raise RuleViolation(
            _l("A finalised classification never changes; file a new version instead."),
            fields={"status": [_l("Already finalised.")]},
            code="finalised",
        )


def _make_final(record: Classification, actor: Actor) -> None:
    record.status = RecordStatus.FINAL
    record.finalised_at = actor.at()
    record.finalised_by_id = actor.user_id


def _make_current(session: Session, record: Classification, system: System) -> None:
    """The last finalised classification is the system's current one (the stage reads this pointer)."""
    session.flush()
    system.current_classification_id = record.id


def finalise(
    session: Session, actor: Actor, classification_id: int, *, version: int | None = None
) -> Classification:
    """Finalise a draft; it becomes the system's current classification. Raises NotFound, NotAllowed,
    Conflict (stale version), RuleViolation (already final)."""
    record = get(session, classification_id)
    system = filing.writable_system(session, actor, record.system_id)
    _refuse_final(record)
    filing.check_version(record, version)
    _make_final(record, actor)
    _make_current(session, record, system)
    session.flush()
    audit.record(
        session,
        actor,
        "classification",
        record.id,
        "finalise",
        {"status": RecordStatus.DRAFT.value},
        {"status": record.status.value, "finalised_at": record.finalised_at},
    )
    return record


# ------------------------------------------------------------------ reading


def history_statement(system_id: int):
    """Every version of a system's classification, newest first (information sets eager-loaded)."""
    return (
        select(Classification)
        .where(Classification.system_id == system_id)
        .options(selectinload(Classification.information_sets))
        .order_by(Classification.number.desc())
    )


def history(session: Session, actor: Actor, system_id: int) -> list[Classification]:
    filing.require_read(actor, filing.system(session, system_id))
    return list(session.execute(history_statement(system_id)).scalars())


def review_days() -> int:
    return int(current_app.config.get("CLASSIFICATION_REVIEW_DAYS", 365))


def is_review_due(record: Classification | None, today: date) -> bool:
    """A finalised classification older than the review interval is due for review (yearly by default)."""
    if record is None or record.finalised_at is None:
        return False
    return record.finalised_at.date() + timedelta(days=review_days()) < today


def review_due_on(record: Classification | None) -> date | None:
    if record is None or record.finalised_at is None:
        return None
    return record.finalised_at.date() + timedelta(days=review_days())


def versions_to_compare(
    session: Session, actor: Actor, system_id: int, left_id: Any, right_id: Any
) -> tuple[Classification, Classification]:
    """Two versions of one system's classification, for ``compare``. Raises NotFound (the system, or a
    version that is not this system's), NotAllowed (may not read its records)."""
    filing.require_read(actor, filing.system(session, system_id))
    left, right = get(session, left_id), get(session, right_id)
    if left.system_id != system_id or right.system_id != system_id:
        raise NotFound(_l("Both versions must belong to this system."))
    return left, right


def compare(left: Classification, right: Classification) -> dict[str, Any]:
    """Two versions side by side: the levels and motivations, and the information sets by name."""
    rows = []
    for a in ASPECTS:
        rows.append({"field": a, "kind": "level", "left": getattr(left, a), "right": getattr(right, a)})
        rows.append(
            {
                "field": f"declared_{a}",
                "kind": "level",
                "left": getattr(left, f"declared_{a}"),
                "right": getattr(right, f"declared_{a}"),
            }
        )
    for key in ("motivation", *(f"{a}_motivation" for a in ASPECTS)):
        rows.append({"field": key, "kind": "text", "left": getattr(left, key), "right": getattr(right, key)})
    for row in rows:
        row["differs"] = row["left"] != row["right"]
    lsets = {s.name: s for s in left.information_sets}
    rsets = {s.name: s for s in right.information_sets}
    names = [s.name for s in left.information_sets] + [
        s.name for s in right.information_sets if s.name not in lsets
    ]
    sets = []
    for name in names:
        ls, rs = lsets.get(name), rsets.get(name)
        lp = "-".join(str(getattr(ls, a)) for a in ASPECTS) if ls else None
        rp = "-".join(str(getattr(rs, a)) for a in ASPECTS) if rs else None
        sets.append({"name": name, "left": lp, "right": rp, "differs": lp != rp})
    return {"rows": rows, "sets": sets}
