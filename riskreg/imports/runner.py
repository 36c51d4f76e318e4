"""Matching a stored batch against the register: load what is needed in a few queries, match in memory
(riskreg.imports.matching), write every row's candidates and suggestion back in bulk."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from riskreg.imports import mapping as mapping_mod
from riskreg.imports.matching import Entity, Thresholds, match_list
from riskreg.models import ExternalRef, ImportBatch, ImportRow, System, SystemAlias
from riskreg.models.codes import ImportAction, ImportStatus
from riskreg.search import fold

CHUNK = 1000
INLINE_ROWS = 3000  # defaults of IMPORT_INLINE_ROWS and IMPORT_INLINE_COMPARISONS (riskreg.config)
INLINE_COMPARISONS = 20_000_000


def source_slug(source: str) -> str:
    """The batch's source as an external reference's source ("ServiceNow CMDB" → "servicenow-cmdb")."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", fold(source or "")).strip("-")
    return slug[:50] or "import"


def row_fields(batch: ImportBatch, values: dict) -> tuple[dict, dict[str, str]]:
    return mapping_mod.mapped_values(batch.mapping or {}, values or {})


def load_register(session: Session) -> list[Entity]:
    """Every system with its aliases, as matching entities (two queries, whatever the size)."""
    entities: dict[int, Entity] = {}
    for sid, name, supplier in session.execute(select(System.id, System.name, System.supplier).order_by(System.id)):
        entities[sid] = Entity(sid, [name], supplier)
    for sid, alias in session.execute(select(SystemAlias.system_id, SystemAlias.name).order_by(SystemAlias.id)):
        ent = entities.get(sid)
        if ent is not None:
            ent.names.append(alias)
    return list(entities.values())


def comparisons(session: Session, row_count: int) -> int:
    """How much matching a list of ``row_count`` rows is: each row against every name in the register
    (systems and aliases) and against the other rows (duplicates within the list). Two counts."""
    names = session.execute(select(select(func.count(System.id)).scalar_subquery()
                                   + select(func.count(SystemAlias.id)).scalar_subquery())).scalar_one()
    return row_count * (int(names or 0) + row_count)


def matches_inline(session: Session, row_count: int, config: Mapping) -> bool:
    """Whether a list is matched within the request that brought it (else in the background, with progress
    to poll). The budget IMPORT_INLINE_COMPARISONS bounds the request to a few seconds on two cores:
    20,000,000 is 3,000 rows against 3,000 names (~1.7 s) or 100 rows against 100,000 (~2.5 s, most of it
    preparing the register's names); 3,000 rows against 100,000 names (~4 s, ~5 s with the database)
    goes to the background. IMPORT_INLINE_ROWS caps the rows whatever the register."""
    if row_count > config.get("IMPORT_INLINE_ROWS", INLINE_ROWS):
        return False
    return comparisons(session, row_count) <= config.get("IMPORT_INLINE_COMPARISONS", INLINE_COMPARISONS)


def existing_refs(session: Session, source: str, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    unique = sorted({k for k in keys if k})
    for start in range(0, len(unique), CHUNK):
        part = unique[start:start + CHUNK]
        stmt = select(ExternalRef.key, ExternalRef.system_id).where(ExternalRef.source == source,
                                                                    ExternalRef.key.in_(part))
        found.update(dict(session.execute(stmt).all()))
    return found


def match_batch(session: Session, batch: ImportBatch, thresholds: Thresholds,
                progress: Callable[[int, int], None] | None = None, *, force_blocking: bool = False,
                release: bool = False) -> None:
    """Compute and store candidates, in-batch duplicates and the suggestion of every row; status → ready.
    ``release`` ends the reading transaction before the long part (background work only)."""
    rows = session.execute(select(ImportRow.id, ImportRow.values).where(ImportRow.batch_id == batch.id)
                           .order_by(ImportRow.row_number)).all()
    total = len(rows)
    if progress:
        progress(0, total)
    fields = [row_fields(batch, values)[0] for _, values in rows]
    slug = source_slug(batch.source)
    refs_by_key = existing_refs(session, slug, [f.get("external_key", "") for f in fields])
    register = load_register(session)
    names = {e.ident: e.names[0] for e in register}
    entities = [Entity(i, [f.get("name", "")], f.get("supplier")) for i, f in enumerate(fields)]
    refs = [refs_by_key.get(f.get("external_key", "")) for f in fields]
    if release:  # background work: end the read, the matching below may take a while and must hold no lock
        session.rollback()

    def step(fraction: float) -> None:
        if progress:
            progress(int(total * 0.9 * fraction), total)

    results = match_list(entities, register, refs, thresholds, force_blocking=force_blocking, progress=step)
    _same_key_duplicates(fields, results)
    row_ids = [rid for rid, _ in rows]
    updates = []
    for (rid, _), res in zip(rows, results, strict=True):
        updates.append({
            "id": rid,
            "candidates": [{"system_id": m.target, "name": names.get(m.target, m.matched), **m.as_dict()}
                           for m in res.candidates],
            "duplicates_in_batch": [row_ids[j] for j in res.duplicates],
            "suggestion_action": ImportAction(res.action),
            "suggestion_system_id": res.system_id,
            "suggestion_row_id": row_ids[res.row_index] if res.row_index is not None else None,
            "confidence": res.confidence,
        })
    for start in range(0, len(updates), CHUNK):
        session.execute(update(ImportRow), updates[start:start + CHUNK])
    fresh = session.get(ImportBatch, batch.id)
    if fresh is not None and fresh.status == ImportStatus.MATCHING:
        fresh.status = ImportStatus.READY
        fresh.progress_done = fresh.progress_total = total
        fresh.error = None
        fresh.worker = None
    if progress:
        progress(total, total)


def _same_key_duplicates(fields: list[dict], results) -> None:
    """Two rows with the same external key are the same system whatever their names say."""
    first: dict[str, int] = {}
    for i, f in enumerate(fields):
        key = f.get("external_key")
        if not key:
            continue
        if key not in first:
            first[key] = i
            continue
        j = first[key]
        if not results[j].named and results[i].named:
            # a row without a name cannot make the system: the first named row with the key does
            first[key] = i
            results[i].duplicates = sorted(set(results[i].duplicates + [j]))
            results[j].duplicates = sorted(set(results[j].duplicates + [i]))
            if results[j].action != "merge":
                results[j].action, results[j].row_index = "skip", i
            continue
        res, origin = results[i], results[j]
        if j not in res.duplicates:
            res.duplicates = sorted(res.duplicates + [j])
            origin.duplicates = sorted(set(origin.duplicates + [i]))
        if res.action == "create":
            if origin.action == "merge":
                res.action, res.system_id = "merge", origin.system_id
            else:
                res.action, res.row_index = "skip", j
            res.reason, res.score = "repeats_row", 100.0
