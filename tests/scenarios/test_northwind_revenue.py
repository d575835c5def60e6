"""The Northwind story's revenue (../shared/scenarios/northwind.md: allocation, revenue schedule,
contract positions, trial balances) told through public services, the CLI and the business
clock: contract C-1 activated (obligations and allocation), the EDGE appliances delivered on
2027-02-10 and ONB completed on 2027-02-26 (orders' services), the bill runs of the billing story,
the 10-seat amendment of 2027-03-15 (a separate contract, C-1A: ASC 606-10-25-12), and
``q2c revenue run`` / ``q2c close-period`` at each month end.

Usage: 350,000 API calls in March and 420,000 in April metered through billing's usage ingestion
(500.00 and 640.00 by the graduated tiers), recognised as used from billing's month-end unbilled
usage, March's invoiced on INV-5. Expected values are the story's tables written out as literals;
the payments (bank, bank fees, receivables settled) are the payments stage's part of the story.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.core import clock
from q2c.ledger import queries as ledger_queries

pytestmark = pytest.mark.django_db

ACME = {
    "name": "Acme Cloud GmbH", "address_line1": "Friedrichstraße 100", "postal_code": "10117", "city": "Berlin",
    "country": "DE", "base_currency": "EUR", "time_zone": "Europe/Berlin", "tax_id": "DE136457858",
    "sepa_creditor_id": "DE98ZZZ09999999999", "email": "billing@acme.example", "payment_terms_days": 30,
}  # fmt: skip
NORTHWIND = {
    "name": "Northwind Handels GmbH", "billing_line1": "Am Sandtorkai 50", "billing_postal_code": "20457",
    "billing_city": "Hamburg", "country": "DE", "currency": "EUR", "tax_id": "DE812651301", "kind": "business",
    "invoice_email": "ap@northwind.example", "locale": "de",
}  # fmt: skip

# northwind.md "Allocation of C-1": obligation → (SSP, allocated).
ALLOCATION = {"SEAT": ("18000.00", "16823.08"), "ONB": ("4000.00", "3738.46"), "EDGE": ("4000.00", "3738.46")}
# "Full SEAT C-1 schedule to 2028-01" and "Full C-1A schedule to 2028-01".
SEAT_C1 = ["1290.54", "1428.81", "1382.72", "1428.81", "1382.71", "1428.81", "1428.81", "1382.72", "1428.81",
           "1382.72", "1428.81", "1428.81"]  # fmt: skip
SEAT_C1A = ["141.57", "249.83", "258.16", "249.83", "258.16", "258.16", "249.83", "258.15", "249.83", "258.16",
            "258.16"]  # fmt: skip


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class Story:
    def __init__(self) -> None:
        self.clock = clock.SimulationClock(date(2027, 1, 15), default_tz="Europe/Berlin")
        clock.install(self.clock)

    def on(self, day: date) -> None:
        self.clock.set(day)

    def cli(self, *args: str, day: date) -> str:
        self.on(day)
        out = StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    def bill_run(self, day: date) -> str:
        return self.cli("bill-run", "--as-of", day.isoformat(), "--no-progress", day=day)


def _setup() -> tuple[Any, Any]:
    from q2c.catalog import services as catalog
    from q2c.catalog.models import UnitOfMeasure
    from q2c.orders import services as orders
    from q2c.parties import services as parties

    entity = parties.create_entity(actor="test", **ACME)
    parties.add_bank_account(entity.pk, actor="test", iban="DE89370400440532013000", bic="COBADEFFXXX",
                             currency="EUR")  # fmt: skip
    account = parties.create_account(actor="test", **NORTHWIND)
    for code in ("seat", "each", "device", "call"):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            catalog.create_unit({"code": code, "name": code.capitalize(), "divisible": False})
    for sku, name, kind, unit in (("SEAT", "Platform seat", "subscription", "seat"), ("ONB", "Onboarding", "service", "each"),
                                  ("EDGE", "Edge appliance", "good", "device"), ("API", "API calls", "usage", "call")):  # fmt: skip
        catalog.create_product({"sku": sku, "name": name, "type": kind, "unit": unit})
    # API calls: usage, monthly in arrears, graduated tiers 0–100,000: 0.00; 100,001–1,000,000:
    # 0.002; above: 0.001 (the story's product table).
    catalog.create_charge({"sku": "API", "code": "CALLS", "kind": "usage", "usage_metric": "api_calls",
                           "usage_aggregation": "sum"})  # fmt: skip
    catalog.create_price_book({"code": "EUR-LIST", "name": "List prices", "currency": "EUR"})
    catalog.create_price_entry({"price_book": "EUR-LIST", "sku": "API", "charge": "CALLS", "model": "tiered",
                                "tiers": [{"lower": "0", "upper": "100000", "unit_price": "0"},
                                          {"lower": "100000", "upper": "1000000", "unit_price": "0.002"},
                                          {"lower": "1000000", "unit_price": "0.001"}]})  # fmt: skip
    orders.receive_stock("EDGE", "10")
    return entity, account


def _contract_c1(entity: Any, account: Any) -> Any:
    """C-1 with the story's SSPs per unit (SEAT 30.00 a month for a new contract, ONB 4,000.00,
    EDGE 2,000.00) and revenue rules (SEAT ratable, ONB and EDGE point in time, API as used)."""
    from q2c.contracts import services as contracts
    from q2c.contracts.services import NewContract, NewContractLine, SignatureEvidence

    D = Decimal
    lines = [
        NewContractLine(sku="SEAT", charge="SUB", charge_kind="recurring", quantity=D(50), unit_price=D("25.50"),
                        period_months=1, name="Platform seat", timing="in_advance", billing_period="month",
                        revenue_category="subscriptions", tax_category="digital_service", key="1",
                        revenue_rule="ratable", ssp_unit=D("30.00")),
        NewContractLine(sku="ONB", charge="FEE", charge_kind="one_time", quantity=D(1), unit_price=D("5000.00"),
                        name="Onboarding", revenue_category="services", tax_category="service", key="2",
                        revenue_rule="point_in_time", ssp_unit=D("4000.00")),
        NewContractLine(sku="EDGE", charge="UNIT", charge_kind="one_time", quantity=D(2), unit_price=D("2000.00"),
                        name="Edge appliance", revenue_category="hardware", tax_category="goods", key="3",
                        revenue_rule="point_in_time", ssp_unit=D("2000.00")),
        NewContractLine(sku="API", charge="CALLS", charge_kind="usage", quantity=D(0), name="API calls",
                        revenue_category="usage", tax_category="digital_service", key="4", revenue_rule="as_used"),
    ]  # fmt: skip
    return contracts.create_contract(
        NewContract(
            entity_id=entity.pk, account_id=account.pk, currency="EUR", start_date=date(2027, 2, 1), term_months=12,
            lines=lines, billing_day=1, payment_terms_days=30,
            signature=SignatureEvidence(signer_name="Nora North", document_sha256="0" * 64,
                                        signed_at=datetime.combine(date(2027, 1, 20), time(10, 0),
                                                                   tzinfo=ZoneInfo("Europe/Berlin"))),
        ),
        actor="rita",
    )  # fmt: skip


def _deliver_and_complete(contract: Any, story: Story) -> None:
    from q2c.orders import services as orders
    from q2c.orders.models import Order, OrderLine

    order = Order.objects.get(contract_id=contract.pk, type="new")
    story.on(date(2027, 2, 10))
    edge = OrderLine.objects.get(order=order, sku="EDGE")
    shipment = orders.pick(order.pk, {edge.pk: Decimal(2)}, actor="warehouse")
    orders.ship(shipment.pk, carrier="DHL", shipped_on=date(2027, 2, 10), actor="warehouse")
    orders.deliver(shipment.pk, delivered_on=date(2027, 2, 10), actor="warehouse")
    story.bill_run(date(2027, 2, 10))
    story.on(date(2027, 2, 26))
    onb = OrderLine.objects.get(order=order, sku="ONB")
    orders.complete(onb.pk, completed_on=date(2027, 2, 26), actor="delivery")


def api_calls(account_id: int, tag: str, month: date, calls: int) -> None:
    """``calls`` API calls metered in ``month`` through billing's usage ingestion: one event a day
    (10:00 Berlin) for its first 28 days."""
    from q2c.billing.models import Schedule
    from q2c.billing.usage import ingest

    sub = Schedule.objects.get(account_id=account_id, kind="usage")
    per_day, rest = divmod(calls, 28)
    batch = [
        {"id": f"{tag}-{d}", "subscription_id": sub.pk, "metric": "api_calls",
         "quantity": per_day + (rest if d == 28 else 0),
         "timestamp": datetime.combine(month.replace(day=d), time(10), tzinfo=ZoneInfo("Europe/Berlin")).isoformat()}
        for d in range(1, 29)
    ]  # fmt: skip
    assert ingest(batch).accepted == 28


def tell_the_story() -> tuple[Any, Any, Story]:
    from q2c.contracts import services as contracts

    story = Story()
    entity, account = _setup()
    story.on(date(2027, 1, 20))
    contract = _contract_c1(entity, account)
    story.bill_run(date(2027, 2, 1))
    _deliver_and_complete(contract, story)
    story.cli("close-period", "2027-02", "--as-of", "2027-02-28", day=date(2027, 2, 28))
    story.bill_run(date(2027, 3, 1))
    story.on(date(2027, 3, 15))
    contract.refresh_from_db()
    contracts.amend(contract.pk, actor="rita", lock_version=contract.lock_version, kind="add_quantity",
                    effective_date="2027-03-15", sku="SEAT", quantity="10")  # fmt: skip
    story.bill_run(date(2027, 3, 15))
    story.on(date(2027, 3, 31))
    api_calls(account.pk, "march", date(2027, 3, 1), 350_000)
    story.cli("close-period", "2027-03", "--as-of", "2027-03-31", day=date(2027, 3, 31))
    story.bill_run(date(2027, 4, 1))
    story.on(date(2027, 4, 30))
    api_calls(account.pk, "april", date(2027, 4, 1), 420_000)
    story.cli("revenue", "run", "--period", "2027-04", day=date(2027, 4, 30))
    return entity, contract, story


def money(minor: int) -> str:
    return format(Decimal(minor).scaleb(-2), "f")


def test_northwind_allocation_schedule_positions_and_trial_balances_come_out_to_the_cent(
    django_capture_on_commit_callbacks,
):
    from q2c.revenue.models import Decision, Obligation, RecognitionLine
    from q2c.revenue.queries import position_rows

    with django_capture_on_commit_callbacks(execute=True):
        entity, contract, _ = tell_the_story()

    obligations = {
        o.sku: o for o in Obligation.objects.filter(contract__contract_id=contract.pk, label=contract.number)
    }
    # Allocation of C-1 by relative SSP: 24,300.00 over 26,000.00 of SSPs.
    assert {
        sku: (money(obligations[sku].ssp_minor or 0), money(obligations[sku].allocated_minor))
        for sku in ALLOCATION
    } == ALLOCATION
    assert obligations["API"].pattern == "usage"

    # The amendment is a separate contract C-1A (ASC 606-10-25-12): 139.84 + 10 × 255.00.
    (decision,) = Decision.objects.filter(contract__contract_id=contract.pk)
    assert (decision.treatment, decision.decided_by, decision.on) == (
        "separate_contract",
        "rules",
        date(2027, 3, 15),
    )
    (c1a,) = Obligation.objects.filter(contract__contract_id=contract.pk).exclude(label=contract.number)
    assert (c1a.label, money(c1a.allocated_minor)) == (f"{contract.number}-A1", "2689.84")

    # The full schedules, month by month (the cumulative figures differenced).
    def months(ob: Any) -> list[str]:
        out, before = [], 0
        for _, cumulative in ob.schedule:
            out.append(money(cumulative - before))
            before = cumulative
        return out

    assert months(obligations["SEAT"]) == SEAT_C1
    assert months(c1a) == SEAT_C1A

    # Recognised per month through the real runs (revenue schedule table, without API usage).
    per_month: dict[str, dict[str, str]] = {}
    for line in RecognitionLine.objects.filter(entity_id=entity.pk).select_related("obligation"):
        key = line.obligation.sku if line.obligation.label == contract.number else "SEAT-A"
        per_month.setdefault(f"{line.period:%Y-%m}", {})[key] = money(
            int(Decimal(per_month.get(f"{line.period:%Y-%m}", {}).get(key, "0")) * 100) + line.amount_minor
        )
    assert per_month == {
        "2027-02": {"SEAT": "1290.54", "ONB": "3738.46", "EDGE": "3738.46"},
        "2027-03": {"SEAT": "1428.81", "SEAT-A": "141.57", "API": "500.00"},
        "2027-04": {"SEAT": "1382.72", "SEAT-A": "249.83", "API": "640.00"},
    }

    # Contract positions at month end (+ deferred revenue, − contract asset).
    positions = {
        (f"{end:%Y-%m}", label): money(billed - recognised)
        for end in (date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30))
        for label, (billed, recognised) in position_rows(entity.pk, end).items()
        if billed or recognised
    }
    assert positions == {
        ("2027-02", contract.number): "1507.54",
        ("2027-03", contract.number): "1353.73",
        ("2027-03", f"{contract.number}-A1"): "-1.73",
        ("2027-04", contract.number): "1246.01",
        ("2027-04", f"{contract.number}-A1"): "3.44",
    }

    # Trial balances (northwind.md): every account but those the payments move (bank, bank fees,
    # and receivables — here before any payment: INV-1…4 = 13,910.91 at 03-31, + INV-5 2,415.70).
    march = ledger_queries.trial_balance(entity.pk, date(2027, 3, 31))
    tb = march.by_key()
    assert tb["ar"].amount == Decimal("13910.91")
    assert tb["unbilled_receivables"].amount == Decimal("500.00")
    assert tb["contract_assets"].amount == Decimal("1.73")
    assert tb["tax_payable.DE-S-19"].amount == Decimal("-2221.07")
    assert tb["deferred_revenue"].amount == Decimal("-1353.73")
    assert tb["revenue.subscriptions"].amount == Decimal("-2860.92")
    assert tb["revenue.services"].amount == Decimal("-3738.46")
    assert tb["revenue.hardware"].amount == Decimal("-3738.46")
    assert tb["revenue.usage"].amount == Decimal("-500.00")
    assert march.balanced
    april = ledger_queries.trial_balance(entity.pk, date(2027, 4, 30))
    tb = april.by_key()
    assert tb["ar"].amount == Decimal("16326.61")
    assert tb["unbilled_receivables"].amount == Decimal("640.00")
    assert tb.get("contract_assets") is None or tb["contract_assets"].amount == 0
    assert tb["tax_payable.DE-S-19"].amount == Decimal("-2606.77")
    assert tb["deferred_revenue"].amount == Decimal("-1249.45")
    assert tb["revenue.subscriptions"].amount == Decimal("-4493.47")
    assert tb["revenue.services"].amount == Decimal("-3738.46")
    assert tb["revenue.hardware"].amount == Decimal("-3738.46")
    assert tb["revenue.usage"].amount == Decimal("-1140.00")
    assert april.balanced

    # The reports on the same books: the roll-forward of the contracts' net position (billed −
    # recognised, excluding usage) and revenue by category and timing.
    from q2c.revenue import queries

    rollforward = queries.rollforward(entity.pk, date(2027, 2, 1), 3).rows
    assert rollforward == [
        # month, opening, billings, recognised, closing, deferred revenue, contract assets
        ["2027-02", "0.00", "10275.00", "8767.46", "1507.54", "1507.54", "0.00"],
        ["2027-03", "1507.54", "1414.84", "1570.38", "1352.00", "1353.73", "1.73"],
        ["2027-04", "1352.00", "1530.00", "1632.55", "1249.45", "1249.45", "0.00"],
    ]
    assert queries.disaggregation(entity.pk, date(2027, 2, 1), 3).rows == [
        ["hardware", "point in time", "3738.46", "0.00", "0.00", "3738.46"],
        ["services", "point in time", "3738.46", "0.00", "0.00", "3738.46"],
        ["subscriptions", "over time", "1290.54", "1570.38", "1632.55", "4493.47"],
        ["usage", "as used", "0.00", "500.00", "640.00", "1140.00"],
    ]

    from q2c.revenue.run import positions_tie

    assert positions_tie() == []
    assert positions_tie(date(2027, 3, 31)) == []


def test_a_rerun_posts_nothing_more_and_a_closed_month_refuses_recognition(
    django_capture_on_commit_callbacks,
):
    from q2c.ledger.models import JournalEntry

    with django_capture_on_commit_callbacks(execute=True):
        entity, _, story = tell_the_story()
    entries = JournalEntry.objects.filter(entity_id=entity.pk).count()
    out = story.cli("revenue", "run", "--period", "2027-04", day=date(2027, 4, 30))
    assert "0.00 EUR recognised" in out and "entry -" in out
    assert JournalEntry.objects.filter(entity_id=entity.pk).count() == entries
    with pytest.raises(CommandError, match=r"period 2027-03 is closed.*revenue.period_closed"):
        story.cli("revenue", "run", "--period", "2027-03", day=date(2027, 4, 30))
