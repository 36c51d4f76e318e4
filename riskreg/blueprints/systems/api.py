"""JSON API: me, org units and the register of systems (API.md)."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from riskreg import lifecycle
from riskreg.blueprints.api import api_user, body, created, page_args, paged, query_args, route
from riskreg.extensions import db
from riskreg.models import OrgUnit
from riskreg.schemas.systems import (
    MajorChangeIn,
    MeOut,
    OrgUnitIn,
    OrgUnitOut,
    SystemCreate,
    SystemOut,
    SystemPatch,
    SystemQuery,
)
from riskreg.services import org_units as org_unit_service
from riskreg.services import systems as service
from riskreg.web import current_actor

system_out = SystemOut()


def dump_system(system, stage) -> dict:
    data = system_out.dump(system)
    data["stage"] = stage
    return data


def system_filter_from_args() -> service.SystemFilter:
    return service.SystemFilter(**query_args(SystemQuery()))


@route("/me", summary="The user behind the token", response=MeOut, tag="accounts")
def me():
    return jsonify(MeOut().dump(api_user()))


@route("/org-units", summary="Org units (förvaltningar)", response=OrgUnitOut, paged=True, tag="register")
def org_units():
    stmt = select(OrgUnit).order_by(OrgUnit.name)
    return paged(stmt, OrgUnitOut(many=True).dump)


@route("/org-units", "POST", summary="Create an org unit (admin)", body=OrgUnitIn, response=OrgUnitOut,
       status=201, errors=(403, 409), tag="register")
def create_org_unit():
    data = body(OrgUnitIn())
    unit = org_unit_service.create(db.session, current_actor(), name=data["name"], parent_id=data.get("parent_id"))
    db.session.commit()
    return created(OrgUnitOut().dump(unit))


@route("/systems", summary="List systems with filters, fuzzy search and paging", response=SystemOut,
       paged=True, query=SystemQuery, tag="register")
def list_systems():
    flt = system_filter_from_args()
    page_no, per_page = page_args()
    rows, total = service.page(db.session, flt, current_actor().today(), page_no, per_page)
    return jsonify({"items": [dump_system(s, st) for s, st in rows], "total": total, "page": page_no,
                    "per_page": per_page})


@route("/systems", "POST", summary="Create a system (admin)", body=SystemCreate, response=SystemOut,
       status=201, errors=(403,), tag="register")
def create_system():
    data = body(SystemCreate())
    actor = current_actor()
    system = service.create(db.session, actor, data)
    db.session.commit()
    return created(dump_system(system, lifecycle.stage_of(db.session, system.id, actor.today())))


@route("/systems/<int:system_id>", summary="One system with its stage and current records",
       response=SystemOut, tag="register")
def get_system(system_id: int):
    actor = current_actor()
    system = service.get(db.session, system_id)
    return jsonify(dump_system(system, lifecycle.stage_of(db.session, system.id, actor.today())))


@route("/systems/<int:system_id>", "PATCH", summary="Change a system; a stale version answers 409",
       body=SystemPatch, response=SystemOut, errors=(403, 409), tag="register")
def patch_system(system_id: int):
    data = body(SystemPatch())
    version = data.pop("version")
    actor = current_actor()
    system = service.update(db.session, actor, system_id, data, version=version)
    db.session.commit()
    return jsonify(dump_system(system, lifecycle.stage_of(db.session, system.id, actor.today())))


@route("/systems/<int:system_id>/major-change", "POST", summary="Record a major change (större förändring)",
       body=MajorChangeIn, response=SystemOut, errors=(403,), tag="register")
def major_change(system_id: int):
    data = body(MajorChangeIn())
    actor = current_actor()
    system = service.record_major_change(db.session, actor, system_id, data["description"])
    db.session.commit()
    return jsonify(dump_system(system, lifecycle.stage_of(db.session, system.id, actor.today())))
