"""What the four filing services (classification, risk, dpia, sla) share: finding the system, the
read and write permissions of API.md, optimistic locking, and collecting field problems for a 422."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from riskreg import permissions
from riskreg.actor import Actor
from riskreg.errors import Conflict, NotAllowed, NotFound, RuleViolation
from riskreg.models import System, User

MAX_ID = 2**31 - 1


def load(session: Session, model: type, record_id: int, message) -> Any:
    """A row by id, or NotFound (ids beyond the integer column are unknown, never a database error)."""
    if not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        raise NotFound(message)
    row = session.get(model, record_id)
    if row is None:
        raise NotFound(message)
    return row


def system(session: Session, system_id: int, *, for_update: bool = False) -> System:
    if not isinstance(system_id, int) or not 0 < system_id <= MAX_ID:
        raise NotFound(_l("System %(id)s does not exist.", id=system_id))
    stmt = select(System).where(System.id == system_id)
    if for_update:
        # read the row as it now is, not as this session first loaded it: a check against its current
        # records (e.g. the SLA a client saw) must see what another transaction committed meanwhile
        stmt = stmt.execution_options(populate_existing=True)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound(_l("System %(id)s does not exist.", id=system_id))
    return found


def require_write(actor: Actor, sys_row: System) -> None:
    """Filing is written by the system's own system owner or an admin (API.md); others get 403."""
    if not permissions.can_edit_system(actor.user, sys_row):
        raise NotAllowed(_l("Only the system's own system owner or an administrator files its records."))


def require_read(actor: Actor, sys_row: System) -> None:
    """Records are read by the system's own owners and the read-all roles (API.md, Visibility)."""
    if not permissions.can_read_records(actor.user, sys_row):
        raise NotAllowed(_l("You may not read this system's records."))


def writable_system(session: Session, actor: Actor, system_id: int) -> System:
    sys_row = system(session, system_id, for_update=True)
    require_write(actor, sys_row)
    return sys_row


class StaleVersion(Conflict):
    """A client acted on a record as it was, and someone else has saved it since (409). ``record`` is the
    record the refusal is about; after the rollback it reads as it now is (the API answers it as
    ``error.current``, the pages show it beside the user's form)."""

    def __init__(self, message, fields: dict | None = None, *, record: Any = None):
        super().__init__(message, fields)
        self.record = record


def check_version(record: Any, version: int | None) -> None:
    """Optimistic locking: a client that saw an older version is refused (409), nothing is overwritten."""
    if version is not None and version != record.version:
        raise StaleVersion(
            _l(
                "Someone else saved this record meanwhile (your version %(old)s, now %(new)s).",
                old=version,
                new=record.version,
            ),
            fields={"version": [_l("Current version is %(version)s.", version=record.version)]},
            record=record,
        )


class Problems:
    """Collects field problems and raises one RuleViolation (422) naming each."""

    def __init__(self) -> None:
        self.fields: dict[str, list] = {}

    def add(self, field: str, message) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self, message=None) -> None:
        if self.fields:
            raise RuleViolation(message or _l("The input is invalid."), fields=self.fields)

    def text(self, field: str, value: Any, max_len: int, *, required: bool = False) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, _l("Not a valid text."))
            return ""
        value = value.strip()
        if "\x00" in value:  # no database text column takes it (PostgreSQL refuses)
            self.add(field, _l("NUL characters are not allowed."))
            return ""
        if required and not value:
            self.add(field, _l("Required."))
        elif len(value) > max_len:
            self.add(field, _l("At most %(n)s characters.", n=max_len))
        return value

    def scale(self, field: str, value: Any, low: int, high: int, *, required: bool = True) -> int | None:
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(field, _l("Must be a whole number from %(low)s to %(high)s.", low=low, high=high))
            return None
        return value

    def code(self, field: str, value: Any, codes: type, *, required: bool = True):
        if value in (None, "") and not required:
            return None
        try:
            return codes(value)
        except ValueError:
            self.add(field, _l("Must be one of: %(codes)s.", codes=", ".join(c.value for c in codes)))
            return None

    def day(self, field: str, value: Any, *, required: bool = True) -> date | None:
        if value in (None, "") and not required:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(field, _l("Not a valid date (YYYY-MM-DD)."))
        return None

    def user(self, session: Session, field: str, user_id: Any) -> int | None:
        if user_id is None:
            return None
        if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id <= MAX_ID:
            self.add(field, _l("No such active user."))
            return None
        found = session.get(User, user_id)
        if found is None or not found.active:
            self.add(field, _l("No such active user."))
            return None
        return user_id


def users_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(wanted))).scalars()}
