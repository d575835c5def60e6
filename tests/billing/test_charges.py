"""One-off charges (``q2c.billing.services.add_charge``): billed once on the account's next
invoice, taxed and posted like every other line; idempotent per reference; bad input refused
with the field named and nothing written.

Expected values by hand: Northwind (DE business, 19 %) has 10 seats at 30.00 a month = 300.00;
with a late fee of 5.00 the February invoice is 305.00 net, VAT 19 % of 305.00 = 57.95, total
362.95; the fee alone is 5.00 + 0.95 = 5.95.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from q2c.billing import services
from q2c.billing.charges import ChargeConflict, ChargeInvalid
from q2c.billing.models import Charge
from q2c.billing.run import bill_run
from q2c.core.money import Money
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.ledger import queries as ledger_queries
from tests.billing.test_bill_run import subscribe
from tests.billing.world import CONTOSO, at, customer, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    clk = at(date(2027, 1, 1))
    acme = seller()
    northwind = customer(acme)
    subscribe(acme, northwind, contract_id=1)
    bill_run(date(2027, 1, 1), actor="test")
    return clk, acme, northwind


def fee(acme: Any, acct: Any, amount: str | Money = "5.00", **kw: Any) -> Charge:
    args: dict[str, Any] = {
        "entity_id": acme.pk, "account_id": acct.pk, "currency": "EUR", "description": "Late fee INV-2027-000001",
        "amount": amount if isinstance(amount, Money) else Money(D(amount), "EUR"), "tax_category": "service", "reference": "late-fee:INV-2027-000001",
        "bill_on": date(2027, 1, 20),
    }  # fmt: skip
    args.update(kw)
    return services.add_charge(**args, actor="dunning")


def test_a_late_fee_is_billed_once_on_the_next_invoice_taxed_and_posted_to_revenue(world):
    clk, acme, northwind = world
    charge = fee(acme, northwind)
    clk.set(date(2027, 2, 1))
    bill_run(date(2027, 2, 1), actor="test")
    inv = Invoice.objects.get(number="INV-2027-000002")
    assert (inv.net_minor, inv.tax_minor, inv.total_minor) == (30500, 5795, 36295)
    lines = [(ln.item_id, ln.description, ln.net_minor, ln.source_type)
             for ln in InvoiceLine.objects.filter(invoice=inv).order_by("position")]  # fmt: skip
    assert lines == [
        ("SEAT", "SEAT — Platform seat", 30000, "schedule_item"),
        ("", "Late fee INV-2027-000001", 500, "billing_charge"),
    ]
    charge.refresh_from_db()
    assert charge.invoice_id == inv.pk
    balances = ledger_queries.trial_balance(acme.pk, date(2027, 2, 28)).by_key()
    assert balances["revenue.other"].amount == D("-5.00")
    # The next run (and a rerun of the date) does not bill it again.
    bill_run(date(2027, 2, 1), actor="test")
    clk.set(date(2027, 3, 1))
    bill_run(date(2027, 3, 1), actor="test")
    march = Invoice.objects.get(number="INV-2027-000003")
    assert march.net_minor == 30000
    assert InvoiceLine.objects.filter(source_type="billing_charge").count() == 1


def test_a_charge_with_nothing_else_due_gets_an_invoice_of_its_own(world):
    clk, acme, northwind = world
    fee(acme, northwind)
    clk.set(date(2027, 1, 20))
    bill_run(date(2027, 1, 20), actor="test")
    inv = Invoice.objects.get(number="INV-2027-000002")
    assert (inv.issue_date, inv.net_minor, inv.tax_minor, inv.total_minor) == (
        date(2027, 1, 20),
        500,
        95,
        595,
    )


def test_a_charge_is_not_billed_before_its_date(world):
    clk, acme, northwind = world
    fee(acme, northwind, bill_on=date(2027, 2, 2))
    clk.set(date(2027, 2, 1))
    bill_run(date(2027, 2, 1), actor="test")
    assert Invoice.objects.get(number="INV-2027-000002").net_minor == 30000
    assert Charge.objects.get().invoice_id is None


def test_adding_the_same_reference_again_is_harmless_and_other_terms_conflict(world):
    _, acme, northwind = world
    first = fee(acme, northwind)
    assert fee(acme, northwind).pk == first.pk
    with pytest.raises(ChargeConflict) as info:
        fee(acme, northwind, amount="7.50")
    assert info.value.code == "billing.charge_conflict"
    assert Charge.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "USD", "amount": Money(D("5.00"), "USD")}, "currency"),
        ({"amount": Money(D("5.00"), "USD")}, "amount"),
        ({"amount": Money(D("5.005"), "EUR")}, "amount"),
        ({"amount": Money(D("0"), "EUR")}, "amount"),
        ({"amount": Money(D("99999999999999.99"), "EUR")}, "amount"),
        ({"description": "  "}, "description"),
        ({"reference": ""}, "reference"),
        ({"tax_category": ""}, "tax_category"),
        ({"revenue_category": "gifts"}, "revenue_category"),
        ({"posting": "elsewhere"}, "posting"),
        ({"service_start": date(2027, 1, 5), "service_end": date(2027, 1, 5)}, "service_end"),
        ({"quantity": "-1"}, "quantity"),
        ({"bill_on": "2027-01-20"}, "bill_on"),
    ],
)
def test_bad_charges_are_refused_naming_the_field_and_nothing_is_written(world, change, field):
    _, acme, northwind = world
    with pytest.raises(ChargeInvalid) as info:
        fee(acme, northwind, **change)
    assert info.value.field == field
    assert not Charge.objects.exists()


def test_an_account_of_another_entity_is_refused(world):
    _, acme, _ = world
    other = seller(name="Other GmbH")
    stranger = customer(other, CONTOSO)
    with pytest.raises(ChargeInvalid) as info:
        fee(acme, stranger, currency="USD", amount=Money(D("5.00"), "USD"))
    assert info.value.field == "account_id"


def test_a_charge_can_be_cancelled_until_it_is_invoiced(world):
    clk, acme, northwind = world
    services.cancel_charge(fee(acme, northwind).pk, actor="dunning")
    assert not Charge.objects.exists()
    again = fee(acme, northwind, reference="late-fee:2")
    clk.set(date(2027, 2, 1))
    bill_run(date(2027, 2, 1), actor="test")
    with pytest.raises(ChargeConflict) as info:
        services.cancel_charge(again.pk)
    assert info.value.code == "billing.charge_billed"
