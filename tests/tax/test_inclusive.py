"""Tax-inclusive prices: split exactly into net + tax, or refused when they cannot be split at
the currency's precision (docs/tax.md, "Inclusive prices").

Definition: a gross amount G at rate r splits when some net N in minor units has
N + round(N × r) = G — the net an exclusive computation would turn into exactly G. That N is
unique. Per rate (BR-CO-17) the test applies to the sum of the row's lines, per line to each line.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from q2c.tax.engine import (
    Buyer,
    NotSplittable,
    RoundingMethod,
    Seller,
    TaxCategory,
    compute,
    split_inclusive,
    tax_of,
)
from tests.tax.builders import document, eur, line, money

CONSUMER = Buyer("DE")


def test_a_gross_price_splits_into_the_net_whose_tax_adds_back_to_it(rules):
    # 119.00 incl. 19 %: N = 100.00, tax round(100.00 × 0.19) = 19.00, 100.00 + 19.00 = 119.00.
    result = compute(document(line("1", eur("119.00")), buyer=CONSUMER, prices_include_tax=True), rules)
    (row,) = result.summary
    assert (row.taxable, row.tax) == (eur("100.00"), eur("19.00"))
    assert (result.net_total, result.tax_total, result.gross_total) == (
        eur("100.00"),
        eur("19.00"),
        eur("119.00"),
    )


def test_per_rate_the_rows_gross_is_split_and_the_lines_share_the_net(rules):
    # Two lines of 59.50 gross at 19 %: the row's 119.00 → net 100.00, tax 19.00; each line's net
    # is its share of 100.00 by its exact net 59.50 / 1.19 = 50.00 → 50.00 + 9.50 each.
    doc = document(line("a", eur("59.50")), line("b", eur("59.50")), buyer=CONSUMER, prices_include_tax=True)
    result = compute(doc, rules)
    assert [(x.net, x.tax, x.gross) for x in result.lines] == [(eur("50.00"), eur("9.50"), eur("59.50"))] * 2


def test_a_price_of_9_99_including_19_percent_cannot_be_split_at_cent_precision(rules):
    # N = 8.39: 8.39 × 0.19 = 1.5941 → 1.59, 8.39 + 1.59 = 9.98.
    # N = 8.40: 8.40 × 0.19 = 1.596 → 1.60, 8.40 + 1.60 = 10.00. No N gives 9.99.
    doc = document(line("cup", eur("9.99")), buyer=CONSUMER, prices_include_tax=True)
    with pytest.raises(NotSplittable) as err:
        compute(doc, rules)
    assert err.value.code == "tax.inclusive_not_splittable"
    assert err.value.field == "lines[0].amount"
    assert "9.98 EUR or 10.00 EUR" in err.value.message
    assert "BR-CO-17" in err.value.message


def test_per_rate_only_the_rows_sum_must_split(rules):
    # 9.99 + 0.01 = 10.00 incl. 19 % → N = 8.40, tax 1.60 (8.40 × 0.19 = 1.596 → 1.60).
    # Lines' nets from exact shares 9.99 / 1.19 = 8.3949… and 0.01 / 1.19 = 0.0084…: floors 8.39
    # and 0.00 leave one cent, which goes to the larger remainder (0.84 of a cent on the second
    # line) → nets 8.39 and 0.01, taxes 1.60 and 0.00.
    doc = document(
        line("cup", eur("9.99")), line("tip", eur("0.01")), buyer=CONSUMER, prices_include_tax=True
    )
    result = compute(doc, rules)
    assert (result.net_total, result.tax_total) == (eur("8.40"), eur("1.60"))
    assert [(x.net, x.tax) for x in result.lines] == [(eur("8.39"), eur("1.60")), (eur("0.01"), eur("0.00"))]
    # Per line, the 9.99 line alone must split — and cannot.
    with pytest.raises(NotSplittable, match="line 'cup'"):
        compute(replace(doc, rounding_method=RoundingMethod.PER_LINE), rules)


def test_inclusive_per_line_splits_each_line(rules):
    # 26.57 + … : 166.41 incl. 19 % per line → N = 139.84 (139.84 × 0.19 = 26.5696 → 26.57).
    doc = document(
        line("1", eur("166.41")),
        buyer=CONSUMER,
        prices_include_tax=True,
        rounding_method=RoundingMethod.PER_LINE,
    )
    assert [(x.net, x.tax) for x in compute(doc, rules).lines] == [(eur("139.84"), eur("26.57"))]


def test_zero_rated_inclusive_prices_are_all_net(rules):
    doc = document(
        line("book", money("9.99", "GBP"), TaxCategory.ZERO, supply_type="goods"),
        seller=Seller("GB"),
        buyer=Buyer("GB"),
        currency="GBP",
        prices_include_tax=True,
    )
    (row,) = compute(doc, rules).summary
    assert (row.taxable, row.tax) == (money("9.99", "GBP"), money("0.00", "GBP"))


def test_currencies_without_minor_units_split_at_whole_units(rules):
    # JPY has no minor unit: 110 JPY incl. 10 % → N = 100, tax 10. 105 JPY: N = 95 → 95 + 9.5 →
    # round half-up 10 → 105. Found by the search, not by 105 / 1.1 = 95.45….
    assert split_inclusive(110, Decimal("10")) == 100
    assert split_inclusive(105, Decimal("10")) == 95
    assert tax_of(95, Decimal("10")) == 10


def test_split_inclusive_answers_none_exactly_when_no_net_fits():
    # At 19 %, gross 0.09: N = 0.07 → 0.07 + round(0.0133) = 0.08; N = 0.08 → 0.08 + round(0.0152) = 0.10.
    assert split_inclusive(9, Decimal("19")) is None
    assert split_inclusive(8, Decimal("19")) == 7
    assert split_inclusive(10, Decimal("19")) == 8


def test_negative_inclusive_amounts_split_symmetrically(rules):
    # A credit line of −119.00 incl. 19 % → −100.00 and −19.00 (half-up rounds away from zero).
    doc = document(line("1", eur("-119.00")), buyer=CONSUMER, prices_include_tax=True, on=date(2027, 1, 1))
    result = compute(doc, rules)
    assert (result.net_total, result.tax_total) == (eur("-100.00"), eur("-19.00"))
