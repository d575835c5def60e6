"""Pricing an invoice (``q2c.invoicing.calc``): the line pipeline, tax from the tax engine with the
shipped rules, per-rate and per-line rounding, and the bill run's memoised path — which must give
exactly what the engine gives (Hypothesis). No database: rules from the shipped CSV files.

Hand-worked values: northwind.md (INV-1: 6,275.00 net, 19 % per rate = 1,192.25; the VAT rounding
check: 139.84 + 500.50 = 640.34 × 19 % = 121.6646 → 121.66 per rate, 26.57 + 95.10 = 121.67 per
line).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.core.errors import DomainError
from q2c.invoicing import build, calc
from q2c.tax.csvio import shipped_ruleset
from q2c.tax.engine import Buyer, CustomerKind, Location, RoundingMethod, Seller, tax_of

RULES = shipped_ruleset()
ACME = Seller("DE", vat_id="DE136457858")
NORTHWIND = Buyer("DE", kind=CustomerKind.BUSINESS, vat_id="DE812651301", vat_id_valid=True)
FABRIKAM = Buyer("FR", kind=CustomerKind.BUSINESS, vat_id="FR40303265045", vat_id_valid=True)
CONSUMER_FR = Buyer("FR", kind=CustomerKind.CONSUMER)
DAY = date(2027, 2, 1)


def ctx(buyer: Buyer, method: RoundingMethod = RoundingMethod.PER_RATE) -> calc.TaxContext:
    return calc.TaxContext(ACME, buyer, DAY, method, "half_up", Location("DE"), Location(buyer.country))


def line(desc: str, q: str, p: str, cat: str, **kw) -> calc.DraftLine:
    return calc.DraftLine(desc, D(q), D(p), cat, **kw)


def test_northwind_invoice_one_is_taxed_per_rate_on_the_sum_of_its_nets():
    priced = calc.price(
        [
            line("SEAT — Platform seat", "50", "25.50", "digital_service"),
            line("ONB — Onboarding", "1", "5000.00", "service"),
        ],
        "EUR",
        ctx(NORTHWIND),
        RULES,
    )
    assert (priced.net_minor, priced.tax_minor, priced.total_minor) == (627500, 119225, 746725)
    assert [(r.category, r.percent, r.taxable_minor, r.tax_minor, r.tax_code) for r in priced.rows] == [
        ("S", D(19), 627500, 119225, "DE-S-19")
    ]


def test_per_rate_and_per_line_rounding_differ_as_the_story_says():
    lines = [line("a", "1", "139.84", "service"), line("b", "1", "500.50", "service")]
    assert calc.price(lines, "EUR", ctx(NORTHWIND), RULES).tax_minor == 12166
    assert calc.price(lines, "EUR", ctx(NORTHWIND, RoundingMethod.PER_LINE), RULES).tax_minor == 12167


def test_a_line_discount_comes_off_before_tax():
    # 2 × 950.00 = 1,900.00 − 100.00 = 1,800.00; 19 % = 342.00.
    priced = calc.price(
        [line("Consulting", "2", "950.00", "service", discount_minor=10000)], "EUR", ctx(NORTHWIND), RULES
    )
    (p,) = priced.lines
    assert (p.gross_minor, p.net_minor, p.tax_minor) == (190000, 180000, 34200)


def test_the_eu_variant_is_reverse_charged_and_goods_shipped_to_france_are_an_intra_community_supply():
    priced = calc.price(
        [line("EDGE", "2", "2000.00", "goods", delivery_date=date(2027, 2, 10))], "EUR", ctx(FABRIKAM), RULES
    )
    (row,) = priced.rows
    assert (row.category, row.tax_minor, row.deliver_to_country, row.delivery_date) == (
        "K",
        0,
        "FR",
        date(2027, 2, 10),
    )
    seat = calc.price([line("SEAT", "50", "25.50", "digital_service")], "EUR", ctx(FABRIKAM), RULES)
    assert (seat.rows[0].category, seat.tax_minor) == ("AE", 0)
    assert seat.rows[0].mention.startswith("Reverse charge")


def test_the_memo_answers_a_second_invoice_of_the_same_kind_without_the_engine():
    memo = calc.TaxMemo()
    first = calc.price(
        [line("SEAT", "50", "25.50", "digital_service")], "EUR", ctx(NORTHWIND), RULES, memo=memo
    )
    other_customer = Buyer("DE", kind=CustomerKind.BUSINESS, vat_id="DE999999999", vat_id_valid=True)
    second = calc.price(
        [line("SEAT", "7", "25.50", "digital_service")], "EUR", ctx(other_customer), RULES, memo=memo
    )
    assert (memo.engine_calls, memo.fast) == (1, 1)
    assert (first.tax_minor, second.tax_minor) == (
        24225,
        3392,
    )  # 1,275.00 × 19 %; 178.50 × 19 % = 33.915 → 33.92


def test_an_engine_error_is_remembered_for_the_same_kind_of_invoice():
    memo = calc.TaxMemo()
    nowhere = Buyer("XX")
    for _ in range(2):
        with pytest.raises(DomainError) as err:
            calc.price([line("SEAT", "1", "1.00", "digital_service")], "EUR", ctx(nowhere), RULES, memo=memo)
        assert err.value.code == "tax.unknown_country"
    assert memo.engine_calls == 0


BUYERS = [
    NORTHWIND,
    FABRIKAM,
    CONSUMER_FR,
    Buyer("DE", kind=CustomerKind.BUSINESS, vat_id="DE1", vat_id_valid=False),
]
CATEGORIES = ["digital_service", "service", "goods", "standard"]


@settings(max_examples=300, deadline=None)
@given(
    buyer=st.sampled_from(BUYERS),
    method=st.sampled_from(list(RoundingMethod)),
    specs=st.lists(
        st.tuples(st.sampled_from(CATEGORIES[:3]), st.integers(-500_000, 2_000_000)), min_size=1, max_size=4
    ),
)
def test_the_memoised_path_gives_exactly_what_the_engine_gives(buyer, method, specs):
    lines = [
        calc.DraftLine(
            f"l{i}", D(1), D(0), cat, gross_minor=amount, delivery_date=DAY if cat == "goods" else None
        )
        for i, (cat, amount) in enumerate(specs)
    ]
    memo = calc.TaxMemo()
    warm = calc.price(lines, "EUR", ctx(buyer, method), RULES, memo=memo)  # fills the memo
    again = calc.price(lines, "EUR", ctx(buyer, method), RULES, memo=memo)
    plain = calc.price(lines, "EUR", ctx(buyer, method), RULES)
    for got in (warm, again):
        assert (got.net_minor, got.tax_minor) == (plain.net_minor, plain.tax_minor)
        assert [(p.tax_minor, p.vat_category, p.percent, p.mention) for p in got.lines] == [
            (p.tax_minor, p.vat_category, p.percent, p.mention) for p in plain.lines
        ]
        assert [(r.category, r.percent, r.taxable_minor, r.tax_minor) for r in got.rows] == [
            (r.category, r.percent, r.taxable_minor, r.tax_minor) for r in plain.rows
        ]


@settings(max_examples=500, deadline=None)
@given(
    net=st.integers(-(10**12), 10**12),
    percent=st.sampled_from([D(0), D(19), D("5.5"), D("7.7"), D(20), D("8.875"), D("0.001")]),
    rounding=st.sampled_from(["half_up", "half_even"]),
)
def test_tax_in_integers_equals_the_engines_tax_of(net, percent, rounding):
    assert calc.tax_minor(net, percent, rounding) == tax_of(net, percent, rounding)


@settings(max_examples=200, deadline=None)
@given(
    mention=st.text(max_size=40),
    taxable=st.integers(-(10**9), 10**9),
    tax=st.integers(-(10**8), 10**8),
    delivered=st.sampled_from([None, date(2027, 2, 10)]),
)
def test_the_stored_vat_breakdown_text_is_the_canonical_json(mention, taxable, tax, delivered):
    row = calc.TaxRow(
        "DE", "S", D("19"), taxable, tax, mention, "VATEX", "DE-S-19", "FR" if delivered else "", delivered
    )
    assert build.summary_text([row, row]) == json.dumps(build.summary_json([row, row]), sort_keys=True)


def test_the_stored_posting_text_is_the_canonical_json():
    posting = {"ar": 746725, "tax_payable.DE-S-19": -119225, "deferred_revenue": -627500}
    assert build.posting_text(posting) == json.dumps(posting, sort_keys=True)
