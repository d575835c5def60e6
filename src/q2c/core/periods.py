"""Date ranges and day counts.

Service periods are half-open ``[start, end)``: a month of February 2027 is
``Period(2027-02-01, 2027-03-01)`` and has 28 days. Adding months keeps a month-end anchor's
intent: anchored on the 31st, the next dates are Feb 28 (29), Mar 31, Apr 30.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from q2c.core.errors import ValidationError


@dataclass(frozen=True, slots=True, order=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                f"period ends ({self.end}) before it starts ({self.start})",
                code="period.reversed",
                field="end",
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def overlap(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start < end else None

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """``day`` moved by ``months``, on ``anchor_day`` (default: ``day.day``) clamped to month end."""
    anchor = anchor_day or day.day
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor, days_in_month(year, month)))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    return Period(first, add_months(first, 1))


def month_end(day: date) -> date:
    """The last day of ``day``'s month (a closed date, as accounting uses it)."""
    return day.replace(day=days_in_month(day.year, day.month))


def months(start: date, end: date) -> Iterator[Period]:
    """Calendar months overlapping ``[start, end)``, each cut to the range."""
    cursor = start
    while cursor < end:
        nxt = min(add_months(cursor.replace(day=1), 1), end)
        yield Period(cursor, nxt)
        cursor = nxt


def day_range(start: date, end: date) -> Iterator[date]:
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)
