"""The fast path: the cumulative day method and point-in-time recognition over integer minor units.

A bulk recognition run (100,000 contracts) calls these per obligation with plain ints and dates —
no ``Money`` objects, no ``Fraction``s, no allocation of intermediate objects beyond the result —
and gets exactly what :func:`q2c.revenue.engine.compute` gives for the same obligation.

Cumulative day method (see shared/scenarios/northwind.md): recognised to date =
round(allocated × days elapsed ÷ days in the service period), days counted through the end of
the day asked about; a period's amount is the difference of two cumulative figures, so the
amounts always add up to the allocated total. Rounding is half-up (away from zero on a tie) or
half-even, on integers.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

import calendar
from datetime import date
from functools import lru_cache

from q2c.revenue.engine.types import Rounding


def round_div(numerator: int, denominator: int, rounding: Rounding = "half_up") -> int:
    """``numerator ÷ denominator`` rounded to an integer (``denominator`` > 0)."""
    q, r = divmod(numerator, denominator)  # floor division: value = q + r/denominator, 0 ≤ r < d
    twice = 2 * r
    if twice > denominator:
        return q + 1
    if twice < denominator:
        return q
    if rounding == "half_up":
        # A tie rounds away from zero: up for positive values, down (that is, q) for negative ones.
        return q + 1 if numerator >= 0 else q
    return q if q % 2 == 0 else q + 1


@lru_cache(maxsize=4096)
def month_end_ordinal(year: int, month: int) -> int:
    """The ordinal of the last day of a month (cached: a run asks for the same few dozen months)."""
    return date(year, month, calendar.monthrange(year, month)[1]).toordinal()


def ratable_to_date(
    allocated: int, start: date, end: date, through: date, rounding: Rounding = "half_up"
) -> int:
    """Recognised from ``[start, end)`` through the end of day ``through``, in minor units."""
    return ratable_to_date_ord(allocated, start.toordinal(), end.toordinal(), through.toordinal(), rounding)


def ratable_to_date_ord(
    allocated: int, start: int, end: int, through: int, rounding: Rounding = "half_up"
) -> int:
    """:func:`ratable_to_date` over date ordinals (``date.toordinal()``), for hot loops."""
    elapsed = through + 1 - start
    if elapsed <= 0:
        return 0
    total = end - start
    if elapsed >= total:
        return allocated
    return round_div(allocated * elapsed, total, rounding)


def ratable_between(
    allocated: int, start: date, end: date, after: date, through: date, rounding: Rounding = "half_up"
) -> int:
    """Recognised in the days after ``after`` up to and including ``through`` (one run's amount:
    ``after`` is the previous run's date, ``through`` this run's)."""
    s, e = start.toordinal(), end.toordinal()
    return ratable_to_date_ord(allocated, s, e, through.toordinal(), rounding) - ratable_to_date_ord(
        allocated, s, e, after.toordinal(), rounding
    )


def ratable_schedule(
    allocated: int, start: date, end: date, rounding: Rounding = "half_up"
) -> list[tuple[date, int]]:
    """Month-end amounts of ``[start, end)``: ``[(last day of month, minor units), …]``, one per
    calendar month the period touches, summing exactly to ``allocated``."""
    s, e = start.toordinal(), end.toordinal()
    total = e - s
    year, month = start.year, start.month
    last_day = e - 1
    out: list[tuple[date, int]] = []
    previous = 0
    while True:
        me = month_end_ordinal(year, month)
        if me >= last_day:
            out.append((date.fromordinal(me), allocated - previous))
            return out
        elapsed = me + 1 - s
        cumulative = round_div(allocated * elapsed, total, rounding)
        out.append((date.fromordinal(me), cumulative - previous))
        previous = cumulative
        month += 1
        if month == 13:
            year, month = year + 1, 1


def ratable_schedule_minor(
    allocated: int, start_ord: int, end_ord: int, rounding: Rounding = "half_up"
) -> list[int]:
    """Like :func:`ratable_schedule` but over ordinals and returning only the amounts (month by
    month from the start's month): the leanest form for a bulk run that knows the months."""
    total = end_ord - start_ord
    d = date.fromordinal(start_ord)
    year, month = d.year, d.month
    last_day = end_ord - 1
    out: list[int] = []
    previous = 0
    while True:
        me = month_end_ordinal(year, month)
        if me >= last_day:
            out.append(allocated - previous)
            return out
        cumulative = round_div(allocated * (me + 1 - start_ord), total, rounding)
        out.append(cumulative - previous)
        previous = cumulative
        month += 1
        if month == 13:
            year, month = year + 1, 1


def point_in_time_to_date(allocated: int, delivered_on: date | None, through: date) -> int:
    """Recognised through the end of day ``through`` for an obligation satisfied at a point in time."""
    return allocated if delivered_on is not None and delivered_on <= through else 0
