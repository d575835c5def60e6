"""The pure core of contracts (no database): the state tables, co-terming, reductions, price
changes, extensions, cancellation, renewal lines and the value of a line. Expected figures are
worked by hand in the comments (northwind.md for the add-on seats)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.contracts import domain
from q2c.contracts.domain import (
    AMENDMENT_TRANSITIONS,
    APPROVAL_TRANSITIONS,
    TRANSITIONS,
    AmendmentInvalid,
    AmendmentKind,
    AmendmentStatus,
    Approval,
    ChargeKind,
    ContractStatus,
    Line,
    ReductionTiming,
)
from q2c.core.errors import InvalidTransition
from q2c.core.money import Money
from q2c.core.statemachine import all_moves

START, END = date(2027, 2, 1), date(2028, 2, 1)


def seat(
    quantity: str = "50", price: str = "25.50", key: str = "1", start: date = START, end: date = END
) -> Line:
    return Line(key, "SEAT", "SUB", ChargeKind.RECURRING, D(quantity), D(price), start, end, period_months=1)


ONB = Line("2", "ONB", "FEE", ChargeKind.ONE_TIME, D(1), D("5000.00"), START, END)
API = Line("4", "API", "CALLS", ChargeKind.USAGE, D(0), None, START, END)


# --------------------------------------------------------------------------- state tables


@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(ContractStatus, TRANSITIONS)))
def test_the_contract_table_allows_exactly_its_moves(current, target, allowed):
    if allowed:
        assert domain.move(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as err:
            domain.move(current, target)
        assert (err.value.code, err.value.status) == ("contract.invalid_transition", 409)


@pytest.mark.parametrize(
    ("current", "target", "allowed"), list(all_moves(AmendmentStatus, AMENDMENT_TRANSITIONS))
)
def test_the_amendment_table_allows_exactly_its_moves(current, target, allowed):
    if allowed:
        assert domain.move_amendment(current, target) is target
    else:
        with pytest.raises(InvalidTransition):
            domain.move_amendment(current, target)


@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(Approval, APPROVAL_TRANSITIONS)))
def test_the_version_approval_table_allows_exactly_its_moves(current, target, allowed):
    if allowed:
        assert domain.move_approval(current, target) is target
    else:
        with pytest.raises(InvalidTransition):
            domain.move_approval(current, target)


def test_the_lifecycle_reads_draft_pending_signature_active_then_an_end():
    assert TRANSITIONS[ContractStatus.DRAFT] == {ContractStatus.PENDING_SIGNATURE, ContractStatus.CANCELLED}
    assert TRANSITIONS[ContractStatus.ACTIVE] == {
        ContractStatus.EXPIRED,
        ContractStatus.CANCELLED,
        ContractStatus.RENEWED,
    }
    for end in (ContractStatus.EXPIRED, ContractStatus.CANCELLED, ContractStatus.RENEWED):
        assert TRANSITIONS[end] == frozenset()


# --------------------------------------------------------------------------- effective dates


@pytest.mark.parametrize(
    ("effective", "kind", "code"),
    [
        (date(2027, 1, 31), AmendmentKind.ADD_QUANTITY, "contracts.effective_before_start"),
        (date(2028, 2, 1), AmendmentKind.ADD_QUANTITY, "contracts.effective_after_end"),
        (date(2028, 2, 2), AmendmentKind.CANCEL, "contracts.effective_after_end"),
    ],
)
def test_an_effective_date_outside_the_term_is_refused(effective, kind, code):
    with pytest.raises(AmendmentInvalid) as err:
        domain.check_effective_date(START, END, effective, kind)
    assert (err.value.code, err.value.field) == (code, "effective_date")


def test_the_first_and_last_day_of_the_term_are_inside_and_a_cancellation_may_fall_on_the_end():
    domain.check_effective_date(START, END, START, AmendmentKind.ADD_QUANTITY)
    domain.check_effective_date(START, END, date(2028, 1, 31), AmendmentKind.ADD_QUANTITY)
    domain.check_effective_date(START, END, END, AmendmentKind.CANCEL)


# --------------------------------------------------------------------------- value


def test_the_add_on_seats_are_worth_139_84_for_march_and_255_a_month_after():
    # northwind.md step 6 / INV-4: 10 × 25.50 × 17/31 = 139.8387… → 139.84; then Apr–Jan 10 × 255.00.
    line = seat("10", key="A1.1", start=date(2027, 3, 15))
    assert domain.line_value(line, currency="EUR", anchor=START, anchor_day=1) == Money("2689.84", "EUR")


def test_twelve_whole_months_of_fifty_seats_are_worth_15_300():
    assert domain.line_value(seat(), currency="EUR", anchor=START, anchor_day=1) == Money("15300.00", "EUR")


def test_a_one_time_line_is_worth_quantity_times_price_and_usage_nothing():
    assert domain.line_value(ONB, currency="EUR", anchor=START, anchor_day=1) == Money("5000.00", "EUR")
    assert domain.line_value(API, currency="EUR", anchor=START, anchor_day=1) == Money("0.00", "EUR")


def test_a_reduction_is_worth_a_negative_amount():
    # −5 seats from 2027-07-10: July 22/31 × 127.50 = 90.48; Aug–Jan 6 × 127.50 = 765.00.
    line = Line(
        "A1.1",
        "SEAT",
        "SUB",
        ChargeKind.RECURRING,
        D(-5),
        D("25.50"),
        date(2027, 7, 10),
        END,
        period_months=1,
        adjusts="1",
    )
    assert domain.line_value(line, currency="EUR", anchor=START, anchor_day=1) == Money("-855.48", "EUR")


def test_a_quarterly_price_prorates_its_part_quarter_by_days():
    # 300.00 a quarter on quarters from 2027-02-01: [2027-02-01, 05-01) 89 days, [05-01, 08-01) 92 days.
    # [2027-03-15, 2027-08-01): 47/89 × 300 = 158.4269… → 158.43, plus one whole quarter 300.00.
    line = Line(
        "1",
        "SUP",
        "Q",
        ChargeKind.RECURRING,
        D(1),
        D(300),
        date(2027, 3, 15),
        date(2027, 8, 1),
        period_months=3,
    )
    assert domain.line_value(line, currency="EUR", anchor=START, anchor_day=1) == Money("458.43", "EUR")


def test_a_billing_day_at_month_end_follows_the_shorter_months():
    # Anchor day 31 from 2027-01-31: periods end Feb 28, Mar 31. [2027-02-14, 2027-03-31):
    # 14/28 of [01-31, 02-28) = 50.00 of 100, plus [02-28, 03-31) whole = 100.00.
    line = Line(
        "1",
        "S",
        "M",
        ChargeKind.RECURRING,
        D(1),
        D(100),
        date(2027, 2, 14),
        date(2027, 3, 31),
        period_months=1,
    )
    assert domain.line_value(line, currency="EUR", anchor=date(2027, 1, 31), anchor_day=31) == Money(
        "150.00", "EUR"
    )


def test_totals_give_one_time_mrr_and_value_of_c1():
    totals = domain.totals(
        [seat(), ONB, Line("3", "EDGE", "UNIT", ChargeKind.ONE_TIME, D(2), D(2000), START, END), API],
        currency="EUR",
        anchor=START,
        anchor_day=1,
        on=START,
    )
    assert (totals.one_time, totals.recurring_per_month, totals.value) == (
        Money("9000.00", "EUR"),
        Money("1275.00", "EUR"),
        Money("24300.00", "EUR"),
    )


# --------------------------------------------------------------------------- amendments


def test_added_seats_are_a_new_add_on_line_co_termed_to_the_contract_end():
    (line,) = domain.plan_add_quantity(
        [seat(), ONB], line_key="1", quantity=D(10), effective=date(2027, 3, 15), end=END, amendment_number=1
    )
    assert (
        line.key,
        line.quantity,
        line.unit_price,
        line.service_start,
        line.service_end,
        line.sale_context,
    ) == (
        "A1.1",
        D(10),
        D("25.50"),
        date(2027, 3, 15),
        END,
        "add_on",
    )


def test_usage_is_not_added_by_quantity():
    with pytest.raises(AmendmentInvalid) as err:
        domain.plan_add_quantity(
            [API], line_key="4", quantity=D(1), effective=START, end=END, amendment_number=1
        )
    assert err.value.code == "contracts.usage_quantity"


def test_a_reduction_by_product_takes_the_newest_lines_first():
    lines = [seat(), seat("10", key="A1.1", start=date(2027, 3, 15))]
    delta = domain.plan_reduction(
        lines,
        quantity=D(15),
        effective=date(2027, 6, 1),
        end=END,
        amendment_number=2,
        timing=ReductionTiming.IMMEDIATE_WITH_CREDIT,
        sku="SEAT",
    )
    assert [(x.key, x.adjusts, x.quantity, x.service_start, x.credit, x.at_renewal) for x in delta] == [
        ("A2.1", "A1.1", D(-10), date(2027, 6, 1), True, False),
        ("A2.2", "1", D(-5), date(2027, 6, 1), True, False),
    ]
    assert domain.quantity_on([*lines, *delta], "SEAT", date(2027, 6, 1)) == D(45)


def test_a_reduction_at_renewal_changes_nothing_in_this_term():
    delta = domain.plan_reduction(
        [seat()],
        quantity=D(20),
        effective=date(2027, 6, 1),
        end=END,
        amendment_number=1,
        timing=ReductionTiming.AT_RENEWAL,
        line_key="1",
    )
    (line,) = delta
    assert (line.quantity, line.service_start, line.service_end, line.at_renewal, line.credit) == (
        D(-20),
        END,
        END,
        True,
        False,
    )
    assert domain.quantity_on([seat(), line], "SEAT", date(2028, 1, 31)) == D(50)
    assert domain.line_value(line, currency="EUR", anchor=START, anchor_day=1) == Money(0, "EUR")


def test_reducing_below_zero_is_refused_counting_earlier_reductions():
    earlier = domain.plan_reduction(
        [seat()],
        quantity=D(45),
        effective=date(2027, 4, 1),
        end=END,
        amendment_number=1,
        timing=ReductionTiming.AT_RENEWAL,
        line_key="1",
    )
    with pytest.raises(AmendmentInvalid) as err:
        domain.plan_reduction(
            [seat(), *earlier],
            quantity=D(6),
            effective=date(2027, 5, 1),
            end=END,
            amendment_number=2,
            timing=ReductionTiming.IMMEDIATE_WITH_CREDIT,
            line_key="1",
        )
    assert (err.value.code, err.value.field) == ("contracts.below_zero", "quantity")
    assert "only 5 remain" in err.value.message


def test_a_price_change_takes_the_rest_off_at_the_old_price_and_puts_it_back_at_the_new():
    off, on = domain.plan_price_change(
        [seat()], line_key="1", unit_price=D("24.00"), effective=date(2027, 8, 1), end=END, amendment_number=1
    )
    assert (off.quantity, off.unit_price, off.adjusts, off.credit) == (D(-50), D("25.50"), "1", True)
    assert (on.quantity, on.unit_price, on.adjusts, on.service_start) == (
        D(50),
        D("24.00"),
        "",
        date(2027, 8, 1),
    )


def test_the_same_price_is_not_a_price_change():
    with pytest.raises(AmendmentInvalid) as err:
        domain.plan_price_change(
            [seat()], line_key="1", unit_price=D("25.50"), effective=START, end=END, amendment_number=1
        )
    assert err.value.code == "contracts.same_price"


def test_an_extension_carries_running_lines_on_with_reductions_applied():
    lines = [
        seat(),
        ONB,
        API,
        Line(
            "A1.1",
            "SEAT",
            "SUB",
            ChargeKind.RECURRING,
            D(-10),
            D("25.50"),
            END,
            END,
            period_months=1,
            adjusts="1",
            at_renewal=True,
        ),
    ]
    delta = domain.plan_extension(lines, old_end=END, new_end=date(2028, 8, 1), amendment_number=2)
    assert [(x.sku, x.quantity, x.service_start, x.service_end) for x in delta] == [
        ("SEAT", D(40), END, date(2028, 8, 1)),
        ("API", D(0), END, date(2028, 8, 1)),
    ]


def test_an_extension_must_end_later():
    with pytest.raises(AmendmentInvalid) as err:
        domain.plan_extension([seat()], old_end=END, new_end=END, amendment_number=1)
    assert (err.value.code, err.value.field) == ("contracts.invalid_end", "new_end_date")


def test_a_cancellation_stops_what_remains_of_each_recurring_line():
    lines = [seat(), seat("10", key="A1.1", start=date(2027, 3, 15)), ONB, API]
    delta = domain.plan_cancellation(lines, effective=date(2027, 9, 1), end=END, amendment_number=2)
    assert [(x.adjusts, x.quantity, x.service_start) for x in delta] == [
        ("1", D(-50), date(2027, 9, 1)),
        ("A1.1", D(-10), date(2027, 9, 1)),
    ]
    assert domain.quantity_on([*lines, *delta], "SEAT", date(2027, 9, 1)) == D(0)
    assert domain.plan_cancellation(lines, effective=END, end=END, amendment_number=2) == []


def test_renewal_lines_merge_seats_at_one_price_and_apply_the_uplift_half_up():
    # 25.50 × 1.05 = 26.775 → 26.78 (half-up); 50 + 10 seats at one price → one line of 60.
    lines = [seat(), seat("10", key="A1.1", start=date(2027, 3, 15)), ONB, API]
    new_end = date(2029, 2, 1)
    renewal = domain.renewal_lines(
        lines, old_end=END, new_start=END, new_end=new_end, uplift_percent=D(5), currency="EUR"
    )
    assert [
        (x.key, x.sku, x.quantity, x.unit_price, x.service_start, x.service_end, x.sale_context)
        for x in renewal
    ] == [
        ("1", "SEAT", D(60), D("26.78"), END, new_end, "renewal"),
        ("2", "API", D(0), None, END, new_end, "renewal"),
    ]


def test_a_usage_rate_keeps_its_decimals_under_uplift():
    assert domain.uplifted(D("0.002"), D(10), 2) == D("0.002")  # 0.0022 → 0.002 at three places
    assert domain.uplifted(D("0.0025"), D(10), 2) == D("0.0028")  # 0.00275 → 0.0028 half-up


@given(
    quantity=st.integers(min_value=1, max_value=500),
    cut=st.integers(min_value=0, max_value=364),
    price=st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2),
)
# No per-example deadline: on the shared two-core machine one example can wait longer than the
# default 200 ms for a core, which says nothing about the property.
@settings(deadline=None)
def test_splitting_a_line_at_any_day_never_changes_its_value_by_more_than_a_cent(quantity, cut, price):
    from datetime import timedelta

    whole = Line("1", "S", "M", ChargeKind.RECURRING, D(quantity), price, START, END, period_months=1)
    middle = START + timedelta(days=cut)
    if middle <= START:
        return
    left = Line("1", "S", "M", ChargeKind.RECURRING, D(quantity), price, START, middle, period_months=1)
    right = Line("2", "S", "M", ChargeKind.RECURRING, D(quantity), price, middle, END, period_months=1)
    total = domain.line_value(left, currency="EUR", anchor=START, anchor_day=1) + domain.line_value(
        right, currency="EUR", anchor=START, anchor_day=1
    )
    # Only the split month is rounded twice: the parts differ from the whole by at most a cent.
    assert abs((total - domain.line_value(whole, currency="EUR", anchor=START, anchor_day=1)).amount) <= D(
        "0.01"
    )


def test_notice_counts_days_between_today_and_the_effective_date():
    assert domain.inside_notice_period(today=date(2028, 1, 5), effective=END, notice_days=30)  # 27 days
    assert not domain.inside_notice_period(today=date(2028, 1, 2), effective=END, notice_days=30)  # 30 days
    assert domain.notice_deadline(END, 30) == date(2028, 1, 2)
