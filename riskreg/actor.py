"""Who acts: passed explicitly into every service (no globals in the workflow rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from riskreg.models import User
from riskreg.models.base import utcnow


@dataclass(frozen=True)
class Actor:
    user: User | None
    client_address: str | None = None
    request_id: str | None = None
    now: datetime | None = None  # fixed clock for tests and the seed; None = real time

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    def at(self) -> datetime:
        return self.now or utcnow()

    def today(self) -> date:
        return self.at().date()


SYSTEM_ACTOR = Actor(user=None, client_address="cli")
