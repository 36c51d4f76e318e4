"""Writing audit events, in the caller's transaction. There is no update or delete here, by design."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from riskreg.actor import Actor
from riskreg.models import AuditEvent


def plain(value: Any) -> Any:
    """A JSON-safe copy of a value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


def columns_of(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The mapped column values of a row, JSON-safe (binary columns left out)."""
    out = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in exclude:
            continue
        value = getattr(obj, attr.key)
        if isinstance(value, bytes | bytearray):
            continue
        out[attr.key] = plain(value)
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(session: Session, actor: Actor, entity: str, entity_id: int | None, action: str,
           before: dict | None = None, after: dict | None = None) -> AuditEvent:
    event = AuditEvent(
        at=actor.at(), user_id=actor.user_id, entity=entity, entity_id=entity_id, action=action,
        before=plain(before) if before is not None else None,
        after=plain(after) if after is not None else None,
        client_address=actor.client_address, request_id=actor.request_id,
    )
    session.add(event)
    return event
