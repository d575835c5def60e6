"""Price models as pure functions: what N units of a charge cost under one model.

``rate(model, quantity)`` answers ``Rating(amount, breakdown)``: the exact (unrounded) amount and,
for tiered and volume models, the units and amount per tier. The quote engine calls it for every
line; the usage-rating engine calls it for each rated period, so nothing here knows about quotes,
waterfalls or rounding — callers round at their own documented points.

- flat: ``price`` whatever the quantity;
- per unit: ``quantity × price``;
- tiered (graduated): each tier prices the units that fall in it, plus its flat fee when reached;
- volume: every unit at the unit price of the tier the quantity reaches, plus that tier's fee;
- package: ``ceil(quantity ÷ block_size) × price`` (a started block is a whole block);
- percent: ``base × percent ÷ 100 × quantity``, ``base`` being the other lines' amount.

Tiers hold units in ``(lower, upper]``; the first starts at 0, each next one starts where the
previous ended, only the last may be open. :func:`check_tiers` names gaps and overlaps.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.catalog.pricing``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from q2c.catalog.pricing.types import HUNDRED, ZERO, PriceModel, PriceModelKind, Tier
from q2c.core.errors import ValidationError


class TierCharge(NamedTuple):
    """One tier's part of a rating: units in the tier, their unit price, the fee and the amount."""

    tier: int  # 1-based position
    lower: Decimal
    upper: Decimal | None
    units: Decimal
    unit_price: Decimal
    flat_fee: Decimal
    amount: Decimal


class Rating(NamedTuple):
    """The exact amount for a quantity and, for tiered and volume models, the tier breakdown."""

    amount: Decimal
    breakdown: tuple[TierCharge, ...] = ()


class TierProblem(NamedTuple):
    code: str  # pricing.tier_gap, pricing.tier_overlap, pricing.tier_invalid
    position: int  # 0-based tier index
    field: str  # "lower", "upper", "unit_price", "flat_fee"
    message: str


def check_tiers(tiers: tuple[Tier, ...] | list[Tier]) -> list[TierProblem]:
    """Every problem of a tier table (empty list: usable). Pure; used when a price is saved,
    when a file is imported and when a snapshot is built."""
    problems: list[TierProblem] = []
    if not tiers:
        return [TierProblem("pricing.tier_invalid", 0, "tiers", "a tiered or volume price needs tiers")]
    expected = ZERO
    for i, tier in enumerate(tiers):
        n = i + 1
        if tier.lower < expected:
            problems.append(
                TierProblem(
                    "pricing.tier_overlap",
                    i,
                    "lower",
                    f"tier {n} starts at {tier.lower} but tier {i} already covers units up to {expected}",
                )
            )
        elif tier.lower > expected:
            what = "the first tier must start at 0" if i == 0 else f"tier {i} ends at {expected}"
            problems.append(
                TierProblem(
                    "pricing.tier_gap",
                    i,
                    "lower",
                    f"tier {n} starts at {tier.lower}, leaving a gap: {what}",
                )
            )
        if tier.upper is None:
            if i != len(tiers) - 1:
                problems.append(
                    TierProblem(
                        "pricing.tier_overlap", i, "upper", f"tier {n} is open-ended but is not the last tier"
                    )
                )
            expected = tier.lower
        else:
            if tier.upper <= tier.lower:
                problems.append(
                    TierProblem(
                        "pricing.tier_invalid",
                        i,
                        "upper",
                        f"tier {n} ends at {tier.upper}, not above its start {tier.lower}",
                    )
                )
            expected = tier.upper
        if tier.unit_price < 0:
            problems.append(
                TierProblem("pricing.tier_invalid", i, "unit_price", f"tier {n} has a negative unit price")
            )
        if tier.flat_fee < 0:
            problems.append(
                TierProblem("pricing.tier_invalid", i, "flat_fee", f"tier {n} has a negative flat fee")
            )
    return problems


def check_model(model: PriceModel) -> list[TierProblem]:
    """Every problem of a price model (tiers, block size, negative prices, min above max)."""
    problems: list[TierProblem] = []
    if model.kind in (PriceModelKind.TIERED, PriceModelKind.VOLUME):
        problems.extend(check_tiers(model.tiers))
    if model.kind == PriceModelKind.PACKAGE and model.block_size <= 0:
        problems.append(
            TierProblem("pricing.model_invalid", 0, "block_size", "a package needs a block size above 0")
        )
    if model.price < 0:
        problems.append(TierProblem("pricing.model_invalid", 0, "price", "the price must not be negative"))
    if model.kind == PriceModelKind.PERCENT and not (ZERO <= model.percent <= 1000):
        problems.append(
            TierProblem("pricing.model_invalid", 0, "percent", "the percentage must be between 0 and 1000")
        )
    if model.minimum is not None and model.maximum is not None and model.minimum > model.maximum:
        problems.append(
            TierProblem("pricing.model_invalid", 0, "minimum", "the minimum is above the maximum")
        )
    return problems


def validate_model(model: PriceModel, *, field_prefix: str = "") -> None:
    """Raise a ``ValidationError`` listing every problem of ``model``; return when usable."""
    problems = check_model(model)
    if not problems:
        return
    details = [
        {
            "field": f"{field_prefix}tiers[{p.position}].{p.field}"
            if p.code.startswith("pricing.tier")
            else f"{field_prefix}{p.field}",
            "code": p.code,
            "message": p.message,
        }
        for p in problems
    ]
    raise ValidationError(
        problems[0].message, code=problems[0].code, field=details[0]["field"], details=details
    )


def _graduated(tiers: tuple[Tier, ...], quantity: Decimal) -> Rating:
    total = ZERO
    parts: list[TierCharge] = []
    for i, tier in enumerate(tiers):
        if quantity <= tier.lower:
            break
        top = quantity if tier.upper is None or quantity < tier.upper else tier.upper
        units = top - tier.lower
        amount = units * tier.unit_price + tier.flat_fee
        total += amount
        parts.append(TierCharge(i + 1, tier.lower, tier.upper, units, tier.unit_price, tier.flat_fee, amount))
    return Rating(total, tuple(parts))


def _volume(tiers: tuple[Tier, ...], quantity: Decimal) -> Rating:
    if quantity <= 0:
        return Rating(ZERO)
    for i, tier in enumerate(tiers):
        if tier.upper is None or quantity <= tier.upper:
            amount = quantity * tier.unit_price + tier.flat_fee
            return Rating(
                amount,
                (
                    TierCharge(
                        i + 1, tier.lower, tier.upper, quantity, tier.unit_price, tier.flat_fee, amount
                    ),
                ),
            )
    # Above the last closed tier: the last tier's price still applies (a table should end open).
    last = tiers[-1]
    amount = quantity * last.unit_price + last.flat_fee
    return Rating(
        amount,
        (TierCharge(len(tiers), last.lower, last.upper, quantity, last.unit_price, last.flat_fee, amount),),
    )


def blocks(quantity: Decimal, block_size: Decimal) -> Decimal:
    """Started blocks of ``block_size`` in ``quantity`` (a part block counts as one)."""
    return (quantity / block_size).to_integral_value(rounding=ROUND_CEILING)


def rate(model: PriceModel, quantity: Decimal, *, base: Decimal | None = None) -> Rating:
    """The exact amount for ``quantity`` units under ``model`` (not rounded, limits not applied).

    ``base`` is required for the percent model: the amount the percentage applies to.
    Raises ``ValidationError`` (``pricing.negative_quantity``) for a negative quantity.
    """
    if quantity < 0:
        raise ValidationError(
            f"quantity {quantity} is negative", code="pricing.negative_quantity", field="quantity"
        )
    kind = model.kind
    if kind is PriceModelKind.PER_UNIT:
        return Rating(quantity * model.price)
    if kind is PriceModelKind.FLAT:
        return Rating(model.price)
    if kind is PriceModelKind.TIERED:
        return _graduated(model.tiers, quantity)
    if kind is PriceModelKind.VOLUME:
        return _volume(model.tiers, quantity)
    if kind is PriceModelKind.PACKAGE:
        return Rating(blocks(quantity, model.block_size) * model.price)
    if kind is PriceModelKind.PERCENT:
        if base is None:
            raise ValidationError(
                "a percent price needs the base amount", code="pricing.percent_base", field="base"
            )
        return Rating(base * model.percent / HUNDRED * quantity)
    raise ValidationError(f"unknown price model {kind}", code="pricing.model_invalid", field="model")


def clamp(model: PriceModel, amount: Decimal) -> tuple[Decimal, str | None]:
    """Apply the model's per-line minimum and maximum: ``(amount, "minimum"|"maximum"|None)``."""
    if model.minimum is not None and amount < model.minimum:
        return model.minimum, "minimum"
    if model.maximum is not None and amount > model.maximum:
        return model.maximum, "maximum"
    return amount, None


def list_unit_price(model: PriceModel) -> Decimal:
    """The headline unit price shown as the waterfall's list step.

    The entry's own ``list_unit_price`` when set; otherwise per unit: the price; flat: the price
    (for the whole line); package: block price ÷ block size; tiered and volume: the first tier's
    unit price. Set ``list_unit_price`` on tables whose first tier is not the rack rate (a free
    allowance, rising prices) so that "discount vs list" stays meaningful.
    """
    if model.list_unit_price is not None:
        return model.list_unit_price
    kind = model.kind
    if kind is PriceModelKind.PER_UNIT or kind is PriceModelKind.FLAT:
        return model.price
    if kind is PriceModelKind.PACKAGE:
        return model.price / model.block_size
    if kind in (PriceModelKind.TIERED, PriceModelKind.VOLUME) and model.tiers:
        return model.tiers[0].unit_price
    return ZERO


def describe(model: PriceModel) -> str:
    """A short name of the model for the waterfall step that applied it."""
    kind = model.kind
    if kind is PriceModelKind.PER_UNIT:
        return f"per unit at {model.price}"
    if kind is PriceModelKind.FLAT:
        return f"flat {model.price}"
    if kind is PriceModelKind.TIERED:
        return f"tiered (graduated), {len(model.tiers)} tiers"
    if kind is PriceModelKind.VOLUME:
        return f"volume, {len(model.tiers)} tiers"
    if kind is PriceModelKind.PACKAGE:
        return f"package of {model.block_size} at {model.price}"
    targets = sorted(model.percent_of_skus) + [f"family {f}" for f in sorted(model.percent_of_families)]
    return f"{model.percent} % of {', '.join(targets) or 'no lines'}"
