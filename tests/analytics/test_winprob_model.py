"""The win-probability model over hand-built quote histories with known properties: a set
separated by the discount is ranked perfectly (AUC 1.0) while the flat win-rate baseline ranks
nothing (AUC 0.5 by definition); too little history is refused naming why; calibration bins and
the stored JSON worked out by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from q2c.analytics.forecasting import winprob
from q2c.analytics.forecasting.winprob import InsufficientHistory, QuoteRow, WinModel

START = date(2025, 1, 1)


def row(i: int, discount: float, won: bool | None, **kw: object) -> QuoteRow:
    base = dict(
        discount_percent=discount,
        deal_size=10_000.0,
        term_months=12,
        products=("SEAT",),
        segment="mid",
        rep="rita",
        days_in_stage=1.0,
        won=won,
        decided_on=START + timedelta(days=i),
        quote_id=i + 1,
    )
    base.update(kw)
    return QuoteRow(**base)  # type: ignore[arg-type]


def separable(n: int = 80) -> list[QuoteRow]:
    # discounts cycle through 0..39 (7 is coprime to 40, so each block of 40 covers all of them);
    # every quote at 20 % or more is won, every one below is lost
    return [row(i, float((i * 7) % 40), (i * 7) % 40 >= 20) for i in range(n)]


def by_rep(n: int = 80) -> list[QuoteRow]:
    # rita (even quotes) wins every deal, tom (odd) loses every one; a pair of quotes shares one
    # discount, so the discount says nothing about the outcome
    return [row(i, float((i // 2) % 40), i % 2 == 0, rep="rita" if i % 2 == 0 else "tom") for i in range(n)]


def test_history_separated_by_rep_is_ranked_perfectly_and_beats_both_baselines():
    model, ev = winprob.evaluate(by_rep())
    assert ev.trained_rows == 60 and ev.held_out_rows == 20  # newest 25 % held out
    assert ev.held_out_win_rate == 0.5
    assert ev.model.auc == 1.0
    flat, disc = ev.baselines
    assert flat.name == "win rate" and flat.auc == 0.5  # one score for every quote ranks nothing
    # the training quotes win 30 of 60 → 0.5 for everyone → Brier (0.5)² = 0.25
    assert flat.brier == 0.25
    assert disc.name == "discount only" and disc.auc == 0.5  # each pair: same discount, one won, one lost
    assert ev.beats_baselines is True
    assert model.trained_rows == 80  # refit on all history after the evaluation
    assert model.max_discount == 39.0  # discounts (i // 2) mod 40 reach 39
    assert (
        model.probability(row(0, 5.0, None, rep="rita"))
        > 0.9
        > 0.1
        > model.probability(row(0, 5.0, None, rep="tom"))
    )


def test_separable_by_discount_ties_the_discount_baseline_and_does_not_claim_to_beat_it():
    _, ev = winprob.evaluate(separable())
    assert ev.model.auc == 1.0 and ev.baselines[1].auc == 1.0
    # training quotes 0–59: the first 40 win 20; quotes 40–59 have discounts 7k mod 40 for
    # k = 0..19, of which 9 are ≥ 20 → 29/60 won. Held out (60–79, k = 20..39): 11 of 20 won.
    # Brier of the flat rate = 0.55·(31/60)² + 0.45·(29/60)² = 0.251944…
    assert ev.baselines[0].brier == 0.2519
    assert ev.held_out_win_rate == 0.55
    assert ev.beats_baselines is False  # a tie in AUC is not a win


def test_outcomes_independent_of_the_features_give_no_edge():
    # wins alternate regardless of discount: the held-out AUC stays near 0.5 and the model
    # does not claim to beat its baselines
    rows = [row(i, float((i * 7) % 40), i % 2 == 0) for i in range(80)]
    _, ev = winprob.evaluate(rows)
    assert ev.beats_baselines is False


def test_too_few_decided_quotes_say_so():
    rows = separable(59)
    with pytest.raises(InsufficientHistory, match="59 decided quotes; at least 60"):
        winprob.evaluate(rows)
    # undecided quotes do not count
    with pytest.raises(InsufficientHistory, match="59 decided"):
        winprob.evaluate(rows + [row(100 + i, 10.0, None) for i in range(30)])


def test_one_sided_outcomes_say_so():
    rows = [row(i, float(i % 40), i < 5) for i in range(80)]  # 5 won, 75 lost
    with pytest.raises(InsufficientHistory, match="5 won and 75 lost"):
        winprob.evaluate(rows)


def test_held_out_quotes_all_of_one_outcome_say_so():
    # 60 oldest alternate, the 20 newest are all won
    rows = [row(i, float(i % 40), i % 2 == 0 if i < 60 else True) for i in range(80)]
    with pytest.raises(InsufficientHistory, match="held-out quotes are all won or all lost"):
        winprob.evaluate(rows)


def test_calibration_bins_by_hand():
    # bins of width 0.2: 0.10 and 0.15 → bin 0 (mean 0.125, 1 of 2 won); 0.7 → bin 3; 0.9 → bin 4
    got = winprob.calibration([0, 1, 1, 0], [0.1, 0.15, 0.9, 0.7])
    assert got == ((0.125, 0.5, 2), (0.7, 0.0, 1), (0.9, 1.0, 1))


def test_probability_is_the_logistic_of_the_standardised_sum():
    model = WinModel(
        names=("discount", "rep=rita"),
        means=(10.0, 0.5),
        scales=(5.0, 0.5),
        coefs=(0.8, -0.4),
        intercept=0.2,
        trained_rows=100,
    )
    # logit = 0.2 + 0.8·(20 − 10)/5 − 0.4·(1 − 0.5)/0.5 = 0.2 + 1.6 − 0.4 = 1.4
    assert model.probability(row(0, 20.0, None)) == pytest.approx(1 / (1 + math.exp(-1.4)))
    # another rep: the rep=rita indicator is 0 → −0.4·(0 − 0.5)/0.5 = +0.4 → logit 2.2
    assert model.probability(row(0, 20.0, None, rep="tom")) == pytest.approx(1 / (1 + math.exp(-2.2)))
    assert model.reasons(row(0, 20.0, None)) == [
        ("discount", pytest.approx(1.6)),
        ("rep=rita", pytest.approx(-0.4)),
    ]
    # for tom the rep=rita indicator moves the logit (+0.4) but is no reason: tom is not rita
    assert model.reasons(row(0, 20.0, None, rep="tom")) == [("discount", pytest.approx(1.6))]
    assert WinModel.from_json(model.to_json()) == model


def test_goods_are_a_reason_by_whether_the_quote_has_them():
    # goods: mean 0.25, scale 0.5, coef −0.5 → with goods −0.5·(1 − 0.25)/0.5 = −0.75,
    # without −0.5·(0 − 0.25)/0.5 = +0.25
    model = WinModel(
        names=("goods",), means=(0.25,), scales=(0.5,), coefs=(-0.5,), intercept=0.0, trained_rows=100
    )
    assert model.reasons(row(0, 5.0, None, goods=True)) == [("goods", pytest.approx(-0.75))]
    assert model.reasons(row(0, 5.0, None)) == [("no goods", pytest.approx(0.25))]


def test_split_is_by_decision_date_not_by_input_order():
    rows = list(reversed(separable()))
    train, test = winprob.split(rows)
    assert max(r.decided_on for r in train) < min(r.decided_on for r in test)  # type: ignore[type-var]


def test_features_of_a_new_deal_with_goods_and_of_a_renewal():
    new = row(0, 5.0, None, line_discount=12.0, goods=True, products=("SEAT", "EDGE", "SEAT"))
    x = winprob.features(new)
    # the discount the buyer sees is the deepest line's (12 %), its square / 100 = 1.44
    assert x["discount"] == 12.0 and x["discount_sq"] == pytest.approx(1.44)
    assert x["goods"] == 1.0 and x["products"] == 2.0  # SEAT and EDGE
    assert x["log_size"] == pytest.approx(math.log(10_000))
    # "what if": 8 % on the target lines, the quote then worth 9,000
    y = winprob.features(new, discount=8.0, deal_size=9_000.0)
    assert y["discount"] == 8.0 and y["log_size"] == pytest.approx(math.log(9_000))
    # a renewal's discount is a feature of its own: its buyer answers it on other grounds
    renewal = winprob.features(row(1, 3.0, None, context="renewal"))
    assert "discount" not in renewal and renewal["renewal_discount"] == 3.0
    assert renewal["context=renewal"] == 1.0 and renewal["goods"] == 0.0


def test_the_discount_baseline_reads_the_discount_the_buyer_sees():
    # every quote is 2 % off overall; its deepest line discount decides: ≥ 20 % won, below lost
    rows = [row(i, 2.0, (i * 7) % 40 >= 20, line_discount=float((i * 7) % 40)) for i in range(80)]
    _, ev = winprob.evaluate(rows)
    assert ev.baselines[1].name == "discount only" and ev.baselines[1].auc == 1.0


def test_renewals_discount_response_needs_enough_renewals():
    # 80 new deals separated by the discount, plus renewals whose outcome follows their discount
    # too: with 10 renewals the model learns no renewal discount effect (fewer than 30), with 40
    # it does
    def history(renewals: int) -> list[QuoteRow]:
        rows = separable()
        rows += [row(100 + i, float(i % 20), i % 20 >= 10, context="renewal") for i in range(renewals)]
        return rows

    few = winprob.fit(history(10))
    assert "renewal_discount" not in few.names and "discount" in few.names
    renewal = row(0, 0.0, None, context="renewal")
    assert few.probability(renewal, discount=0.0) == few.probability(renewal, discount=15.0)
    many = winprob.fit(history(40))
    assert "renewal_discount" in many.names
    assert many.probability(renewal, discount=15.0) > many.probability(renewal, discount=0.0)
