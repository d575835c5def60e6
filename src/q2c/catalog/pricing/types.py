"""The catalog as the pricing engine sees it: enums and an immutable snapshot.

A :class:`CatalogSnapshot` is everything the engine needs to price quotes in one price book at one
date: products with their priced charges (price models resolved from the book and its parents),
bundles with option groups, configuration rules, discount schedules and promotions. It is built by
``q2c.catalog.services.snapshot`` from the database (a few bulk queries) or by tests by hand, and is
never changed afterwards: dataclasses are frozen, collections are tuples, frozensets and read-only
mappings, so one snapshot can be cached and shared between requests and threads.

Must not import Django or any q2c package other than ``q2c.core`` (it is pure; see
``q2c.catalog.pricing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class ProductType(StrEnum):
    GOOD = "good"
    SERVICE = "service"
    SUBSCRIPTION = "subscription"
    USAGE = "usage"


class RevenueRule(StrEnum):
    """How revenue from the product is recognised (the revenue app reads this)."""

    POINT_IN_TIME = "point_in_time"
    RATABLE = "ratable"
    AS_USED = "as_used"
    MEASURED_PROGRESS = "measured_progress"


class SaleContext(StrEnum):
    NEW = "new"
    ADD_ON = "add_on"
    RENEWAL = "renewal"


class SspMethod(StrEnum):
    FIXED = "fixed"
    PERCENT_OF_LIST = "percent_of_list"
    RANGE = "range"


class ChargeKind(StrEnum):
    ONE_TIME = "one_time"
    RECURRING = "recurring"
    USAGE = "usage"


class BillingPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"
    EVERY_N_MONTHS = "every_n_months"


#: Months per billing period; ``every_n_months`` takes its N from the charge.
PERIOD_MONTHS: Mapping[BillingPeriod, int] = MappingProxyType(
    {
        BillingPeriod.MONTH: 1,
        BillingPeriod.QUARTER: 3,
        BillingPeriod.HALF_YEAR: 6,
        BillingPeriod.YEAR: 12,
    }
)


class BillingTiming(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class UsageAggregation(StrEnum):
    SUM = "sum"
    MAX = "max"
    COUNT = "count"
    UNIQUE_COUNT = "unique_count"
    LAST = "last"


class PriceModelKind(StrEnum):
    FLAT = "flat"
    PER_UNIT = "per_unit"
    TIERED = "tiered"  # graduated: each tier prices its own units
    VOLUME = "volume"  # all units at the price of the tier reached
    PACKAGE = "package"  # per block of N units, rounded up
    PERCENT = "percent"  # a percentage of other lines' amounts


class ScheduleKind(StrEnum):
    VOLUME = "volume"  # by the line's quantity
    TERM = "term"  # by the quote's term in months


class OptionSelection(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    DEFAULT = "default"  # optional, pre-selected in the quote builder


class RuleKind(StrEnum):
    REQUIRES = "requires"
    EXCLUDES = "excludes"
    QUANTITY_RATIO = "quantity_ratio"
    ATTRIBUTE = "attribute"


class RuleAction(StrEnum):
    """What an attribute condition does to its target product."""

    REQUIRES = "requires"
    EXCLUDES = "excludes"


class AttributeOperator(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"


class FloorEnforcement(StrEnum):
    """What a net price below the floor does: ask for approval (default) or refuse the line."""

    APPROVAL = "approval"
    REJECT = "reject"


class ManualDiscountKind(StrEnum):
    PERCENT = "percent"  # of the line amount before the manual step
    AMOUNT = "amount"  # off the line amount (per billing period for recurring lines)
    TARGET_PRICE = "target_price"  # the net unit price the rep wants


class Rounding(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"


# --- price models ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tier:
    """Units in ``(lower, upper]`` (``upper=None``: no end) at ``unit_price`` each, plus
    ``flat_fee`` once when the tier is reached. "0–100,000 at 0.00; 100,001–1,000,000 at 0.002"
    is ``Tier(0, 100000, 0)``, ``Tier(100000, 1000000, 0.002)``: tiers meet without gaps."""

    lower: Decimal
    upper: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PriceModel:
    """How one charge is priced in one price book.

    ``price`` is the flat amount (flat), the unit price (per unit) or the block price (package).
    ``list_unit_price`` is the headline unit price shown as the waterfall's first step; when not
    given it is derived (see :func:`q2c.catalog.pricing.price_models.list_unit_price`).
    ``minimum``/``maximum`` bound the line amount after the model (per billing period).
    """

    kind: PriceModelKind
    price: Decimal = ZERO
    block_size: Decimal = ONE
    tiers: tuple[Tier, ...] = ()
    percent: Decimal = ZERO
    percent_of_skus: frozenset[str] = frozenset()
    percent_of_families: frozenset[str] = frozenset()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    list_unit_price: Decimal | None = None


# --- catalog ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ssp:
    """Standalone selling price per unit for one sale context, in the snapshot's currency."""

    method: SspMethod
    amount: Decimal | None = None
    percent: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    """A priced charge of a product: its kind, billing period and the book's price model.

    ``model_error`` holds why the book's model is unusable (tier gaps or overlaps): the snapshot
    still builds, and a quote line that uses the charge is refused naming the line.
    """

    id: int
    code: str
    name: str
    kind: ChargeKind
    model: PriceModel
    billing_period: BillingPeriod | None = None
    period_months: int = 0
    timing: BillingTiming | None = None
    usage_metric: str = ""
    usage_aggregation: UsageAggregation | None = None
    floor_unit_price: Decimal | None = None
    entry_id: int | None = None
    model_error: tuple[str, str] | None = None  # (code, message)


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    sku: str
    name: str
    type: ProductType
    charges: tuple[Charge, ...]
    family: str = ""
    uom: str = "each"
    divisible: bool = False
    tax_category: str = "standard"
    revenue_category: str = "other"
    revenue_rule: RevenueRule = RevenueRule.POINT_IN_TIME
    is_bundle: bool = False
    active_from: date | None = None
    active_to: date | None = None  # exclusive
    cost: Decimal | None = None  # per unit (per billing period for recurring charges)
    floor_enforcement: FloorEnforcement = FloorEnforcement.APPROVAL
    ssp: Mapping[SaleContext, Ssp] = field(default_factory=lambda: MappingProxyType({}))

    def active_on(self, day: date) -> bool:
        if self.active_from is not None and day < self.active_from:
            return False
        return not (self.active_to is not None and day >= self.active_to)


@dataclass(frozen=True, slots=True)
class DiscountSchedule:
    """An automatic discount: the percentage of the highest tier whose threshold is reached.

    ``tiers`` are ``(threshold, percent)`` sorted by threshold. Empty ``skus`` and ``families``
    mean every product.
    """

    id: int
    code: str
    name: str
    kind: ScheduleKind
    tiers: tuple[tuple[Decimal, Decimal], ...]
    skus: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()

    def applies_to(self, product: Product) -> bool:
        if not self.skus and not self.families:
            return True
        return product.sku in self.skus or (bool(product.family) and product.family in self.families)

    def percent_for(self, value: Decimal) -> tuple[Decimal, Decimal] | None:
        """The (threshold, percent) reached by ``value``, or None."""
        reached = None
        for threshold, percent in self.tiers:
            if value >= threshold:
                reached = (threshold, percent)
            else:
                break
        return reached


@dataclass(frozen=True, slots=True)
class Promotion:
    """A promotion: a percent off, or an amount off per unit (in ``currency``)."""

    id: int
    code: str
    name: str
    valid_from: date | None = None
    valid_to: date | None = None  # exclusive
    percent: Decimal | None = None
    amount: Decimal | None = None
    currency: str = ""
    automatic: bool = False
    min_quantity: Decimal | None = None
    skus: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()
    sale_contexts: frozenset[SaleContext] = frozenset()

    def valid_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_to is not None and day >= self.valid_to)

    def eligible(self, product: Product, quantity: Decimal | None, context: SaleContext) -> bool:
        """May ``product`` sold in ``context`` take this promotion (``quantity`` None: any)?"""
        if self.sale_contexts and context not in self.sale_contexts:
            return False
        if quantity is not None and self.min_quantity is not None and quantity < self.min_quantity:
            return False
        if not self.skus and not self.families:
            return True
        return product.sku in self.skus or (bool(product.family) and product.family in self.families)


@dataclass(frozen=True, slots=True)
class BundleOption:
    id: int
    sku: str
    selection: OptionSelection = OptionSelection.OPTIONAL
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    qty_tied_to_parent: bool = False
    qty_ratio: Decimal = ONE  # tied quantity = parent quantity × ratio
    included_in_price: bool = False  # priced at zero: the bundle's price covers it


@dataclass(frozen=True, slots=True)
class OptionGroup:
    id: int
    code: str
    name: str
    options: tuple[BundleOption, ...]
    min_options: int = 0
    max_options: int | None = None


@dataclass(frozen=True, slots=True)
class Bundle:
    sku: str
    groups: tuple[OptionGroup, ...]

    def option_for(self, sku: str) -> tuple[OptionGroup, BundleOption] | None:
        for group in self.groups:
            for option in group.options:
                if option.sku == sku:
                    return group, option
        return None


@dataclass(frozen=True, slots=True)
class Rule:
    """A configuration rule. ``bundle_sku`` scopes it to each instance of that bundle (the parent
    line and its options); without it the rule looks at the whole quote.

    - requires: ``source`` present → ``target`` present;
    - excludes: ``source`` and ``target`` not both present;
    - quantity_ratio: ``target`` quantity ≥ ceil(source quantity ÷ per_quantity) × target_quantity;
    - attribute: when the quote attribute matches (``attribute`` ``operator`` ``values``), the
      ``action`` (requires/excludes) applies to ``target``.
    """

    id: int
    code: str
    name: str
    kind: RuleKind
    target_sku: str
    source_sku: str = ""
    bundle_sku: str = ""
    per_quantity: Decimal = ONE
    target_quantity: Decimal = ONE
    attribute: str = ""
    operator: AttributeOperator = AttributeOperator.EQ
    values: tuple[str, ...] = ()
    action: RuleAction = RuleAction.REQUIRES
    message: str = ""

    @property
    def rule_id(self) -> str:
        return f"rule:{self.code}"


@dataclass(frozen=True, slots=True)
class ContractedPrice:
    """A customer's contracted price for one charge: a unit price or a percent off the model."""

    id: int
    charge_id: int
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    """A discount schedule as the engine applies it: each tier with its multiplier and rule text."""

    code: str
    rule_id: str  # "schedule:CODE"
    by_quantity: bool  # volume schedules look at the line's quantity, term schedules at the term
    tiers: tuple[tuple[Decimal, Decimal, Decimal, str], ...]  # (threshold, percent, factor, rule)

    def reached(self, value: Decimal) -> tuple[Decimal, Decimal, Decimal, str] | None:
        hit = None
        for tier in self.tiers:
            if value >= tier[0]:
                hit = tier
            else:
                break
        return hit


@dataclass(frozen=True, slots=True)
class ChargePlan:
    """What the engine needs to price one charge, worked out once per snapshot: texts of the
    rules, the headline price, the schedules that apply. Derived from the catalog only — no
    quote's result is ever kept."""

    product: Product
    charge: Charge
    kind: ChargeKind
    model_kind: PriceModelKind
    kind_text: str  # the enums' values, read once (an enum's .value is a Python-level lookup)
    model_text: str
    revenue_rule_text: str
    months: int
    list_unit: Decimal
    list_rule: str
    model_rule: str
    rule_id: str
    period_label: str
    timing: str
    aggregation: str
    schedules: tuple[SchedulePlan, ...]


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """Everything needed to price in one price book (``currency``) on ``as_of``."""

    price_book: str
    currency: str
    as_of: date
    products: Mapping[str, Product]
    bundles: Mapping[str, Bundle] = field(default_factory=lambda: MappingProxyType({}))
    rules: tuple[Rule, ...] = ()
    schedules: tuple[DiscountSchedule, ...] = ()
    promotions: Mapping[str, Promotion] = field(default_factory=lambda: MappingProxyType({}))
    price_book_id: int | None = None
    # Derived once at construction, so a quote's lines look them up instead of scanning.
    schedules_by_sku: Mapping[str, tuple[DiscountSchedule, ...]] = field(init=False)
    automatic_promotions: tuple[Promotion, ...] = field(init=False)
    plans: Mapping[int, ChargePlan] = field(init=False)  # charge id → plan

    def __post_init__(self) -> None:
        # Read-only views, so a shared (cached) snapshot cannot be changed by a caller.
        for name in ("products", "bundles", "promotions"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))
        by_sku = {
            sku: tuple(s for s in self.schedules if s.applies_to(product))
            for sku, product in self.products.items()
        }
        object.__setattr__(self, "schedules_by_sku", MappingProxyType(by_sku))
        auto = tuple(sorted((p for p in self.promotions.values() if p.automatic), key=lambda p: p.code))
        object.__setattr__(self, "automatic_promotions", auto)
        object.__setattr__(self, "plans", MappingProxyType(_plans(self)))


def _schedule_plan(schedule: DiscountSchedule) -> SchedulePlan:
    unit = "units" if schedule.kind == ScheduleKind.VOLUME else "months"
    tiers = tuple(
        (
            threshold,
            pct,
            (HUNDRED - pct) / HUNDRED,
            f"schedule {schedule.code}: {pct} % from {threshold} {unit}",
        )
        for threshold, pct in schedule.tiers
    )
    return SchedulePlan(
        schedule.code, f"schedule:{schedule.code}", schedule.kind == ScheduleKind.VOLUME, tiers
    )


def _plans(snapshot: CatalogSnapshot) -> dict[int, ChargePlan]:
    # Imported here: price_models imports this module.
    from q2c.catalog.pricing.price_models import describe, list_unit_price

    schedule_plans = {s.code: _schedule_plan(s) for s in snapshot.schedules}
    plans: dict[int, ChargePlan] = {}
    for sku, product in snapshot.products.items():
        schedules = tuple(schedule_plans[s.code] for s in snapshot.schedules_by_sku.get(sku, ()))
        for charge in product.charges:
            model = charge.model
            if charge.billing_period is None:
                period = ""
            elif charge.billing_period == BillingPeriod.EVERY_N_MONTHS:
                period = f"every_{charge.period_months}_months"
            else:
                period = str(charge.billing_period)
            unit = list_unit_price(model) if charge.model_error is None else ZERO
            plans[charge.id] = ChargePlan(
                product=product,
                charge=charge,
                kind=charge.kind,
                model_kind=model.kind,
                kind_text=str(charge.kind.value),
                model_text=str(model.kind.value),
                revenue_rule_text=str(product.revenue_rule.value),
                months=charge.period_months if charge.kind == ChargeKind.RECURRING else 0,
                list_unit=unit,
                list_rule=f"list price {unit} (price book {snapshot.price_book})",
                model_rule=describe(model),
                rule_id=f"price_entry:{charge.entry_id}" if charge.entry_id is not None else "",
                period_label=period,
                timing=str(charge.timing) if charge.timing else "",
                aggregation=str(charge.usage_aggregation) if charge.usage_aggregation else "",
                schedules=schedules,
            )
    return plans
