"""The bulk path of cash application (``services.record_payments_many`` over invoicing's
``settle_bulk.apply_payments_bulk``) gives what ``record_payment`` per line gives: the same invoice
states and paid amounts, the same payment and application rows, the same ledger balances — with
one journal entry per batch and booking date instead of two per line.

Hand-worked batch (Acme Cloud GmbH, Northwind DE, 19 % VAT; invoices A 1,900.00 + 361.00 =
2,261.00, B 100.00 + 19.00 = 119.00, C 1,000.00 + 190.00 = 1,190.00), all received 2027-03-01:

1. 2,261.00 → A in full (A paid);
2. 130.00 credited, 2.00 kept by the bank → B 119.00 in full, 11.00 left as customer credit;
3. 500.00 → C (open 690.00), 4. 200.00 → C again (open 490.00, partially paid).

Ledger: bank 2,261 + 128 + 500 + 200 = 3,089.00; bank fees 2.00; customer credits
−(2,261 + 130 + 500 + 200) + (2,261 + 119 + 500 + 200) = −11.00; receivables 3,570.00 issued
− 3,080.00 applied = 490.00; revenue −3,000.00; VAT −(361 + 19 + 190) = −570.00 (sum 0).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.core.errors import DomainError
from q2c.invoicing.checks import ar_control
from q2c.invoicing.models import Invoice, InvoicePayment
from q2c.ledger import chart
from q2c.ledger.models import JournalEntry
from q2c.payments import services
from q2c.payments.checks import receivables
from q2c.payments.models import Application, Payment
from q2c.platform.models import Event
from tests.payments.world import at, balances, customer, eur, invoice, seller

pytestmark = pytest.mark.django_db

DAY = date(2027, 3, 1)


@pytest.fixture
def world():
    at(DAY)
    acme = seller()
    northwind = customer(acme)
    a, b, c = invoice(northwind), invoice(northwind, "100.00"), invoice(northwind, "1000.00")
    return acme, northwind, a, b, c


def batch(northwind, a, b, c):
    return [
        services.PaymentItem(northwind.pk, eur("2261.00"), received_on=DAY, external_id="bankline:1",
                             reference="INV A", allocations=[services.Allocation(a.pk, eur("2261.00"))]),
        services.PaymentItem(northwind.pk, eur("130.00"), received_on=DAY, fees=eur("2.00"), external_id="bankline:2",
                             payer_iban="DE02120300000000202051", allocations=[services.Allocation(b.pk, eur("119.00"))]),
        services.PaymentItem(northwind.pk, eur("500.00"), received_on=DAY, external_id="bankline:3",
                             allocations=[services.Allocation(c.pk, eur("500.00"))]),
        services.PaymentItem(northwind.pk, eur("200.00"), received_on=DAY, external_id="bankline:4",
                             allocations=[services.Allocation(c.pk, eur("200.00"))]),
    ]  # fmt: skip


def one_by_one(items):
    return [
        services.record_payment(
            it.account_id, it.amount, received_on=it.received_on, fees=it.fees, payer_iban=it.payer_iban,
            reference=it.reference, external_id=it.external_id, allocations=list(it.allocations),
        )
        for it in items
    ]  # fmt: skip


def in_minor_units(items):
    """The same items as ``MinorPayment`` (what a matching run passes)."""
    return [
        services.MinorPayment(
            it.account_id, it.amount.currency, it.amount.minor_units(), it.fees.minor_units() if it.fees else 0,
            it.received_on, it.payer_name, it.payer_iban, it.reference, it.external_id,
            [(a.invoice_id, a.amount.minor_units()) for a in it.allocations],
        )
        for it in items
    ]  # fmt: skip


@pytest.mark.parametrize("path", ["bulk", "bulk_minor_units", "per_line"])
def test_the_bulk_path_gives_the_per_line_results(world, path):
    acme, northwind, a, b, c = world
    items = batch(northwind, a, b, c)
    entries_before = JournalEntry.objects.count()
    if path == "bulk":
        done = services.record_payments_many(acme.pk, items, actor="test")
    elif path == "bulk_minor_units":
        done = services.record_payments_many(acme.pk, in_minor_units(items), actor="test")
    else:
        done = one_by_one(items)
    assert [p.number for p in done] == [
        "PAY-2027-000001",
        "PAY-2027-000002",
        "PAY-2027-000003",
        "PAY-2027-000004",
    ]
    state = {
        pk: rest for pk, *rest in Invoice.objects.values_list("pk", "status", "paid_minor", "paid_base_minor")
    }
    assert state == {
        a.pk: ["paid", 226100, 226100],
        b.pk: ["paid", 11900, 11900],
        c.pk: ["partially_paid", 70000, 70000],
    }
    rows = list(
        Payment.objects.order_by("number").values_list(
            "number", "account_id", "status", "amount_minor", "fees_minor", "applied_minor",
            "amount_base_minor", "fees_base_minor", "applied_base_minor", "deposit", "external_id", "received_on",
        )
    )  # fmt: skip
    assert rows == [
        (
            "PAY-2027-000001",
            northwind.pk,
            "received",
            226100,
            0,
            226100,
            226100,
            0,
            226100,
            "bank",
            "bankline:1",
            DAY,
        ),
        (
            "PAY-2027-000002",
            northwind.pk,
            "received",
            13000,
            200,
            11900,
            13000,
            200,
            11900,
            "bank",
            "bankline:2",
            DAY,
        ),
        (
            "PAY-2027-000003",
            northwind.pk,
            "received",
            50000,
            0,
            50000,
            50000,
            0,
            50000,
            "bank",
            "bankline:3",
            DAY,
        ),
        (
            "PAY-2027-000004",
            northwind.pk,
            "received",
            20000,
            0,
            20000,
            20000,
            0,
            20000,
            "bank",
            "bankline:4",
            DAY,
        ),
    ]
    apps = list(
        Application.objects.order_by("payment__number").values_list(
            "payment__number", "invoice_id", "invoice_number", "amount_minor", "invoice_amount_minor", "base_minor",
            "ar_base_minor", "applied_on",
        )
    )  # fmt: skip
    assert apps == [
        ("PAY-2027-000001", a.pk, a.number, 226100, 226100, 226100, 226100, DAY),
        ("PAY-2027-000002", b.pk, b.number, 11900, 11900, 11900, 11900, DAY),
        ("PAY-2027-000003", c.pk, c.number, 50000, 50000, 50000, 50000, DAY),
        ("PAY-2027-000004", c.pk, c.number, 20000, 20000, 20000, 20000, DAY),
    ]
    assert sorted(InvoicePayment.objects.values_list("invoice_id", "amount_minor", "base_minor", "day", "reference")) == sorted(
        [(a.pk, 226100, 226100, DAY, "PAY-2027-000001"), (b.pk, 11900, 11900, DAY, "PAY-2027-000002"),
         (c.pk, 50000, 50000, DAY, "PAY-2027-000003"), (c.pk, 20000, 20000, DAY, "PAY-2027-000004")]
    )  # fmt: skip
    assert balances(acme) == {
        chart.BANK: D("3089.00"),
        chart.BANK_FEES: D("2.00"),
        chart.CUSTOMER_CREDITS: D("-11.00"),
        chart.AR: D("490.00"),
        "revenue.services": D("-3000.00"),
        "tax_payable.DE-S-19": D("-570.00"),
    }
    assert ar_control() == [] and receivables() == []
    # 4 receipts + 4 applications one by one; one balanced entry for the batch's day in bulk.
    assert JournalEntry.objects.count() - entries_before == (8 if path == "per_line" else 1)
    if path != "per_line":
        assert Event.objects.filter(type="payments.payments.recorded").count() == 1
        assert Event.objects.filter(type="invoicing.invoices.payments_applied").count() == 1
        assert not Event.objects.filter(type="payments.payment.applied").exists()


def test_a_batch_with_one_over_applying_line_is_refused_whole_and_nothing_is_written(world):
    acme, northwind, a, b, c = world
    items = batch(northwind, a, b, c)
    # Line 4 asks 700.00 of C, which has 1,190.00 − 500.00 (line 3) = 690.00 left.
    items[3] = services.PaymentItem(northwind.pk, eur("700.00"), received_on=DAY, external_id="bankline:4",
                                    allocations=[services.Allocation(c.pk, eur("700.00"))])  # fmt: skip
    entries = JournalEntry.objects.count()
    with pytest.raises(DomainError) as error:
        services.record_payments_many(acme.pk, items, actor="test")
    assert error.value.code == "payments.over_applied"
    assert error.value.field == "items[3].allocations[0].amount"
    assert Payment.objects.count() == 0 and Application.objects.count() == 0
    assert not InvoicePayment.objects.exists()
    assert JournalEntry.objects.count() == entries
    assert {inv.status for inv in Invoice.objects.all()} == {"issued"}
    # The per-line path refuses the same line with the same code, and the number was not used.
    first = services.record_payments_many(acme.pk, items[:3], actor="test")
    assert first[0].number == "PAY-2027-000001"
    with pytest.raises(DomainError) as single:
        one_by_one(items[3:])
    assert single.value.code == "payments.over_applied"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount": eur("0.00")}, "payments.invalid_payment", "items[1].amount"),
        ({"fees": eur("130.00")}, "payments.invalid_payment", "items[1].fees"),
        ({"external_id": "bankline:1"}, "payments.duplicate", "external_id"),
        ({"reference": "x" * 141}, "payments.invalid_payment", "items[1].reference"),
        ({"account_id": 999999}, "payments.invalid_payment", "items[1].account_id"),
        (
            {"allocations": [services.Allocation(10**9, eur("1.00"))]},
            "invoicing.not_found",
            "items[1].allocations[0].invoice_id",
        ),
        (
            {"allocations": [services.Allocation(-1, eur("140.00"))]},
            "invoicing.not_found",
            "items[1].allocations[0].invoice_id",
        ),
    ],
)
def test_bad_items_are_refused_naming_the_item_and_nothing_is_written(world, change, code, field):
    acme, northwind, a, b, c = world
    items = batch(northwind, a, b, c)
    fields = {
        k: getattr(items[1], k)
        for k in ("account_id", "amount", "received_on", "fees", "external_id", "reference", "allocations")
    }
    items[1] = services.PaymentItem(**{**fields, **change})
    with pytest.raises(DomainError) as error:
        services.record_payments_many(acme.pk, items, actor="test")
    assert (error.value.code, error.value.field) == (code, field)
    assert Payment.objects.count() == 0
    assert {inv.status for inv in Invoice.objects.all()} == {"issued"}


def test_another_customers_invoice_and_a_paid_invoice_are_refused_as_one_by_one(world):
    acme, northwind, _a, b, _c = world
    other = customer(acme, name="Fabrikam Handels GmbH")
    x = invoice(other, "100.00")
    items = [services.PaymentItem(northwind.pk, eur("119.00"), received_on=DAY,
                                  allocations=[services.Allocation(x.pk, eur("119.00"))])]  # fmt: skip
    with pytest.raises(DomainError) as error:
        services.record_payments_many(acme.pk, items, actor="test")
    assert (error.value.code, error.value.field) == (
        "payments.invalid_application",
        "items[0].allocations[0].invoice_id",
    )
    services.record_payment(northwind.pk, eur("119.00"), allocations=[(b.pk, None)])
    items = [services.PaymentItem(northwind.pk, eur("119.00"), received_on=DAY,
                                  allocations=[services.Allocation(b.pk, eur("119.00"))])]  # fmt: skip
    with pytest.raises(DomainError) as error:
        services.record_payments_many(acme.pk, items, actor="test")
    assert error.value.code == "payments.over_applied"  # B is paid: nothing open


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount_minor": 0}, "payments.invalid_payment", "items[1].amount"),
        ({"amount_minor": 130.0}, "payments.invalid_payment", "items[1].amount"),
        ({"amount_minor": D("13000")}, "payments.invalid_payment", "items[1].amount"),
        ({"amount_minor": True}, "payments.invalid_payment", "items[1].amount"),
        ({"amount_minor": 10**18}, "payments.invalid_payment", "items[1].amount"),
        ({"currency": "EURO"}, "payments.invalid_payment", "items[1].amount"),
        ({"fee_minor": 13000}, "payments.invalid_payment", "items[1].fees"),
        ({"fee_minor": -1}, "payments.invalid_payment", "items[1].fees"),
        ({"external_id": "bankline:1"}, "payments.duplicate", "external_id"),
        ({"payer_name": "<b>x</b>" * 20}, "payments.invalid_payment", "items[1].payer_name"),
        ({"account_id": 999999}, "payments.invalid_payment", "items[1].account_id"),
        ({"account_id": "1"}, "payments.invalid_payment", "items[1].account_id"),
        ({"received_on": "2027-03-01"}, "payments.invalid_payment", "items[1].received_on"),
        ({"allocations": [("7", 100)]}, "payments.invalid_application", "items[1].allocations[0].invoice_id"),
        ({"allocations": [(10**9, 100)]}, "invoicing.not_found", "items[1].allocations[0].invoice_id"),
        ({"allocations": [(-1, 100)]}, "invoicing.not_found", "items[1].allocations[0].invoice_id"),
        ({"allocations": [("b", 0)]}, "payments.invalid_application", "items[1].allocations[0].invoice_id"),
        ({"allocations": [("b", 0)], "swap": True}, "payments.invalid_payment", "items[1].allocations[0].amount"),
        ({"allocations": [("b", 6000), ("b", 5900)], "swap": True}, "payments.invalid_application",
         "items[1].allocations"),
        ({"allocations": [("b", 12000)], "swap": True}, "payments.over_applied", "items[1].allocations[0].amount"),
        ({"allocations": [("b", 13001)], "swap": True}, "payments.exceeds_unapplied",
         "items[1].allocations[0].amount"),
    ],
)  # fmt: skip
def test_bad_minor_unit_items_are_refused_as_the_money_ones_and_nothing_is_written(
    world, change, code, field
):
    """Line 2 (130.00 with 2.00 fee for B's 119.00) made wrong one way at a time."""
    acme, northwind, a, b, c = world
    items = in_minor_units(batch(northwind, a, b, c))
    change = dict(change)
    if change.pop("swap", False):  # "b" stands for invoice B's id
        change["allocations"] = [(b.pk if i == "b" else i, m) for i, m in change["allocations"]]
    fields = {k: getattr(items[1], k) for k in services.MinorPayment.__dataclass_fields__}
    items[1] = services.MinorPayment(**{**fields, **change})
    with pytest.raises(DomainError) as error:
        services.record_payments_many(acme.pk, items, actor="test")
    assert (error.value.code, error.value.field) == (code, field)
    assert Payment.objects.count() == 0 and not InvoicePayment.objects.exists()
    assert {inv.status for inv in Invoice.objects.all()} == {"issued"}


def test_minor_unit_items_may_leave_the_amount_to_what_is_open():
    """(invoice, None) applies as much as is open, as ``Allocation(invoice)`` does: 1,000.00 for
    A's 2,261.00 leaves A partially paid with 1,261.00 open."""
    at(DAY)
    acme = seller()
    northwind = customer(acme)
    a = invoice(northwind)
    [pay] = services.record_payments_many(
        acme.pk,
        [services.MinorPayment(northwind.pk, "EUR", 100000, allocations=[(a.pk, None)])],
        actor="test",
    )
    a.refresh_from_db()
    assert (pay.applied_minor, pay.received_on, a.status, a.paid_minor) == (
        100000,
        DAY,
        "partially_paid",
        100000,
    )
