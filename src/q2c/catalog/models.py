"""Catalog tables: products, charges, price books and entries, contracted prices, discount
schedules, promotions, bundles and configuration rules, manual discount limits per role.

Unit prices, rates, percentages and quantities are exact decimal text (``DecimalTextField``);
the catalog stores no document amounts. Contracted prices name the customer by ``account_id``
(a plain indexed id: parties is a sibling layer below and its ``Account`` is the aggregate root
other apps refer to by id). Writes go through ``q2c.catalog.services``, which validate (tiers,
rule cycles) and bump :class:`CatalogRevision` so cached pricing snapshots are rebuilt.

May import ``q2c.core``, ``q2c.platform``, ``q2c.tax`` and ``q2c.ledger`` (enums only).
"""

from __future__ import annotations

from django.db import models

from q2c.catalog.pricing.types import (
    AttributeOperator,
    BillingPeriod,
    BillingTiming,
    ChargeKind,
    FloorEnforcement,
    OptionSelection,
    PriceModelKind,
    ProductType,
    RevenueRule,
    RuleAction,
    RuleKind,
    SaleContext,
    ScheduleKind,
    SspMethod,
    UsageAggregation,
)
from q2c.ledger.categories import RevenueCategory
from q2c.platform.fields import DecimalTextField
from q2c.platform.roles import Role
from q2c.tax.categories import TaxCategory


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class CatalogRevision(models.Model):
    """One row whose token changes on every catalog write: the key of cached snapshots."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "catalog_revision"


class UnitOfMeasure(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    divisible = models.BooleanField(
        default=False, help_text="may quantities have decimals (hours, GB) or only whole units (seats)"
    )

    class Meta:
        db_table = "catalog_unit"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    family = models.CharField(max_length=60, blank=True, default="", db_index=True)
    type = models.CharField(max_length=20, choices=_choices(ProductType))
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="products")
    tax_category = models.CharField(
        max_length=30, choices=_choices(TaxCategory), default=TaxCategory.STANDARD
    )
    revenue_category = models.CharField(
        max_length=30, choices=_choices(RevenueCategory), default=RevenueCategory.OTHER
    )
    revenue_rule = models.CharField(
        max_length=30, choices=_choices(RevenueRule), default=RevenueRule.POINT_IN_TIME
    )
    is_bundle = models.BooleanField(default=False)
    cost = DecimalTextField(
        null=True, blank=True, help_text="cost per unit (per billing period for recurring)"
    )
    cost_currency = models.CharField(max_length=3, blank=True, default="")
    floor_price = DecimalTextField(null=True, blank=True, help_text="lowest net unit price without approval")
    floor_currency = models.CharField(max_length=3, blank=True, default="")
    floor_enforcement = models.CharField(
        max_length=10, choices=_choices(FloorEnforcement), default=FloorEnforcement.APPROVAL
    )
    active_from = models.DateField(null=True, blank=True)
    active_to = models.DateField(null=True, blank=True, help_text="first day no longer sold (exclusive)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "catalog_product"
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"


class ProductSsp(models.Model):
    """Standalone selling price of a product in one sale context (new, add-on, renewal)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="ssps")
    context = models.CharField(max_length=10, choices=_choices(SaleContext), default=SaleContext.NEW)
    method = models.CharField(max_length=20, choices=_choices(SspMethod))
    currency = models.CharField(max_length=3, blank=True, default="", help_text="for fixed and range SSPs")
    amount = DecimalTextField(null=True, blank=True)
    percent = DecimalTextField(null=True, blank=True)
    low = DecimalTextField(null=True, blank=True)
    high = DecimalTextField(null=True, blank=True)

    class Meta:
        db_table = "catalog_product_ssp"
        ordering = ["id"]  # as entered: exports list them in the order people wrote them
        constraints = [
            models.UniqueConstraint(fields=["product", "context", "currency"], name="catalog_ssp_key"),
        ]


class Charge(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="charges")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True, default="")
    kind = models.CharField(max_length=20, choices=_choices(ChargeKind))
    billing_period = models.CharField(max_length=20, choices=_choices(BillingPeriod), blank=True, default="")
    period_months = models.PositiveSmallIntegerField(default=0, help_text="months per billing period")
    timing = models.CharField(max_length=12, choices=_choices(BillingTiming), blank=True, default="")
    usage_metric = models.CharField(max_length=60, blank=True, default="")
    usage_aggregation = models.CharField(
        max_length=20, choices=_choices(UsageAggregation), blank=True, default=""
    )
    sequence = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "catalog_charge"
        ordering = ["product_id", "sequence", "code"]
        constraints = [models.UniqueConstraint(fields=["product", "code"], name="catalog_charge_key")]

    def __str__(self) -> str:
        return f"{self.product.sku}/{self.code}"


class PriceBook(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    segment = models.CharField(max_length=40, blank=True, default="")
    region = models.CharField(max_length=40, blank=True, default="")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="prices not in this book come from the parent (same currency)",
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive")
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "catalog_price_book"
        ordering = ["code"]
        indexes = [models.Index(fields=["currency", "is_active"])]

    def __str__(self) -> str:
        return f"{self.code} ({self.currency})"


class PriceEntry(models.Model):
    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="entries")
    model = models.CharField(max_length=20, choices=_choices(PriceModelKind))
    price = DecimalTextField(default="0", help_text="flat amount, unit price or block price")
    list_unit_price = DecimalTextField(null=True, blank=True, help_text="headline unit price (optional)")
    block_size = DecimalTextField(default="1")
    percent = DecimalTextField(default="0")
    percent_of_skus = models.CharField(
        max_length=500, blank=True, default="", help_text="comma-separated SKUs"
    )
    percent_of_families = models.CharField(
        max_length=500, blank=True, default="", help_text="comma-separated"
    )
    minimum = DecimalTextField(null=True, blank=True, help_text="per line and billing period")
    maximum = DecimalTextField(null=True, blank=True)
    floor_price = DecimalTextField(null=True, blank=True, help_text="per unit; overrides the product's floor")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive")

    class Meta:
        db_table = "catalog_price_entry"
        constraints = [
            models.UniqueConstraint(fields=["price_book", "charge", "valid_from"], name="catalog_entry_key"),
        ]
        indexes = [models.Index(fields=["price_book", "charge"])]

    def __str__(self) -> str:
        return f"{self.price_book.code}: {self.charge} {self.model}"


class PriceTier(models.Model):
    """Units in ``(lower, upper]`` at ``unit_price`` (+ ``flat_fee`` once reached)."""

    entry = models.ForeignKey(PriceEntry, on_delete=models.CASCADE, related_name="tiers")
    position = models.PositiveSmallIntegerField(default=0)
    lower = DecimalTextField()
    upper = DecimalTextField(null=True, blank=True)
    unit_price = DecimalTextField()
    flat_fee = DecimalTextField(default="0")

    class Meta:
        db_table = "catalog_price_tier"
        ordering = ["entry_id", "position"]


class ContractedPrice(models.Model):
    """A customer's negotiated price for one charge: a unit price or a percent off the book."""

    account_id = models.BigIntegerField(db_index=True)
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="contracted_prices")
    currency = models.CharField(max_length=3)
    unit_price = DecimalTextField(null=True, blank=True)
    discount_percent = DecimalTextField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive")

    class Meta:
        db_table = "catalog_contracted_price"
        indexes = [models.Index(fields=["account_id", "currency"])]


class DiscountSchedule(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=_choices(ScheduleKind))
    products = models.ManyToManyField(
        Product, blank=True, related_name="discount_schedules", db_table="catalog_schedule_product"
    )
    families = models.CharField(max_length=500, blank=True, default="", help_text="comma-separated")
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "catalog_discount_schedule"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class DiscountScheduleTier(models.Model):
    schedule = models.ForeignKey(DiscountSchedule, on_delete=models.CASCADE, related_name="tiers")
    threshold = DecimalTextField(
        help_text="quantity (volume) or months (term) from which the percent applies"
    )
    percent = DecimalTextField()

    class Meta:
        db_table = "catalog_discount_schedule_tier"


class Promotion(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    percent = DecimalTextField(null=True, blank=True)
    amount = DecimalTextField(null=True, blank=True, help_text="off per unit, in the currency")
    currency = models.CharField(max_length=3, blank=True, default="")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive")
    automatic = models.BooleanField(default=False, help_text="applies without a code")
    min_quantity = DecimalTextField(null=True, blank=True)
    products = models.ManyToManyField(
        Product, blank=True, related_name="promotions", db_table="catalog_promotion_product"
    )
    families = models.CharField(max_length=500, blank=True, default="")
    sale_contexts = models.CharField(
        max_length=60, blank=True, default="", help_text="comma-separated; empty: all"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "catalog_promotion"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class OptionGroup(models.Model):
    bundle = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="option_groups")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    min_options = models.PositiveSmallIntegerField(default=0)
    max_options = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "catalog_option_group"
        ordering = ["bundle_id", "sequence", "code"]
        constraints = [models.UniqueConstraint(fields=["bundle", "code"], name="catalog_group_key")]

    def __str__(self) -> str:
        return f"{self.bundle.sku}/{self.code}"


class BundleOption(models.Model):
    group = models.ForeignKey(OptionGroup, on_delete=models.CASCADE, related_name="options")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="option_of")
    selection = models.CharField(
        max_length=10, choices=_choices(OptionSelection), default=OptionSelection.OPTIONAL
    )
    min_qty = DecimalTextField(null=True, blank=True)
    max_qty = DecimalTextField(null=True, blank=True)
    qty_tied_to_parent = models.BooleanField(default=False)
    qty_ratio = DecimalTextField(default="1")
    included_in_price = models.BooleanField(default=False)
    sequence = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "catalog_bundle_option"
        ordering = ["group_id", "sequence", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "product"], name="catalog_option_key")]


class ConfigurationRule(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=_choices(RuleKind))
    bundle = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="bundle_rules",
        help_text="scope: each instance of this bundle; empty: the whole quote",
    )
    source = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="rules_as_source"
    )
    target = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="rules_as_target")
    per_quantity = DecimalTextField(default="1")
    target_quantity = DecimalTextField(default="1")
    attribute = models.CharField(max_length=60, blank=True, default="")
    operator = models.CharField(
        max_length=4, choices=_choices(AttributeOperator), default=AttributeOperator.EQ
    )
    values = models.CharField(max_length=500, blank=True, default="", help_text="comma-separated")
    action = models.CharField(max_length=10, choices=_choices(RuleAction), default=RuleAction.REQUIRES)
    message = models.CharField(max_length=500, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "catalog_rule"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ManualDiscountLimit(models.Model):
    """The largest manual discount (percent) a role gives without approval."""

    role = models.CharField(max_length=30, unique=True, choices=_choices(Role))
    max_percent = DecimalTextField()

    class Meta:
        db_table = "catalog_discount_limit"
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.role}: {self.max_percent} %"
