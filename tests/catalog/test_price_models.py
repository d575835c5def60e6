"""Price models as pure functions: hand-worked amounts, tier table checks and properties.

Expected amounts are worked out by hand in the comments; the Northwind API tiers come from
../shared/scenarios/northwind.md (Setup table and timeline step 7).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.catalog.pricing import (
    MinorUnits,
    PriceModel,
    PriceModelKind,
    Tier,
    check_tiers,
    clamp,
    list_unit_price,
    rate,
    validate_model,
)
from q2c.core.errors import ValidationError
from q2c.core.money import Money

API_TIERS = (
    Tier(D(0), D(100000), D("0.00")),
    Tier(D(100000), D(1000000), D("0.002")),
    Tier(D(1000000), None, D("0.001")),
)


def model(kind: PriceModelKind, **kw) -> PriceModel:
    return PriceModel(kind, **kw)


def test_per_unit_multiplies_quantity_by_price():
    assert rate(model(PriceModelKind.PER_UNIT, price=D("30.00")), D(50)).amount == D("1500.00")


def test_flat_charges_its_price_whatever_the_quantity():
    flat = model(PriceModelKind.FLAT, price=D("99.00"))
    assert rate(flat, D(1)).amount == D("99.00")
    assert rate(flat, D(7)).amount == D("99.00")


def test_graduated_tiers_price_northwind_march_usage_at_500():
    # 350,000 calls: 100,000 × 0.00 + 250,000 × 0.002 = 500.00 (northwind.md, INV-2027-000005).
    rating = rate(model(PriceModelKind.TIERED, tiers=API_TIERS), D(350000))
    assert rating.amount == D("500.000")
    assert [(t.tier, t.units, t.amount) for t in rating.breakdown] == [
        (1, D(100000), D("0.00")),
        (2, D(250000), D("500.000")),
    ]


def test_graduated_tiers_price_northwind_april_usage_at_640():
    # 420,000 calls: 320,000 × 0.002 = 640.00 (northwind.md, timeline step 7).
    assert rate(model(PriceModelKind.TIERED, tiers=API_TIERS), D(420000)).amount == D("640.000")


def test_graduated_tiers_reach_the_open_last_tier():
    # 1,200,000 calls: 0 + 900,000 × 0.002 + 200,000 × 0.001 = 1,800 + 200 = 2,000.
    rating = rate(model(PriceModelKind.TIERED, tiers=API_TIERS), D(1200000))
    assert rating.amount == D("2000.000")
    assert len(rating.breakdown) == 3


def test_volume_prices_every_unit_at_the_tier_reached():
    tiers = (Tier(D(0), D(10), D("10.00")), Tier(D(10), D(100), D("8.00")), Tier(D(100), None, D("6.00")))
    volume = model(PriceModelKind.VOLUME, tiers=tiers)
    assert rate(volume, D(10)).amount == D("100.00")  # 10 × 10.00, the boundary stays in tier 1
    assert rate(volume, D(11)).amount == D("88.00")  # 11 × 8.00
    assert rate(volume, D(150)).amount == D("900.00")  # 150 × 6.00


def test_tier_flat_fees_are_charged_once_per_tier_reached():
    tiers = (Tier(D(0), D(10), D("1.00"), D("5.00")), Tier(D(10), None, D("0.50"), D("2.00")))
    # graduated, 12 units: (10 × 1.00 + 5.00) + (2 × 0.50 + 2.00) = 15.00 + 3.00 = 18.00
    assert rate(model(PriceModelKind.TIERED, tiers=tiers), D(12)).amount == D("18.00")
    # volume, 12 units: 12 × 0.50 + 2.00 = 8.00
    assert rate(model(PriceModelKind.VOLUME, tiers=tiers), D(12)).amount == D("8.00")


def test_package_counts_a_started_block_as_a_whole_block():
    package = model(PriceModelKind.PACKAGE, price=D("50.00"), block_size=D(100))
    assert rate(package, D(100)).amount == D("50.00")
    assert rate(package, D(101)).amount == D("100.00")  # two blocks
    assert rate(package, D(1)).amount == D("50.00")


def test_percent_takes_its_share_of_the_base():
    # support at 20 % of 1,500.00 of licences = 300.00
    support = model(PriceModelKind.PERCENT, percent=D(20))
    assert rate(support, D(1), base=D("1500.00")).amount == D("300.0000")


def test_percent_without_a_base_is_refused():
    with pytest.raises(ValidationError) as exc:
        rate(model(PriceModelKind.PERCENT, percent=D(20)), D(1))
    assert exc.value.code == "pricing.percent_base"


def test_negative_quantities_are_refused():
    with pytest.raises(ValidationError) as exc:
        rate(model(PriceModelKind.PER_UNIT, price=D(1)), D(-1))
    assert exc.value.code == "pricing.negative_quantity"


def test_minimum_and_maximum_bound_the_line():
    bounded = model(PriceModelKind.PER_UNIT, price=D(1), minimum=D("10.00"), maximum=D("100.00"))
    assert clamp(bounded, D("4.00")) == (D("10.00"), "minimum")
    assert clamp(bounded, D("400.00")) == (D("100.00"), "maximum")
    assert clamp(bounded, D("40.00")) == (D("40.00"), None)


def test_list_unit_price_is_the_headline_price_of_each_model():
    assert list_unit_price(model(PriceModelKind.PER_UNIT, price=D("30"))) == D("30")
    assert list_unit_price(model(PriceModelKind.PACKAGE, price=D("50"), block_size=D(100))) == D("0.5")
    assert list_unit_price(model(PriceModelKind.TIERED, tiers=API_TIERS)) == D("0.00")
    assert list_unit_price(model(PriceModelKind.TIERED, tiers=API_TIERS, list_unit_price=D("0.002"))) == D(
        "0.002"
    )


def test_contiguous_tiers_have_no_problems():
    assert check_tiers(API_TIERS) == []


def test_a_gap_between_tiers_is_named():
    tiers = (Tier(D(0), D(100), D(1)), Tier(D(150), None, D(1)))
    problems = check_tiers(tiers)
    assert [(p.code, p.position, p.field) for p in problems] == [("pricing.tier_gap", 1, "lower")]
    assert "gap" in problems[0].message


def test_overlapping_tiers_are_named():
    tiers = (Tier(D(0), D(100), D(1)), Tier(D(90), None, D(1)))
    assert [(p.code, p.position) for p in check_tiers(tiers)] == [("pricing.tier_overlap", 1)]


def test_a_first_tier_that_does_not_start_at_zero_is_a_gap():
    assert [p.code for p in check_tiers((Tier(D(1), None, D(1)),))] == ["pricing.tier_gap"]


def test_an_open_tier_before_the_last_is_an_overlap():
    tiers = (Tier(D(0), None, D(1)), Tier(D(10), None, D(1)))
    assert "pricing.tier_overlap" in [p.code for p in check_tiers(tiers)]


def test_validate_model_lists_every_problem_with_its_field():
    broken = model(
        PriceModelKind.TIERED,
        tiers=(Tier(D(0), D(10), D(1)), Tier(D(20), D(15), D(-1))),
        minimum=D(5),
        maximum=D(1),
    )
    with pytest.raises(ValidationError) as exc:
        validate_model(broken)
    fields = [d["field"] for d in exc.value.details]
    assert fields == ["tiers[1].lower", "tiers[1].upper", "tiers[1].unit_price", "minimum"]


# --- properties ----------------------------------------------------------------------------

prices = st.decimals(min_value=D("0.000"), max_value=D("1000"), places=3)
quantities = st.decimals(min_value=D(0), max_value=D(100000), places=0)


@st.composite
def descending_tables(draw):
    """Tier tables whose unit prices never rise (and no flat fees)."""
    widths = draw(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=5))
    first = draw(st.decimals(min_value=D("0.01"), max_value=D("100"), places=2))
    tiers = []
    lower = D(0)
    price = first
    for i, width in enumerate(widths):
        upper = None if i == len(widths) - 1 else lower + width
        tiers.append(Tier(lower, upper, price))
        price = price - draw(st.decimals(min_value=D(0), max_value=price, places=2))
        lower = upper if upper is not None else lower
    return tuple(tiers)


@given(descending_tables(), quantities)
def test_graduated_never_costs_more_than_every_unit_at_the_first_tier(tiers, quantity):
    graduated = rate(PriceModel(PriceModelKind.TIERED, tiers=tiers), quantity).amount
    assert graduated <= quantity * tiers[0].unit_price


@given(prices, quantities)
def test_volume_and_graduated_agree_on_a_single_tier(price, quantity):
    one = (Tier(D(0), None, price),)
    graduated = rate(PriceModel(PriceModelKind.TIERED, tiers=one), quantity).amount
    volume = rate(PriceModel(PriceModelKind.VOLUME, tiers=one), quantity).amount
    assert graduated == volume == quantity * price


@given(descending_tables(), quantities)
def test_graduated_breakdown_sums_to_the_amount_and_covers_every_unit(tiers, quantity):
    rating = rate(PriceModel(PriceModelKind.TIERED, tiers=tiers), quantity)
    assert sum((t.amount for t in rating.breakdown), D(0)) == rating.amount
    assert sum((t.units for t in rating.breakdown), D(0)) == quantity


@given(
    st.decimals(min_value=D("0.01"), max_value=D(1000), places=2),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=0, max_value=100000),
)
def test_package_charges_ceil_of_quantity_over_block_size(price, block, quantity):
    amount = rate(PriceModel(PriceModelKind.PACKAGE, price=price, block_size=D(block)), D(quantity)).amount
    started = -(-quantity // block)  # ceiling division on integers
    assert amount == started * price


@given(
    st.decimals(min_value=D("-99999999"), max_value=D("99999999"), places=6),
    st.sampled_from(["EUR", "JPY", "KWD", "USD"]),
    st.sampled_from(["half_up", "half_even"]),
)
def test_the_engine_rounds_exactly_like_money_round(value, currency, mode):
    assert MinorUnits(currency, mode)(value) == Money(value, currency).round(mode).amount
