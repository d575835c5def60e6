"""The daily bill-run job's "is anything due?" question (``billing.run.anything_due``), one kind of
due item at a time: each makes a run of its date (and later) worth starting, and nothing before it.

Rows are written directly: the question reads the billing tables, whatever wrote them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from q2c.billing.models import Adjustment, Charge, Milestone, Schedule, ScheduleFact, UsagePending
from q2c.billing.run import anything_due
from tests.billing.world import at, customer, seller

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def acme_and_northwind():
    at(date(2027, 1, 1))
    acme = seller()
    return acme, customer(acme)


def schedule(world: Any, kind: str, **fields: Any) -> Schedule:
    acme, northwind = world
    values = {"entity": acme, "account": northwind, "contract_id": 1, "line_key": "1", "kind": kind,
              "sku": "SEAT", "description": "Platform seat", "tax_category": "digital_service", "currency": "EUR",
              "quantity": "1", "start": date(2027, 3, 1), "created_at": NOW, "updated_at": NOW, **fields}  # fmt: skip
    return Schedule.objects.create(**values)


def due_on(*days: date) -> list[bool]:
    return [anything_due(d) for d in days]


def test_nothing_at_all_is_never_due(acme_and_northwind):
    assert due_on(date(2027, 1, 1), date(2099, 12, 31)) == [False, False]


def test_a_recurring_schedule_is_due_from_its_start_and_again_from_its_billed_through_date(acme_and_northwind):
    s = schedule(acme_and_northwind, "recurring", start=date(2027, 3, 1))
    assert due_on(date(2027, 2, 28), date(2027, 3, 1)) == [False, True]
    Schedule.objects.filter(pk=s.pk).update(billed_through=date(2027, 4, 1))
    assert due_on(date(2027, 3, 31), date(2027, 4, 1)) == [False, True]
    Schedule.objects.filter(pk=s.pk).update(status="ended")
    assert due_on(date(2027, 4, 1)) == [False]


def test_a_one_time_charge_on_the_start_is_due_from_the_start_only_for_its_triggers(acme_and_northwind):
    s = schedule(acme_and_northwind, "one_time", trigger="contract_start")
    assert due_on(date(2027, 2, 28), date(2027, 3, 1)) == [False, True]
    Schedule.objects.filter(pk=s.pk).update(trigger="date")
    assert due_on(date(2027, 3, 1)) == [True]
    Schedule.objects.filter(pk=s.pk).update(trigger="")
    assert due_on(date(2027, 3, 1)) == [True]
    # A charge waiting for a delivery is not due on its start alone.
    Schedule.objects.filter(pk=s.pk).update(trigger="delivery")
    assert due_on(date(2027, 3, 1), date(2027, 12, 31)) == [False, False]


def test_a_one_time_charge_waiting_for_a_fact_is_due_from_the_later_of_its_start_and_the_fact(acme_and_northwind):
    s = schedule(acme_and_northwind, "one_time", trigger="delivery")
    ScheduleFact.objects.create(schedule=s, kind="delivered", day=date(2027, 3, 10), quantity="1", ref="d1")
    assert due_on(date(2027, 3, 9), date(2027, 3, 10)) == [False, True]
    ScheduleFact.objects.filter(schedule=s).update(day=date(2027, 2, 1))  # delivered before the start
    assert due_on(date(2027, 2, 28), date(2027, 3, 1)) == [False, True]


def test_a_milestone_schedule_is_due_once_a_milestone_is_done(acme_and_northwind):
    s = schedule(acme_and_northwind, "milestone")
    Milestone.objects.create(schedule=s, position=1, name="Kick-off", percent="50")
    assert due_on(date(2027, 6, 1)) == [False]
    Milestone.objects.filter(schedule=s).update(done_on=date(2027, 4, 15))
    assert due_on(date(2027, 4, 14), date(2027, 4, 15)) == [False, True]


def test_an_unbilled_proration_is_due_from_its_bill_date_until_billed(acme_and_northwind):
    s = schedule(acme_and_northwind, "recurring", status="ended")
    Adjustment.objects.create(
        schedule=s, effective=date(2027, 5, 10), part=0, kind="credit", bill_date=date(2027, 6, 1),
        service_start=date(2027, 5, 10), service_end=date(2027, 6, 1), quantity="-1", unit_price="30",
        numerator=22, denominator=31, amount_minor=-2129, currency="EUR", description="Seat removed",
        created_at=NOW,
    )  # fmt: skip
    assert due_on(date(2027, 5, 31), date(2027, 6, 1)) == [False, True]
    Adjustment.objects.update(billed=True)
    assert due_on(date(2027, 6, 1)) == [False]


def test_a_one_off_charge_is_due_from_its_date_until_invoiced(acme_and_northwind):
    acme, northwind = acme_and_northwind
    Charge.objects.create(
        entity=acme, account=northwind, currency="EUR", description="Late fee", unit_price="40",
        amount_minor=4000, tax_category="standard", reference="fee-1", bill_on=date(2027, 2, 15), created_at=NOW,
    )  # fmt: skip
    assert due_on(date(2027, 2, 14), date(2027, 2, 15)) == [False, True]
    Charge.objects.update(invoice_id=1)
    assert due_on(date(2027, 2, 15)) == [False]


def test_usage_not_yet_rated_is_due_once_its_month_is_over(acme_and_northwind):
    UsagePending.objects.create(subscription_id=1, period_start=date(2027, 3, 1), touched_at=NOW)
    assert due_on(date(2027, 3, 31), date(2027, 4, 1)) == [False, True]
