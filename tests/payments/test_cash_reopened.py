"""Cash the matcher applied, taken back, and paid again: an invoice whose payment was reversed is
open again for the matcher, for exactly the amount that is open.

Amounts from northwind.md step 4 (INV-2027-000001 7,467.25, INV-2027-000002 4,760.00) and the
Commerzbank MT940 file of ``tests/payments/fixtures`` (7,467.25 for INV-1, returned the next day).
"""

from __future__ import annotations

from datetime import date

import pytest

from q2c.core.money import Money
from q2c.invoicing.models import Invoice
from q2c.payments import services as payments
from q2c.payments.cash.models import BankLine, CashApplication
from q2c.payments.cash.services import importing, matching
from q2c.payments.models import Application, Reopened
from tests.payments.cash_world import northwind_on_statement_day
from tests.payments.support import camt, fixture_bytes
from tests.payments.test_cash_application import nw_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    return northwind_on_statement_day()


def test_an_invoice_whose_payment_the_bank_returned_is_matched_again_when_the_customer_pays_again(story):
    _entity, _northwind, invoices = story
    inv1 = invoices["INV-2027-000001"]
    returned = importing.import_file(fixture_bytes("mt940_commerzbank.sta"), actor="test")
    run = matching.run_matching(file_id=returned["file_id"], actor="test")
    assert (run["applied"], run["returned"]) == (1, 1)
    # Paid, then reopened: 7,467.25 open again.
    assert {i.number: i.open_minor for i in matching.open_items(_entity.pk)}["INV-2027-000001"] == 746725
    report = importing.import_file(camt(nw_line("7467.25", "RF44INV2027000001")), actor="test")
    again = matching.run_matching(file_id=report["file_id"], actor="test")
    assert again["applied"] == 1
    line = BankLine.objects.get(statement__file_id=report["file_id"])
    assert line.state == "applied"
    assert list(CashApplication.objects.filter(line=line).values_list("invoice_id", "amount_minor")) == [
        (inv1.pk, 746725)
    ]
    invoice = Invoice.objects.get(pk=inv1.pk)
    assert (invoice.status, invoice.paid_minor) == ("paid", 746725)


def test_an_amount_reopened_on_a_settled_invoice_is_offered_to_the_matcher_and_applied(story):
    entity, northwind, invoices = story
    inv2 = invoices["INV-2027-000002"]
    payments.record_payment(
        northwind.pk, Money("4760.00", "EUR"), received_on=date(2027, 4, 20),
        allocations=[payments.Allocation(inv2.pk, Money("4760.00", "EUR"))], actor="test",
    )  # fmt: skip
    assert Invoice.objects.get(pk=inv2.pk).status == "paid"
    assert "INV-2027-000002" not in {i.number for i in matching.open_items(entity.pk)}
    # 1,000.00 of it open again in payments, as a reversal recorded before invoicing could take
    # payments back left it (the invoice itself stays paid).
    Reopened.objects.create(
        invoice_id=inv2.pk, entity=entity, account=northwind, currency="EUR", amount=Money("1000.00", "EUR"),
        base_currency="EUR", amount_base=Money("1000.00", "EUR"),
    )  # fmt: skip
    offered = {i.number: (i.item_id, i.customer_id, i.open_minor) for i in matching.open_items(entity.pk)}
    assert offered["INV-2027-000002"] == (inv2.pk, northwind.pk, 100000)
    # The other four still open with their totals (northwind.md step 4).
    assert {n: v[2] for n, v in offered.items() if n != "INV-2027-000002"} == {
        "INV-2027-000001": 746725,
        "INV-2027-000003": 151725,
        "INV-2027-000004": 16641,
        "INV-2027-000005": 241570,
    }
    report = importing.import_file(
        camt(nw_line("1000.00", "Rest INV-2027-000002", iban="DE34200505501234567890")), actor="test"
    )
    run = matching.run_matching(file_id=report["file_id"], actor="test")
    assert run["applied"] == 1
    line = BankLine.objects.get(statement__file_id=report["file_id"])
    assert list(CashApplication.objects.filter(line=line).values_list("invoice_id", "amount_minor")) == [
        (inv2.pk, 100000)
    ]
    # Taken from the reopened amount: nothing reopened is left, the invoice stays paid.
    assert Reopened.objects.get(invoice_id=inv2.pk).amount_minor == 0
    app = Application.objects.get(invoice_id=inv2.pk, amount_minor=100000)
    assert app.reopened_part_minor == 100000
    assert Invoice.objects.get(pk=inv2.pk).status == "paid"
    assert "INV-2027-000002" not in {i.number for i in matching.open_items(entity.pk)}
