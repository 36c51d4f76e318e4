"""JSON API of driftgodkännande (API.md): requests, decisions and their PDF, revocation, the decision
queue, condition follow-up, decommissioning plans, batch prints and verification of a printed copy."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, jsonify
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, select
from sqlalchemy.orm import selectinload

from riskreg import permissions
from riskreg.actor import Actor
from riskreg.blueprints.api import (
    api_user,
    body,
    created,
    page_args,
    paged,
    paged_list,
    perform,
    query_args,
    require,
    route,
    system_for,
)
from riskreg.errors import Conflict, NotAllowed
from riskreg.extensions import db
from riskreg.models import Approval, ApprovalCondition, System
from riskreg.models.codes import ConditionStatus
from riskreg.schemas.approvals import (
    ApprovalConditionListOut,
    ApprovalConditionOut,
    ApprovalConditionQuery,
    ApprovalDecisionIn,
    ApprovalOut,
    ApprovalPrintIn,
    ApprovalPrintOut,
    ApprovalQueueItemOut,
    ApprovalQueueQuery,
    ApprovalQueueSummaryOut,
    ApprovalRequestIn,
    ApprovalRequestOut,
    ApprovalRevocationOut,
    ApprovalRevokeIn,
    ApprovalVerifyOut,
    ApprovalVerifyQuery,
    ConditionFulfilIn,
    ConditionReopenIn,
    DecommissioningCancelIn,
    DecommissioningCompleteIn,
    DecommissioningPlanIn,
    DecommissioningPlanOut,
)
from riskreg.services import approval_prints as prints
from riskreg.services import approval_queue as queue
from riskreg.services import approval_snapshot as content
from riskreg.services import approvals as service
from riskreg.services import decommissioning
from riskreg.web import current_actor

TAG = "approvals"


def dump_condition(cond: ApprovalCondition, today: date) -> dict:
    data = ApprovalConditionOut().dump(cond)
    data["overdue"] = cond.status == ConditionStatus.OPEN and cond.due_on < today
    return data


def dump_approval(approval: Approval, system: System, today: date, changes: list | None = None) -> dict:
    data = ApprovalOut().dump(approval)
    data["profile"] = f"{approval.confidentiality}-{approval.integrity}-{approval.availability}"
    data["state"] = service.approval_state(approval, system, today, db.session)
    data["conditions"] = [dump_condition(c, today) for c in approval.conditions]
    data["accepted_risk_ids"] = [a.risk_id for a in approval.accepted_risks]
    data["accepted_risks"] = [
        {"risk_id": a.risk_id, "motivation": a.motivation} for a in approval.accepted_risks
    ]
    data["revocation"] = ApprovalRevocationOut().dump(approval.revocation) if approval.revocation else None
    if changes is not None:
        data["changes_since_decision"] = [
            {"kind": c.kind, "message": str(c.message), "needs_review": c.needs_review} for c in changes
        ]
    else:
        data.pop("changes_since_decision", None)
    return data


def _read_approvals(actor: Actor, system: System) -> None:
    """The permission check of system_for for reading a system's approval records."""
    require(
        permissions.can_read_records(actor.user, system),
        "Only the system's owners, the CISO, the DPO, admins and auditors read its approvals.",
    )


def _dump_condition_now(cond: ApprovalCondition) -> dict:
    return dump_condition(cond, current_actor().today())


# ------------------------------------------------------------------ requests


@route(
    "/systems/<int:system_id>/approval-requests",
    "POST",
    summary="Request a decision on approval to operate",
    body=ApprovalRequestIn,
    response=ApprovalRequestOut,
    status=201,
    errors=(403, 409, 422),
    tag=TAG,
)
def create_request(system_id: int):
    return perform(
        service.request, system_id, ApprovalRequestIn(), dump=ApprovalRequestOut().dump, status=201
    )


@route(
    "/systems/<int:system_id>/approval-requests",
    summary="A system's requests for a decision, newest first",
    response=ApprovalRequestOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_requests(system_id: int):
    system_for(system_id, _read_approvals)
    return paged(service.requests_of(db.session, system_id), ApprovalRequestOut(many=True).dump)


@route(
    "/approval-requests/<int:request_id>/withdraw",
    "POST",
    summary="Withdraw a pending request",
    response=ApprovalRequestOut,
    errors=(403, 422),
    tag=TAG,
)
def withdraw_request(request_id: int):
    return perform(service.withdraw, request_id, dump=ApprovalRequestOut().dump)


@route(
    "/systems/<int:system_id>/approval-prerequisites",
    summary="What a decision on the system still lacks (empty when a decision may be requested)",
    errors=(403,),
    tag=TAG,
)
def prerequisites(system_id: int):
    system = system_for(system_id, _read_approvals)
    missing = service.prerequisites(db.session, system)
    return jsonify(
        {"ready": not missing, "missing": [{"code": m.code, "message": str(m.message)} for m in missing]}
    )


# ------------------------------------------------------------------ decisions


@route(
    "/systems/<int:system_id>/approvals",
    "POST",
    summary="Decide: approved, approved_with_conditions or rejected",
    body=ApprovalDecisionIn,
    response=ApprovalOut,
    status=201,
    errors=(403, 409, 422),
    tag=TAG,
)
def decide(system_id: int):
    data = body(ApprovalDecisionIn())
    accepted = {rid: "" for rid in data.get("accepted_risk_ids") or []}
    accepted.update({a["risk_id"]: a.get("motivation", "") for a in data.get("accepted_risks") or []})
    actor = current_actor()
    approval = service.decide(
        db.session,
        actor,
        system_id,
        decision=data["decision"],
        motivation=data["motivation"],
        valid_until=data.get("valid_until"),
        conditions=data.get("conditions") or [],
        accepted_risks=accepted,
    )
    answer = dump_approval(approval, db.session.get(System, system_id), actor.today(), [])
    db.session.commit()
    return created(answer)


@route(
    "/systems/<int:system_id>/approvals",
    summary="A system's decisions, newest first",
    response=ApprovalOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_approvals(system_id: int):
    system = system_for(system_id, _read_approvals)
    today = current_actor().today()
    return paged(
        service.history(db.session, system_id), lambda rows: [dump_approval(a, system, today) for a in rows]
    )


@route(
    "/approvals/<int:approval_id>",
    summary="One decision, with what changed since it was made",
    response=ApprovalOut,
    errors=(403,),
    tag=TAG,
)
def get_approval(approval_id: int):
    actor = current_actor()
    approval, system = service.readable_approval(db.session, actor, approval_id)
    changes = service.changes_since(db.session, approval, system, actor.today())
    return jsonify(dump_approval(approval, system, actor.today(), changes))


@route(
    "/approvals/<int:approval_id>/pdf",
    summary="The decision as PDF (Beslut om driftgodkännande)",
    errors=(403,),
    content_type="application/pdf",
    tag=TAG,
)
def approval_pdf(approval_id: int):
    approval, _system = service.readable_approval(db.session, current_actor(), approval_id)
    return pdf_response(prints.approval_pdf(approval), prints.filename(approval.reference))


def pdf_response(data: bytes, name: str, inline: bool = False) -> Response:
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    return resp


@route(
    "/approvals/<int:approval_id>/revoke",
    "POST",
    summary="Revoke an approval (risk owner or CISO)",
    body=ApprovalRevokeIn,
    response=ApprovalRevocationOut,
    status=201,
    errors=(403, 422),
    tag=TAG,
)
def revoke(approval_id: int):
    return perform(
        service.revoke, approval_id, ApprovalRevokeIn(), dump=ApprovalRevocationOut().dump, status=201
    )


# ------------------------------------------------------------------ queue


def _queue_clause():
    user = api_user()
    if not queue.may_see_queue(user):
        raise NotAllowed("The decision queue is for risk owners and the read-all roles.")
    args = query_args(ApprovalQueueQuery())
    return queue.scope(user, args.get("risk_owner_id"), args.get("org_unit_id"))


@route(
    "/approval-queue",
    summary="Pending requests, oldest first (a risk owner's own; all for read-all roles)",
    response=ApprovalQueueItemOut,
    paged=True,
    query=ApprovalQueueQuery,
    errors=(403,),
    tag=TAG,
)
def approval_queue():
    clause = _queue_clause()
    page_no, per_page = page_args()
    items, total = queue.page(db.session, clause, current_actor().today(), page_no, per_page)
    return jsonify(
        {
            "items": ApprovalQueueItemOut(many=True).dump(items),
            "total": total,
            "page": page_no,
            "per_page": per_page,
        }
    )


@route(
    "/approval-queue/summary",
    summary="Every risk owner's queue: how many wait and for how long",
    response=ApprovalQueueSummaryOut,
    paged=True,
    query=ApprovalQueueQuery,
    errors=(403,),
    tag=TAG,
)
def approval_queue_summary():
    clause = _queue_clause()
    rows = queue.summary(db.session, current_actor().today(), clause)
    return paged_list(rows, ApprovalQueueSummaryOut(many=True).dump)


# ------------------------------------------------------------------ conditions


@route(
    "/approval-conditions",
    summary="Conditions of decisions to follow up (filters status, overdue, system_id)",
    response=ApprovalConditionListOut,
    paged=True,
    query=ApprovalConditionQuery,
    tag=TAG,
)
def list_conditions():
    user = api_user()
    args = query_args(ApprovalConditionQuery())
    today = current_actor().today()
    scope = permissions.report_scope(user) if permissions.can_read_reports(user) else false()
    stmt = (
        select(ApprovalCondition, Approval.reference, System.id, System.name)
        .join(Approval, Approval.id == ApprovalCondition.approval_id)
        .join(System, System.id == Approval.system_id)
        .where(scope, System.current_approval_id == Approval.id)
    )
    if args.get("status"):
        stmt = stmt.where(ApprovalCondition.status == args["status"])
    if args.get("system_id"):
        stmt = stmt.where(System.id == args["system_id"])
    if args.get("overdue") is not None:
        late = and_(ApprovalCondition.status == ConditionStatus.OPEN, ApprovalCondition.due_on < today)
        stmt = stmt.where(late if args["overdue"] else ~late)
    stmt = stmt.order_by(ApprovalCondition.due_on, ApprovalCondition.id)
    page_no, per_page = page_args()
    total = db.session.execute(
        select(db.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page_no - 1) * per_page)).all()
    items = []
    for cond, reference, sid, name in rows:
        items.append(
            {**dump_condition(cond, today), "reference": reference, "system_id": sid, "system_name": name}
        )
    return jsonify({"items": items, "total": total, "page": page_no, "per_page": per_page})


@route(
    "/approval-conditions/<int:condition_id>/fulfil",
    "POST",
    summary="Mark a condition fulfilled",
    body=ConditionFulfilIn,
    response=ApprovalConditionOut,
    errors=(403, 409, 422),
    tag=TAG,
)
def fulfil_condition(condition_id: int):
    return perform(service.fulfil_condition, condition_id, ConditionFulfilIn(), dump=_dump_condition_now)


@route(
    "/approval-conditions/<int:condition_id>/reopen",
    "POST",
    summary="Reopen a fulfilled condition",
    body=ConditionReopenIn,
    response=ApprovalConditionOut,
    errors=(403, 422),
    tag=TAG,
)
def reopen_condition(condition_id: int):
    return perform(service.reopen_condition, condition_id, ConditionReopenIn(), dump=_dump_condition_now)


# ------------------------------------------------------------------ decommissioning


@route(
    "/systems/<int:system_id>/decommissioning-plans",
    summary="A system's decommissioning plans, newest first",
    response=DecommissioningPlanOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_plans(system_id: int):
    system_for(system_id, _read_approvals)
    return paged(decommissioning.plans_of(system_id), DecommissioningPlanOut(many=True).dump)


@route(
    "/systems/<int:system_id>/decommissioning-plans",
    "POST",
    summary="Plan the decommissioning after a rejection",
    body=DecommissioningPlanIn,
    response=DecommissioningPlanOut,
    status=201,
    errors=(403, 422),
    tag=TAG,
)
def create_plan(system_id: int):
    return perform(
        decommissioning.plan,
        system_id,
        DecommissioningPlanIn(),
        dump=DecommissioningPlanOut().dump,
        status=201,
    )


@route(
    "/decommissioning-plans/<int:plan_id>/complete",
    "POST",
    summary="The system is decommissioned",
    body=DecommissioningCompleteIn,
    response=DecommissioningPlanOut,
    errors=(403, 409, 422),
    tag=TAG,
)
def complete_plan(plan_id: int):
    return perform(
        decommissioning.complete, plan_id, DecommissioningCompleteIn(), dump=DecommissioningPlanOut().dump
    )


@route(
    "/decommissioning-plans/<int:plan_id>/cancel",
    "POST",
    summary="Cancel a decommissioning plan (risk owner or CISO); the lifecycle goes back",
    body=DecommissioningCancelIn,
    response=DecommissioningPlanOut,
    errors=(403, 409, 422),
    tag=TAG,
)
def cancel_plan(plan_id: int):
    return perform(
        decommissioning.cancel, plan_id, DecommissioningCancelIn(), dump=DecommissioningPlanOut().dump
    )


# ------------------------------------------------------------------ batch prints


@route(
    "/approval-prints",
    "POST",
    summary="Print many current decisions as one PDF (a förvaltning or a selection)",
    body=ApprovalPrintIn,
    response=ApprovalPrintOut,
    status=201,
    errors=(403, 404, 422),
    tag=TAG,
)
def start_print():
    data = body(ApprovalPrintIn())
    job = prints.start(
        db.session,
        current_actor(),
        org_unit_id=data.get("org_unit_id"),
        approval_ids=data.get("approval_ids"),
    )
    db.session.commit()
    prints.launch(current_app._get_current_object(), db.session, job)
    db.session.commit()
    return created(ApprovalPrintOut().dump(job))


@route(
    "/approval-prints/<int:job_id>",
    summary="A print job's progress (poll until status is done or failed)",
    response=ApprovalPrintOut,
    errors=(403,),
    tag=TAG,
)
def get_print(job_id: int):
    job = prints.get_job(db.session, current_actor(), job_id)  # a job whose worker died is marked failed
    db.session.commit()
    return jsonify(ApprovalPrintOut().dump(job))


@route(
    "/approval-prints/<int:job_id>/restart",
    "POST",
    summary="Start a failed print job again (a new job for the same selection)",
    response=ApprovalPrintOut,
    status=201,
    errors=(403, 422),
    tag=TAG,
)
def restart_print(job_id: int):
    job = prints.restart(db.session, current_actor(), job_id)
    db.session.commit()
    prints.launch(current_app._get_current_object(), db.session, job)
    db.session.commit()
    return created(ApprovalPrintOut().dump(job))


@route(
    "/approval-prints/<int:job_id>/pdf",
    summary="The finished print job's PDF",
    errors=(403, 409),
    content_type="application/pdf",
    tag=TAG,
)
def print_pdf(job_id: int):
    job = prints.get_job(db.session, current_actor(), job_id)
    db.session.commit()
    if job.status != "done" or job.result is None:
        raise Conflict(_l("The print job is not finished."), code="not_finished")
    return pdf_response(job.result, f"beslut-{job.id}.pdf")


# ------------------------------------------------------------------ verification


def verification(approval: Approval, system: System, given: str | None, today: date) -> dict:
    intact = content.sha256(approval.snapshot) == approval.content_sha256
    return {
        "reference": approval.reference,
        "approval_id": approval.id,
        "system_id": system.id,
        "system_name": approval.snapshot.get("system", {}).get("name", system.name),
        "decision": approval.decision.value,
        "decided_at": approval.decided_at,
        "valid_until": approval.valid_until,
        "content_sha256": approval.content_sha256,
        "register_intact": intact,
        "matches": (given.lower() == approval.content_sha256 and intact) if given else None,
        "state": service.approval_state(approval, system, today, db.session),
    }


@route(
    "/verify/<reference>",
    summary="Check a printed decision against the register (optional ?sha256=)",
    response=ApprovalVerifyOut,
    query=ApprovalVerifyQuery,
    tag=TAG,
)
def verify(reference: str):
    args = query_args(ApprovalVerifyQuery())
    approval = service.get_by_reference(db.session, reference)
    system = service.get_system(db.session, approval.system_id)
    approval = db.session.execute(
        select(Approval).where(Approval.id == approval.id).options(selectinload(Approval.revocation))
    ).scalar_one()
    return jsonify(
        ApprovalVerifyOut().dump(verification(approval, system, args.get("sha256"), current_actor().today()))
    )
