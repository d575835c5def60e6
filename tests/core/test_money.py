"""Money: exact, currency-checked, rounded only when asked (DESIGN.md, Money)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.core.money import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidCurrency,
    Money,
    allocate,
    allocate_minor,
    currency_exponent,
    money_sum,
)


def eur(x: str) -> Money:
    return Money(Decimal(x), "EUR")


def test_floats_are_refused_on_construction_and_in_arithmetic():
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        eur("1") * 1.5
    with pytest.raises(TypeError):
        eur("1") + 0.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        eur("1") / 2.0


def test_unknown_or_lower_case_currency_codes_are_refused():
    for code in ("EURO", "eur", "ZZZ", "", None):
        with pytest.raises(InvalidCurrency) as err:
            Money(1, code)  # type: ignore[arg-type]
        assert err.value.code == "money.invalid_currency"


def test_iso_4217_exponents():
    # ISO 4217 minor units: EUR 2, JPY 0, KWD 3, BHD 3, CLP 0.
    assert [currency_exponent(c) for c in ("EUR", "JPY", "KWD", "BHD", "CLP")] == [2, 0, 3, 3, 0]


def test_mixing_currencies_raises():
    with pytest.raises(CurrencyMismatch):
        eur("1") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = eur("1") < Money(1, "USD")


def test_amounts_beyond_fifteen_integer_digits_are_refused():
    Money("999999999999999.99", "EUR")
    with pytest.raises(InvalidAmount):
        Money("1000000000000000", "EUR")


def test_exact_refuses_more_decimals_than_the_currency_allows():
    assert Money.exact("10.50", "EUR").amount == Decimal("10.50")
    with pytest.raises(InvalidAmount) as err:
        Money.exact("10.505", "EUR")
    assert err.value.code == "money.too_many_decimals"
    with pytest.raises(InvalidAmount):
        Money.exact("1.5", "JPY")


def test_round_is_half_up_by_default_and_half_even_on_request():
    assert eur("2.345").round() == eur("2.35")
    assert eur("2.345").round("half_even") == eur("2.34")
    assert eur("-2.345").round() == eur("-2.35")
    assert Money("2.5", "JPY").round() == Money(3, "JPY")
    assert Money("0.0005", "KWD").round() == Money("0.001", "KWD")


def test_sum_works_and_arithmetic_is_exact():
    assert sum([eur("0.10")] * 3) == eur("0.30")
    assert money_sum([], "EUR") == eur("0")
    assert eur("25.50") * 50 == eur("1275.00")


def test_minor_units_refuse_unrounded_amounts():
    assert eur("19.99").minor_units() == 1999
    assert Money.from_minor(1999, "EUR") == eur("19.99")
    with pytest.raises(InvalidAmount):
        eur("0.005").minor_units()


def test_allocate_splits_by_largest_remainder():
    # 100.00 in three equal parts: 33.34, 33.33, 33.33 (the first part takes the tie).
    assert allocate(eur("100.00"), [1, 1, 1]) == [eur("33.34"), eur("33.33"), eur("33.33")]
    # Northwind C-1 (shared/scenarios/northwind.md step 3): 24,300.00 by SSP 18,000 / 4,000 / 4,000.
    assert allocate(eur("24300.00"), [18000, 4000, 4000]) == [eur("16823.08"), eur("3738.46"), eur("3738.46")]
    assert allocate(eur("-0.05"), [1, 1]) == [eur("-0.03"), eur("-0.02")]


def test_allocate_refuses_bad_weights():
    with pytest.raises(InvalidAmount):
        allocate_minor(100, [])
    with pytest.raises(InvalidAmount):
        allocate_minor(100, [0, 0])
    with pytest.raises(InvalidAmount):
        allocate_minor(100, [1, -1])


amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False, allow_infinity=False
)
weights = st.lists(
    st.decimals(min_value=0, max_value=Decimal("1e9"), places=4, allow_nan=False), min_size=1, max_size=12
).filter(lambda ws: sum(ws) > 0)


@given(amounts, weights)
def test_allocated_parts_always_sum_to_the_whole(total, ws):
    parts = allocate(Money(total, "EUR"), ws)
    assert sum(parts) == Money(total, "EUR")
    assert len(parts) == len(ws)


@given(st.integers(min_value=0, max_value=10**15), weights)
def test_each_part_is_within_one_unit_of_its_exact_share(total, ws):
    parts = allocate_minor(total, ws)
    s = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        exact = Decimal(total) * w / s
        assert abs(Decimal(part) - exact) < 1


@given(amounts, amounts)
def test_addition_is_exact_and_commutative(a, b):
    assert Money(a, "EUR") + Money(b, "EUR") == Money(b, "EUR") + Money(a, "EUR")
    assert (Money(a, "EUR") + Money(b, "EUR")).amount == a + b


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False))
def test_rounding_moves_at_most_half_a_minor_unit(x):
    r = Money(x, "EUR").round()
    assert abs(r.amount - x) <= Decimal("0.005")
    assert r.is_rounded()
