"""JSON API of the filing area (API.md): classifications, risk analyses and actions, DPIA screenings and
DPIAs, SLAs and measurements. Order of answers: unknown id 404, not allowed 403, then the input (400,
422) and the workflow rules (409, 422)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from riskreg import permissions
from riskreg.blueprints.api import (
    load,
    page_args,
    paged,
    paged_list,
    perform,
    query_args,
    route,
    system_for,
)
from riskreg.errors import NotAllowed, RuleViolation, error_body
from riskreg.extensions import db
from riskreg.models import Classification, System, User
from riskreg.schemas.filing import (
    ActionDetailOut,
    ActionPatch,
    ClassificationCompareOut,
    ClassificationIn,
    ClassificationOut,
    ClassificationPatch,
    CompareQuery,
    CompareRowOut,
    CompareSetOut,
    DpiaIn,
    DpiaOut,
    DpiaPatch,
    FinaliseIn,
    MeasurementIn,
    MeasurementOut,
    OpinionIn,
    OverdueActionOut,
    PriorityListOut,
    PriorityQuery,
    RiskAnalysisIn,
    RiskAnalysisOut,
    RiskAnalysisPatch,
    ScreeningIn,
    ScreeningOut,
    SlaIn,
    SlaOut,
)
from riskreg.services import classification as classifications
from riskreg.services import dpia as dpias
from riskreg.services import filing
from riskreg.services import risk as risks
from riskreg.services import sla as slas
from riskreg.web import current_actor

TAG = "filing"


READ, WRITE = filing.require_read, filing.require_write  # the permission checks of system_for


def _perform(action, target_id: int, schema=None, *, dump, status: int = 200):
    """``perform`` (riskreg.blueprints.api); a stale version (or, for an SLA, another SLA recorded since
    the one the client saw) answers 409 with the record as it now is in ``error.current``, dumped as the
    endpoint answers it, so that the client can merge its change and send it again."""
    try:
        return perform(action, target_id, schema, dump=dump, status=status)
    except filing.StaleVersion as exc:
        db.session.rollback()  # the record reads as committed by the other client
        body = error_body(exc.code, exc.message, exc.fields)
        body["error"]["current"] = dump(exc.record) if exc.record is not None else None
        resp = jsonify(body)
        resp.status_code = exc.status
        return resp


def _record_for(get, record_id: int, check=WRITE):
    """A record (404 when unknown) and the permission on its system, checked before anything about the
    request's content."""
    record = get(db.session, record_id)
    system_for(record.system_id, check)
    return record


# ------------------------------------------------------------------ classifications

classification_out = ClassificationOut()


def dump_classification(record: Classification) -> dict:
    data = classification_out.dump(record)
    data["review_due"] = classifications.is_review_due(record, current_actor().today())
    return data


@route(
    "/systems/<int:system_id>/classifications",
    summary="The system's classifications, newest first",
    response=ClassificationOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_classifications(system_id: int):
    system_for(system_id, READ)
    return paged(
        classifications.history_statement(system_id),
        lambda rows: [dump_classification(r) for r in rows],
        select(func.count(Classification.id)).where(Classification.system_id == system_id),
    )


@route(
    "/systems/<int:system_id>/classifications",
    "POST",
    summary="Classify the system (finalised at once unless draft: true)",
    body=ClassificationIn,
    response=ClassificationOut,
    status=201,
    errors=(403, 409),
    tag=TAG,
)
def create_classification(system_id: int):
    system_for(system_id, WRITE)
    return _perform(
        classifications.create, system_id, ClassificationIn(), dump=dump_classification, status=201
    )


@route(
    "/classifications/<int:classification_id>",
    summary="One classification version",
    response=ClassificationOut,
    errors=(403,),
    tag=TAG,
)
def get_classification(classification_id: int):
    record = classifications.get_readable(db.session, current_actor(), classification_id)
    return jsonify(dump_classification(record))


@route(
    "/classifications/<int:classification_id>",
    "PATCH",
    summary="Change a draft classification",
    body=ClassificationPatch,
    response=ClassificationOut,
    errors=(403, 409),
    tag=TAG,
)
def patch_classification(classification_id: int):
    _record_for(classifications.get, classification_id)
    return _perform(
        classifications.update, classification_id, ClassificationPatch(), dump=dump_classification
    )


@route(
    "/classifications/<int:classification_id>/finalise",
    "POST",
    summary="Finalise a draft classification; it becomes the system's current one",
    response=ClassificationOut,
    errors=(400, 403, 409, 422),
    tag=TAG,
)
def finalise_classification(classification_id: int):
    _record_for(classifications.get, classification_id)
    return _perform(classifications.finalise, classification_id, FinaliseIn(), dump=dump_classification)


@route(
    "/systems/<int:system_id>/classifications/compare",
    summary="Two versions of the system's classification side by side (?a=&b=), each difference marked",
    response=ClassificationCompareOut,
    query=CompareQuery,
    errors=(403,),
    tag=TAG,
)
def compare_classifications(system_id: int):
    system_for(system_id, READ)
    args = query_args(CompareQuery())
    left, right = classifications.versions_to_compare(
        db.session, current_actor(), system_id, args["a"], args["b"]
    )
    diff = classifications.compare(left, right)
    return jsonify(
        {
            "a": dump_classification(left),
            "b": dump_classification(right),
            "rows": CompareRowOut(many=True).dump(
                [{**r, "a": r["left"], "b": r["right"]} for r in diff["rows"]]
            ),
            "sets": CompareSetOut(many=True).dump(
                [{**r, "a": r["left"], "b": r["right"]} for r in diff["sets"]]
            ),
        }
    )


# ------------------------------------------------------------------ risk analyses

analysis_out = RiskAnalysisOut()


def dump_analysis(analysis) -> dict:
    data = analysis_out.dump(analysis)
    for risk, out in zip(analysis.risks, data["risks"], strict=True):
        out["band"] = risks.band_code(risk.value)
        out["residual_band"] = risks.band_code(risk.residual_value)
    return data


def dump_fresh(analysis) -> dict:
    """The analysis as committed, its risks and actions loaded in two more queries (not one per risk)."""
    return dump_analysis(risks.get(db.session, analysis.id, eager=True))


def _resolve_responsible(data: dict) -> None:
    """``responsible`` (a user id or an e-mail address) becomes ``responsible_id``."""
    problems: dict[str, list] = {}
    emails = {
        a["responsible"].lower()
        for r in data.get("risks", [])
        for a in r.get("actions", [])
        if isinstance(a.get("responsible"), str)
    }
    found = {}
    if emails:
        found = dict(
            db.session.execute(
                select(func.lower(User.email), User.id).where(func.lower(User.email).in_(sorted(emails)))
            ).all()
        )
    for i, r in enumerate(data.get("risks", [])):
        for j, a in enumerate(r.get("actions", [])):
            who = a.pop("responsible", None)
            if who is None or a.get("responsible_id") is not None:
                continue
            if isinstance(who, int):
                a["responsible_id"] = who
            elif who.lower() in found:
                a["responsible_id"] = found[who.lower()]
            else:
                problems[f"risks.{i}.actions.{j}.responsible"] = [_l("No such user.")]
    if problems:
        raise RuleViolation(_l("The input is invalid."), fields=problems)


def _resolving(action):
    """``action`` (create or update) with each action's ``responsible`` resolved first."""

    def call(session, actor, target_id, **data):
        _resolve_responsible(data)
        return action(session, actor, target_id, **data)

    return call


@route(
    "/systems/<int:system_id>/risk-analyses",
    summary="The system's risk analyses, newest first",
    response=RiskAnalysisOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_risk_analyses(system_id: int):
    from riskreg.models import RiskAnalysis

    system_for(system_id, READ)
    return paged(
        risks.history_statement(system_id),
        lambda rows: [dump_analysis(r) for r in rows],
        select(func.count(RiskAnalysis.id)).where(RiskAnalysis.system_id == system_id),
    )


@route(
    "/systems/<int:system_id>/risk-analyses",
    "POST",
    summary="File a risk analysis (a draft)",
    body=RiskAnalysisIn,
    response=RiskAnalysisOut,
    status=201,
    errors=(403, 409),
    tag=TAG,
)
def create_risk_analysis(system_id: int):
    system_for(system_id, WRITE)
    return _perform(_resolving(risks.create), system_id, RiskAnalysisIn(), dump=dump_fresh, status=201)


@route(
    "/systems/<int:system_id>/risk-analyses/new-round",
    "POST",
    summary="Start a new round: copy the last risk analysis into a new draft",
    response=RiskAnalysisOut,
    status=201,
    errors=(403, 409, 422),
    tag=TAG,
)
def new_round(system_id: int):
    system_for(system_id, WRITE)
    return _perform(risks.new_round, system_id, dump=dump_fresh, status=201)


@route(
    "/risk-analyses/<int:analysis_id>",
    summary="One risk analysis with its risks and actions",
    response=RiskAnalysisOut,
    errors=(403,),
    tag=TAG,
)
def get_risk_analysis(analysis_id: int):
    return jsonify(dump_analysis(risks.get_readable(db.session, current_actor(), analysis_id)))


@route(
    "/risk-analyses/<int:analysis_id>",
    "PATCH",
    summary="Change a draft risk analysis (risks, if given, replace the list; known ids are kept)",
    body=RiskAnalysisPatch,
    response=RiskAnalysisOut,
    errors=(403, 409),
    tag=TAG,
)
def patch_risk_analysis(analysis_id: int):
    _record_for(risks.get, analysis_id)
    return _perform(_resolving(risks.update), analysis_id, RiskAnalysisPatch(), dump=dump_fresh)


@route(
    "/risk-analyses/<int:analysis_id>/finalise",
    "POST",
    summary="Finalise a risk analysis; it can no longer change",
    response=RiskAnalysisOut,
    errors=(400, 403, 409, 422),
    tag=TAG,
)
def finalise_risk_analysis(analysis_id: int):
    _record_for(risks.get, analysis_id)
    return _perform(risks.finalise, analysis_id, FinaliseIn(), dump=dump_fresh)


def _action_for(action_id: int, check):
    action = risks.get_action(db.session, action_id)
    check(current_actor(), risks.action_system(db.session, action))
    return action


@route(
    "/risk-actions/<int:action_id>",
    summary="One action with its status history",
    response=ActionDetailOut,
    errors=(403,),
    tag=TAG,
)
def get_action(action_id: int):
    return jsonify(ActionDetailOut().dump(_action_for(action_id, READ)))


@route(
    "/risk-actions/<int:action_id>",
    "PATCH",
    summary="Follow up an action (status, completion), also after the analysis is finalised",
    body=ActionPatch,
    response=ActionDetailOut,
    errors=(403, 409),
    tag=TAG,
)
def patch_action(action_id: int):
    _action_for(action_id, WRITE)
    return _perform(risks.update_action, action_id, ActionPatch(), dump=ActionDetailOut().dump)


@route(
    "/systems/<int:system_id>/overdue-actions",
    summary="Open actions of the system's current risk analysis past their due date",
    response=OverdueActionOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def overdue_actions(system_id: int):
    system_for(system_id, READ)
    rows = risks.overdue_actions(db.session, current_actor().today(), System.id == system_id, limit=1000)
    return paged_list(rows, OverdueActionOut(many=True).dump)


@route(
    "/me/overdue-actions",
    summary="The caller's overdue actions across their systems (those they own or decide on, and for the "
    "read-all roles those they are responsible for), oldest due first",
    response=OverdueActionOut,
    paged=True,
    tag=TAG,
)
def my_overdue_actions():
    actor = current_actor()
    page, per_page = page_args()
    where, today = risks.followed_up_by(actor.user), actor.today()
    total = risks.count_overdue_actions(db.session, today, where)
    rows = risks.overdue_actions(db.session, today, where, limit=per_page, offset=(page - 1) * per_page)
    return jsonify(
        {"items": OverdueActionOut(many=True).dump(rows), "total": total, "page": page, "per_page": per_page}
    )


# ------------------------------------------------------------------ DPIA screenings and DPIAs

screening_out, dpia_out = ScreeningOut(), DpiaOut()


@route(
    "/systems/<int:system_id>/dpia-screenings",
    summary="The system's DPIA screenings, newest first",
    response=ScreeningOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_screenings(system_id: int):
    system_for(system_id, READ)
    return paged(dpias.screenings_statement(system_id), ScreeningOut(many=True).dump)


@route(
    "/systems/<int:system_id>/dpia-screenings",
    "POST",
    summary="Screen for a DPIA (förhandsbedömning): two or more criteria require one",
    body=ScreeningIn,
    response=ScreeningOut,
    status=201,
    errors=(403, 409),
    tag=TAG,
)
def create_screening(system_id: int):
    system_for(system_id, WRITE)
    return _perform(dpias.screen, system_id, ScreeningIn(), dump=screening_out.dump, status=201)


@route(
    "/dpia-screenings/<int:screening_id>",
    summary="One DPIA screening",
    response=ScreeningOut,
    errors=(403,),
    tag=TAG,
)
def get_screening(screening_id: int):
    return jsonify(screening_out.dump(_record_for(dpias.get_screening, screening_id, READ)))


@route(
    "/systems/<int:system_id>/dpias",
    summary="The system's DPIAs, newest first",
    response=DpiaOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_dpias(system_id: int):
    system_for(system_id, READ)
    return paged(dpias.dpias_statement(system_id), DpiaOut(many=True).dump)


@route(
    "/systems/<int:system_id>/dpias",
    "POST",
    summary="Draft a DPIA (GDPR art. 35.7)",
    body=DpiaIn,
    response=DpiaOut,
    status=201,
    errors=(403, 409),
    tag=TAG,
)
def create_dpia(system_id: int):
    system_for(system_id, WRITE)
    return _perform(dpias.create, system_id, DpiaIn(), dump=dpia_out.dump, status=201)


@route("/dpias/<int:dpia_id>", summary="One DPIA", response=DpiaOut, errors=(403,), tag=TAG)
def get_dpia(dpia_id: int):
    return jsonify(dpia_out.dump(dpias.get_readable(db.session, current_actor(), dpia_id)))


@route(
    "/dpias/<int:dpia_id>",
    "PATCH",
    summary="Change a draft DPIA (clears an opinion given on other text)",
    body=DpiaPatch,
    response=DpiaOut,
    errors=(403, 409),
    tag=TAG,
)
def patch_dpia(dpia_id: int):
    _record_for(dpias.get, dpia_id)
    return _perform(dpias.update, dpia_id, DpiaPatch(), dump=dpia_out.dump)


@route(
    "/dpias/<int:dpia_id>/opinion",
    "POST",
    summary="The DPO's opinion on the completed draft (dpo)",
    body=OpinionIn,
    response=DpiaOut,
    errors=(403, 409),
    tag=TAG,
)
def give_opinion(dpia_id: int):
    record = dpias.get(db.session, dpia_id)
    if not permissions.can_give_opinion(current_actor().user, record):
        raise NotAllowed(_l("Only the data protection officer gives the opinion on a DPIA."))
    return _perform(dpias.give_opinion, dpia_id, OpinionIn(), dump=dpia_out.dump)


@route(
    "/dpias/<int:dpia_id>/finalise",
    "POST",
    summary="Finalise a DPIA that has the DPO's opinion",
    response=DpiaOut,
    errors=(400, 403, 409, 422),
    tag=TAG,
)
def finalise_dpia(dpia_id: int):
    _record_for(dpias.get, dpia_id)
    return _perform(dpias.finalise, dpia_id, FinaliseIn(), dump=dpia_out.dump)


# ------------------------------------------------------------------ SLAs

sla_out, measurement_out = SlaOut(), MeasurementOut()


def _t_level(system: System) -> int | None:
    if system.current_classification_id is None:
        return None
    return db.session.get(Classification, system.current_classification_id).availability


def dump_sla(sla, t_level: int | None) -> dict:
    data = sla_out.dump(sla)
    required = slas.required_availability(t_level)
    data["required_availability"] = float(required) if required is not None else None
    data["weaker_than_required"] = slas.weaker_than_required(sla.availability_target, t_level)
    return data


@route(
    "/systems/<int:system_id>/slas",
    summary="The system's SLAs, newest first (the first is current)",
    response=SlaOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_slas(system_id: int):
    system = system_for(system_id, READ)
    t_level = _t_level(system)
    return paged(slas.slas_statement(system_id), lambda rows: [dump_sla(s, t_level) for s in rows])


@route(
    "/systems/<int:system_id>/slas",
    "POST",
    summary="Record an SLA (it replaces the current one)",
    body=SlaIn,
    response=SlaOut,
    status=201,
    errors=(403, 409),
    tag=TAG,
)
def create_sla(system_id: int):
    system = system_for(system_id, WRITE)
    return _perform(
        slas.create, system_id, SlaIn(), dump=lambda sla: dump_sla(sla, _t_level(system)), status=201
    )


@route("/slas/<int:sla_id>", summary="One SLA", response=SlaOut, errors=(403,), tag=TAG)
def get_sla(sla_id: int):
    sla = slas.get(db.session, sla_id)
    system = system_for(sla.system_id, READ)
    return jsonify(dump_sla(sla, _t_level(system)))


@route(
    "/slas/<int:sla_id>/measurements",
    summary="The SLA's monthly measurements, newest first",
    response=MeasurementOut,
    paged=True,
    errors=(403,),
    tag=TAG,
)
def list_measurements(sla_id: int):
    _record_for(slas.get, sla_id, READ)
    return paged(slas.measurements_statement(sla_id), MeasurementOut(many=True).dump)


@route(
    "/slas/<int:sla_id>/measurements",
    "POST",
    summary="Record a month's measured availability",
    body=MeasurementIn,
    response=MeasurementOut,
    status=201,
    errors=(403, 409),
    tag=TAG,
)
def add_measurement(sla_id: int):
    _record_for(slas.get, sla_id)
    return _perform(slas.add_measurement, sla_id, MeasurementIn(), dump=measurement_out.dump, status=201)


def _priority_payload(data: dict[str, Any]) -> dict:
    items = []
    for r in data["rows"]:
        sla = r["sla"]
        items.append(
            {
                "system_id": r["system_id"],
                "name": r["name"],
                "criticality": r["criticality"],
                "sla_id": sla.id if sla else None,
                "supplier": sla.supplier if sla else r["supplier"],
                "availability_target": sla.availability_target if sla else None,
                "t_level": r["t_level"],
                "required_availability": r["required"],
                "weaker_than_required": r["weaker"],
                "months_measured": r["measured"],
                "months_missed": r["missed"],
                "months": [
                    {
                        "period": c["period"].strftime("%Y-%m"),
                        "availability": c["availability"],
                        "missed": c["missed"],
                    }
                    for c in r["cells"]
                ],
            }
        )
    return PriorityListOut().dump(
        {
            "target": data["target"],
            "months": [m.strftime("%Y-%m") for m in data["months"]],
            "items": items,
            **{k: data[k] for k in ("total", "page", "per_page", "systems", "without_sla", "missed_any")},
        }
    )


@route(
    "/slas/priority-list",
    summary="The priority-list systems: SLA, last 12 months against the priority target (read-all roles)",
    response=PriorityListOut,
    query=PriorityQuery,
    errors=(403, 422),
    tag=TAG,
)
def priority_list():
    actor = current_actor()
    if not permissions.can_read_all(actor.user):
        raise NotAllowed(
            _l("The priority list is for the CISO, the data protection officer, administrators and auditors.")
        )
    args = load(PriorityQuery(), {k: v for k, v in request.args.items() if k == "without_sla"})
    page, per_page = page_args()
    return jsonify(
        _priority_payload(
            slas.priority_list(
                db.session,
                actor.today(),
                page=page,
                per_page=per_page,
                without_sla=args.get("without_sla", False),
            )
        )
    )
