"""Applying a batch to the register, and undoing it.

Apply, in one transaction: a ``create`` row becomes a system (by the rules of
riskreg.services.systems.create); a ``merge`` row adds its name and aliases as aliases of the system, its
external key as an external reference, and fills the system's empty fields — a filled field changes only
where a person chose the list's value (``field_choices[field] == "import"``); a ``skip`` row changes
nothing. Each row records in ``changes`` exactly what it did and the system's version afterwards; the
batch's last row that changed a system also records the system as it then was (``state_after``, the
fields, aliases and external references of its audit snapshot). Each created or changed system gets its
audit event, external references included.

Undo reverses exactly those changes, newest row first, and refuses (Conflict, naming what stands in the
way) when anything it would undo has since been changed or used: a system the batch changed or created is
no longer as the batch left it (another value, alias or reference — whoever made it, another import
too); another applied batch has rows on a system this batch created, or merged rows later into a system
this one changed; a batch still to be applied has rows decided (or, undecided, suggested) into a system
this batch created; other records (classifications, risk analyses, …) rest on a system it created. On a
system it merged into, only what undo puts back is compared (name, the register's fields, aliases and
references), so a major change or a decision recorded since does not stand in its way. Undoing the later
batch first makes the earlier one undoable again: each leaves the systems exactly as it found them.
Batches applied before the systems' states were recorded (``changes["state_after"]``) are compared by
version instead, and every change since (an undone later batch too) refuses their undo.

Both work in bulk (a batch may hold 100,000 rows): what each row does is worked out in order in memory,
then written in a few statements (riskreg.services.systems: create_many, StagedChanges)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from riskreg import audit, labels
from riskreg.actor import Actor
from riskreg.errors import Conflict, RuleViolation
from riskreg.imports.runner import existing_refs, row_fields, source_slug
from riskreg.models import (
    AuditEvent,
    Base,
    ExternalRef,
    ImportBatch,
    ImportRow,
    OrgUnit,
    SearchGram,
    System,
    SystemAlias,
    User,
)
from riskreg.models.codes import ImportAction, ImportStatus, PersonalData, Role
from riskreg.search import fold
from riskreg.services import systems as systems_service

# mapping field → System attribute, for the fields an import may fill
FIELD_ATTR = {"description": "description", "supplier": "supplier", "org_unit": "org_unit_id",
              "system_owner": "system_owner_id", "risk_owner": "risk_owner_id", "criticality": "criticality",
              "lifecycle": "lifecycle", "hosting": "hosting", "personal_data": "personal_data",
              "priority_list": "priority_list"}
# tables whose rows belong to the system itself (removed with it; its aliases and references are compared
# with what the batch recorded) or that undo examines itself (import_rows); any other reference blocks undo
OWN_TABLES = {"system_aliases", "external_refs", "search_grams", "import_rows"}


class Context:
    """What resolving rows needs, loaded once per batch."""

    def __init__(self, session: Session, batch: ImportBatch, rows: list[ImportRow]):
        self.batch = batch
        self.slug = source_slug(batch.source)
        self.fields = {r.id: row_fields(batch, r.values) for r in rows}
        self.units = {fold(n): i for i, n in session.execute(select(OrgUnit.id, OrgUnit.name))}
        emails = {v for f, _ in self.fields.values() for k, v in f.items() if k in ("system_owner", "risk_owner")}
        self.users: dict[str, User] = {}
        for start in range(0, len(emails), 1000):
            part = sorted(emails)[start:start + 1000]
            for user in session.scalars(select(User).where(func.lower(User.email).in_(part))):
                self.users[user.email.lower()] = user
        keys = [f.get("external_key", "") for f, _ in self.fields.values()]
        self.refs = {(self.slug, k): sid for k, sid in existing_refs(session, self.slug, keys).items()}

    def resolve(self, row: ImportRow) -> tuple[dict[str, Any], dict[str, str]]:
        """A row's values as System attributes, and what could not be used (field → why)."""
        fields, problems = self.fields[row.id]
        out: dict[str, Any] = {}
        for fld, attr in FIELD_ATTR.items():
            if fld not in fields:
                continue
            value = fields[fld]
            if fld == "org_unit":
                value = self.units.get(fold(value))
                if value is None:
                    problems = {**problems, fld: "no such org unit"}
                    continue
            elif fld in ("system_owner", "risk_owner"):
                user = self.users.get(value)
                role = Role.SYSTEM_OWNER if fld == "system_owner" else Role.RISK_OWNER
                if user is None or not user.active or not user.has_role(role):
                    problems = {**problems, fld: "no active user with that role"}
                    continue
                value = user.id
            out[attr] = value
        return out, problems


def is_empty(attr: str, value: Any) -> bool:
    return value is None or value == "" or (attr == "personal_data" and value == PersonalData.UNKNOWN)


def comparison(system: System, values: dict[str, Any]) -> list[dict]:
    """Field by field: the system's value, the row's, and whether the row would fill, agree or conflict."""
    out = []
    for attr, new in values.items():
        old = getattr(system, attr)
        old_plain, new_plain = audit.plain(old), audit.plain(new)
        state = "same" if old_plain == new_plain else ("fill" if is_empty(attr, old) else "conflict")
        out.append({"field": attr, "current": old_plain, "incoming": new_plain, "state": state})
    return out


def effective(row: ImportRow) -> tuple[ImportAction, int | None]:
    if row.decision_action is not None:
        return row.decision_action, row.decision_system_id
    return row.suggestion_action or ImportAction.CREATE, row.suggestion_system_id


@dataclass(slots=True)
class PlanRow:
    """What apply reads of a row: its columns, not an ORM object (a batch may hold 100,000 rows)."""

    id: int
    row_number: int
    values: dict
    suggestion_action: ImportAction | None
    suggestion_system_id: int | None
    decision_action: ImportAction | None
    decision_system_id: int | None
    field_choices: dict | None


PLAN_COLUMNS = (ImportRow.id, ImportRow.row_number, ImportRow.values, ImportRow.suggestion_action,
                ImportRow.suggestion_system_id, ImportRow.decision_action, ImportRow.decision_system_id,
                ImportRow.field_choices)
CHUNK = 1000


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _load_systems(session: Session, ids) -> dict[int, System]:
    """Systems by id with their aliases and references (a few queries whatever the number)."""
    out: dict[int, System] = {}
    for part in _chunks(sorted(ids)):
        stmt = select(System).where(System.id.in_(part)).options(selectinload(System.aliases),
                                                                 selectinload(System.external_refs))
        out.update((s.id, s) for s in session.scalars(stmt))
    return out


def _expire_import_rows(session: Session) -> None:
    """Rows changed by bulk statements: any copy held by the session is out of date."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ImportRow):
            session.expire(obj)


def apply_batch(session: Session, actor: Actor, batch: ImportBatch,
                progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Apply every row by its decision or suggestion. Raises RuleViolation (nothing is changed then).

    Each row is worked out in file order, as if the rows were applied one after the other (an external key
    taken by an earlier row is in use for the later ones; a merge sees what earlier merges did to its
    system, and each counts as a version), but written in bulk, in a few statements whatever the number of
    rows: the created systems with ``systems_service.create_many``, the merges made in memory and written
    together (``systems_service.StagedChanges``), the rows' records with an executemany."""
    stmt = select(*PLAN_COLUMNS).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number)
    rows = [PlanRow(*r) for r in session.execute(stmt)]
    plan = [(row, *effective(row)) for row in rows]
    ctx = Context(session, batch, [row for row, action, _ in plan if action != ImportAction.SKIP])
    targets = {sid for _, action, sid in plan if action == ImportAction.MERGE and sid}
    systems = _load_systems(session, targets)
    _precheck(ctx, plan, systems)
    total = len(plan)
    counts = {"create": 0, "merge": 0, "skip": 0}
    for _, action, _ in plan:
        counts[action.value] += 1

    # 1. External keys, in file order: the first row to bring a key gets it
    creates: list[tuple[PlanRow, dict, str | None, list[str]]] = []
    merges: list[tuple[PlanRow, System, list, list]] = []
    for row, action, sid in plan:
        key = ctx.fields[row.id][0].get("external_key") if action != ImportAction.SKIP else None
        if action == ImportAction.CREATE:
            fields = ctx.fields[row.id][0]
            values, _ = ctx.resolve(row)
            values.setdefault("org_unit_id", ctx.batch.org_unit_id)
            values["name"] = fields["name"]
            values["aliases"] = [a for a in fields.get("aliases", []) if a != fields["name"]]
            ref, skipped = None, []
            if key:
                if (ctx.slug, key) in ctx.refs:
                    skipped.append(key)
                else:
                    ref = key
                    ctx.refs[(ctx.slug, key)] = -row.id  # the system this row creates (no id yet)
                    values["external_refs"] = [{"source": ctx.slug, "key": ref}]
            creates.append((row, values, ref, skipped))
        elif action == ImportAction.MERGE:
            system = systems[sid]
            refs_added, refs_in_use = [], []
            if key:
                owner = ctx.refs.get((ctx.slug, key))
                if owner is None:
                    refs_added.append([ctx.slug, key])
                    ctx.refs[(ctx.slug, key)] = system.id
                elif owner != system.id:
                    refs_in_use.append(key)
            merges.append((row, system, refs_added, refs_in_use))

    # 2. Creates, in a few statements
    changes: dict[int, dict] = {}
    create_events: list[tuple] = []  # written with the merges' events, in the rows' order
    # with their references (checked against ctx.refs: the register's and this batch's), in the create event
    created = systems_service.create_many(session, actor, [values for _, values, _, _ in creates],
                                          events=create_events)
    for (row, _values, _ref, skipped), sid, event in zip(creates, created, create_events, strict=True):
        # a new system's first version; the create event's snapshot is the system as this row left it
        out = {"system_id": sid, "created": True, "version_after": 1, "state_after": event[4]}
        if skipped:
            out["refs_in_use"] = skipped
        changes[row.id] = out
    if progress:
        progress(len(creates), total)

    # 3. Merges, in file order, made in memory and written together
    staged = systems_service.StagedChanges()
    merge_events: dict[int, list[tuple]] = {}
    last_change: dict[int, int] = {}  # system → the last row that changed it
    for n, (row, system, refs_added, refs_in_use) in enumerate(merges, start=1):
        first = len(staged.events)
        changes[row.id] = _merge(session, actor, ctx, row, system, refs_added, refs_in_use, staged)
        merge_events[row.id] = staged.events[first:]
        if changed_anything(changes[row.id]):
            last_change[system.id] = row.id
        if progress and n % 500 == 0:
            progress(len(creates) + n, total)
    in_order = iter(create_events)
    staged.events = [event for row, action, _ in plan if action != ImportAction.SKIP
                     for event in ([next(in_order)] if action == ImportAction.CREATE
                                   else merge_events[row.id])]
    staged.write(session, actor)
    for sid, rid in last_change.items():  # undo compares the system with this
        changes[rid]["state_after"] = systems_service.snapshot(systems[sid])

    # 4. What each row did
    updates = [{"id": row.id, "changes": changes[row.id], "applied_action": action,
                "applied_system_id": changes[row.id].get("system_id")}
               for row, action, _ in plan if action != ImportAction.SKIP]
    for part in _chunks(updates):
        session.execute(update(ImportRow), part)
    skipped_ids = [row.id for row, action, _ in plan if action == ImportAction.SKIP]
    for part in _chunks(skipped_ids):
        session.execute(update(ImportRow).where(ImportRow.id.in_(part)).values(
            changes={}, applied_action=ImportAction.SKIP, applied_system_id=None)
            .execution_options(synchronize_session=False))
    _expire_import_rows(session)
    if progress:
        progress(total, total)
    return counts


def _row_list(numbers: list[int]) -> str:
    numbers = sorted(set(numbers))
    return ", ".join(map(str, numbers[:50])) + (" …" if len(numbers) > 50 else "")


def _precheck(ctx: Context, plan, systems: dict[int, System]) -> None:
    """What would stop apply, all at once: rows to create without a name or without an org unit, rows to
    merge into a system that is gone. Raises RuleViolation with one field per problem."""
    no_name, no_unit, gone = [], [], []
    for row, action, sid in plan:
        if action == ImportAction.CREATE:
            if not str(ctx.fields[row.id][0].get("name") or "").strip():
                no_name.append(row.row_number)
            values, _ = ctx.resolve(row)
            if values.get("org_unit_id") is None and ctx.batch.org_unit_id is None:
                no_unit.append(row.row_number)
        elif action == ImportAction.MERGE and (sid is None or sid not in systems):
            gone.append(row.row_number)
    problems = {}
    if no_name:
        problems["name"] = [lazy_ngettext(
            "Row %(rows)s has no name, and a system cannot be created without one: skip it, or give it a "
            "name in the list and read it again.",
            "Rows %(rows)s have no name, and a system cannot be created without one: skip them, or give them "
            "names in the list and read it again.", len(set(no_name)), rows=_row_list(no_name))]
    if no_unit:
        problems["org_unit_id"] = [lazy_ngettext(
            "Row %(rows)s would create a system without an org unit: choose an org unit for the batch, name "
            "one in the list, or skip it.",
            "Rows %(rows)s would create a system without an org unit: choose an org unit for the batch, name "
            "one in the list, or skip them.", len(set(no_unit)), rows=_row_list(no_unit))]
    if gone:
        problems["system_id"] = [lazy_ngettext(
            "Row %(rows)s merges into a system that no longer exists.",
            "Rows %(rows)s merge into a system that no longer exists.", len(set(gone)), rows=_row_list(gone))]
    if problems:
        raise RuleViolation(_l("The batch cannot be applied as decided."), fields=problems)


def _merge(session: Session, actor: Actor, ctx: Context, row: PlanRow, system: System, refs_added: list,
           refs_in_use: list, staged: systems_service.StagedChanges) -> dict:
    """One merge row, in memory (``staged`` writes it): fill empty fields and the fields a person chose, add
    names as aliases and the key as a reference. Returns the row's record of changes."""
    fields = ctx.fields[row.id][0]
    values, _ = ctx.resolve(row)
    choices = row.field_choices or {}
    change: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for item in comparison(system, values):
        attr = item["field"]
        if item["state"] == "fill" or (item["state"] == "conflict" and choices.get(attr) == "import"):
            change[attr] = values[attr]
            before[attr] = item["current"]
    have = {system.name.casefold()} | {a.name.casefold() for a in system.aliases}
    added: list[str] = []
    for name in [fields.get("name", "")] + fields.get("aliases", []):
        name = (name or "").strip()[:200]
        if name and name.casefold() not in have:
            have.add(name.casefold())
            added.append(name)
    if added:
        change["aliases"] = [a.name for a in system.aliases] + added
    _stage(session, actor, staged, system, change, add_refs=refs_added)
    out = {"system_id": system.id, "created": False, "fields": {k: [before[k], audit.plain(change[k])]
                                                                 for k in before},
           "aliases_added": added, "refs_added": refs_added, "version_after": system.version}
    if refs_in_use:
        out["refs_in_use"] = refs_in_use
    return out


def changed_anything(changes: dict) -> bool:
    """A row's record of what it did changed something (a merge may have found everything in place)."""
    return bool(changes.get("created") or changes.get("fields") or changes.get("aliases_added")
                or changes.get("refs_added"))


def _refs_of(system: System) -> list[str]:
    return sorted(f"{r.source}:{r.key}" for r in system.external_refs)


def _stage(session: Session, actor: Actor, staged: systems_service.StagedChanges, system: System,
           values: dict[str, Any], *, add_refs=(), remove_refs=()) -> None:
    """``staged.update`` with external references too (``stage_update`` leaves them out): one audit event
    for the whole change, and a new version as ``systems.update`` would count it (a changed reference
    sets ``updated_at``; the row is written, a version, when that moves)."""
    version = system.version
    before_refs = _refs_of(system)
    b, a = systems_service.stage_update(session, actor, system, values) if values else ({}, {})
    for src, key in add_refs:
        system.external_refs.append(ExternalRef(source=src, key=key, created_at=actor.at()))
    gone = {tuple(r) for r in remove_refs}
    for ref in [r for r in system.external_refs if (r.source, r.key) in gone]:
        system.external_refs.remove(ref)
    after_refs = _refs_of(system)
    if after_refs != before_refs:
        b, a = {**b, "external_refs": before_refs}, {**a, "external_refs": after_refs}
        moved = system.updated_at != actor.at()
        system.updated_at = actor.at()
        if moved and system.version == version:
            system.version = version + 1
    staged.staged[system.id] = system  # write_staged leaves out what did not change
    if a:
        staged.events.append(("system", system.id, "update", b, a))
        if "name" in a or "aliases" in a:
            staged.reindex[system.id] = system


# ------------------------------------------------------------------ undo


def dependents(session: Session, system_ids: list[int]) -> dict[int, list[str]]:
    """For systems about to be removed: which other records now refer to them (table names)."""
    found: dict[int, list[str]] = {}
    if not system_ids:
        return found
    for table in Base.metadata.sorted_tables:
        if table.name in OWN_TABLES:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != "systems" or fk.column.name != "id":
                continue
            col = fk.parent
            for start in range(0, len(system_ids), 1000):
                part = system_ids[start:start + 1000]
                for (sid,) in session.execute(select(col).where(col.in_(part)).distinct()):
                    found.setdefault(sid, []).append(table.name)
    return found


def undo_batch(session: Session, actor: Actor, batch: ImportBatch,
               progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Reverse what apply recorded, newest row first. Raises Conflict naming what depends on it.

    Worked out row by row, written in bulk: the merged systems restored in memory and written together
    (``systems_service.StagedChanges``), the created systems removed with a few DELETEs per thousand."""
    stmt = (select(ImportRow.id, ImportRow.changes).where(ImportRow.batch_id == batch.id)
            .order_by(ImportRow.row_number.desc()))
    rows = [(rid, changes) for rid, changes in session.execute(stmt) if changes]
    touched: dict[int, dict] = {}  # system → what the batch left: {created, version, state}
    for _, changes in reversed(rows):  # oldest first: the last row changing a system says how it was left
        if not changed_anything(changes):
            continue
        left = touched.setdefault(changes["system_id"], {"created": False, "version": None, "state": None})
        left["created"] = left["created"] or bool(changes.get("created"))
        left["version"] = changes.get("version_after")
        if changes.get("state_after") is not None:
            left["state"] = changes["state_after"]
    systems = _load_systems(session, {changes["system_id"] for _, changes in rows})
    problems = _undo_problems(session, batch, touched, systems)
    if problems:
        raise Conflict(_l("The import cannot be undone because later changes depend on it: %(list)s.",
                          list="; ".join(problems[:20])), fields={"changes": problems[:100]})
    counts = {"removed": 0, "restored": 0}
    staged = systems_service.StagedChanges()  # its audit events, in order, include the removals
    removed: list[System] = []
    for n, (_, changes) in enumerate(rows, start=1):
        system = systems.get(changes["system_id"])
        if changes.get("created"):
            staged.events.append(("system", system.id, "delete", systems_service.snapshot(system), None))
            removed.append(system)
            counts["removed"] += 1
        else:
            if system is not None:  # (a row that changed nothing has nothing to restore)
                _restore(session, actor, system, changes, staged)
            counts["restored"] += 1
        if progress and n % 500 == 0:
            progress(n, len(rows))
    staged.write(session, actor)
    _remove_many(session, removed)
    for part in _chunks([rid for rid, _ in rows]):
        session.execute(update(ImportRow).where(ImportRow.id.in_(part)).values(
            applied_action=None, applied_system_id=None).execution_options(synchronize_session=False))
    _expire_import_rows(session)
    if progress:
        progress(len(rows), len(rows))
    return counts


def _undo_problems(session: Session, batch: ImportBatch, touched: dict[int, dict],
                   systems: dict[int, System]) -> list[str]:
    """Everything that stands in the way of undoing the batch, as sentences naming the system and what
    was done to it (and by which import)."""
    problems: list[str] = []
    for sid, left in touched.items():
        system = systems.get(sid)
        if system is None:
            problems.append(str(_l("system %(id)s no longer exists", id=sid)))
        elif left["state"] is not None:
            what = _differences(left["state"], audit.plain(systems_service.snapshot(system)),
                                None if left["created"] else REGISTER_KEYS)
            if what:
                problems.append(str(_l("%(name)s has changed since the import (%(what)s)", name=system.name,
                                       what=what)))
        elif left["version"] is not None and system.version != left["version"]:  # recorded before states were
            problems.append(str(_l("%(name)s has changed since the import (version %(old)s, now %(new)s)",
                                   name=system.name, old=left["version"], new=system.version)))
    created = sorted(sid for sid, left in touched.items() if left["created"] and sid in systems)
    for sid, tables in dependents(session, created).items():
        problems.append(str(_l("%(name)s now has records that rest on it (%(what)s)", name=systems[sid].name,
                               what=", ".join(sorted(set(tables))))))
    problems += _other_imports(session, batch, touched, systems)
    return problems


# What undo puts back on a system it merged into; other changes since (a major change recorded, a decision)
# do not stand in its way. A system it created is compared whole: undo removes it.
REGISTER_KEYS = frozenset({"name", "aliases", "external_refs", *FIELD_ATTR.values()})


def _differences(before: dict, now: dict, keys=None) -> str:
    """What differs between two snapshots of a system (only ``keys``, when given): a field's name, or a
    name or reference added (+) or removed (−), in the register's words."""
    out = []
    for key in sorted(set(before) | set(now)):
        if keys is not None and key not in keys:
            continue
        old, new = before.get(key), now.get(key)
        if old == new:
            continue
        label = str(labels.FIELD_LABELS.get(key, key))
        if isinstance(old, list) or isinstance(new, list):
            old, new = set(old or []), set(new or [])
            out += [f"{label} +{x}" for x in sorted(new - old)] + [f"{label} −{x}" for x in sorted(old - new)]
        else:
            out.append(label)
    return ", ".join(out)


def _other_imports(session: Session, batch: ImportBatch, touched: dict[int, dict],
                   systems: dict[int, System]) -> list[str]:
    """Other imports that use what this one did: applied rows on a system it created (any: they came
    after), applied merges later than this batch into a system it changed (a row that found this batch's
    alias or reference in place changed nothing, but relied on it), and rows of a batch still to be applied
    decided into a system it created."""
    created = {sid for sid, left in touched.items() if left["created"]}
    applied: dict[tuple[int, int], list[int]] = {}
    decided: dict[tuple[int, int], list[int]] = {}
    meta: dict[int, tuple] = {}
    for part in _chunks(sorted(touched)):
        stmt = (select(ImportRow.batch_id, ImportRow.row_number, ImportRow.applied_system_id,
                       ImportRow.applied_action, ImportBatch.source, ImportBatch.filename,
                       ImportBatch.applied_at)
                .join(ImportBatch, ImportBatch.id == ImportRow.batch_id)
                .where(ImportRow.batch_id != batch.id, ImportRow.applied_action.is_not(None),
                       ImportRow.applied_action != ImportAction.SKIP, ImportRow.applied_system_id.in_(part)))
        for bid, number, sid, action, source, filename, applied_at in session.execute(stmt):
            if sid not in created and action == ImportAction.CREATE:
                continue  # it made the system this batch merged into: it came first
            meta[bid] = (source, filename, applied_at)
            applied.setdefault((bid, sid), []).append(number)
    for part in _chunks(sorted(created)):
        # apply follows a row's decision or, where none was taken, its suggestion
        stmt = (select(ImportRow.batch_id, ImportRow.row_number, ImportRow.decision_action,
                       ImportRow.decision_system_id, ImportRow.suggestion_system_id,
                       ImportBatch.source, ImportBatch.filename, ImportBatch.applied_at)
                .join(ImportBatch, ImportBatch.id == ImportRow.batch_id)
                .where(ImportRow.batch_id != batch.id,
                       ImportBatch.status.in_([ImportStatus.READY, ImportStatus.APPLYING]),
                       or_(and_(ImportRow.decision_action == ImportAction.MERGE,
                                ImportRow.decision_system_id.in_(part)),
                           and_(ImportRow.decision_action.is_(None),
                                ImportRow.suggestion_action == ImportAction.MERGE,
                                ImportRow.suggestion_system_id.in_(part)))))
        for bid, number, action, decided_sid, suggested_sid, source, filename, applied_at in session.execute(stmt):
            meta[bid] = (source, filename, applied_at)
            decided.setdefault((bid, suggested_sid if action is None else decided_sid), []).append(number)
    merged_into = {bid for bid, sid in applied if sid not in created}
    order = _apply_order(session, batch, merged_into, meta)
    problems = []
    for (bid, sid), numbers in sorted(applied.items()):
        if sid not in created and not order.get(bid, True):
            continue  # applied before this batch: this batch found the system as that one left it
        source, filename, _ = meta[bid]
        problems.append(str(_l("%(name)s: import %(batch)s (%(source)s, %(file)s), applied later, merged "
                               "rows %(rows)s into it; undo that import first", name=systems[sid].name,
                               batch=bid, source=source, file=filename, rows=_row_list(numbers))))
    for (bid, sid), numbers in sorted(decided.items()):
        source, filename, _ = meta[bid]
        problems.append(str(_l("%(name)s: in import %(batch)s (%(source)s, %(file)s), not yet applied, rows "
                               "%(rows)s merge into it (decided or suggested); decide them otherwise first",
                               name=systems[sid].name, batch=bid, source=source, file=filename,
                               rows=_row_list(numbers))))
    return problems


def _apply_order(session: Session, batch: ImportBatch, others: set[int], meta: dict[int, tuple]
                 ) -> dict[int, bool]:
    """For each of ``others`` (applied batches): was it applied after ``batch``? By the time of apply, and
    where two are equal (a fixed clock) by the order of their apply events in the audit trail."""
    if not others:
        return {}
    ids = sorted(others | {batch.id})
    events = dict(session.execute(
        select(AuditEvent.entity_id, func.max(AuditEvent.id))
        .where(AuditEvent.entity == "import_batch", AuditEvent.action == "apply",
               AuditEvent.entity_id.in_(ids))
        .group_by(AuditEvent.entity_id)).all())
    out = {}
    for bid in others:
        at, mine = meta[bid][2], batch.applied_at
        if at is not None and mine is not None and at != mine:
            out[bid] = at > mine
        elif events.get(bid) is not None and events.get(batch.id) is not None:
            out[bid] = events[bid] > events[batch.id]
        else:
            out[bid] = True  # cannot tell: as if later (refuse rather than lose something)
    return out


def _restore(session: Session, actor: Actor, system: System, changes: dict,
             staged: systems_service.StagedChanges) -> None:
    """One applied merge row reversed, in memory (``staged`` writes it, with its audit event)."""
    values: dict[str, Any] = {attr: old for attr, (old, _new) in (changes.get("fields") or {}).items()}
    added = set(changes.get("aliases_added") or [])
    if added:
        values["aliases"] = [a.name for a in system.aliases if a.name not in added]
    _stage(session, actor, staged, system, values, remove_refs=changes.get("refs_added") or [])


def _remove_many(session: Session, systems: list[System]) -> None:
    """Delete systems the batch created, with what is theirs (aliases, references, trigrams), and clear the
    import rows that point at them; ``dependents`` found nothing else resting on them."""
    if not systems:
        return
    ids = sorted(s.id for s in systems)
    for system in systems:
        session.expunge(system)  # with its aliases and references (cascade)
    rows, grams = ImportRow.__table__, SearchGram.__table__
    aliases, refs, table = SystemAlias.__table__, ExternalRef.__table__, System.__table__
    for part in _chunks(ids):  # (nothing of theirs is left in the session to flush)
        session.execute(update(rows).where(rows.c.suggestion_system_id.in_(part)).values(suggestion_system_id=None))
        session.execute(update(rows).where(rows.c.decision_system_id.in_(part)).values(decision_system_id=None))
        session.execute(delete(grams).where(grams.c.system_id.in_(part)))
        session.execute(delete(aliases).where(aliases.c.system_id.in_(part)))
        session.execute(delete(refs).where(refs.c.system_id.in_(part)))
        session.execute(delete(table).where(table.c.id.in_(part)))
