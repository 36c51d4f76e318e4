"""Printing decisions: one decision's PDF, and batch prints (a förvaltning's or a selection's current
decisions as one PDF) run as a job whose progress can be followed and whose result is downloaded.

A batch runs in a daemon thread of the process that took the request. The job row is the truth: the worker
writes its progress and a heartbeat as pages are laid out. A worker that dies with its process (a restart)
leaves a job ``running`` whose heartbeat grows old; reading such a job (``get_job``) marks it ``failed``
with an explanation, and ``restart`` starts the same selection again as a new job."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session, selectinload

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import NotAllowed, NotFound, RuleViolation
from riskreg.models import Approval, OrgUnit, PdfJob, System
from riskreg.models.base import utcnow
from riskreg.pdf import Printable, render
from riskreg.search import fold

log = logging.getLogger(__name__)
MAX_BATCH = 1000  # a whole region is ~670 decisions; memory grows ~0.3 MB per decision
PROGRESS_EVERY = 10
HEARTBEAT_EVERY = 2.0  # seconds: progress and heartbeat are written at least this often while pages come
STALE_SECONDS = 120  # default of PDF_JOB_STALE_SECONDS: a running job without a heartbeat this long is dead


def verify_url(reference: str) -> str:
    """Where a printed copy is checked (the QR code): the checksum printed beside it is entered there."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/verify/{quote(reference)}"


def printable(approval: Approval) -> Printable:
    rev = approval.revocation
    return Printable(
        reference=approval.reference,
        snapshot=approval.snapshot,
        content_sha256=approval.content_sha256,
        verify_url=verify_url(approval.reference),
        revoked={"at": rev.revoked_at, "motivation": rev.motivation} if rev else None,
        facts={
            "decision": approval.decision.value,
            "decided_at": approval.decided_at.isoformat(),
            "valid_until": approval.valid_until.isoformat() if approval.valid_until else None,
            "motivation": approval.motivation,
            "confidentiality": approval.confidentiality,
            "integrity": approval.integrity,
            "availability": approval.availability,
        },
    )


def approval_pdf(approval: Approval) -> bytes:
    """One decision as PDF (the caller has checked that the reader may see it)."""
    return render([printable(approval)])


def filename(reference: str) -> str:
    return f"beslut-{reference}.pdf"


# ------------------------------------------------------------------ batch


def may_print(user) -> bool:
    return permissions.can_read_reports(user)


def selection(
    session: Session, actor: Actor, *, org_unit_id: int | None = None, approval_ids: list[int] | None = None
) -> list[int]:
    """The decisions a batch prints: the current decisions of the systems in the actor's report scope,
    of one förvaltning or all, or the given decisions (each must be visible). NotAllowed, NotFound,
    RuleViolation (nothing to print, too many)."""
    user = actor.user
    if not may_print(user):
        raise NotAllowed(
            _l("Printing decisions is for the CISO, DPO, admins, auditors and the systems' owners.")
        )
    scope = permissions.report_scope(user)
    if approval_ids:
        wanted = list(dict.fromkeys(approval_ids))
        rows = dict(
            session.execute(
                select(Approval.id, scope)
                .join(System, System.id == Approval.system_id)
                .where(Approval.id.in_(wanted))
            ).all()
        )
        unknown = [i for i in wanted if i not in rows]
        if unknown:
            raise NotFound(_l("No such decisions: %(ids)s", ids=", ".join(map(str, unknown[:20]))))
        if not all(rows.values()):
            raise NotAllowed(_l("Some of the decisions are not yours to read."))
        ids = wanted
    else:
        if org_unit_id is not None and session.get(OrgUnit, org_unit_id) is None:
            raise NotFound(_l("Org unit %(id)s does not exist.", id=org_unit_id))
        stmt = (
            select(System.current_approval_id)
            .where(
                System.current_approval_id.is_not(None),
                scope,
                System.org_unit_id == org_unit_id if org_unit_id else true(),
            )
            .order_by(System.name, System.id)
        )
        ids = list(session.scalars(stmt))
    if not ids:
        raise RuleViolation(_l("There are no decisions to print in the selection."), code="empty_selection")
    if len(ids) > MAX_BATCH:
        raise RuleViolation(_l("At most %(n)s decisions in one print.", n=MAX_BATCH), code="too_many")
    return ids


def start(
    session: Session, actor: Actor, *, org_unit_id: int | None = None, approval_ids: list[int] | None = None
) -> PdfJob:
    """Create a batch print job (status running) for the selection; ``launch`` then does the work."""
    ids = selection(session, actor, org_unit_id=org_unit_id, approval_ids=approval_ids)
    job = PdfJob(
        created_by_id=actor.user_id,
        created_at=actor.at(),
        status="running",
        done=0,
        total=len(ids),
        selection={"org_unit_id": org_unit_id, "approval_ids": ids, "chosen": bool(approval_ids)},
        heartbeat_at=utcnow(),
    )
    session.add(job)
    session.flush()
    audit.record(
        session, actor, "pdf_job", job.id, "create", None, {"org_unit_id": org_unit_id, "total": len(ids)}
    )
    return job


def stale_before():
    seconds = STALE_SECONDS
    if has_app_context():
        seconds = current_app.config.get("PDF_JOB_STALE_SECONDS", STALE_SECONDS)
    return utcnow() - timedelta(seconds=int(seconds))


INTERRUPTED = _l(
    "The print was interrupted (its server process stopped) and no PDF was made. Start it again."
)


def fail_if_stale(session: Session, actor: Actor, job: PdfJob) -> bool:
    """A running job whose worker stopped answering (no heartbeat for PDF_JOB_STALE_SECONDS) is marked
    failed, with an explanation, so that its page stops waiting. One UPDATE … WHERE status = 'running' AND
    the heartbeat is old: a worker that is alive, or another request that got there first, wins. True when
    this call marked it (the caller commits)."""
    if job.status != "running":
        return False
    limit = stale_before()
    beat = job.heartbeat_at or job.created_at
    if beat is not None and beat >= limit:
        return False
    marked = session.execute(
        update(PdfJob)
        .where(
            PdfJob.id == job.id,
            PdfJob.status == "running",
            or_(PdfJob.heartbeat_at.is_(None), PdfJob.heartbeat_at < limit),
        )
        .values(status="failed", error=str(INTERRUPTED), finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(job)
    if marked != 1:
        return False
    audit.record(session, actor, "pdf_job", job.id, "fail", {"status": "running"},
                 {"status": "failed", "reason": "stale"})
    return True


def get_job(session: Session, actor: Actor, job_id: int) -> PdfJob:
    """The actor's own print job (NotFound, NotAllowed); a job whose worker died is marked failed here
    (flushed; the caller commits)."""
    job = session.get(PdfJob, job_id)
    if job is None:
        raise NotFound(_l("Print job %(id)s does not exist.", id=job_id))
    if job.created_by_id != actor.user_id:
        raise NotAllowed(_l("The print job belongs to someone else."))
    fail_if_stale(session, actor, job)
    return job


def restart(session: Session, actor: Actor, job_id: int) -> PdfJob:
    """Start a failed print again as a new job: the same chosen decisions, or the org unit's (or all)
    current decisions as they are now. NotFound, NotAllowed; RuleViolation unless the job failed."""
    job = get_job(session, actor, job_id)
    # the row locked (PostgreSQL; SQLite's write transaction is one at a time): a second press finds the first
    session.execute(select(PdfJob.id).where(PdfJob.id == job.id).with_for_update())
    session.refresh(job)
    if job.status != "failed":
        raise RuleViolation(_l("Only a failed print is started again."), code="not_failed")
    again = (job.selection or {}).get("restarted_as")
    if again:
        raise RuleViolation(_l("This print was already started again (print %(id)s).", id=again),
                            code="already_restarted")
    chosen = job.selection.get("chosen")
    new = start(
        session,
        actor,
        org_unit_id=None if chosen else job.selection.get("org_unit_id"),
        approval_ids=list(job.selection.get("approval_ids") or []) if chosen else None,
    )
    job.selection = {**job.selection, "restarted_as": new.id}
    session.flush()
    return new


def printable_decisions(
    session: Session,
    actor: Actor,
    *,
    org_unit_id: int | None = None,
    q: str = "",
    page_no: int = 1,
    per_page: int = 50,
) -> tuple[list, int]:
    """One page of the current decisions the actor may print (their report scope), by system name, to
    choose a selection from: narrowed to an org unit and to systems whose name contains ``q`` (folded, so
    å/ä/ö and case do not matter). Rows of (approval id, reference, decision, decided_at, valid_until,
    system id, system name, org unit name); and how many there are."""
    user = actor.user
    if not may_print(user):
        raise NotAllowed(
            _l("Printing decisions is for the CISO, DPO, admins, auditors and the systems' owners.")
        )
    where = [permissions.report_scope(user), System.current_approval_id.is_not(None)]
    if org_unit_id:
        where.append(System.org_unit_id == org_unit_id)
    needle = fold(q or "")[:200]
    if needle:
        where.append(System.search_key.contains(needle, autoescape=True))
    stmt = (
        select(
            Approval.id,
            Approval.reference,
            Approval.decision,
            Approval.decided_at,
            Approval.valid_until,
            System.id.label("system_id"),
            System.name.label("system_name"),
            OrgUnit.name.label("org_unit"),
        )
        .select_from(System)
        .join(Approval, Approval.id == System.current_approval_id)
        .join(OrgUnit, OrgUnit.id == System.org_unit_id)
        .where(*where)
    )
    total = session.execute(
        select(func.count()).select_from(System).where(*where)
    ).scalar_one()
    rows = session.execute(
        stmt.order_by(System.name, System.id).limit(per_page).offset((max(page_no, 1) - 1) * per_page)
    ).all()
    return rows, total


def load_printables(session: Session, ids: list[int]) -> list[Printable]:
    order = {aid: i for i, aid in enumerate(ids)}
    approvals = (
        session.execute(
            select(Approval).where(Approval.id.in_(ids)).options(selectinload(Approval.revocation))
        )
        .scalars()
        .all()
    )
    return [printable(a) for a in sorted(approvals, key=lambda a: order[a.id])]


def run(session: Session, job: PdfJob, report: Callable[[int], None]) -> None:
    """Lay the job's decisions out as one PDF, telling ``report`` how far it has come."""
    items = load_printables(session, job.selection["approval_ids"])
    data = render(items, progress=report)
    job.result, job.done, job.status, job.finished_at = data, len(items), "done", _now()
    session.flush()


def _now():
    from riskreg.models.base import utcnow

    return utcnow()


def launch(app: Flask, session: Session, job: PdfJob) -> None:
    """Run the job: in the request when PDF_JOBS_INLINE is set (tests), else in a thread of its own that
    commits its progress as it goes (the caller must have committed the job)."""
    if app.config.get("PDF_JOBS_INLINE"):

        def report(n: int) -> None:
            job.done, job.heartbeat_at = n, utcnow()

        run(session, job, report)
        return
    threading.Thread(target=_work, args=(app, job.id), name=f"pdf-job-{job.id}", daemon=True).start()


class Heartbeat:
    """Writes a job's progress and heartbeat in a short transaction of its own, every PROGRESS_EVERY
    decisions or HEARTBEAT_EVERY seconds, whichever comes first (best effort: the work goes on if a write
    fails)."""

    def __init__(self, engine, job_id: int):
        self.engine, self.job_id, self.last = engine, job_id, 0.0

    def __call__(self, n: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and n % PROGRESS_EVERY and now - self.last < HEARTBEAT_EVERY:
            return
        self.last = now
        try:
            with Session(self.engine) as progress:
                progress.execute(
                    update(PdfJob).where(PdfJob.id == self.job_id).values(done=n, heartbeat_at=utcnow())
                )
                progress.commit()
        except Exception as exc:  # noqa: BLE001 - progress is a courtesy, the work must go on
            log.debug("progress of print job %s not written: %s", self.job_id, exc)


def _work(app: Flask, job_id: int) -> None:
    from riskreg.extensions import db

    with app.app_context():
        session = db.session
        report = Heartbeat(db.engine, job_id)

        try:
            report(0, force=True)
            job = session.get(PdfJob, job_id)
            items = load_printables(session, list(job.selection["approval_ids"]))
            # End the read before the long render: on SQLite an open read transaction makes every
            # writer (the progress updates, other requests) wait until it times out.
            session.rollback()
            report(0, force=True)
            data = render(items, progress=report)
            session.execute(  # only a job still running: one marked failed as stale stays failed
                update(PdfJob)
                .where(PdfJob.id == job_id, PdfJob.status == "running")
                .values(result=data, done=len(items), status="done", finished_at=_now(), heartbeat_at=_now())
            )
            session.commit()
        except Exception as exc:  # noqa: BLE001 - the job records its failure; the page shows it
            log.exception("print job %s failed", job_id)
            session.rollback()
            session.execute(
                update(PdfJob)
                .where(PdfJob.id == job_id, PdfJob.status == "running")
                .values(status="failed", error=str(exc)[:500], finished_at=_now())
            )
            session.commit()
        finally:
            db.session.remove()
