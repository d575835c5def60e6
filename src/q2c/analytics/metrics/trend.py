"""Monthly figures for the dashboards' trend charts: per calendar month of a range (cut to the
range), only the metrics the charts draw — bookings, billings, DSO, MRR and its movements — each
computed by the same function as the KPI report for that month's range, so the last point of a
trend equals the report of that month.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from q2c.analytics.metrics import receivables as ar
from q2c.analytics.metrics import recurring, sales
from q2c.analytics.metrics.report import KpiInputs
from q2c.analytics.metrics.types import RateTable, check_range
from q2c.core.money import Money
from q2c.core.periods import add_months, month_of


@dataclass(frozen=True, slots=True)
class MonthFigures:
    label: str  # YYYY-MM
    start: date
    end: date
    bookings: Money
    billings: Money
    dso: Decimal | None
    mrr: Money
    movements: recurring.Movements


def months_of(start: date, end: date, limit: int = 12) -> list[tuple[str, date, date]]:
    """(label, start, end) per calendar month of ``[start, end)`` cut to it; the last ``limit``."""
    check_range(start, end)
    out = []
    first = start
    while first < end:
        nxt = min(add_months(first.replace(day=1), 1), end)
        out.append((first.strftime("%Y-%m"), first, nxt))
        first = nxt
    return out[-limit:]


def monthly(
    inputs: KpiInputs, start: date, end: date, rates: RateTable, limit: int = 12
) -> list[MonthFigures]:
    out = []
    for label, s, e in months_of(start, end, limit):
        last = e - timedelta(days=1)
        out.append(
            MonthFigures(
                label=label,
                start=s,
                end=e,
                bookings=sales.bookings(inputs.opportunities, s, e, rates),
                billings=ar.billings(inputs.receivables, s, e, rates),
                dso=ar.dso(inputs.receivables, s, e, rates),
                mrr=recurring.mrr(inputs.mrr, month_of(last).start, rates, rate_day=last),
                movements=recurring.mrr_movements(inputs.mrr, s, e, rates),
            )
        )
    return out
