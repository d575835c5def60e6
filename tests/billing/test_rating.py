"""Rating glue (issue 11 §3): allowances, minimum commitments, overage and late-usage adjustments
over a price model passed in as a function.

The catalog's graduated price model (``q2c.catalog.pricing``) was not committed when this was
written, so the tiers are priced here by a small graduated function written for this test file
only — the engine takes any ``quantity → Money`` function."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from q2c.billing.engine.rating import RatingError, commitment_true_up, rate, rate_adjustment
from q2c.billing.engine.usage import Aggregation, Metric, UsageEvent, UsagePeriods, aggregate
from q2c.core.money import Money


def eur(x: str) -> Money:
    return Money(Decimal(x), "EUR")


def graduated(tiers, currency="EUR"):
    """Each tier prices the units within it: ``tiers`` = [(upper bound or None, unit price)]."""

    def price(quantity: Decimal) -> Money:
        total, lower = Decimal(0), Decimal(0)
        for upper, unit in tiers:
            if quantity <= lower:
                break
            top = quantity if upper is None else min(quantity, Decimal(upper))
            total += (top - lower) * Decimal(unit)
            lower = top
        return Money(total, currency)

    return price


# Northwind's API calls (shared/scenarios/northwind.md): 0–100,000 at 0.00; 100,001–1,000,000 at
# 0.002; above at 0.001.
API = graduated([(100_000, "0.00"), (1_000_000, "0.002"), (None, "0.001")])


def test_northwind_march_api_usage_rates_500():
    # 350,000 calls = 100,000 × 0.00 + 250,000 × 0.002 = 500.00 (INV-2027-000005).
    assert rate(Decimal(350_000), API).amount == eur("500.00")


def test_northwind_april_api_usage_rates_640():
    # 420,000 calls = 320,000 × 0.002 = 640.00 (accrued at 2027-04-30).
    assert rate(Decimal(420_000), API).amount == eur("640.00")


def test_northwind_usage_from_events_to_amount():
    # March: 35 events of 10,000 calls in Berlin time, one of them at 00:30 on 1 April local
    # (2027-03-31 22:30 UTC) which belongs to April; April: 42 events of 10,000.
    march = [
        UsageEvent(
            f"m{i}",
            1,
            "api",
            Decimal(10_000),
            datetime(2027, 3, 1, 8, tzinfo=UTC) + timedelta(hours=20 * i),
            {},
        )
        for i in range(35)
    ]
    april = [
        UsageEvent(
            f"a{i}",
            1,
            "api",
            Decimal(10_000),
            datetime(2027, 3, 31, 22, 30, tzinfo=UTC) + timedelta(hours=16 * i),
            {},
        )
        for i in range(42)
    ]
    result = aggregate(
        march + april,
        {"api": Metric("api", Aggregation.SUM)},
        UsagePeriods.calendar_months("Europe/Berlin", date(2027, 2, 1), date(2027, 5, 1)),
    )
    assert [(a.period.start, a.value) for a in result.aggregates] == [
        (date(2027, 3, 1), Decimal(350_000)),
        (date(2027, 4, 1), Decimal(420_000)),
    ]
    assert [rate(a.value, API).amount for a in result.aggregates] == [eur("500.00"), eur("640.00")]


def test_tiers_above_a_million():
    # 1,200,000 = 900,000 × 0.002 + 200,000 × 0.001 = 1,800 + 200 = 2,000.00.
    assert rate(Decimal(1_200_000), API).amount == eur("2000.00")
    assert rate(Decimal(100_000), API).amount == eur("0.00")


def test_an_allowance_is_used_before_the_price_applies():
    per_unit = graduated([(None, "0.01")])
    rated = rate(Decimal(120_000), per_unit, included=Decimal(50_000))
    assert (rated.included, rated.billable, rated.amount) == (Decimal(50_000), Decimal(70_000), eur("700.00"))
    under = rate(Decimal(30_000), per_unit, included=Decimal(50_000))
    assert (under.included, under.billable, under.amount) == (Decimal(30_000), Decimal(0), eur("0.00"))


def test_the_rated_amount_is_rounded_once_after_the_model():
    # 1,234 units at 0.0035 = 4.319 → 4.32 (not per unit).
    assert rate(Decimal(1234), graduated([(None, "0.0035")])).amount == eur("4.32")


def test_a_minimum_commitment_is_trued_up():
    # Usage 300.00 + 150.00 against a 1,000.00 minimum → a 550.00 true-up; met → nothing.
    assert commitment_true_up([eur("300.00"), eur("150.00")], eur("1000.00")) == eur("550.00")
    assert commitment_true_up([eur("1200.00")], eur("1000.00")) == eur("0.00")
    assert commitment_true_up([], eur("1000.00")) == eur("1000.00")


def test_late_usage_is_billed_as_the_rated_difference():
    # Billed 350,000 (500.00); 10,000 late calls → 360,000 = 520.00: adjustment 20.00.
    assert rate_adjustment(Decimal(350_000), Decimal(360_000), API) == eur("20.00")
    # Crossing into a priced tier: 90,000 billed (0.00), now 110,000 → 10,000 × 0.002 = 20.00.
    assert rate_adjustment(Decimal(90_000), Decimal(110_000), API) == eur("20.00")


def test_a_model_returning_a_breakdown_passes_it_through():
    def with_tiers(q: Decimal):
        return API(q), (("tier 1", Decimal(100_000), "0.00"), ("tier 2", q - 100_000, "0.002"))

    rated = rate(Decimal(350_000), with_tiers)
    assert rated.amount == eur("500.00")
    assert rated.breakdown[1] == ("tier 2", Decimal(250_000), "0.002")


def test_bad_rating_input_is_refused():
    with pytest.raises(RatingError):
        rate(Decimal(-1), API)
    with pytest.raises(RatingError):
        rate(Decimal(1), API, included=Decimal(-5))
    with pytest.raises(RatingError):
        rate(Decimal(1), lambda q: q)  # a Decimal is not Money
    with pytest.raises(TypeError):
        rate(1.5, API)  # type: ignore[arg-type]
    with pytest.raises(RatingError):
        commitment_true_up([], eur("-1.00"))
