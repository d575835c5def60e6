"""The Northwind story's VAT (shared/scenarios/northwind.md, table 4 and the cross-border variant)
and its rounding check, computed by the pure engine with the shipped rules and rates.

Domestic supply: seller Acme Cloud GmbH (DE) to Northwind Handels GmbH (DE) — the supply takes
place in Germany (Directive 2006/112/EC Art. 31 for goods, Art. 44 for B2B services), taxed at
the German standard rate, 19 % (UStG § 12(1)). VAT is rounded per rate on the sum of the lines
(EN 16931 BR-CO-17), half-up to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from q2c.tax.engine import (
    MENTION_INTRA_COMMUNITY,
    MENTION_REVERSE_CHARGE,
    Location,
    RoundingMethod,
    TaxCategory,
    VatCategoryCode,
    compute,
)
from tests.tax.builders import FABRIKAM, document, eur, line

SAAS = TaxCategory.DIGITAL_SERVICE
SERVICE = TaxCategory.SERVICE
GOODS = TaxCategory.GOODS

# (invoice, date, lines, expected VAT, expected total) — table 4 of the scenario. By hand:
# INV-1 (1,275.00 + 5,000.00) × 19 % = 6,275.00 × 0.19 = 1,192.25 exactly;
# INV-2 4,000.00 × 0.19 = 760.00; INV-3 1,275.00 × 0.19 = 242.25;
# INV-4 139.84 × 0.19 = 26.5696 → 26.57 (half-up);
# INV-5 (1,275.00 + 255.00 + 500.00) × 0.19 = 2,030.00 × 0.19 = 385.70.
NORTHWIND_INVOICES = [
    (
        "INV-2027-000001",
        date(2027, 2, 1),
        [("seat", "1275.00", SAAS), ("onb", "5000.00", SERVICE)],
        "1192.25",
        "7467.25",
    ),
    ("INV-2027-000002", date(2027, 2, 10), [("edge", "4000.00", GOODS)], "760.00", "4760.00"),
    ("INV-2027-000003", date(2027, 3, 1), [("seat", "1275.00", SAAS)], "242.25", "1517.25"),
    ("INV-2027-000004", date(2027, 3, 15), [("seat", "139.84", SAAS)], "26.57", "166.41"),
    (
        "INV-2027-000005",
        date(2027, 4, 1),
        [("seat-c1", "1275.00", SAAS), ("seat-c1a", "255.00", SAAS), ("api", "500.00", SAAS)],
        "385.70",
        "2415.70",
    ),
]


@pytest.mark.parametrize(
    ("number", "day", "lines", "vat", "total"), NORTHWIND_INVOICES, ids=[i[0] for i in NORTHWIND_INVOICES]
)
def test_northwind_invoices_carry_german_vat_of_19_percent_per_rate(rules, number, day, lines, vat, total):
    result = compute(document(*(line(i, eur(a), c) for i, a, c in lines), on=day), rules)
    assert result.tax_total == eur(vat)
    assert result.gross_total == eur(total)
    assert len(result.summary) == 1
    row = result.summary[0]
    assert (row.jurisdiction, row.category, str(row.percent)) == ("DE", VatCategoryCode.STANDARD, "19")
    assert row.tax == eur(vat)
    assert result.warnings == ()
    assert result.mentions == ()


def test_the_rounding_check_gives_121_66_per_rate_on_the_sum_by_default(rules):
    # northwind.md "VAT rounding check": 139.84 + 500.50 = 640.34; × 19 % = 121.6646 → 121.66
    # (EN 16931 BR-CO-17: VAT per rate on the sum of the lines).
    doc = document(line("a", eur("139.84")), line("b", eur("500.50")), on=date(2027, 3, 15))
    result = compute(doc, rules)
    assert result.rounding_method is RoundingMethod.PER_RATE
    assert result.summary[0].taxable == eur("640.34")
    assert result.tax_total == eur("121.66")
    # The row's tax is shared out by largest remainder over the exact line taxes 26.5696 and
    # 95.095: floors 26.56 + 95.09 = 121.65, the cent left goes to the larger remainder (.96 of
    # a cent on line a against .5 on line b) → 26.57 and 95.09, summing to 121.66.
    assert [x.tax for x in result.lines] == [eur("26.57"), eur("95.09")]


def test_the_rounding_check_gives_121_67_when_rounded_per_line(rules):
    # 139.84 × 0.19 = 26.5696 → 26.57; 500.50 × 0.19 = 95.095 → 95.10 (half-up); 26.57 + 95.10 = 121.67.
    doc = document(
        line("a", eur("139.84")),
        line("b", eur("500.50")),
        on=date(2027, 3, 15),
        rounding_method=RoundingMethod.PER_LINE,
    )
    result = compute(doc, rules)
    assert [x.tax for x in result.lines] == [eur("26.57"), eur("95.10")]
    assert result.tax_total == eur("121.67")
    assert result.summary[0].tax == eur("121.67")


# Fabrikam SARL, Lyon (FR), valid VAT id FR40303265045: the same invoices cross-border.
# Services to a business in another member state are supplied where the customer is established
# (Art. 44) and the customer accounts for the VAT (Art. 196) → AE at 0 % with the mention; the
# appliances shipped DE → FR to a business with a valid VAT id are an exempt intra-Community
# supply (Art. 138(1)) → K at 0 %, deliver-to FR and the delivery date (BR-IC-11/12).
FABRIKAM_NETS = {
    "INV-2027-000001": "6275.00",
    "INV-2027-000002": "4000.00",
    "INV-2027-000003": "1275.00",
    "INV-2027-000004": "139.84",
    "INV-2027-000005": "2030.00",
}


@pytest.mark.parametrize(
    ("number", "day", "lines", "vat", "total"), NORTHWIND_INVOICES, ids=[i[0] for i in NORTHWIND_INVOICES]
)
def test_fabrikam_invoices_carry_no_vat_and_state_reverse_charge_or_intra_community_supply(
    rules, number, day, lines, vat, total
):
    doc = document(
        *(line(i, eur(a), c) for i, a, c in lines),
        buyer=FABRIKAM,
        on=day,
        ship_to=Location("FR"),
        delivery_date=date(2027, 2, 10),
    )
    result = compute(doc, rules)
    assert result.tax_total == eur("0.00")
    assert result.gross_total == eur(FABRIKAM_NETS[number])  # totals equal the nets
    for row in result.summary:
        assert row.percent == 0
        if row.category is VatCategoryCode.INTRA_COMMUNITY:
            assert row.mention == MENTION_INTRA_COMMUNITY
            assert row.reason_code == "VATEX-EU-IC"
            assert (row.deliver_to_country, row.delivery_date) == ("FR", date(2027, 2, 10))
            assert row.line_ids == ("edge",)
        else:
            assert row.category is VatCategoryCode.REVERSE_CHARGE
            assert row.mention == MENTION_REVERSE_CHARGE
            assert row.reason_code == "VATEX-EU-AE"
            assert row.jurisdiction == "FR"  # supplied where the customer is (Art. 44)


def test_the_reverse_charge_mention_is_word_for_word_the_scenarios():
    assert MENTION_REVERSE_CHARGE == (
        "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
    )
    assert MENTION_INTRA_COMMUNITY == "Intra-Community supply — exempt (Art. 138 Directive 2006/112/EC)"


def test_the_fabrikam_goods_invoice_is_one_k_row_with_deliver_to_and_delivery_date(rules):
    doc = document(
        line("edge", eur("4000.00"), GOODS),
        buyer=FABRIKAM,
        on=date(2027, 2, 10),
        ship_to=Location("FR"),
        delivery_date=date(2027, 2, 10),
    )
    (row,) = compute(doc, rules).summary
    assert (row.category, row.taxable, row.tax) == (
        VatCategoryCode.INTRA_COMMUNITY,
        eur("4000.00"),
        eur("0.00"),
    )
    assert (row.deliver_to_country, row.delivery_date) == ("FR", date(2027, 2, 10))


def test_per_line_rounding_changes_nothing_for_zero_rated_cross_border_lines(rules):
    doc = document(line("seat", eur("139.84"), SAAS), buyer=FABRIKAM, on=date(2027, 3, 15))
    per_line = compute(replace(doc, rounding_method=RoundingMethod.PER_LINE), rules)
    assert per_line.tax_total == eur("0.00")
