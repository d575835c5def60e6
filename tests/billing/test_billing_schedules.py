"""Schedules from contract lines and what bill runs make of them: recurring lines in advance and
in arrears, monthly/quarterly/yearly, month-end anchors, prorated first periods; one-time charges
on contract start, delivery (per delivery) and activation; milestones; amendments prorated in
both styles and both timings — Stripe's documented example among them — and cancellations.

Every expected amount is worked out by hand in the comments. Bill runs go through
``q2c.billing.run.bill_run`` (the CLI's function).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from q2c.billing import handlers, services
from q2c.billing.models import Adjustment, BilledItem, Schedule
from q2c.billing.run import bill_run
from q2c.billing.services import ContractHead, LineIn
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.platform.events import DomainEvent
from tests.billing.world import CONTOSO, at, customer, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    clk = at(date(2026, 12, 1))
    acme = seller()
    return clk, acme, customer(acme)


def head(acme, account, *, contract_id=1, start=date(2027, 1, 1), end=date(2028, 1, 1), **kw) -> ContractHead:
    return ContractHead(
        contract_id, f"CON-{contract_id}", acme.pk, account.pk, kw.pop("currency", "EUR"), start, end, **kw
    )


def seat(q="10", price="30.00", start=date(2027, 1, 1), end=date(2028, 1, 1), **kw) -> LineIn:
    return LineIn(kw.pop("key", "1"), "SEAT", "recurring", D(q), None if price is None else D(price), start, end,
                  name="Platform seat", period_months=kw.pop("period_months", 1), tax_category="digital_service",
                  revenue_category="subscriptions", **kw)  # fmt: skip


def run(clk, day: date) -> Any:
    clk.set(day)
    return bill_run(day)


def lines_of(account) -> list[tuple]:
    return [
        (ln.invoice.issue_date, ln.service_start, ln.service_end, ln.quantity, ln.net_minor)
        for ln in InvoiceLine.objects.filter(invoice__account=account)
        .select_related("invoice")
        .order_by("invoice__seq", "position")
    ]


def test_a_monthly_line_in_advance_bills_each_month_on_its_first_day(world):
    clk, acme, acct = world
    services.create_schedules(head(acme, acct), [seat()])
    run(clk, date(2027, 1, 1))
    run(clk, date(2027, 2, 1))
    # 10 × 30.00 = 300.00 a month.
    assert lines_of(acct) == [
        (date(2027, 1, 1), date(2027, 1, 1), date(2027, 2, 1), D(10), 30000),
        (date(2027, 2, 1), date(2027, 2, 1), date(2027, 3, 1), D(10), 30000),
    ]


def test_a_month_end_anchor_keeps_its_intent_through_short_months(world):
    clk, acme, acct = world
    start = date(2027, 1, 31)
    services.create_schedules(head(acme, acct, start=start, billing_day=31), [seat(start=start)])
    for day in (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)):
        run(clk, day)
    # Anchored on the 31st: Jan 31 → Feb 28 → Mar 31 → Apr 30, each a whole month (300.00).
    assert [(s, e, net) for _, s, e, _, net in lines_of(acct)] == [
        (date(2027, 1, 31), date(2027, 2, 28), 30000),
        (date(2027, 2, 28), date(2027, 3, 31), 30000),
        (date(2027, 3, 31), date(2027, 4, 30), 30000),
    ]


def test_a_start_between_billing_days_bills_a_prorated_first_period(world):
    clk, acme, acct = world
    start = date(2027, 1, 15)
    services.create_schedules(head(acme, acct, start=start), [seat(start=start)])
    run(clk, date(2027, 1, 15))
    run(clk, date(2027, 2, 1))
    # [01-15, 02-01) is 17 of January's 31 days: 300.00 × 17/31 = 164.516… → 164.52.
    assert [(s, e, net) for _, s, e, _, net in lines_of(acct)] == [
        (date(2027, 1, 15), date(2027, 2, 1), 16452),
        (date(2027, 2, 1), date(2027, 3, 1), 30000),
    ]


def test_a_monthly_price_billed_quarterly_bills_three_months_at_once(world):
    clk, acme, acct = world
    services.create_schedules(head(acme, acct, billing_frequency="quarter"), [seat(q="2", price="30.00")])
    run(clk, date(2027, 1, 1))
    # 2 × 30.00 × 3 = 180.00 for [01-01, 04-01).
    assert [(s, e, net) for _, s, e, _, net in lines_of(acct)] == [
        (date(2027, 1, 1), date(2027, 4, 1), 18000)
    ]


def test_a_line_in_arrears_bills_at_the_end_of_its_period(world):
    clk, acme, acct = world
    services.create_schedules(head(acme, acct), [seat(timing="in_arrears")])
    run(clk, date(2027, 1, 1))
    assert lines_of(acct) == []
    run(clk, date(2027, 2, 1))
    assert [(issued, s, e) for issued, s, e, _, _ in lines_of(acct)] == [
        (date(2027, 2, 1), date(2027, 1, 1), date(2027, 2, 1))
    ]


def test_one_time_charges_bill_on_contract_start_and_per_delivery(world):
    clk, acme, acct = world
    onb = LineIn(
        "2",
        "ONB",
        "one_time",
        D(1),
        D("5000.00"),
        date(2027, 1, 1),
        date(2028, 1, 1),
        revenue_category="services",
    )
    edge = LineIn(
        "3",
        "EDGE",
        "one_time",
        D(3),
        D("2000.00"),
        date(2027, 1, 1),
        date(2028, 1, 1),
        revenue_category="hardware",
        tax_category="goods",
    )
    services.create_schedules(head(acme, acct), [onb, edge])
    run(clk, date(2027, 1, 1))
    clk.set(date(2027, 1, 10))
    # Two of three appliances delivered on 01-10, the third on 01-20 (orders' LineDelivered).
    for seq, (qty, day) in enumerate([("2", "2027-01-10"), ("1", "2027-01-20")]):
        handlers.on_line_delivered(DomainEvent("orders.line.delivered", "orders.order", 1, {
            "contract_id": 1, "contract_line_key": "3", "quantity": qty, "delivered_on": day}, seq=1000 + seq))  # fmt: skip
        handlers.on_line_delivered(DomainEvent("orders.line.delivered", "orders.order", 1, {
            "contract_id": 1, "contract_line_key": "3", "quantity": qty, "delivered_on": day}, seq=1000 + seq))  # a repeat adds nothing  # fmt: skip
    run(clk, date(2027, 1, 10))
    run(clk, date(2027, 1, 20))
    assert [(issued, q, net) for issued, _, _, q, net in lines_of(acct)] == [
        (date(2027, 1, 1), D(1), 500000),
        (date(2027, 1, 10), D(2), 400000),
        (date(2027, 1, 20), D(1), 200000),
    ]
    assert Schedule.objects.get(line_key="3").status == "ended"


def test_milestones_bill_their_percentages_as_they_are_done(world):
    clk, acme, acct = world
    (impl,) = services.create_schedules(
        head(acme, acct),
        [LineIn("5", "IMPL", "one_time", D(1), D("10000.00"), date(2027, 1, 1), date(2028, 1, 1))],
    )
    services.set_milestones(impl.pk, [("Kick-off", D(30)), ("Go-live", D(70))])
    run(clk, date(2027, 1, 1))
    assert lines_of(acct) == []
    services.mark_milestone_done(impl.pk, 1, date(2027, 1, 5))
    run(clk, date(2027, 1, 5))
    services.mark_milestone_done(impl.pk, 2, date(2027, 2, 3))
    run(clk, date(2027, 2, 3))
    # 30 % and 70 % of 10,000.00.
    assert [net for *_, net in lines_of(acct)] == [300000, 700000]


def test_a_contract_line_without_a_price_has_a_schedule_the_bill_run_reports(world):
    clk, acme, acct = world
    services.create_schedules(head(acme, acct), [seat(price=None)])
    result = run(clk, date(2027, 1, 1))
    assert result.invoices == 0
    assert [(e["account_id"], e["code"]) for e in result.errors] == [(acct.pk, "billing.price_missing")]
    assert "CON-1 line 1 (SEAT) has no price" in result.errors[0]["message"]


def test_the_contract_activated_payload_becomes_schedules(world):
    _clk, acme, acct = world
    payload = {
        "contract_id": 7, "number": "CON-2027-000007", "entity_id": acme.pk, "account_id": acct.pk, "currency": "EUR",
        "start_date": "2027-02-01", "end_date": "2028-02-01", "billing_frequency": "month", "billing_day": 1,
        "payment_terms_days": 30,
        "lines": [
            {"key": "1", "sku": "SEAT", "name": "Platform seat", "charge": "SUB", "charge_kind": "recurring",
             "quantity": "50", "net_unit_price": "25.50", "period_months": 1, "service_start": "2027-02-01",
             "service_end": "2028-02-01", "tax_category": "digital_service", "revenue_category": "subscriptions"},
            {"key": "4", "sku": "API", "charge": "CALLS", "charge_kind": "usage", "quantity": "0",
             "service_start": "2027-02-01", "service_end": "2028-02-01"},
        ],
    }  # fmt: skip
    handlers.on_contract_activated(
        DomainEvent("contracts.contract.activated", "contracts.contract", 7, payload)
    )
    handlers.on_contract_activated(
        DomainEvent("contracts.contract.activated", "contracts.contract", 7, payload)
    )
    # The usage line becomes a usage schedule metering its SKU; a repeat creates nothing.
    assert list(
        Schedule.objects.filter(contract_id=7, kind="usage").values_list("sku", "metric", "timing")
    ) == [("API", "api", "in_arrears")]
    (s,) = Schedule.objects.filter(contract_id=7).exclude(kind="usage")
    assert (s.kind, s.quantity, s.unit_price, s.every_months, s.anchor_day, s.anchor_month, s.start, s.end) == (
        "recurring", D(50), D("25.50"), 1, 1, 2, date(2027, 2, 1), date(2028, 2, 1),
    )  # fmt: skip


# --- amendments ---------------------------------------------------------------------------------


def amend_price(acme, acct, clk, *, style: str, timing: str, mode: str) -> list[Adjustment]:
    """1 × 10.00 USD a month from 2027-04-01; on 2027-04-16, halfway through April's 30 days, the
    price becomes 20.00 (contracts' change_price delta lines: −1 at 10.00 and +1 at 20.00)."""
    services.save_settings(acme.pk, amendment_style=style, proration_timing=timing, proration_mode=mode)
    h = head(acme, acct, currency="USD", start=date(2027, 4, 1), end=date(2028, 4, 1))
    services.create_schedules(h, [seat(q="1", price="10.00", start=date(2027, 4, 1), end=date(2028, 4, 1))])
    run(clk, date(2027, 4, 1))
    clk.set(date(2027, 4, 16))
    delta = [
        seat(q="-1", price="10.00", start=date(2027, 4, 16), end=date(2028, 4, 1), key="A1.1", adjusts="1", credit=True, amendment_number=1),
        seat(q="1", price="20.00", start=date(2027, 4, 16), end=date(2028, 4, 1), key="A1.2", amendment_number=1),
    ]  # fmt: skip
    _, adjustments = services.amend_schedules(h, date(2027, 4, 16), delta, amendment_number=1)
    return adjustments


@pytest.fixture
def usd_world(world):
    from q2c.invoicing.services import set_rate

    clk, acme, _ = world
    contoso = customer(acme, CONTOSO)
    for day in (date(2027, 4, 1), date(2027, 4, 16), date(2027, 5, 1)):
        set_rate("USD", "EUR", day, "0.9137")
    return clk, acme, contoso


def test_stripes_documented_upgrade_halfway_is_a_credit_of_five_and_a_charge_of_ten(usd_world):
    # Stripe, "Prorations" (docs.stripe.com/billing/subscriptions/prorations): a customer on a
    # 10 USD monthly price who upgrades to 20 USD halfway through the month gets a credit of
    # 5 USD for the unused time on the old price and is charged 10 USD for the remaining time on
    # the new price — prorated to the second, credit and charge as separate lines.
    clk, acme, contoso = usd_world
    adjustments = amend_price(
        acme, contoso, clk, style="credit_and_charge", timing="immediately", mode="seconds"
    )
    assert [(a.kind, a.amount_minor, a.bill_date) for a in adjustments] == [
        ("credit", -500, date(2027, 4, 16)),
        ("charge", 1000, date(2027, 4, 16)),
    ]
    run(clk, date(2027, 4, 16))
    invoice = Invoice.objects.filter(account=contoso).order_by("-seq").first()
    assert (invoice.issue_date, invoice.net_minor) == (date(2027, 4, 16), 500)  # −5.00 + 10.00


def test_the_same_upgrade_as_one_delta_line_on_the_next_invoice(usd_world):
    clk, acme, contoso = usd_world
    adjustments = amend_price(acme, contoso, clk, style="delta", timing="next_invoice", mode="days")
    # One line: (20.00 − 10.00) × 15/30 = 5.00, waiting for the next regular invoice (05-01).
    assert [(a.kind, a.amount_minor, a.bill_date, a.numerator, a.denominator) for a in adjustments] == [
        ("delta", 500, date(2027, 5, 1), 15, 30)
    ]
    run(clk, date(2027, 4, 16))
    assert Invoice.objects.filter(account=contoso, issue_date=date(2027, 4, 16)).count() == 0
    run(clk, date(2027, 5, 1))
    # May: the delta 5.00 and the new price 20.00 for [05-01, 06-01) on one invoice; the old
    # line (10.00) and its reduction (−10.00) cancel out from May on.
    (may,) = Invoice.objects.filter(account=contoso, issue_date=date(2027, 5, 1))
    assert sorted(ln.net_minor for ln in may.lines.all()) == [-1000, 500, 1000, 2000]
    assert may.net_minor == 2500


def test_northwinds_added_seats_are_one_delta_line_invoiced_at_once(world):
    # northwind.md, step 6 and INV-4: +10 SEAT at 25.50 from 03-15, co-termed to 2028-02-01:
    # 10 × 25.50 × 17/31 = 139.8387… → 139.84 on 03-15; then 255.00 a month from 04-01.
    clk, acme, acct = world
    h = head(acme, acct, start=date(2027, 2, 1), end=date(2028, 2, 1))
    services.create_schedules(h, [seat(q="50", price="25.50", start=date(2027, 2, 1), end=date(2028, 2, 1))])
    run(clk, date(2027, 3, 1))
    clk.set(date(2027, 3, 15))
    services.amend_schedules(h, date(2027, 3, 15), [seat(q="10", price="25.50", start=date(2027, 3, 15), end=date(2028, 2, 1), key="A1.1", amendment_number=1)], amendment_number=1)  # fmt: skip
    run(clk, date(2027, 3, 15))
    run(clk, date(2027, 4, 1))
    assert [(issued, q, net) for issued, _, _, q, net in lines_of(acct)][-4:] == [
        (date(2027, 3, 1), D(50), 127500),
        (date(2027, 3, 15), D(10), 13984),
        (date(2027, 4, 1), D(50), 127500),
        (date(2027, 4, 1), D(10), 25500),
    ]


def test_a_cancellation_credits_the_unused_part_of_a_period_billed_in_advance(world):
    clk, acme, acct = world
    h = head(acme, acct)
    services.create_schedules(h, [seat()])
    run(clk, date(2027, 1, 1))
    clk.set(date(2027, 1, 22))
    (credit,) = services.end_schedules(h, date(2027, 1, 22))
    # The unused [01-22, 02-01): 10 of 31 days: −300.00 × 10/31 = −96.774… → −96.77.
    assert (credit.kind, credit.amount_minor, credit.bill_date) == ("delta", -9677, date(2027, 1, 22))
    result = run(clk, date(2027, 1, 22))
    # A credit alone would be a negative invoice: reported, not issued — the correction is a
    # credit note against the invoice that billed January.
    assert result.invoices == 0
    assert [e["code"] for e in result.errors] == ["billing.credit_only"]
    assert "INV-2027-000001" in result.errors[0]["message"]
    run(clk, date(2027, 2, 1))
    assert BilledItem.objects.filter(period_start=date(2027, 2, 1)).count() == 0


def test_billing_can_be_anchored_to_the_start_instead_of_a_calendar_day(world):
    clk, acme, acct = world
    start = date(2027, 1, 15)
    services.create_schedules(
        head(acme, acct, start=start, billing_settings={"anchor": "contract_start"}), [seat(start=start)]
    )
    run(clk, date(2027, 1, 15))
    run(clk, date(2027, 2, 15))
    # Whole months from the 15th: no prorated first period.
    assert [(s, e, net) for _, s, e, _, net in lines_of(acct)] == [
        (date(2027, 1, 15), date(2027, 2, 15), 30000),
        (date(2027, 2, 15), date(2027, 3, 15), 30000),
    ]


def test_a_line_billed_in_milestones_bills_nothing_until_they_are_defined(world):
    clk, acme, acct = world
    services.set_charge_rule(acme.pk, "IMPL", "milestones")
    services.create_schedules(
        head(acme, acct),
        [LineIn("5", "IMPL", "one_time", D(1), D("10000.00"), date(2027, 1, 1), date(2028, 1, 1))],
    )
    result = run(clk, date(2027, 1, 1))
    assert (result.invoices, result.errors) == (0, [])
