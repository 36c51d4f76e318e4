"""Accounts: users, roles, passwords, login throttling and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache
from importlib import resources

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from riskreg import audit, permissions
from riskreg.actor import Actor
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import ApiToken, LoginAttempt, OrgUnit, User, UserRole
from riskreg.models.codes import Role

EMAIL_MAX = 254


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("riskreg").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(_l("At least %(n)s characters.", n=minimum))
    if len(password) > 200:
        problems.append(_l("At most 200 characters."))
    folded = password.casefold()
    if folded in common_passwords():
        problems.append(_l("This password is too common."))
    return problems


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _valid_email(email: str) -> bool:
    local, _, domain = email.partition("@")
    return bool(local) and "." in domain and " " not in email and len(email) <= EMAIL_MAX


def user_snapshot(user: User) -> dict:
    return {"email": user.email, "name": user.name, "active": user.active, "org_unit_id": user.org_unit_id,
            "roles": sorted(r.value for r in user.roles)}


def create_user(session: Session, actor: Actor, *, email: str, name: str, roles: list[str], password: str,
                org_unit_id: int | None = None, check_permission: bool = True,
                password_hash: str | None = None, must_change_password: bool = False) -> User:
    """Create an account. Raises NotAllowed (not an admin), RuleViolation (bad input), Conflict (taken).
    ``must_change_password``: the user chooses their own at the first login (an administrator made the
    first one up; the demo and the command line leave it off).

    ``password_hash`` (of ``password``, made by ``hash_password``) spares the KDF when many accounts
    share one password, as the demo users do."""
    if check_permission and not permissions.is_admin(actor.user):
        raise NotAllowed(_l("Only an administrator creates accounts."))
    email = _normalise_email(email)
    problems: dict[str, list[str]] = {}
    if not _valid_email(email):
        problems["email"] = [_l("Not a valid e-mail address.")]
    if not name.strip() or len(name) > 200:
        problems["name"] = [_l("A name of 1–200 characters is required.")]
    bad_roles = [r for r in roles if r not in {x.value for x in Role}]
    if not roles or bad_roles:
        problems["roles"] = [_l("Unknown role: %(role)s", role=r) for r in bad_roles] or [_l("At least one role.")]
    if pw := password_problems(password, email, name):
        problems["password"] = pw
    if org_unit_id is not None and session.get(OrgUnit, org_unit_id) is None:
        problems["org_unit_id"] = [_l("No such org unit.")]
    if problems:
        raise RuleViolation(_l("The account is invalid."), fields=problems)
    if session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict(_l("An account with that e-mail address exists."), fields={"email": [_l("Already in use.")]})
    if password_hash is not None and not check_password_hash(password_hash, password):
        raise RuleViolation(_l("The password is invalid."))
    user = User(email=email, name=name.strip(), password_hash=password_hash or hash_password(password), active=True,
                org_unit_id=org_unit_id, created_at=actor.at(), password_must_change=must_change_password)
    user.role_rows = [UserRole(role=Role(r)) for r in sorted(set(roles))]
    session.add(user)
    session.flush()
    audit.record(session, actor, "user", user.id, "create", None, user_snapshot(user))
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("User %(id)s does not exist.", id=user_id))
    return user


def update_user(session: Session, actor: Actor, user_id: int, *, name: str | None = None,
                roles: list[str] | None = None, org_unit_id: int | None = None, active: bool | None = None,
                set_org_unit: bool = False) -> User:
    """Admins set roles, org unit and name, and deactivate (which ends sessions and tokens)."""
    if not permissions.is_admin(actor.user):
        raise NotAllowed(_l("Only an administrator changes accounts."))
    user = get_user(session, user_id)
    before = user_snapshot(user)
    if name is not None:
        if not name.strip():
            raise RuleViolation(_l("A name is required."), fields={"name": [_l("A name is required.")]})
        user.name = name.strip()
    if roles is not None:
        bad = [r for r in roles if r not in {x.value for x in Role}]
        if not roles or bad:
            raise RuleViolation(_l("Invalid roles."), fields={"roles": [_l("At least one known role.")]})
        if user.id == actor.user_id and Role.ADMIN.value not in roles:
            raise RuleViolation(_l("You cannot remove your own administrator role."),
                                fields={"roles": [_l("You cannot remove your own administrator role.")]})
        keep = {r.role.value: r for r in user.role_rows}
        user.role_rows = [keep.get(r) or UserRole(role=Role(r)) for r in sorted(set(roles))]
    if set_org_unit:
        if org_unit_id is not None and session.get(OrgUnit, org_unit_id) is None:
            raise RuleViolation(_l("No such org unit."), fields={"org_unit_id": [_l("No such org unit.")]})
        user.org_unit_id = org_unit_id
    if active is not None and active != user.active:
        if user.id == actor.user_id and not active:
            raise RuleViolation(_l("You cannot deactivate yourself."), fields={"active": [_l("Not yourself.")]})
        user.active = active
        user.session_epoch += 1
    session.flush()
    b, a = audit.changed(before, user_snapshot(user))
    if a:
        audit.record(session, actor, "user", user.id, "update", b, a)
    return user


def set_password(session: Session, actor: Actor, user: User, password: str, *,
                 field: str = "password", must_change: bool = False) -> None:
    """A new password (the policy checked); every session of the user ends (the session epoch moves on).
    ``must_change``: the user is to choose their own at their next login (an administrator set this one)."""
    if pw := password_problems(password, user.email, user.name):
        raise RuleViolation(_l("The password is too weak."), fields={field: pw})
    user.password_hash = hash_password(password)
    user.password_must_change = must_change
    user.session_epoch += 1
    audit.record(session, actor, "user", user.id, "password_changed", None, None)


class WrongPassword(Exception):
    """The current password given to change it was wrong (recorded as a failed login: commit it)."""


def change_own_password(session: Session, actor: Actor, current_password: str, new_password: str) -> None:
    """The signed-in user changes their password, proving the current one. A wrong current password counts
    as a failed login (recorded, and throttled the same way: LoginThrottled, WrongPassword, both to be
    committed by the caller); a weak new one, or the same as before, raises RuleViolation. The user's
    sessions end: the caller signs the current one in again."""
    user = actor.user
    if user is None:
        raise NotAllowed(_l("Log in first."))
    now = actor.at()
    if throttled(session, user.email, actor.client_address, now):
        audit.record(session, actor, "user", user.id, "login_throttled", None, {"email": user.email})
        raise LoginThrottled()
    if not check_password_hash(user.password_hash, current_password):
        session.add(LoginAttempt(email=user.email, client_address=actor.client_address or "", at=now))
        audit.record(session, actor, "user", user.id, "login_failed", None,
                     {"email": user.email, "while": "password_change"})
        raise WrongPassword()
    if new_password == current_password:
        same = _l("Choose a password other than the current one.")
        raise RuleViolation(same, fields={"new_password": [same]})
    set_password(session, actor, user, new_password, field="new_password")


def reset_password(session: Session, actor: Actor, user_id: int, password: str) -> User:
    """An administrator gives another user a new password (to hand over in person); that user's sessions
    end, and at their next login they choose their own before anything else. Administrators change their
    own on their account page, proving the current one."""
    if not permissions.is_admin(actor.user):
        raise NotAllowed(_l("Only an administrator changes accounts."))
    user = get_user(session, user_id)
    if user.id == actor.user_id:
        raise RuleViolation(_l("Change your own password on your account page."),
                            fields={"password": [_l("Change your own password on your account page.")]})
    set_password(session, actor, user, password, must_change=True)
    return user


# ------------------------------------------------------------------ login


def throttled(session: Session, email: str, address: str | None, now) -> bool:
    cfg = current_app.config
    since = now - timedelta(minutes=cfg["LOGIN_THROTTLE_MINUTES"])
    by_account = session.execute(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.email == _normalise_email(email), LoginAttempt.at >= since)).scalar_one()
    if by_account >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return True
    if address:
        by_address = session.execute(select(func.count(LoginAttempt.id)).where(
            LoginAttempt.client_address == address, LoginAttempt.at >= since)).scalar_one()
        if by_address >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
            return True
    return False


class LoginThrottled(Exception):
    pass


def authenticate(session: Session, actor: Actor, email: str, password: str) -> User | None:
    """The user for these credentials, or None (the failure is recorded). Raises LoginThrottled."""
    email = _normalise_email(email)
    now = actor.at()
    if throttled(session, email, actor.client_address, now):
        audit.record(session, actor, "user", None, "login_throttled", None, {"email": email})
        raise LoginThrottled()
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        session.add(LoginAttempt(email=email, client_address=actor.client_address or "", at=now))
        audit.record(session, actor, "user", user.id if user else None, "login_failed", None, {"email": email})
        return None
    audit.record(session, Actor(user, actor.client_address, actor.request_id), "user", user.id, "login", None, None)
    return user


# ------------------------------------------------------------------ tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, actor: Actor, user: User, name: str = "API") -> tuple[ApiToken, str]:
    """A new token for the user; the plain token is returned once and only its hash is stored."""
    if actor.user is not None and actor.user.id != user.id and not permissions.is_admin(actor.user):
        raise NotAllowed(_l("You create tokens for yourself only."))
    if not user.active:
        raise RuleViolation(_l("The account is deactivated."))
    plain = "rr_" + secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    token = ApiToken(user_id=user.id, name=(name.strip() or "API")[:100], token_hash=token_hash(plain),
                     prefix=plain[:10], created_at=actor.at(),
                     expires_at=actor.at() + timedelta(days=days) if days else None)
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token", token.id, "create", None,
                 {"user_id": user.id, "name": token.name, "prefix": token.prefix})
    return token, plain


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_l("No such token."))
    if actor.user is None or (token.user_id != actor.user.id and not permissions.is_admin(actor.user)):
        raise NotAllowed(_l("You revoke your own tokens only."))
    if token.revoked_at is None:
        token.revoked_at = actor.at()
        audit.record(session, actor, "api_token", token.id, "revoke", None, {"prefix": token.prefix})
    return token


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(User.email == _normalise_email(email))).scalar_one_or_none()
