"""Billing schedules (issue 10 §1): periods, bill dates, shares and keys, worked out by hand.

Every expected date and day count below was counted on a calendar, not computed by the engine.
"""

import itertools
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.billing.engine.proration import ItemKey
from q2c.billing.engine.schedule import (
    ItemKind,
    Milestone,
    MilestoneCharge,
    OneTimeCharge,
    RecurringCharge,
    ScheduleError,
    StubBasis,
    Timing,
    Trigger,
    TriggerDates,
    billing_period_at,
    due_items,
    periods,
)
from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.core.periods import Period


def eur(x: str) -> Money:
    return Money(Decimal(x), "EUR")


def spans(items):
    return [(i.period.start, i.period.end, i.bill_date, i.share_to, i.share_of) for i in items]


# --- recurring: month ends, anchors, frequencies ------------------------------------------------


def test_an_anchor_on_the_31st_bills_on_the_last_day_of_shorter_months():
    # Stripe, "Set the subscription billing renewal date"
    # (https://stripe.com/docs/subscriptions/billing-cycle): "A monthly subscription with a billing
    # cycle anchor date of January 31 bills the last day of the month closest to the anchor date,
    # so February 28 (or February 29 in a leap year), then March 31, April 30, and so on."
    charge = RecurringCharge(1, date(2027, 1, 31), date(2027, 5, 31))
    assert [i.bill_date for i in periods(charge)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    leap = RecurringCharge(2, date(2028, 1, 31), date(2028, 4, 30))
    assert [i.bill_date for i in periods(leap)] == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_a_calendar_anchor_on_the_31st_keeps_month_ends_after_a_short_month():
    charge = RecurringCharge(3, date(2027, 2, 28), date(2027, 5, 31), anchor_day=31)
    assert spans(periods(charge)) == [
        (date(2027, 2, 28), date(2027, 3, 31), date(2027, 2, 28), 31, 31),
        (date(2027, 3, 31), date(2027, 4, 30), date(2027, 3, 31), 30, 30),
        (date(2027, 4, 30), date(2027, 5, 31), date(2027, 4, 30), 31, 31),
    ]


def test_a_mid_month_start_anchored_on_the_first_bills_a_prorated_stub_then_the_first():
    # Stripe, "Set the billing cycle date" (https://stripe.com/docs/payments/checkout/billing-cycle):
    # "a monthly subscription created on May 15 with an anchor at June 1 is billed on May 15, then
    # always on the 1st of the month." The stub [May 15, Jun 1) is 17 of May's 31 days.
    charge = RecurringCharge(4, date(2027, 5, 15), date(2027, 8, 1), anchor_day=1)
    assert spans(periods(charge)) == [
        (date(2027, 5, 15), date(2027, 6, 1), date(2027, 5, 15), 17, 31),
        (date(2027, 6, 1), date(2027, 7, 1), date(2027, 6, 1), 30, 30),
        (date(2027, 7, 1), date(2027, 8, 1), date(2027, 7, 1), 31, 31),
    ]
    assert periods(charge)[0].amount(eur("31.00")) == eur("17.00")


def test_northwind_seats_bill_1275_on_the_first_of_each_month_in_advance():
    # shared/scenarios/northwind.md: 50 SEAT × 25.50 monthly in advance, billing day 1, contract
    # [2027-02-01, 2028-02-01); INV-1 (Feb), INV-3 (Mar) and INV-5 (Apr) carry 1,275.00.
    seats = RecurringCharge(10, date(2027, 2, 1), date(2028, 2, 1), anchor_day=1)
    items = due_items(seats, date(2027, 4, 1))
    assert [(i.period, i.bill_date) for i in items] == [
        (Period(date(2027, 2, 1), date(2027, 3, 1)), date(2027, 2, 1)),
        (Period(date(2027, 3, 1), date(2027, 4, 1)), date(2027, 3, 1)),
        (Period(date(2027, 4, 1), date(2027, 5, 1)), date(2027, 4, 1)),
    ]
    assert [i.amount(eur("1275.00")) for i in items] == [eur("1275.00")] * 3
    assert len(periods(seats)) == 12


def test_quarterly_in_arrears_on_calendar_quarters_prorates_first_and_last_periods():
    # Term [2027-02-01, 2028-02-01). Calendar quarters: Q1 2027 = 31 + 28 + 31 = 90 days, of which
    # Feb + Mar = 59; Q2 91; Q3 92; Q4 92; Q1 2028 = 31 + 29 + 31 = 91, of which January = 31.
    # In arrears: billed on the day after each period (its half-open end).
    charge = RecurringCharge(
        5, date(2027, 2, 1), date(2028, 2, 1), every_months=3, timing=Timing.IN_ARREARS, anchor_day=1
    )
    assert spans(periods(charge)) == [
        (date(2027, 2, 1), date(2027, 4, 1), date(2027, 4, 1), 59, 90),
        (date(2027, 4, 1), date(2027, 7, 1), date(2027, 7, 1), 91, 91),
        (date(2027, 7, 1), date(2027, 10, 1), date(2027, 10, 1), 92, 92),
        (date(2027, 10, 1), date(2028, 1, 1), date(2028, 1, 1), 92, 92),
        (date(2028, 1, 1), date(2028, 2, 1), date(2028, 2, 1), 31, 91),
    ]
    # 900.00 a quarter: 900 × 59/90 = 590.00; 900 × 31/91 = 306.5934… → 306.59.
    items = periods(charge)
    assert items[0].amount(eur("900.00")) == eur("590.00")
    assert items[-1].amount(eur("900.00")) == eur("306.59")


def test_yearly_on_january_first_prorates_the_first_year_by_days():
    # 2027 has 365 days; [2027-02-01, 2028-01-01) is 365 − 31 = 334 of them. 2028 has 366.
    charge = RecurringCharge(6, date(2027, 2, 1), date(2029, 1, 1), every_months=12, anchor_day=1)
    assert spans(periods(charge)) == [
        (date(2027, 2, 1), date(2028, 1, 1), date(2027, 2, 1), 334, 365),
        (date(2028, 1, 1), date(2029, 1, 1), date(2028, 1, 1), 366, 366),
    ]
    # 3,650.00 a year × 334/365 = 3,340.00 exactly.
    assert periods(charge)[0].amount(eur("3650.00")) == eur("3340.00")


def test_half_yearly_anchored_on_a_march_31_start_keeps_the_month_end():
    charge = RecurringCharge(7, date(2027, 3, 31), date(2028, 9, 30), every_months=6)
    assert [(i.period.start, i.period.end) for i in periods(charge)] == [
        (date(2027, 3, 31), date(2027, 9, 30)),
        (date(2027, 9, 30), date(2028, 3, 31)),
        (date(2028, 3, 31), date(2028, 9, 30)),
    ]


def test_every_five_months_from_the_start():
    charge = RecurringCharge(8, date(2027, 1, 10), date(2028, 4, 10), every_months=5)
    assert [i.period.start for i in periods(charge)] == [
        date(2027, 1, 10),
        date(2027, 6, 10),
        date(2027, 11, 10),
    ]
    assert periods(charge)[-1].period.end == date(2028, 4, 10)


def test_a_term_ending_mid_period_prorates_the_last_period_against_the_full_one():
    # [2027-03-10, 2027-03-25) is 15 days of the period [2027-03-10, 2027-04-10) = 31 days.
    charge = RecurringCharge(9, date(2027, 1, 10), date(2027, 3, 25))
    assert spans(periods(charge)) == [
        (date(2027, 1, 10), date(2027, 2, 10), date(2027, 1, 10), 31, 31),
        (date(2027, 2, 10), date(2027, 3, 10), date(2027, 2, 10), 28, 28),
        (date(2027, 3, 10), date(2027, 3, 25), date(2027, 3, 10), 15, 31),
    ]


def test_without_proration_a_partial_period_is_billed_whole():
    charge = RecurringCharge(11, date(2027, 5, 15), date(2027, 7, 1), anchor_day=1, prorate_partial=False)
    first = periods(charge)[0]
    assert first.period == Period(date(2027, 5, 15), date(2027, 6, 1))
    assert first.amount(eur("30.00")) == eur("30.00")
    assert not first.prorated


def test_stripe_backdating_examples_give_the_same_shares_under_both_stub_bases():
    # Stripe, "Backdate subscriptions" (https://stripe.com/docs/billing/subscriptions/backdating),
    # "Backdating and charging users": monthly on the first of the month, backdated to February 15
    # (non-leap year) → based on the imagined month Feb 15 – Mar 15 (28 days), the 14 days to
    # March 1 are "exactly half" a monthly charge; backdated to January 15 → imagined month
    # Jan 15 – Feb 15 (31 days), the 17 days to February 1 are "17 divided by 31 (or 0.548)".
    for basis in (StubBasis.FORWARD_INTERVAL, StubBasis.BILLING_PERIOD):
        feb = periods(
            RecurringCharge(12, date(2027, 2, 15), date(2027, 4, 1), anchor_day=1, stub_basis=basis)
        )[0]
        assert (feb.share_to, feb.share_of) == (14, 28)
        assert feb.amount(eur("10.00")) == eur("5.00")
        jan = periods(
            RecurringCharge(13, date(2027, 1, 15), date(2027, 4, 1), anchor_day=1, stub_basis=basis)
        )[0]
        assert (jan.share_to, jan.share_of) == (17, 31)
        assert jan.amount(eur("1000.00")) == eur("548.39")  # 17/31 = 0.548387…


def test_the_stub_bases_differ_when_the_forward_interval_is_shorter():
    # Start Jan 30, billed on the 1st: stub [Jan 30, Feb 1) = 2 days. Billing-period basis:
    # January = 31 days. Forward basis (Stripe): [Jan 30, Feb 28) = 29 days (2027 is not a leap year).
    default = periods(RecurringCharge(14, date(2027, 1, 30), date(2027, 3, 1), anchor_day=1))[0]
    forward = periods(
        RecurringCharge(
            15, date(2027, 1, 30), date(2027, 3, 1), anchor_day=1, stub_basis=StubBasis.FORWARD_INTERVAL
        )
    )[0]
    assert (default.share_to, default.share_of) == (2, 31)
    assert (forward.share_to, forward.share_of) == (2, 29)


# --- due items, resuming, keys ------------------------------------------------------------------


def test_due_items_resume_from_the_billed_through_mark():
    seats = RecurringCharge(10, date(2027, 2, 1), date(2028, 2, 1), anchor_day=1)
    assert [i.period.start for i in due_items(seats, date(2027, 4, 1), resume_from=date(2027, 3, 1))] == [
        date(2027, 3, 1),
        date(2027, 4, 1),
    ]
    assert due_items(seats, date(2027, 4, 1), resume_from=date(2027, 5, 1)) == []
    assert due_items(seats, date(2027, 1, 31)) == []


def test_in_arrears_a_period_is_due_on_its_end():
    usage_like = RecurringCharge(16, date(2027, 2, 1), None, timing=Timing.IN_ARREARS, anchor_day=1)
    assert due_items(usage_like, date(2027, 2, 28)) == []
    (item,) = due_items(usage_like, date(2027, 3, 1))
    assert (item.period, item.bill_date) == (Period(date(2027, 2, 1), date(2027, 3, 1)), date(2027, 3, 1))


def test_keys_are_schedule_and_period_start_and_do_not_depend_on_the_run_date():
    seats = RecurringCharge(10, date(2027, 2, 1), date(2028, 2, 1), anchor_day=1)
    early = due_items(seats, date(2027, 3, 1))
    late = due_items(seats, date(2027, 3, 20))
    assert (
        [i.key for i in early]
        == [i.key for i in late]
        == [
            ItemKey(10, date(2027, 2, 1), 0),
            ItemKey(10, date(2027, 3, 1), 0),
        ]
    )
    assert due_items(seats, date(2027, 3, 20)) == late  # deterministic


def test_billing_period_at_a_date_gives_what_an_amendment_prorates_against():
    seats = RecurringCharge(10, date(2027, 2, 1), date(2028, 2, 1), anchor_day=1)
    assert billing_period_at(seats, date(2027, 3, 15)) == (Period(date(2027, 3, 1), date(2027, 4, 1)), 31)
    stub = RecurringCharge(17, date(2027, 1, 15), None, anchor_day=1)
    assert billing_period_at(stub, date(2027, 1, 20)) == (Period(date(2027, 1, 15), date(2027, 2, 1)), 31)


# --- one-time charges and milestones -------------------------------------------------------------


def test_northwind_onboarding_bills_on_contract_start_and_appliances_on_delivery():
    # shared/scenarios/northwind.md: ONB 5,000.00 on INV-1 (2027-02-01, contract start); 2 EDGE
    # 4,000.00 on INV-2 (2027-02-10, on delivery of both).
    facts = TriggerDates(contract_start=date(2027, 2, 1), delivered_on=date(2027, 2, 10))
    onb = OneTimeCharge(20, Trigger.CONTRACT_START)
    edge = OneTimeCharge(21, Trigger.DELIVERY)
    (onb_item,) = due_items(onb, date(2027, 2, 1), facts=facts)
    assert (onb_item.bill_date, onb_item.kind, onb_item.amount(eur("5000.00"))) == (
        date(2027, 2, 1),
        ItemKind.ONE_TIME,
        eur("5000.00"),
    )
    assert due_items(edge, date(2027, 2, 9), facts=facts) == []
    (edge_item,) = due_items(edge, date(2027, 2, 10), facts=facts)
    assert edge_item.period == Period(date(2027, 2, 10), date(2027, 2, 11))
    assert edge_item.amount(eur("4000.00")) == eur("4000.00")
    assert edge_item.key == ItemKey(21, date(2027, 2, 10), 0)


def test_a_one_time_charge_waits_for_its_fact():
    assert due_items(OneTimeCharge(22, Trigger.ACTIVATION), date(2030, 1, 1), facts=TriggerDates()) == []
    (item,) = due_items(
        OneTimeCharge(22, Trigger.ACTIVATION),
        date(2027, 3, 2),
        facts=TriggerDates(activated_on=date(2027, 3, 2)),
    )
    assert item.bill_date == date(2027, 3, 2)
    (fixed,) = due_items(OneTimeCharge(23, Trigger.DATE, on=date(2027, 6, 30)), date(2027, 7, 1))
    assert fixed.bill_date == date(2027, 6, 30)


def test_milestones_bill_their_percentage_when_done_and_sum_exactly_to_the_price():
    # 100.01 × 33.33 % = 33.333333 → 33.33; cumulative 66.66 % = 66.666666 → 66.67, so the second
    # is 66.67 − 33.33 = 33.34; 100 % = 100.01, so the third is 100.01 − 66.67 = 33.34.
    charge = MilestoneCharge(
        30,
        (
            Milestone("design", Decimal("33.33"), date(2027, 3, 1)),
            Milestone("build", Decimal("33.33"), date(2027, 5, 1)),
            Milestone("go-live", Decimal("33.34"), None),
        ),
    )
    assert [i.amount(eur("100.01")) for i in due_items(charge, date(2027, 4, 1))] == [eur("33.33")]
    done = MilestoneCharge(
        30,
        (
            Milestone("design", Decimal("33.33"), date(2027, 3, 1)),
            Milestone("build", Decimal("33.33"), date(2027, 5, 1)),
            Milestone("go-live", Decimal("33.34"), date(2027, 4, 1)),  # done before "build"
        ),
    )
    items = due_items(done, date(2027, 12, 31))
    assert [(i.bill_date, i.amount(eur("100.01"))) for i in items] == [
        (date(2027, 3, 1), eur("33.33")),
        (date(2027, 4, 1), eur("33.34")),
        (date(2027, 5, 1), eur("33.34")),
    ]
    assert len({i.key for i in items}) == 3


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: RecurringCharge(1, date(2027, 2, 1), date(2027, 2, 1)), "end"),
        (lambda: RecurringCharge(1, date(2027, 2, 1), every_months=0), "every_months"),
        (lambda: RecurringCharge(1, date(2027, 2, 1), anchor_day=32), "anchor_day"),
        (lambda: RecurringCharge(1, date(2027, 2, 1), anchor_day=1, anchor_month=13), "anchor_month"),
        (lambda: RecurringCharge("1", date(2027, 2, 1)), "schedule_id"),  # type: ignore[arg-type]
        (lambda: RecurringCharge(1, datetime(2027, 2, 1)), "start"),
        (lambda: RecurringCharge(1, date(2027, 2, 1), timing="sometimes"), "timing"),  # type: ignore[arg-type]
        (lambda: OneTimeCharge(1, Trigger.DATE), "on"),
        (lambda: OneTimeCharge(1, Trigger.DELIVERY, on=date(2027, 1, 1)), "on"),
        (lambda: OneTimeCharge(1, "whenever"), "trigger"),  # type: ignore[arg-type]
        (lambda: MilestoneCharge(1, ()), "milestones"),
        (
            lambda: MilestoneCharge(1, (Milestone("a", Decimal(60)), Milestone("b", Decimal(41)))),
            "milestones",
        ),
        (lambda: MilestoneCharge(1, (Milestone("a", Decimal(0)),)), "percent"),
    ],
)
def test_bad_charge_descriptions_are_refused_with_the_field_at_fault(build, field):
    with pytest.raises(ScheduleError) as err:
        build()
    assert err.value.field == field
    assert err.value.code == "billing.schedule_invalid"


def test_an_open_ended_schedule_needs_a_horizon_and_dates_outside_the_term_are_refused():
    evergreen = RecurringCharge(1, date(2027, 2, 1))
    with pytest.raises(ScheduleError):
        periods(evergreen)
    assert len(periods(evergreen, until=date(2028, 2, 1))) == 12
    with pytest.raises(ValidationError):
        billing_period_at(RecurringCharge(1, date(2027, 2, 1), date(2027, 3, 1)), date(2027, 3, 1))
    with pytest.raises(ValidationError):
        due_items(evergreen, datetime(2027, 3, 1))


# --- properties ---------------------------------------------------------------------------------

dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31))


@st.composite
def recurring(draw):
    start = draw(dates)
    length = draw(st.integers(min_value=1, max_value=1200))
    end = date.fromordinal(start.toordinal() + length)
    anchor_day = draw(st.one_of(st.none(), st.integers(1, 31)))
    anchor_month = draw(st.one_of(st.none(), st.integers(1, 12))) if anchor_day is not None else None
    return RecurringCharge(
        draw(st.integers(1, 10**9)),
        start,
        end,
        every_months=draw(st.sampled_from([1, 3, 6, 12, 2, 5, 7])),
        timing=draw(st.sampled_from(list(Timing))),
        anchor_day=anchor_day,
        anchor_month=anchor_month,
        stub_basis=draw(st.sampled_from(list(StubBasis))),
    )


@settings(max_examples=400, deadline=None)
@given(recurring())
def test_periods_tile_the_term_exactly_without_gap_or_overlap(charge):
    items = periods(charge)
    assert items[0].period.start == charge.start
    assert items[-1].period.end == charge.end
    for a, b in itertools.pairwise(items):
        assert a.period.end == b.period.start
    assert sum(i.period.days for i in items) == (charge.end - charge.start).days
    for i in items:
        assert 0 < i.share_to <= i.share_of
        # Only the first and the last period may be partial.
    assert all(not i.prorated for i in items[1:-1])
    assert len({i.key for i in items}) == len(items)


@settings(max_examples=300, deadline=None)
@given(recurring(), dates, st.one_of(st.none(), dates))
def test_due_items_are_exactly_the_periods_billed_by_the_as_of_date(charge, as_of, resume_from):
    expected = [
        i
        for i in periods(charge)
        if i.bill_date <= as_of and (resume_from is None or i.period.start >= resume_from)
    ]
    assert due_items(charge, as_of, resume_from=resume_from) == expected
