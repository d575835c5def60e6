"""The Northwind story's billing (../shared/scenarios/northwind.md, table 4) told through public
services, the CLI and the business clock: contract C-1 is signed, bill runs on the story's dates
issue INV-2027-000001 … 000005, the EDGE appliances are invoiced on delivery, the 10-seat
amendment of 2027-03-15 is prorated as one delta line invoiced at once.

Expected values are the story's, written out as literals: net, VAT 19 %, total and due date per
invoice; INV-5 with its usage line: 350,000 API calls in March = 100,000 × 0.00 + 250,000 × 0.002
= 500.00, so 2,030.00 net, VAT 385.70, total 2,415.70; usage occurred but not invoiced is 500.00
at 2027-03-31 and, with 420,000 calls in April, 320,000 × 0.002 = 640.00 at 2027-04-30. Then the EU variant (Fabrikam SARL, Lyon): services reverse
charged (AE, 0 %) and the appliances an intra-Community supply (K, 0 %, deliver-to FR and the
delivery date), each invoice's total equal to its net amount; VAT payable stays 0.00.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from q2c.core import clock
from q2c.invoicing.models import DocumentFile, Invoice, InvoiceLine
from q2c.ledger import queries as ledger_queries

pytestmark = pytest.mark.django_db

ACME = {
    "name": "Acme Cloud GmbH",
    "address_line1": "Friedrichstraße 100",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "base_currency": "EUR",
    "time_zone": "Europe/Berlin",
    "tax_id": "DE136457858",
    "sepa_creditor_id": "DE98ZZZ09999999999",
    "email": "billing@acme.example",
    "payment_terms_days": 30,
}
NORTHWIND = {
    "name": "Northwind Handels GmbH",
    "billing_line1": "Am Sandtorkai 50",
    "billing_postal_code": "20457",
    "billing_city": "Hamburg",
    "country": "DE",
    "currency": "EUR",
    "tax_id": "DE812651301",
    "kind": "business",
    "invoice_email": "ap@northwind.example",
    "locale": "de",
}
FABRIKAM = {
    "name": "Fabrikam SARL",
    "billing_line1": "12 rue de la République",
    "billing_postal_code": "69002",
    "billing_city": "Lyon",
    "country": "FR",
    "currency": "EUR",
    "tax_id": "FR40303265045",
    "kind": "business",
    "invoice_email": "compta@fabrikam.example",
    "locale": "fr",
}

# northwind.md, table 4: number, date, net, VAT, total, due.
TABLE_4 = [
    ("INV-2027-000001", date(2027, 2, 1), "6275.00", "1192.25", "7467.25", date(2027, 3, 3)),
    ("INV-2027-000002", date(2027, 2, 10), "4000.00", "760.00", "4760.00", date(2027, 3, 12)),
    ("INV-2027-000003", date(2027, 3, 1), "1275.00", "242.25", "1517.25", date(2027, 3, 31)),
    ("INV-2027-000004", date(2027, 3, 15), "139.84", "26.57", "166.41", date(2027, 4, 14)),
    ("INV-2027-000005", date(2027, 4, 1), "2030.00", "385.70", "2415.70", date(2027, 5, 1)),
]
# The EU variant: totals equal the nets; VAT categories per line.
FABRIKAM_TABLE = [
    ("INV-2027-000001", "6275.00", {"AE"}),
    ("INV-2027-000002", "4000.00", {"K"}),
    ("INV-2027-000003", "1275.00", {"AE"}),
    ("INV-2027-000004", "139.84", {"AE"}),
    ("INV-2027-000005", "2030.00", {"AE"}),
]
REVERSE_CHARGE = "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
INTRA_COMMUNITY = "Intra-Community supply — exempt (Art. 138 Directive 2006/112/EC)"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class Story:
    """The business clock (09:00 Berlin) and the CLI, as the story uses them."""

    def __init__(self) -> None:
        self.clock = clock.SimulationClock(date(2027, 1, 15), default_tz="Europe/Berlin")
        clock.install(self.clock)

    def on(self, day: date) -> None:
        self.clock.set(day)

    def bill_run(self, day: date) -> str:
        self.on(day)
        out = StringIO()
        call_command("bill-run", "--as-of", day.isoformat(), "--no-progress", stdout=out)
        return out.getvalue()


def seller() -> Any:
    from q2c.parties import services as parties

    entity = parties.create_entity(actor="test", **ACME)
    parties.add_bank_account(
        entity.pk, actor="test", iban="DE89370400440532013000", bic="COBADEFFXXX", currency="EUR"
    )
    return entity


def products() -> None:
    from q2c.catalog import services as catalog
    from q2c.catalog.models import UnitOfMeasure

    for code in ("seat", "each", "device", "call"):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            catalog.create_unit({"code": code, "name": code.capitalize(), "divisible": False})
    for sku, name, kind, unit in (
        ("SEAT", "Platform seat", "subscription", "seat"),
        ("ONB", "Onboarding", "service", "each"),
        ("EDGE", "Edge appliance", "good", "device"),
        ("API", "API calls", "usage", "call"),
    ):
        catalog.create_product({"sku": sku, "name": name, "type": kind, "unit": unit})
    # API calls: usage, monthly in arrears, graduated tiers 0–100,000: 0.00; 100,001–1,000,000:
    # 0.002; above: 0.001 (the story's product table).
    catalog.create_charge(
        {
            "sku": "API",
            "code": "CALLS",
            "kind": "usage",
            "usage_metric": "api_calls",
            "usage_aggregation": "sum",
        }
    )
    catalog.create_price_book({"code": "EUR-LIST", "name": "List prices", "currency": "EUR"})
    catalog.create_price_entry({"price_book": "EUR-LIST", "sku": "API", "charge": "CALLS", "model": "tiered",
                                "tiers": [{"lower": "0", "upper": "100000", "unit_price": "0"},
                                          {"lower": "100000", "upper": "1000000", "unit_price": "0.002"},
                                          {"lower": "1000000", "unit_price": "0.001"}]})  # fmt: skip


def contract_c1(entity: Any, account: Any) -> Any:
    """C-1: 50 SEAT at 25.50 a month (SaaS), 1 ONB at 5,000.00, 2 EDGE at 2,000.00, API usage;
    2027-02-01 for 12 months, billing day 1, net 30; signed 2027-01-20."""
    from q2c.contracts import services as contracts
    from q2c.contracts.services import NewContract, NewContractLine, SignatureEvidence

    D = Decimal
    lines = [
        NewContractLine(sku="SEAT", charge="SUB", charge_kind="recurring", quantity=D(50), unit_price=D("25.50"),
                        period_months=1, name="Platform seat", timing="in_advance", billing_period="month",
                        revenue_category="subscriptions", tax_category="digital_service", key="1"),
        NewContractLine(sku="ONB", charge="FEE", charge_kind="one_time", quantity=D(1), unit_price=D("5000.00"),
                        name="Onboarding", revenue_category="services", tax_category="service", key="2"),
        NewContractLine(sku="EDGE", charge="UNIT", charge_kind="one_time", quantity=D(2), unit_price=D("2000.00"),
                        name="Edge appliance", revenue_category="hardware", tax_category="goods", key="3"),
        NewContractLine(sku="API", charge="CALLS", charge_kind="usage", quantity=D(0), name="API calls",
                        revenue_category="usage", tax_category="digital_service", key="4"),
    ]  # fmt: skip
    return contracts.create_contract(
        NewContract(
            entity_id=entity.pk,
            account_id=account.pk,
            currency="EUR",
            start_date=date(2027, 2, 1),
            term_months=12,
            lines=lines,
            billing_day=1,
            payment_terms_days=30,
            signature=SignatureEvidence(
                signer_name="Nora North",
                signed_at=datetime.combine(date(2027, 1, 20), time(10, 0), tzinfo=ZoneInfo("Europe/Berlin")),
                document_sha256="0" * 64,
            ),
        ),
        actor="rita",
    )


def deliver_edge(contract: Any, day: date) -> None:
    """Both EDGE appliances picked, shipped and delivered on ``day`` (orders' public services)."""
    from q2c.orders import services as orders
    from q2c.orders.models import Order, OrderLine

    order = Order.objects.get(contract_id=contract.pk, type="new")
    edge = OrderLine.objects.get(order=order, sku="EDGE")
    shipment = orders.pick(order.pk, {edge.pk: Decimal(2)}, actor="warehouse")
    orders.ship(shipment.pk, carrier="DHL", shipped_on=day, actor="warehouse")
    orders.deliver(shipment.pk, delivered_on=day, actor="warehouse")


def tell_the_story(customer: dict[str, Any]) -> tuple[Any, Any, Story]:
    from q2c.contracts import services as contracts
    from q2c.orders import services as orders
    from q2c.parties import services as parties

    story = Story()
    entity = seller()
    account = parties.create_account(actor="test", **customer)
    products()
    orders.receive_stock("EDGE", "10")
    story.on(date(2027, 1, 20))
    contract = contract_c1(entity, account)
    story.bill_run(date(2027, 2, 1))
    story.on(date(2027, 2, 10))
    deliver_edge(contract, date(2027, 2, 10))
    story.bill_run(date(2027, 2, 10))
    story.bill_run(date(2027, 3, 1))
    story.on(date(2027, 3, 15))
    contract.refresh_from_db()
    contracts.amend(contract.pk, actor="rita", lock_version=contract.lock_version, kind="add_quantity",
                    effective_date="2027-03-15", sku="SEAT", quantity="10")  # fmt: skip
    story.bill_run(date(2027, 3, 15))
    story.on(date(2027, 3, 31))
    api_calls(account, "march", date(2027, 3, 1), 350_000)
    story.bill_run(date(2027, 4, 1))
    return entity, account, story


def api_calls(account: Any, tag: str, month: date, calls: int) -> None:
    """``calls`` API calls metered in ``month``: one event a day (10:00 Berlin) for its first 28
    days, sent in one batch through the usage ingestion service, then the same batch again (re-sent
    events are ignored)."""
    from q2c.billing.models import Schedule
    from q2c.billing.usage import ingest

    sub = Schedule.objects.get(account_id=account.pk, kind="usage")
    per_day, rest = divmod(calls, 28)
    batch = [
        {"id": f"{tag}-{d}", "subscription_id": sub.pk, "metric": "api_calls",
         "quantity": per_day + (rest if d == 28 else 0),
         "timestamp": datetime.combine(month.replace(day=d), time(10), tzinfo=ZoneInfo("Europe/Berlin")).isoformat()}
        for d in range(1, 29)
    ]  # fmt: skip
    assert ingest(batch).accepted == 28
    assert ingest(batch).duplicates == 28


def cents(value: str) -> int:
    return int(Decimal(value) * 100)


def test_northwind_invoices_one_to_five_come_out_as_the_story_says(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entity, account, _ = tell_the_story(NORTHWIND)
    invoices = list(Invoice.objects.filter(account=account).order_by("number"))
    assert [
        (i.number, i.issue_date, i.net_minor, i.tax_minor, i.total_minor, i.due_date, i.status)
        for i in invoices
    ] == [
        (n, d, cents(net), cents(vat), cents(total), due, "issued") for n, d, net, vat, total, due in TABLE_4
    ]

    # INV-1: SEAT February and ONB, both at 19 % on the sum of the nets (one VAT row).
    inv1 = invoices[0]
    assert [(ln.item_id, ln.quantity, ln.net_minor, ln.service_start, ln.service_end, ln.vat_category, ln.tax_percent)
            for ln in InvoiceLine.objects.filter(invoice=inv1).order_by("position")] == [
        ("SEAT", Decimal(50), 127500, date(2027, 2, 1), date(2027, 3, 1), "S", Decimal(19)),
        ("ONB", Decimal(1), 500000, None, None, "S", Decimal(19)),
    ]  # fmt: skip
    assert [(r["category"], r["taxable"], r["tax"]) for r in inv1.tax_summary] == [("S", 627500, 119225)]
    # INV-4: one delta line, 10 × 25.50 × 17/31 = 139.8387… → 139.84, printed as 10 × 13.984.
    (delta,) = InvoiceLine.objects.filter(invoice=invoices[3])
    assert (delta.quantity, delta.unit_price, delta.share_num, delta.share_den, delta.net_minor) == (
        Decimal(10), Decimal("25.50"), 17, 31, 13984,
    )  # fmt: skip
    assert (delta.print_unit_price, delta.service_start, delta.service_end) == (
        Decimal("13.984"),
        date(2027, 3, 15),
        date(2027, 4, 1),
    )
    # INV-5: 50 SEAT (C-1), the 10 added seats for April and the API calls of March.
    assert sorted(
        (ln.item_id, ln.quantity, ln.net_minor, ln.service_start)
        for ln in InvoiceLine.objects.filter(invoice=invoices[4])
    ) == [
        ("API", Decimal(350_000), 50000, date(2027, 3, 1)),
        ("SEAT", Decimal(10), 25500, date(2027, 4, 1)),
        ("SEAT", Decimal(50), 127500, date(2027, 4, 1)),
    ]
    # Every line says where it comes from: the contract line and the schedule item (usage: the
    # charge its month was rated into).
    assert all(
        ln.contract_number
        and ln.source_type == ("billing_charge" if ln.item_id == "API" else "schedule_item")
        for ln in InvoiceLine.objects.filter(invoice__account=account)
    )

    # The ledger: receivables, VAT payable and deferred revenue — no revenue (recognition is later).
    balances = ledger_queries.trial_balance(entity.pk, date(2027, 3, 31)).by_key()
    assert balances["ar"].amount == Decimal("13910.91")  # 7,467.25 + 4,760.00 + 1,517.25 + 166.41
    assert balances["tax_payable.DE-S-19"].amount == Decimal("-2221.07")  # the story's VAT payable at 03-31
    assert balances["deferred_revenue"].amount == Decimal("-11689.84")  # 6,275 + 4,000 + 1,275 + 139.84
    assert not any(k.startswith("revenue.") and v for k, v in balances.items())
    april = ledger_queries.trial_balance(entity.pk, date(2027, 4, 30)).by_key()
    assert april["tax_payable.DE-S-19"].amount == Decimal("-2606.77")  # the story's VAT payable at 04-30
    # The usage line credits unbilled receivables (its revenue is accrued as the usage occurs).
    assert april["unbilled_receivables"].amount == Decimal("-500.00")

    # Documents were rendered from the issued rows with their hashes, and the AR control ties.
    files = DocumentFile.objects.filter(doc_type="invoice", doc_id=inv1.pk)
    assert {f.format for f in files} == {"pdf", "ubl"} and all(len(f.sha256) == 64 for f in files)
    assert len(inv1.content_sha256) == 64
    from q2c.invoicing.checks import ar_control

    assert ar_control() == []


def test_a_second_run_of_each_date_bills_nothing_more(django_capture_on_commit_callbacks):
    _, _, story = tell_the_story(NORTHWIND)
    before = list(Invoice.objects.values_list("number", "total_minor").order_by("number"))
    out = story.bill_run(date(2027, 4, 1))
    # The run of the date is taken up again: its one invoice stands, nothing new is billed.
    assert out.startswith("bill run 2027-04-01: 1 invoices, 2415.70 EUR; 0 new in attempt 2")
    assert list(Invoice.objects.values_list("number", "total_minor").order_by("number")) == before


def test_api_usage_occurred_but_not_invoiced_is_500_at_march_end_and_640_at_april_end():
    from q2c.billing import queries as billing_queries

    entity, account, story = tell_the_story(NORTHWIND)
    (march,) = billing_queries.unbilled_usage(date(2027, 3, 31), entity_id=entity.pk)
    assert (march.account_id, march.sku, march.period_start, march.quantity, str(march.amount)) == (
        account.pk, "API", date(2027, 3, 1), Decimal(350_000), "500.00 EUR",
    )  # fmt: skip
    story.on(date(2027, 4, 30))
    api_calls(account, "april", date(2027, 4, 1), 420_000)
    assert [(r.period_start, str(r.amount)) for r in billing_queries.unbilled_usage(date(2027, 4, 30))] == [
        (date(2027, 4, 1), "640.00 EUR")  # March was invoiced on INV-2027-000005 (2027-04-01)
    ]


def test_the_eu_customer_is_reverse_charged_and_the_appliances_are_an_intra_community_supply(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        entity, fabrikam, _ = tell_the_story(FABRIKAM)
    invoices = list(Invoice.objects.filter(account=fabrikam).order_by("number"))
    assert [(i.number, i.net_minor, i.tax_minor, i.total_minor) for i in invoices] == [
        (n, cents(net), 0, cents(net)) for n, net, _ in FABRIKAM_TABLE
    ]
    for invoice, (_, _, categories) in zip(invoices, FABRIKAM_TABLE, strict=True):
        assert {r["category"] for r in invoice.tax_summary} == categories
    k_row = invoices[1].tax_summary[0]
    assert (k_row["mention"], k_row["deliver_to"], k_row["delivery_date"]) == (
        INTRA_COMMUNITY,
        "FR",
        "2027-02-10",
    )
    assert invoices[1].delivery_date == date(2027, 2, 10)
    assert invoices[0].tax_summary[0]["mention"] == REVERSE_CHARGE
    balances = ledger_queries.trial_balance(entity.pk, date(2027, 4, 30)).by_key()
    assert not any(k.startswith("tax_payable") and v for k, v in balances.items())
    assert balances["ar"].amount == Decimal("13719.84")  # 6,275 + 4,000 + 1,275 + 139.84 + 2,030
    # The UBL of the intra-Community supply passed the EN 16931 rules when it was rendered.
    assert DocumentFile.objects.filter(doc_type="invoice", doc_id=invoices[1].pk, format="ubl").exists()
