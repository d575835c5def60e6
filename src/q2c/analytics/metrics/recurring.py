"""Recurring-revenue metrics: MRR, ARR, MRR movements, net and gross revenue retention, logo churn.

Input is one ``MrrRow`` per account and month (absent row = 0). Months are calendar months; a range
``[start, end)`` covers the months whose first day lies in it. All MRR converts at ONE rate day —
the range's last day — so exchange-rate moves never show up as expansion or contraction.

Movement conventions (the usual SaaS ones, as in ChartMogul's and Baremetrics' MRR movements),
month M against month M−1, per account:
new (0 → >0, never had MRR before), reactivation (0 → >0, had MRR before), expansion (>0 → more),
contraction (>0 → less but >0), churn (>0 → 0). Hence opening + new + expansion − contraction −
churn + reactivation = closing, exactly.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from q2c.analytics.metrics.types import MetricsError, MrrRow, RateTable, check_range
from q2c.core.money import Money
from q2c.core.periods import add_months


def months_in(start: date, end: date) -> list[date]:
    """First days of the calendar months whose first day lies in ``[start, end)``."""
    check_range(start, end)
    first = start if start.day == 1 else add_months(start.replace(day=1), 1)
    out = []
    while first < end:
        out.append(first)
        first = add_months(first, 1)
    return out


class _Grid:
    """MRR per account per month, converted at one rate day (unrounded, exact)."""

    def __init__(self, rows: Iterable[MrrRow], rates: RateTable, rate_day: date) -> None:
        self.zero = rates.zero()
        self.by_month: dict[date, dict[int, Money]] = defaultdict(dict)
        self.first_seen: dict[int, date] = {}
        for row in rows:
            if row.month.day != 1:
                raise MetricsError(f"MRR month {row.month} is not a month's first day", field="month")
            if row.mrr.amount < 0:
                raise MetricsError("MRR cannot be negative", field="mrr")
            cell = self.by_month[row.month]
            cell[row.account_id] = cell.get(row.account_id, self.zero) + rates.convert(row.mrr, rate_day)
            if row.mrr.amount > 0:
                seen = self.first_seen.get(row.account_id)
                self.first_seen[row.account_id] = row.month if seen is None else min(seen, row.month)

    def mrr(self, month: date, account: int) -> Money:
        return self.by_month.get(month, {}).get(account, self.zero)

    def total(self, month: date) -> Money:
        return sum(self.by_month.get(month, {}).values(), self.zero)

    def had_before(self, month: date, account: int) -> bool:
        seen = self.first_seen.get(account)
        return seen is not None and seen < month


def _rate_day(end: date, start: date) -> date:
    return max(start, end - timedelta(days=1))


def mrr(rows: Iterable[MrrRow], month: date, rates: RateTable, *, rate_day: date | None = None) -> Money:
    """Σ MRR of ``month`` (a month's first day), at ``rate_day`` (default: the month's last day)."""
    day = rate_day or add_months(month, 1) - timedelta(days=1)
    return _Grid(rows, rates, day).total(month).round()


def arr(rows: Iterable[MrrRow], month: date, rates: RateTable, *, rate_day: date | None = None) -> Money:
    """12 × MRR of ``month`` (annualised run rate), rounded once after multiplying."""
    day = rate_day or add_months(month, 1) - timedelta(days=1)
    return (_Grid(rows, rates, day).total(month) * 12).round()


@dataclass(frozen=True, slots=True)
class Movements:
    opening: Money
    new: Money
    expansion: Money
    contraction: Money
    churn: Money
    reactivation: Money
    closing: Money

    def reconciles(self) -> bool:
        return (
            self.opening + self.new + self.expansion - self.contraction - self.churn + self.reactivation
            == self.closing
        )


def mrr_movements(rows: Iterable[MrrRow], start: date, end: date, rates: RateTable) -> Movements:
    """Opening MRR (month before the range's first month), movements summed over the range's
    months, closing MRR (last month). Empty range (no month starts in it): all zero.

    Amounts stay unrounded so they reconcile exactly; round them for display.
    """
    months = months_in(start, end)
    grid = _Grid(rows, rates, _rate_day(end, start))
    z = grid.zero
    if not months:
        return Movements(z, z, z, z, z, z, z)
    new = expansion = contraction = churn = reactivation = z
    for month in months:
        prev_month = add_months(month, -1)
        accounts = set(grid.by_month.get(month, {})) | set(grid.by_month.get(prev_month, {}))
        for account in accounts:
            before, now = grid.mrr(prev_month, account), grid.mrr(month, account)
            if not before and now:
                if grid.had_before(prev_month, account):
                    reactivation += now
                else:
                    new += now
            elif before and not now:
                churn += before
            elif now > before:
                expansion += now - before
            elif now < before:
                contraction += before - now
    return Movements(
        grid.total(add_months(months[0], -1)),
        new,
        expansion,
        contraction,
        churn,
        reactivation,
        grid.total(months[-1]),
    )


@dataclass(frozen=True, slots=True)
class Retention:
    """Cohort retention: accounts with MRR in the opening month, followed to the closing month."""

    nrr: Decimal | None  # Σ closing MRR of the cohort ÷ Σ opening MRR
    grr: Decimal | None  # Σ min(closing, opening) ÷ Σ opening; in [0, 1]
    logo_churn: Decimal | None  # cohort accounts at 0 in the closing month ÷ cohort size
    cohort_size: int


def retention(rows: Iterable[MrrRow], start: date, end: date, rates: RateTable) -> Retention:
    """NRR, GRR and logo churn between the month before the range's first month and its last month.

    New accounts (not in the opening cohort) never count; an account that churned and came back
    within the range counts at its closing MRR. None when the cohort is empty.
    """
    months = months_in(start, end)
    if not months:
        return Retention(None, None, None, 0)
    grid = _Grid(rows, rates, _rate_day(end, start))
    opening_month, closing_month = add_months(months[0], -1), months[-1]
    cohort = [a for a, m in grid.by_month.get(opening_month, {}).items() if m]
    if not cohort:
        return Retention(None, None, None, 0)
    opening = closing = kept = grid.zero
    lost = 0
    for account in cohort:
        before, now = grid.mrr(opening_month, account), grid.mrr(closing_month, account)
        opening += before
        closing += now
        kept += min(before, now)
        lost += 0 if now else 1
    return Retention(
        closing.amount / opening.amount,
        kept.amount / opening.amount,
        Decimal(lost) / Decimal(len(cohort)),
        len(cohort),
    )
