"""The register of systems: create, change (optimistic locking), major changes, search and lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz, process
from sqlalchemy import (
    Integer,
    Select,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from riskreg import audit, lifecycle, permissions
from riskreg.actor import Actor
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import ExternalRef, MajorChange, OrgUnit, SearchGram, System, SystemAlias, User
from riskreg.models.base import utcnow
from riskreg.models.codes import Criticality, Hosting, Lifecycle, PersonalData, Role
from riskreg.search import common_grams, fold, search_grams, trigrams

# Fields only an admin may change; a system owner edits the facts of their own systems.
ADMIN_ONLY = {"org_unit_id", "system_owner_id", "risk_owner_id"}
ENUMS = {"criticality": Criticality, "lifecycle": Lifecycle, "hosting": Hosting, "personal_data": PersonalData}
SCALAR_FIELDS = ("name", "description", "org_unit_id", "criticality", "lifecycle", "system_owner_id",
                 "risk_owner_id", "supplier", "hosting", "personal_data", "special_categories", "priority_list")


def get(session: Session, system_id: int, *, for_update: bool = False) -> System:
    stmt = select(System).where(System.id == system_id)
    if for_update:
        stmt = stmt.with_for_update()
    system = session.execute(stmt).scalar_one_or_none()
    if system is None:
        raise NotFound(_l("System %(id)s does not exist.", id=system_id))
    return system


def snapshot(system: System) -> dict[str, Any]:
    data = audit.columns_of(system, exclude=("search_key", "version", "updated_at", "created_at"))
    data["aliases"] = sorted(a.name for a in system.aliases)
    data["external_refs"] = sorted(f"{r.source}:{r.key}" for r in system.external_refs)
    return data


def _check_references(session: Session, values: dict[str, Any]) -> None:
    problems: dict[str, list[str]] = {}
    if values.get("org_unit_id") is not None and session.get(OrgUnit, values["org_unit_id"]) is None:
        problems["org_unit_id"] = [_l("No such org unit.")]
    for key, role in (("system_owner_id", Role.SYSTEM_OWNER), ("risk_owner_id", Role.RISK_OWNER)):
        if values.get(key) is None:
            continue
        user = session.get(User, values[key])
        if user is None or not user.active:
            problems[key] = [_l("No such active user.")]
        elif not user.has_role(role):
            problems[key] = [_l("The user does not hold the role %(role)s.", role=role.value)]
    if problems:
        raise RuleViolation(_l("Some references are invalid."), fields=problems)


def _set_aliases(session: Session, system: System, names: list[str]) -> None:
    wanted = []
    for name in names:
        name = name.strip()
        if name and name != system.name and name not in wanted:
            wanted.append(name)
    keep = {a.name: a for a in system.aliases}
    system.aliases[:] = [keep.get(n) or SystemAlias(name=n, search_key=fold(n)[:200]) for n in wanted]


def _set_refs(session: Session, system: System, refs: list[dict[str, str]]) -> None:
    pairs = []
    for ref in refs:
        pair = (ref["source"], ref["key"].strip())
        if pair not in pairs:
            pairs.append(pair)
    taken = session.execute(
        select(ExternalRef.source, ExternalRef.key, ExternalRef.system_id).where(
            ExternalRef.key.in_([k for _, k in pairs]))
    ).all()
    clashes = [f"{s}:{k}" for s, k, sid in taken if (s, k) in pairs and sid != system.id]
    if clashes:
        raise RuleViolation(_l("An external reference belongs to another system."),
                            fields={"external_refs": [_l("%(ref)s is already used by another system.", ref=c) for c in clashes]})
    keep = {(r.source, r.key): r for r in system.external_refs}
    system.external_refs[:] = [keep.get(p) or ExternalRef(source=p[0], key=p[1]) for p in pairs]


def reindex(session: Session, system: System) -> None:
    """Rebuild the trigrams behind fuzzy search for one system."""
    session.flush()
    session.execute(delete(SearchGram).where(SearchGram.system_id == system.id))
    grams = trigrams(system.name)
    for alias in system.aliases:
        grams |= trigrams(alias.name)
    if grams:
        session.execute(insert(SearchGram), [{"system_id": system.id, "gram": g} for g in sorted(grams)])


def _apply(system: System, values: dict[str, Any]) -> None:
    for key in SCALAR_FIELDS:
        if key in values:
            value = values[key]
            if key in ENUMS and value is not None:
                value = ENUMS[key](value)
            if isinstance(value, str) and key in ("name", "supplier"):
                value = value.strip()
            setattr(system, key, value)
    system.search_key = fold(system.name)[:200]


def create(session: Session, actor: Actor, values: dict[str, Any]) -> System:
    """Create a system (admins). Raises NotAllowed, RuleViolation."""
    if not permissions.can_manage_register(actor.user):
        raise NotAllowed(_l("Only an administrator creates systems."))
    if not str(values.get("name", "")).strip():
        raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
    _check_references(session, values)
    system = System(description="", lifecycle=Lifecycle.IN_OPERATION, personal_data=PersonalData.UNKNOWN,
                    special_categories=False, priority_list=False, created_at=actor.at(), updated_at=actor.at())
    _apply(system, values)
    session.add(system)
    session.flush()
    _set_aliases(session, system, values.get("aliases") or [])
    _set_refs(session, system, values.get("external_refs") or [])
    reindex(session, system)
    audit.record(session, actor, "system", system.id, "create", None, snapshot(system))
    return system


def update(session: Session, actor: Actor, system_id: int, values: dict[str, Any], *, version: int) -> System:
    """Change a system. A stale ``version`` raises Conflict; owners and org unit are for admins."""
    system = get(session, system_id)
    if not permissions.can_edit_system(actor.user, system):
        raise NotAllowed(_l("Only the system's own system owner or an administrator changes it."))
    if not permissions.is_admin(actor.user):
        locked = sorted(k for k in ADMIN_ONLY if k in values and values[k] != getattr(system, k))
        if locked:
            raise NotAllowed(_l("Only an administrator reassigns owners or org unit: %(fields)s", fields=", ".join(locked)))
    if version != system.version:
        raise Conflict(_l("The system has changed since version %(old)s (now %(new)s).", old=version, new=system.version),
                       fields={"version": [_l("Current version is %(version)s.", version=system.version)]})
    if "name" in values and not str(values["name"]).strip():
        raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
    _check_references(session, values)
    before = snapshot(system)
    _apply(system, values)
    if "aliases" in values:
        _set_aliases(session, system, values["aliases"] or [])
    if "external_refs" in values:
        _set_refs(session, system, values["external_refs"] or [])
    after = snapshot(system)
    b, a = audit.changed(before, after)
    if a:
        system.updated_at = actor.at()
        if "name" in a or "aliases" in a:
            reindex(session, system)
        session.flush()
        audit.record(session, actor, "system", system.id, "update", b, a)
    return system


def add_alias(session: Session, actor: Actor, system: System, name: str) -> bool:
    """Remember another name for a system (imports); True when it was new."""
    name = name.strip()
    if not name or name == system.name or any(a.name == name for a in system.aliases):
        return False
    system.aliases.append(SystemAlias(name=name[:200], search_key=fold(name)[:200]))
    reindex(session, system)
    return True


# ------------------------------------------------------------------ many at once (imports)
# The rules of create and update for many systems in one transaction, written in a few statements instead
# of a flush, a trigram rebuild and an audit event insert per system.

BULK_CHUNK = 1000  # ids per IN (…) list
MANY_CHUNK = 10_000  # rows per executemany


def _chunks(items: list, size: int = BULK_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _preload_references(session: Session, values_list: list[dict[str, Any]]) -> list:
    """The org units and users that ``values_list`` names, loaded in a query or two so that
    ``_check_references`` finds them in the session. Keep the returned list while checking (the
    session holds its objects weakly)."""
    units = sorted({v["org_unit_id"] for v in values_list if v.get("org_unit_id") is not None})
    users = sorted({v[k] for v in values_list for k in ("system_owner_id", "risk_owner_id")
                    if v.get(k) is not None})
    loaded: list = []
    for part in _chunks(units):
        loaded += session.scalars(select(OrgUnit).where(OrgUnit.id.in_(part))).all()
    for part in _chunks(users):
        loaded += session.scalars(select(User).where(User.id.in_(part))).all()
    return loaded


def _wanted_aliases(system: System, names: list[str]) -> list[str]:
    """The aliases _set_aliases keeps of ``names``: stripped, not the name, each once."""
    wanted: list[str] = []
    for name in names:
        name = name.strip()
        if name and name != system.name and name not in wanted:
            wanted.append(name)
    return wanted


AuditRow = tuple[str, int | None, str, dict | None, dict | None]  # entity, entity_id, action, before, after


def audit_many(session: Session, actor: Actor, events: list[AuditRow]) -> None:
    """Write audit events (entity, entity_id, action, before, after) in order with one executemany: the
    same rows as ``audit.record`` would add one by one."""
    if not events:
        return
    from riskreg.models import AuditEvent

    at = actor.at()
    rows = [{"at": at, "user_id": actor.user_id, "entity": entity, "entity_id": entity_id, "action": action,
             "before": audit.plain(before) if before is not None else None,
             "after": audit.plain(after) if after is not None else None,
             "client_address": actor.client_address, "request_id": actor.request_id}
            for entity, entity_id, action, before, after in events]
    session.flush()  # events added one by one before these keep their place in the trail
    for part in _chunks(rows, MANY_CHUNK):
        session.execute(insert(AuditEvent.__table__), part)


def _grams_of(system: System) -> set[str]:
    grams = trigrams(system.name)
    for alias in system.aliases:
        grams |= trigrams(alias.name)
    return grams


def reindex_many(session: Session, systems: list[System], *, fresh: bool = False) -> None:
    """``reindex`` for many systems in a few statements: afterwards each system's trigrams are exactly those
    of its name and aliases. Those it has are read first (none when ``fresh``: systems just created) so that
    only the difference is written — a new alias adds a few trigrams instead of all of them again."""
    systems = list({s.id: s for s in systems}.values())
    if not systems:
        return
    session.flush()
    table = SearchGram.__table__
    wanted = {(s.id, g) for s in systems for g in _grams_of(s)}
    have: set[tuple[int, str]] = set()
    if not fresh:
        for part in _chunks(sorted(s.id for s in systems)):
            stmt = select(table.c.system_id, table.c.gram).where(table.c.system_id.in_(part))
            have.update(session.execute(stmt))
    stale = sorted(have - wanted)
    if stale and session.get_bind().dialect.name == "postgresql":  # a long IN list of pairs plans badly
        from sqlalchemy.dialects.postgresql import ARRAY

        ids = bindparam("ids", type_=ARRAY(table.c.system_id.type))
        grams = bindparam("grams", type_=ARRAY(table.c.gram.type))
        gone = select(func.unnest(ids).label("system_id"), func.unnest(grams).label("gram")).subquery()
        stmt = delete(table).where(table.c.system_id == gone.c.system_id, table.c.gram == gone.c.gram)
        for part in _chunks(stale, 50_000):
            session.execute(stmt, {"ids": [i for i, _ in part], "grams": [g for _, g in part]})
    else:
        for part in _chunks(stale):
            session.execute(delete(table).where(tuple_(table.c.system_id, table.c.gram).in_(part)))
    _insert_grams(session, sorted(wanted - have))


def _insert_grams(session: Session, pairs: list[tuple[int, str]]) -> None:
    """(system id, trigram) rows: on PostgreSQL one statement per 50,000 from two arrays (a statement that
    does not grow with the rows), elsewhere an executemany."""
    table = SearchGram.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        ids = bindparam("ids", type_=ARRAY(table.c.system_id.type))
        grams = bindparam("grams", type_=ARRAY(table.c.gram.type))
        rows = select(func.unnest(ids), func.unnest(grams))  # the same length: unnested side by side
        stmt = insert(table).from_select(["system_id", "gram"], rows)
        for part in _chunks(pairs, 50_000):
            session.execute(stmt, {"ids": [i for i, _ in part], "grams": [g for _, g in part]})
        return
    for part in _chunks(pairs, MANY_CHUNK):
        session.execute(insert(table), [{"system_id": i, "gram": g} for i, g in part])


_COLUMN_KEYS = frozenset(a.key for a in sa_inspect(System).column_attrs)


def write_staged(session: Session, systems: list[System]) -> None:
    """Write the column changes ``stage_update`` made to ``systems`` with one executemany, checking each
    row's version as the ORM would (it writes a versioned row per statement); the session then holds
    them as written. Their aliases and references are left to the next flush. Raises Conflict when a
    system changed meanwhile."""
    systems = list({s.id: s for s in systems}.values())
    if not systems:
        return
    table = System.__table__
    changed: list[tuple[System, int]] = []
    keys: set[str] = set()
    for system in systems:
        state = sa_inspect(system)
        found = {k for k in state.committed_state
                 if k in _COLUMN_KEYS and state.attrs[k].history.has_changes()}
        if not found:  # nothing to write (say an alias only, in the same instant): nor would update
            continue
        if "version" in found:
            old = state.attrs.version.history.deleted[0]
        else:  # changed without stage_update: count the version as the ORM would
            old = system.version
            system.version = old + 1
        changed.append((system, old))
        keys |= found
    if not keys:
        return
    keys |= {"version", "updated_at"}
    cols = {attr.key: attr.columns[0] for attr in sa_inspect(System).column_attrs if attr.key in keys}
    stmt = (table.update().where(table.c.id == bindparam("k_id"), table.c.version == bindparam("k_version"))
            .values({cols[k]: bindparam(f"v_{k}") for k in sorted(keys)}))
    params = [{"k_id": system.id, "k_version": old, **{f"v_{k}": getattr(system, k) for k in sorted(keys)}}
              for system, old in changed]
    with session.no_autoflush:  # the ORM would write these rows itself, one statement each
        result = session.execute(stmt, params)
    if result.rowcount not in (-1, len(params)):
        raise Conflict(_l("Some systems have changed meanwhile; nothing was written."))
    for system, _old in changed:
        for k in keys:
            set_committed_value(system, k, getattr(system, k))


def insert_rows(session: Session, table, rows: list[dict[str, Any]], *, returning_ids: bool = False
                ) -> list[int]:
    """Insert rows (dicts with the same keys) into a table in as few statements as the database allows:
    on PostgreSQL one per 20,000 rows from one array per column (a statement whose text does not grow
    with the rows: psycopg parses long statements slowly), elsewhere an executemany. With
    ``returning_ids`` the new ids, in the order of ``rows``."""
    if not rows:
        return []
    keys = list(rows[0])
    ids: list[int] = []
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        if returning_ids:  # taken from the table's sequence first, so that they follow the rows' order
            seq = func.nextval(func.pg_get_serial_sequence(table.name, "id"))
            ids = list(session.scalars(select(seq).select_from(func.generate_series(1, len(rows)))))
            rows = [{"id": i, **row} for i, row in zip(ids, rows, strict=True)]
            keys = ["id", *keys]
        cols = [func.unnest(bindparam(f"a_{k}", type_=ARRAY(table.c[k].type))) for k in keys]
        stmt = insert(table).from_select(keys, select(*cols))  # arrays of one length: unnested side by side
        for part in _chunks(rows, 20_000):
            session.execute(stmt, {f"a_{k}": [row[k] for row in part] for k in keys})
        return ids
    if returning_ids:
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())
    for part in _chunks(rows, MANY_CHUNK):
        session.execute(insert(table), part)
    return []


def _new_system_row(values: dict[str, Any], at) -> dict[str, Any]:
    """The columns of a system ``create`` would insert for ``values`` (every column but the id)."""
    row = SimpleNamespace(description="", lifecycle=Lifecycle.IN_OPERATION,
                          personal_data=PersonalData.UNKNOWN, special_categories=False, priority_list=False,
                          created_at=at, updated_at=at, version=1)
    _apply(row, values)
    given = vars(row)
    return {c.key: given.get(c.key) for c in System.__table__.columns if c.key != "id"}


_SNAPSHOT_EXCLUDED = ("search_key", "version", "updated_at", "created_at")


def create_many(session: Session, actor: Actor, values_list: list[dict[str, Any]], *,
                events: list | None = None) -> list[int]:
    """Create many systems (admins), each by the rules of ``create``, in a few statements whatever their
    number: the systems, their aliases, references and trigrams, and one "create" audit event each (in
    the order given; into ``events`` instead, when given, for the caller to write with others by
    ``audit_many``). Returns their ids in that order. No System objects are loaded: the session reads
    them from the database when asked. Raises NotAllowed, RuleViolation; nothing is written then."""
    if not values_list:
        return []
    if not permissions.can_manage_register(actor.user):
        raise NotAllowed(_l("Only an administrator creates systems."))
    for values in values_list:
        if not str(values.get("name", "")).strip():
            raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
    loaded = _preload_references(session, values_list)
    with session.no_autoflush:
        for values in values_list:
            _check_references(session, values)
    del loaded
    refs_of = []
    for values in values_list:
        pairs: list[tuple[str, str]] = []
        for ref in values.get("external_refs") or []:
            pair = (ref["source"], ref["key"].strip())
            if pair not in pairs:
                pairs.append(pair)
        refs_of.append(pairs)
    seen: set[tuple[str, str]] = set()
    clashes = [p for pairs in refs_of for p in pairs if p in seen or seen.add(p)]  # two new systems, one ref
    for part in _chunks(sorted({k for _, k in seen})):
        taken = select(ExternalRef.source, ExternalRef.key).where(ExternalRef.key.in_(part))
        clashes += [(s, k) for s, k in session.execute(taken) if (s, k) in seen]
    if clashes:
        raise RuleViolation(_l("An external reference belongs to another system."),
                            fields={"external_refs": [_l("%(ref)s is already used by another system.",
                                                         ref=f"{s}:{k}") for s, k in clashes]})
    at = actor.at()
    rows = [_new_system_row(values, at) for values in values_list]
    aliases_of = [_wanted_aliases(SimpleNamespace(name=row["name"]), values.get("aliases") or [])
                  for row, values in zip(rows, values_list, strict=True)]
    session.flush()
    ids = insert_rows(session, System.__table__, rows, returning_ids=True)
    insert_rows(session, SystemAlias.__table__, [
        {"system_id": sid, "name": n, "search_key": fold(n)[:200], "created_at": utcnow()}
        for sid, names in zip(ids, aliases_of, strict=True) for n in names])
    insert_rows(session, ExternalRef.__table__, [
        {"system_id": sid, "source": src, "key": key, "created_at": utcnow()}
        for sid, pairs in zip(ids, refs_of, strict=True) for src, key in pairs])
    grams = []
    for sid, row, names in zip(ids, rows, aliases_of, strict=True):
        found = trigrams(row["name"])
        for n in names:
            found |= trigrams(n)
        grams += [(sid, g) for g in sorted(found)]
    _insert_grams(session, grams)
    created = []
    columns = [a.key for a in sa_inspect(System).column_attrs if a.key not in _SNAPSHOT_EXCLUDED]
    for sid, row, names, pairs in zip(ids, rows, aliases_of, refs_of, strict=True):
        snap = {key: audit.plain(sid if key == "id" else row[key]) for key in columns}  # as snapshot() reads
        snap["aliases"] = sorted(names)
        snap["external_refs"] = sorted(f"{s}:{k}" for s, k in pairs)
        created.append(("system", sid, "create", None, snap))
    if events is None:
        audit_many(session, actor, created)
    else:
        events.extend(created)
    return ids


def stage_update(session: Session, actor: Actor, system: System, values: dict[str, Any]) -> tuple[dict, dict]:
    """``update`` of a system already loaded with its aliases and references, in memory: the same rules and
    changes, but no flush, no trigrams and no audit event written. Returns the event's (before, after),
    both empty when nothing changed. A change bumps ``system.version`` as update's flush would, so that
    several changes before one write count as several versions. ``StagedChanges`` writes them.
    Raises NotAllowed, RuleViolation."""
    if not permissions.can_edit_system(actor.user, system):
        raise NotAllowed(_l("Only the system's own system owner or an administrator changes it."))
    if not permissions.is_admin(actor.user):
        locked = sorted(k for k in ADMIN_ONLY if k in values and values[k] != getattr(system, k))
        if locked:
            raise NotAllowed(_l("Only an administrator reassigns owners or org unit: %(fields)s",
                                fields=", ".join(locked)))
    if "name" in values and not str(values["name"]).strip():
        raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
    if "external_refs" in values:
        raise ValueError("stage_update does not change external references")
    # only these parts of snapshot() can change: the fields given and the aliases
    keys = [k for k in SCALAR_FIELDS if k in values]
    with session.no_autoflush:
        _check_references(session, values)
        columns = {k: getattr(system, k) for k in _STAGED_COLUMNS}
        before = _partial_snapshot(system, keys, "aliases" in values)
        _apply(system, values)
        if "aliases" in values:
            _set_aliases(session, system, values["aliases"] or [])
        after = _partial_snapshot(system, keys, "aliases" in values)
    b, a = audit.changed(before, after)
    if a:
        system.updated_at = actor.at()
    if any(getattr(system, k) != v for k, v in columns.items()):  # update's flush would write the row
        system.version = system.version + 1
    return b, a


_STAGED_COLUMNS = (*SCALAR_FIELDS, "search_key", "updated_at")  # what stage_update may change


def _partial_snapshot(system: System, keys: list[str], aliases: bool) -> dict[str, Any]:
    data = {k: audit.plain(getattr(system, k)) for k in keys}
    if aliases:
        data["aliases"] = sorted(a.name for a in system.aliases)
    return data


class StagedChanges:
    """Changes to many systems made in memory (``stage_update``, in the order of the work) and written
    together: the rows with one executemany (``write_staged``), aliases and references with one flush,
    trigrams (``reindex_many``) and audit events in order (``audit_many``)."""

    def __init__(self) -> None:
        self.events: list[AuditRow] = []
        self.staged: dict[int, System] = {}
        self.reindex: dict[int, System] = {}

    def update(self, session: Session, actor: Actor, system: System, values: dict[str, Any]) -> None:
        """``update`` staged: its audit event ("update") is kept for ``write``."""
        b, a = stage_update(session, actor, system, values)
        self.staged[system.id] = system  # write_staged leaves out what did not change
        if a:
            self.events.append(("system", system.id, "update", b, a))
            if "name" in a or "aliases" in a:
                self.reindex[system.id] = system

    def write(self, session: Session, actor: Actor) -> None:
        write_staged(session, list(self.staged.values()))
        session.flush()
        reindex_many(session, list(self.reindex.values()))
        audit_many(session, actor, self.events)


def record_major_change(session: Session, actor: Actor, system_id: int, description: str) -> System:
    """A större förändring: an approved system goes back to needs_review."""
    system = get(session, system_id)
    if not permissions.can_edit_system(actor.user, system):
        raise NotAllowed(_l("Only the system's own system owner or an administrator records a major change."))
    if not description.strip():
        raise RuleViolation(_l("Describe the change."), fields={"description": [_l("Describe the change.")]})
    change = MajorChange(system_id=system.id, description=description.strip(), recorded_by_id=actor.user_id,
                         recorded_at=actor.at())
    session.add(change)
    before = system.major_change_at
    system.major_change_at = actor.at()
    session.flush()
    audit.record(session, actor, "system", system.id, "major_change",
                 {"major_change_at": before}, {"major_change_at": system.major_change_at,
                                               "description": change.description})
    return system


# ------------------------------------------------------------------ lists


@dataclass
class SystemFilter:
    q: str | None = None
    org_unit_id: int | None = None
    criticality: str | None = None
    lifecycle: str | None = None
    stage: str | None = None
    owner_id: int | None = None
    risk_owner_id: int | None = None
    priority_list: bool | None = None
    sort: str = "name"
    # The coverage report's drill-downs (riskreg.services.reports.DRILLDOWN_FLAGS and drilldown_clauses):
    # each figure of the report is a filter here, so that its number links to exactly those systems.
    classified: bool | None = None
    risk_analysed: bool | None = None
    screened: bool | None = None
    dpia_required: bool | None = None
    dpia_done: bool | None = None
    approved_valid: bool | None = None
    with_conditions: bool | None = None
    expiring: bool | None = None
    expired: bool | None = None
    needs_review: bool | None = None
    without_owner: bool | None = None
    without_system_owner: bool | None = None
    without_risk_owner: bool | None = None
    actions_overdue: bool | None = None
    conditions_overdue: bool | None = None
    has_sla: bool | None = None
    has_criticality: bool | None = None
    responsible_id: int | None = None
    risk_cell: str | None = None
    sla_month: str | None = None
    sla_result: str | None = None
    classified_by: date | None = None
    risk_analysed_by: date | None = None
    screened_by: date | None = None
    approved_on: date | None = None


# Each sort ends in the id, so that paging is stable; the indexes of 0002_bench_indexes serve them.
SORTS = {"name": (System.name, System.id), "criticality": (System.criticality, System.name, System.id),
         "updated_at": (System.updated_at, System.id), "id": (System.id,)}


def _order(flt: SystemFilter) -> list:
    key = flt.sort.lstrip("-")
    cols = SORTS.get(key, SORTS["name"])
    return [c.desc() if flt.sort.startswith("-") else c.asc() for c in cols]


def list_statement(flt: SystemFilter, today) -> Select:
    """The systems matching a filter, with their stage as a second column; ordered, not paged."""
    stage = lifecycle.stage_expr(today).label("stage")
    stmt = lifecycle.with_stage_joins(select(System, stage).select_from(System))
    stmt = stmt.where(*filter_clauses(flt, today))
    return stmt.order_by(*_order(flt))


def needs_stage_joins(flt: SystemFilter) -> bool:
    """Whether the filter reads the records ``lifecycle.with_stage_joins`` joins (the stage, or a report
    drill-down on the current approval or screening)."""
    from riskreg.services import reports

    return bool(flt.stage) or reports.drilldown_needs_stage_joins(flt)


def filter_clauses(flt: SystemFilter, today) -> list:
    clauses = []
    if flt.org_unit_id is not None:
        clauses.append(System.org_unit_id == flt.org_unit_id)
    if flt.criticality:
        clauses.append(System.criticality == flt.criticality)
    if flt.lifecycle:
        clauses.append(System.lifecycle == flt.lifecycle)
    if flt.owner_id is not None:
        clauses.append(System.system_owner_id == flt.owner_id)
    if flt.risk_owner_id is not None:
        clauses.append(System.risk_owner_id == flt.risk_owner_id)
    if flt.priority_list is not None:
        clauses.append(System.priority_list.is_(flt.priority_list))
    if flt.stage:
        clauses.append(lifecycle.stage_is(flt.stage, today))
    from riskreg.services import reports  # the report's figures as filters (it imports this module)

    clauses += reports.drilldown_clauses(flt, today)
    return clauses


SEARCH_CANDIDATES = 400
SEARCH_CUTOFF = 60


def search_ids(session: Session, q: str, clauses: list, today) -> list[tuple[int, float]]:
    """Fuzzy search on names and aliases: trigram candidates in SQL, scored with rapidfuzz.
    Returns (system id, score) best first.

    Two round trips: first the candidates (the systems sharing most trigrams with the query, and names
    that start with it), then those of them the filter's clauses keep, with the folded names and aliases
    (``search_key``, already folded when written) that rapidfuzz scores. Fetching the few candidates
    by primary key in a second statement keeps the database from hashing the whole systems and aliases
    tables to join them (it cannot know how few there will be)."""
    needle = fold(q)
    if not needle:
        return []
    hits, grams = func.count(), search_grams(q, common_grams(session))
    by_grams = (select(SearchGram.system_id.label("id")).where(SearchGram.gram.in_(grams))
                .group_by(SearchGram.system_id).order_by(hits.desc(), SearchGram.system_id)
                .limit(SEARCH_CANDIDATES * 5).subquery("by_grams"))
    by_prefix = (select(System.id.label("id")).where(System.search_key.like(needle + "%"))
                 .order_by(func.length(System.search_key), System.id).limit(SEARCH_CANDIDATES)
                 .subquery("by_prefix"))  # the names closest to the query first
    candidates = session.scalars(union(select(by_grams.c.id), select(by_prefix.c.id))).all()
    if not candidates:
        return []
    hit = select(System.id.label("id"), System.search_key.label("key")).select_from(System)
    if clauses:
        hit = lifecycle.with_stage_joins(hit)
    hit = hit.where(_id_in(session, candidates), *clauses).cte("hit")
    aliases = select(SystemAlias.system_id, SystemAlias.search_key).join(
        hit, hit.c.id == SystemAlias.system_id
    )
    rows = session.execute(union_all(select(hit.c.id, hit.c.key), aliases)).all()
    if not rows:
        return []
    scored = process.extract(needle, [key for _, key in rows], scorer=fuzz.WRatio, processor=None,
                             score_cutoff=SEARCH_CUTOFF, limit=None)
    best: dict[int, float] = {}
    for _, score, idx in scored:
        sid = rows[idx][0]
        best[sid] = max(best.get(sid, 0), score)
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def _id_in(session: Session, ids: list[int]):
    """``System.id IN ids`` for a few thousand ids: on PostgreSQL one array parameter (rendering and
    sending thousands of parameters costs more than the query), elsewhere a plain IN."""
    if session.get_bind().dialect.name == "postgresql":
        return System.id == any_(bindparam("candidate_ids", ids, type_=ARRAY(Integer)))
    return System.id.in_(ids)


def load_page(session: Session, ids: list[int], today) -> list[tuple[System, str]]:
    """Systems by id with their stage, in the order given (eager-loaded for display)."""
    if not ids:
        return []
    stage = lifecycle.stage_expr(today).label("stage")
    stmt = lifecycle.with_stage_joins(select(System, stage).select_from(System)).where(System.id.in_(ids))
    stmt = stmt.options(selectinload(System.aliases), selectinload(System.external_refs),
                        selectinload(System.org_unit))
    rows = {s.id: (s, st) for s, st in session.execute(stmt)}
    return [rows[i] for i in ids if i in rows]


def count(session: Session, clauses: list) -> int:
    stmt = lifecycle.with_stage_joins(select(func.count(System.id)).select_from(System)).where(*clauses)
    return session.execute(stmt).scalar_one()


def page(session: Session, flt: SystemFilter, today, page_no: int, per_page: int) -> tuple[list, int]:
    """One page of systems (with stage) and the total matching the filter.

    The page is found first as bare ids (an index walk over the sort order, joining the stage's records
    only when the stage is filtered on), then those rows are loaded with their stage: the joins and
    the stage are computed for the rows shown, not for every row skipped by the offset."""
    clauses = filter_clauses(flt, today)
    if flt.q:
        ranked = search_ids(session, flt.q, clauses, today)
        ids = [sid for sid, _ in ranked[(page_no - 1) * per_page: page_no * per_page]]
        return load_page(session, ids, today), len(ranked)
    offset = (page_no - 1) * per_page
    if flt.stage in DECISION_STAGES:
        return _page_of_decided(session, flt, clauses, today, per_page, offset)
    stmt = select(System.id).select_from(System)
    if needs_stage_joins(flt):
        stmt = lifecycle.with_stage_joins(stmt)
    stmt = stmt.where(*clauses).order_by(*_order(flt)).limit(per_page).offset(offset)
    ids = list(session.scalars(stmt))
    rows = load_page(session, ids, today)
    if page_no == 1 and len(ids) < per_page:
        return rows, len(ids)  # the whole result is on this page: no need to count it
    return rows, count(session, clauses)


# The stages read from the current decision: telling them apart joins the approval (and classification)
# of every decided system, whatever the page.
DECISION_STAGES = {"rejected", "needs_review", "expired", "approved", "approved_with_conditions"}


def _page_of_decided(session: Session, flt: SystemFilter, clauses: list, today, per_page: int,
                     offset: int) -> tuple[list, int]:
    """A page of systems in a stage read from the decision: the matching rows are found once (a CTE,
    materialised), then both sorted for the page and counted. Walking the sort index and joining row
    by row costs as much as the count again, and the planner cannot tell when that walk is short (it
    cannot estimate how often a decision still matches its system's records)."""
    sort_cols = SORTS.get(flt.sort.lstrip("-"), SORTS["name"])  # each ends in System.id
    matching = (lifecycle.with_stage_joins(select(*sort_cols).select_from(System)).where(*clauses)
                .cte("matching").prefix_with("MATERIALIZED", dialect="postgresql"))
    total = select(func.count()).select_from(matching).scalar_subquery()
    desc = flt.sort.startswith("-")
    order = [matching.c[c.key].desc() if desc else matching.c[c.key].asc() for c in sort_cols]
    found = session.execute(select(matching.c.id, total).order_by(*order).limit(per_page).offset(offset)).all()
    if not found:
        return [], count(session, clauses) if offset else 0
    return load_page(session, [sid for sid, _ in found], today), found[0][1]
