"""The business clock: what "today" and "now" are for q2c.

Every date-driven rule (due dates, bill runs, dunning, recognition) asks this module, never
``date.today()``. The default clock reads the system time; a simulation clock is set per run
(``--as-of``) or advanced by the simulator. The active clock lives in a context variable, so a
test or a command can swap it without touching global state in other threads.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from q2c.core.errors import ValidationError


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self, tz: str | None = None) -> date: ...


class SystemClock:
    """Wall-clock time; business dates in ``default_tz``."""

    def __init__(self, default_tz: str = "UTC") -> None:
        self.default_tz = default_tz

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, tz: str | None = None) -> date:
        return self.now().astimezone(ZoneInfo(tz or self.default_tz)).date()


class SimulationClock:
    """A clock that stands still until told to move. ``now()`` is UTC-aware."""

    def __init__(self, start: date | datetime, default_tz: str = "UTC") -> None:
        self.default_tz = default_tz
        self._now = self._to_datetime(start)

    def _to_datetime(self, value: date | datetime) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValidationError("simulation time must be timezone-aware", field="as_of")
            return value.astimezone(UTC)
        # A bare business date means 09:00 local time on that day: inside office hours, so the
        # date is the same in every zone the entity is likely to be in.
        local = datetime.combine(value, time(9, 0), tzinfo=ZoneInfo(self.default_tz))
        return local.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def today(self, tz: str | None = None) -> date:
        return self._now.astimezone(ZoneInfo(tz or self.default_tz)).date()

    def set(self, value: date | datetime) -> None:
        new = self._to_datetime(value)
        if new < self._now:
            raise ValidationError("the business clock does not run backwards", field="as_of")
        self._now = new

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValidationError("the business clock does not run backwards", field="as_of")
        self._now = self._now + delta


_default: Clock = SystemClock()
_active: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("q2c_clock", default=None)


def configure(default_tz: str) -> None:
    """Set the zone of the system clock (called once from settings)."""
    global _default
    _default = SystemClock(default_tz)


def current() -> Clock:
    return _active.get() or _default


def now() -> datetime:
    return current().now()


def today(tz: str | None = None) -> date:
    return current().today(tz)


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the business clock inside the block."""
    token = _active.set(clock)
    try:
        yield clock
    finally:
        _active.reset(token)


def install(clock: Clock | None) -> None:
    """Make ``clock`` the business clock for the rest of this context (a command's whole run)."""
    _active.set(clock)


def parse_date(value: str, *, field: str = "as_of") -> date:
    """Parse ``YYYY-MM-DD`` strictly; anything else is a ``ValidationError`` naming the field."""
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"'{value}' is not a date in the form YYYY-MM-DD", code="date.invalid", field=field
        ) from None
