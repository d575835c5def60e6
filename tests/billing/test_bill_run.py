"""The bill run's promises (``q2c bill-run`` and its function): a second run of a date creates
nothing; bad input — a closed period, a missing exchange rate, an as-of date before the last run,
a run already going — is refused with a clear error and nothing written; an account whose data is
wrong is reported while the others are billed; consolidation is a setting; the daily job and the
CLI's exit statuses; the summary stored on the run.
"""

from __future__ import annotations

import os
import socket
from datetime import date
from decimal import Decimal as D
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.billing import services
from q2c.billing.models import BilledItem, BillRun, Schedule
from q2c.billing.run import bill_run, daily
from q2c.billing.services import ContractHead, LineIn
from q2c.core.errors import DomainError
from q2c.invoicing.models import Invoice
from q2c.ledger import services as ledger_services
from q2c.platform.models import NumberCounter
from tests.billing.world import CONTOSO, FABRIKAM, at, customer, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    clk = at(date(2026, 12, 20))
    acme = seller()
    northwind = customer(acme)
    fabrikam = customer(acme, FABRIKAM)
    for i, acct in enumerate((northwind, fabrikam), start=1):
        subscribe(acme, acct, contract_id=i)
    return clk, acme, northwind, fabrikam


def subscribe(
    acme, acct, *, contract_id: int, price: str | None = "30.00", currency: str = "EUR", sku: str = "SEAT"
) -> None:
    h = ContractHead(
        contract_id, f"CON-{contract_id}", acme.pk, acct.pk, currency, date(2027, 1, 1), date(2028, 1, 1)
    )
    line = LineIn("1", sku, "recurring", D(10), None if price is None else D(price), date(2027, 1, 1), date(2028, 1, 1),
                  name="Platform seat", period_months=1, tax_category="digital_service", revenue_category="subscriptions")  # fmt: skip
    services.create_schedules(h, [line])


def nothing_written() -> None:
    assert not Invoice.objects.exists()
    assert not BilledItem.objects.exists()
    assert not BillRun.objects.exists()
    assert not NumberCounter.objects.filter(kind="invoice").exists()


def test_a_bill_run_bills_everything_due_once_and_a_second_run_creates_nothing(world):
    clk, _acme, _northwind, _fabrikam = world
    clk.set(date(2027, 3, 1))
    first = bill_run(date(2027, 3, 1), actor="test")
    # Three months each (January, February, March are all due): 3 invoices per customer.
    assert (first.invoices, first.created) == (6, 6)
    # Northwind: 300.00 + 19 % = 357.00 a month; Fabrikam: reverse charge, 300.00.
    assert first.totals == {"EUR": str(D("357.00") * 3 + D("300.00") * 3)}
    second = bill_run(date(2027, 3, 1), actor="test")
    assert (second.invoices, second.created, second.attempts) == (6, 0, 2)
    assert Invoice.objects.count() == 6
    run = BillRun.objects.get()
    assert (run.status, run.invoices, run.totals, run.errors) == ("completed", 6, {"EUR": "1971.00"}, [])


def test_a_run_for_a_date_in_a_closed_period_is_refused_and_writes_nothing(world):
    clk, acme, *_ = world
    clk.set(date(2027, 4, 1))
    ledger_services.close_period(acme.pk, "2027-03", actor="test")
    with pytest.raises(DomainError) as err:
        bill_run(date(2027, 3, 1))
    assert (err.value.code, err.value.field) == ("billing.period_closed", "as_of")
    assert "2027-03" in err.value.message
    nothing_written()


def test_a_missing_exchange_rate_refuses_the_run_and_writes_nothing(world):
    clk, acme, *_ = world
    subscribe(acme, customer(acme, CONTOSO), contract_id=3, currency="USD")
    clk.set(date(2027, 3, 1))
    with pytest.raises(DomainError) as err:
        bill_run(date(2027, 3, 1))
    assert err.value.code == "invoicing.rate_missing"
    assert "USD→EUR" in err.value.message
    nothing_written()


def test_an_as_of_date_before_the_last_run_is_refused(world):
    clk, *_ = world
    clk.set(date(2027, 3, 1))
    bill_run(date(2027, 3, 1))
    with pytest.raises(DomainError) as err:
        bill_run(date(2027, 2, 15))
    assert (err.value.code, err.value.field) == ("billing.as_of_before_last_run", "as_of")
    assert not BillRun.objects.filter(as_of=date(2027, 2, 15)).exists()


def test_a_run_of_another_date_still_going_refuses_a_new_one(world):
    clk, *_ = world
    clk.set(date(2027, 3, 1))
    # The test runner's parent process stands in for a live worker holding the run.
    BillRun.objects.create(
        as_of=date(2027, 2, 28), holder=f"{socket.gethostname()}:{os.getppid()}", started_at=clk.now()
    )
    with pytest.raises(DomainError) as err:
        bill_run(date(2027, 3, 1))
    assert err.value.code == "billing.run_in_progress"
    assert not Invoice.objects.exists()


def test_an_account_with_wrong_data_is_reported_and_the_others_are_billed(world):
    clk, acme, _northwind, _fabrikam = world
    no_price = customer(acme, name="No Price GmbH")
    subscribe(acme, no_price, contract_id=3, price=None)
    no_vat_id = customer(
        acme, FABRIKAM, name="Fabrikam Sans TVA", tax_id=""
    )  # reverse charge needs both VAT ids
    subscribe(acme, no_vat_id, contract_id=4)
    clk.set(date(2027, 1, 1))
    result = bill_run(date(2027, 1, 1))
    assert result.invoices == 3  # Northwind, Fabrikam and the French business without a VAT id
    errors = {e["account_id"]: (e["code"], e["message"]) for e in result.errors}
    assert errors[no_price.pk][0] == "billing.price_missing"
    # Without its VAT id the French business is taxed at the German rate (the tax engine's
    # documented fallback), so this one is billed after all — with 19 %.
    assert no_vat_id.pk not in errors
    assert Invoice.objects.get(account=no_vat_id).tax_minor == 5700
    assert not Invoice.objects.filter(account=no_price).exists()
    assert not Schedule.objects.get(contract_id=3).billed_through


def test_an_account_without_an_address_is_reported_not_billed(world):
    clk, acme, *_ = world
    homeless = customer(acme, name="Nowhere AG", billing_line1="", billing_city="")
    subscribe(acme, homeless, contract_id=5)
    clk.set(date(2027, 1, 1))
    result = bill_run(date(2027, 1, 1))
    (error,) = result.errors
    assert (error["account_id"], error["code"]) == (homeless.pk, "invoicing.missing_data")
    assert "street address" in error["message"] and "city" in error["message"]


def test_contracts_are_consolidated_per_customer_and_bill_date_unless_the_setting_says_no(world):
    clk, acme, northwind, _ = world
    subscribe(acme, northwind, contract_id=9, sku="SUPPORT")
    clk.set(date(2027, 1, 1))
    bill_run(date(2027, 1, 1))
    assert Invoice.objects.filter(account=northwind).count() == 1
    services.save_settings(acme.pk, consolidate=False)
    clk.set(date(2027, 2, 1))
    bill_run(date(2027, 2, 1))
    assert Invoice.objects.filter(account=northwind, issue_date=date(2027, 2, 1)).count() == 2


def test_the_daily_job_bills_its_business_date(world):
    clk, *_ = world
    clk.set(date(2027, 1, 1))
    summary = daily(date(2027, 1, 1))
    assert (summary["as_of"], summary["invoices"]) == ("2027-01-01", 2)
    # The next day nothing is due (January is billed in advance): no run is even started.
    clk.set(date(2027, 1, 2))
    assert daily(date(2027, 1, 2)) == {"as_of": "2027-01-02", "invoices": 0, "skipped": "nothing due"}
    assert not BillRun.objects.filter(as_of=date(2027, 1, 2)).exists()
    # On the next billing day the recurring schedules are due again.
    clk.set(date(2027, 2, 1))
    assert daily(date(2027, 2, 1))["invoices"] == 2


def test_the_cli_prints_the_summary_and_exits_1_when_accounts_were_not_billed(world):
    _clk, acme, *_ = world
    subscribe(acme, customer(acme, name="No Price GmbH"), contract_id=3, price=None)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("bill-run", "--as-of", "2027-01-01", "--no-progress", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert text.startswith("bill run 2027-01-01: 2 invoices, 657.00 EUR; 2 new in attempt 1")
    assert "not billed: No Price GmbH" in text and "[billing.price_missing]" in text


def test_the_cli_refuses_bad_input_with_exit_status_2(world):
    _clk, *_ = world
    with pytest.raises(CommandError) as err:
        call_command("bill-run", "--as-of", "2027-13-01", "--no-progress")
    assert err.value.returncode == 2
    with pytest.raises(CommandError) as err:
        call_command("bill-run", "--as-of", "2027-01-01", "--workers", "0", "--no-progress")
    assert "[billing.invalid_workers]" in str(err.value)
