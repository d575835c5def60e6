"""MRR, ARR, MRR movements, NRR, GRR and logo churn: a hand-worked story plus properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.analytics.metrics import (
    MrrRow,
    RangeReversed,
    RateTable,
    arr,
    months_in,
    mrr,
    mrr_movements,
    retention,
)
from q2c.core.errors import ValidationError
from q2c.core.periods import add_months
from tests.analytics.conftest import d, eur, usd

RATES = RateTable.fixed("EUR", {"USD": "0.9"})
A, B, C, D, E = 1, 2, 3, 4, 5

# Month by month (EUR):
#            Nov  Dec  Jan  Feb  Mar
#  A          -   100  120  120  120    expansion +20 in Jan
#  B          -   200  200  150  150    contraction −50 in Feb
#  C          -    50   50    0    -    churn −50 in Feb
#  D          -    -    80   80    0    new +80 in Jan, churn −80 in Mar
#  E         30    0    -    40   40    had MRR in Nov: back in Feb = reactivation +40
STORY = {
    "2026-11-01": {E: 30},
    "2026-12-01": {A: 100, B: 200, C: 50},
    "2027-01-01": {A: 120, B: 200, C: 50, D: 80},
    "2027-02-01": {A: 120, B: 150, C: 0, D: 80, E: 40},
    "2027-03-01": {A: 120, B: 150, D: 0, E: 40},
}
ROWS = [MrrRow(acc, d(month), eur(v)) for month, cells in STORY.items() for acc, v in cells.items()]
Q1_START, Q1_END = d("2027-01-01"), d("2027-04-01")


def test_mrr_and_arr_of_a_month():
    # March: 120 + 150 + 40 = 310; ARR = 12 × 310 = 3,720
    assert mrr(ROWS, d("2027-03-01"), RATES) == eur("310.00")
    assert arr(ROWS, d("2027-03-01"), RATES) == eur("3720.00")


def test_mrr_movements_over_a_quarter_follow_the_saas_conventions():
    m = mrr_movements(ROWS, Q1_START, Q1_END, RATES)
    assert m.opening == eur(350)  # December: 100 + 200 + 50
    assert m.new == eur(80)  # D in January
    assert m.expansion == eur(20)  # A in January
    assert m.contraction == eur(50)  # B in February
    assert m.churn == eur(130)  # C 50 in February + D 80 in March
    assert m.reactivation == eur(40)  # E in February
    assert m.closing == eur(310)  # 350 + 80 + 20 − 50 − 130 + 40
    assert m.reconciles()


def test_retention_follows_the_opening_cohort_to_the_closing_month():
    # Cohort (December): A 100, B 200, C 50 = 350. March: A 120, B 150, C 0 = 270.
    # NRR = 270 / 350; GRR = (min(100,120) + min(200,150) + 0) / 350 = 250 / 350; logo churn 1 of 3.
    r = retention(ROWS, Q1_START, Q1_END, RATES)
    assert r.nrr == Decimal(270) / Decimal(350)
    assert r.grr == Decimal(250) / Decimal(350)
    assert r.logo_churn == Decimal(1) / Decimal(3)
    assert r.cohort_size == 3


def test_exchange_rate_moves_are_not_counted_as_expansion():
    # 100 USD in January and February; the rate moves from 0.9 to 1.0 on 15 February. All months
    # convert at the range's last day (28 Feb, rate 1.0): 100 EUR opening and closing, no movement.
    rates = RateTable("EUR", {"USD": [(d("2027-01-01"), Decimal("0.9")), (d("2027-02-15"), Decimal(1))]})
    rows = [MrrRow(A, d("2027-01-01"), usd(100)), MrrRow(A, d("2027-02-01"), usd(100))]
    m = mrr_movements(rows, d("2027-02-01"), d("2027-03-01"), rates)
    assert (m.opening, m.expansion, m.contraction, m.closing) == (eur(100), eur(0), eur(0), eur(100))


def test_a_range_that_starts_mid_month_covers_the_months_that_start_inside_it():
    assert months_in(d("2027-01-15"), d("2027-04-01")) == [d("2027-02-01"), d("2027-03-01")]


def test_a_range_with_no_month_start_has_no_movements_and_no_retention():
    m = mrr_movements(ROWS, d("2027-01-02"), d("2027-01-31"), RATES)
    assert m.opening == m.closing == m.new == eur(0)
    r = retention(ROWS, d("2027-01-02"), d("2027-01-31"), RATES)
    assert (r.nrr, r.grr, r.logo_churn, r.cohort_size) == (None, None, None, 0)


def test_a_reversed_range_is_refused():
    with pytest.raises(RangeReversed):
        mrr_movements(ROWS, Q1_END, Q1_START, RATES)
    with pytest.raises(RangeReversed):
        retention(ROWS, Q1_END, Q1_START, RATES)


def test_a_row_not_on_a_month_start_is_refused():
    with pytest.raises(ValidationError) as err:
        mrr([MrrRow(A, d("2027-01-15"), eur(1))], d("2027-01-01"), RATES)
    assert err.value.field == "month"


def test_negative_mrr_is_refused():
    with pytest.raises(ValidationError) as err:
        mrr([MrrRow(A, d("2027-01-01"), eur(-1))], d("2027-01-01"), RATES)
    assert err.value.field == "mrr"


# --- properties -------------------------------------------------------------------------------
BASE = date(2027, 1, 1)
amounts = st.one_of(st.just(0), st.integers(min_value=0, max_value=100_000)).map(
    lambda cents: Decimal(cents) / 100
)
grids = st.lists(st.lists(amounts, min_size=8, max_size=8), min_size=1, max_size=6)


def _rows(grid: list[list[Decimal]]) -> list[MrrRow]:
    return [
        MrrRow(account, add_months(BASE, month), eur(str(value)))
        for account, series in enumerate(grid)
        for month, value in enumerate(series)
        if value or (account + month) % 2  # sometimes a zero row, sometimes no row at all
    ]


@settings(max_examples=150, deadline=None)
@given(grids, st.integers(min_value=0, max_value=7), st.integers(min_value=0, max_value=8))
def test_mrr_movements_always_reconcile_opening_to_closing(grid, first, length):
    start = add_months(BASE, first)
    end = add_months(start, length)
    m = mrr_movements(_rows(grid), start, end, RATES)
    assert m.opening + m.new + m.expansion - m.contraction - m.churn + m.reactivation == m.closing
    for part in (m.new, m.expansion, m.contraction, m.churn, m.reactivation):
        assert part.amount >= 0

    # Independent recomputation of opening and closing straight from the grid (months beyond it: 0).
    def month_total(index: int) -> Decimal:
        return sum((series[index] for series in grid), Decimal(0)) if 0 <= index < 8 else Decimal(0)

    if length:
        assert m.opening.amount == month_total(first - 1)
        assert m.closing.amount == month_total(first + length - 1)
    else:
        assert m.opening.amount == m.closing.amount == 0


@settings(max_examples=150, deadline=None)
@given(grids, st.integers(min_value=1, max_value=7), st.integers(min_value=1, max_value=7))
def test_gross_retention_lies_between_zero_and_one_and_never_exceeds_net(grid, first, length):
    start = add_months(BASE, first)
    r = retention(_rows(grid), start, add_months(start, length), RATES)
    if r.grr is None:
        assert r.nrr is None and r.cohort_size == 0
        return
    assert r.nrr is not None and r.logo_churn is not None
    assert Decimal(0) <= r.grr <= Decimal(1)
    assert r.grr <= r.nrr
    assert Decimal(0) <= r.logo_churn <= Decimal(1)
