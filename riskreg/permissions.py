"""Who may do what. Services call these and raise NotAllowed; templates use them to hide buttons."""

from __future__ import annotations

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from riskreg.models import Dpia, System, User
from riskreg.models.codes import Role

READ_ALL_ROLES = (Role.CISO, Role.DPO, Role.ADMIN, Role.AUDITOR)


def is_admin(user: User | None) -> bool:
    return bool(user and user.has_role(Role.ADMIN))


def can_read_all(user: User | None) -> bool:
    return bool(user and user.has_role(*READ_ALL_ROLES))


def can_read_register(user: User | None) -> bool:
    """Every signed-in user reads the register of systems and their stage."""
    return user is not None


def can_read_records(user: User | None, system: System) -> bool:
    """Classification, risk analyses, DPIA and approvals: the system's own owners and the read-all roles."""
    if user is None:
        return False
    return can_read_all(user) or user.id in (system.system_owner_id, system.risk_owner_id)


def can_edit_system(user: User | None, system: System) -> bool:
    """Facts and filing: the system's own system owner, or an admin acting for one."""
    if user is None:
        return False
    if is_admin(user):
        return True
    return user.has_role(Role.SYSTEM_OWNER) and system.system_owner_id == user.id


def can_manage_register(user: User | None) -> bool:
    """Create systems, org units, reassign owners, import: admins."""
    return is_admin(user)


def decide_refusal(user: User | None, system: System) -> str | None:
    """Why the user may not decide on this system, or None when they may (segregation of duties)."""
    if user is None or not user.has_role(Role.RISK_OWNER):
        return "only_risk_owner"
    if system.risk_owner_id != user.id:
        return "not_named_risk_owner"
    if system.system_owner_id == user.id:
        return "own_system"
    return None


def can_decide(user: User | None, system: System) -> bool:
    return decide_refusal(user, system) is None


def can_revoke(user: User | None, system: System) -> bool:
    if user is None:
        return False
    if user.has_role(Role.CISO):
        return True
    return can_decide(user, system)


def can_give_opinion(user: User | None, dpia: Dpia | None = None) -> bool:
    return bool(user and user.has_role(Role.DPO))


def can_import(user: User | None) -> bool:
    return is_admin(user)


def can_read_reports(user: User | None) -> bool:
    return bool(user and user.has_role(*READ_ALL_ROLES, Role.RISK_OWNER, Role.SYSTEM_OWNER))


def is_risk_owner(user: User | None) -> bool:
    """Risk owners have a decision queue of their own (the menu leads there)."""
    return bool(user and user.has_role(Role.RISK_OWNER))


def can_read_audit(user: User | None) -> bool:
    return bool(user and user.has_role(Role.CISO, Role.AUDITOR, Role.ADMIN))


def report_scope(user: User) -> ColumnElement[bool]:
    """The systems a user's reports cover: all for the read-all roles, else those they own or decide on."""
    if can_read_all(user):
        return true()
    clauses = []
    if user.has_role(Role.SYSTEM_OWNER):
        clauses.append(System.system_owner_id == user.id)
    if user.has_role(Role.RISK_OWNER):
        clauses.append(System.risk_owner_id == user.id)
    return or_(*clauses) if clauses else false()
