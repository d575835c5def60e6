"""Benchmarks of the pure billing engine (``q2c bench billing-engine``, ``q2c bench usage-engine``).

They time the engine alone — the compute part of a bill run and of usage rating, with no database
— so its share of the end-to-end targets of issues 10 and 11 (100,000 subscriptions billed in
30 s; 1,000,000 events rated in 20 s) is known and watched. Data is generated first (setup,
reported apart); results are checked against an independent recomputation written here without
the engine.

Must not import Django or any q2c package other than ``q2c.core`` and this engine; registered in
``q2c/wiring.py``.
"""

from __future__ import annotations

import random
import resource
import time
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from q2c.billing.engine.proration import LineTerms, ProrationSettings, amend
from q2c.billing.engine.rating import rate
from q2c.billing.engine.schedule import RecurringCharge, Timing, billing_period_at, due_items
from q2c.billing.engine.usage import Aggregation, Metric, UsageEvent, UsagePeriods, aggregate
from q2c.core.money import Money, currency_exponent
from q2c.core.periods import Period


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def bench_billing_engine(subscriptions: int = 100_000, seed: int = 7) -> dict[str, Any]:
    """Due items, amounts and amendments for one bill date over ``subscriptions`` schedules.

    Mix as issue 10's benchmark: 70 % monthly, 20 % yearly, 10 % quarterly, in advance, on the
    1st (anchored to their start); 5 % amended mid-period (+1 to +5 seats, one delta line). The bill date is 2027-03-01
    and each schedule resumes from its billed-through mark, as a bill run does.
    """
    rng = random.Random(seed)
    t0 = time.perf_counter()
    as_of = date(2027, 3, 1)
    work = []
    expected = Decimal(0)
    for sid in range(1, subscriptions + 1):
        r = rng.random()
        every = 1 if r < 0.7 else 12 if r < 0.9 else 3
        # Anchored to their start, always a 1st, so every schedule renews on 2027-03-01 for a whole period.
        start = date(2026, rng.randint(3, 12), 1) if every != 1 else date(2026, rng.randint(1, 12), 1)
        if every == 12:
            start = date(2026, 3, 1)  # renews on the bill date
        if every == 3:
            start = date(2026, 12, 1)  # quarter [2027-03-01, 2027-06-01) due
        charge = RecurringCharge(sid, start, None, every_months=every, timing=Timing.IN_ADVANCE)
        quantity = Decimal(rng.randint(1, 50))
        price = Decimal(rng.randint(500, 9999)) / 100
        amended = rng.random() < 0.05
        work.append((charge, quantity, price, amended))
        # Independent expectation: every schedule bills exactly one whole period on 2027-03-01.
        expected += _cents(quantity * price)
    setup = time.perf_counter() - t0

    settings = ProrationSettings()
    t1 = time.perf_counter()
    exponent = currency_exponent("EUR")
    total_minor = 0
    items = amendments = 0
    proration_total = Money.zero("EUR")
    for charge, quantity, price, amended in work:
        for item in due_items(charge, as_of, resume_from=as_of):
            # Amounts stay integer minor units until written (MoneyField stores BIGINT cents).
            total_minor += item.amount_minor(quantity * price, exponent)
            items += 1
        if amended:
            period, basis = billing_period_at(charge, date(2027, 3, 15))
            result = amend(
                schedule_id=charge.schedule_id,
                currency="EUR",
                period=period,
                effective=date(2027, 3, 15),
                old=LineTerms(quantity, price),
                new=LineTerms(quantity + 3, price),
                settings=settings,
                basis=basis,
            )
            for line in result.lines:
                proration_total = proration_total + line.amount
            amendments += 1
    seconds = time.perf_counter() - t1
    total = Money.from_minor(total_minor, "EUR")
    if total.amount != expected or items != subscriptions:
        raise AssertionError(f"billing engine total {total} ≠ independent {expected} EUR ({items} items)")
    return {
        "subscriptions": subscriptions,
        "items": items,
        "amendments": amendments,
        "total": str(total.amount),
        "proration_total": str(proration_total.amount),
        "seconds": round(seconds, 3),
        "items_per_s": round(items / seconds) if seconds else None,
        "setup_s": round(setup, 3),
        "peak_rss_mb": _peak_rss_mb(),
        "checked": True,
    }


def _graduated_api_price(quantity: Decimal) -> Money:
    # Northwind's API tiers, written out here (not the catalog's engine): 0–100,000 free,
    # 100,001–1,000,000 at 0.002, above at 0.001.
    first = min(quantity, Decimal(100_000))
    second = min(max(quantity - 100_000, Decimal(0)), Decimal(900_000))
    third = max(quantity - 1_000_000, Decimal(0))
    return Money(first * 0 + second * Decimal("0.002") + third * Decimal("0.001"), "EUR")


def bench_usage_engine(events: int = 1_000_000, subscriptions: int = 200, seed: int = 11) -> dict[str, Any]:
    """Aggregate ``events`` (1 % re-sent duplicates, a region dimension) and rate every aggregate.

    Events fall in March 2027 in Europe/Berlin time (a few on the local month boundaries); the
    independent check sums quantities per subscription while generating them.
    """
    rng = random.Random(seed)
    t0 = time.perf_counter()
    march = datetime(2027, 2, 28, 23, 0, tzinfo=UTC)  # 2027-03-01 00:00 in Berlin (CET)
    span = int((datetime(2027, 3, 31, 22, 0, tzinfo=UTC) - march).total_seconds())  # to Apr 1 00:00 CEST
    regions = ("eu", "us", "apac")
    quantities = [Decimal(q) for q in range(1, 101)]
    expected: dict[int, Decimal] = {}
    batch: list[UsageEvent] = []
    duplicates = 0
    for n in range(events):
        if batch and rng.random() < 0.01:
            batch.append(batch[rng.randrange(len(batch))])  # a re-sent event
            duplicates += 1
            continue
        sub = rng.randint(1, subscriptions)
        q = quantities[rng.randrange(100)]
        ts = march + timedelta(seconds=rng.randrange(span))
        batch.append(UsageEvent(f"e{n}", sub, "api_calls", q, ts, {"region": regions[rng.randrange(3)]}))
        expected[sub] = expected.get(sub, Decimal(0)) + q
    periods = UsagePeriods.calendar_months("Europe/Berlin", date(2027, 1, 1), date(2027, 5, 1))
    metrics = {"api_calls": Metric("api_calls", Aggregation.SUM, group_by=("region",))}
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    result = aggregate(batch, metrics, periods)
    aggregate_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    per_sub: dict[int, Decimal] = {}
    for agg in result.aggregates:
        per_sub[agg.subscription_id] = per_sub.get(agg.subscription_id, Decimal(0)) + agg.value
    rated = [rate(q, _graduated_api_price) for q in per_sub.values()]
    rating_s = time.perf_counter() - t2
    if per_sub != expected or len(result.duplicates) != duplicates or result.rejected:
        raise AssertionError("usage aggregation differs from the independent sums")
    if any(a.period != Period(date(2027, 3, 1), date(2027, 4, 1)) for a in result.aggregates):
        raise AssertionError("an event landed outside March (Europe/Berlin)")
    total = sum((r.amount for r in rated), Money.zero("EUR"))
    return {
        "events": len(batch),
        "duplicates_ignored": len(result.duplicates),
        "aggregates": len(result.aggregates),
        "aggregate_seconds": round(aggregate_s, 3),
        "events_per_s": round(len(batch) / aggregate_s) if aggregate_s else None,
        "rating_seconds": round(rating_s, 3),
        "rated_total": str(total.amount),
        "setup_s": round(setup, 3),
        "peak_rss_mb": _peak_rss_mb(),
        "checked": True,
    }


# --- q2c bench registration (called from q2c/wiring.py) -------------------------------------------


def add_billing_arguments(parser: Any) -> None:
    parser.add_argument(
        "--subscriptions", type=int, default=100_000, help="number of schedules (default 100,000)"
    )


def run_billing(**opts: Any) -> dict[str, Any]:
    return bench_billing_engine(int(opts.get("subscriptions") or 100_000))


def add_usage_arguments(parser: Any) -> None:
    parser.add_argument("--events", type=int, default=1_000_000, help="number of events (default 1,000,000)")
    parser.add_argument("--subscriptions", type=int, default=200, help="subscriptions they spread over")


def run_usage(**opts: Any) -> dict[str, Any]:
    return bench_usage_engine(int(opts.get("events") or 1_000_000), int(opts.get("subscriptions") or 200))
