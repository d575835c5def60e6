"""Cash conversion: how fast a sent quote becomes cash, and where deals are stuck.

A ``Deal`` follows one sent quote version through four stages: **sent** → **accepted** (the
customer's acceptance; the contract follows in the same transaction) → **invoiced** (the first
invoice issued for its contract) → **paid** (that first invoice settled in full). The cohort of a
range is the quotes sent in it. For each step the median (and mean) days are taken over the
cohort's deals that made the step by the range's close; a deal that reached a stage but not the
next by the close is **stuck** there (counted with its TCV, at its sent date's rate). A quote
declined, expired, withdrawn or replaced by a later version has left the funnel: **dropped**.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from q2c.analytics.metrics.sales import Durations
from q2c.analytics.metrics.types import MetricsError, RateTable, check_range
from q2c.core.money import Money

STAGES = ("sent", "accepted", "invoiced", "paid")


@dataclass(frozen=True, slots=True)
class Deal:
    quote_id: int
    label: str
    amount: Money  # the quote's TCV
    sent_on: date
    accepted_on: date | None = None
    invoiced_on: date | None = None
    paid_on: date | None = None
    dropped_on: date | None = None  # declined, expired, withdrawn or superseded

    def __post_init__(self) -> None:
        steps = [self.sent_on, self.accepted_on, self.invoiced_on, self.paid_on]
        reached = [d for d in steps if d is not None]
        if steps[: len(reached)] != reached:
            raise MetricsError("a deal reaches its stages in order", field="stages")
        if reached != sorted(reached):
            raise MetricsError("a deal's stages are dated in order", field="stages")


@dataclass(frozen=True, slots=True)
class Stuck:
    stage: str
    count: int
    amount: Money
    deals: tuple[Deal, ...]


@dataclass(frozen=True, slots=True)
class Conversion:
    reached: dict[str, int]  # deals of the cohort at or past each stage by the close
    steps: dict[str, Durations]  # "sent→accepted", "accepted→invoiced", "invoiced→paid", "sent→paid"
    stuck: tuple[Stuck, ...]  # at sent, accepted, invoiced (paid is done)
    dropped: int


def _on_or_before(day: date | None, close: date) -> date | None:
    return day if day is not None and day <= close else None


def cash_conversion(deals: Iterable[Deal], start: date, end: date, rates: RateTable) -> Conversion:
    check_range(start, end)
    close = end - timedelta(days=1)
    cohort = [d for d in deals if start <= d.sent_on < end]
    reached = dict.fromkeys(STAGES, 0)
    gaps: dict[str, list[int]] = {
        "sent→accepted": [],
        "accepted→invoiced": [],
        "invoiced→paid": [],
        "sent→paid": [],
    }
    stuck: dict[str, list[Deal]] = {"sent": [], "accepted": [], "invoiced": []}
    dropped = 0
    for deal in cohort:
        dates = [deal.sent_on] + [
            _on_or_before(d, close) for d in (deal.accepted_on, deal.invoiced_on, deal.paid_on)
        ]
        last = 0
        for i, day in enumerate(dates):
            if day is None:
                break
            reached[STAGES[i]] += 1
            last = i
        names = list(gaps)
        for i in range(last):
            a, b = dates[i], dates[i + 1]
            assert a is not None and b is not None
            gaps[names[i]].append((b - a).days)
        if last == 3:
            paid, sent = dates[3], dates[0]
            assert paid is not None and sent is not None
            gaps["sent→paid"].append((paid - sent).days)
            continue
        if _on_or_before(deal.dropped_on, close) is not None and last == 0:
            dropped += 1
            continue
        stuck[STAGES[last]].append(deal)
    return Conversion(
        reached=reached,
        steps={name: Durations.of([Decimal(n) for n in days]) for name, days in gaps.items()},
        stuck=tuple(
            Stuck(
                stage,
                len(items),
                sum((rates.convert(d.amount, d.sent_on) for d in items), rates.zero()).round(),
                tuple(items),
            )
            for stage, items in stuck.items()
        ),
        dropped=dropped,
    )
