"""Discount recommendation over hand-made models whose best discount is known: a win chance that
does not depend on the discount → give none; a chance that jumps from 0 to 1 at 10 % → give just
past the jump, unless the rep's limit or the floor price stops it (then say a deeper discount
needs approval, never recommend it)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.analytics.forecasting.recommend import expected_margin, recommend
from q2c.analytics.forecasting.winprob import QuoteRow, WinModel

ROW = QuoteRow(
    discount_percent=5.0, deal_size=1000.0, term_months=12, products=("SEAT",),
    segment="mid", rep="rita", days_in_stage=1.0,
)  # fmt: skip


def model(coef: float, intercept: float) -> WinModel:
    # logit = intercept + coef · discount (mean 0, scale 1)
    return WinModel(
        names=("discount",), means=(0.0,), scales=(1.0,), coefs=(coef,), intercept=intercept, trained_rows=100
    )


FLAT = model(0.0, 0.0)  # p = 0.5 whatever the discount
STEP = model(50.0, -500.0)  # p = σ(50·(d − 10)): 0.5 at 10 %, σ(25) ≈ 1 at 10.5 %, ≈ 0 below 9.5 %


def test_a_discount_that_wins_nothing_is_not_given():
    rec = recommend(FLAT, ROW, list_value=D("1000"))
    assert rec.recommended.discount == D(0)
    assert rec.recommended.expected_margin == D("500.00")  # 0.5 × 1000
    assert rec.current.discount == D("5") and rec.current.expected_margin == D("475.00")  # 0.5 × 950
    assert rec.needs_approval is None


def test_the_step_is_crossed_by_the_smallest_discount_that_wins():
    rec = recommend(STEP, ROW, list_value=D("1000"), cost=D("100"))
    # 10.5 %: p rounds to 1.000000, margin 1000 × 0.895 − 100 = 795.00 → 795.00
    # (10 %: p 0.5 × 800 = 400; 11 %: 790)
    assert rec.recommended.discount == D("10.5")
    assert rec.recommended.margin == D("795.00")
    assert rec.recommended.expected_margin == D("795.00")
    assert rec.cap_reason == "no limit"


def test_the_reps_limit_caps_it_and_the_better_discount_needs_approval():
    rec = recommend(STEP, ROW, list_value=D("1000"), rep_limit=D("8"), floor_discount=D("30"))
    assert rec.cap == D("8") and rec.cap_reason == "rep limit"
    assert rec.recommended.discount <= D("8")
    # every discount up to 8 % wins (almost) nothing (p rounds to 0): the tie goes to 0
    assert rec.recommended.discount == D(0)
    assert rec.needs_approval is not None and rec.needs_approval.discount == D("10.5")


def test_the_floor_price_is_never_crossed_even_with_approval():
    rec = recommend(STEP, ROW, list_value=D("1000"), floor_discount=D("10"), rep_limit=D("25"))
    assert rec.cap == D("10") and rec.cap_reason == "floor price"
    assert rec.recommended.discount == D("10")
    assert rec.recommended.expected_margin == D("450.00")  # 0.5 × 900
    assert rec.needs_approval is None


def test_reasons_name_the_features_in_words():
    rec = recommend(STEP, ROW, list_value=D("1000"))
    assert rec.reasons == ("discount raises the chance",)


def test_a_quote_without_value_is_refused():
    with pytest.raises(ValueError, match="list_value"):
        recommend(FLAT, ROW, list_value=D("0"))


@given(
    coef=st.floats(-2, 2), intercept=st.floats(-3, 3),
    limit=st.one_of(st.none(), st.decimals("0", "60", places=1)),
    floor=st.one_of(st.none(), st.decimals("0", "60", places=1)),
)  # fmt: skip
def test_property_never_beyond_the_limit_or_floor_and_best_inside(coef, intercept, limit, floor):
    m = model(coef, intercept)
    rec = recommend(m, ROW, list_value=D("1000"), rep_limit=limit, floor_discount=floor)
    for bound in (limit, floor):
        if bound is not None:
            assert rec.recommended.discount <= bound
    # no discount inside the cap on the 0.5 grid does better
    d = D(0)
    while d <= rec.cap:
        p = m.probability(ROW, discount=float(d))
        assert expected_margin(p, D("1000") * (1 - d / 100)) <= rec.recommended.expected_margin
        d += D("0.5")


def test_the_current_option_is_the_quote_as_it_stands_with_its_own_line_discounts():
    # 2 % off overall, but one line carries 12 %: the buyer sees 12 % (> the step at 10 %) → p ≈ 1,
    # margin 1000 × 0.98 = 980.00; 10.5 % on every line would make only 895.00
    row = QuoteRow(
        discount_percent=2.0, deal_size=980.0, term_months=12, products=("SEAT",),
        segment="mid", rep="rita", days_in_stage=1.0, line_discount=12.0,
    )  # fmt: skip
    rec = recommend(STEP, row, list_value=D("1000"))
    # the current option shows the discount the buyer sees (the deepest line's) and the value as it stands
    assert rec.current.discount == D("12.0") and rec.current.expected_margin == D("980.00")
    assert rec.recommended.discount == D("10.5") and rec.recommended.expected_margin == D("895.00")


def test_the_discount_goes_on_the_target_lines_only_and_the_rest_keeps_its_value():
    # seats list 600.00, the other lines 400.00 as they stand, cost 100.00: 10.5 % on the seats
    # wins (p ≈ 1) and leaves 600 × 0.895 + 400 − 100 = 837.00 (on every line it would be 795.00)
    rec = recommend(STEP, ROW, list_value=D("1000"), cost=D("100"), target_list=D("600"), rest_value=D("400"))
    assert rec.recommended.discount == D("10.5")
    assert rec.recommended.margin == D("837.00") and rec.recommended.expected_margin == D("837.00")
    # the quote as it stands: 5 % overall → value 950.00 by default, p = σ(50·(5 − 10)) ≈ 0
    assert rec.current.margin == D("850.00") and rec.current.expected_margin == D("0.00")


def test_the_reps_limit_caps_the_line_discount_and_says_what_needs_approval():
    rec = recommend(
        STEP, ROW, list_value=D("1000"), target_list=D("600"), rest_value=D("400"), rep_limit=D("10")
    )
    # at the 10 % limit p = 0.5: 0.5 × (540 + 400) = 470.00; 10.5 % (p ≈ 1, 937.00) needs approval
    assert rec.recommended.discount == D("10") and rec.recommended.expected_margin == D("470.00")
    assert rec.needs_approval is not None
    assert rec.needs_approval.discount == D("10.5") and rec.needs_approval.expected_margin == D("937.00")


def test_nothing_deeper_than_the_history_is_recommended_or_suggested():
    # the step model, but its history never saw more than 8 %: 10.5 % would be extrapolation
    seen8 = WinModel(
        names=("discount",), means=(0.0,), scales=(1.0,), coefs=(50.0,), intercept=-500.0, trained_rows=100,
        max_discount=8.0,
    )  # fmt: skip
    rec = recommend(seen8, ROW, list_value=D("1000"), rep_limit=D("25"))
    assert rec.cap == D("8.0") and rec.cap_reason == "deepest discount in the history"
    assert rec.recommended.discount == D(0) and rec.needs_approval is None
