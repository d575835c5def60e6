"""The bulk path: whole contracts of the common kind over plain ints, for recognition runs.

Most contracts are a fixed price over ratable and point-in-time obligations with no variable
consideration, financing or modification. For those a bulk run needs, per contract, the
allocation (once, at booking) and each month the amount of every obligation — without building
``Money``, ``Fraction`` or result objects. The functions here do that over integer minor units
and date ordinals and give exactly what :func:`q2c.revenue.engine.compute` gives for the same
contract (a property test checks it). Anything else (variable consideration, modifications,
financing, discount allocation, the residual approach, progress, milestones) goes through
``compute``.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from q2c.revenue.engine.errors import RevenueInputError
from q2c.revenue.engine.ratable import month_end_ordinal, ratable_schedule_minor, ratable_to_date_ord
from q2c.revenue.engine.types import Rounding

__all__ = [
    "POINT_IN_TIME",
    "RATABLE",
    "SimpleObligation",
    "allocate_simple",
    "recognised_between",
    "recognised_to_date",
    "schedule_simple",
]

RATABLE = 0
POINT_IN_TIME = 1


class SimpleObligation(NamedTuple):
    """``kind`` RATABLE: ``start``/``end`` are the ordinals of the half-open service period;
    POINT_IN_TIME: ``start`` is the ordinal of the delivery day (0 = not delivered), ``end`` unused.
    ``ssp`` in minor units (> 0 when the contract has more than one obligation)."""

    kind: int
    ssp: int
    start: int
    end: int = 0


def allocate_simple(total: int, ssps: Sequence[int]) -> list[int]:
    """Relative-SSP allocation of ``total`` minor units, cents by largest remainder."""
    if len(ssps) == 1:
        return [total]
    if any(s <= 0 for s in ssps):
        raise RevenueInputError(
            "allocation by relative SSP needs a positive SSP for every obligation", code="revenue.ssp_zero"
        )
    # q2c.core.money.allocate_minor's largest remainder (ties to the earlier part) on plain ints:
    # the same parts (a property test compares them), without a Fraction per weight.
    weight = sum(ssps)
    sign = -1 if total < 0 else 1
    units = abs(total)
    parts = []
    remainders = []
    for s in ssps:
        whole, rest = divmod(units * s, weight)
        parts.append(whole)
        remainders.append(rest)
    left = units - sum(parts)
    if left:
        for i in sorted(range(len(ssps)), key=lambda i: (-remainders[i], i))[:left]:
            parts[i] += 1
    return [sign * p for p in parts] if sign < 0 else parts


def recognised_to_date(
    ob: SimpleObligation, allocated: int, through: int, rounding: Rounding = "half_up"
) -> int:
    """Recognised through the end of the day with ordinal ``through``."""
    if ob.kind == RATABLE:
        return ratable_to_date_ord(allocated, ob.start, ob.end, through, rounding)
    return allocated if 0 < ob.start <= through else 0


def recognised_between(
    ob: SimpleObligation, allocated: int, after: int, through: int, rounding: Rounding = "half_up"
) -> int:
    """One run's amount: recognised through ``through`` less recognised through ``after``."""
    return recognised_to_date(ob, allocated, through, rounding) - recognised_to_date(
        ob, allocated, after, rounding
    )


def schedule_simple(
    total: int, obligations: Sequence[SimpleObligation], rounding: Rounding = "half_up"
) -> list[tuple[int, list[tuple[int, int]]]]:
    """Allocate ``total`` and give each obligation's month-end amounts:
    ``[(allocated, [(month-end ordinal, amount), …]), …]`` — non-zero months only, as ``compute``."""
    allocated = allocate_simple(total, [o.ssp for o in obligations])
    out: list[tuple[int, list[tuple[int, int]]]] = []
    for ob, amount in zip(obligations, allocated, strict=True):
        if ob.kind == RATABLE:
            d = date.fromordinal(ob.start)
            year, month = d.year, d.month
            lines = []
            for part in ratable_schedule_minor(amount, ob.start, ob.end, rounding):
                if part:
                    lines.append((month_end_ordinal(year, month), part))
                month += 1
                if month == 13:
                    year, month = year + 1, 1
            out.append((amount, lines))
        elif ob.start > 0 and amount:
            d = date.fromordinal(ob.start)
            out.append((amount, [(month_end_ordinal(d.year, d.month), amount)]))
        else:
            out.append((amount, []))
    return out
