"""The simulated buyers' behaviour (docs/simulation.md): the shape of the win model and of the
payment habits, checked on the formulas' own terms."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from q2c.simulation import behaviour as bh

MID = bh.SEGMENTS["mid_market"]


def test_win_probability_is_the_documented_logistic():
    # 10 % discount, a 10,000 EUR deal, a rep of skill 0, mid-market (bias 0):
    # logit = 0.3 + 0.9 − 0.18 − 0.35·ln(1) = 1.02 → p = 1 / (1 + e^−1.02) = 0.73497…
    assert math.isclose(bh.win_probability(10, 10_000, "rafael", MID), 1 / (1 + math.exp(-1.02)))
    assert round(bh.win_probability(10, 10_000, "rafael", MID), 4) == 0.7350


@given(st.floats(0, 24), st.floats(1_000, 1_000_000))
def test_a_deeper_discount_wins_more_up_to_a_quarter_and_a_bigger_deal_less(discount, size):
    p = bh.win_probability(discount, size, "rita", MID)
    assert 0 < p < 1
    assert (
        bh.win_probability(discount + 1, size, "rita", MID) > p
    )  # derivative 0.09 − 0.0036·d > 0 for d < 25
    assert bh.win_probability(discount, size * 2, "rita", MID) < p


def test_a_better_rep_wins_more():
    assert bh.win_probability(5, 20_000, "sophie", MID) > bh.win_probability(5, 20_000, "tom", MID)


@given(st.integers(0, 10_000))
def test_payment_days_stay_in_the_segment_ranges(seed):
    rng = random.Random(seed)
    for segment in bh.SEGMENTS.values():
        offset = bh.payment_day_offset(rng, segment)
        assert offset is None or -segment.early_days[1] <= offset <= segment.late_days[1]
        assert bh.payment_method(rng, segment) in {m for m, _ in segment.methods}
        assert 0 <= bh.discount_percent(rng, segment) <= 30


def test_the_same_seed_draws_the_same_behaviour():
    def draws(seed: int) -> list[object]:
        rng = random.Random(seed)
        return [bh.payment_day_offset(rng, MID) for _ in range(50)] + [
            bh.reference_quality(rng) for _ in range(50)
        ]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_segment_shares_are_weights_of_one_hundred():
    assert sum(s.share for s in bh.SEGMENTS.values()) == 100
