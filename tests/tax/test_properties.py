"""Hypothesis properties of the calculator (issue 5, item 6):

- inclusive and exclusive computations agree after rounding: the gross an exclusive computation
  produces, fed back as tax-inclusive, gives the same net and tax — per line when rounding per
  line, per summary row (BR-CO-17) when rounding per rate;
- any gross either cannot be split (and says so) or splits into N + T = G with T = round(N × r);
- tax is never negative for a positive line, whatever the other lines;
- the summary equals the sum of what is charged: each row's tax is the sum of its lines' tax,
  and the totals are the sums of the rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.core.money import Money
from q2c.tax.engine import (
    ANY,
    Buyer,
    NotSplittable,
    Rate,
    RateKind,
    RoundingMethod,
    Rule,
    RuleSet,
    Seller,
    TaxCategory,
    TaxDocument,
    TaxLine,
    Treatment,
    compute,
    split_inclusive,
    tax_of,
)

DAY = date(2027, 1, 1)
PERCENTS = [Decimal(p) for p in ("19", "7", "20", "5.5", "2.1", "6.875", "25.5", "4.8", "21", "0", "99.99")]
CURRENCIES = ["EUR", "JPY", "KWD"]  # exponents 2, 0, 3

percents = st.sampled_from(PERCENTS)
methods = st.sampled_from(list(RoundingMethod))
roundings = st.sampled_from(["half_up", "half_even"])


def ruleset(percent: Decimal) -> RuleSet:
    return RuleSet(
        [Rate("DE", RateKind.STANDARD, percent, date(2000, 1, 1), category=None)],
        [Rule("DE", ANY, Treatment.DOMESTIC)],
    )


def doc(amounts: list[int], currency: str, **kw) -> TaxDocument:
    lines = tuple(
        TaxLine(id=str(i), amount=Money.from_minor(a, currency), tax_category=TaxCategory.SERVICE)
        for i, a in enumerate(amounts)
    )
    return TaxDocument(
        currency=currency, seller=Seller("DE"), buyer=Buyer("DE"), tax_date=DAY, lines=lines, **kw
    )


minor_amounts = st.integers(min_value=-(10**9), max_value=10**12)
positive_amounts = st.integers(min_value=1, max_value=10**12)


@settings(max_examples=300)
@given(st.lists(positive_amounts, min_size=1, max_size=8), percents, st.sampled_from(CURRENCIES), roundings)
def test_per_line_inclusive_of_an_exclusive_gross_gives_back_each_lines_net_and_tax(
    nets, percent, currency, rounding
):
    rules = ruleset(percent)
    exclusive = compute(
        doc(nets, currency, rounding_method=RoundingMethod.PER_LINE, rounding=rounding), rules
    )
    grosses = [x.gross.minor_units() for x in exclusive.lines]
    inclusive = compute(
        doc(
            grosses,
            currency,
            rounding_method=RoundingMethod.PER_LINE,
            rounding=rounding,
            prices_include_tax=True,
        ),
        rules,
    )
    assert [(x.net, x.tax, x.gross) for x in inclusive.lines] == [
        (x.net, x.tax, x.gross) for x in exclusive.lines
    ]


@settings(max_examples=300)
@given(st.lists(minor_amounts, min_size=1, max_size=8), percents, st.sampled_from(CURRENCIES), roundings)
def test_per_rate_inclusive_of_an_exclusive_gross_gives_back_the_rows_taxable_amount_and_tax(
    nets, percent, currency, rounding
):
    rules = ruleset(percent)
    exclusive = compute(doc(nets, currency, rounding=rounding), rules)
    grosses = [x.gross.minor_units() for x in exclusive.lines]
    inclusive = compute(doc(grosses, currency, rounding=rounding, prices_include_tax=True), rules)
    assert [(r.taxable, r.tax) for r in inclusive.summary] == [(r.taxable, r.tax) for r in exclusive.summary]
    assert (inclusive.net_total, inclusive.tax_total, inclusive.gross_total) == (
        exclusive.net_total,
        exclusive.tax_total,
        exclusive.gross_total,
    )


@settings(max_examples=500)
@given(st.integers(min_value=-(10**12), max_value=10**12), percents, roundings)
def test_a_gross_splits_into_a_net_whose_tax_adds_back_or_is_reported_unsplittable(gross, percent, rounding):
    net = split_inclusive(gross, percent, rounding)
    if net is None:
        # Then no net near gross / (1 + r) works either (the unique candidate region).
        base = int(Decimal(gross) * 100 / (100 + percent))
        assert all(n + tax_of(n, percent, rounding) != gross for n in range(base - 3, base + 4))
        rules = ruleset(percent)
        try:
            compute(doc([gross], "EUR", prices_include_tax=True, rounding=rounding), rules)
        except NotSplittable:
            pass
        else:
            raise AssertionError("an unsplittable gross was accepted")
    else:
        assert net + tax_of(net, percent, rounding) == gross


@settings(max_examples=300)
@given(
    st.lists(minor_amounts, min_size=1, max_size=10),
    percents,
    methods,
    st.booleans(),
    roundings,
)
def test_tax_is_never_negative_for_a_positive_line(amounts, percent, method, inclusive, rounding):
    rules = ruleset(percent)
    try:
        result = compute(
            doc(amounts, "EUR", rounding_method=method, prices_include_tax=inclusive, rounding=rounding),
            rules,
        )
    except NotSplittable:
        return
    for amount, x in zip(amounts, result.lines, strict=True):
        if amount > 0:
            assert x.tax.amount >= 0
            assert x.net.amount >= 0
        if amount < 0:
            assert x.tax.amount <= 0


@settings(max_examples=300)
@given(
    st.lists(minor_amounts, min_size=0, max_size=10),
    percents,
    methods,
    st.booleans(),
    roundings,
)
def test_the_summary_equals_the_sum_of_what_is_charged(amounts, percent, method, inclusive, rounding):
    rules = ruleset(percent)
    try:
        result = compute(
            doc(amounts, "EUR", rounding_method=method, prices_include_tax=inclusive, rounding=rounding),
            rules,
        )
    except NotSplittable:
        return
    by_id = {x.line_id: x for x in result.lines}
    for row in result.summary:
        assert row.tax == sum((by_id[i].tax for i in row.line_ids), Money.zero("EUR"))
        assert row.taxable == sum((by_id[i].net for i in row.line_ids), Money.zero("EUR"))
    assert result.tax_total == sum((r.tax for r in result.summary), Money.zero("EUR"))
    assert result.net_total == sum((x.net for x in result.lines), Money.zero("EUR"))
    assert result.gross_total == sum((x.gross for x in result.lines), Money.zero("EUR"))
    for amount, x in zip(amounts, result.lines, strict=True):
        assert x.net + x.tax == x.gross
        assert (x.gross if inclusive else x.net).minor_units() == amount
    # Rounded per rate, the row's tax is the rounded tax of its sum (BR-CO-17); per line, the
    # sum of the rounded line taxes. Either way each line is within one unit of its exact tax.
    if not inclusive:
        for row in result.summary:
            nets = [by_id[i].net.minor_units() for i in row.line_ids]
            if method is RoundingMethod.PER_RATE:
                assert row.tax.minor_units() == tax_of(sum(nets), percent, rounding)
            for n, i in zip(nets, row.line_ids, strict=True):
                assert abs(Decimal(by_id[i].tax.minor_units()) - Decimal(n) * percent / 100) < 1
