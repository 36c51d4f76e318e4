"""Imports: bring a list of systems in, match it against the register, let a person decide, apply, undo.

Rules (DESIGN.md "Imports and duplicates"): only admins import (NotAllowed otherwise). A file that cannot
be read is refused at upload and leaves nothing behind (TooLarge 413, RuleViolation 422, BadInput 415).
Every row is kept verbatim with its row number. Nothing is merged without a suggestion a person can read or
a decision a person took; a filled field changes only where a person chose it. Apply is one transaction
recording what changed per row; undo reverses exactly that or refuses (Conflict) when later changes
depend on it. Large lists are matched, applied and undone in the background (riskreg.imports.jobs)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import Conflict, DomainError, NotAllowed, NotFound, RuleViolation
from riskreg.imports import applying, jobs, reading, runner
from riskreg.imports import mapping as mapping_mod
from riskreg.imports.matching import Thresholds
from riskreg.models import ImportBatch, ImportMapping, ImportRow, ImportSetting, OrgUnit, System, User
from riskreg.models.base import utcnow
from riskreg.models.codes import ImportAction, ImportStatus

SETTING_KEYS = ("merge", "confident", "review", "duplicate", "margin")
FILTERS = ("all", "merge", "create", "skip", "duplicates", "uncertain", "undecided", "decided")


class FileRefused(DomainError):
    """A file that cannot be read: the status of the problem (413, 415 or 422) with its code."""

    def __init__(self, problem: reading.FileProblem):
        super().__init__(problem.message, problem.fields, problem.code)
        self.status = problem.status


def require_importer(actor: Actor) -> None:
    if not permissions.can_import(actor.user):
        raise NotAllowed(_l("Only an administrator imports lists of systems."))


# ------------------------------------------------------------------ settings


def thresholds(session: Session) -> Thresholds:
    """The matcher's thresholds: app config IMPORT_THRESHOLDS, overridden by the import_settings table."""
    values = dict(current_app.config.get("IMPORT_THRESHOLDS") or {})
    for key, value in session.execute(select(ImportSetting.key, ImportSetting.value)):
        if key.startswith("threshold."):
            try:
                values[key.split(".", 1)[1]] = float(value)
            except ValueError:
                continue
    return Thresholds.from_mapping(values)


def update_settings(session: Session, actor: Actor, values: dict[str, float]) -> Thresholds:
    """Change thresholds (admins). Raises NotAllowed, RuleViolation."""
    require_importer(actor)
    problems = {k: [_l("A number from 0 to 100.")] for k, v in values.items()
                if k not in SETTING_KEYS or not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 100}
    merged = {**thresholds(session).__dict__, **{k: v for k, v in values.items() if k not in problems}}
    if not problems and merged["confident"] < merged["merge"]:
        problems["confident"] = [_l("Must not be below the merge threshold.")]
    if not problems and merged["review"] > merged["merge"]:
        problems["review"] = [_l("Must not be above the merge threshold.")]
    if problems:
        raise RuleViolation(_l("The thresholds are invalid."), fields=problems)
    before = thresholds(session).__dict__
    for key, value in values.items():
        row = session.get(ImportSetting, f"threshold.{key}")
        if row is None:
            session.add(ImportSetting(key=f"threshold.{key}", value=str(float(value))))
        else:
            row.value = str(float(value))
    session.flush()
    after = thresholds(session)
    b, a = audit.changed(before, after.__dict__)
    if a:
        audit.record(session, actor, "import_setting", None, "update", b, a)
    return after


# ------------------------------------------------------------------ upload and mapping


def limits() -> reading.Limits:
    cfg = current_app.config
    return reading.Limits(max_bytes=cfg["IMPORT_MAX_BYTES"], max_rows=cfg["IMPORT_MAX_ROWS"],
                          xlsx_max_uncompressed=cfg["IMPORT_XLSX_MAX_UNCOMPRESSED"],
                          xlsx_max_ratio=cfg["IMPORT_XLSX_MAX_RATIO"])


def _read(content: bytes, filename: str, encoding, delimiter, sheet) -> reading.Table:
    try:
        return reading.read(content, filename, limits(), encoding=encoding, delimiter=delimiter, sheet=sheet)
    except reading.FileProblem as problem:
        raise FileRefused(problem) from problem


def choose_mapping(session: Session, source: str, headers: list[str], explicit: dict | None) -> dict[str, str]:
    """An explicit mapping as given (checked); else the source's saved mapping where its columns exist,
    completed by suggestions from the headers. Raises RuleViolation (no name column, unknown column)."""
    if explicit is not None:
        try:
            return mapping_mod.validate(explicit, headers)
        except ValueError as exc:
            raise RuleViolation(_l("The column mapping does not fit the file."), fields=exc.args[0]) from exc
    chosen = mapping_mod.suggest(headers)
    saved = session.execute(select(ImportMapping.mapping).where(
        ImportMapping.source == runner.source_slug(source))).scalar_one_or_none() or {}
    usable = {c: f for c, f in saved.items() if c in headers and f in mapping_mod.FIELDS}
    if usable:
        chosen = {c: f for c, f in chosen.items() if f not in usable.values() or f == "aliases"}
        chosen.update(usable)
    if "name" not in chosen.values():
        raise RuleViolation(_l("No column holds the systems' names. Name one column Namn or Name, or send a "
                               "mapping."), fields={"mapping": [_l("No column is mapped to the name.")]})
    return chosen


def _remember_mapping(session: Session, source: str, chosen: dict[str, str]) -> None:
    slug = runner.source_slug(source)
    row = session.execute(select(ImportMapping).where(ImportMapping.source == slug)).scalar_one_or_none()
    if row is None:
        session.add(ImportMapping(source=slug, mapping=dict(chosen), updated_at=utcnow()))
    elif row.mapping != chosen:
        row.mapping = dict(chosen)
        row.updated_at = utcnow()


def _check_inputs(session: Session, source: str, org_unit_id: int | None) -> str:
    source = (source or "").strip()
    if not source or len(source) > 50:
        raise RuleViolation(_l("Name the source of the list (at most 50 characters)."),
                            fields={"source": [_l("Required, at most 50 characters.")]})
    if org_unit_id is not None and session.get(OrgUnit, org_unit_id) is None:
        raise RuleViolation(_l("No such org unit."), fields={"org_unit_id": [_l("No such org unit.")]})
    return source


def _store_rows(session: Session, batch: ImportBatch, table: reading.Table) -> None:
    headers = table.headers
    payload = [{"batch_id": batch.id, "row_number": number, "values": dict(zip(headers, cells, strict=True)),
                "candidates": [], "duplicates_in_batch": [], "field_choices": {}, "changes": {}}
               for number, cells in table.rows]
    for start in range(0, len(payload), 2000):
        session.execute(insert(ImportRow), payload[start:start + 2000])


def upload(session: Session, actor: Actor, *, filename: str, content: bytes, source: str,
           mapping: dict | None = None, org_unit_id: int | None = None, encoding: str | None = None,
           delimiter: str | None = None, sheet: str | None = None) -> ImportBatch:
    """Read a list and store it with every row verbatim; status `matching` (see ``start_matching``).
    Raises NotAllowed, FileRefused (413/415/422), RuleViolation."""
    require_importer(actor)
    source = _check_inputs(session, source, org_unit_id)
    table = _read(content, filename, encoding, delimiter, sheet)
    chosen = choose_mapping(session, source, table.headers, mapping)
    if mapping is not None:
        _remember_mapping(session, source, chosen)
    batch = ImportBatch(source=source, filename=(filename or "list")[:255], content=content,
                        content_sha256=hashlib.sha256(content).hexdigest(), file_kind=table.kind,
                        encoding=table.encoding, delimiter=table.delimiter, sheet=table.sheet,
                        headers=table.headers, mapping=chosen, org_unit_id=org_unit_id, status=ImportStatus.MATCHING,
                        progress_done=0, progress_total=len(table.rows), row_count=len(table.rows),
                        created_by_id=actor.user_id, created_at=actor.at(), heartbeat_at=utcnow())
    session.add(batch)
    session.flush()
    _store_rows(session, batch, table)
    audit.record(session, actor, "import_batch", batch.id, "create", None, {
        "source": source, "filename": batch.filename, "file_kind": table.kind, "encoding": table.encoding,
        "delimiter": table.delimiter, "sheet": table.sheet, "row_count": batch.row_count, "mapping": chosen,
        "sha256": batch.content_sha256})
    return batch


def remap(session: Session, actor: Actor, batch_id: int, *, mapping: dict | None, encoding: str | None = None,
          delimiter: str | None = None, sheet: str | None = None, org_unit_id: int | None = None,
          keep_org_unit: bool = True) -> ImportBatch:
    """Read the stored file again with other choices (mapping, encoding, separator, sheet, org unit) and
    match anew; decisions taken so far are dropped. Only before apply. Raises NotAllowed, Conflict."""
    require_importer(actor)
    batch = get(session, actor, batch_id, for_update=True)
    if batch.status not in (ImportStatus.READY, ImportStatus.FAILED, ImportStatus.UNDONE):
        raise Conflict(_l("Only a batch that is ready (not applied, not busy) can be read again."))
    if not keep_org_unit or org_unit_id is not None:
        _check_inputs(session, batch.source, org_unit_id)
    table = _read(batch.content, batch.filename, encoding or batch.encoding if batch.file_kind == "csv" else None,
                  delimiter or batch.delimiter if batch.file_kind == "csv" else None,
                  sheet if sheet is not None else batch.sheet)
    if encoding is None and delimiter is None and sheet is None and mapping is None:
        chosen = dict(batch.mapping)
        chosen = choose_mapping(session, batch.source, table.headers, chosen)
    else:
        keep = mapping if mapping is not None else {c: f for c, f in batch.mapping.items() if c in table.headers}
        if mapping is None and "name" not in keep.values():
            # another sheet (or reading) whose columns the mapping so far does not name: map them as at upload
            keep = None
        chosen = choose_mapping(session, batch.source, table.headers, keep)
    if mapping is not None:
        _remember_mapping(session, batch.source, chosen)
    before = {"mapping": batch.mapping, "encoding": batch.encoding, "delimiter": batch.delimiter,
              "sheet": batch.sheet, "org_unit_id": batch.org_unit_id}
    session.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    batch.encoding, batch.delimiter, batch.sheet = table.encoding, table.delimiter, table.sheet
    batch.headers, batch.mapping = table.headers, chosen
    if not keep_org_unit or org_unit_id is not None:
        batch.org_unit_id = org_unit_id
    batch.status, batch.error = ImportStatus.MATCHING, None
    batch.row_count = batch.progress_total = len(table.rows)
    batch.progress_done = 0
    batch.heartbeat_at = utcnow()
    session.flush()
    _store_rows(session, batch, table)
    after = {"mapping": batch.mapping, "encoding": batch.encoding, "delimiter": batch.delimiter,
             "sheet": batch.sheet, "org_unit_id": batch.org_unit_id}
    b, a = audit.changed(before, after)
    audit.record(session, actor, "import_batch", batch.id, "remap", b, a)
    return batch


def start_matching(session: Session, actor: Actor, batch: ImportBatch) -> ImportBatch:
    """Match now when the list is small (the answer is then `ready`), else in the background. The caller
    has committed the batch."""
    if batch.row_count <= current_app.config.get("IMPORT_INLINE_ROWS", 3000):
        try:
            runner.match_batch(session, batch, thresholds(session))
        except Exception as exc:  # noqa: BLE001 - the batch records the failure, the request does not fail
            current_app.logger.exception("matching batch %s failed", batch.id)
            session.rollback()
            _fail(session, batch.id, _l("Matching failed: %(why)s", why=type(exc).__name__))
        session.flush()
        session.refresh(batch)
        return batch
    jobs.run_in_background("match", batch.id, actor.user_id)
    return batch


# ------------------------------------------------------------------ reading batches and rows


def get(session: Session, actor: Actor, batch_id: int, *, for_update: bool = False) -> ImportBatch:
    require_importer(actor)
    stmt = select(ImportBatch).where(ImportBatch.id == batch_id)
    if for_update:
        stmt = stmt.with_for_update()
    batch = session.execute(stmt).scalar_one_or_none()
    if batch is None:
        raise NotFound(_l("Import %(id)s does not exist.", id=batch_id))
    return batch


def batches_statement(actor: Actor) -> Select:
    require_importer(actor)
    return select(ImportBatch).order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())


def has_duplicates():
    """A row that has duplicates within its batch, earlier or later (matching lists them both ways). The
    JSON list's length, read per row of the batch: json_array_length is SQLite's and PostgreSQL's alike."""
    return func.json_array_length(ImportRow.duplicates_in_batch) > 0


def rows_statement(batch: ImportBatch, flt: str = "all") -> Select:
    """The batch's rows in file order, narrowed by a review filter (FILTERS)."""
    stmt = select(ImportRow).where(ImportRow.batch_id == batch.id)
    action = func.coalesce(ImportRow.decision_action, ImportRow.suggestion_action)
    if flt in ("merge", "create", "skip"):
        stmt = stmt.where(action == flt)
    elif flt == "duplicates":
        stmt = stmt.where(has_duplicates())
    elif flt == "uncertain":
        stmt = stmt.where(ImportRow.confidence == "uncertain", ImportRow.decision_action.is_(None))
    elif flt == "undecided":
        stmt = stmt.where(ImportRow.decision_action.is_(None))
    elif flt == "decided":
        stmt = stmt.where(ImportRow.decision_action.is_not(None))
    return stmt.order_by(ImportRow.row_number)


def summary(session: Session, batch: ImportBatch) -> dict[str, int]:
    """Counts per suggested/decided action and confidence, and of rows with duplicates in the batch (as the
    "duplicates" filter takes them), in one query."""
    action = func.coalesce(ImportRow.decision_action, ImportRow.suggestion_action)
    decided = func.count(ImportRow.decision_action)
    out = {"merge": 0, "create": 0, "skip": 0, "uncertain": 0, "decided": 0, "duplicates": 0, "confident": 0}
    stmt = (select(action, ImportRow.confidence, func.count(), decided,
                   func.count(case((has_duplicates(), 1))))
            .where(ImportRow.batch_id == batch.id).group_by(action, ImportRow.confidence))
    for act, conf, n, dec, dup in session.execute(stmt):
        if act:
            out[str(act.value if hasattr(act, "value") else act)] += n
        out["decided"] += dec
        out["duplicates"] += dup
        if conf == "uncertain":
            out["uncertain"] += n - dec
        elif conf == "confident":
            out["confident"] += n - dec
    return out


def row_context(session: Session, batch: ImportBatch, rows: list[ImportRow]) -> dict[str, Any]:
    """What the review shows beside rows: the candidate systems (one query) and each row's field values."""
    ids = {c["system_id"] for r in rows for c in (r.candidates or [])}
    ids |= {r.decision_system_id for r in rows if r.decision_system_id}
    systems = {s.id: s for s in session.scalars(select(System).where(System.id.in_(sorted(ids))))} if ids else {}
    ctx = applying.Context(session, batch, rows)
    return {"systems": systems, "resolved": {r.id: ctx.resolve(r) for r in rows}, "ctx": ctx}


# ------------------------------------------------------------------ decisions


def _require_status(batch: ImportBatch, *allowed: ImportStatus) -> None:
    if batch.status not in allowed:
        raise Conflict(_l("The import is %(status)s; this cannot be done now.", status=batch.status.value),
                       fields={"status": [batch.status.value]})


def decide(session: Session, actor: Actor, batch_id: int, decisions: list[dict]) -> ImportBatch:
    """Record a person's decision per row: merge (into system_id), create or skip, with field_choices
    ("import" or "keep" per conflicting field). Raises NotAllowed, NotFound, Conflict, RuleViolation."""
    batch = get(session, actor, batch_id, for_update=True)
    _require_status(batch, ImportStatus.READY)
    ids = [d["row_id"] for d in decisions]
    rows = {r.id: r for r in session.scalars(select(ImportRow).where(ImportRow.batch_id == batch.id,
                                                                      ImportRow.id.in_(ids)))} if ids else {}
    wanted = {d["system_id"] for d in decisions if d.get("system_id")}
    existing = set(session.scalars(select(System.id).where(System.id.in_(sorted(wanted))))) if wanted else set()
    problems: dict[str, list] = {}
    for i, d in enumerate(decisions):
        if d["row_id"] not in rows:
            problems[f"{i}.row_id"] = [_l("No such row in this import.")]
        if d["action"] == "merge" and not d.get("system_id"):
            problems[f"{i}.system_id"] = [_l("Say which system to merge into.")]
        elif d.get("system_id") and d["system_id"] not in existing:
            problems[f"{i}.system_id"] = [_l("No such system.")]
    if problems:
        raise RuleViolation(_l("Some decisions are invalid."), fields=problems)
    now = actor.at()
    log = []
    for d in decisions:
        row = rows[d["row_id"]]
        row.decision_action = ImportAction(d["action"])
        row.decision_system_id = d.get("system_id") if d["action"] == "merge" else None
        if "field_choices" in d:
            row.field_choices = dict(d["field_choices"] or {})
        row.decided_by_id, row.decided_at = actor.user_id, now
        log.append({"row_id": row.id, "row_number": row.row_number, "action": d["action"],
                    "system_id": row.decision_system_id, "field_choices": row.field_choices or None})
    session.flush()
    audit.record(session, actor, "import_batch", batch.id, "decide", None,
                 {"decisions": log[:1000], "count": len(log)})
    return batch


def accept_confident(session: Session, actor: Actor, batch_id: int) -> int:
    """Take the matcher's suggestion as the decision for every undecided row it is confident about."""
    batch = get(session, actor, batch_id, for_update=True)
    _require_status(batch, ImportStatus.READY)
    stmt = (update(ImportRow).where(ImportRow.batch_id == batch.id, ImportRow.confidence == "confident",
                                    ImportRow.decision_action.is_(None), ImportRow.suggestion_action.is_not(None))
            .values(decision_action=ImportRow.suggestion_action, decision_system_id=ImportRow.suggestion_system_id,
                    decided_by_id=actor.user_id, decided_at=actor.at())
            .execution_options(synchronize_session=False))
    count = session.execute(stmt).rowcount
    audit.record(session, actor, "import_batch", batch.id, "decide", None, {"accepted_confident": count})
    return count


# ------------------------------------------------------------------ apply and undo


def apply(session: Session, actor: Actor, batch_id: int) -> tuple[ImportBatch, bool]:
    """Apply the batch (True: it continues in the background, status `applying`). Raises NotAllowed,
    NotFound, Conflict (not ready), RuleViolation (rows that cannot be applied as decided)."""
    batch = get(session, actor, batch_id, for_update=True)
    _require_status(batch, ImportStatus.READY)
    if batch.row_count > current_app.config.get("IMPORT_INLINE_APPLY_ROWS", 1000):
        if not jobs.claim(session, batch.id, from_status=ImportStatus.READY, to_status=ImportStatus.APPLYING):
            raise Conflict(_l("Someone else is applying this import right now."))
        session.refresh(batch)
        return batch, True
    _do_apply(session, actor, batch)
    return batch, False


def _do_apply(session: Session, actor: Actor, batch: ImportBatch, progress=None) -> None:
    counts = applying.apply_batch(session, actor, batch, progress)
    batch.status, batch.error, batch.worker = ImportStatus.APPLIED, None, None
    batch.applied_by_id, batch.applied_at = actor.user_id, actor.at()
    batch.undone_by_id = batch.undone_at = None
    session.flush()
    audit.record(session, actor, "import_batch", batch.id, "apply", {"status": "ready"},
                 {"status": "applied", **counts})


def undo(session: Session, actor: Actor, batch_id: int) -> tuple[ImportBatch, bool]:
    """Undo an applied batch (True: in the background, status `undoing`). Raises NotAllowed, NotFound,
    Conflict (not applied, or later changes depend on it)."""
    batch = get(session, actor, batch_id, for_update=True)
    _require_status(batch, ImportStatus.APPLIED)
    if batch.row_count > current_app.config.get("IMPORT_INLINE_APPLY_ROWS", 1000):
        if not jobs.claim(session, batch.id, from_status=ImportStatus.APPLIED, to_status=ImportStatus.UNDOING):
            raise Conflict(_l("Someone else is undoing this import right now."))
        session.refresh(batch)
        return batch, True
    _do_undo(session, actor, batch)
    return batch, False


def _do_undo(session: Session, actor: Actor, batch: ImportBatch, progress=None) -> None:
    counts = applying.undo_batch(session, actor, batch, progress)
    batch.status, batch.error, batch.worker = ImportStatus.UNDONE, None, None
    batch.undone_by_id, batch.undone_at = actor.user_id, actor.at()
    session.flush()
    audit.record(session, actor, "import_batch", batch.id, "undo", {"status": "applied"},
                 {"status": "undone", **counts})


# ------------------------------------------------------------------ background work


def run_job(session: Session, kind: str, batch_id: int, user_id: int | None, heartbeat) -> None:
    """The work of a background thread (riskreg.imports.jobs), committed here in its own session."""
    user = session.get(User, user_id) if user_id else None
    actor = Actor(user=user, client_address="background")
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        return
    if kind == "match":
        runner.match_batch(session, batch, thresholds(session), heartbeat, release=True)
    elif kind == "apply":
        _do_apply(session, actor, batch, heartbeat)
    elif kind == "undo":
        _do_undo(session, actor, batch, heartbeat)
    session.commit()


def _fail(session: Session, batch_id: int, message, status: ImportStatus = ImportStatus.FAILED) -> None:
    session.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
        status=status, error=str(message)[:2000], worker=None, version=ImportBatch.version + 1)
        .execution_options(synchronize_session=False))


def describe(exc: Exception) -> str | None:
    """A refusal's message and fields as one line, for a batch's ``error``."""
    if isinstance(exc, DomainError):
        details = "; ".join(str(m) for msgs in exc.fields.values() for m in msgs)
        return f"{exc.message} {details}".strip()
    return None


def job_failed(session: Session, kind: str, batch_id: int, message=None) -> None:
    """Record why background work failed: matching → `failed`; apply/undo → back where it was (its
    transaction was rolled back, nothing changed) with the error."""
    if kind == "match":
        _fail(session, batch_id, message or _l("Matching failed. Read the list again or upload it anew."))
    elif kind == "apply":
        _fail(session, batch_id, message or _l("Applying failed; nothing was changed."), ImportStatus.READY)
    else:
        _fail(session, batch_id, message or _l("Undoing failed; nothing was changed."), ImportStatus.APPLIED)
    session.commit()


def recover_if_stale(session: Session, actor: Actor, batch: ImportBatch) -> bool:
    """A batch busy in the background whose worker stopped answering (IMPORT_STALE_SECONDS without a
    heartbeat): matching starts again here; an interrupted apply or undo goes back to where it was. True
    when something was done (the caller commits)."""
    busy = (ImportStatus.MATCHING, ImportStatus.APPLYING, ImportStatus.UNDOING)
    if batch.status not in busy:
        return False
    limit = jobs.stale_before()
    if batch.heartbeat_at is not None and batch.heartbeat_at >= limit:
        return False
    if batch.status == ImportStatus.MATCHING:
        if not jobs.claim(session, batch.id, from_status=ImportStatus.MATCHING, to_status=ImportStatus.MATCHING,
                          stale_before=limit):
            return False
        session.commit()
        jobs.run_in_background("match", batch.id, actor.user_id)
        session.refresh(batch)
        return True
    back = ImportStatus.READY if batch.status == ImportStatus.APPLYING else ImportStatus.APPLIED
    if not jobs.claim(session, batch.id, from_status=batch.status, to_status=back, stale_before=limit):
        return False
    _fail(session, batch.id, _l("The work was interrupted (its server process stopped); nothing was changed. "
                                "Try again."), back)
    audit.record(session, actor, "import_batch", batch.id, "recover", {"status": ImportStatus(batch.status).value},
                 {"status": back.value})
    session.commit()
    session.refresh(batch)
    return True


# ------------------------------------------------------------------ the pages' and the API's long work, sheets


def start_matching_within_budget(session: Session, actor: Actor, batch: ImportBatch) -> ImportBatch:
    """``start_matching``, deciding by the work rather than by the rows alone: a list is matched within the
    request only while rows × (names in the register + rows) stays within IMPORT_INLINE_COMPARISONS (and
    its rows within IMPORT_INLINE_ROWS) — a few seconds at most (runner.matches_inline); else in the
    background, status `matching` to poll. The caller has committed the batch."""
    if runner.matches_inline(session, batch.row_count, current_app.config):
        return start_matching(session, actor, batch)
    jobs.run_in_background("match", batch.id, actor.user_id)
    return batch


def progress_from_zero(batch: ImportBatch) -> None:
    """Background work about to start on a claimed batch (apply, undo) counts from 0 of its rows, not from
    the figures the work before left (matching ends at total of total). The caller commits."""
    batch.progress_done, batch.progress_total = 0, batch.row_count


def naming_sheets(err: DomainError, content: bytes | None, sheet: str | None = None) -> DomainError:
    """A workbook refused for its column mapping (no name column, most often: the first sheet is a cover
    sheet): the same refusal, its message naming the sheet read and the workbook's sheets, so that a person
    can choose the one that holds the list (``sheet`` at upload, or PATCH). Any other error, a CSV file or a
    workbook of one sheet: ``err`` as it is."""
    if not isinstance(err, RuleViolation) or "mapping" not in err.fields:
        return err
    names = reading.sheet_names(content)
    if len(names) < 2:
        return err
    from flask_babel import gettext

    listed = ", ".join(gettext("“%(name)s”", name=n) for n in names)
    read = gettext("“%(name)s”", name=sheet if sheet in names else names[0])
    message = _l("%(why)s The sheet read was %(sheet)s; the workbook's sheets are %(names)s. Choose the sheet "
                 "that holds the list.", why=err.message, sheet=read, names=listed)
    return RuleViolation(message, fields={**err.fields, "sheet": [_l("Sheets: %(names)s", names=listed)]},
                         code=err.code)


def uncertain_merges_statement(batch: ImportBatch) -> Select:
    """Undecided rows whose suggestion is an uncertain merge. Apply takes the suggestion where no decision
    was given (API.md), so the pages count these before apply and list them (review filter
    ``uncertain_merges``): nothing is merged without a person seeing it."""
    return rows_statement(batch, "uncertain").where(ImportRow.suggestion_action == ImportAction.MERGE)


def uncertain_merges(session: Session, batch: ImportBatch) -> int:
    stmt = uncertain_merges_statement(batch).order_by(None).with_only_columns(func.count(ImportRow.id))
    return session.execute(stmt).scalar_one()
