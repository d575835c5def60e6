"""Proration (issue 10 §2): the documented formula, one rounding point, Stripe's worked examples,
amendments in both styles and both timings. Expected figures are worked out by hand or quoted
from the cited documentation."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.billing.engine.proration import (
    AmendmentStyle,
    InvoiceTiming,
    ItemKey,
    LineKind,
    LineTerms,
    ProrationMode,
    ProrationSettings,
    TimeSpan,
    amend,
    prorate,
    prorate_seconds,
    share_amount,
    split,
)
from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.core.periods import Period


def eur(x: str) -> Money:
    return Money(Decimal(x), "EUR")


def usd(x: str) -> Money:
    return Money(Decimal(x), "USD")


MARCH = Period(date(2027, 3, 1), date(2027, 4, 1))
APRIL_SPAN = TimeSpan(datetime(2027, 4, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))  # 30 days
STRIPE = ProrationSettings(
    mode=ProrationMode.SECONDS, style=AmendmentStyle.CREDIT_AND_CHARGE, timing=InvoiceTiming.NEXT_INVOICE
)


# --- Northwind ----------------------------------------------------------------------------------


def test_northwind_amendment_is_one_delta_line_of_139_84_invoiced_at_once():
    # shared/scenarios/northwind.md step 4, INV-2027-000004: +10 SEAT at 25.50 on 2027-03-15 in
    # the March period: 10 × 25.50 × 17/31 = 139.8387… → 139.84, a single delta line, invoiced
    # immediately (dated 2027-03-15).
    result = amend(
        schedule_id=40,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=LineTerms(Decimal(50), Decimal("25.50")),
        new=LineTerms(Decimal(60), Decimal("25.50")),
    )
    (line,) = result.lines
    assert line.kind is LineKind.DELTA
    assert line.service == Period(date(2027, 3, 15), date(2027, 4, 1))
    assert (line.quantity, line.unit_price, line.numerator, line.denominator) == (
        Decimal(10),
        Decimal("25.50"),
        17,
        31,
    )
    assert line.amount == eur("139.84")
    assert result.timing is InvoiceTiming.IMMEDIATELY
    assert result.bill_date == date(2027, 3, 15)
    assert line.key == ItemKey(40, date(2027, 3, 15), 3)
    # The same figure when the seats are a new line (C-1A), and through the plain formula.
    added = amend(
        schedule_id=41,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=None,
        new=LineTerms(Decimal(10), Decimal("25.50")),
    )
    assert added.total == eur("139.84")
    assert prorate(eur("255.00"), Period(date(2027, 3, 15), date(2027, 4, 1)), MARCH) == eur("139.84")


# --- Stripe's documented examples ---------------------------------------------------------------


def test_stripe_upgrade_halfway_credits_5_and_charges_10():
    # Stripe, "Prorations" (https://docs.stripe.com/billing/subscriptions/prorations), "How
    # prorations work": upgrading from a 10 USD monthly plan to a 20 USD option halfway through
    # the billing period → "Unused time on original 10 USD plan (credit) −5 USD", "Remaining time
    # on new 20 USD plan (debit) +10 USD", total +5 USD. Stripe prorates to the second; halfway
    # through April (30 days) is 2027-04-16 00:00:00 UTC.
    result = amend(
        schedule_id=50,
        currency="USD",
        period=APRIL_SPAN,
        effective=datetime(2027, 4, 16, tzinfo=UTC),
        old=LineTerms(Decimal(1), Decimal(10)),
        new=LineTerms(Decimal(1), Decimal(20)),
        settings=STRIPE,
    )
    assert [(line.kind, line.amount) for line in result.lines] == [
        (LineKind.CREDIT, usd("-5.00")),
        (LineKind.CHARGE, usd("10.00")),
    ]
    assert result.total == usd("5.00")
    assert [(line.numerator, line.denominator) for line in result.lines] == [(1_296_000, 2_592_000)] * 2
    # Stripe's default: prorations wait for the next invoice (the end of the period).
    assert result.timing is InvoiceTiming.NEXT_INVOICE
    assert result.bill_date == date(2027, 5, 1)


def test_stripe_upgrade_as_a_single_delta_line_is_the_same_5():
    result = amend(
        schedule_id=50,
        currency="USD",
        period=APRIL_SPAN,
        effective=datetime(2027, 4, 16, tzinfo=UTC),
        old=LineTerms(Decimal(1), Decimal(10)),
        new=LineTerms(Decimal(1), Decimal(20)),
        settings=ProrationSettings(mode=ProrationMode.SECONDS, style=AmendmentStyle.DELTA),
    )
    (line,) = result.lines
    assert (line.kind, line.amount, line.quantity, line.unit_price) == (LineKind.DELTA, usd("5.00"), 1, 10)
    assert result.bill_date == date(2027, 4, 16)


def test_stripe_backdating_examples_in_seconds_mode():
    # Stripe, "Backdate subscriptions" (https://stripe.com/docs/billing/subscriptions/backdating):
    # Feb 15 – Mar 1 of the imagined month Feb 15 – Mar 15 (28 days) is "exactly half"; Jan 15 –
    # Feb 1 of Jan 15 – Feb 15 (31 days) is "17 divided by 31 (or 0.548)".
    def span(a, b):
        return TimeSpan(datetime(*a, tzinfo=UTC), datetime(*b, tzinfo=UTC))

    assert prorate_seconds(
        usd("10.00"), span((2027, 2, 15), (2027, 3, 1)), span((2027, 2, 15), (2027, 3, 15))
    ) == usd("5.00")
    assert prorate_seconds(
        usd("100.00"), span((2027, 1, 15), (2027, 2, 1)), span((2027, 1, 15), (2027, 2, 15))
    ) == usd("54.84")
    # The same in days mode.
    assert prorate(
        usd("100.00"),
        Period(date(2027, 1, 15), date(2027, 2, 1)),
        Period(date(2027, 1, 15), date(2027, 2, 15)),
    ) == usd("54.84")


def test_seconds_mode_counts_the_half_day_that_days_mode_cannot_see():
    # Change at 2027-04-16 12:00 UTC: 14.5 of April's 30 days remain (1,252,800 of 2,592,000 s).
    # Credit 10 × 14.5/30 = 4.8333… → −4.83; charge 20 × 14.5/30 = 9.6666… → 9.67.
    result = amend(
        schedule_id=51,
        currency="USD",
        period=APRIL_SPAN,
        effective=datetime(2027, 4, 16, 12, tzinfo=UTC),
        old=LineTerms(Decimal(1), Decimal(10)),
        new=LineTerms(Decimal(1), Decimal(20)),
        settings=STRIPE,
    )
    assert [line.amount for line in result.lines] == [usd("-4.83"), usd("9.67")]
    assert result.lines[0].numerator == 1_252_800


def test_seconds_mode_accepts_any_offset_and_counts_elapsed_seconds():
    berlin_summer = timezone(timedelta(hours=2))
    start = datetime(2027, 4, 1, 2, tzinfo=berlin_summer)  # = 2027-04-01 00:00 UTC
    span = TimeSpan(start, start + timedelta(days=30))
    assert span.seconds == 2_592_000
    assert prorate_seconds(usd("30.00"), TimeSpan(start + timedelta(days=20), span.end), span) == usd("10.00")


# --- amendments: styles, removals, price changes, stubs ------------------------------------------


def test_credit_and_charge_for_removed_and_added_lines():
    gone = amend(
        schedule_id=52,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=LineTerms(Decimal(2), Decimal("31.00")),
        new=None,
        settings=ProrationSettings(style=AmendmentStyle.CREDIT_AND_CHARGE),
    )
    # 2 × 31.00 × 17/31 = 34.00 credited.
    assert [(line.kind, line.amount, line.quantity) for line in gone.lines] == [
        (LineKind.CREDIT, eur("-34.00"), -2)
    ]
    assert gone.lines[0].key == ItemKey(52, date(2027, 3, 15), 1)
    added = amend(
        schedule_id=52,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=None,
        new=LineTerms(Decimal(1), Decimal("62.00")),
        settings=ProrationSettings(style=AmendmentStyle.CREDIT_AND_CHARGE),
    )
    assert [(line.kind, line.amount) for line in added.lines] == [(LineKind.CHARGE, eur("34.00"))]
    assert added.lines[0].key == ItemKey(52, date(2027, 3, 15), 2)


def test_a_delta_for_a_price_change_is_one_unit_of_the_period_difference():
    # 10 × 10.00 → 10 × 12.00 with 15 of April's 30 days left: (120 − 100) × 15/30 = 10.00.
    april = Period(date(2027, 4, 1), date(2027, 5, 1))
    (line,) = amend(
        schedule_id=53,
        currency="EUR",
        period=april,
        effective=date(2027, 4, 16),
        old=LineTerms(Decimal(10), Decimal("10.00")),
        new=LineTerms(Decimal(10), Decimal("12.00")),
    ).lines
    assert (line.quantity, line.unit_price, line.amount) == (Decimal(1), Decimal("20.00"), eur("10.00"))


def test_a_downgrade_delta_is_negative_and_no_change_gives_no_line():
    (line,) = amend(
        schedule_id=54,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=LineTerms(Decimal(60), Decimal("25.50")),
        new=LineTerms(Decimal(50), Decimal("25.50")),
    ).lines
    assert (line.quantity, line.amount) == (Decimal(-10), eur("-139.84"))
    same = amend(
        schedule_id=54,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=LineTerms(Decimal(5), Decimal(1)),
        new=LineTerms(Decimal(5), Decimal(1)),
    )
    assert same.lines == () and same.total is None


def test_an_amendment_in_a_prorated_first_period_uses_the_billing_period_as_basis():
    # Stub [2027-01-15, 2027-02-01) billed as 17/31 of January; +1 seat of 31.00 on Jan 20 leaves
    # 12 days: 31.00 × 12/31 = 12.00.
    (line,) = amend(
        schedule_id=55,
        currency="EUR",
        period=Period(date(2027, 1, 15), date(2027, 2, 1)),
        effective=date(2027, 1, 20),
        old=LineTerms(Decimal(1), Decimal(31)),
        new=LineTerms(Decimal(2), Decimal(31)),
        basis=31,
    ).lines
    assert (line.numerator, line.denominator, line.amount) == (12, 31, eur("12.00"))


def test_next_invoice_timing_moves_the_lines_to_the_period_end():
    result = amend(
        schedule_id=56,
        currency="EUR",
        period=MARCH,
        effective=date(2027, 3, 15),
        old=None,
        new=LineTerms(Decimal(10), Decimal("25.50")),
        settings=ProrationSettings(timing=InvoiceTiming.NEXT_INVOICE),
    )
    assert (result.timing, result.bill_date) == (InvoiceTiming.NEXT_INVOICE, date(2027, 4, 1))


# --- the rounding point -------------------------------------------------------------------------


def test_the_line_amount_is_rounded_once_half_up_and_half_even_on_request():
    # 0.05 × 1/2 = 0.025 exactly: half-up → 0.03 (away from zero), half-even → 0.02.
    assert share_amount(eur("0.05"), 1, 2) == eur("0.03")
    assert share_amount(eur("-0.05"), 1, 2) == eur("-0.03")
    assert share_amount(eur("0.05"), 1, 2, rounding="half_even") == eur("0.02")
    assert share_amount(eur("0.07"), 1, 2, rounding="half_even") == eur("0.04")
    # Exact through the rounding: 1/3 of 0.015 = 0.005 → 0.01 half-up; JPY has no minor unit.
    assert share_amount(eur("0.015"), 1, 3) == eur("0.01")
    assert share_amount(Money(Decimal(1000), "JPY"), 17, 31) == Money(Decimal(548), "JPY")


def test_split_shares_by_largest_remainder_so_parts_sum_exactly():
    # 100.00 over 3 days, one per part: each 33.333…; prorated on their own 33.33 × 3 = 99.99;
    # split gives the left-over cent to the first part (ties go to the earlier part).
    full = Period(date(2027, 3, 1), date(2027, 3, 4))
    cuts = [date(2027, 3, 2), date(2027, 3, 3)]
    parts = split(eur("100.00"), full, cuts)
    assert [m for _, m in parts] == [eur("33.34"), eur("33.33"), eur("33.33")]
    assert [p for p, _ in parts] == [
        Period(date(2027, 3, 1), date(2027, 3, 2)),
        Period(date(2027, 3, 2), date(2027, 3, 3)),
        Period(date(2027, 3, 3), date(2027, 3, 4)),
    ]
    assert [prorate(eur("100.00"), p, full) for p, _ in parts] == [eur("33.33")] * 3


# --- bad input ----------------------------------------------------------------------------------


def test_bad_amendments_are_refused():
    terms = LineTerms(Decimal(1), Decimal(1))
    with pytest.raises(ValidationError) as err:
        amend(schedule_id=1, currency="EUR", period=MARCH, effective=date(2027, 4, 1), old=terms, new=None)
    assert err.value.field == "effective"
    with pytest.raises(ValidationError):
        amend(schedule_id=1, currency="EUR", period=MARCH, effective=date(2027, 3, 2), old=None, new=None)
    with pytest.raises(ValidationError) as err:
        amend(
            schedule_id=1, currency="EUR", period=APRIL_SPAN, effective=date(2027, 4, 2), old=terms, new=None
        )
    assert err.value.code == "billing.mode_mismatch"
    with pytest.raises(ValidationError) as err:
        amend(
            schedule_id=1,
            currency="EUR",
            period=MARCH,
            effective=date(2027, 3, 2),
            old=terms,
            new=None,
            basis=3,
        )
    assert err.value.field == "basis"
    with pytest.raises(ValidationError):
        amend(schedule_id=1, currency="EURO", period=MARCH, effective=date(2027, 3, 2), old=terms, new=None)
    with pytest.raises(ValidationError):
        ProrationSettings(style="both")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ProrationSettings(rounding="up")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LineTerms(Decimal(-1), Decimal(1))
    with pytest.raises(TypeError):
        LineTerms(Decimal(1), 25.5)  # type: ignore[arg-type]


def test_bad_periods_are_refused():
    with pytest.raises(ValidationError):
        TimeSpan(datetime(2027, 4, 1), datetime(2027, 5, 1))
    with pytest.raises(ValidationError):
        prorate(eur("10.00"), Period(date(2027, 2, 20), date(2027, 3, 5)), MARCH)
    with pytest.raises(ValidationError):
        split(eur("10.00"), MARCH, [date(2027, 4, 1)])
    with pytest.raises(ValidationError):
        share_amount(eur("10.00"), 0, 0)


# --- properties ---------------------------------------------------------------------------------


@st.composite
def split_case(draw):
    start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 1, 1)))
    days = draw(st.integers(min_value=2, max_value=400))
    full = Period(start, start + timedelta(days=days))
    offsets = draw(
        st.lists(st.integers(min_value=1, max_value=days - 1), min_size=1, max_size=8, unique=True)
    )
    cuts = [start + timedelta(days=o) for o in offsets]
    cents = draw(st.integers(min_value=-(10**11), max_value=10**11))
    return Money.from_minor(cents, "EUR"), full, cuts


@settings(max_examples=400, deadline=None)
@given(split_case())
def test_prorated_parts_sum_to_the_whole_within_rounding_and_split_exactly(case):
    base, full, cuts = case
    parts = split(base, full, cuts)
    assert sum((m for _, m in parts), Money.zero("EUR")) == base
    assert sum(p.days for p, _ in parts) == full.days
    # Each part rounded on its own is off by at most half a cent, so n parts miss by ≤ n/2 cents.
    independent = sum((prorate(base, p, full) for p, _ in parts), Money.zero("EUR"))
    assert abs((independent - base).minor_units()) <= len(parts) // 2
    # Split never moves a part by a whole cent or more from its exact share.
    for p, m in parts:
        exact = base.amount * p.days / full.days
        assert abs(m.amount - exact) < Decimal("0.01")
