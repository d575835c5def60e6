"""The pricing engine: a catalog snapshot and a priced request in, a priced quote out.

Per line and charge, a waterfall of named steps, each rounding the line amount to the currency's
minor unit:

1. ``list`` — the headline unit price × quantity (the price book's rack rate);
2. ``price_model`` — the price book's model for the quantity (tiers, volume, package, percent);
3. ``minimum`` / ``maximum`` — the entry's per-line bounds;
4. ``bundle_included`` — an option whose price the bundle covers;
5. ``contracted`` — the customer's contracted price, overriding the price book;
6. ``schedule`` — each automatic discount schedule (volume, term) that applies, in code order;
7. ``promotion`` — each promotion (given by code or automatic) the line is eligible for;
8. ``manual`` — the rep's discount: percent, amount, or a target net unit price;
9. ``net`` — what the customer pays per billing period (its delta is the change from list).

Then totals (one-time, recurring per period, MRR, ARR, TCV over the term, list TCV, discount vs
list, margin where cost is known), guardrails (manual discount above the caller's role limit, net
below the floor price: the line needs approval) and configuration violations. Bad input raises
one :class:`PricingInputError` naming every line and field at fault. The engine keeps no state:
the same snapshot and request always give the same result.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.catalog.pricing``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from functools import partial
from math import lcm
from typing import Any, NamedTuple

from q2c.catalog.pricing.configuration import ConfiguredLine, validate_configuration
from q2c.catalog.pricing.price_models import TierCharge, clamp, rate
from q2c.catalog.pricing.request import LineRequest, PriceRequest, PricingInputError
from q2c.catalog.pricing.result import ApprovalFlag, PricedLine, PricingResult, Step, Totals, Violation
from q2c.catalog.pricing.rounding import MinorUnits, percent, unit_price
from q2c.catalog.pricing.types import (
    HUNDRED,
    ONE,
    ZERO,
    BundleOption,
    CatalogSnapshot,
    Charge,
    ChargeKind,
    ChargePlan,
    FloorEnforcement,
    ManualDiscountKind,
    PriceModelKind,
    Product,
    Promotion,
    SspMethod,
)
from q2c.core.money import Money

TWELVE = Decimal(12)
# Per group (a family or a SKU): {billing period in months: [list sum, net sum]}.
_Sums = dict[str, dict[int, list[Decimal]]]
_step = partial(tuple.__new__, Step)
_line = partial(tuple.__new__, PricedLine)
_configured = partial(tuple.__new__, ConfiguredLine)


class _Line(NamedTuple):
    """A request line resolved against the snapshot (internal)."""

    request: LineRequest
    product: Product | None
    charges: tuple[Charge, ...]
    quantity: Decimal
    option: BundleOption | None = None


def _period_label(charge: Charge) -> str:
    if charge.billing_period is None:
        return ""
    if charge.billing_period == "every_n_months":
        return f"every_{charge.period_months}_months"
    return str(charge.billing_period)


class _Pricer:
    """One pricing run. Holds the run's inputs so the per-line code reads them without passing
    a dozen arguments; discarded after the run."""

    def __init__(self, snapshot: CatalogSnapshot, request: PriceRequest) -> None:
        self.snapshot = snapshot
        self.request = request
        self.currency = request.currency
        self.rnd = MinorUnits(request.currency, request.rounding)
        self.minor = self.rnd.quantum
        self.zero = self.rnd(ZERO)  # 0.00 in EUR, 0 in JPY: zeros print like other amounts
        self.term = Decimal(request.term_months)
        self.problems: list[dict[str, Any]] = []
        # (promotion, rule text, multiplier for a percent off — None for an amount off, rule id)
        self.promotions: list[tuple[Promotion, str, Decimal | None, str]] = []
        self.applied_promotions: set[str] = set()
        # Promotions each SKU is eligible for (quantity aside), worked out once per SKU and run.
        self.promotions_for: dict[str, list[tuple[Promotion, str, Decimal | None, str]]] = {}
        # The contracted prices' (rule text, rule id), worked out once per run.
        self.contracted_texts: dict[int, tuple[str, str]] = {}
        self.contracted = request.contracted

    def problem(self, field: str, code: str, message: str, line: str | None = None) -> None:
        item: dict[str, Any] = {"field": field, "code": code, "message": message}
        if line is not None:
            item["line"] = line
        self.problems.append(item)

    # --- resolution -------------------------------------------------------------------------

    def resolve_promotions(self) -> None:
        snap, req = self.snapshot, self.request
        chosen: dict[str, Promotion] = {}
        for i, code in enumerate(req.promotion_codes):
            promo = snap.promotions.get(code)
            where = f"promotion_codes[{i}]"
            if promo is None:
                self.problem(
                    where, "pricing.unknown_promotion", f"there is no promotion with the code '{code}'"
                )
            elif not promo.valid_on(req.as_of):
                span = f"from {promo.valid_from or 'the start'} until {promo.valid_to or 'further notice'}"
                self.problem(
                    where,
                    "pricing.promotion_outside_dates",
                    f"promotion {code} runs {span} (end exclusive), not on {req.as_of.isoformat()}",
                )
            elif promo.amount is not None and promo.currency != self.currency:
                self.problem(
                    where,
                    "pricing.promotion_currency",
                    f"promotion {code} takes an amount off in {promo.currency}, not {self.currency}",
                )
            else:
                chosen[promo.code] = promo
        for promo in snap.automatic_promotions:
            if promo.code in chosen or not promo.valid_on(req.as_of):
                continue
            if promo.amount is not None and promo.currency != self.currency:
                continue
            chosen[promo.code] = promo
        self.promotions = [
            (
                p,
                f"promotion {p.code}: {p.percent} % off"
                if p.percent is not None
                else f"promotion {p.code}: {p.amount} off per unit",
                (HUNDRED - p.percent) / HUNDRED if p.percent is not None else None,
                f"promotion:{p.code}",
            )
            for p in sorted(chosen.values(), key=lambda p: p.code)
        ]

    def resolve_lines(self) -> list[_Line]:
        snap, req = self.snapshot, self.request
        by_key = {line.key: line for line in req.lines}
        resolved: list[_Line] = []
        for line in req.lines:
            if line.credit is not None:
                resolved.append(_Line(line, None, (), ONE))
                continue
            product = snap.products.get(line.sku)
            if product is None:
                self.problem(
                    f"{line.where}.sku",
                    "pricing.unknown_sku",
                    f"{line.where}: there is no product with SKU '{line.sku}'",
                    line.key,
                )
                continue
            if not product.active_on(req.as_of):
                span = (
                    f"from {product.active_from or 'the start'} until {product.active_to or 'further notice'}"
                )
                self.problem(
                    f"{line.where}.sku",
                    "pricing.inactive_product",
                    f"{line.where}: {product.name} ({product.sku}) is sold {span} (end exclusive), not on {req.as_of.isoformat()}",
                    line.key,
                )
                continue
            option = None
            parent_qty: Decimal | None = None
            if line.parent:
                parent = by_key.get(line.parent)
                if parent is None:
                    self.problem(
                        f"{line.where}.parent",
                        "pricing.unknown_parent",
                        f"{line.where}: no line has the key '{line.parent}'",
                        line.key,
                    )
                    continue
                if parent.parent:
                    self.problem(
                        f"{line.where}.parent",
                        "pricing.nested_bundle",
                        f"{line.where}: line '{line.parent}' is itself an option; options hang off a bundle line",
                        line.key,
                    )
                    continue
                bundle = snap.bundles.get(parent.sku)
                if bundle is None:
                    self.problem(
                        f"{line.where}.parent",
                        "pricing.parent_not_bundle",
                        f"{line.where}: line '{line.parent}' ({parent.sku}) is not a bundle",
                        line.key,
                    )
                    continue
                found = bundle.option_for(product.sku)
                option = found[1] if found else None
                parent_qty = parent.quantity
            if line.charge:
                charges = tuple(c for c in product.charges if c.code == line.charge)
                if not charges:
                    self.problem(
                        f"{line.where}.charge",
                        "pricing.unknown_charge",
                        f"{line.where}: {product.sku} has no charge '{line.charge}' priced in {snap.price_book}",
                        line.key,
                    )
                    continue
            else:
                charges = product.charges
                if not charges:
                    self.problem(
                        f"{line.where}.sku",
                        "pricing.no_price",
                        f"{line.where}: {product.name} ({product.sku}) has no price in price book {snap.price_book}",
                        line.key,
                    )
                    continue
            bad_model = next((c for c in charges if c.model_error is not None), None)
            if bad_model is not None and bad_model.model_error is not None:
                code, message = bad_model.model_error
                self.problem(
                    f"{line.where}.sku",
                    code,
                    f"{line.where}: the price of {product.sku} ({bad_model.code}) in {snap.price_book} cannot be used: {message}",
                    line.key,
                )
                continue
            quantity = line.quantity
            if quantity is None:
                if option is not None and option.qty_tied_to_parent and parent_qty is not None:
                    quantity = parent_qty * option.qty_ratio
                elif all(c.kind is ChargeKind.USAGE for c in charges):
                    quantity = ONE
                else:
                    self.problem(
                        f"{line.where}.quantity",
                        "pricing.missing_quantity",
                        f"{line.where}: a quantity is needed",
                        line.key,
                    )
                    continue
            if not product.divisible and quantity != quantity.to_integral_value():
                self.problem(
                    f"{line.where}.quantity",
                    "pricing.fractional_quantity",
                    f"{line.where}: {product.sku} is sold in whole {product.uom}, not {quantity}",
                    line.key,
                )
                continue
            if (
                line.discount is not None
                and line.discount.kind is not ManualDiscountKind.PERCENT
                and len(charges) > 1
            ):
                self.problem(
                    f"{line.where}.discount",
                    "pricing.ambiguous_discount",
                    f"{line.where}: {product.sku} has several charges; name one with 'charge' to give an amount or target price",
                    line.key,
                )
                continue
            resolved.append(_Line(line, product, charges, quantity, option))
        return resolved

    # --- one charge ---------------------------------------------------------------------------

    def price_charge(
        self, item: _Line, plan: ChargePlan, base: tuple[Decimal, Decimal, Decimal] | None
    ) -> PricedLine:
        # The hot path: one call per line and charge. Rule texts, headline prices and the
        # schedules that apply come precomputed in the snapshot's plan; locals over attributes.
        # Rounding inlined (``x.quantize(quantum, mode)`` is MinorUnits' rule): a Python call per
        # rounding would cost a tenth of the engine's time on a large quote.
        quantum, mode = self.minor, self.rnd.mode

        req = self.request
        line = item.request
        product = plan.product
        charge = plan.charge
        model = charge.model
        model_kind = plan.model_kind
        usage = plan.kind is ChargeKind.USAGE
        flat = model_kind is PriceModelKind.FLAT
        if usage:
            estimate = line.estimated_quantity
            quantity = estimate if estimate is not None else ZERO
        else:
            quantity = item.quantity
        rule_id = plan.rule_id

        # 1. list
        if model_kind is PriceModelKind.PERCENT:
            assert base is not None
            divisor = base[2] * HUNDRED
            list_unit = base[0] * model.percent / divisor
            list_amount = (base[0] * model.percent * quantity / divisor).quantize(quantum, mode)
            rule = f"list: {model.percent} % of {(base[0] / base[2]).quantize(quantum, mode)} (price book {self.snapshot.price_book})"
        else:
            list_unit = plan.list_unit
            list_amount = (list_unit if flat else list_unit * quantity).quantize(quantum, mode)
            rule = plan.list_rule
        steps = [_step(("list", rule, list_amount, list_amount, rule_id))]

        # 2. price model, 3. minimum / maximum
        breakdown: tuple[TierCharge, ...] = ()
        if model_kind is PriceModelKind.PER_UNIT:
            amount = (quantity * model.price).quantize(quantum, mode)
        elif flat:
            amount = (model.price).quantize(quantum, mode)
        elif model_kind is PriceModelKind.PERCENT:
            assert base is not None
            # One division, after the multiplications: exact up to the final rounding.
            amount = (base[1] * model.percent * quantity / (base[2] * HUNDRED)).quantize(quantum, mode)
        else:
            rating = rate(model, quantity, base=None)
            amount = (rating.amount).quantize(quantum, mode)
            breakdown = rating.breakdown
        steps.append(_step(("price_model", plan.model_rule, amount, amount - list_amount, rule_id)))
        if model.minimum is not None or model.maximum is not None:
            bounded, which = clamp(model, amount)
            if which is not None:
                new = (bounded).quantize(quantum, mode)
                steps.append(_step((which, f"{which} per line {bounded}", new, new - amount, rule_id)))
                amount = new

        # 4. included in the bundle's price
        option = item.option
        included = option is not None and option.included_in_price
        if included and amount:
            assert option is not None
            steps.append(
                _step(
                    (
                        "bundle_included",
                        f"included in bundle line {line.parent}",
                        self.zero,
                        -amount,
                        f"option:{option.id}",
                    )
                )
            )
            amount = self.zero

        # 5. contracted price
        contracted = self.contracted.get(charge.id) if self.contracted else None
        if contracted is not None and not included:
            texts = self.contracted_texts.get(contracted.id)
            if texts is None:
                texts = self.contracted_texts[contracted.id] = (
                    f"contracted price {contracted.unit_price} for account {req.account_id}"
                    if contracted.unit_price is not None
                    else f"contracted discount {contracted.discount_percent or ZERO} % for account {req.account_id}",
                    f"contracted:{contracted.id}",
                )
            if contracted.unit_price is not None:
                new = (contracted.unit_price if flat else contracted.unit_price * quantity).quantize(
                    quantum, mode
                )
            else:
                pct = contracted.discount_percent or ZERO
                new = (amount * (HUNDRED - pct) / HUNDRED).quantize(quantum, mode)
            steps.append(_step(("contracted", texts[0], new, new - amount, texts[1])))
            amount = new

        # 6. automatic discount schedules, in code order
        if amount > 0 and plan.schedules:
            for schedule in plan.schedules:
                value = quantity if schedule.by_quantity else self.term
                hit = None
                for tier in schedule.tiers:  # SchedulePlan.reached, inlined
                    if value >= tier[0]:
                        hit = tier
                    else:
                        break
                if hit is None or hit[1] <= 0:
                    continue
                new = (amount * hit[2]).quantize(quantum, mode)
                steps.append(_step(("schedule", hit[3], new, new - amount, schedule.rule_id)))
                amount = new

        # 7. promotions, in code order
        if amount > 0 and self.promotions:
            eligible = self.promotions_for.get(product.sku)
            if eligible is None:
                context = req.sale_context
                eligible = self.promotions_for[product.sku] = [
                    p for p in self.promotions if p[0].eligible(product, None, context)
                ]
            for promo, promo_rule, factor, promo_id in eligible:
                if promo.min_quantity is not None and quantity < promo.min_quantity:
                    continue
                if factor is not None:
                    new = (amount * factor).quantize(quantum, mode)
                else:
                    off = ((promo.amount or ZERO) * (ONE if flat else quantity)).quantize(quantum, mode)
                    new = amount - off if off < amount else self.zero
                if new == amount:
                    continue
                steps.append(_step(("promotion", promo_rule, new, new - amount, promo_id)))
                self.applied_promotions.add(promo.code)
                amount = new
                if amount <= 0:
                    break

        # 8. manual discount
        manual_pct = ZERO
        discount = line.discount
        if discount is not None:
            before = amount
            value = discount.value
            kind = discount.kind
            if kind is ManualDiscountKind.PERCENT:
                new = (before * (HUNDRED - value) / HUNDRED).quantize(quantum, mode)
                rule = f"manual discount {value} %"
                manual_pct = value
            elif kind is ManualDiscountKind.AMOUNT:
                off = (value).quantize(quantum, mode)
                if off > before:
                    self.problem(
                        f"{line.where}.discount.amount",
                        "pricing.discount_over_100",
                        f"{line.where}: a discount of {off} is more than the line's {before} {self.currency}",
                        line.key,
                    )
                    off = before
                new = before - off
                rule = f"manual discount {off} {self.currency}"
            else:
                new = (value if flat else value * quantity).quantize(quantum, mode)
                rule = f"target net price {value} per unit"
            if kind is not ManualDiscountKind.PERCENT and before > 0:
                manual_pct = percent((before - new) / before * HUNDRED)
            steps.append(_step(("manual", rule, new, new - amount, "")))
            amount = new

        net = amount
        steps.append(_step(("net", "net price", net, net - list_amount, "")))

        # totals of the line
        months = plan.months
        if months:
            term = self.term
            tcv = (net * term / months).quantize(quantum, mode)
            list_tcv = (list_amount * term / months).quantize(quantum, mode)
            mrr = (net / months).quantize(quantum, mode)
            arr = (net * TWELVE / months).quantize(quantum, mode)
        elif usage:
            tcv = list_tcv = mrr = arr = self.zero
        else:
            tcv, list_tcv, mrr, arr = net, list_amount, self.zero, self.zero
        cost_tcv = None
        if product.cost is not None and not usage:
            cost_tcv = (product.cost * quantity * (self.term / months if months else ONE)).quantize(
                quantum, mode
            )

        net_unit = None
        if quantity > 0:
            exact = net if flat else net / quantity
            short = exact.quantize(self.minor)
            net_unit = short if short == exact else unit_price(exact, self.minor)

        # guardrails
        approvals: tuple[ApprovalFlag, ...] = ()
        limit = req.manual_discount_limit
        if discount is not None and limit is not None and manual_pct > limit:
            approvals = (
                ApprovalFlag(
                    "discount.over_role_limit",
                    f"the manual discount of {manual_pct} % is above your limit of {limit} %",
                    limit,
                    manual_pct,
                ),
            )
        floor = charge.floor_unit_price
        if floor is not None and not usage and quantity > 0 and not included:
            floor_amount = (floor if flat else floor * quantity).quantize(quantum, mode)
            if net < floor_amount:
                if product.floor_enforcement is FloorEnforcement.REJECT:
                    self.problem(
                        f"{line.where}.discount",
                        "pricing.below_floor",
                        f"{line.where}: {net} {self.currency} is below the floor price of {product.sku} "
                        f"({floor} per unit, {floor_amount} for this line)",
                        line.key,
                    )
                else:
                    approvals += (
                        ApprovalFlag(
                            "price.below_floor",
                            f"the net price {net} is below the floor price {floor_amount} ({floor} per unit)",
                            floor_amount,
                            net,
                        ),
                    )

        ssp = None
        if product.ssp:
            rule_ssp = product.ssp.get(req.sale_context)
            if rule_ssp is not None:
                if rule_ssp.method is SspMethod.FIXED:
                    ssp = rule_ssp.amount
                elif rule_ssp.method is SspMethod.PERCENT_OF_LIST:
                    ssp = list_unit * (rule_ssp.percent or ZERO) / HUNDRED
                elif net_unit is not None:
                    ssp = net_unit
                    if rule_ssp.low is not None and ssp < rule_ssp.low:
                        ssp = rule_ssp.low
                    if rule_ssp.high is not None and ssp > rule_ssp.high:
                        ssp = rule_ssp.high

        # tuple.__new__ straight away: a NamedTuple's own __new__ is a Python function, and this
        # runs once per line. The values are in PricedLine's field order (a test checks it).
        return _line(
            (
                line.key,
                line.position,
                self.currency,
                product.sku,
                product.name,
                charge.code,
                plan.kind_text,
                quantity,
                plan.model_text,
                tuple(steps),
                list_amount,
                net,
                tcv,
                list_tcv,
                mrr,
                arr,
                line.parent,
                plan.period_label,
                months if months else charge.period_months,
                plan.timing,
                charge.usage_metric,
                plan.aggregation,
                usage and line.estimated_quantity is not None,
                product.uom,
                net_unit,
                manual_pct,
                cost_tcv,
                approvals,
                product.tax_category,
                product.revenue_category,
                plan.revenue_rule_text,
                ssp,
                breakdown,
                model.tiers if usage else (),
                line.description,
                product.id,
                charge.id,
            )
        )

    def price_credit(self, line: LineRequest) -> PricedLine:
        amount = self.rnd(line.credit or ZERO)
        steps = (
            Step("credit", line.description or "credit", amount, amount),
            Step("net", "net price", amount, amount),
        )
        return PricedLine(
            key=line.key,
            line_index=line.position,
            currency=self.currency,
            sku="",
            name=line.description or "Credit",
            charge="",
            charge_kind="credit",
            quantity=ONE,
            model="credit",
            steps=steps,
            list_amount=self.zero,
            net=amount,
            tcv=amount,
            list_tcv=self.zero,
            mrr=self.zero,
            arr=self.zero,
            description=line.description,
        )

    # --- the whole quote ------------------------------------------------------------------

    def run(self) -> PricingResult:
        snap, req = self.snapshot, self.request
        if req.currency != snap.currency:
            raise PricingInputError(
                f"price book {snap.price_book} is in {snap.currency}, not {req.currency}",
                code="pricing.price_book_currency",
                field="currency",
            )
        self.resolve_promotions()
        resolved = self.resolve_lines()
        if self.problems:
            raise PricingInputError.from_problems(self.problems)

        slots: list[list[PricedLine]] = [[] for _ in resolved]
        deferred: list[tuple[int, _Line, ChargePlan]] = []
        plans = snap.plans
        # Sums of the non-percent lines per (SKU, period months): what percent lines apply to.
        bases: dict[tuple[str, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for i, item in enumerate(resolved):
            if item.product is None:
                slots[i].append(self.price_credit(item.request))
                continue
            for charge in item.charges:
                plan = plans[charge.id]
                if plan.model_kind is PriceModelKind.PERCENT:
                    deferred.append((i, item, plan))
                    continue
                priced = self.price_charge(item, plan, None)
                slots[i].append(priced)
                if plan.kind is ChargeKind.USAGE:
                    continue
                acc = bases[(item.product.sku, plan.months)]
                acc[0] += priced.list_amount
                acc[1] += priced.net
        if deferred:
            # The quote's sums folded once by family and by SKU; each percent charge's base is
            # then read from them (once per charge, however many lines use it).
            by_family, by_sku = self.fold_bases(bases)
            percent_bases: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
            for i, item, plan in deferred:
                base = percent_bases.get(plan.charge.id)
                if base is None:
                    base = percent_bases[plan.charge.id] = self.percent_base(plan.charge, by_family, by_sku)
                slots[i].append(self.price_charge(item, plan, base))
        if self.problems:
            raise PricingInputError.from_problems(self.problems)
        lines = tuple(p for slot in slots for p in slot)
        violations: tuple[Violation, ...] = ()
        if snap.bundles or snap.rules:
            configured = [
                _configured(
                    (
                        item.request.key,
                        item.product.sku,
                        item.quantity
                        if item.request.quantity is not None or item.option is not None
                        else ONE,
                        item.request.parent,
                    )
                )
                for item in resolved
                if item.product is not None
            ]
            violations = tuple(validate_configuration(snap, configured, req.attributes))
        totals = self.totals(lines)
        warnings = tuple(
            f"promotion {code} applies to none of the lines"
            for code in req.promotion_codes
            if code not in self.applied_promotions
        )
        return PricingResult(
            currency=self.currency,
            price_book=snap.price_book,
            as_of=req.as_of,
            term_months=req.term_months,
            sale_context=str(req.sale_context),
            lines=lines,
            totals=totals,
            violations=violations,
            promotions=tuple(sorted(self.applied_promotions)),
            warnings=warnings,
        )

    def fold_bases(self, bases: dict[tuple[str, int], list[Decimal]]) -> tuple[_Sums, _Sums]:
        """The non-percent lines' ``[list, net]`` sums per family and per SKU, each by billing
        period in months (0: one-time): one pass over the quote's per-(SKU, period) sums."""
        products = self.snapshot.products
        by_family: _Sums = {}
        by_sku: _Sums = {}
        for (sku, months), (list_sum, net_sum) in bases.items():
            by_sku.setdefault(sku, {})[months] = [list_sum, net_sum]
            family = products[sku].family
            if family:
                acc = by_family.setdefault(family, {}).get(months)
                if acc is None:
                    by_family[family][months] = [list_sum, net_sum]
                else:
                    acc[0] += list_sum
                    acc[1] += net_sum
        return by_family, by_sku

    def percent_base(
        self, charge: Charge, by_family: _Sums, by_sku: _Sums
    ) -> tuple[Decimal, Decimal, Decimal]:
        """``(list, net, divisor)``: the lines a percent charge applies to are worth list ÷ divisor
        and net ÷ divisor in the charge's billing period.

        The lines counted are those of the charge's SKUs and of its families (a SKU that is in one
        of the families counts once). One-time percentages apply to one-time lines; recurring ones
        to recurring lines, each converted to the percent line's period (a monthly line counts 3×
        in a quarterly one, a quarterly one ⅓ in a monthly one). The conversion is kept as a
        fraction — sums scaled to the least common multiple of the periods, one division at the
        end — so a third of a cent is never rounded before the percentage is taken.
        """
        model = charge.model
        months = charge.period_months if charge.kind is ChargeKind.RECURRING else 0
        families = model.percent_of_families
        products = self.snapshot.products
        # Sums per period of the lines counted: [list, net].
        chosen: dict[int, list[Decimal]] = {}
        groups = [by_family[f] for f in families if f in by_family]
        for sku in model.percent_of_skus:
            product = products.get(sku)
            if sku in by_sku and not (product is not None and product.family and product.family in families):
                groups.append(by_sku[sku])
        for group in groups:
            for target_months, (list_sum, net_sum) in group.items():
                if (months == 0) != (target_months == 0):
                    continue
                acc = chosen.get(target_months)
                if acc is None:
                    chosen[target_months] = [ZERO + list_sum, ZERO + net_sum]
                else:
                    acc[0] += list_sum
                    acc[1] += net_sum
        if not months:
            return (
                sum((s[0] for s in chosen.values()), ZERO),
                sum((s[1] for s in chosen.values()), ZERO),
                ONE,
            )
        common = lcm(*chosen) if chosen else 1
        list_num = net_num = ZERO
        for target_months, (list_sum, net_sum) in chosen.items():
            scale = months * (common // target_months)
            list_num += list_sum * scale
            net_num += net_sum * scale
        return list_num, net_num, Decimal(common)

    def totals(self, lines: tuple[PricedLine, ...]) -> Totals:
        cur = self.currency
        one_time = mrr = arr = tcv = list_tcv = usage = basis = cost = self.zero
        recurring: dict[str, Decimal] = {}
        any_cost = False
        for line in lines:
            kind = line.charge_kind
            if kind == "usage":
                usage += line.net
                continue
            if kind == "recurring":
                recurring[line.billing_period] = recurring.get(line.billing_period, self.zero) + line.net
                mrr += line.mrr
                arr += line.arr
            else:
                one_time += line.net
            tcv += line.tcv
            list_tcv += line.list_tcv
            if line.cost_tcv is not None:
                any_cost = True
                basis += line.tcv
                cost += line.cost_tcv
        discount = list_tcv - tcv
        discount_pct = percent(discount / list_tcv * HUNDRED) if list_tcv > 0 else ZERO
        margin = basis - cost
        margin_pct = percent(margin / basis * HUNDRED) if any_cost and basis != 0 else None
        return Totals(
            currency=cur,
            one_time=Money(one_time, cur),
            recurring={k: Money(v, cur) for k, v in recurring.items()},
            mrr=Money(mrr, cur),
            arr=Money(arr, cur),
            tcv=Money(tcv, cur),
            list_tcv=Money(list_tcv, cur),
            discount=Money(discount, cur),
            discount_percent=discount_pct,
            usage_estimate=Money(usage, cur),
            margin=Money(margin, cur) if any_cost else None,
            margin_percent=margin_pct,
            margin_basis=Money(basis, cur),
        )


def price(snapshot: CatalogSnapshot, request: PriceRequest) -> PricingResult:
    """Price ``request`` against ``snapshot``.

    Raises :class:`PricingInputError` (a ``ValidationError``, API 422) naming every line and field
    at fault: unknown or inactive products, missing or fractional quantities, unknown charges,
    unusable tier tables, promotions unknown or outside their dates, discounts above the line
    amount, prices below a hard floor.
    """
    return _Pricer(snapshot, request).run()
