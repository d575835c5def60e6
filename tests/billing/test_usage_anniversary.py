"""Usage periods on the subscription's anniversary (``billing_settings["usage_periods"] =
"anniversary"``): a subscription starting 15 March is rated on [15 March, 15 April), [15 April,
15 May), … in the entity's time zone, closed when its period ends, accrued and given terms per
period. Amounts by hand from Northwind's API tiers (0–100,000 at 0.00; 100,001–1,000,000 at 0.002).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from q2c.billing import queries, services
from q2c.billing.models import Charge, Schedule
from q2c.billing.run import bill_run
from q2c.billing.services import ContractHead, LineIn
from q2c.billing.usage import UsageRefused, ingest, period_start_of, set_usage_terms, usage_period
from q2c.core.periods import Period
from q2c.invoicing.models import InvoiceLine
from tests.billing.usage_world import at_berlin, catalog, event
from tests.billing.world import at, customer, seller

START = date(2027, 3, 15)


@pytest.mark.parametrize(
    ("local", "anchor", "start"),
    [
        (date(2027, 3, 31), 1, date(2027, 3, 1)),
        (date(2027, 4, 14), 15, date(2027, 3, 15)),
        (date(2027, 4, 15), 15, date(2027, 4, 15)),
        (date(2027, 1, 10), 15, date(2026, 12, 15)),
        # Day 31 is the month's last day where the month is shorter.
        (date(2027, 2, 28), 31, date(2027, 2, 28)),
        (date(2027, 3, 30), 31, date(2027, 2, 28)),
        (date(2027, 3, 31), 31, date(2027, 3, 31)),
    ],
)
def test_the_period_of_a_day(local, anchor, start):
    assert period_start_of(local, anchor) == start


def test_a_period_ends_on_the_next_anniversary():
    assert usage_period(date(2027, 2, 28), 31) == Period(date(2027, 2, 28), date(2027, 3, 31))
    assert usage_period(date(2027, 3, 15), 15) == Period(date(2027, 3, 15), date(2027, 4, 15))
    assert usage_period(date(2027, 3, 1), 1) == Period(date(2027, 3, 1), date(2027, 4, 1))


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    clk = at(START)
    acme = seller()
    northwind = customer(acme)
    catalog()
    head = ContractHead(1, "CON-1", acme.pk, northwind.pk, "EUR", START, date(2028, 3, 15),
                        billing_settings={"usage_periods": "anniversary"})  # fmt: skip
    line = LineIn("4", "API", "usage", D(0), None, START, date(2028, 3, 15), name="API calls", charge="CALLS",
                  tax_category="digital_service", revenue_category="usage")  # fmt: skip
    services.create_schedules(head, [line])
    return clk, Schedule.objects.get(contract_id=1, line_key="4")


@pytest.mark.django_db
def test_a_mid_month_subscription_is_rated_on_its_anniversary_periods(world):
    clk, sub = world
    assert sub.anchor_day == 15
    clk.set(date(2027, 4, 20))
    ingest([
        event("a", sub.pk, 100_000, at_berlin(date(2027, 3, 15), 10)),
        event("b", sub.pk, 150_000, at_berlin(date(2027, 4, 14), 23, 30)),
        # 2027-04-14T22:30Z is 15 April 00:30 in Berlin: the second period.
        event("c", sub.pk, 200_000, "2027-04-14T22:30:00+00:00"),
    ])  # fmt: skip
    bill_run(date(2027, 4, 14), actor="test")
    assert not Charge.objects.exists()  # the first period has not ended on 14 April
    bill_run(date(2027, 4, 15), actor="test")
    # [15 March, 15 April): 250,000 calls → 150,000 × 0.002 = 300.00; the second period waits.
    line = InvoiceLine.objects.get()
    assert (line.description, line.net_minor, line.service_start, line.service_end) == (
        "API — API calls, usage 2027-03-15 – 2027-04-14", 30000, date(2027, 3, 15), date(2027, 4, 15),
    )  # fmt: skip
    # Accrued at 30 April: the second period's 200,000 calls → 100,000 × 0.002 = 200.00.
    assert [(r.period_start, r.period_end, str(r.amount)) for r in queries.unbilled_usage(date(2027, 4, 30))] == [
        (date(2027, 4, 15), date(2027, 5, 15), "200.00 EUR")
    ]  # fmt: skip
    explored = queries.usage_explorer(sub.pk)["months"]
    assert [(m["label"], m["events"], m["rated"]) for m in explored] == [
        ("2027-04-15 – 2027-05-14", 1, "200.00"), ("2027-03-15 – 2027-04-14", 2, "300.00"),
    ]  # fmt: skip


@pytest.mark.django_db
def test_terms_start_on_a_period_start(world):
    _, sub = world
    with pytest.raises(UsageRefused) as exc:
        set_usage_terms(sub.pk, {"effective_from": "2027-05-01", "included": "1000"})
    assert (exc.value.code, exc.value.field) == ("usage.not_a_period_start", "effective_from")
    assert set_usage_terms(sub.pk, {"effective_from": "2027-05-15", "included": "1000"}).included == D(1000)
