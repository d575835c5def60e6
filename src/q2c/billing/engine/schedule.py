"""Billing schedules: which service periods a charge bills, on which dates, for which share.

Owns the calendar of billing: from a charge description — one-time (on a date, on contract start,
on activation, on delivery), recurring (in advance or in arrears; every 1, 3, 6, 12 or N months;
billing day anchored to the contract start or to a calendar day; prorated first and last periods)
or milestones (a percentage of the price when marked done) — it produces scheduled items with a
half-open service period ``[start, end)``, a bill date, the share of the period price they are
worth (``share_to ÷ share_of``) and a stable key ``(schedule_id, period_start, part)``.

How periods are found. The boundaries of a recurring charge form a lattice: every ``N`` months
(counted from an anchor month) on the anchor day, clamped to the month's length with
``q2c.core.periods.add_months`` so that an anchor on the 31st gives Feb 28 (29), Mar 31, Apr 30 —
always computed from the anchor, never from the previous boundary, so a short month does not drag
later dates. The term is cut at the first boundary after its start (a prorated first period when
the start is not on the lattice) and at its end (a prorated last period). Finding the period of a
date is arithmetic on month numbers, so :func:`due_items` jumps straight to where a bill run
resumes: the cost of one call is the number of items it returns, not the age of the contract.

Deterministic: the same charge, facts and as-of date always give the same items in the same order.

Plain Python over plain dataclasses: must not import Django, the ORM, or any q2c package other
than ``q2c.core`` (and this engine's ``proration``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from math import lcm

from q2c.billing.engine.proration import (
    PART_MILESTONE_BASE,
    PART_PERIOD,
    ItemKey,
    share_minor,
)
from q2c.core.errors import ValidationError
from q2c.core.money import Money, Rounding, currency_exponent, to_decimal
from q2c.core.periods import Period, add_months

__all__ = [
    "FREQUENCY_MONTHS",
    "ItemKind",
    "Milestone",
    "MilestoneCharge",
    "OneTimeCharge",
    "RecurringCharge",
    "ScheduleError",
    "ScheduledItem",
    "StubBasis",
    "Timing",
    "Trigger",
    "TriggerDates",
    "billing_period_at",
    "due_items",
    "periods",
]

_DAY = timedelta(days=1)


class ScheduleError(ValidationError):
    default_code = "billing.schedule_invalid"


class Timing(StrEnum):
    #: Billed on the first day of the service period.
    IN_ADVANCE = "in_advance"
    #: Billed on the day after the service period (its half-open end).
    IN_ARREARS = "in_arrears"


class Trigger(StrEnum):
    """What makes a one-time charge due."""

    DATE = "date"
    CONTRACT_START = "contract_start"
    ACTIVATION = "activation"
    DELIVERY = "delivery"


class StubBasis(StrEnum):
    """What a prorated first period is a share of."""

    #: The billing period that contains it: ``[2027-01-15, 2027-02-01)`` is 17/31 of January's
    #: ``[2027-01-01, 2027-02-01)``. The q2c default.
    BILLING_PERIOD = "billing_period"
    #: One interval forward from the start, as Stripe does for backdated starts:
    #: ``[2027-01-30, 2027-02-01)`` is 2/29 of ``[2027-01-30, 2027-02-28)``.
    FORWARD_INTERVAL = "forward_interval"


class ItemKind(StrEnum):
    RECURRING = "recurring"
    ONE_TIME = "one_time"
    MILESTONE = "milestone"


#: The named frequencies in months; any other positive N is "every N months".
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


@dataclass(frozen=True, slots=True)
class ScheduledItem:
    """One billable item: ``amount = round(base × share_to ÷ share_of) − round(base × share_from ÷ share_of)``.

    For periods and one-time charges ``share_from`` is 0, so the amount is ``base`` prorated by
    ``share_to ÷ share_of`` (days in the service period ÷ days in the billing period) and rounded
    once. For milestones the shares are cumulative percentages, so the milestones of one charge
    always add up to exactly ``round(base × total %)``, in whatever order they are done.
    """

    schedule_id: int
    kind: ItemKind
    period: Period
    bill_date: date
    share_from: int
    share_to: int
    share_of: int
    part: int = PART_PERIOD

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.schedule_id, self.period.start, self.part)

    @property
    def prorated(self) -> bool:
        return self.share_to - self.share_from != self.share_of

    @property
    def share(self) -> Fraction:
        return Fraction(self.share_to - self.share_from, self.share_of)

    def amount(self, base: Money, *, rounding: Rounding = "half_up") -> Money:
        """This item's amount of ``base`` (the price of one full billing period, or of the charge)."""
        minor = self.amount_minor(base.amount, currency_exponent(base.currency), rounding=rounding)
        return Money.from_minor(minor, base.currency)

    def amount_minor(self, base: Decimal, exponent: int, *, rounding: Rounding = "half_up") -> int:
        """The same in integer minor units — the bill run's hot path (stored as BIGINT anyway)."""
        minor = share_minor(base, self.share_to, self.share_of, exponent, rounding)
        if self.share_from:
            minor -= share_minor(base, self.share_from, self.share_of, exponent, rounding)
        return minor


@dataclass(frozen=True, slots=True)
class TriggerDates:
    """Facts a one-time charge may wait for; ``None`` while they have not happened."""

    contract_start: date | None = None
    activated_on: date | None = None
    delivered_on: date | None = None


def _check_id(schedule_id: object) -> None:
    if not isinstance(schedule_id, int) or isinstance(schedule_id, bool):
        raise ScheduleError("schedule_id must be an integer", field="schedule_id")


def _check_date(value: object, field: str) -> None:
    # ``datetime`` is a ``date`` too; a timestamp where a business date belongs is a bug upstream.
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise ScheduleError(f"{field} must be a date", field=field)


@dataclass(frozen=True, slots=True)
class OneTimeCharge:
    """Billed once, in full, on its trigger's date (``on`` for ``Trigger.DATE``)."""

    schedule_id: int
    trigger: Trigger
    on: date | None = None

    def __post_init__(self) -> None:
        _check_id(self.schedule_id)
        try:
            object.__setattr__(self, "trigger", Trigger(self.trigger))
        except ValueError:
            raise ScheduleError(f"unknown trigger '{self.trigger}'", field="trigger") from None
        if self.trigger is Trigger.DATE:
            if self.on is None:
                raise ScheduleError("a one-time charge on a date needs the date", field="on")
            _check_date(self.on, "on")
        elif self.on is not None:
            raise ScheduleError("only a charge on a date takes 'on'", field="on")


@dataclass(frozen=True, slots=True)
class Milestone:
    name: str
    percent: Decimal
    done_on: date | None = None


@dataclass(frozen=True, slots=True)
class MilestoneCharge:
    """A price billed in parts: each milestone's percentage when it is marked done."""

    schedule_id: int
    milestones: tuple[Milestone, ...]

    def __post_init__(self) -> None:
        _check_id(self.schedule_id)
        if not self.milestones:
            raise ScheduleError("a milestone schedule needs at least one milestone", field="milestones")
        total = Decimal(0)
        for m in self.milestones:
            pct = to_decimal(m.percent, field="percent")
            if pct <= 0:
                raise ScheduleError(f"milestone '{m.name}' must have a positive percentage", field="percent")
            if m.done_on is not None:
                _check_date(m.done_on, "done_on")
            total += pct
        if total > 100:
            raise ScheduleError(f"milestones add up to {total} %, more than 100 %", field="milestones")


@dataclass(frozen=True, slots=True)
class RecurringCharge:
    """A price per billing period over the term ``[start, end)`` (``end=None``: until cancelled).

    ``every_months``: 1 monthly, 3 quarterly, 6 half-yearly, 12 yearly, any N ≥ 1.
    ``anchor_day``: ``None`` anchors billing to the start (its day of month); 1–31 anchors it to
    that calendar day (31 = month end). ``anchor_month`` (1–12) phases multi-month intervals: with
    a calendar anchor it defaults to January (quarters start Jan/Apr/Jul/Oct, years on Jan 1).
    ``prorate_partial=False`` bills a partial first or last period as a whole one.
    """

    schedule_id: int
    start: date
    end: date | None = None
    every_months: int = 1
    timing: Timing = Timing.IN_ADVANCE
    anchor_day: int | None = None
    anchor_month: int | None = None
    prorate_partial: bool = True
    stub_basis: StubBasis = StubBasis.BILLING_PERIOD

    def __post_init__(self) -> None:
        _check_id(self.schedule_id)
        _check_date(self.start, "start")
        if self.end is not None:
            _check_date(self.end, "end")
            if self.end <= self.start:
                raise ScheduleError(
                    f"the term ends ({self.end}) on or before it starts ({self.start})", field="end"
                )
        if (
            not isinstance(self.every_months, int)
            or isinstance(self.every_months, bool)
            or self.every_months < 1
        ):
            raise ScheduleError("every_months must be a whole number of months ≥ 1", field="every_months")
        if self.anchor_day is not None and (
            not isinstance(self.anchor_day, int) or not 1 <= self.anchor_day <= 31
        ):
            raise ScheduleError("anchor_day must be a day of month 1–31", field="anchor_day")
        if self.anchor_month is not None and (
            not isinstance(self.anchor_month, int) or not 1 <= self.anchor_month <= 12
        ):
            raise ScheduleError("anchor_month must be a month 1–12", field="anchor_month")
        try:
            object.__setattr__(self, "timing", Timing(self.timing))
            object.__setattr__(self, "stub_basis", StubBasis(self.stub_basis))
        except ValueError as exc:
            raise ScheduleError(str(exc), field="timing") from None

    # --- the lattice of boundaries ------------------------------------------------------------
    def _day(self) -> int:
        return self.anchor_day if self.anchor_day is not None else self.start.day

    def _phase(self) -> int:
        """Month numbers (year × 12 + month − 1) ``m`` with ``m % N == phase`` carry a boundary."""
        if self.anchor_day is None and self.anchor_month is None:
            month = self.start.month
        else:
            month = self.anchor_month or 1
        return (self.start.year * 12 + month - 1) % self.every_months

    def _boundary(self, month_number: int) -> date:
        return _boundary(month_number, self._day())

    def _lattice_at(self, day: date) -> int:
        """The month number of the last boundary on or before ``day``."""
        n = self.every_months
        index = day.year * 12 + day.month - 1
        k = index - (index - self._phase()) % n
        if self._boundary(k) > day:
            k -= n
        return k


@lru_cache(maxsize=8192)
def _boundary(month_number: int, day: int) -> date:
    """The boundary in month ``month_number`` (year × 12 + month − 1) for anchor ``day``.

    Cached: a bill run over many schedules asks for the same few (month, day) pairs again and again.
    """
    year, month0 = divmod(month_number, 12)
    return add_months(date(year, month0 + 1, 1), 0, anchor_day=day)


def _items_from(charge: RecurringCharge, day: date, stop: date | None = None) -> Iterator[ScheduledItem]:
    """Recurring items from the billing period containing ``day`` (clamped to the term) onwards,
    up to the last one billed on or before ``stop``."""
    start, end, n = charge.start, charge.end, charge.every_months
    if day < start:
        day = start
    k = charge._lattice_at(day)
    lo = charge._boundary(k)
    in_advance = charge.timing is Timing.IN_ADVANCE
    prorate = charge.prorate_partial
    sid = charge.schedule_id
    while end is None or lo < end:
        hi = charge._boundary(k + n)
        p_start = start if lo < start else lo
        p_end = end if end is not None and hi > end else hi
        if stop is not None and (p_start if in_advance else p_end) > stop:
            return
        if p_end > p_start:
            days = (p_end - p_start).days
            if not prorate:
                share_to = share_of = 1
            elif p_start == start and lo < start and charge.stub_basis is StubBasis.FORWARD_INTERVAL:
                share_to, share_of = days, (add_months(start, n) - start).days
            else:
                share_to, share_of = days, (hi - lo).days
            yield ScheduledItem(
                schedule_id=sid,
                kind=ItemKind.RECURRING,
                period=Period(p_start, p_end),
                bill_date=p_start if in_advance else p_end,
                share_from=0,
                share_to=share_to,
                share_of=share_of,
            )
        k += n
        lo = hi


def periods(charge: RecurringCharge, *, until: date | None = None) -> list[ScheduledItem]:
    """Every billing period of the term in order (up to ``until``, required for an open-ended term)."""
    limit = charge.end if until is None else until if charge.end is None else min(until, charge.end)
    if limit is None:
        raise ScheduleError("an open-ended schedule needs 'until'", field="until")
    out: list[ScheduledItem] = []
    for item in _items_from(charge, charge.start):
        if item.period.start >= limit:
            break
        out.append(item)
    return out


def billing_period_at(charge: RecurringCharge, day: date) -> tuple[Period, int]:
    """The service period billed for ``day`` (cut to the term) and the days it is priced against.

    What an amendment on ``day`` prorates against (pass the second value as ``basis``).
    """
    _check_date(day, "day")
    if day < charge.start or (charge.end is not None and day >= charge.end):
        raise ScheduleError(f"{day} is outside the term of schedule {charge.schedule_id}", field="day")
    item = next(_items_from(charge, day))
    return item.period, item.share_of


def _one_time_date(charge: OneTimeCharge, facts: TriggerDates) -> date | None:
    if charge.trigger is Trigger.DATE:
        return charge.on
    if charge.trigger is Trigger.CONTRACT_START:
        return facts.contract_start
    if charge.trigger is Trigger.ACTIVATION:
        return facts.activated_on
    return facts.delivered_on


def _milestone_items(charge: MilestoneCharge, as_of: date) -> list[ScheduledItem]:
    # Exact cumulative percentages over one common denominator: milestone k is worth
    # round(base × cum_k) − round(base × cum_{k−1}), so all of them sum to round(base × total).
    cumulative = [Fraction(0)]
    for m in charge.milestones:
        cumulative.append(cumulative[-1] + Fraction(to_decimal(m.percent, field="percent")) / 100)
    denominator = lcm(*(c.denominator for c in cumulative))
    out = []
    for index, m in enumerate(charge.milestones):
        if m.done_on is None or m.done_on > as_of:
            continue
        out.append(
            ScheduledItem(
                schedule_id=charge.schedule_id,
                kind=ItemKind.MILESTONE,
                period=Period(m.done_on, m.done_on + _DAY),
                bill_date=m.done_on,
                share_from=int(cumulative[index] * denominator),
                share_to=int(cumulative[index + 1] * denominator),
                share_of=denominator,
                part=PART_MILESTONE_BASE + index + 1,
            )
        )
    out.sort(key=lambda i: (i.bill_date, i.part))
    return out


def due_items(
    charge: RecurringCharge | OneTimeCharge | MilestoneCharge,
    as_of: date,
    *,
    resume_from: date | None = None,
    facts: TriggerDates | None = None,
) -> list[ScheduledItem]:
    """The items of ``charge`` whose bill date is on or before ``as_of``, in bill-date order.

    ``resume_from`` (recurring charges): the schedule's billed-through mark — only periods that
    start on or after it are returned, so a bill run that stores ``items[-1].period.end`` after
    billing does no work for periods already billed. Whatever it passes, a bill run stays
    idempotent through the items' keys (unique ``(schedule_id, period_start, part)``).

    One-time charges give one item with the one-day service period ``[d, d + 1)`` once their
    trigger date ``d`` (from ``facts``) is known and not after ``as_of``; milestones give one item
    per milestone done on or before ``as_of``. Both are cheap, so they always return every due
    item and rely on the key — a fact recorded late (a delivery entered after the next run) is
    still billed.
    """
    _check_date(as_of, "as_of")
    if isinstance(charge, RecurringCharge):
        if resume_from is not None:
            _check_date(resume_from, "resume_from")
        begin = charge.start if resume_from is None else max(resume_from, charge.start)
        out: list[ScheduledItem] = []
        for item in _items_from(charge, begin, as_of):
            if item.period.start >= begin:
                out.append(item)
        return out
    if isinstance(charge, OneTimeCharge):
        when = _one_time_date(charge, facts or TriggerDates())
        if when is None or when > as_of:
            return []
        return [
            ScheduledItem(
                schedule_id=charge.schedule_id,
                kind=ItemKind.ONE_TIME,
                period=Period(when, when + _DAY),
                bill_date=when,
                share_from=0,
                share_to=1,
                share_of=1,
            )
        ]
    if isinstance(charge, MilestoneCharge):
        return _milestone_items(charge, as_of)
    raise ScheduleError(f"unknown charge type {type(charge).__name__}", field="charge")
