"""Recording payments and applying them: partial and full, several invoices at once,
overpayment kept as customer credit and used later, bank fees, another currency with the FX
difference posted, and what is refused (nothing written). The ledger ties after each.

Amounts are worked out by hand in the comments. A consulting invoice for Northwind (DE) of
1,900.00 net + 19 % VAT 361.00 = 2,261.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.core.errors import DomainError, InvalidTransition
from q2c.core.money import Money
from q2c.invoicing import services as invoicing
from q2c.invoicing.checks import ar_control
from q2c.ledger.models import JournalEntry
from q2c.payments import queries, services
from q2c.payments.checks import receivables
from q2c.payments.models import Application, Payment
from tests.payments.world import CONTOSO, FABRIKAM, at, balances, customer, eur, invoice, seller, usd

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    at(date(2027, 3, 1))
    # A document outside the scope of VAT (the US customer's) states the seller's registration (BR-CO-26).
    return seller(registration="HRB 123456 B")


@pytest.fixture
def northwind(acme):
    return customer(acme)


def ties() -> None:
    assert ar_control() == []
    assert receivables() == []


def test_a_partial_then_a_full_payment_settle_an_invoice(acme, northwind):
    inv = invoice(northwind)
    first = services.record_payment(northwind.pk, eur("1000.00"), allocations=[(inv.pk, None)], reference="part")
    assert first.number == "PAY-2027-000001"
    inv.refresh_from_db()
    assert (inv.status, inv.open_minor) == ("partially_paid", 126100)  # 2,261.00 − 1,000.00
    assert queries.open_receivable(inv.pk).open == eur("1261.00")
    services.record_payment(northwind.pk, eur("1261.00"), allocations=[(inv.pk, eur("1261.00"))])
    inv.refresh_from_db()
    assert inv.status == "paid"
    assert queries.open_receivable(inv.pk) is None
    # Dr bank 2,261.00 / Cr AR 2,261.00 (through customer credits, which end at zero).
    assert balances(acme) == {"bank": D("2261.00"), "tax_payable.DE-S-19": D("-361.00"), "revenue.services": D("-1900.00")}
    ties()


def test_one_payment_pays_several_invoices_and_the_rest_is_customer_credit(acme, northwind):
    a = invoice(northwind)  # 2,261.00
    b = invoice(northwind, "100.00")  # 100.00 + 19.00 = 119.00
    pay = services.record_payment(northwind.pk, eur("2500.00"), allocations=[(b.pk, None), (a.pk, None)])
    pay.refresh_from_db()
    # 2,500.00 − 2,261.00 − 119.00 = 120.00 left as credit.
    assert pay.unapplied_minor == 12000
    assert queries.customer_credit(northwind.pk) == {"EUR": eur("120.00")}
    assert balances(acme)["customer_credits"] == D("-120.00")
    assert balances(acme)["bank"] == D("2500.00")
    assert "ar" not in balances(acme)
    ties()
    # The credit pays the next invoice (100.00 + 19.00 = 119.00): 1.00 stays in credit.
    c = invoice(northwind, "100.00")
    applied = services.apply_credits(northwind.pk)
    assert [(x.invoice_id, x.amount) for x in applied] == [(c.pk, eur("119.00"))]
    assert queries.customer_credit(northwind.pk) == {"EUR": eur("1.00")}
    ties()


def test_the_daily_job_applies_credit_of_the_accounts_that_hold_some_and_leaves_the_others(acme, northwind):
    fabrikam = customer(acme, FABRIKAM)
    a = invoice(northwind)  # 2,261.00
    services.record_payment(northwind.pk, eur("2500.00"), allocations=[(a.pk, None)])  # 239.00 credit
    f = invoice(fabrikam)
    services.record_payment(fabrikam.pk, Money.from_minor(f.total_minor, "EUR"), allocations=[(f.pk, None)])
    c = invoice(northwind, "100.00")  # 100.00 + 19.00 = 119.00
    g = invoice(fabrikam, "100.00")  # Fabrikam paid exactly: no credit to apply to it
    assert services.apply_all_credits(date(2027, 3, 1)) == {"accounts": 1, "applications": 1}
    c.refresh_from_db()
    g.refresh_from_db()
    assert (c.status, g.status) == ("paid", "issued")
    assert queries.customer_credit(northwind.pk) == {"EUR": eur("120.00")}  # 239.00 − 119.00
    # The next day Northwind still holds credit but nothing is open: nothing more is applied.
    assert services.apply_all_credits(date(2027, 3, 2)) == {"accounts": 1, "applications": 0}
    ties()


def test_open_receivables_due_by_a_date_leave_out_the_invoices_due_later(acme, northwind):
    march = invoice(northwind)  # issued 2027-03-01, net 30: due 2027-03-31
    at(date(2027, 3, 15))
    mid = invoice(northwind, "100.00")  # issued 2027-03-15: due 2027-04-14
    assert (march.due_date, mid.due_date) == (date(2027, 3, 31), date(2027, 4, 14))
    due = lambda day: [i.invoice_id for i in queries.open_receivables(account_id=northwind.pk, due_by=day)]  # noqa: E731
    assert due(date(2027, 3, 30)) == []
    assert due(date(2027, 3, 31)) == [march.pk]
    assert due(date(2027, 4, 14)) == [march.pk, mid.pk]
    assert [i.invoice_id for i in queries.open_receivables(account_id=northwind.pk)] == [march.pk, mid.pk]


def test_bank_fees_are_booked_and_the_customer_is_credited_with_the_gross(acme, northwind):
    # northwind.md step 8: 4,745.00 arrives for 4,760.00 with a 15.00 bank fee.
    inv = invoice(northwind, "4000.00")  # 4,000.00 + 760.00 VAT = 4,760.00
    services.record_payment(northwind.pk, eur("4760.00"), fees=eur("15.00"), allocations=[(inv.pk, None)])
    inv.refresh_from_db()
    assert inv.status == "paid"
    b = balances(acme)
    assert (b["bank"], b["bank_fees"]) == (D("4745.00"), D("15.00"))
    ties()


def test_a_dollar_invoice_paid_later_posts_the_fx_difference(acme):
    # Issued 2027-03-01 at 1 USD = 0.9137 EUR: 1,000.00 USD (a US customer: no VAT) = 913.70 EUR.
    invoicing.set_rate("USD", "EUR", date(2027, 2, 26), "0.9137")
    contoso = customer(acme, CONTOSO)
    inv = invoice(contoso, "1000.00")
    assert inv.total_minor == 100000 and inv.total_base_minor == 91370
    # Paid 2027-03-20 at 0.9250: the dollars are worth 925.00 EUR; gain 925.00 − 913.70 = 11.30.
    at(date(2027, 3, 20))
    invoicing.set_rate("USD", "EUR", date(2027, 3, 20), "0.9250")
    pay = services.record_payment(contoso.pk, usd("1000.00"), allocations=[(inv.pk, None)])
    app = Application.objects.get(payment=pay)
    assert (app.base, app.ar_base) == (eur("925.00"), eur("913.70"))
    b = balances(acme)
    assert (b["bank"], b["fx_gains"]) == (D("925.00"), D("-11.30"))
    assert "ar" not in b and "customer_credits" not in b
    ties()


def test_a_euro_payment_for_a_dollar_invoice_converts_at_the_payment_date_rate(acme):
    invoicing.set_rate("USD", "EUR", date(2027, 3, 1), "0.9000")  # 1,000.00 USD = 900.00 EUR at issue
    contoso = customer(acme, CONTOSO)
    inv = invoice(contoso, "1000.00")
    at(date(2027, 3, 10))
    invoicing.set_rate("EUR", "USD", date(2027, 3, 10), "1.2500")
    # 400.00 EUR × 1.25 = 500.00 USD off the invoice; AR relieved 500.00 × 0.90 = 450.00 EUR;
    # the cash is 400.00 EUR: a loss of 50.00.
    pay = services.record_payment(contoso.pk, eur("400.00"), allocations=[(inv.pk, eur("400.00"))])
    app = Application.objects.get(payment=pay)
    assert (app.invoice_amount, app.ar_base) == (usd("500.00"), eur("450.00"))
    inv.refresh_from_db()
    assert inv.open_minor == 50000
    assert balances(acme)["fx_losses"] == D("50.00")
    assert balances(acme)["ar"] == D("450.00")
    ties()


def test_applying_more_than_is_open_is_refused_and_nothing_is_written(acme, northwind):
    inv = invoice(northwind)
    pay = services.record_payment(northwind.pk, eur("3000.00"))
    entries = JournalEntry.objects.count()
    with pytest.raises(DomainError) as err:
        services.apply_payment(pay.pk, [(inv.pk, eur("2261.01"))])
    assert (err.value.code, err.value.field) == ("payments.over_applied", "allocations[0].amount")
    inv.refresh_from_db()
    pay.refresh_from_db()
    assert (inv.open_minor, pay.applied_minor, JournalEntry.objects.count()) == (226100, 0, entries)
    assert not Application.objects.exists()


def test_applying_more_than_the_payment_has_left_is_refused(acme, northwind):
    inv = invoice(northwind)
    pay = services.record_payment(northwind.pk, eur("100.00"))
    with pytest.raises(DomainError) as err:
        services.apply_payment(pay.pk, [(inv.pk, eur("100.01"))])
    assert err.value.code == "payments.exceeds_unapplied"


@pytest.mark.parametrize(
    ("amount", "field", "code"),
    [
        (eur("-5.00"), "amount", "payments.invalid_payment"),
        (eur("0.00"), "amount", "payments.invalid_payment"),
        (eur("10.001"), "amount", "money.too_many_decimals"),
    ],
)
def test_bad_amounts_are_refused(acme, northwind, amount, field, code):
    with pytest.raises(DomainError) as err:
        services.record_payment(northwind.pk, amount)
    assert (err.value.code, err.value.field) == (code, field)
    assert not Payment.objects.exists()


def test_fees_not_below_the_amount_and_unknown_methods_are_refused(acme, northwind):
    with pytest.raises(DomainError) as err:
        services.record_payment(northwind.pk, eur("10.00"), fees=eur("10.00"))
    assert err.value.field == "fees"
    with pytest.raises(DomainError) as err:
        services.record_payment(northwind.pk, eur("10.00"), method="bitcoin")
    assert err.value.field == "method"
    assert not Payment.objects.exists()


def test_applying_to_a_void_invoice_or_another_customers_is_refused(acme, northwind):
    void = invoice(northwind)
    invoicing.void(void.pk)
    other = invoice(customer(acme, name="Other GmbH"))
    pay = services.record_payment(northwind.pk, eur("500.00"))
    with pytest.raises(DomainError) as err:
        services.apply_payment(pay.pk, [(void.pk, None)])
    assert err.value.code == "payments.invoice_not_open"
    with pytest.raises(DomainError) as err:
        services.apply_payment(pay.pk, [(other.pk, None)])
    assert err.value.code == "payments.invalid_application"
    pay.refresh_from_db()
    assert pay.applied_minor == 0


def test_a_payment_with_an_external_id_is_recorded_once(acme, northwind):
    services.record_payment(northwind.pk, eur("10.00"), external_id="BANK-1")
    with pytest.raises(DomainError) as err:
        services.record_payment(northwind.pk, eur("10.00"), external_id="BANK-1")
    assert err.value.code == "payments.duplicate"
    assert Payment.objects.count() == 1


def test_a_pending_payment_is_applied_when_it_arrives_and_a_failed_one_posts_nothing(acme, northwind):
    inv = invoice(northwind)
    pending = services.record_payment(northwind.pk, eur("2261.00"), method="card", pending=True)
    assert balances(acme).get("payment_clearing") is None
    failed = services.record_payment(northwind.pk, eur("2261.00"), method="card", pending=True)
    services.fail_payment(failed.pk, code="card_declined", reason="Do not honour")
    with pytest.raises(InvalidTransition):
        services.fail_payment(failed.pk, code="card_declined")
    services.receive_pending(pending.pk, allocations=[(inv.pk, None)])
    assert balances(acme)["payment_clearing"] == D("2261.00")
    services.settle_payment(pending.pk, fees=eur("31.90"))
    b = balances(acme)
    assert (b["bank"], b["bank_fees"], b.get("payment_clearing")) == (D("2229.10"), D("31.90"), None)
    ties()
