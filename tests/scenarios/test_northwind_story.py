"""The whole Northwind story (../shared/scenarios/northwind.md) in one run, quote to revenue:
every stage's public services and CLI commands, driven day by day through the business clock,
with the daily jobs run by the platform schedule as the worker runs them.

1. 2027-01-10…20 Rita quotes, Max approves, Northwind accepts through the link (steps 1–2; the
   quotes API, as tests/scenarios/test_northwind_quote.py) → contract, order, billing schedules.
2. Bill runs, delivery, completion, the 03-15 amendment, March and April API usage (steps 4–7).
3. The bank's camt.053 statements of 02-20, 03-05, 04-20 and 04-25 imported with `q2c bank
   import` and applied by the matcher (step 8; 15.00 bank fee within the 20.00 tolerance).
4. The daily dunning job: one reminder for INV-3 on 04-07 and one for INV-4 on 04-21 (step 9).
5. Month ends: revenue recognised and periods closed; the trial balances of 03-31 and 04-30.

Every expected value is a literal from northwind.md.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from q2c.core import clock
from q2c.ledger import queries as ledger_queries
from tests.scenarios.test_northwind_quote import call, person, set_up_acme

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")

# northwind.md table 4: number → (net, VAT, total, due).
INVOICES = {
    "INV-2027-000001": ("6275.00", "1192.25", "7467.25", date(2027, 3, 3)),
    "INV-2027-000002": ("4000.00", "760.00", "4760.00", date(2027, 3, 12)),
    "INV-2027-000003": ("1275.00", "242.25", "1517.25", date(2027, 3, 31)),
    "INV-2027-000004": ("139.84", "26.57", "166.41", date(2027, 4, 14)),
    "INV-2027-000005": ("2030.00", "385.70", "2415.70", date(2027, 5, 1)),
}
# Table 8: the bank's lines (amount, what the payer wrote: an RF reference of an invoice or text).
BANK = {
    date(2027, 2, 20): ("7467.25", "rf", "INV-2027-000001"),
    date(2027, 3, 5): ("4745.00", "text", "NORTHWIND INV 2027 0000O2"),
    date(2027, 4, 20): ("1517.25", "rf", "INV-2027-000003"),
    date(2027, 4, 25): ("2582.11", "text", "INV-2027-000004 INV-2027-000005"),
}
# The trial balances (debit +, credit −) by ledger key.
TRIAL_BALANCE = {
    date(2027, 3, 31): {
        "bank": "12212.25", "ar": "1683.66", "unbilled_receivables": "500.00", "contract_assets": "1.73",
        "bank_fees": "15.00", "tax_payable.DE-S-19": "-2221.07", "deferred_revenue": "-1353.73",
        "revenue.subscriptions": "-2860.92", "revenue.services": "-3738.46", "revenue.hardware": "-3738.46",
        "revenue.usage": "-500.00",
    },
    date(2027, 4, 30): {
        "bank": "16311.61", "ar": "0.00", "unbilled_receivables": "640.00", "contract_assets": "0.00",
        "bank_fees": "15.00", "tax_payable.DE-S-19": "-2606.77", "deferred_revenue": "-1249.45",
        "revenue.subscriptions": "-4493.47", "revenue.services": "-3738.46", "revenue.hardware": "-3738.46",
        "revenue.usage": "-1140.00",
    },
}  # fmt: skip
TOTAL_DEBITS = {date(2027, 3, 31): Decimal("14412.64"), date(2027, 4, 30): Decimal("16966.61")}


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class Story:
    """The business clock and the worker: each day's jobs run at 09:00 Berlin."""

    def __init__(self, capture: Any) -> None:
        self.clock = clock.SimulationClock(date(2027, 1, 10), default_tz="Europe/Berlin")
        clock.install(self.clock)
        self.capture = capture
        self.day = date(2027, 1, 10)
        self.ran: list[tuple[str, date, str]] = []

    def cli(self, *args: str) -> str:
        out = StringIO()
        with self.capture(execute=True):
            call_command(*args, stdout=out)
        return out.getvalue()

    def morning(self, day: date) -> None:
        """Live up to the day before ``day``, then stand at 08:00 on it: what happens now comes
        before the day's jobs (an invoice for it is dated that day)."""
        self.until(day - timedelta(days=1))
        self.clock.set(datetime(day.year, day.month, day.day, 8, 0, tzinfo=BERLIN))

    def until(self, last: date) -> None:
        """Live the days after the current one up to ``last``: each day's jobs, in order."""
        from q2c.platform import schedules

        while self.day < last:
            self.day += timedelta(days=1)
            self.clock.set(datetime(self.day.year, self.day.month, self.day.day, 9, 0, tzinfo=BERLIN))
            with self.capture(execute=True):
                ran = schedules.poll(clock.now())
            self.ran += ran
            failed = [(job, day, st) for job, day, st in ran if st != "done"]
            if failed:
                from q2c.platform.models import ScheduleRun

                errors = list(ScheduleRun.objects.exclude(status="done").values_list("error", flat=True))
                raise AssertionError(f"{failed}: {errors}")


def catalog_ssp_and_settings(entity_id: int) -> None:
    """What the story's set-up table says beyond the quote scenario's catalog: SSPs and revenue
    rules, tax categories (digital service, service, goods), the dunning policy
    (a reminder at due + 7) and the bank's fee tolerance (20.00 EUR)."""
    from q2c.catalog import services as catalog
    from q2c.catalog.models import Product
    from q2c.payments.cash.services import accounts
    from q2c.payments.dunning import services as dunning

    for sku, tax, rule, category, ssp in (
        ("SEAT", "digital_service", "ratable", "subscriptions", [("new", "30.00"), ("add_on", "25.50")]),
        ("ONB", "service", "point_in_time", "services", [("new", "4000.00")]),
        ("EDGE", "goods", "point_in_time", "hardware", [("new", "2000.00")]),
        ("API", "digital_service", "as_used", "usage", []),
    ):
        product = Product.objects.get(sku=sku)
        change: dict[str, Any] = {"tax_category": tax, "revenue_rule": rule, "revenue_category": category}
        if ssp:
            change["ssp"] = [
                {"context": ctx, "method": "fixed", "amount": amount, "currency": "EUR"}
                for ctx, amount in ssp
            ]
        catalog.update_product(product.pk, change)
    dunning.save_policy(
        entity_id,
        "default",
        name="Northwind",
        steps=[{"key": "reminder", "offset_days": 7, "action": "reminder"}],
    )
    from q2c.parties import services as parties

    bank = parties.add_bank_account(entity_id, actor="setup", iban="DE89370400440532013000", bic="COBADEFFXXX",
                                    currency="EUR")  # fmt: skip
    accounts.update_settings(bank.pk, fee_tolerance="20.00", actor="finance")


def statement(day: date, opening_minor: int, tmp: Path) -> tuple[Path, int]:
    from q2c.invoicing.models import Invoice
    from q2c.parties.references import creditor_reference
    from q2c.simulation.bankfiles import Transfer, camt053

    amount, kind, text = BANK[day]
    if kind == "rf":
        Invoice.objects.get(number=text)  # the payer copied the reference from this invoice
        transfer = Transfer(int(Decimal(amount) * 100), "EUR", "NORTHWIND HANDELS GMBH",
                            "DE62370400440532013001", reference=creditor_reference(text))  # fmt: skip
    else:
        transfer = Transfer(int(Decimal(amount) * 100), "EUR", "NORTHWIND HANDELS GMBH",
                            "DE62370400440532013001", remittance=text)  # fmt: skip
    data, closing = camt053(iban="DE89370400440532013000", bic="COBADEFFXXX", currency="EUR", day=day,
                            opening_minor=opening_minor, transfers=[transfer], sequence=day.toordinal())  # fmt: skip
    path = tmp / f"camt053-{day}.xml"
    path.write_bytes(data)
    return path, closing


def api_calls(account_id: int, tag: str, month: date, calls: int) -> None:
    """``calls`` API calls metered in ``month``: one event a day for its first 28 days."""
    from q2c.billing.usage import ingest

    per_day, rest = divmod(calls, 28)
    batch = [
        {"id": f"{tag}-{d}", "account_id": account_id, "metric": "api_calls", "quantity": per_day + (rest if d == 28 else 0),
         "timestamp": datetime.combine(month.replace(day=d), datetime.min.time().replace(hour=10), tzinfo=BERLIN).isoformat()}
        for d in range(1, 29)
    ]  # fmt: skip
    assert ingest(batch).accepted == 28


def test_northwind_from_quote_to_cash_to_revenue(django_capture_on_commit_callbacks, tmp_path):
    from q2c.contracts.models import Contract
    from q2c.invoicing.models import Invoice
    from q2c.orders import services as orders
    from q2c.orders.models import Order, OrderLine
    from q2c.parties.models import LegalEntity
    from q2c.payments.dunning.models import DunningEntry
    from q2c.platform import schedules
    from q2c.platform.registry import jobs

    story = Story(django_capture_on_commit_callbacks)
    account_id = set_up_acme()
    entity = LegalEntity.objects.get()
    from q2c.parties import services as parties

    # The invoice needs the full addresses the quote did not (the billing scenario's data).
    parties.update_entity(
        entity.pk, {"address_line1": "Friedrichstraße 100", "postal_code": "10117"}, actor="setup"
    )
    parties.update_account(account_id, {"billing_line1": "Am Sandtorkai 50", "billing_postal_code": "20457",
                                        "invoice_email": "ap@northwind.example", "locale": "de"}, actor="setup")  # fmt: skip
    catalog_ssp_and_settings(entity.pk)
    orders.receive_stock("EDGE", "10")
    for name in jobs.names():
        schedules.ensure(name, name, start_date=date(2027, 1, 11), time_zone="UTC")
    rita, max_, admin = person("rita", "sales_rep"), person("max", "sales_manager"), person("root", "admin")
    call(admin, "POST", "/teams", {"name": "DACH", "manager_id": max_.user.pk, "member_ids": [rita.user.pk]})

    # 1–2. The quote, its approval, sending and acceptance through the link.
    opp = call(rita, "POST", "/opportunities", {"account_id": account_id, "name": "Northwind platform"})
    quote = call(rita, "POST", "/quotes", {
        "opportunity_id": opp["id"], "start_date": "2027-02-01", "term_months": 12,
        "lines": [{"sku": "SEAT", "quantity": 50, "discount": {"percent": "15"}}, {"sku": "ONB", "quantity": 1},
                  {"sku": "EDGE", "quantity": 2}, {"sku": "API"}],
    })  # fmt: skip
    assert (quote["number"], quote["totals"]["tcv"], quote["approval_required"]) == (
        "Q-2027-000001",
        "24300.00",
        True,
    )
    call(rita, "POST", f"/quotes/{quote['id']}/submit", {"lock_version": quote["lock_version"]})
    story.until(date(2027, 1, 11))
    (step,) = call(max_, "GET", "/approvals/inbox")
    call(max_, "POST", f"/approvals/steps/{step['id']}/decision", {"decision": "approve", "comment": "ok"})
    story.until(date(2027, 1, 12))
    approved = call(rita, "GET", f"/quotes/{quote['id']}")
    with django_capture_on_commit_callbacks(execute=True):
        call(rita, "POST", f"/quotes/{quote['id']}/send", {"lock_version": approved["lock_version"]})
    link = re.search(r"/quotes/accept/(\S+)/", str(mail.outbox[-1].body))
    assert link is not None
    story.until(date(2027, 1, 20))
    with django_capture_on_commit_callbacks(execute=True):
        accepted = Client().post(
            f"/api/v1/quotes/public/{link.group(1)}/accept",
            data=json.dumps(
                {"signer_name": "Nora North", "signer_title": "Managing Director", "agree": True}
            ),
            content_type="application/json",
        )
    assert accepted.status_code == 200, accepted.content
    contract = Contract.objects.get(source_quote_id=quote["id"])
    assert (contract.start_date, contract.end_date, contract.status) == (
        date(2027, 2, 1),
        date(2028, 2, 1),
        "active",
    )
    order = Order.objects.get(contract_id=contract.pk)

    # 4–7. Bill runs on schedule; delivery, completion; the amendment; usage; 8. the bank; 9. dunning.
    balance = 0
    story.morning(date(2027, 2, 10))
    edge = OrderLine.objects.get(order=order, sku="EDGE")
    with django_capture_on_commit_callbacks(execute=True):
        shipment = orders.pick(order.pk, {edge.pk: Decimal(2)}, actor="warehouse")
        orders.ship(shipment.pk, carrier="DHL", shipped_on=date(2027, 2, 10), actor="warehouse")
        orders.deliver(shipment.pk, delivered_on=date(2027, 2, 10), actor="warehouse")
    story.until(date(2027, 2, 20))
    path, balance = statement(date(2027, 2, 20), balance, tmp_path)
    story.cli("bank", "import", str(path))
    story.until(date(2027, 2, 26))
    with django_capture_on_commit_callbacks(execute=True):
        orders.complete(
            OrderLine.objects.get(order=order, sku="ONB").pk, completed_on=date(2027, 2, 26), actor="delivery"
        )
    story.until(date(2027, 3, 1))
    story.cli("close-period", "2027-02")  # finance closes February (recognised and posted)
    story.until(date(2027, 3, 5))
    path, balance = statement(date(2027, 3, 5), balance, tmp_path)
    story.cli("bank", "import", str(path))
    story.morning(date(2027, 3, 15))
    contract.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        from q2c.contracts import services as contracts

        rep = get_user_model().objects.get(username="rita")
        contracts.amend(contract.pk, actor=rep, lock_version=contract.lock_version, kind="add_quantity",
                        effective_date="2027-03-15", sku="SEAT", quantity="10")  # fmt: skip
    story.until(date(2027, 3, 29))  # events are sent once they happened: the 1st to the 28th
    api_calls(account_id, "march", date(2027, 3, 1), 350_000)
    story.until(date(2027, 4, 1))
    story.cli("close-period", "2027-03")
    story.until(date(2027, 4, 20))
    path, balance = statement(date(2027, 4, 20), balance, tmp_path)
    story.cli("bank", "import", str(path))
    story.until(date(2027, 4, 25))
    path, balance = statement(date(2027, 4, 25), balance, tmp_path)
    story.cli("bank", "import", str(path))
    story.until(date(2027, 4, 29))
    api_calls(account_id, "april", date(2027, 4, 1), 420_000)
    story.until(date(2027, 5, 1))

    # The invoices of table 4, each paid in full (INV-2 with the 15.00 fee).
    invoices = {i.number: i for i in Invoice.objects.filter(number__in=INVOICES)}
    assert {
        n: (str(i.net.amount), str(i.tax.amount), str(i.total.amount), i.due_date)
        for n, i in invoices.items()
    } == INVOICES
    assert {n: i.status for n, i in invoices.items()} == {n: "paid" for n in INVOICES}

    # Step 9: the reminders.
    assert [
        (e.invoice_number, e.business_date, e.step_key)
        for e in DunningEntry.objects.order_by("business_date")
    ] == [
        ("INV-2027-000003", date(2027, 4, 7), "reminder"),
        ("INV-2027-000004", date(2027, 4, 21), "reminder"),
    ]

    # The trial balances at both month ends, and revenue's positions tie.
    for end, expected in TRIAL_BALANCE.items():
        tb = ledger_queries.trial_balance(entity.pk, end)
        by_key = tb.by_key()
        assert {k: str(by_key[k].amount) if k in by_key else "0.00" for k in expected} == expected, end
        assert tb.balanced
        assert sum((v.amount for v in by_key.values() if v.amount > 0), Decimal(0)) == TOTAL_DEBITS[end], end
    assert [r for r in story.ran if r[2] != "done"] == []
    checks = story.cli("ledger", "check")
    assert "ledger checks passed" in checks
