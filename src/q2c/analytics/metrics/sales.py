"""Sales metrics: pipeline, weighted pipeline, bookings, win rate, discount, turnaround, cycle.

Pure functions over ``Opportunity`` and ``Quote`` records; amounts convert into the rate table's
currency at the rate of the day named in each function (docs/metrics.md). Money results are rounded
once, at the end, to the reporting currency's minor unit; ratios and days are exact Decimals.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median

from q2c.analytics.metrics.types import Opportunity, Quote, RateTable, Stage, check_range
from q2c.core.money import Money

_SECONDS_PER_DAY = Decimal(86400)


def _open_at(opp: Opportunity, day: date) -> bool:
    """Open at the close of ``day``: created by then and not closed by then."""
    return opp.created_on <= day and (opp.closed_on is None or opp.closed_on > day)


def pipeline(opps: Iterable[Opportunity], end: date, rates: RateTable) -> Money:
    """Σ amount of opportunities open at the close of ``end − 1 day``, at that day's rate."""
    day = end - timedelta(days=1)
    total = rates.zero()
    for opp in opps:
        if _open_at(opp, day):
            total += rates.convert(opp.amount, day)
    return total.round()


def weighted_pipeline(opps: Iterable[Opportunity], end: date, rates: RateTable) -> Money:
    """Σ amount × probability over the same opportunities as :func:`pipeline`."""
    day = end - timedelta(days=1)
    total = rates.zero()
    for opp in opps:
        if _open_at(opp, day):
            total += rates.convert(opp.amount, day) * opp.probability
    return total.round()


def _closed_in(opps: Iterable[Opportunity], start: date, end: date, stage: Stage) -> list[Opportunity]:
    check_range(start, end)
    return [o for o in opps if o.stage == stage and o.closed_on is not None and start <= o.closed_on < end]


def bookings(opps: Iterable[Opportunity], start: date, end: date, rates: RateTable) -> Money:
    """Σ amount of opportunities won in ``[start, end)``, each at its close date's rate."""
    total = rates.zero()
    for opp in _closed_in(opps, start, end, Stage.WON):
        assert opp.closed_on is not None
        total += rates.convert(opp.amount, opp.closed_on)
    return total.round()


def win_rate(opps: Iterable[Opportunity], start: date, end: date) -> Decimal | None:
    """won ÷ (won + lost), counted over opportunities closed in the range; None if none closed."""
    items = list(opps)
    won = len(_closed_in(items, start, end, Stage.WON))
    lost = len(_closed_in(items, start, end, Stage.LOST))
    if won + lost == 0:
        return None
    return Decimal(won) / Decimal(won + lost)


def average_discount(quotes: Iterable[Quote], start: date, end: date, rates: RateTable) -> Decimal | None:
    """Σ (list − net) ÷ Σ list over quotes sent in the range (amount-weighted); None if none."""
    check_range(start, end)
    list_sum = rates.zero()
    discount_sum = rates.zero()
    for q in quotes:
        if q.sent_at is None or not start <= _utc_day(q.sent_at) < end:
            continue
        day = _utc_day(q.sent_at)
        list_sum += rates.convert(q.list_total, day)
        discount_sum += rates.convert(q.list_total - q.net_total, day)
    if not list_sum:
        return None
    return discount_sum.amount / list_sum.amount


@dataclass(frozen=True, slots=True)
class Durations:
    """How long something took, in days (exact Decimals); mean and median are None when count is 0."""

    count: int
    mean_days: Decimal | None
    median_days: Decimal | None

    @classmethod
    def of(cls, days: list[Decimal]) -> Durations:
        if not days:
            return cls(0, None, None)
        return cls(len(days), sum(days, Decimal(0)) / len(days), Decimal(median(days)))


def _utc_day(stamp: datetime) -> date:
    return stamp.astimezone(UTC).date()


def _days_between(a: datetime, b: datetime) -> Decimal:
    delta = b - a
    return (
        Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    ) / _SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class Turnaround:
    created_to_sent: Durations
    sent_to_accepted: Durations


def quote_turnaround(quotes: Iterable[Quote], start: date, end: date) -> Turnaround:
    """created → sent over quotes sent in the range; sent → accepted over quotes accepted in it.

    Timestamps are the business clock's (UTC-aware); the day a timestamp falls on is its UTC date.
    """
    check_range(start, end)
    to_sent: list[Decimal] = []
    to_accepted: list[Decimal] = []
    for q in quotes:
        if q.sent_at is not None and start <= _utc_day(q.sent_at) < end:
            to_sent.append(_days_between(q.created_at, q.sent_at))
        if q.accepted_at is not None and q.sent_at is not None and start <= _utc_day(q.accepted_at) < end:
            to_accepted.append(_days_between(q.sent_at, q.accepted_at))
    return Turnaround(Durations.of(to_sent), Durations.of(to_accepted))


def sales_cycle(opps: Iterable[Opportunity], start: date, end: date) -> Durations:
    """Days from created to won, over opportunities won in the range."""
    days = [
        Decimal((o.closed_on - o.created_on).days)
        for o in _closed_in(opps, start, end, Stage.WON)
        if o.closed_on is not None
    ]
    return Durations.of(days)
