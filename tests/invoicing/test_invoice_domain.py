"""The pure core of invoicing: the invoice state machine (walked in full), payment terms and due
dates, the printed unit price of a prorated line, conversion at a captured rate, tax codes.

Expected values are worked out by hand; the due dates are those of northwind.md, table 4.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.core.errors import InvalidTransition, ValidationError
from q2c.core.statemachine import all_moves
from q2c.invoicing.domain import (
    TRANSITIONS,
    InvoiceStatus,
    PaymentTerms,
    TermsBasis,
    convert_minor,
    display_unit_price,
    line_gross_minor,
    move,
    open_base,
    status_after_settlement,
    tax_code,
)

ALLOWED = {
    ("draft", "issued"),
    ("issued", "partially_paid"),
    ("issued", "paid"),
    ("issued", "void"),
    ("issued", "uncollectible"),
    ("partially_paid", "paid"),
    ("partially_paid", "uncollectible"),
    ("uncollectible", "partially_paid"),
    ("uncollectible", "paid"),
    # A payment taken back (chargeback lost, SEPA return) reopens the invoice.
    ("paid", "partially_paid"),
    ("paid", "issued"),
    ("partially_paid", "issued"),
}


@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(InvoiceStatus, TRANSITIONS)))
def test_every_move_of_the_invoice_table_is_allowed_or_refused_as_written(current, target, allowed):
    assert allowed == ((current.value, target.value) in ALLOWED)
    if allowed:
        assert move(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as err:
            move(current, target)
        assert err.value.code == "invoice.invalid_transition"


def test_issuing_an_issued_invoice_again_is_refused():
    with pytest.raises(InvalidTransition):
        move("issued", InvoiceStatus.ISSUED)


# northwind.md, table 4: net 30 from the issue date.
@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (date(2027, 2, 1), date(2027, 3, 3)),
        (date(2027, 2, 10), date(2027, 3, 12)),
        (date(2027, 3, 1), date(2027, 3, 31)),
        (date(2027, 3, 15), date(2027, 4, 14)),
        (date(2027, 4, 1), date(2027, 5, 1)),
    ],
)
def test_net_30_gives_the_due_dates_of_the_northwind_invoices(issued, due):
    assert PaymentTerms(30).due_date(issued) == due


def test_end_of_month_plus_n_counts_from_the_last_day_of_the_issue_month():
    # Issued 2027-02-10: February 2027 ends on the 28th; + 30 days = 2027-03-30.
    terms = PaymentTerms(30, TermsBasis.END_OF_MONTH)
    assert terms.due_date(date(2027, 2, 10)) == date(2027, 3, 30)
    # Leap year: February 2028 ends on the 29th; + 15 = 2028-03-15.
    assert PaymentTerms(15, "end_of_month").due_date(date(2028, 2, 1)) == date(2028, 3, 15)
    assert terms.text() == "End of month + 30 days"
    assert PaymentTerms(30).text() == "Net 30 days"
    assert PaymentTerms(0).text() == "Due on receipt"


@pytest.mark.parametrize(
    ("days", "basis", "field"),
    [(-1, "net", "terms_days"), (400, "net", "terms_days"), (30, "eom", "terms_basis")],
)
def test_impossible_payment_terms_are_refused_naming_the_field(days, basis, field):
    with pytest.raises(ValidationError) as err:
        PaymentTerms(days, basis)
    assert (err.value.code, err.value.field) == ("invoicing.invalid_terms", field)


def test_a_prorated_line_prints_its_prorated_unit_price_when_it_is_exact():
    # INV-4: 10 × 25.50 × 17/31 = 139.8387… → 139.84; per seat 13.984 (e-invoicing.md).
    gross = line_gross_minor(D(10), D("25.50"), 17, 31, 2, "half_up")
    assert gross == 13984
    assert display_unit_price(gross, gross, D(10), D("25.50"), 2) == (D("13.984"), D(1))


def test_a_whole_period_prints_its_unit_price_and_an_inexact_share_its_amount_per_quantity():
    assert display_unit_price(127500, 127500, D(50), D("25.50"), 2) == (D("25.50"), D(1))
    # 7 × 10.00 × 1/3 = 23.333… → 23.33; per unit 23.33 / 7 = 3.332857… is no finite decimal, so
    # the line states 23.33 per 7 units (price base quantity 7).
    gross = line_gross_minor(D(7), D("10.00"), 1, 3, 2, "half_up")
    assert gross == 2333
    assert display_unit_price(gross, gross, D(7), D("10.00"), 2) == (D("23.33"), D(7))
    # 3 × 10.00 × 1/7 = 4.2857… → 4.29 = 3 × 1.43 exactly: the per-unit price prints.
    assert display_unit_price(429, 429, D(3), D("10.00"), 2) == (D("1.43"), D(1))


def test_line_amounts_round_once_half_up_or_half_even():
    # 1 × 0.05 × 1/2 = 0.025 → 0.03 half up, 0.02 half even.
    assert line_gross_minor(D(1), D("0.05"), 1, 2, 2, "half_up") == 3
    assert line_gross_minor(D(1), D("0.05"), 1, 2, 2, "half_even") == 2
    # A credit line rounds away from zero the same way: −0.025 → −0.03.
    assert line_gross_minor(D(-1), D("0.05"), 1, 2, 2, "half_up") == -3


def test_conversion_at_a_captured_rate_rounds_once():
    # 1,000.00 USD at 0.9137 = 913.70 EUR; 0.05 USD at 0.9137 = 0.045685 → 0.05 EUR.
    assert convert_minor(100000, D("0.9137"), 2, 2) == 91370
    assert convert_minor(5, D("0.9137"), 2, 2) == 5
    # JPY has no minor unit: 1,234 JPY at 0.0061 = 7.5274 EUR → 7.53.
    assert convert_minor(1234, D("0.0061"), 0, 2) == 753


def test_the_open_amount_in_the_entity_currency_ends_exactly_at_zero():
    # An invoice of 100.00 USD worth 91.37 EUR at issue; 33.33 paid → 66.67 open = 60.92 EUR.
    assert open_base(10000, 9137, 10000, D("0.9137"), 2, 2) == 9137
    assert open_base(10000, 9137, 6667, D("0.9137"), 2, 2) == 6092
    assert open_base(10000, 9137, 0, D("0.9137"), 2, 2) == 0


def test_settlement_decides_between_issued_partially_paid_and_paid():
    assert status_after_settlement(10000, 0) is InvoiceStatus.ISSUED
    assert status_after_settlement(10000, 1) is InvoiceStatus.PARTIALLY_PAID
    assert status_after_settlement(10000, 10000) is InvoiceStatus.PAID


def test_tax_codes_name_jurisdiction_category_and_rate():
    assert tax_code("DE", "S", D("19")) == "DE-S-19"
    assert tax_code("FR", "S", D("5.50")) == "FR-S-5.5"
    assert tax_code("FR", "AE", D("0")) == "FR-AE-0"
