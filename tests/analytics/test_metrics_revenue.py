"""Recognised and deferred revenue from contracts' revenue positions, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from q2c.analytics.metrics import (
    RangeReversed,
    RateTable,
    RevenueEntry,
    RevenueKind,
    deferred_revenue,
    recognised_revenue,
)
from tests.analytics.conftest import d, eur, usd

RATES = RateTable.fixed("EUR", {"USD": "0.9"})
BILLED, RECOGNISED = RevenueKind.BILLED, RevenueKind.RECOGNISED

ENTRIES = [
    # Contract 1: a year billed up front (1,200), recognised 100 a month.
    RevenueEntry(1, d("2027-01-01"), BILLED, eur(1200)),
    RevenueEntry(1, d("2027-01-31"), RECOGNISED, eur(100)),
    RevenueEntry(1, d("2027-02-28"), RECOGNISED, eur(100)),
    RevenueEntry(1, d("2027-03-31"), RECOGNISED, eur(100)),
    # Contract 2: delivered before it is billed — an unbilled asset, never negative deferred revenue.
    RevenueEntry(2, d("2027-02-15"), RECOGNISED, eur(500)),
    # Contract 3: 100 USD billed, 50 USD recognised.
    RevenueEntry(3, d("2027-03-01"), BILLED, usd(100)),
    RevenueEntry(3, d("2027-03-15"), RECOGNISED, usd(50)),
]


def test_recognised_revenue_sums_recognition_dated_in_the_range():
    # Q1: 100 + 100 + 100 + 500 + 50 USD × 0.9 = 845.00
    assert recognised_revenue(ENTRIES, d("2027-01-01"), d("2027-04-01"), RATES) == eur("845.00")
    # February only: 100 + 500 = 600.00
    assert recognised_revenue(ENTRIES, d("2027-02-01"), d("2027-03-01"), RATES) == eur("600.00")


def test_deferred_revenue_is_billed_less_recognised_per_contract_never_below_zero():
    # At 31 March: contract 1 1,200 − 300 = 900; contract 2 −500 → 0; contract 3 50 USD = 45 → 945.00
    assert deferred_revenue(ENTRIES, d("2027-04-01"), RATES) == eur("945.00")
    # At 31 January: 1,200 − 100 = 1,100.00
    assert deferred_revenue(ENTRIES, d("2027-02-01"), RATES) == eur("1100.00")


def test_no_entries_give_zero():
    assert recognised_revenue([], d("2027-01-01"), d("2027-01-01"), RATES) == eur("0.00")
    assert deferred_revenue([], d("2027-01-01"), RATES).amount == Decimal(0)


def test_a_reversed_range_is_refused():
    with pytest.raises(RangeReversed):
        recognised_revenue(ENTRIES, d("2027-04-01"), d("2027-01-01"), RATES)
