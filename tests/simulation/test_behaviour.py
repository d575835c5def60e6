"""The simulated buyers' behaviour (docs/simulation.md): the shape of the win model and of the
payment habits, checked on the formulas' own terms."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from q2c.simulation import behaviour as bh

MID = bh.SEGMENTS["mid_market"]


ENT = bh.SEGMENTS["enterprise"]


def test_win_probability_is_the_documented_logistic():
    # 10 % off the seats of a 10,000 EUR mid-market deal by rafael, sent 2 days after it was made,
    # no hardware: logit = 1.6 + 0.12·10 − 0.004·100 − 0.7·ln(1) + skill −0.3 + bias 0.2 − 0.15·2
    # = 1.6 + 1.2 − 0.4 − 0 − 0.3 + 0.2 − 0.3 = 2.0 → p = 1 / (1 + e^−2) = 0.88079…
    p = bh.win_probability(10, 10_000, "rafael", MID, days_to_send=2, hardware=False)
    assert math.isclose(p, 1 / (1 + math.exp(-2.0)))
    assert round(p, 4) == 0.8808


def test_a_big_stale_hardware_deal_by_a_weak_rep_is_a_long_shot():
    # 14 % off, 90,000 EUR, enterprise, tom, 6 days to send, with appliances:
    # 1.6 + 1.68 − 0.784 − 0.7·ln 9 (1.53806) − 0.7 + 0.4 − 0.9 − 0.8 = −1.04206 → p = 0.26075…
    p = bh.win_probability(14, 90_000, "tom", ENT, days_to_send=6, hardware=True)
    assert round(p, 4) == 0.2608


@given(st.floats(0, 14), st.floats(1_000, 1_000_000), st.integers(0, 12))
def test_a_deeper_discount_wins_more_up_to_fifteen_and_a_bigger_staler_deal_less(discount, size, days):
    def p(d: float = discount, s: float = size, n: int = days, hw: bool = False) -> float:
        return bh.win_probability(d, s, "rita", MID, days_to_send=n, hardware=hw)

    assert 0 < p() < 1
    assert p(d=discount + 1) > p()  # derivative 0.12 − 0.008·d > 0 for d < 15
    assert p(s=size * 2) < p()
    assert p(n=days + 1) < p()
    assert p(hw=True) < p()


def test_the_discount_effect_peaks_at_fifteen_percent():
    # 0.12·d − 0.004·d² is largest at d = 0.12 / 0.008 = 15
    chances = {
        d: bh.win_probability(d, 20_000, "rita", MID, days_to_send=1, hardware=False) for d in range(31)
    }
    assert max(chances, key=lambda d: chances[d]) == 15


def test_a_better_rep_wins_more():
    def p(rep: str) -> float:
        return bh.win_probability(5, 20_000, rep, MID, days_to_send=1, hardware=False)

    assert p("sophie") > p("priya") > p("rita") > p("rafael") > p("tom")


def test_reps_discount_by_habit_so_discounts_vary_within_a_segment():
    # mid-market's usual 7 % plus the habit: rafael +5 → around 12, sophie −3 → around 4
    rng = random.Random(3)
    rafael = [bh.discount_percent(rng, MID, "rafael") for _ in range(400)]
    sophie = [bh.discount_percent(rng, MID, "sophie") for _ in range(400)]
    assert 11 < sum(rafael) / 400 < 13
    assert 3.5 < sum(sophie) / 400 < 5  # clipped at 0 from below: a little above 4


def test_slow_reps_let_quotes_wait_longer_before_submitting():
    rng = random.Random(5)
    assert {bh.days_to_submit(rng, "sophie") for _ in range(200)} == {0, 1}
    assert {bh.days_to_submit(rng, "tom") for _ in range(400)} == set(range(2, 10))


def test_a_renewal_is_decided_by_the_segments_churn():
    assert bh.renewal_probability(bh.SEGMENTS["smb"]) == 0.75  # 1 − churn 25 %


@given(st.integers(0, 10_000))
def test_payment_days_stay_in_the_segment_ranges(seed):
    rng = random.Random(seed)
    for segment in bh.SEGMENTS.values():
        offset = bh.payment_day_offset(rng, segment)
        assert offset is None or -segment.early_days[1] <= offset <= segment.late_days[1]
        assert bh.payment_method(rng, segment) in {m for m, _ in segment.methods}
        assert 0 <= bh.discount_percent(rng, segment, "tom") <= 30


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
