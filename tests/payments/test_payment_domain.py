"""The pure core of payments: every state table walked, aging buckets at their edges, and the
base value of a payment's pieces summing exactly to the whole (Hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.core.errors import InvalidTransition
from q2c.core.statemachine import all_moves
from q2c.payments import domain
from q2c.payments.domain import DisputeStatus, MandateStatus, PaymentStatus, WriteOffStatus


@pytest.mark.parametrize(
    ("states", "table", "move"),
    [
        (PaymentStatus, domain.TRANSITIONS, domain.move),
        (DisputeStatus, domain.DISPUTE_TRANSITIONS, domain.move_dispute),
        (WriteOffStatus, domain.WRITE_OFF_TRANSITIONS, domain.move_write_off),
        (MandateStatus, domain.MANDATE_TRANSITIONS, domain.move_mandate),
    ],
)
def test_every_move_of_every_state_table_is_allowed_or_refused_as_written(states, table, move):
    for current, target, allowed in all_moves(states, table):
        if allowed:
            assert move(current, target) == target
        else:
            with pytest.raises(InvalidTransition):
                move(current, target)


def test_repeating_a_final_move_is_refused():
    with pytest.raises(InvalidTransition):
        domain.move(PaymentStatus.REVERSED, PaymentStatus.REVERSED)


@pytest.mark.parametrize(
    ("on", "bucket"),
    [
        (date(2027, 3, 31), "current"),  # due today
        (date(2027, 4, 1), "1-30"),
        (date(2027, 4, 30), "1-30"),  # 30 days late
        (date(2027, 5, 1), "31-60"),
        (date(2027, 5, 30), "31-60"),  # 60
        (date(2027, 5, 31), "61-90"),
        (date(2027, 6, 29), "61-90"),  # 90
        (date(2027, 6, 30), "90+"),
    ],
)
def test_aging_buckets_at_their_edges(on, bucket):
    assert domain.bucket(date(2027, 3, 31), on) == bucket


def test_conversion_rounds_half_up_once():
    # 1,000.00 USD × 0.91375 = 913.75 EUR exactly; 0.005 cents round up: 10.01 × 0.5 = 5.005 → 5.01.
    assert domain.convert_minor(100000, D("0.91375"), 2, 2) == 91375
    assert domain.convert_minor(1001, D("0.5"), 2, 2) == 501
    # JPY has no minor unit: 100.00 EUR × 161.237 = 16,123.7 → 16,124 JPY.
    assert domain.convert_minor(10000, D("161.237"), 2, 0) == 16124


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    rate=st.decimals(min_value=D("0.0001"), max_value=D("1000"), places=4),
    cuts=st.lists(st.integers(min_value=1, max_value=10**12), max_size=8),
)
def test_the_pieces_of_a_payment_take_exactly_its_base_value(amount, rate, cuts):
    base = domain.convert_minor(amount, rate, 2, 2)
    remaining, remaining_base, taken = amount, base, 0
    for cut in [*cuts, amount]:
        piece = min(cut, remaining)
        if piece <= 0:
            break
        b = domain.base_consumed(piece, remaining, remaining_base, rate, 2, 2)
        remaining, remaining_base, taken = remaining - piece, remaining_base - b, taken + b
    assert remaining == 0
    assert taken == base
