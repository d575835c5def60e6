"""Measure the win-probability model and the discount recommendation where the true chance of
winning is known: the simulation's buyer model (q2c.simulation.behaviour, docs/simulation.md).

Two sources of quotes:

**Whole demo runs** (each ``q2c demo`` in its own Q2C_VAR_DIR, different seeds):

    .venv/bin/python tools/winprob_value.py --demo-train DIR,DIR --demo-test DIR,DIR [--store VAR_DIR]

reads every decided quote of each run (a child process per run: ``--dump DIR``), trains on the
``--demo-train`` runs only and scores the ``--demo-test`` runs (ROC AUC, Brier, log loss,
reliability bins against the win-rate and discount-only baselines, and the AUC of the TRUE
chances — the ceiling); then, on the test runs' new-business and renewal quotes, compares the
TRUE expected revenue at the rep's own discounts with that at the recommended discount on the
seat lines (the quote's target lines, inside their floor and the owner's limit), where the
truth is the simulation's: a new deal is won with ``win_probability(deepest line discount, deal
size in EUR, rep, segment, days to send, hardware)``, a renewal with 1 − the segment's churn
whatever its discount. The simulation keeps no segment in the database; a customer's segment is
read back from the seats of its first new-business quote (SMB 3–20, mid-market 20–80,
enterprise 80–300; 20 and 80 seats count as the smaller segment). Amounts in EUR at the
simulation's starting rates (USD 1.085, GBP 0.86).
``--store VAR_DIR`` also writes the result to ``VAR_DIR/models/winprob-value.json``, which the
Forecasts page shows beside the stored model's evaluation.

**Drawn first deals** (no database; the default):

    .venv/bin/python tools/winprob_value.py [--train-seeds 1] [--test-seeds 2,3,4] [--quotes 400]

A seed draws ``--quotes`` first deals: segment by its share, rep, seats in the segment's range,
Standard or Professional seats (``pro_share``), a 12-month term at the list prices of the demo
catalog (30 / 55 EUR per seat and month), the rep's discount (``discount_percent``) and days to
send (``days_to_submit`` + 1), no hardware, and the outcome from ``win_probability``. The model is trained on the training seeds only; on each
unseen seed the recommendation (rep limit 20 %, no floor, no cost known → margin = revenue) is
compared with the rep's own discount by the TRUE expected revenue Σ p_true(d) × value(d).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from q2c.analytics.forecasting import recommend, winprob
from q2c.simulation import behaviour

PRICE = {"SEAT-STD": Decimal("30"), "SEAT-PRO": Decimal("55")}
LIMIT = Decimal("20")


def draw(seed: int, count: int) -> list[tuple[winprob.QuoteRow, Decimal, behaviour.Segment]]:
    rng = random.Random(seed)
    segments = list(behaviour.SEGMENTS.values())
    reps = sorted(behaviour.REPS)
    out = []
    day = date(2025, 1, 1)
    for i in range(count):
        seg = rng.choices(segments, [s.share for s in segments])[0]
        rep = rng.choice(reps)
        seats = rng.randint(*seg.seats)
        sku = "SEAT-PRO" if rng.random() < seg.pro_share else "SEAT-STD"
        list_value = PRICE[sku] * seats * 12
        d = behaviour.discount_percent(rng, seg, rep)
        days = behaviour.days_to_submit(rng, rep) + 1
        size = list_value * (1 - Decimal(d) / 100)
        p = behaviour.win_probability(float(d), float(size), rep, seg, days_to_send=days, hardware=False)
        won = rng.random() < p
        band = "large" if seats >= 80 else "mid" if seats >= 20 else "small"
        row = winprob.QuoteRow(
            discount_percent=float(d), deal_size=float(size), term_months=12, products=(sku,),
            segment=band, rep=rep, days_in_stage=float(days), won=won,
            decided_on=day + timedelta(days=i // 3), quote_id=i + 1,
        )  # fmt: skip
        out.append((row, list_value, seg))
    return out


def true_expected(row: winprob.QuoteRow, list_value: Decimal, seg: behaviour.Segment, d: Decimal) -> Decimal:
    value = list_value * (1 - d / 100)
    p = behaviour.win_probability(
        float(d), float(value), row.rep, seg, days_to_send=row.days_in_stage, hardware=False
    )
    return recommend.expected_margin(p, value)


# ---------------------------------------------------------------- whole demo runs

EUR_PER = {"EUR": Decimal(1), "USD": 1 / Decimal("1.0850"), "GBP": 1 / Decimal("0.8600")}
SEGMENT_BY_SEATS = (("smb", 20), ("mid_market", 80), ("enterprise", 10**9))


def dump_run(var_dir: str) -> list[dict[str, Any]]:
    """Every decided quote of the demo run in ``var_dir`` with what the evaluation needs (run in
    a child process: Django's settings are read once per process)."""
    os.environ["Q2C_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "q2c.settings")
    import django

    django.setup()
    from q2c.analytics.forecasting import gather
    from q2c.quotes.models import Quote

    out = []
    qs = Quote.objects.filter(sent_at__isnull=False, status__in=(gather.WON, *gather.LOST))
    for quote in qs.select_related("owner").order_by("decided_at", "id"):
        facts = gather.facts(quote)
        lines = (quote.pricing or {}).get("lines", [])
        seat_lines = [ln for ln in lines if str(ln.get("sku", "")).startswith("SEAT")]
        row = gather.row_of(quote, won=quote.status == gather.WON)
        out.append({
            "row": {**row.__dict__, "products": list(row.products),
                    "decided_on": row.decided_on.isoformat() if row.decided_on else None},
            "account": quote.account_id,
            "currency": quote.currency,
            "list_value": str(facts.list_value),
            "value": str(quote.tcv.amount),
            "cost": str(facts.cost),
            "floor_discount": None if facts.floor_discount is None else str(facts.floor_discount),
            "rep_limit": None if facts.rep_limit is None else str(facts.rep_limit),
            "line_discount": max((float(ln.get("manual_discount_percent") or 0) for ln in lines), default=0.0),
            "target_list": str(facts.target_list),
            "rest_value": str(facts.rest_value),
            "days_to_send": (quote.sent_at - quote.created_at).days if quote.sent_at else 0,
            "seats": max((float(ln.get("quantity") or 0) for ln in seat_lines), default=0.0),
        })  # fmt: skip
    return out


def load_run(var_dir: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, __file__, "--dump", var_dir], check=True, capture_output=True, text=True
    )
    runs: list[dict[str, Any]] = json.loads(done.stdout)
    for item in runs:
        raw = item["row"]
        raw["products"] = tuple(raw["products"])
        raw["decided_on"] = date.fromisoformat(raw["decided_on"]) if raw["decided_on"] else None
        item["quote_row"] = winprob.QuoteRow(**raw)
    return runs


def segments_of(items: Sequence[Mapping[str, Any]]) -> dict[int, behaviour.Segment]:
    """Each account's segment, read back from the seats of its first new-business quote."""
    out: dict[int, behaviour.Segment] = {}
    for item in sorted(items, key=lambda i: i["quote_row"].quote_id or 0):
        if item["quote_row"].context != "new" or item["account"] in out or item["seats"] <= 0:
            continue
        name = next(n for n, top in SEGMENT_BY_SEATS if item["seats"] <= top)
        out[item["account"]] = behaviour.SEGMENTS[name]
    return out


def true_chance(
    item: Mapping[str, Any], seg: behaviour.Segment, discount: float, value_eur: Decimal
) -> float:
    row = item["quote_row"]
    if row.context == "renewal":
        return behaviour.renewal_probability(seg)
    return behaviour.win_probability(
        discount, float(value_eur), row.rep, seg, days_to_send=item["days_to_send"], hardware=row.goods
    )


def true_auc(items: Sequence[Mapping[str, Any]]) -> float | None:
    """AUC of the simulation's own chances on the decided new-business and renewal quotes of
    ``items`` (the ceiling any model can reach: outcomes are drawn from these chances)."""
    segs = segments_of(items)
    y, p = [], []
    for item in items:
        row, seg = item["quote_row"], segs.get(item["account"])
        if row.context not in ("new", "renewal") or seg is None:
            continue
        value_eur = Decimal(item["value"]) * EUR_PER.get(item["currency"], Decimal(1))
        y.append(1 if row.won else 0)
        p.append(true_chance(item, seg, item["line_discount"], value_eur))
    if len(set(y)) < 2:
        return None
    return winprob._scores("truth", y, p).auc


def demo_value(model: winprob.WinModel, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """True expected revenue (EUR) at the reps' discounts and at the recommended ones."""
    segs = segments_of(items)
    totals: dict[str, dict[str, Any]] = {}
    for item in items:
        row = item["quote_row"]
        seg = segs.get(item["account"])
        if row.context not in ("new", "renewal") or seg is None:
            continue
        rate = EUR_PER.get(item["currency"], Decimal(1))
        list_value = Decimal(item["list_value"])
        if list_value <= 0:
            continue
        value_eur = Decimal(item["value"]) * rate
        actual = recommend.expected_margin(
            true_chance(item, seg, item["line_discount"], value_eur), value_eur
        )
        target, rest = Decimal(item["target_list"]), Decimal(item["rest_value"])
        rec = recommend.recommend(
            model, row, list_value=list_value, cost=Decimal(item["cost"]),
            floor_discount=None if item["floor_discount"] is None else Decimal(item["floor_discount"]),
            rep_limit=None if item["rep_limit"] is None else Decimal(item["rep_limit"]),
            target_list=target, rest_value=rest, value=Decimal(item["value"]),
        )  # fmt: skip
        d = rec.recommended.discount
        if target <= 0:  # no target lines: the discount went on every line
            target, rest = list_value, Decimal(0)
        rec_eur = (target * (1 - d / 100) + rest) * rate
        with_rec = recommend.expected_margin(true_chance(item, seg, float(d), rec_eur), rec_eur)
        t = totals.setdefault(row.context, {"quotes": 0, "actual": Decimal(0), "recommended": Decimal(0),
                                            "rep_discount_sum": 0.0, "recommended_discount_sum": Decimal(0)})  # fmt: skip
        t["quotes"] += 1
        t["actual"] += actual
        t["recommended"] += with_rec
        t["rep_discount_sum"] += item["line_discount"]
        t["recommended_discount_sum"] += d
    out: dict[str, Any] = {}
    for context, t in sorted(totals.items()):
        n = t["quotes"]
        out[context] = {
            "quotes": n,
            "mean_quote_discount_percent": round(t["rep_discount_sum"] / n, 2),
            "mean_recommended_discount_percent": str((t["recommended_discount_sum"] / n).quantize(Decimal("0.01"))),
            "expected_revenue_rep_discounts_eur": str(t["actual"].quantize(Decimal("1"))),
            "expected_revenue_recommended_eur": str(t["recommended"].quantize(Decimal("1"))),
            "change_percent": str(((t["recommended"] / t["actual"] - 1) * 100).quantize(Decimal("0.1"))),
        }  # fmt: skip
    return out


def demo_main(train_dirs: list[str], test_dirs: list[str], store_dir: str | None) -> dict[str, Any]:
    train_items = {d: load_run(d) for d in train_dirs}
    test_items = {d: load_run(d) for d in test_dirs}
    train_rows = [i["quote_row"] for items in train_items.values() for i in items]
    test_rows = [i["quote_row"] for items in test_items.values() for i in items]
    model, ev = winprob.evaluate_split(train_rows, test_rows)
    result: dict[str, Any] = {
        "source": "demo runs",
        "train_runs": {d: len(v) for d, v in train_items.items()},
        "test_runs": {d: len(v) for d, v in test_items.items()},
        "evaluation": ev.to_json(),
        "in_app_time_split": {},
        "value": {},
    }
    for d, items in {**train_items, **test_items}.items():
        try:
            _, own = winprob.evaluate([i["quote_row"] for i in items])
            result["in_app_time_split"][d] = {
                "held_out": own.held_out_rows, "auc": own.model.auc, "brier": own.model.brier,
                "baseline_auc": [b.auc for b in own.baselines], "baseline_brier": [b.brier for b in own.baselines],
                "beats_baselines": own.beats_baselines,
            }  # fmt: skip
        except winprob.InsufficientHistory as exc:
            result["in_app_time_split"][d] = {"insufficient": str(exc)}
    result["true_auc"] = {d: true_auc(items) for d, items in {**train_items, **test_items}.items()}
    result["true_auc_test"] = true_auc([i for items in test_items.values() for i in items])
    for d, items in test_items.items():
        result["value"][d] = demo_value(model, items)
    if store_dir:
        target = Path(store_dir) / "models" / "winprob-value.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps({**result, "measured_on": date.today().isoformat()}, indent=1), encoding="utf-8"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-seeds", default="1")
    parser.add_argument("--test-seeds", default="2,3,4")
    parser.add_argument("--quotes", type=int, default=400)
    parser.add_argument(
        "--demo-train", default="", help="demo runs' Q2C_VAR_DIRs to train on (comma-separated)"
    )
    parser.add_argument("--demo-test", default="", help="demo runs' Q2C_VAR_DIRs to evaluate on")
    parser.add_argument(
        "--store", default="", metavar="VAR_DIR", help="also write the result for the Forecasts page"
    )
    parser.add_argument("--dump", default="", metavar="VAR_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump:
        print(json.dumps(dump_run(args.dump)))
        return
    if args.demo_train or args.demo_test:
        if not (args.demo_train and args.demo_test):
            parser.error("--demo-train and --demo-test go together")
        split_dirs = [d for d in args.demo_train.split(",") if d], [d for d in args.demo_test.split(",") if d]
        if set(split_dirs[0]) & set(split_dirs[1]):
            parser.error("--demo-test: a run used for training cannot be evaluated on")
        print(json.dumps(demo_main(*split_dirs, args.store or None), indent=1))
        return
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
        p_true = [
            behaviour.win_probability(
                r.discount_percent, r.deal_size, r.rep, s, days_to_send=r.days_in_stage, hardware=False
            )
            for r, _, s in drawn
        ]
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
