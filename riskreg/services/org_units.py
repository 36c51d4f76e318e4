"""Org units (förvaltningar)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import OrgUnit


def create(session: Session, actor: Actor, *, name: str, parent_id: int | None = None) -> OrgUnit:
    """Create an org unit (admins). Names are unique."""
    if not permissions.can_manage_register(actor.user):
        raise NotAllowed(_l("Only an administrator creates org units."))
    name = name.strip()
    if not name:
        raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
    if parent_id is not None and session.get(OrgUnit, parent_id) is None:
        raise RuleViolation(_l("No such parent org unit."), fields={"parent_id": [_l("No such org unit.")]})
    if session.execute(select(OrgUnit.id).where(OrgUnit.name == name)).first():
        raise Conflict(_l("An org unit with that name exists."), fields={"name": [_l("Already in use.")]})
    unit = OrgUnit(name=name, parent_id=parent_id, created_at=actor.at())
    session.add(unit)
    session.flush()
    audit.record(session, actor, "org_unit", unit.id, "create", None, {"name": name, "parent_id": parent_id})
    return unit


def rename(session: Session, actor: Actor, unit_id: int, *, name: str, parent_id: int | None) -> OrgUnit:
    if not permissions.can_manage_register(actor.user):
        raise NotAllowed(_l("Only an administrator changes org units."))
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(_l("No such org unit."))
    name = name.strip()
    if not name:
        raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
    if parent_id == unit.id:
        raise RuleViolation(_l("An org unit cannot be its own parent."), fields={"parent_id": [_l("Not itself.")]})
    clash = session.execute(select(OrgUnit.id).where(OrgUnit.name == name, OrgUnit.id != unit.id)).first()
    if clash:
        raise Conflict(_l("An org unit with that name exists."), fields={"name": [_l("Already in use.")]})
    before = {"name": unit.name, "parent_id": unit.parent_id}
    unit.name, unit.parent_id = name, parent_id
    audit.record(session, actor, "org_unit", unit.id, "update", before, {"name": name, "parent_id": parent_id})
    return unit


def by_name(session: Session, name: str) -> OrgUnit | None:
    return session.execute(select(OrgUnit).where(OrgUnit.name == name.strip())).scalar_one_or_none()
