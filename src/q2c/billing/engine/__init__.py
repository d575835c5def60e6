"""The pure billing engine: schedules, proration, usage aggregation and rating glue.

Plain Python over plain dataclasses, dates, Decimals and ints — no Django, no ORM, nothing from
q2c but ``q2c.core``. The bill run (``q2c.billing.services``) loads contracts, usage and prices in
bulk, calls these functions, and writes what they return. Formulas and settings: docs/billing.md.

Public API
==========

Schedules (:mod:`~q2c.billing.engine.schedule`)
    ``RecurringCharge(schedule_id, start, end=None, every_months=1, timing=Timing.IN_ADVANCE,
    anchor_day=None, anchor_month=None, prorate_partial=True, stub_basis=StubBasis.BILLING_PERIOD)``,
    ``OneTimeCharge(schedule_id, trigger, on=None)``, ``MilestoneCharge(schedule_id, milestones)``
    with ``Milestone(name, percent, done_on=None)``, ``TriggerDates(contract_start, activated_on,
    delivered_on)``.

    ``due_items(charge, as_of, *, resume_from=None, facts=None) -> list[ScheduledItem]`` — the
    items billed on or before ``as_of``; ``periods(charge, *, until=None)`` — every period of the
    term; ``billing_period_at(charge, day) -> (Period, basis_days)`` — what an amendment prorates.

    ``ScheduledItem``: ``period`` (half-open), ``bill_date``, ``share_to / share_of``, ``key``
    (``ItemKey(schedule_id, period_start, part)`` — the bill run's unique constraint) and
    ``amount(base: Money) -> Money``.

Proration (:mod:`~q2c.billing.engine.proration`)
    ``share_amount(base, numerator, denominator, *, rounding="half_up") -> Money`` — the one
    rounding point; ``prorate(base, part: Period, full: Period)``; ``prorate_seconds(base, part:
    TimeSpan, full: TimeSpan)``; ``split(base, full, cuts) -> [(Period, Money)]`` (largest
    remainder, sums exactly); ``amend(*, schedule_id, currency, period, effective, old, new,
    settings=ProrationSettings(), basis=None) -> AmendmentProration`` with ``LineTerms(quantity,
    unit_price)`` and ``ProrationSettings(mode, style, timing, rounding)``.

Usage (:mod:`~q2c.billing.engine.usage`)
    ``validate_batch(batch, *, metrics, subscriptions, now, tz="UTC", max_future=5 min,
    max_batch=10_000) -> (events, errors)``; ``aggregate(events, metrics, periods, *,
    invoiced=()) -> UsageResult`` with ``Metric(code, aggregation, property=None, group_by=())``,
    ``UsageEvent(id, subscription_id, metric, quantity, timestamp, properties)`` and
    ``UsagePeriods(tz, default, per_subscription)`` / ``UsagePeriods.calendar_months(tz, start, end)``.

Rating (:mod:`~q2c.billing.engine.rating`)
    ``rate(quantity, price, *, included=0) -> RatedUsage``; ``rate_adjustment(billed_quantity,
    quantity, price, *, included=0) -> Money``; ``commitment_true_up(charges, minimum) -> Money``;
    ``PriceModel`` — any callable ``Decimal -> Money``.
"""

from q2c.billing.engine.proration import (
    AmendmentProration,
    AmendmentStyle,
    InvoiceTiming,
    ItemKey,
    LineKind,
    LineTerms,
    ProrationLine,
    ProrationMode,
    ProrationSettings,
    TimeSpan,
    amend,
    prorate,
    prorate_seconds,
    share_amount,
    split,
)
from q2c.billing.engine.rating import PriceModel, RatedUsage, commitment_true_up, rate, rate_adjustment
from q2c.billing.engine.schedule import (
    ItemKind,
    Milestone,
    MilestoneCharge,
    OneTimeCharge,
    RecurringCharge,
    ScheduledItem,
    StubBasis,
    Timing,
    Trigger,
    TriggerDates,
    billing_period_at,
    due_items,
    periods,
)
from q2c.billing.engine.usage import (
    Aggregation,
    EventError,
    Metric,
    UsageAggregate,
    UsageEvent,
    UsagePeriods,
    UsageResult,
    aggregate,
    validate_batch,
)

__all__ = [
    "Aggregation",
    "AmendmentProration",
    "AmendmentStyle",
    "EventError",
    "InvoiceTiming",
    "ItemKey",
    "ItemKind",
    "LineKind",
    "LineTerms",
    "Metric",
    "Milestone",
    "MilestoneCharge",
    "OneTimeCharge",
    "PriceModel",
    "ProrationLine",
    "ProrationMode",
    "ProrationSettings",
    "RatedUsage",
    "RecurringCharge",
    "ScheduledItem",
    "StubBasis",
    "TimeSpan",
    "Timing",
    "Trigger",
    "TriggerDates",
    "UsageAggregate",
    "UsageEvent",
    "UsagePeriods",
    "UsageResult",
    "aggregate",
    "amend",
    "billing_period_at",
    "commitment_true_up",
    "due_items",
    "periods",
    "prorate",
    "prorate_seconds",
    "rate",
    "rate_adjustment",
    "share_amount",
    "split",
    "validate_batch",
]
