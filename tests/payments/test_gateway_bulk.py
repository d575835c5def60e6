"""The batch path for card and direct-debit money (``record_gateway_payments_many``) gives what
``record_payment`` per item gives: the same payments (held in payment clearing), applications,
invoice states and payment logs, the same ledger lines per account and day, the same
``payments.payment.received`` / ``payments.payment.applied`` events — with one journal entry per
booking date instead of one per receipt and application, and one invoicing batch event.

Hand-worked day (Acme Cloud GmbH, EUR; Northwind DE with 19 % VAT; Contoso US in USD, no VAT),
all received 2027-03-20 (1 USD = 0.9250 EUR that day):

- invoices: A 1,900.00 + 361.00 = 2,261.00; B 100.00 + 19.00 = 119.00 (Northwind); C 1,000.00 USD
  issued 2027-03-01 at the 2027-02-26 rate 0.9137 = 913.70 EUR (Contoso);
1. card, Northwind 2,261.00, the gateway kept 32.00 → A (as much as it takes: 2,261.00, paid);
2. direct debit on Northwind's mandate, 100.00 → B (open 19.00, partially paid);
3. card, Contoso 1,000.00 USD → C in full: worth 925.00 EUR, receivable 913.70, FX gain 11.30;
4. card, Northwind 19.00 → B (paid);
5. card, Northwind 50.00, not applied (customer credit).

Ledger: payment clearing (2,261 − 32) + 100 + 925 + 19 + 50 = 3,323.00; bank fees 32.00;
customer credits −(2,261 + 100 + 925 + 19 + 50) + (2,261 + 100 + 925 + 19) = −50.00; receivables
(2,261 + 119 + 913.70) − (2,261 + 100 + 913.70 + 19) = 0; FX gains −11.30; revenue −(1,900 + 100
+ 913.70) = −2,913.70; VAT −(361 + 19) = −380.00 (sum 0).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import transaction

from q2c.core.errors import DomainError
from q2c.invoicing import services as invoicing
from q2c.invoicing.checks import ar_control
from q2c.invoicing.models import Invoice, InvoicePayment
from q2c.ledger import chart
from q2c.ledger.models import JournalEntry, JournalLine
from q2c.payments import services
from q2c.payments.checks import receivables
from q2c.payments.dunning.models import PaymentRetry
from q2c.payments.models import Application, Payment
from q2c.payments.services.gateway_bulk import GatewayPaymentItem, record_gateway_payments_many
from q2c.platform.models import Event
from tests.payments.world import CONTOSO, at, balances, customer, eur, invoice, seller, usd

pytestmark = pytest.mark.django_db

DAY = date(2027, 3, 20)


@pytest.fixture
def world():
    at(date(2027, 3, 1))
    # A document outside the scope of VAT (the US customer's) states the seller's registration.
    acme = seller(registration="HRB 123456 B")
    invoicing.set_rate("USD", "EUR", date(2027, 2, 26), "0.9137")
    northwind = customer(acme)
    contoso = customer(acme, CONTOSO)
    a, b, c = invoice(northwind), invoice(northwind, "100.00"), invoice(contoso, "1000.00")
    mandate = services.create_mandate(northwind.pk, iban="DE89 3704 0044 0532 0130 00", debtor_name="Northwind Handels GmbH",
                                      signed_on=date(2027, 2, 15), reference="NW-2027-001")  # fmt: skip
    at(DAY)
    invoicing.set_rate("USD", "EUR", DAY, "0.9250")
    return acme, northwind, contoso, a, b, c, mandate


def day_items(northwind, contoso, a, b, c, mandate) -> list[GatewayPaymentItem]:
    return [
        GatewayPaymentItem(northwind.pk, eur("2261.00"), method="card", received_on=DAY, fees=eur("32.00"),
                           external_id="ch_1", reference=a.number, allocations=[services.Allocation(a.pk, None)]),
        GatewayPaymentItem(northwind.pk, eur("100.00"), method="sepa_dd", received_on=DAY, external_id="E2E-2",
                           payer_name="Northwind Handels GmbH", payer_iban="DE89370400440532013000",
                           mandate_id=mandate.pk, allocations=[services.Allocation(b.pk, eur("100.00"))]),
        GatewayPaymentItem(contoso.pk, usd("1000.00"), method="card", received_on=DAY, external_id="ch_3",
                           allocations=[services.Allocation(c.pk, None)]),
        GatewayPaymentItem(northwind.pk, eur("19.00"), method="card", received_on=DAY, external_id="ch_4",
                           allocations=[services.Allocation(b.pk, eur("19.00"))]),
        GatewayPaymentItem(northwind.pk, eur("50.00"), method="card", received_on=DAY, external_id="ch_5"),
    ]  # fmt: skip


def one_by_one(items: list[GatewayPaymentItem]) -> list[Payment]:
    return [
        services.record_payment(
            it.account_id, it.amount, method=it.method, received_on=it.received_on, fees=it.fees,
            payer_name=it.payer_name, payer_iban=it.payer_iban, reference=it.reference, external_id=it.external_id,
            allocations=list(it.allocations), mandate_id=it.mandate_id, actor="test",
        )
        for it in items
    ]  # fmt: skip


def snapshot(since_event: int, since_entry: int) -> dict[str, Any]:
    """What the day wrote, ids replaced by payment numbers (PostgreSQL's sequences do not roll back)."""
    number_of = dict(Payment.objects.values_list("pk", "number"))
    payments = list(
        Payment.objects.order_by("number").values_list(
            "number", "account_id", "method", "status", "currency", "amount_minor", "fees_minor", "applied_minor",
            "refunded_minor", "received_on", "base_currency", "rate", "amount_base_minor", "fees_base_minor",
            "applied_base_minor", "deposit", "payer_name", "payer_iban", "reference", "external_id", "mandate_id",
            "settled_on", "created_by",
        )
    )  # fmt: skip
    applications = sorted(
        (number_of[p], *rest)
        for p, *rest in Application.objects.values_list(
            "payment_id", "invoice_id", "invoice_number", "currency", "amount_minor", "invoice_currency",
            "invoice_amount_minor", "base_minor", "ar_base_minor", "reopened_part_minor", "applied_on", "reversed",
        )
    )  # fmt: skip
    invoices = sorted(Invoice.objects.values_list("pk", "status", "paid_minor", "paid_base_minor"))
    logs = sorted(
        InvoicePayment.objects.values_list("invoice_id", "day", "amount_minor", "base_minor", "reference")
    )
    lines: dict[tuple[str, date], int] = defaultdict(int)
    for key, day, debit, credit in JournalLine.objects.filter(entry__pk__gt=since_entry).values_list(
        "account__key", "entry__date", "debit_minor", "credit_minor"
    ):
        lines[(key, day)] += debit - credit
    evs = []
    for kind, payload in (
        Event.objects.filter(seq__gt=since_event, type__startswith="payments.payment.")
        .order_by("seq")
        .values_list("type", "payload")
    ):
        body = {k: v for k, v in payload.items() if k not in ("payment_id", "application_id")}
        evs.append((kind, number_of[payload["payment_id"]], body))
    paid: list[tuple[int, int, str]] = []
    for kind, payload in (
        Event.objects.filter(seq__gt=since_event, type__startswith="invoicing.invoice")
        .order_by("seq")
        .values_list("type", "payload")
    ):
        if kind == "invoicing.invoice.payment_applied":
            paid.append((payload["invoice_id"], int(D(payload["amount"]["amount"]) * 100), payload["status"]))
        else:
            paid.extend((i["invoice_id"], i["amount_minor"], i["status"]) for i in payload["items"])
    return {"payments": payments, "applications": applications, "invoices": invoices, "logs": logs,
            "lines": {k: v for k, v in lines.items() if v}, "events": evs, "invoice_payments": paid}  # fmt: skip


def run(path: str, items: list[GatewayPaymentItem], acme: Any) -> tuple[dict[str, Any], int]:
    """One path inside a savepoint that is rolled back afterwards: (what it wrote, entries made)."""
    with transaction.atomic():
        since_event = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        since_entry = JournalEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        done = (
            record_gateway_payments_many(acme.pk, items, actor="test")
            if path == "batch"
            else one_by_one(items)
        )
        assert [p.number for p in done] == [f"PAY-2027-00000{n}" for n in range(1, 6)]
        assert balances(acme) == {
            chart.PAYMENT_CLEARING: D("3323.00"),
            chart.BANK_FEES: D("32.00"),
            chart.CUSTOMER_CREDITS: D("-50.00"),
            chart.FX_GAINS: D("-11.30"),
            "revenue.services": D("-2913.70"),
            "tax_payable.DE-S-19": D("-380.00"),
        }
        assert ar_control() == [] and receivables() == []
        state = snapshot(since_event, since_entry)
        entries = JournalEntry.objects.filter(pk__gt=since_entry).count()
        transaction.set_rollback(True)
    return state, entries


def test_the_batch_writes_what_record_payment_item_by_item_writes(world):
    acme, northwind, contoso, a, b, c, mandate = world
    items = day_items(northwind, contoso, a, b, c, mandate)
    single, single_entries = run("single", items, acme)
    batch, batch_entries = run("batch", items, acme)
    assert batch.keys() == single.keys()
    for k in single:  # one by one: the failure names the part that differs
        assert (k, batch[k]) == (k, single[k])
    # The hand-worked day, so the comparison is not of two equal mistakes.
    assert single["invoices"] == [(a.pk, "paid", 226100, 226100), (b.pk, "paid", 11900, 11900),
                                  (c.pk, "paid", 100000, 91370)]  # fmt: skip
    assert [(p[0], p[2], p[5], p[6], p[7], p[12], p[15], p[20]) for p in single["payments"]] == [
        ("PAY-2027-000001", "card", 226100, 3200, 226100, 226100, "payment_clearing", None),
        ("PAY-2027-000002", "sepa_dd", 10000, 0, 10000, 10000, "payment_clearing", mandate.pk),
        ("PAY-2027-000003", "card", 100000, 0, 100000, 92500, "payment_clearing", None),
        ("PAY-2027-000004", "card", 1900, 0, 1900, 1900, "payment_clearing", None),
        ("PAY-2027-000005", "card", 5000, 0, 0, 5000, "payment_clearing", None),
    ]
    assert [(x[0], x[1], x[4], x[7], x[8]) for x in single["applications"]] == [
        ("PAY-2027-000001", a.pk, 226100, 226100, 226100),
        ("PAY-2027-000002", b.pk, 10000, 10000, 10000),
        ("PAY-2027-000003", c.pk, 100000, 92500, 91370),
        ("PAY-2027-000004", b.pk, 1900, 1900, 1900),
    ]
    assert single["invoice_payments"] == [(a.pk, 226100, "paid"), (b.pk, 10000, "partially_paid"),
                                          (c.pk, 100000, "paid"), (b.pk, 1900, "paid")]  # fmt: skip
    assert [(kind, number) for kind, number, _ in single["events"]] == [
        ("payments.payment.received", "PAY-2027-000001"),
        ("payments.payment.applied", "PAY-2027-000001"),
        ("payments.payment.received", "PAY-2027-000002"),
        ("payments.payment.applied", "PAY-2027-000002"),
        ("payments.payment.received", "PAY-2027-000003"),
        ("payments.payment.applied", "PAY-2027-000003"),
        ("payments.payment.received", "PAY-2027-000004"),
        ("payments.payment.applied", "PAY-2027-000004"),
        ("payments.payment.received", "PAY-2027-000005"),
    ]
    assert single["events"][5][2]["fx"] == {"amount": "11.30", "currency": "EUR"}
    # Five receipts and four applications one by one; one balanced entry for the day in a batch.
    assert (single_entries, batch_entries) == (9, 1)


def test_a_batch_with_one_bad_item_is_refused_whole_and_writes_nothing(world):
    acme, northwind, contoso, a, b, c, mandate = world
    items = day_items(northwind, contoso, a, b, c, mandate)
    # Item 4 asks 20.00 of B, which has 119.00 − 100.00 (item 2) = 19.00 left.
    items[3] = GatewayPaymentItem(northwind.pk, eur("20.00"), method="card", received_on=DAY, external_id="ch_4",
                                  allocations=[services.Allocation(b.pk, eur("20.00"))])  # fmt: skip
    entries, events = JournalEntry.objects.count(), Event.objects.count()
    with pytest.raises(DomainError) as error:
        record_gateway_payments_many(acme.pk, items, actor="test")
    assert (error.value.code, error.value.field) == (
        "payments.over_applied",
        "items[3].allocations[0].amount",
    )
    assert not Payment.objects.exists() and not Application.objects.exists()
    assert (JournalEntry.objects.count(), Event.objects.count()) == (entries, events)
    assert Invoice.objects.get(pk=b.pk).status == "issued"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"method": "bank_transfer"}, "payments.invalid_payment", "items[1].method"),
        ({"mandate_id": 999_999}, "payments.invalid_mandate", "items[1].mandate_id"),
        (
            {"method": "card"},
            "payments.invalid_mandate",
            "items[1].mandate_id",
        ),  # a mandate on a card payment
        ({"fees": eur("100.00")}, "payments.invalid_payment", "items[1].fees"),
        (
            {"external_id": "ch_1"},
            "payments.duplicate",
            "external_id",
        ),  # same id as item 0, but another method
    ],
)
def test_what_the_batch_refuses(world, change, code, field):
    acme, northwind, contoso, a, b, c, mandate = world
    items = day_items(northwind, contoso, a, b, c, mandate)
    fields = {k: getattr(items[1], k) for k in GatewayPaymentItem.__dataclass_fields__}
    items[1] = GatewayPaymentItem(**{**fields, **change})
    if change.get("external_id") == "ch_1":
        # ch_1 is item 0's card id; a direct debit may carry the same text (ids are per method) …
        record_gateway_payments_many(acme.pk, items, actor="test")
        assert Payment.objects.count() == 5
        # … but the same card charge twice is a duplicate, also across batches.
        with pytest.raises(DomainError) as error:
            record_gateway_payments_many(acme.pk, [items[0]], actor="test")
        assert (error.value.code, error.value.field) == (code, field)
        return
    with pytest.raises(DomainError) as error:
        record_gateway_payments_many(acme.pk, items, actor="test")
    assert (error.value.code, error.value.field) == (code, field)
    assert not Payment.objects.exists()


def test_a_revoked_mandate_is_refused(world):
    acme, northwind, contoso, a, b, c, mandate = world
    services.revoke_mandate(mandate.pk)
    items = day_items(northwind, contoso, a, b, c, mandate)
    with pytest.raises(DomainError) as error:
        record_gateway_payments_many(acme.pk, items, actor="test")
    assert (error.value.code, error.value.field) == ("payments.invalid_mandate", "items[1].mandate_id")
    assert not Payment.objects.exists()


def test_the_batch_s_events_reach_their_subscribers_a_paid_retry_cancels_the_retries_still_planned(world):
    # Dunning listens to payments.payment.received: a retry's money (external id retry:<failed>:<n>)
    # cancels the failed payment's other planned retries — here both of insufficient funds' two.
    acme, northwind, _contoso, a, _b, _c, _mandate = world
    pending = services.record_payment(
        northwind.pk, eur("2261.00"), method="card", pending=True, external_id="ch_nsf", received_on=DAY
    )
    failed = services.fail_payment(pending.pk, code="insufficient_funds")
    assert sorted(PaymentRetry.objects.values_list("attempt", "status")) == [(1, "planned"), (2, "planned")]
    retry = GatewayPaymentItem(
        northwind.pk, eur("2261.00"), method="card", received_on=DAY, external_id=f"retry:{failed.pk}:1",
        allocations=[services.Allocation(a.pk, None)],
    )  # fmt: skip
    record_gateway_payments_many(acme.pk, [retry], actor="test")
    assert sorted(PaymentRetry.objects.values_list("attempt", "status", "outcome")) == [
        (1, "cancelled", "an earlier retry was paid"),
        (2, "cancelled", "an earlier retry was paid"),
    ]
