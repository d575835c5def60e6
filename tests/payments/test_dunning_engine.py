"""The dunning policy engine: each step once, pauses for disputes and promises, no stale reminders."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.core.money import Money
from q2c.payments.dunning.engine import (
    Action,
    DunningError,
    OpenItem,
    Policy,
    Step,
    due_steps,
    late_interest,
    plan,
    statutory_rate_de,
)

EUR = "EUR"
NORTHWIND = Policy("northwind", (Step("r1", 7, Action.REMINDER),))
FULL = Policy(
    "standard",
    (
        Step("r1", 7, Action.REMINDER),
        Step("r2", 21, Action.SECOND_REMINDER, fee=Money("5.00", EUR), charge_interest=True),
        Step("suspend", 35, Action.SUSPEND_SERVICE),
        Step("final", 45, Action.FINAL_NOTICE),
    ),
)


def item(due: date, amount: str = "1517.25", **kw) -> OpenItem:
    return OpenItem(invoice_id=3, due_date=due, open_amount=Money(amount, EUR), **kw)


def test_northwind_inv3_gets_one_reminder_at_due_plus_seven():
    # shared/scenarios/northwind.md step 9: INV-2027-000003 is due 2027-03-31; unpaid on
    # 2027-04-07 (due + 7) it gets one reminder.
    inv3 = item(date(2027, 3, 31))
    assert due_steps(NORTHWIND, inv3, date(2027, 4, 6)).step is None
    assert due_steps(NORTHWIND, inv3, date(2027, 4, 7)).step.key == "r1"
    done = item(date(2027, 3, 31), done=frozenset({"r1"}))
    assert due_steps(NORTHWIND, done, date(2027, 4, 8)).step is None


def test_a_paid_invoice_gets_nothing():
    paid = item(date(2027, 3, 31), amount="0.00")
    assert due_steps(NORTHWIND, paid, date(2027, 4, 20)).step is None


def test_a_dispute_pauses_and_its_end_resumes_with_the_most_advanced_step_only():
    due = date(2027, 1, 1)
    disputed = item(due, disputed=True)
    assert due_steps(FULL, disputed, due + timedelta(days=30)).paused_by == "dispute"
    # The dispute closes on day 40: r1, r2 and suspend all fell due; only suspend is carried out.
    after = due_steps(FULL, item(due), due + timedelta(days=40))
    assert after.step.key == "suspend"
    assert [s.key for s in after.skipped] == ["r1", "r2"]


def test_a_promise_to_pay_pauses_up_to_and_including_its_date():
    due = date(2027, 1, 1)
    promised = item(due, promise_until=date(2027, 1, 10))
    assert due_steps(FULL, promised, date(2027, 1, 10)).paused_by == "promise"
    assert due_steps(FULL, promised, date(2027, 1, 11)).step.key == "r1"


def test_overlapping_or_unordered_steps_are_refused():
    with pytest.raises(DunningError) as err:
        Policy("bad", (Step("a", 7, Action.REMINDER), Step("b", 7, Action.SECOND_REMINDER)))
    assert err.value.code == "dunning.overlapping_steps"
    with pytest.raises(DunningError):
        Policy("bad", (Step("a", 14, Action.REMINDER), Step("b", 7, Action.SECOND_REMINDER)))
    with pytest.raises(DunningError):
        Policy("bad", (Step("a", 7, Action.REMINDER), Step("a", 14, Action.SECOND_REMINDER)))
    with pytest.raises(DunningError):
        Policy("bad", ())


def test_late_interest_is_computed_to_the_day():
    # 1,517.25 EUR at 11.27 % a year for 30 days, actual/365:
    # 1517.25 × 0.1127 × 30 / 365 = 14.0543… → 14.05
    assert late_interest(
        Money("1517.25", EUR), Decimal("0.1127"), date(2027, 4, 1), date(2027, 5, 1)
    ) == Money("14.05", EUR)
    assert late_interest(Money("1000.00", EUR), Decimal("0.10"), date(2027, 1, 1), date(2027, 1, 1)) == Money(
        "0.00", EUR
    )
    with pytest.raises(DunningError):
        late_interest(Money("1.00", EUR), Decimal("0.1"), date(2027, 2, 1), date(2027, 1, 1))


def test_german_statutory_rate_is_base_plus_nine_points_for_businesses():
    # BGB §288(2): base rate + 9 percentage points between businesses; §288(1): + 5 otherwise.
    assert statutory_rate_de(Decimal("0.0227"), business=True) == Decimal("0.1127")
    assert statutory_rate_de(Decimal("0.0227"), business=False) == Decimal("0.0727")


def test_plan_lists_only_items_with_something_to_do():
    items = [item(date(2027, 1, 1)), item(date(2027, 3, 1)), item(date(2027, 1, 1), disputed=True)]
    decisions = plan(FULL, items, date(2027, 1, 9))
    assert [(d.step.key if d.step else None, d.paused_by) for d in decisions] == [
        ("r1", None),
        (None, "dispute"),
    ]


@given(st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=40, unique=True))
def test_running_on_any_subset_of_days_takes_each_step_at_most_once_and_in_order(days):
    due = date(2027, 1, 1)
    done: set[str] = set()
    taken: list[str] = []
    for offset in sorted(days):
        decision = due_steps(FULL, item(due, done=frozenset(done)), due + timedelta(days=offset))
        if decision.step:
            taken.append(decision.step.key)
            done.add(decision.step.key)
            done.update(s.key for s in decision.skipped)
    order = [s.key for s in FULL.steps]
    assert len(taken) == len(set(taken))
    assert taken == sorted(taken, key=order.index)
