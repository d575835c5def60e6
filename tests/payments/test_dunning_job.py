"""The daily dunning job through the platform schedule: the Northwind dunning of step 9 of
../shared/scenarios/northwind.md, every step exactly once, pauses for promises to pay, catch-up of
missed days without stale reminders, fees and statutory interest as invoices that are taxed and
posted, and what is refused.

Invoices are issued through invoicing's services with the amounts of northwind.md table 4;
payments are applied on the dates of table 8. Expected dates and amounts are worked by hand in the
comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from q2c.billing.models import Charge
from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.invoicing import services as invoicing
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.payments import services as payments
from q2c.payments.dunning import services
from q2c.payments.dunning.models import DunningEntry, DunningRun, PromiseToPay
from q2c.platform import schedules
from q2c.platform.models import Event, ScheduleRun
from tests.billing.world import at, customer, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def eur(text: str) -> Money:
    return Money(D(text), "EUR")


@pytest.fixture
def world():
    sim = at(date(2027, 1, 10))
    acme = seller()
    northwind = customer(acme)
    return sim, acme, northwind


def issue_on(sim, account, day: date, net: str, what: str = "Platform seats") -> Invoice:
    """An invoice of one 19 % line issued on ``day`` (Acme's terms: net 30 days)."""
    sim.set(day)
    draft = invoicing.create_draft(
        account_id=account.pk,
        lines=[{"description": what, "quantity": D(1), "unit_price": D(net), "tax_category": "service",
                "revenue_category": "services"}],
    )  # fmt: skip
    return invoicing.issue(draft.pk, actor="finance", formats=[])


def pay(sim, invoice: Invoice, day: date, amount: str) -> None:
    """A bank transfer received on ``day`` and applied to ``invoice`` (the payments app)."""
    sim.set(day)
    payments.record_payment(invoice.account_id, eur(amount), received_on=day,
                            allocations=[(invoice.pk, eur(amount))], actor="bank")  # fmt: skip


def reminders(number: str = "") -> list[tuple[str, date, str, str]]:
    rows = DunningEntry.objects.order_by("business_date", "id")
    if number:
        rows = rows.filter(invoice_number=number)
    return [(e.invoice_number, e.business_date, e.step_key, e.status) for e in rows]


def poll_on(sim, day: date, capture) -> list[tuple[str, date, str]]:
    """The worker's poll on ``day`` at 09:00 Berlin (the schedule runs at 02:00 UTC)."""
    sim.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    with capture(execute=True):
        return schedules.poll(clock.now())


NORTHWIND_POLICY = [{"key": "reminder", "offset_days": 7, "action": "reminder"}]


def test_northwind_dunning_sends_one_reminder_for_inv3_and_one_for_inv4_and_nothing_after_payment(
    world, django_capture_on_commit_callbacks
):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Northwind", steps=NORTHWIND_POLICY)
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 2, 1))
    # northwind.md table 4: net amounts with 19 % VAT; due = issue + 30 days.
    issues = {
        date(2027, 2, 1): "6275.00",  # INV-1 7,467.25 due 2027-03-03
        date(2027, 2, 10): "4000.00",  # INV-2 4,760.00 due 2027-03-12
        date(2027, 3, 1): "1275.00",  # INV-3 1,517.25 due 2027-03-31
        date(2027, 3, 15): "139.84",  # INV-4 166.41 due 2027-04-14
        date(2027, 4, 1): "2030.00",  # INV-5 2,415.70 due 2027-05-01
    }
    # Table 8 (INV-2's 15.00 bank fee is cash application's business; paid in full here).
    received = {
        date(2027, 2, 20): [("INV-2027-000001", "7467.25")],
        date(2027, 3, 5): [("INV-2027-000002", "4760.00")],
        date(2027, 4, 20): [("INV-2027-000003", "1517.25")],
        date(2027, 4, 25): [("INV-2027-000004", "166.41"), ("INV-2027-000005", "2415.70")],
    }
    day = date(2027, 2, 1)
    while day <= date(2027, 5, 31):
        if day in issues:
            issue_on(sim, northwind, day, issues[day])
        for number, amount in received.get(day, []):
            pay(sim, Invoice.objects.get(number=number), day, amount)
        ran = poll_on(sim, day, django_capture_on_commit_callbacks)
        assert ran == [("payments.dunning", day, "done")]
        day += timedelta(days=1)
    inv3, inv4 = Invoice.objects.get(number="INV-2027-000003"), Invoice.objects.get(number="INV-2027-000004")
    assert (inv3.due_date, inv4.due_date, inv4.total) == (date(2027, 3, 31), date(2027, 4, 14), eur("166.41"))
    # INV-3 due 03-31 + 7 = 04-07 (paid 04-20); INV-4 due 04-14 + 7 = 04-21 (paid 04-25).
    assert reminders() == [
        ("INV-2027-000003", date(2027, 4, 7), "reminder", "done"),
        ("INV-2027-000004", date(2027, 4, 21), "reminder", "done"),
    ]
    sent = [m for m in mail.outbox if m.subject.startswith("Payment reminder")]
    assert [(m.subject, m.to) for m in sent] == [
        ("Payment reminder: invoice INV-2027-000003", ["ap@northwind.example"]),
        ("Payment reminder: invoice INV-2027-000004", ["ap@northwind.example"]),
    ]
    assert "1517.25 EUR was due on 2027-03-31 and is 7 days overdue" in sent[0].body
    first = DunningEntry.objects.get(invoice_number="INV-2027-000003")
    assert (first.mail, first.email_to, first.open_amount, first.subject) == (
        "sent", "ap@northwind.example", eur("1517.25"), sent[0].subject,
    )  # fmt: skip
    assert len(first.document_sha256) == 64
    assert Event.objects.filter(type="payments.dunning.reminder_sent").count() == 2
    assert not Event.objects.filter(type="payments.dunning.fee_charged").exists()


def test_rerunning_a_business_date_sends_nothing_new(world, django_capture_on_commit_callbacks):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Northwind", steps=NORTHWIND_POLICY)
    issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 2027-03-31
    sim.set(date(2027, 4, 7))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.run_day(date(2027, 4, 7))
        again = services.run_day(date(2027, 4, 7))
    assert (first["actions"], again["actions"]) == (1, 0)
    assert len([m for m in mail.outbox if m.subject.startswith("Payment reminder")]) == 1
    assert DunningRun.objects.get(business_date=date(2027, 4, 7)).result["actions"] == 1


FULL_POLICY = [
    {"key": "reminder", "offset_days": 7, "action": "reminder"},
    {"key": "second", "offset_days": 21, "action": "second_reminder", "fee": "5.00", "currency": "EUR",
     "charge_interest": True},
    {"key": "suspend", "offset_days": 35, "action": "suspend_service"},
    {"key": "final", "offset_days": 49, "action": "final_notice"},
    {"key": "collections", "offset_days": 63, "action": "collections"},
]  # fmt: skip


def test_an_unpaid_invoice_moves_through_every_step_exactly_once(world, django_capture_on_commit_callbacks):
    sim, acme, northwind = world
    # 11.27 % a year: the German base rate 2.27 % + 9 points between businesses (BGB §288(2)).
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY, interest_rate="0.1127")
    issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # 1,517.25 due 2027-03-31
    # The bill run puts the fee on the account's next invoice (it polls before dunning: by name).
    schedules.ensure("billing.bill_run", "billing.bill_run", start_date=date(2027, 4, 1))
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    day = date(2027, 4, 1)
    while day <= date(2027, 6, 12):
        poll_on(sim, day, django_capture_on_commit_callbacks)
        day += timedelta(days=1)
    # Due 03-31: +7 = 04-07, +21 = 04-21, +35 = 05-05, +49 = 05-19, +63 = 06-02.
    assert reminders("INV-2027-000001") == [
        ("INV-2027-000001", date(2027, 4, 7), "reminder", "done"),
        ("INV-2027-000001", date(2027, 4, 21), "second", "done"),
        ("INV-2027-000001", date(2027, 5, 5), "suspend", "done"),
        ("INV-2027-000001", date(2027, 5, 19), "final", "done"),
        ("INV-2027-000001", date(2027, 6, 2), "collections", "done"),
    ]
    second = DunningEntry.objects.get(step_key="second", invoice_number="INV-2027-000001")
    # Interest: 1,517.25 × 0.1127 × 21 / 365 = 9.8380… → 9.84; fee 5.00.
    assert (second.fee, second.interest) == (eur("5.00"), eur("9.84"))
    charges = list(Charge.objects.filter(pk__in=second.charge_ids).order_by("id"))
    assert [(c.reference, c.amount_minor, c.bill_on) for c in charges] == [
        ("dunning:fee:INV-2027-000001:second", 500, date(2027, 4, 21)),
        ("dunning:interest:INV-2027-000001:second", 984, date(2027, 4, 21)),
    ]
    fee_invoice = Invoice.objects.get(pk=charges[0].invoice_id)
    # Billed by the next day's bill run and taxed like every line: 14.84 net, 19 % VAT 2.8196 →
    # 2.82, total 17.66; issued 04-22, due 05-22.
    assert (fee_invoice.number, fee_invoice.issue_date, fee_invoice.net, fee_invoice.tax, fee_invoice.total) == (
        "INV-2027-000002", date(2027, 4, 22), eur("14.84"), eur("2.82"), eur("17.66"),
    )  # fmt: skip
    assert [(line.description, line.net) for line in InvoiceLine.objects.filter(invoice=fee_invoice)] == [
        ("Late-payment fee for invoice INV-2027-000001", eur("5.00")),
        ("Interest on invoice INV-2027-000001 at 11.27 % p.a., 2027-03-31 to 2027-04-21", eur("9.84")),
    ]
    assert fee_invoice.posting  # posted to the ledger at issue
    # The fee invoice (due 05-22: +7 = 05-29, +21 = 06-12) is reminded, but never charged a fee on a fee.
    fee_steps = [
        (e.step_key, e.business_date, e.charge_ids, e.fee)
        for e in DunningEntry.objects.filter(invoice=fee_invoice).order_by("business_date")
    ]
    assert fee_steps == [
        ("reminder", date(2027, 5, 29), [], eur("0")),
        ("second", date(2027, 6, 12), [], eur("0")),
    ]
    assert Event.objects.filter(type="payments.dunning.service_suspended").count() == 1
    assert Event.objects.filter(type="payments.dunning.fee_charged").count() == 1
    assert Event.objects.filter(type="payments.dunning.handed_to_collections").count() == 1
    (second_mail,) = [m for m in mail.outbox if m.subject == "Second reminder: invoice INV-2027-000001"]
    assert (
        "We have charged a late-payment fee of 5.00 EUR. Interest of 9.84 EUR at 11.27 % p.a. to 2027-04-21 is charged."
        in second_mail.body
    )
    subjects = [m.subject for m in mail.outbox if "INV-2027-000001" in m.subject]
    assert subjects == [
        "Payment reminder: invoice INV-2027-000001",
        "Second reminder: invoice INV-2027-000001",
        "Service suspended: invoice INV-2027-000001 unpaid",
        "Final notice: invoice INV-2027-000001",
        "Handed over to collections: invoice INV-2027-000001",
    ]


def test_payment_stops_dunning(world, django_capture_on_commit_callbacks):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY)
    inv = issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 2027-03-31
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    for offset in range(0, 80):
        day = date(2027, 4, 1) + timedelta(days=offset)
        if day == date(2027, 4, 10):
            pay(sim, inv, day, "1517.25")
        poll_on(sim, day, django_capture_on_commit_callbacks)
    assert reminders() == [("INV-2027-000001", date(2027, 4, 7), "reminder", "done")]


def test_missed_days_catch_up_in_order_without_a_stale_first_reminder(
    world, django_capture_on_commit_callbacks
):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY[:2])
    issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 2027-03-31
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    # The worker was down from 04-01 to 04-24: the poll on 04-25 runs 04-01 … 04-25 in order.
    ran = poll_on(sim, date(2027, 4, 25), django_capture_on_commit_callbacks)
    assert [d for _, d, _ in ran] == [date(2027, 4, 1) + timedelta(days=i) for i in range(25)]
    # 04-07's first reminder is overtaken by 04-21's second (both due by today): logged as
    # skipped, never sent; the second is sent once.
    assert reminders() == [
        ("INV-2027-000001", date(2027, 4, 7), "reminder", "skipped"),
        ("INV-2027-000001", date(2027, 4, 21), "second", "done"),
    ]
    assert [m.subject for m in mail.outbox if "INV-2027-000001" in m.subject] == [
        "Second reminder: invoice INV-2027-000001"
    ]
    assert ScheduleRun.objects.filter(schedule__name="payments.dunning").count() == 25


def test_a_promise_to_pay_pauses_dunning_and_it_resumes_when_the_promise_is_broken(
    world, django_capture_on_commit_callbacks
):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY[:2])
    inv = issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 2027-03-31
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    for offset in range(0, 40):
        day = date(2027, 4, 1) + timedelta(days=offset)
        if day == date(2027, 4, 5):
            sim.set(day)
            services.record_promise(northwind.pk, promised_date=date(2027, 4, 15), amount="1517.25",
                                    notes="CFO promised on the phone", next_action="call if not paid",
                                    actor="finance")  # fmt: skip
        poll_on(sim, day, django_capture_on_commit_callbacks)
    promise = PromiseToPay.objects.get()
    # Paused 04-05 … 04-15 (the 04-07 reminder waits); broken on 04-16, dunning resumes that day
    # with the reminder; the second reminder at +21 = 04-21.
    assert (promise.status, promise.closed_on, promise.invoice_ids) == ("broken", date(2027, 4, 16), [inv.pk])
    assert reminders() == [
        ("INV-2027-000001", date(2027, 4, 16), "reminder", "done"),
        ("INV-2027-000001", date(2027, 4, 21), "second", "done"),
    ]
    assert Event.objects.filter(type="payments.dunning.promise_to_pay_recorded").count() == 1


def test_a_kept_promise_ends_without_any_reminder(world, django_capture_on_commit_callbacks):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY[:2])
    inv = issue_on(sim, northwind, date(2027, 3, 1), "1275.00")
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    for offset in range(0, 30):
        day = date(2027, 4, 1) + timedelta(days=offset)
        if day == date(2027, 4, 2):
            sim.set(day)
            services.record_promise(northwind.pk, promised_date=date(2027, 4, 12), amount="1517.25")
        if day == date(2027, 4, 12):
            pay(sim, inv, day, "1517.25")
        poll_on(sim, day, django_capture_on_commit_callbacks)
    assert PromiseToPay.objects.get().status == "kept"
    assert reminders() == []


def test_the_segment_decides_the_policy(world, django_capture_on_commit_callbacks):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Default", steps=NORTHWIND_POLICY)
    services.save_policy(acme.pk, "key-accounts", name="Key accounts",
                         steps=[{"key": "call", "offset_days": 14, "action": "reminder"}])  # fmt: skip
    services.set_segment(northwind.pk, "key-accounts")
    issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 03-31: +14 = 04-14
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    for offset in range(0, 20):
        poll_on(sim, date(2027, 4, 1) + timedelta(days=offset), django_capture_on_commit_callbacks)
    assert reminders() == [("INV-2027-000001", date(2027, 4, 14), "call", "done")]


def test_a_dispute_pauses_dunning_and_it_resumes_when_the_dispute_is_closed(
    world, django_capture_on_commit_callbacks
):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY[:2], interest_rate="0.1127")
    inv = issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 2027-03-31
    schedules.ensure("payments.dunning", "payments.dunning", start_date=date(2027, 4, 1))
    dispute = None
    for offset in range(0, 40):
        day = date(2027, 4, 1) + timedelta(days=offset)
        if day == date(2027, 4, 3):
            sim.set(day)
            dispute = payments.open_dispute(invoice_id=inv.pk, reason="seats not delivered", actor="finance")
        if day == date(2027, 4, 12):
            sim.set(day)
            refused("dunning.invoice_disputed", services.charge_fee, inv.pk, fee="5.00")
            refused("dunning.invoice_disputed", services.record_promise, northwind.pk,
                    promised_date=date(2027, 4, 20), amount="1517.25", invoice_ids=[inv.pk])  # fmt: skip
        if day == date(2027, 4, 25):
            sim.set(day)
            payments.resolve_dispute(dispute.pk, won=True, actor="finance")
        poll_on(sim, day, django_capture_on_commit_callbacks)
    # Paused 04-03 … 04-24: neither the +7 reminder (04-07) nor the +21 second (04-21) goes out;
    # on 04-25 the dispute is closed and only the most advanced step due is sent, the first
    # reminder logged as skipped.
    assert reminders() == [
        ("INV-2027-000001", date(2027, 4, 25), "reminder", "skipped"),
        ("INV-2027-000001", date(2027, 4, 25), "second", "done"),
    ]
    # Interest 03-31 → 04-25 = 25 days: 1,517.25 × 0.1127 × 25 / 365 = 11.7119… → 11.71.
    assert DunningEntry.objects.get(step_key="second").interest == eur("11.71")


# --------------------------------------------------------------------------- refused input


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    return caught.value


def test_a_policy_with_overlapping_steps_is_refused_and_nothing_is_written(world):
    _, acme, _ = world
    steps = [
        {"key": "a", "offset_days": 7, "action": "reminder"},
        {"key": "b", "offset_days": 7, "action": "final_notice"},
    ]
    err = refused(
        "dunning.overlapping_steps", services.save_policy, acme.pk, "default", name="X", steps=steps
    )
    assert err.field == "steps"
    from q2c.payments.dunning.models import DunningPolicy

    assert not DunningPolicy.objects.exists()


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([{"key": "a", "offset_days": -1, "action": "reminder"}], "steps[0].offset_days"),
        ([{"key": "a", "offset_days": 10**9, "action": "reminder"}], "steps[0].offset_days"),
        ([{"key": "<b>", "offset_days": 1, "action": "reminder"}], "steps[0].key"),
        ([{"key": "a", "offset_days": 1, "action": "shout"}], "steps[0].action"),
        (
            [{"key": "a", "offset_days": 1, "action": "reminder", "fee": "5.001", "currency": "EUR"}],
            "steps[0].fee",
        ),
        (
            [{"key": "a", "offset_days": 1, "action": "reminder", "fee": "5", "currency": "XXX1"}],
            "steps[0].currency",
        ),
        (
            [{"key": "a", "offset_days": 1, "action": "reminder", "fee": "1e30", "currency": "EUR"}],
            "steps[0].fee",
        ),
        ([{"key": "a", "offset_days": 1, "action": "reminder", "body": "{__class__}"}], "steps[0].body"),
        ([], "steps"),
    ],
)
def test_bad_policy_steps_are_refused_naming_the_field(world, steps, field):
    _, acme, _ = world
    with pytest.raises(DomainError) as caught:
        services.save_policy(acme.pk, "default", name="X", steps=steps)
    assert caught.value.field == field, (caught.value.field, caught.value.message)


def test_a_promise_dated_in_the_past_is_refused(world):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Northwind", steps=NORTHWIND_POLICY)
    issue_on(sim, northwind, date(2027, 3, 1), "1275.00")
    sim.set(date(2027, 4, 10))
    refused("dunning.promise_date_past", services.record_promise, northwind.pk,
            promised_date=date(2027, 4, 9), amount="100.00")  # fmt: skip
    refused("dunning.invalid_promise", services.record_promise, northwind.pk,
            promised_date=date(2027, 4, 20), amount="-1")  # fmt: skip
    refused("dunning.invalid_promise", services.record_promise, northwind.pk,
            promised_date=date(2027, 4, 20), amount="10.00", currency="USD")  # fmt: skip
    refused("dunning.invalid_promise", services.record_promise, northwind.pk,
            promised_date=date(2027, 4, 20), amount="10.00", invoice_ids=[999999])  # fmt: skip
    assert not PromiseToPay.objects.exists()


def test_a_fee_by_hand_is_charged_through_billing_and_refused_on_an_invoice_not_overdue(world):
    sim, acme, northwind = world
    services.save_policy(acme.pk, "default", name="Standard", steps=FULL_POLICY, interest_rate="0.1127")
    inv = issue_on(sim, northwind, date(2027, 3, 1), "1275.00")  # due 03-31
    sim.set(date(2027, 3, 20))
    refused("dunning.invoice_not_open", services.charge_fee, inv.pk, fee="5.00")
    sim.set(date(2027, 5, 30))
    refused("dunning.invalid_fee", services.charge_fee, inv.pk, fee="abc")
    refused("dunning.invalid_fee", services.charge_fee, inv.pk, interest_until=date(2027, 6, 30))
    # Interest 03-31 → 05-30 = 60 days: 1,517.25 × 0.1127 × 60 / 365 = 28.1086… → 28.11.
    entry = services.charge_fee(inv.pk, interest_until=date(2027, 5, 30), actor="finance")
    assert entry.interest == eur("28.11")
    from q2c.billing.run import daily

    daily(date(2027, 5, 30))
    (charge,) = Charge.objects.filter(pk__in=entry.charge_ids)
    billed = Invoice.objects.get(pk=charge.invoice_id)
    # Invoiced as a service at 19 %: 28.11 × 0.19 = 5.3409 → 5.34; total 33.45.
    assert (billed.net, billed.tax, billed.total) == (eur("28.11"), eur("5.34"), eur("33.45"))
    assert Event.objects.filter(type="payments.dunning.fee_charged").count() == 1
