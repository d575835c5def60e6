"""Measure the win-probability model and the discount recommendation on quotes drawn with the
simulation's buyer model (q2c.simulation.behaviour, docs/simulation.md), where the true chance
of winning is known.

    .venv/bin/python tools/winprob_value.py [--train-seeds 1] [--test-seeds 2,3,4] [--quotes 400]

A seed draws ``--quotes`` first deals: segment by its share, rep, seats in the segment's range,
Standard or Professional seats (``pro_share``), a 12-month term at the list prices of the demo
catalog (30 / 55 EUR per seat and month), the rep's discount (``discount_percent``), and the
outcome from ``win_probability``. The model is trained on the training seeds only; on each
unseen seed the recommendation (rep limit 20 %, no floor, no cost known → margin = revenue) is
compared with the rep's own discount by the TRUE expected revenue Σ p_true(d) × value(d).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from q2c.analytics.forecasting import recommend, winprob
from q2c.simulation import behaviour

PRICE = {"SEAT-STD": Decimal("30"), "SEAT-PRO": Decimal("55")}
LIMIT = Decimal("20")


def draw(seed: int, count: int) -> list[tuple[winprob.QuoteRow, Decimal, behaviour.Segment]]:
    rng = random.Random(seed)
    segments = list(behaviour.SEGMENTS.values())
    reps = sorted(behaviour.REP_SKILL)
    out = []
    day = date(2025, 1, 1)
    for i in range(count):
        seg = rng.choices(segments, [s.share for s in segments])[0]
        rep = rng.choice(reps)
        seats = rng.randint(*seg.seats)
        sku = "SEAT-PRO" if rng.random() < seg.pro_share else "SEAT-STD"
        list_value = PRICE[sku] * seats * 12
        d = behaviour.discount_percent(rng, seg)
        size = list_value * (1 - Decimal(d) / 100)
        won = rng.random() < behaviour.win_probability(float(d), float(size), rep, seg)
        band = "large" if seats >= 80 else "mid" if seats >= 20 else "small"
        row = winprob.QuoteRow(
            discount_percent=float(d), deal_size=float(size), term_months=12, products=(sku,),
            segment=band, rep=rep, days_in_stage=float(rng.randint(0, 2)), won=won,
            decided_on=day + timedelta(days=i // 3), quote_id=i + 1,
        )  # fmt: skip
        out.append((row, list_value, seg))
    return out


def true_expected(row: winprob.QuoteRow, list_value: Decimal, seg: behaviour.Segment, d: Decimal) -> Decimal:
    value = list_value * (1 - d / 100)
    p = behaviour.win_probability(float(d), float(value), row.rep, seg)
    return recommend.expected_margin(p, value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-seeds", default="1")
    parser.add_argument("--test-seeds", default="2,3,4")
    parser.add_argument("--quotes", type=int, default=400)
    args = parser.parse_args()
    train_seeds = [int(s) for s in args.train_seeds.split(",")]
    test_seeds = [int(s) for s in args.test_seeds.split(",")]
    rows = [r for s in train_seeds for r, _, _ in draw(s, args.quotes)]
    model, ev = winprob.evaluate(rows)
    result: dict[str, object] = {"train_seeds": train_seeds, "evaluation": ev.to_json(), "unseen": []}
    unseen = result["unseen"]
    assert isinstance(unseen, list)
    for seed in test_seeds:
        drawn = draw(seed, args.quotes)
        held = [r for r, _, _ in drawn]
        y = [1 if r.won else 0 for r in held]
        p = [model.probability(r) for r in held]
        p_true = [behaviour.win_probability(r.discount_percent, r.deal_size, r.rep, s) for r, _, s in drawn]
        actual = recommended = oracle = Decimal(0)
        for row, list_value, seg in drawn:
            rec = recommend.recommend(model, row, list_value=list_value, rep_limit=LIMIT)
            actual += true_expected(row, list_value, seg, Decimal(str(row.discount_percent)))
            recommended += true_expected(row, list_value, seg, rec.recommended.discount)
            grid = [Decimal(k) / 2 for k in range(0, int(LIMIT * 2) + 1)]
            oracle += max(true_expected(row, list_value, seg, d) for d in grid)
        unseen.append({
            "seed": seed,
            "quotes": len(held),
            "model_auc": winprob._scores("model", y, p).auc,
            "true_probability_auc": winprob._scores("truth", y, p_true).auc,
            "expected_revenue_rep_discounts_eur": str(actual.quantize(Decimal("1"))),
            "expected_revenue_recommended_eur": str(recommended.quantize(Decimal("1"))),
            "expected_revenue_best_possible_eur": str(oracle.quantize(Decimal("1"))),
            "change_percent": str(((recommended / actual - 1) * 100).quantize(Decimal("0.1"))),
        })  # fmt: skip
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
