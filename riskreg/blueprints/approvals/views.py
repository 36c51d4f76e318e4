"""Pages of driftgodkännande: the overview, the risk owner's queue, the CISO's view of all queues, a
system's approval page (checklist of prerequisites, request), the decision page, one decision (conditions
follow-up, revocation, what changed), the conditions list, decommissioning plans, verification of a printed
copy and batch printing with progress. Views parse input, call one service, commit and render."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from urllib.parse import urlencode

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from riskreg import labels, lifecycle, permissions
from riskreg.blueprints.approvals import bp
from riskreg.blueprints.approvals.api import pdf_response, verification
from riskreg.blueprints.approvals.forms import (
    CancelPlanForm,
    DecisionForm,
    EmptyForm,
    FulfilForm,
    PlanForm,
    PrintForm,
    ReopenForm,
    RequestForm,
    RevokeForm,
    VerifyForm,
)
from riskreg.errors import DomainError, NotAllowed, RuleViolation
from riskreg.extensions import db
from riskreg.models import (
    Approval,
    ApprovalCondition,
    ApprovalRequest,
    DecommissioningPlan,
    OrgUnit,
    PdfJob,
    System,
    User,
)
from riskreg.models.codes import ConditionStatus, Decision, Lifecycle
from riskreg.services import approval_prints as prints
from riskreg.services import approval_queue as queue
from riskreg.services import approval_snapshot as content
from riskreg.services import approvals as service
from riskreg.services import decommissioning
from riskreg.web import add_nav, arg_int, current_actor, small_int

add_nav("approvals.index", _l("Approvals"), "can_read_reports")
add_nav("approvals.queue_page", _l("Decision queue"), "is_risk_owner")

PER_PAGE = 50
DECISION_LABELS = {
    "approved": _l("Approved"),
    "approved_with_conditions": _l("Approved with conditions"),
    "rejected": _l("Rejected"),
    "needs_review": _l("Needs review"),
}
STATE_LABELS = {
    "in_force": _l("In force"),
    "expiring": _l("Expiring within 90 days"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
    "superseded": _l("Replaced by a later decision"),
    "rejected": _l("Rejected"),
    "needs_review": _l("Needs review"),
}
DISPOSITION_LABELS = {
    "archived": _l("Archived"),
    "transferred": _l("Transferred to another system"),
    "deleted": _l("Deleted per a retention decision"),
}
BAND_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "extreme": _l("Extreme")}
CHECKLIST = [
    ("classification", _l("A finalised information classification")),
    ("risk_analysis", _l("A finalised risk analysis resting on that classification")),
    ("dpia_screening", _l("A DPIA screening (förhandsbedömning)")),
    (
        "dpia",
        _l("A finalised DPIA with the data protection officer's opinion (when the screening requires one)"),
    ),
    ("risk_owner", _l("A named risk owner to decide")),
]
# Where each prerequisite is filed: a GET page of the system whose path holds one of these words.
FIX_WORDS = {
    "classification": ("classification",),
    "risk_analysis": ("risk-analys", "risk_analys", "risk"),
    "risk_analysis_classification": ("risk-analys", "risk_analys", "risk"),
    "dpia_screening": ("screening", "dpia"),
    "dpia": ("dpia",),
    "risk_owner": ("edit",),
}


@bp.record_once
def template_globals(state) -> None:
    env = state.app.jinja_env.globals
    env["approval_panel"] = approval_panel
    env["decision_label"] = lambda code: DECISION_LABELS.get(getattr(code, "value", code), code)
    env["approval_state_label"] = lambda code: STATE_LABELS.get(code, code)
    env["band_label"] = lambda code: BAND_LABELS.get(code, code)
    env["band"] = content.band


def query_args(**changes) -> str:
    """The current query string with some arguments changed (None removes one)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if v != "" and k not in changes]
    args += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(args)


@cache
def _fix_endpoints(app_id: int) -> dict[str, str]:
    found: dict[str, str] = {}
    rules = [
        r
        for r in current_app.url_map.iter_rules()
        if "GET" in (r.methods or ())
        and set(r.arguments) == {"system_id"}
        and not r.rule.startswith("/api/")
        and not r.endpoint.startswith("approvals.")
    ]
    for code, words in FIX_WORDS.items():
        for word in words:
            rule = next((r for r in sorted(rules, key=lambda r: len(r.rule)) if word in r.rule), None)
            if rule is not None:
                found[code] = rule.endpoint
                break
    return found


def fix_url(code: str, system_id: int) -> str:
    """A link to the page where a missing prerequisite is filed (the system's page when none is known)."""
    endpoint = _fix_endpoints(id(current_app._get_current_object())).get(code)
    return url_for(endpoint or "systems.detail", system_id=system_id)


def checklist(system: System, missing: list[service.Missing]) -> list[dict]:
    """Each prerequisite with its state: done, missing (with a link to fix it) or pending (the DPIA, until
    a screening says whether one is required)."""
    codes = {m.code: m.message for m in missing}
    items = []
    for code, label in CHECKLIST:
        gap = code
        if code == "risk_analysis" and "risk_analysis_classification" in codes:
            gap = "risk_analysis_classification"
        if code == "dpia" and "dpia_screening" in codes:
            state = "pending"
        else:
            state = "missing" if gap in codes else "done"
        items.append(
            {
                "code": code,
                "label": label,
                "state": state,
                "done": state == "done",
                "message": codes.get(gap) if gap != code else None,
                "url": fix_url(gap, system.id) if state == "missing" else None,
            }
        )
    return items


def readable_system(system_id: int) -> System:
    system = service.get_system(db.session, system_id)
    if not permissions.can_read_records(current_user, system):
        abort(403)
    return system


def active_users() -> list[tuple]:
    rows = db.session.execute(
        select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)
    ).all()
    return [SelectChoice("", "–")] + [SelectChoice(str(uid), name) for uid, name in rows]


def approval_panel(system: System) -> dict | None:
    """What the system page shows about driftgodkännande (None when the user may not read it)."""
    if not current_user.is_authenticated or not permissions.can_read_records(current_user, system):
        return None
    today = current_actor().today()
    approval = (
        service.get_approval(db.session, system.current_approval_id) if system.current_approval_id else None
    )
    overdue = service.count_overdue_conditions(db.session, today, System.id == system.id)
    missing = (
        service.prerequisites(db.session, system) if approval is None and not system.open_request_id else []
    )
    return {
        "approval": approval,
        "state": service.approval_state(approval, system, today, db.session) if approval else None,
        "overdue": overdue,
        "missing": missing,
        "open_request": bool(system.open_request_id),
        "url": url_for("approvals.system_page", system_id=system.id),
    }


# ------------------------------------------------------------------ overview, queues, conditions


@bp.route("/approvals")
@login_required
def index():
    if not permissions.can_read_reports(current_user):
        abort(403)
    actor = current_actor()
    today = actor.today()
    scope = permissions.report_scope(current_user)
    own_queue = own_total = summary = None
    if current_user.has_role("risk_owner"):
        own_queue, own_total = queue.page(db.session, System.risk_owner_id == current_user.id, today, 1, 10)
    if permissions.can_read_all(current_user):
        summary = queue.summary(db.session, today)
    overdue = service.overdue_conditions(db.session, today, scope, limit=20)
    overdue_total = service.count_overdue_conditions(db.session, today, scope)
    expiring = _expiring(today, scope)
    return render_template(
        "approvals/index.html",
        own_queue=own_queue,
        own_total=own_total,
        summary=summary,
        overdue=overdue,
        overdue_total=overdue_total,
        expiring=expiring,
        today=today,
    )


def _expiring(today, scope, limit: int = 20) -> list:
    """Approvals in force that expire within EXPIRING_DAYS, soonest first. The explicit date range (implied
    by the stage rule) lets the database start from the index on ``valid_until``."""
    days = int(current_app.config["EXPIRING_DAYS"])
    stmt = (
        lifecycle.with_stage_joins(
            select(
                System.id,
                System.name,
                lifecycle.CurrentApproval.id,
                lifecycle.CurrentApproval.reference,
                lifecycle.CurrentApproval.valid_until,
            ).select_from(System)
        )
        .where(
            lifecycle.CurrentApproval.valid_until.between(today, today + timedelta(days=days)),
            lifecycle.expiring_expr(today, days),
            scope,
            System.lifecycle != Lifecycle.DECOMMISSIONED,
        )
        .order_by(lifecycle.CurrentApproval.valid_until)
        .limit(limit)
    )
    return db.session.execute(stmt).all()


@bp.route("/approvals/queue")
@login_required
def queue_page():
    """The risk owner's queue: pending requests oldest first (all queues for the read-all roles)."""
    if not queue.may_see_queue(current_user):
        abort(403)
    today = current_actor().today()
    risk_owner_id = arg_int("risk_owner_id")
    if permissions.can_read_all(current_user):
        clause = queue.scope(current_user, risk_owner_id)
    else:
        clause = queue.scope(current_user)
    page_no = max(arg_int("page", 1), 1)
    items, total = queue.page(db.session, clause, today, page_no, PER_PAGE)
    owner = db.session.get(User, risk_owner_id) if risk_owner_id else None
    # why the user may not decide on a row (a queue item carries the owners' ids as a system does)
    refusals = {item.request_id: permissions.decide_refusal(current_user, item) for item in items}
    return render_template(
        "approvals/queue.html",
        items=items,
        refusals=refusals,
        own_system_message=service.refusal_message("own_system"),
        total=total,
        page=page_no,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        owner=owner,
        all_queues=permissions.can_read_all(current_user) and owner is None,
        limit=current_app.config["REQUEST_WAITING_REMINDER_DAYS"],
        args=query_args,
    )


@bp.route("/approvals/queues")
@login_required
def queues():
    """The CISO's view: every risk owner's queue and how long it waits."""
    if not permissions.can_read_all(current_user):
        abort(403)
    today = current_actor().today()
    rows = queue.summary(db.session, today)
    overdue_total = service.count_overdue_conditions(db.session, today)
    return render_template(
        "approvals/queues.html",
        rows=rows,
        overdue_total=overdue_total,
        limit=current_app.config["REQUEST_WAITING_REMINDER_DAYS"],
    )


@bp.route("/approvals/conditions")
@login_required
def conditions():
    """Conditions to follow up: overdue first, in the user's scope."""
    if not permissions.can_read_reports(current_user):
        abort(403)
    today = current_actor().today()
    show = request.args.get("show", "overdue")
    scope = permissions.report_scope(current_user)
    stmt = (
        select(ApprovalCondition, Approval.reference, Approval.id, System.id, System.name, User.name)
        .join(Approval, Approval.id == ApprovalCondition.approval_id)
        .join(System, System.current_approval_id == Approval.id)
        .outerjoin(User, User.id == ApprovalCondition.responsible_id)
        .where(scope, service.conditions_in_force())  # as the start pages count them
    )
    if show == "overdue":
        stmt = stmt.where(ApprovalCondition.status == ConditionStatus.OPEN, ApprovalCondition.due_on < today)
    elif show == "open":
        stmt = stmt.where(ApprovalCondition.status == ConditionStatus.OPEN)
    page_no = max(arg_int("page", 1), 1)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = db.session.execute(
        stmt.order_by(ApprovalCondition.due_on, ApprovalCondition.id)
        .limit(PER_PAGE)
        .offset((page_no - 1) * PER_PAGE)
    ).all()
    return render_template(
        "approvals/conditions.html",
        rows=rows,
        total=total,
        show=show,
        today=today,
        page=page_no,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        args=query_args,
    )


# ------------------------------------------------------------------ one system


@bp.route("/systems/<int:system_id>/approval")
@login_required
def system_page(system_id: int, request_form: RequestForm | None = None, status: int = 200):
    system = readable_system(system_id)
    actor = current_actor()
    today = actor.today()
    stage = lifecycle.stage_of(db.session, system.id, today)
    missing = service.prerequisites(db.session, system)
    open_request = db.session.get(ApprovalRequest, system.open_request_id) if system.open_request_id else None
    current = (
        service.get_approval(db.session, system.current_approval_id) if system.current_approval_id else None
    )
    changes = service.changes_since(db.session, current, system, today) if current else []
    history = db.session.execute(service.history(db.session, system.id).limit(50)).scalars().all()
    plan = decommissioning.open_plan(db.session, system.id)
    can_edit = permissions.can_edit_system(current_user, system)
    # under an open decommissioning plan no decision is requested (the plan is cancelled first)
    held_by_plan = plan is not None and system.lifecycle == Lifecycle.BEING_DECOMMISSIONED
    may_request = (
        can_edit
        and open_request is None
        and system.lifecycle != Lifecycle.DECOMMISSIONED
        and not held_by_plan
    )
    refusal = permissions.decide_refusal(current_user, system)
    overdue = service.overdue_conditions(db.session, today, System.id == system.id)
    return render_template(
        "approvals/system.html",
        system=system,
        stage=stage.value,
        checklist=checklist(system, missing),
        ready=not missing,
        open_request=open_request,
        current=current,
        changes=changes,
        history=history,
        plan=plan,
        request_form=request_form or (RequestForm() if may_request else None),
        may_request=may_request,
        can_edit=can_edit,
        can_decide=refusal is None,
        refusal=service.refusal_message(refusal) if refusal and current_user.has_role("risk_owner") else None,
        today=today,
        withdraw_form=EmptyForm(),
        state=service.approval_state(current, system, today, db.session) if current else None,
        can_plan=decommissioning.can_plan(current_user, system),
        held_by_plan=held_by_plan,
        held_message=service.BEING_DECOMMISSIONED_MESSAGE,
        overdue=overdue,
    ), status


@bp.route("/systems/<int:system_id>/approval/request", methods=["POST"])
@login_required
def request_decision(system_id: int):
    system = readable_system(system_id)
    if not permissions.can_edit_system(current_user, system):
        abort(403)
    form = RequestForm()
    if not form.validate_on_submit():
        return system_page(system_id, request_form=form, status=422)
    try:
        service.request(db.session, current_actor(), system.id, note=form.note.data or "")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        db.session.rollback()
        flash(str(exc.message), "error")
        return system_page(system_id, request_form=form, status=422)
    db.session.commit()
    flash(_("The decision is requested. The system is now on the risk owner's queue."), "success")
    return redirect(url_for("approvals.system_page", system_id=system_id))


@bp.route("/approval-requests/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw(request_id: int):
    req = db.session.get(ApprovalRequest, request_id) or abort(404)
    if not permissions.can_edit_system(current_user, service.get_system(db.session, req.system_id)):
        abort(403)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    req = service.withdraw(db.session, current_actor(), request_id)
    db.session.commit()
    flash(_("The request is withdrawn."), "success")
    return redirect(url_for("approvals.system_page", system_id=req.system_id))


# ------------------------------------------------------------------ the decision


def _decision_context(system: System, today):
    risks = service.high_residual_risks(db.session, system)
    records = content.Records(db.session, system)
    return {
        "high_risks": risks,
        "records": records,
        "threshold": content.acceptance_threshold(),
        "default_valid_until": service.default_valid_until(today),
        "validity_years": int(current_app.config["APPROVAL_VALIDITY_YEARS"]),
        "open_request": db.session.get(ApprovalRequest, system.open_request_id)
        if system.open_request_id
        else None,
        "bands": _band_counts(records.risks),
    }


def _band_counts(risks) -> list[tuple[str, int]]:
    counts = {code: 0 for _u, code, _l, _c in current_app.config["RISK_BANDS"]}
    for r in risks:
        counts[content.band(r.effective_residual_value)] += 1
    return list(counts.items())


def _risk_answers(risks) -> tuple[dict[int, str], dict[int, dict]]:
    """The ticked risks with the motivation written beside each (the service requires one per risk on
    this page), and what was answered, to show again."""
    accepted, answers = {}, {}
    for r in risks:
        ticked = request.form.get(f"accept-{r.id}") == "on"
        motivation = (request.form.get(f"accept-{r.id}-motivation") or "").strip()[:10000]
        answers[r.id] = {"ticked": ticked, "motivation": motivation, "errors": []}
        if ticked:
            accepted[r.id] = motivation
    return accepted, answers


def _place_errors(form: DecisionForm, exc: DomainError, answers: dict[int, dict]) -> list[str]:
    """Put the service's problems on the form's fields (a risk's beside its motivation); return those
    that belong to no field."""
    general = []
    for key, messages in exc.fields.items():
        parts = str(key).split(".")
        target = None
        risk_id = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else None
        if parts[0] == "accepted_risks" and risk_id in answers:
            answers[risk_id]["errors"] += [str(m) for m in messages]
            continue
        if parts[0] in ("decision", "motivation", "valid_until"):
            target = getattr(form, parts[0])
        elif (
            parts[0] == "conditions"
            and len(parts) == 3
            and parts[1].isdigit()
            and int(parts[1]) < len(form.conditions)
        ):
            target = getattr(form.conditions[int(parts[1])].form, parts[2], None)
        if target is not None:
            target.errors = list(target.errors) + [str(m) for m in messages]
        elif key not in ("missing_codes", "reason"):
            general += [str(m) for m in messages]
    return general


@bp.route("/systems/<int:system_id>/approval/decide", methods=["GET", "POST"])
@login_required
def decide(system_id: int):
    system = service.get_system(db.session, system_id)
    refusal = permissions.decide_refusal(current_user, system)
    if refusal:
        return render_template(
            "approvals/refused.html", system=system, reason=service.refusal_message(refusal)
        ), 403
    actor = current_actor()
    today = actor.today()
    if not system.open_request_id:
        flash(_("The system is not awaiting a decision: a decision must be requested first."), "error")
        return redirect(url_for("approvals.system_page", system_id=system.id))
    form = DecisionForm()
    users = active_users()
    for sub in form.conditions:
        sub.form.responsible_id.choices = users
    ctx = _decision_context(system, today)
    if request.method == "GET":
        form.valid_until.data = ctx["default_valid_until"]
        for sub in form.conditions:  # each condition names who follows it up: the system owner unless changed
            sub.form.responsible_id.data = system.system_owner_id
    accepted, answers = _risk_answers(ctx["high_risks"]) if request.method == "POST" else ({}, {})
    general: list[str] = []
    if form.validate_on_submit():
        conditions = [
            {
                "text": c.form.text.data or "",
                "due_on": c.form.due_on.data,
                "responsible_id": c.form.responsible_id.data,
            }
            for c in form.conditions
            if (c.form.text.data or "").strip() or c.form.due_on.data
        ]
        decision = form.decision.data
        try:
            approval = service.decide(
                db.session,
                actor,
                system.id,
                decision=decision,
                motivation=form.motivation.data,
                valid_until=form.valid_until.data if decision != "rejected" else None,
                conditions=conditions if decision == "approved_with_conditions" else [],
                accepted_risks=accepted if decision != "rejected" else {},
                explicit=True,
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            general = _place_errors(form, exc, answers)
        else:
            db.session.commit()
            flash(_("The decision %(ref)s is recorded.", ref=approval.reference), "success")
            if approval.decision == Decision.REJECTED:
                return redirect(url_for("approvals.plan_page", system_id=system.id))
            return redirect(url_for("approvals.approval_page", approval_id=approval.id))
    status = 422 if request.method == "POST" else 200
    risk_errors = [(rid, a["errors"]) for rid, a in answers.items() if a["errors"]]
    return render_template(
        "approvals/decide.html",
        system=system,
        form=form,
        answers=answers,
        general=general,
        risk_errors=risk_errors,
        **ctx,
    ), status


# ------------------------------------------------------------------ one decision


@bp.route("/approvals/<int:approval_id>")
@login_required
def approval_page(approval_id: int, revoke_form: RevokeForm | None = None, status: int = 200):
    actor = current_actor()
    try:
        approval, system = service.readable_approval(db.session, actor, approval_id)
    except NotAllowed:
        abort(403)
    today = actor.today()
    state = service.approval_state(approval, system, today, db.session)
    people = {
        u.id: u
        for u in db.session.execute(
            select(User).where(
                User.id.in_({c.responsible_id for c in approval.conditions} | {approval.decided_by_id})
            )
        ).scalars()
    }
    may_revoke = (
        permissions.can_revoke(current_user, system)
        and state in ("in_force", "expiring", "expired", "needs_review")
        and approval.decision != Decision.REJECTED
    )
    follow = {c.id: service.can_follow_up(current_user, system, c) for c in approval.conditions}
    return render_template(
        "approvals/approval.html",
        approval=approval,
        system=system,
        snap=approval.snapshot,
        state=state,
        changes=service.changes_since(db.session, approval, system, today),
        today=today,
        people=people,
        revoke_form=revoke_form or (RevokeForm() if may_revoke else None),
        follow=follow,
        may_reopen=permissions.can_revoke(current_user, system),
        fulfil_form=FulfilForm(formdata=None),
        reopen_form=ReopenForm(formdata=None),
    ), status


@bp.route("/approvals/<int:approval_id>/pdf")
@login_required
def approval_pdf(approval_id: int):
    try:
        approval, _system = service.readable_approval(db.session, current_actor(), approval_id)
    except NotAllowed:
        abort(403)
    return pdf_response(prints.approval_pdf(approval), prints.filename(approval.reference))


@bp.route("/approvals/<int:approval_id>/revoke", methods=["POST"])
@login_required
def revoke(approval_id: int):
    approval = service.get_approval(db.session, approval_id)
    if not permissions.can_revoke(current_user, service.get_system(db.session, approval.system_id)):
        abort(403)
    form = RevokeForm()
    if not form.validate_on_submit():
        return approval_page(approval_id, revoke_form=form, status=422)
    try:
        service.revoke(db.session, current_actor(), approval_id, motivation=form.motivation.data)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        db.session.rollback()
        form.motivation.errors = list(form.motivation.errors) + [str(exc.message)]
        return approval_page(approval_id, revoke_form=form, status=422)
    db.session.commit()
    flash(_("The decision is revoked. The system needs review."), "success")
    return redirect(url_for("approvals.approval_page", approval_id=approval_id))


@bp.route("/approvals/conditions/<int:condition_id>/fulfil", methods=["POST"])
@login_required
def fulfil(condition_id: int):
    cond = db.session.get(ApprovalCondition, condition_id) or abort(404)
    system = service.get_system(db.session, db.session.get(Approval, cond.approval_id).system_id)
    if not service.can_follow_up(current_user, system, cond):
        abort(403)
    form = FulfilForm()
    if form.validate_on_submit():
        try:
            service.fulfil_condition(
                db.session,
                current_actor(),
                condition_id,
                fulfilled_on=form.fulfilled_on.data,
                note=form.note.data or "",
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            flash(" ".join([str(exc.message)] + [str(m) for ms in exc.fields.values() for m in ms]), "error")
        else:
            db.session.commit()
            flash(_("The condition is marked fulfilled."), "success")
    else:
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
    return redirect(
        url_for("approvals.approval_page", approval_id=cond.approval_id) + f"#condition-{condition_id}"
    )


@bp.route("/approvals/conditions/<int:condition_id>/reopen", methods=["POST"])
@login_required
def reopen(condition_id: int):
    cond = db.session.get(ApprovalCondition, condition_id) or abort(404)
    system = service.get_system(db.session, db.session.get(Approval, cond.approval_id).system_id)
    if not permissions.can_revoke(current_user, system):
        abort(403)
    form = ReopenForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.reopen_condition(db.session, current_actor(), condition_id, note=form.note.data or "")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The condition is open again."), "success")
    return redirect(
        url_for("approvals.approval_page", approval_id=cond.approval_id) + f"#condition-{condition_id}"
    )


# ------------------------------------------------------------------ decommissioning


def _target_system(value: str | None) -> tuple[int | None, str | None]:
    value = (value or "").strip().lstrip("#")
    if not value:
        return None, None
    if value.isdigit():
        return (int(value), None) if db.session.get(System, int(value)) else (None, _("No such system."))
    ids = db.session.scalars(select(System.id).where(func.lower(System.name) == value.lower()).limit(2)).all()
    if len(ids) != 1:
        return None, _("No single system has that name; give its number.")
    return ids[0], None


@bp.route("/systems/<int:system_id>/decommissioning", methods=["GET", "POST"])
@login_required
def plan_page(system_id: int):
    system = readable_system(system_id)
    actor = current_actor()
    current = db.session.get(Approval, system.current_approval_id) if system.current_approval_id else None
    open_plan = decommissioning.open_plan(db.session, system.id)
    may_plan = (
        decommissioning.can_plan(current_user, system)
        and current is not None
        and current.decision == Decision.REJECTED
        and open_plan is None
        and system.lifecycle != Lifecycle.DECOMMISSIONED
    )
    form = PlanForm()
    form.responsible_id.choices = active_users()
    status = 200
    if request.method == "POST":
        if not decommissioning.can_plan(current_user, system):
            abort(403)
        target_id, target_error = _target_system(form.target_system.data)
        if form.validate_on_submit() and not target_error:
            try:
                decommissioning.plan(
                    db.session,
                    actor,
                    system.id,
                    planned_on=form.planned_on.data,
                    responsible_id=form.responsible_id.data,
                    disposition=form.disposition.data,
                    target_system_id=target_id,
                    retention_decision=form.retention_decision.data or "",
                    note=form.note.data or "",
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                db.session.rollback()
                for key, messages in exc.fields.items():
                    field = getattr(form, "target_system" if key == "target_system_id" else key, None)
                    if field is not None:
                        field.errors = list(field.errors) + [str(m) for m in messages]
                if not exc.fields:
                    flash(str(exc.message), "error")
            else:
                db.session.commit()
                flash(
                    _("The decommissioning plan is recorded. The system is being decommissioned."), "success"
                )
                return redirect(url_for("approvals.plan_page", system_id=system.id))
        if target_error:
            form.target_system.errors = list(form.target_system.errors) + [target_error]
        status = 422
    elif form.responsible_id.data is None and system.system_owner_id:
        form.responsible_id.data = system.system_owner_id
    return _render_plan_page(system, current, form if may_plan else None, status)


def _render_plan_page(
    system: System,
    current: Approval | None,
    form: PlanForm | None,
    status: int = 200,
    cancel_form: CancelPlanForm | None = None,
):
    plans = db.session.execute(decommissioning.plans_of(system.id)).scalars().all()
    people = {p.responsible_id for p in plans} | {p.cancelled_by_id for p in plans}
    names = {
        u.id: u.name
        for u in db.session.execute(select(User).where(User.id.in_({i for i in people if i}))).scalars()
    }
    targets = {
        s.id: s.name
        for s in db.session.execute(
            select(System).where(System.id.in_({p.target_system_id for p in plans if p.target_system_id}))
        ).scalars()
    }
    return render_template(
        "approvals/plan.html",
        system=system,
        current=current,
        plans=plans,
        names=names,
        targets=targets,
        form=form,
        complete_form=EmptyForm(),
        cancel_form=cancel_form or CancelPlanForm(formdata=None),
        can_plan=decommissioning.can_plan(current_user, system),
        can_cancel=decommissioning.can_cancel(current_user, system),
        disposition_label=lambda c: DISPOSITION_LABELS.get(getattr(c, "value", c), c),
    ), status


@bp.route("/decommissioning/<int:plan_id>/complete", methods=["POST"])
@login_required
def complete_plan(plan_id: int):
    row = db.session.get(DecommissioningPlan, plan_id) or abort(404)
    if not decommissioning.can_plan(current_user, service.get_system(db.session, row.system_id)):
        abort(403)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    decommissioning.complete(db.session, current_actor(), plan_id)
    db.session.commit()
    flash(_("The system is decommissioned. Its history stays readable."), "success")
    return redirect(url_for("approvals.plan_page", system_id=row.system_id))


@bp.route("/decommissioning/<int:plan_id>/cancel", methods=["POST"])
@login_required
def cancel_plan(plan_id: int):
    """The risk owner (or the CISO) calls the avveckling off with a motivation."""
    row = db.session.get(DecommissioningPlan, plan_id) or abort(404)
    system = service.get_system(db.session, row.system_id)
    if not decommissioning.can_cancel(current_user, system):
        abort(403)
    form = CancelPlanForm()
    if form.validate_on_submit():
        try:
            decommissioning.cancel(db.session, current_actor(), plan_id, motivation=form.motivation.data)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            db.session.rollback()
            messages = [str(m) for ms in exc.fields.values() for m in ms] or [str(exc.message)]
            form.motivation.errors = list(form.motivation.errors) + messages
        else:
            db.session.commit()
            flash(
                _(
                    "The decommissioning plan is cancelled. The system's lifecycle is now: %(lifecycle)s.",
                    lifecycle=labels.LIFECYCLE_LABELS.get(system.lifecycle.value, system.lifecycle.value),
                ),
                "success",
            )
            return redirect(url_for("approvals.plan_page", system_id=system.id))
    current = db.session.get(Approval, system.current_approval_id) if system.current_approval_id else None
    return _render_plan_page(system, current, None, 422, cancel_form=form)


# ------------------------------------------------------------------ verification


@bp.route("/verify/<reference>")
@login_required
def verify(reference: str):
    """Anyone signed in checks that a printed copy (its checksum) matches the register."""
    approval = db.session.execute(
        select(Approval).where(Approval.reference == reference.strip().upper())
    ).scalar_one_or_none()
    if approval is None:
        return render_template(
            "approvals/verify.html", result=None, reference=reference, form=VerifyForm()
        ), 404
    system = service.get_system(db.session, approval.system_id)
    form = VerifyForm(request.args)
    given = (form.sha256.data or "").strip().lower() or None
    result = verification(approval, system, given, current_actor().today())
    return render_template(
        "approvals/verify.html",
        result=result,
        reference=approval.reference,
        form=form,
        given=given,
        can_read=permissions.can_read_records(current_user, system),
    )


# ------------------------------------------------------------------ batch print


@bp.route("/approvals/print", methods=["GET", "POST"])
@login_required
def print_page():
    """Print an org unit's (or all) current decisions, or a selection ticked in the list of current
    decisions (filtered by org unit and name, a page at a time), as one PDF."""
    if not prints.may_print(current_user):
        abort(403)
    actor = current_actor()
    form = PrintForm()
    units = db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)).all()
    form.org_unit_id.choices = [SelectChoice("", _("All org units in my scope"))] + [
        SelectChoice(str(i), n) for i, n in units
    ]
    status = 200
    chosen = [i for i in map(small_int, request.form.getlist("approval_id")) if i]
    if form.validate_on_submit():
        try:
            if request.form.get("print") == "chosen" and not chosen:
                raise RuleViolation(_("Tick the decisions to print."), code="empty_selection")
            job = prints.start(
                db.session,
                actor,
                org_unit_id=None if chosen else form.org_unit_id.data,
                approval_ids=chosen or None,
            )
        except DomainError as exc:
            if exc.status in (403,):
                raise
            db.session.rollback()
            flash(str(exc.message), "error")
            status = 422
        else:
            db.session.commit()
            prints.launch(current_app._get_current_object(), db.session, job)
            db.session.commit()
            return redirect(url_for("approvals.print_job", job_id=job.id))
    # the list to choose from: filtered by org unit and name (GET arguments)
    unit_filter = arg_int("unit")
    q = (request.args.get("q") or "").strip()[:200]
    page_no = max(arg_int("page", 1), 1)
    rows, total = prints.printable_decisions(
        db.session, actor, org_unit_id=unit_filter, q=q, page_no=page_no, per_page=PER_PAGE
    )
    jobs = (
        db.session.execute(
            select(PdfJob).where(PdfJob.created_by_id == current_user.id).order_by(PdfJob.id.desc()).limit(10)
        )
        .scalars()
        .all()
    )
    if any([prints.fail_if_stale(db.session, actor, job) for job in jobs if job.status == "running"]):
        db.session.commit()
    return render_template(
        "approvals/print.html",
        form=form,
        jobs=jobs,
        rows=rows,
        total=total,
        page=page_no,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        args=query_args,
        units=units,
        unit_filter=unit_filter,
        q=q,
        chosen=set(chosen),
    ), status


def _job(job_id: int) -> PdfJob:
    """The user's print job; one whose worker died is marked failed as it is read (committed here)."""
    try:
        job = prints.get_job(db.session, current_actor(), job_id)
    except NotAllowed:
        abort(403)
    db.session.commit()
    return job


@bp.route("/approvals/print/<int:job_id>/restart", methods=["POST"])
@login_required
def print_restart(job_id: int):
    """Start a failed print again (a new job for the same selection)."""
    form = EmptyForm()
    if not form.validate_on_submit():  # before _job, which may write (a stale job marked failed)
        abort(400)
    _job(job_id)
    try:
        job = prints.restart(db.session, current_actor(), job_id)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("approvals.print_job", job_id=job_id))
    db.session.commit()
    prints.launch(current_app._get_current_object(), db.session, job)
    db.session.commit()
    return redirect(url_for("approvals.print_job", job_id=job.id))


@bp.route("/approvals/print/<int:job_id>")
@login_required
def print_job(job_id: int):
    return render_template("approvals/print_job.html", job=_job(job_id), restart_form=EmptyForm())


@bp.route("/approvals/print/<int:job_id>/status")
@login_required
def print_status(job_id: int):
    job = _job(job_id)
    return jsonify(
        {
            "id": job.id,
            "status": job.status,
            "done": job.done,
            "total": job.total,
            "error": job.error,
            "download": url_for("approvals.print_pdf", job_id=job.id) if job.status == "done" else None,
        }
    )


@bp.route("/approvals/print/<int:job_id>/pdf")
@login_required
def print_pdf(job_id: int):
    job = _job(job_id)
    if job.status != "done" or job.result is None:
        abort(409)
    return pdf_response(job.result, f"beslut-{job.id}.pdf")
