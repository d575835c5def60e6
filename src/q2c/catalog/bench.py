"""``q2c bench pricing --lines N``: price an N-line quote through the preview API's code path.

Setup (timed apart, ``setup_s``): a realistic catalog written in bulk — 600 products in eight
families (per-unit subscriptions and goods, graduated and volume tiers, packages, flat fees,
quarterly and yearly charges, usage, percent-of-family support), 24 bundles with option groups
(required, tied, included options), 36 configuration rules, a list price book and a segment book
inheriting from it, four discount schedules, five promotions and contracted prices for one
account — and a sales rep to price as. The cold snapshot load is reported apart too
(``snapshot_ms``).

Each iteration builds a fresh quote of N lines (a new random mix each time: plain lines, bundles
with their options, usage estimates, manual discounts), encodes it as the JSON body a client
would send and runs ``services.preview.preview_json`` — exactly what ``POST
/api/v1/pricing/preview`` runs after its role check: JSON decoding, request checks, price book
choice, the cached snapshot (one revision query), contracted prices, the caller's limit, the
engine, JSON encoding. No result of an earlier iteration is reused. The answer's totals are
checked against an independent recomputation (fractions, written from docs/pricing.md, not from
the engine's code). Everything runs in a transaction that is rolled back: the database is left
as it was.

Registered in ``q2c/wiring.py``. Imports only ``q2c.core``, ``q2c.platform`` and the catalog.
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from q2c.catalog import models as m
from q2c.catalog.services import clear_cache, get_snapshot, touch
from q2c.catalog.services.preview import preview_json

AS_OF = date(2027, 1, 10)
ACCOUNT = 900_001
FAMILIES = ["platform", "analytics", "security", "storage", "network", "services", "hardware", "support"]
PRODUCTS = 600
BUNDLES = 24
TERM = 36


class _Rollback(Exception):
    pass


def add_arguments(parser: Any) -> None:
    parser.add_argument("--lines", type=int, default=1000, help="lines per quote (default 1,000)")
    parser.add_argument(
        "--iterations", type=int, default=0, help="timed runs (default: 30, or 12 above 5,000 lines)"
    )
    parser.add_argument("--seed", type=int, default=6)


# --- the generated catalog, as the bench itself knows it ------------------------------------


@dataclass
class Spec:
    """What the bench wrote for one product: enough to recompute its prices independently."""

    sku: str
    family: str
    kind: str  # one_time, recurring, usage
    months: int
    model: str
    price: Fraction = Fraction(0)
    block: Fraction = Fraction(1)
    tiers: list[tuple[Fraction, Fraction | None, Fraction]] = field(default_factory=list)
    percent: Fraction = Fraction(0)
    percent_family: str = ""
    minimum: Fraction | None = None
    segment_price: Fraction | None = None  # the segment book's own price (per unit models only)
    contracted: Fraction | None = None
    is_bundle: bool = False
    charge_id: int = 0


@dataclass
class Catalog:
    specs: dict[str, Spec]
    plain: list[str]
    usage: list[str]
    percent: list[str]
    bundles: dict[str, dict[str, Any]]  # sku → {"required": sku, "tied": sku, "included": sku}
    schedules: list[tuple[str, str, list[tuple[Fraction, Fraction]]]]  # (code, family or "", tiers) volume
    term_schedule: list[tuple[Fraction, Fraction]]
    promotions: list[tuple[str, Fraction, str, bool]]  # (code, percent, family or "", automatic)


def _d(x: Fraction | int) -> str:
    """Exact decimal text of a fraction with a power-of-ten denominator."""
    f = Fraction(x)
    text = format(Decimal(f.numerator) / Decimal(f.denominator), "f")
    return text


def build_catalog(rng: random.Random) -> Catalog:
    """Write the bench catalog with bulk inserts (valid by construction)."""
    units = {u.code: u for u in m.UnitOfMeasure.objects.all()}
    specs: dict[str, Spec] = {}
    products: list[m.Product] = []
    plain: list[str] = []
    usage: list[str] = []
    percent: list[str] = []
    for i in range(PRODUCTS):
        family = FAMILIES[i % len(FAMILIES)]
        roll = i % 20
        sku = f"P{i:04d}"
        price = Fraction(rng.randint(500, 90_000), 100)
        if roll < 7:
            spec = Spec(sku, family, "recurring", 1, "per_unit", price=price)
        elif roll < 9:
            spec = Spec(sku, family, "one_time", 0, "per_unit", price=price * 10)
        elif roll < 11:
            first = Fraction(rng.randint(1000, 5000), 100)
            spec = Spec(
                sku,
                family,
                "recurring",
                1,
                "tiered",
                tiers=[
                    (Fraction(0), Fraction(10), first),
                    (Fraction(10), Fraction(100), first * 8 / 10),
                    (Fraction(100), None, first * 6 / 10),
                ],
            )
        elif roll < 13:
            first = Fraction(rng.randint(1000, 5000), 100)
            spec = Spec(
                sku,
                family,
                "recurring",
                1,
                "volume",
                tiers=[
                    (Fraction(0), Fraction(25), first),
                    (Fraction(25), Fraction(250), first * 9 / 10),
                    (Fraction(250), None, first * 7 / 10),
                ],
            )
        elif roll < 14:
            spec = Spec(
                sku, family, "one_time", 0, "package", price=price, block=Fraction(rng.choice([5, 10, 50]))
            )
        elif roll < 15:
            spec = Spec(sku, family, "one_time", 0, "flat", price=price * 5, minimum=None)
        elif roll < 16:
            spec = Spec(sku, family, "recurring", 3, "per_unit", price=price * 3, minimum=Fraction(100))
        elif roll < 17:
            spec = Spec(sku, family, "recurring", 12, "per_unit", price=price * 11)
        elif roll < 19:
            tiers = [
                (Fraction(0), Fraction(1000), Fraction(0)),
                (Fraction(1000), Fraction(100_000), Fraction(2, 1000)),
                (Fraction(100_000), None, Fraction(1, 1000)),
            ]
            spec = Spec(sku, family, "usage", 1, "tiered", tiers=tiers)
        else:
            target = FAMILIES[(i // 20) % 4]  # platform, analytics, security or storage
            spec = Spec(
                sku,
                "support",
                "recurring",
                1,
                "percent",
                percent=Fraction(rng.choice([10, 15, 20])),
                percent_family=target,
            )
        if spec.model == "per_unit" and rng.random() < 0.1:
            spec.segment_price = spec.price * 9 / 10
        specs[sku] = spec
        (usage if spec.kind == "usage" else percent if spec.model == "percent" else plain).append(sku)
        unit = (
            units["call"]
            if spec.kind == "usage"
            else units["seat"]
            if spec.kind == "recurring"
            else units["each"]
        )
        products.append(
            m.Product(
                sku=sku,
                name=f"Bench {spec.model} {sku}",
                family=spec.family,
                type="usage"
                if spec.kind == "usage"
                else "subscription"
                if spec.kind == "recurring"
                else "good",
                unit=unit,
                revenue_category="usage"
                if spec.kind == "usage"
                else "subscriptions"
                if spec.kind == "recurring"
                else "hardware",
                revenue_rule="as_used"
                if spec.kind == "usage"
                else "ratable"
                if spec.kind == "recurring"
                else "point_in_time",
                cost=_d(spec.price * 4 / 10) if spec.model == "per_unit" and i % 3 == 0 else None,
                cost_currency="EUR",
            )
        )
    # Bundles: a flat monthly base with three options each.
    bundles: dict[str, dict[str, Any]] = {}
    per_unit_monthly = [s for s in plain if specs[s].model == "per_unit" and specs[s].months == 1]
    one_time = [s for s in plain if specs[s].kind == "one_time" and specs[s].model == "per_unit"]
    for b in range(BUNDLES):
        sku = f"B{b:03d}"
        specs[sku] = Spec(
            sku,
            FAMILIES[b % len(FAMILIES)],
            "recurring",
            1,
            "flat",
            price=Fraction(rng.randint(10_000, 90_000), 100),
            is_bundle=True,
        )
        products.append(
            m.Product(
                sku=sku,
                name=f"Bench bundle {sku}",
                family=specs[sku].family,
                type="subscription",
                unit=units["each"],
                is_bundle=True,
                revenue_category="subscriptions",
                revenue_rule="ratable",
            )
        )
        bundles[sku] = {
            "required": per_unit_monthly[(3 * b) % len(per_unit_monthly)],
            "tied": per_unit_monthly[(3 * b + 1) % len(per_unit_monthly)],
            "included": one_time[b % len(one_time)],
        }
    m.Product.objects.bulk_create(products, batch_size=500)
    by_sku = {p.sku: p for p in m.Product.objects.all()}

    charges = []
    for sku, spec in specs.items():
        if spec.kind == "recurring":
            period = {1: "month", 3: "quarter", 12: "year"}[spec.months]
            charges.append(
                m.Charge(
                    product=by_sku[sku],
                    code="MAIN",
                    kind="recurring",
                    billing_period=period,
                    period_months=spec.months,
                    timing="in_advance",
                )
            )
        elif spec.kind == "usage":
            charges.append(
                m.Charge(
                    product=by_sku[sku],
                    code="MAIN",
                    kind="usage",
                    billing_period="month",
                    period_months=1,
                    timing="in_arrears",
                    usage_metric="calls",
                    usage_aggregation="sum",
                )
            )
        else:
            charges.append(m.Charge(product=by_sku[sku], code="MAIN", kind="one_time"))
    m.Charge.objects.bulk_create(charges, batch_size=500)
    for charge in m.Charge.objects.select_related("product"):
        specs[charge.product.sku].charge_id = charge.pk

    book = m.PriceBook.objects.create(code="BENCH-EUR", name="Bench list", currency="EUR")
    segment = m.PriceBook.objects.create(
        code="BENCH-EUR-ENT", name="Bench enterprise", currency="EUR", segment="enterprise", parent=book
    )
    entries = []
    for spec in specs.values():
        entries.append(
            m.PriceEntry(
                price_book=book,
                charge_id=spec.charge_id,
                model=spec.model,
                price=_d(spec.price),
                block_size=_d(spec.block),
                percent=_d(spec.percent),
                percent_of_families=spec.percent_family,
                minimum=_d(spec.minimum) if spec.minimum is not None else None,
            )
        )
        if spec.segment_price is not None:
            entries.append(
                m.PriceEntry(
                    price_book=segment,
                    charge_id=spec.charge_id,
                    model="per_unit",
                    price=_d(spec.segment_price),
                    minimum=_d(spec.minimum) if spec.minimum is not None else None,
                )
            )
    m.PriceEntry.objects.bulk_create(entries, batch_size=500)
    entry_of = {e.charge_id: e for e in m.PriceEntry.objects.filter(price_book=book)}
    m.PriceTier.objects.bulk_create(
        [
            m.PriceTier(
                entry=entry_of[spec.charge_id],
                position=i,
                lower=_d(lo),
                upper=_d(hi) if hi is not None else None,
                unit_price=_d(p),
            )
            for spec in specs.values()
            for i, (lo, hi, p) in enumerate(spec.tiers)
        ],
        batch_size=1000,
    )

    # Bundles' option groups and options.
    groups = [m.OptionGroup(bundle=by_sku[sku], code="CORE", name="Core", min_options=1) for sku in bundles]
    m.OptionGroup.objects.bulk_create(groups)
    group_of = {g.bundle.sku: g for g in m.OptionGroup.objects.select_related("bundle")}
    options = []
    for bundle_sku, parts in bundles.items():
        options.append(
            m.BundleOption(
                group=group_of[bundle_sku],
                product=by_sku[parts["required"]],
                selection="required",
                min_qty="1",
                max_qty="500",
            )
        )
        options.append(
            m.BundleOption(
                group=group_of[bundle_sku],
                product=by_sku[parts["tied"]],
                selection="default",
                qty_tied_to_parent=True,
            )
        )
        options.append(
            m.BundleOption(
                group=group_of[bundle_sku],
                product=by_sku[parts["included"]],
                selection="optional",
                included_in_price=True,
            )
        )
    m.BundleOption.objects.bulk_create(options)

    # Rules: acyclic requires chains, excludes, ratios and attribute conditions between plain products.
    rules = []
    for r in range(12):
        rules.append(
            m.ConfigurationRule(
                code=f"REQ{r}",
                name="requires",
                kind="requires",
                source=by_sku[plain[r * 2]],
                target=by_sku[plain[r * 2 + 1]],
            )
        )
        rules.append(
            m.ConfigurationRule(
                code=f"EXC{r}",
                name="excludes",
                kind="excludes",
                source=by_sku[plain[100 + r]],
                target=by_sku[plain[150 + r]],
            )
        )
    for r in range(8):
        rules.append(
            m.ConfigurationRule(
                code=f"RAT{r}",
                name="ratio",
                kind="quantity_ratio",
                source=by_sku[plain[200 + r]],
                target=by_sku[plain[250 + r]],
                per_quantity="10",
            )
        )
    for r in range(4):
        rules.append(
            m.ConfigurationRule(
                code=f"ATT{r}",
                name="attribute",
                kind="attribute",
                target=by_sku[plain[300 + r]],
                attribute="region",
                values="EU",
            )
        )
    m.ConfigurationRule.objects.bulk_create(rules)

    # Discount schedules: volume by family, one term schedule; promotions; contracted prices.
    schedules = [
        ("VOL-PLATFORM", "platform", [(Fraction(20), Fraction(3)), (Fraction(100), Fraction(6))]),
        ("VOL-SECURITY", "security", [(Fraction(10), Fraction(2)), (Fraction(50), Fraction(5))]),
        ("VOL-STORAGE", "storage", [(Fraction(50), Fraction(4))]),
    ]
    term = [(Fraction(24), Fraction(2)), (Fraction(36), Fraction(5))]
    for code, family, steps in schedules:
        s = m.DiscountSchedule.objects.create(code=code, name=code, kind="volume", families=family)
        m.DiscountScheduleTier.objects.bulk_create(
            [m.DiscountScheduleTier(schedule=s, threshold=_d(t), percent=_d(p)) for t, p in steps]
        )
    s = m.DiscountSchedule.objects.create(code="TERM", name="Term", kind="term")
    m.DiscountScheduleTier.objects.bulk_create(
        [m.DiscountScheduleTier(schedule=s, threshold=_d(t), percent=_d(p)) for t, p in term]
    )
    promotions = [
        ("AUTO-NET", Fraction(1), "network", True),
        ("AUTO-HW", Fraction(2), "hardware", True),
        ("WINTER", Fraction(5), "analytics", False),
        ("SERVICES10", Fraction(10), "services", False),
        ("FUTURE", Fraction(50), "", False),
    ]
    for code, pct, family, automatic in promotions:
        valid_from = date(2027, 6, 1) if code == "FUTURE" else date(2026, 12, 1)
        m.Promotion.objects.create(
            code=code,
            name=code,
            percent=_d(pct),
            families=family,
            automatic=automatic,
            valid_from=valid_from,
            valid_to=date(2027, 12, 1),
        )
    contracted = []
    for sku in plain[::6]:
        spec = specs[sku]
        if spec.model == "per_unit":
            spec.contracted = spec.price * 85 / 100
            contracted.append(
                m.ContractedPrice(
                    account_id=ACCOUNT,
                    charge_id=spec.charge_id,
                    currency="EUR",
                    unit_price=_d(spec.contracted),
                )
            )
    m.ContractedPrice.objects.bulk_create(contracted)
    touch()
    return Catalog(specs, plain, usage, percent, bundles, schedules, term, promotions[:4])


# --- quotes ---------------------------------------------------------------------------------


def build_quote(rng: random.Random, cat: Catalog, lines: int) -> dict[str, Any]:
    """A fresh quote of ``lines`` lines: 80 % plain lines, bundles with their three options,
    usage estimates and a few percent-of-family support lines; some manual discounts."""
    body: list[dict[str, Any]] = []
    n = 0
    while len(body) < lines:
        n += 1
        left = lines - len(body)
        roll = rng.random()
        if roll < 0.04 and left >= 4:
            sku = rng.choice(list(cat.bundles))
            parts = cat.bundles[sku]
            qty = rng.randint(1, 20)
            key = f"b{n}"
            body.append({"key": key, "sku": sku, "quantity": qty})
            body.append(
                {"key": f"{key}r", "sku": parts["required"], "quantity": rng.randint(1, 50), "parent": key}
            )
            body.append({"key": f"{key}t", "sku": parts["tied"], "parent": key})
            body.append({"key": f"{key}i", "sku": parts["included"], "quantity": 1, "parent": key})
            continue
        if roll < 0.09:
            body.append(
                {
                    "key": str(n),
                    "sku": rng.choice(cat.usage),
                    "estimated_quantity": str(rng.randint(0, 400_000)),
                }
            )
            continue
        if roll < 0.10:
            body.append({"key": str(n), "sku": rng.choice(cat.percent), "quantity": 1})
            continue
        line: dict[str, Any] = {
            "key": str(n),
            "sku": rng.choice(cat.plain),
            "quantity": rng.choice([1, 2, 5, 10, 12, 25, 60, 150, 400]),
        }
        if rng.random() < 0.3:
            line["discount"] = {"percent": rng.choice(["2", "5", "7.5", "10", "12", "15", "20"])}
        body.append(line)
    return {
        "currency": "EUR",
        "as_of": AS_OF.isoformat(),
        "term_months": TERM,
        "account_id": ACCOUNT,
        "segment": "enterprise",
        "promotion_codes": ["WINTER", "SERVICES10"],
        "attributes": {"region": "EU"},
        "lines": body,
    }


# --- the independent recomputation ----------------------------------------------------------


def _r(x: Fraction) -> Fraction:
    """Half-up to cents (amounts here are never negative)."""
    return Fraction(floor(x * 100 + Fraction(1, 2)), 100)


def _model_amount(spec: Spec, qty: Fraction) -> Fraction:
    if spec.model in ("per_unit",):
        return qty * (spec.segment_price if spec.segment_price is not None else spec.price)
    if spec.model == "flat":
        return spec.price
    if spec.model == "package":
        return -(-qty // spec.block) * spec.price
    if spec.model == "tiered":
        total = Fraction(0)
        for lo, hi, p in spec.tiers:
            if qty <= lo:
                break
            top = qty if hi is None or qty < hi else hi
            total += (top - lo) * p
        return total
    if spec.model == "volume":
        if qty <= 0:
            return Fraction(0)
        for _lo, hi, p in spec.tiers:
            if hi is None or qty <= hi:
                return qty * p
    raise ValueError(spec.model)


def _list_unit(spec: Spec) -> Fraction:
    if spec.model == "per_unit":
        return spec.segment_price if spec.segment_price is not None else spec.price
    if spec.model == "flat":
        return spec.price
    if spec.model == "package":
        return spec.price / spec.block
    return spec.tiers[0][2]


def recompute(quote: dict[str, Any], cat: Catalog) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """Totals of ``quote`` recomputed from the bench's own description of the catalog and the
    rounding points of docs/pricing.md (every step rounds the line to cents, half-up)."""
    term = Fraction(quote["term_months"])
    parents = {line["key"]: line for line in quote["lines"] if line["sku"] in cat.bundles}
    families = {sku: spec.family for sku, spec in cat.specs.items()}
    totals: dict[str, Fraction] = defaultdict(Fraction)
    bases: dict[tuple[str, int], list[Fraction]] = defaultdict(lambda: [Fraction(0), Fraction(0)])
    percent_lines = []
    nets: dict[str, Fraction] = {}

    def discounts(
        spec: Spec, qty: Fraction, amount: Fraction, manual: Fraction | None, included: bool
    ) -> Fraction:
        if included:
            return Fraction(0)
        if spec.contracted is not None:
            amount = _r(spec.contracted * qty)
        if amount > 0:
            # Schedules apply in the order of their codes (TERM before VOL-…), each rounding.
            for _code, family, tiers, value in sorted(
                [(c, f, t, qty) for c, f, t in cat.schedules] + [("TERM", "", cat.term_schedule, term)]
            ):
                if family and family != spec.family:
                    continue
                reached = [p for t, p in tiers if value >= t]
                if reached and reached[-1] > 0:
                    amount = _r(amount * (100 - reached[-1]) / 100)
        if amount > 0:
            for _code, pct, family, _auto in sorted(cat.promotions):
                if family and family != spec.family:
                    continue
                amount = _r(amount * (100 - pct) / 100)
        if manual is not None:
            amount = _r(amount * (100 - manual) / 100)
        return amount

    def add(spec: Spec, list_amount: Fraction, net: Fraction, key: str) -> None:
        nets[key] = net
        if spec.kind == "usage":
            totals["usage"] += net
            return
        if spec.kind == "recurring":
            totals[f"recurring:{spec.months}"] += net
            totals["tcv"] += _r(net * term / spec.months)
            totals["list_tcv"] += _r(list_amount * term / spec.months)
        else:
            totals["one_time"] += net
            totals["tcv"] += net
            totals["list_tcv"] += list_amount

    for line in quote["lines"]:
        spec = cat.specs[line["sku"]]
        manual = Fraction(Decimal(line["discount"]["percent"])) if "discount" in line else None
        if spec.model == "percent":
            percent_lines.append((spec, Fraction(line["quantity"]), manual, line["key"]))
            continue
        included = False
        if spec.kind == "usage":
            qty = Fraction(int(line["estimated_quantity"]))
        elif "quantity" in line:
            qty = Fraction(line["quantity"])
        else:  # a tied option follows its bundle
            qty = Fraction(parents[line["parent"]]["quantity"])
        if line.get("parent"):
            included = cat.bundles[parents[line["parent"]]["sku"]]["included"] == spec.sku
        list_amount = _r(_list_unit(spec) if spec.model == "flat" else _list_unit(spec) * qty)
        amount = _r(_model_amount(spec, qty))
        if spec.minimum is not None and amount < spec.minimum:
            amount = spec.minimum
        net = discounts(spec, qty, amount, manual, included)
        add(spec, list_amount, net, line["key"])
        if spec.kind != "usage":
            acc = bases[(spec.sku, spec.months if spec.kind == "recurring" else 0)]
            acc[0] += list_amount
            acc[1] += net
    for spec, qty, manual, key in percent_lines:
        list_base = net_base = Fraction(0)
        for (sku, months), (list_sum, net_sum) in bases.items():
            if months == 0 or families[sku] != spec.percent_family:
                continue
            list_base += list_sum * spec.months / months
            net_base += net_sum * spec.months / months
        list_amount = _r(spec.percent / 100 * list_base * qty)
        amount = _r(spec.percent / 100 * net_base * qty)
        add(spec, list_amount, discounts(spec, qty, amount, manual, False), key)
    return dict(totals), nets


def _check(answer: dict[str, Any], recomputed: tuple[dict[str, Fraction], dict[str, Fraction]]) -> None:
    expected, nets = recomputed
    for line in answer["lines"]:
        if Fraction(Decimal(line["net"])) != nets[line["key"]]:
            raise AssertionError(
                f"pricing bench: line {line['key']} ({line['sku']}) nets {line['net']} but the recomputation gives "
                f"{float(nets[line['key']])}; steps {[(s['kind'], s['amount']) for s in line['steps']]}"
            )
    t = answer["totals"]
    got = {
        "one_time": Fraction(Decimal(t["one_time"])),
        "tcv": Fraction(Decimal(t["tcv"])),
        "list_tcv": Fraction(Decimal(t["list_tcv"])),
        "usage": Fraction(Decimal(t["usage_estimate"])),
    }
    labels = {"month": 1, "quarter": 3, "year": 12}
    for label, amount in t["recurring"].items():
        got[f"recurring:{labels[label]}"] = Fraction(Decimal(amount))
    want = {k: v for k, v in expected.items()}
    for key in set(got) | set(want):
        if got.get(key, Fraction(0)) != want.get(key, Fraction(0)):
            raise AssertionError(
                f"pricing bench: {key} is {got.get(key)} but the recomputation gives {want.get(key)}"
            )


# --- the run --------------------------------------------------------------------------------


def run(lines: int = 1000, iterations: int = 0, seed: int = 6, **_: Any) -> dict[str, Any]:
    if lines < 1:
        raise ValueError("--lines must be at least 1")
    iterations = iterations or (12 if lines > 5000 else 30)
    rng = random.Random(seed)
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            clear_cache()
            t0 = time.perf_counter()
            cat = build_catalog(rng)
            user = get_user_model().objects.create_user("bench-pricing-rep")
            user.groups.add(Group.objects.get(name="sales_rep"))
            setup = time.perf_counter() - t0
            t1 = time.perf_counter()
            book = m.PriceBook.objects.get(code="BENCH-EUR-ENT")
            get_snapshot(book, AS_OF)
            snapshot_ms = (time.perf_counter() - t1) * 1000
            timings: list[float] = []
            cpu_timings: list[float] = []
            checked = approvals = violations = 0
            for i in range(iterations + 1):  # the first run warms up and is not counted
                quote = build_quote(random.Random(seed * 1000 + i), cat, lines)
                body = json.dumps(quote).encode()
                gc.collect()
                start, cpu_start = time.perf_counter(), time.process_time()
                answer_bytes = preview_json(body, user)
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
                answer = json.loads(answer_bytes)
                _check(answer, recompute(quote, cat))
                checked += 1
                if i:
                    timings.append(elapsed * 1000)
                    cpu_timings.append(cpu * 1000)
                approvals += sum(1 for line in answer["lines"] if line["needs_approval"])
                violations += len(answer["violations"])
            timings.sort()
            cpu_timings.sort()
            result = {
                "lines": lines,
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(timings[max(0, round(0.95 * len(timings)) - 1)], 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "setup_s": round(setup, 2),
                # Process CPU time: what the pricing itself costs when other work shares the cores.
                "cpu_p50_ms": round(statistics.median(cpu_timings), 1),
                "cpu_p95_ms": round(cpu_timings[max(0, round(0.95 * len(cpu_timings)) - 1)], 1),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "snapshot_ms": round(snapshot_ms, 1),
                "iterations": iterations,
                "products": len(cat.specs),
                "checked": checked,
                "approvals_per_quote": round(approvals / (iterations + 1), 1),
                "violations_per_quote": round(violations / (iterations + 1), 1),
            }
            raise _Rollback
    except _Rollback:
        pass
    finally:
        clear_cache()
    return result
