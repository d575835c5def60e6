"""Refunds, chargebacks (won and lost), reversals reopening invoices, invoice disputes and
write-offs with approval above the limit; the ledger ties after each movement.

Northwind's consulting invoice: 1,900.00 + 19 % VAT 361.00 = 2,261.00 (northwind.md's seller).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.core.errors import DomainError, InvalidTransition
from q2c.invoicing.checks import ar_control
from q2c.payments import queries, services
from q2c.payments.checks import receivables
from q2c.payments.models import Payment, Refund
from q2c.platform.models import Event
from tests.payments.world import at, balances, customer, eur, invoice, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    at(date(2027, 3, 1))
    return seller()


@pytest.fixture
def northwind(acme):
    return customer(acme)


def ties() -> None:
    assert ar_control() == []
    assert receivables() == []


def test_an_overpayment_is_refunded_by_transfer_and_more_than_unapplied_is_refused(acme, northwind):
    inv = invoice(northwind)
    pay = services.record_payment(northwind.pk, eur("2300.00"), allocations=[(inv.pk, None)])
    # 2,300.00 − 2,261.00 = 39.00 unapplied: 39.01 is too much, nothing changes.
    with pytest.raises(DomainError) as err:
        services.refund(pay.pk, eur("39.01"), method="transfer")
    assert (err.value.code, err.value.field) == ("payments.invalid_refund", "amount")
    assert not Refund.objects.exists()
    services.refund(pay.pk, method="transfer", reason="overpaid")
    pay.refresh_from_db()
    assert (pay.refunded_minor, pay.unapplied_minor) == (3900, 0)
    # Bank: 2,300.00 in, 39.00 out = 2,261.00; no customer credit left.
    b = balances(acme)
    assert b["bank"] == D("2261.00") and "customer_credits" not in b
    assert Event.objects.filter(type="payments.refund.made").count() == 1
    ties()


def test_a_negative_refund_is_refused(acme, northwind):
    pay = services.record_payment(northwind.pk, eur("50.00"))
    with pytest.raises(DomainError) as err:
        services.refund(pay.pk, eur("-1.00"))
    assert err.value.code == "payments.invalid_payment"


def test_a_chargeback_lost_reverses_the_payment_reopens_the_invoice_and_books_the_fee(acme, northwind):
    inv = invoice(northwind)
    pay = services.record_payment(northwind.pk, eur("2261.00"), method="card", allocations=[(inv.pk, None)])
    dispute = services.open_dispute(pay.pk, reason="fraudulent", external_id="dp_1")
    with pytest.raises(DomainError) as err:
        services.open_dispute(pay.pk)
    assert err.value.code == "payments.dispute_open"
    services.resolve_dispute(dispute.pk, won=False, fee=eur("15.00"))
    pay.refresh_from_db()
    assert (pay.status, pay.failure_code) == ("reversed", "chargeback")
    item = queries.open_receivable(inv.pk)
    assert item is not None and item.open == eur("2261.00")
    inv.refresh_from_db()
    assert (inv.status, inv.open_minor) == ("issued", 226100)
    # Clearing: +2,261.00 − 2,261.00 − 15.00 fee = −15.00; receivables 2,261.00 again.
    b = balances(acme)
    assert (b["payment_clearing"], b["bank_fees"], b["ar"]) == (D("-15.00"), D("15.00"), D("2261.00"))
    ties()
    # Paid again by transfer: the reopened amount is what is applied.
    services.record_payment(northwind.pk, eur("2261.00"), allocations=[(inv.pk, None)])
    assert queries.open_receivable(inv.pk) is None
    assert "ar" not in balances(acme)
    ties()
    with pytest.raises(InvalidTransition):
        services.resolve_dispute(dispute.pk, won=True)


def test_a_chargeback_won_changes_nothing(acme, northwind):
    inv = invoice(northwind)
    pay = services.record_payment(northwind.pk, eur("2261.00"), method="card", allocations=[(inv.pk, None)])
    before = balances(acme)
    services.resolve_dispute(services.open_dispute(pay.pk).pk, won=True)
    assert balances(acme) == before
    assert Payment.objects.get(pk=pay.pk).status == "received"
    assert [e for e in Event.objects.filter(type__startswith="payments.dispute").values_list("type", flat=True)] == [
        "payments.dispute.opened", "payments.dispute.won",
    ]  # fmt: skip


def test_only_card_payments_are_charged_back(acme, northwind):
    pay = services.record_payment(northwind.pk, eur("10.00"))
    with pytest.raises(DomainError) as err:
        services.open_dispute(pay.pk)
    assert err.value.code == "payments.invalid_dispute"


def test_an_invoice_dispute_marks_the_receivable_disputed_until_resolved(acme, northwind):
    inv = invoice(northwind)
    dispute = services.open_dispute(invoice_id=inv.pk, reason="wrong quantity")
    assert queries.open_receivable(inv.pk).disputed is True
    services.resolve_dispute(dispute.pk, won=True)
    assert queries.open_receivable(inv.pk).disputed is False


def test_a_small_remainder_is_written_off_at_once(acme, northwind):
    inv = invoice(northwind)
    services.record_payment(northwind.pk, eur("2250.00"), allocations=[(inv.pk, None)])
    row = services.write_off(inv.pk, reason="short payment", actor="anna")
    assert (row.status, row.amount) == ("approved", eur("11.00"))  # 2,261.00 − 2,250.00
    inv.refresh_from_db()
    assert inv.status == "uncollectible"
    assert balances(acme)["bad_debt"] == D("11.00")
    assert queries.open_receivable(inv.pk) is None
    ties()


def test_a_write_off_above_the_limit_waits_for_a_second_person(acme, northwind):
    inv = invoice(northwind)  # 2,261.00 open; the default limit is 50.00
    row = services.write_off(inv.pk, reason="customer insolvent", actor="anna")
    assert row.status == "pending"
    inv.refresh_from_db()
    assert inv.status == "issued"
    with pytest.raises(DomainError) as err:
        services.approve_write_off(row.pk, actor="anna")
    assert err.value.code == "payments.same_approver"
    services.approve_write_off(row.pk, actor="ben")
    inv.refresh_from_db()
    assert inv.status == "uncollectible"
    assert balances(acme)["bad_debt"] == D("2261.00")
    ties()
    with pytest.raises(InvalidTransition):
        services.reject_write_off(row.pk, actor="ben")


def test_a_write_off_without_a_reason_or_of_nothing_open_is_refused(acme, northwind):
    inv = invoice(northwind)
    with pytest.raises(DomainError) as err:
        services.write_off(inv.pk, reason=" ")
    assert err.value.field == "reason"
    services.record_payment(northwind.pk, eur("2261.00"), allocations=[(inv.pk, None)])
    with pytest.raises(DomainError) as err:
        services.write_off(inv.pk, reason="x")
    assert err.value.code == "payments.invalid_write_off"
