"""Use cases for units of measure, products (with their standalone selling prices) and charges.

Each public function is one use case in one transaction; it validates everything first (every
problem reported with its field), writes, bumps the catalog revision and records an event.
``clean_*`` functions validate without writing: the importer runs them for every row first.

May import ``q2c.core``, ``q2c.platform``, ``q2c.tax``, ``q2c.ledger`` and the catalog's modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.catalog.errors import CatalogConflict, CatalogInvalid, CatalogNotFound
from q2c.catalog.models import (
    BundleOption,
    Charge,
    ConfigurationRule,
    PriceEntry,
    Product,
    ProductSsp,
    UnitOfMeasure,
)
from q2c.catalog.pricing.types import (
    PERIOD_MONTHS,
    BillingPeriod,
    BillingTiming,
    ChargeKind,
    FloorEnforcement,
    ProductType,
    RevenueRule,
    SaleContext,
    SspMethod,
    UsageAggregation,
)
from q2c.catalog.services.common import Cleaner, merged, record, touch
from q2c.catalog.services.lookups import Lookups
from q2c.ledger.categories import RevenueCategory
from q2c.tax.categories import TaxCategory

# --- units ---------------------------------------------------------------------------------


def clean_unit(raw: Mapping[str, Any], *, partial: bool = False) -> Cleaner:
    c = Cleaner(raw, partial=partial)
    c.text("code", required=True, max_len=20, code=True)
    c.text("name", required=True, max_len=60)
    c.boolean("divisible")
    return c


def create_unit(data: Mapping[str, Any], *, actor: Any = None) -> UnitOfMeasure:
    c = clean_unit(data)
    c.raise_if_any()
    with transaction.atomic():
        if UnitOfMeasure.objects.filter(code=c.out["code"]).exists():
            raise CatalogConflict(
                f"unit '{c.out['code']}' exists already", code="catalog.duplicate", field="code"
            )
        unit = UnitOfMeasure.objects.create(**c.out)
        touch()
        record("unit_created", "unit", unit.pk, actor, code=unit.code)
    return unit


def update_unit(unit_id: int, data: Mapping[str, Any], *, actor: Any = None) -> UnitOfMeasure:
    c = clean_unit(data, partial=True)
    c.raise_if_any()
    with transaction.atomic():
        unit = _get(UnitOfMeasure.objects.select_for_update(), unit_id, "unit")
        if "code" in c.out and c.out["code"] != unit.code:
            raise CatalogInvalid("a unit's code cannot change", code="catalog.immutable", field="code")
        for key, value in c.out.items():
            setattr(unit, key, value)
        unit.save()
        touch()
        record("unit_updated", "unit", unit.pk, actor, fields=sorted(c.out))
    return unit


def delete_unit(unit_id: int, *, actor: Any = None) -> None:
    with transaction.atomic():
        unit = _get(UnitOfMeasure.objects.select_for_update(), unit_id, "unit")
        if unit.products.exists():
            raise CatalogConflict(f"unit '{unit.code}' is used by products", code="catalog.in_use")
        unit.delete()
        touch()
        record("unit_deleted", "unit", unit_id, actor)


# --- products ------------------------------------------------------------------------------


def _clean_ssp(items: Any, c: Cleaner) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        c.problem("ssp", "catalog.invalid", "ssp is a list of standalone selling prices")
        return []
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            c.problem(f"ssp[{i}]", "catalog.invalid", "each SSP is an object")
            continue
        s = Cleaner(raw, prefix=f"ssp[{i}].")
        s.choice("context", SaleContext, default=SaleContext.NEW)
        s.choice("method", SspMethod, required=True)
        s.currency("currency")
        s.decimal("amount", minimum=Decimal(0))
        s.decimal("percent", minimum=Decimal(0), maximum=Decimal(1000))
        s.decimal("low", minimum=Decimal(0))
        s.decimal("high", minimum=Decimal(0))
        method = s.out.get("method")
        if method == SspMethod.FIXED and s.out.get("amount") is None:
            s.problem("amount", "catalog.required", "a fixed SSP needs an amount")
        if method == SspMethod.PERCENT_OF_LIST and s.out.get("percent") is None:
            s.problem("percent", "catalog.required", "a percent-of-list SSP needs a percent")
        if method == SspMethod.RANGE:
            low, high = s.out.get("low"), s.out.get("high")
            if low is None or high is None:
                s.problem("low", "catalog.required", "a range SSP needs low and high")
            elif high < low:
                s.problem("high", "catalog.invalid_range", "the SSP range's high is below its low")
        if method in (SspMethod.FIXED, SspMethod.RANGE) and not s.out.get("currency"):
            s.problem("currency", "catalog.required", "a fixed or range SSP needs a currency")
        key = (str(s.out.get("context", "")), str(s.out.get("currency", "")))
        if key in seen:
            s.problem("context", "catalog.duplicate", f"two SSPs for context {key[0]} {key[1]}".strip())
        seen.add(key)
        c.problems.extend(s.problems)
        out.append(s.out)
    return out


def clean_product(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: Product | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("sku", required=True, max_len=64, code=True)
    c.text("name", required=True, max_len=200)
    c.text("description", max_len=10_000)
    c.text("family", max_len=60)
    c.choice("type", ProductType, required=True)
    c.text("unit", required=True, max_len=20)
    c.choice("tax_category", TaxCategory, default=TaxCategory.STANDARD)
    c.choice("revenue_category", RevenueCategory, default=RevenueCategory.OTHER)
    c.choice("revenue_rule", RevenueRule, default=RevenueRule.POINT_IN_TIME)
    c.boolean("is_bundle")
    c.decimal("cost", minimum=Decimal(0))
    c.currency("cost_currency")
    c.decimal("floor_price", minimum=Decimal(0))
    c.currency("floor_currency")
    c.choice("floor_enforcement", FloorEnforcement, default=FloorEnforcement.APPROVAL)
    c.day("active_from")
    c.day("active_to")
    c.date_range("active_from", "active_to", existing)
    if "unit" in c.out:
        unit = lookups.unit(c.out["unit"])
        if unit is None:
            c.problem("unit", "catalog.unknown_unit", f"there is no unit of measure '{c.out['unit']}'")
        else:
            c.out["unit"] = unit
    for amount, currency in (("cost", "cost_currency"), ("floor_price", "floor_currency")):
        if merged(c, existing, amount) is not None and not merged(c, existing, currency):
            c.problem(currency, "catalog.required", f"{currency} is required when {amount} is given")
    if not partial or "ssp" in raw:
        c.out["ssp"] = _clean_ssp(raw.get("ssp"), c)
    product_type = merged(c, existing, "type")
    if product_type == ProductType.USAGE and merged(c, existing, "is_bundle"):
        c.problem("is_bundle", "catalog.invalid", "a usage product cannot be a bundle")
    return c


def _save_ssp(product: Product, items: list[dict[str, Any]]) -> None:
    product.ssps.all().delete()
    ProductSsp.objects.bulk_create(
        [
            ProductSsp(
                product=product,
                context=s.get("context") or SaleContext.NEW,
                method=s["method"],
                currency=s.get("currency") or "",
                amount=s.get("amount"),
                percent=s.get("percent"),
                low=s.get("low"),
                high=s.get("high"),
            )
            for s in items
        ]
    )


def create_product(data: Mapping[str, Any], *, actor: Any = None) -> Product:
    """Create a product (and its SSPs). Errors: ``catalog.invalid`` and friends naming each field
    (422); ``catalog.duplicate`` when the SKU exists (409)."""
    c = clean_product(data)
    c.raise_if_any()
    fields = dict(c.out)
    ssp = fields.pop("ssp", [])
    with transaction.atomic():
        if Product.objects.filter(sku=fields["sku"]).exists():
            raise CatalogConflict(
                f"SKU '{fields['sku']}' exists already", code="catalog.duplicate", field="sku"
            )
        product = Product.objects.create(**fields)
        _save_ssp(product, ssp)
        touch()
        record("product_created", "product", product.pk, actor, sku=product.sku)
    return product


def update_product(product_id: int, data: Mapping[str, Any], *, actor: Any = None) -> Product:
    """Change a product's fields (only those given). The SKU is fixed once created; products
    stop being sold by setting ``active_to``, so quotes that named them keep their meaning."""
    with transaction.atomic():
        product = _get(Product.objects.select_for_update(), product_id, "product")
        c = clean_product(data, partial=True, existing=product)
        c.raise_if_any()
        fields = dict(c.out)
        if "sku" in fields and fields["sku"] != product.sku:
            raise CatalogInvalid("a product's SKU cannot change", code="catalog.immutable", field="sku")
        if fields.get("is_bundle") is False and product.option_groups.exists():
            raise CatalogConflict(
                "the product has option groups; remove them first", code="catalog.in_use", field="is_bundle"
            )
        ssp = fields.pop("ssp", None)
        for key, value in fields.items():
            setattr(product, key, value)
        product.save()
        if ssp is not None:
            _save_ssp(product, ssp)
        touch()
        record("product_updated", "product", product.pk, actor, sku=product.sku, fields=sorted(c.out))
    return product


def delete_product(product_id: int, *, actor: Any = None) -> None:
    """Delete a product that nothing prices or references yet (409 otherwise: end its sale with
    ``active_to`` instead)."""
    with transaction.atomic():
        product = _get(Product.objects.select_for_update(), product_id, "product")
        in_use = (
            PriceEntry.objects.filter(charge__product=product).exists()
            or BundleOption.objects.filter(product=product).exists()
            or ConfigurationRule.objects.filter(source=product).exists()
            or ConfigurationRule.objects.filter(target=product).exists()
        )
        if in_use:
            raise CatalogConflict(
                f"{product.sku} is priced or used by bundles or rules; set active_to to stop selling it",
                code="catalog.in_use",
            )
        sku = product.sku
        product.delete()
        touch()
        record("product_deleted", "product", product_id, actor, sku=sku)


# --- charges -------------------------------------------------------------------------------


def clean_charge(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: Charge | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("sku", required=True, max_len=64)
    c.text("code", required=True, max_len=40, code=True)
    c.text("name", max_len=200)
    c.choice("kind", ChargeKind, required=True)
    c.choice("billing_period", BillingPeriod)
    c.integer("period_months", minimum=1, maximum=120)
    c.choice("timing", BillingTiming)
    c.text("usage_metric", max_len=60)
    c.choice("usage_aggregation", UsageAggregation)
    c.integer("sequence", minimum=0, maximum=1000, default=0)
    if "sku" in c.out:
        product = lookups.product(c.out["sku"])
        if product is None:
            c.problem("sku", "catalog.unknown_sku", f"there is no product with SKU '{c.out['sku']}'")
        else:
            c.out["product"] = product
        del c.out["sku"]
    kind = merged(c, existing, "kind")
    period = merged(c, existing, "billing_period")
    if kind == ChargeKind.RECURRING:
        if not period:
            c.problem("billing_period", "catalog.required", "a recurring charge needs a billing period")
        elif period == BillingPeriod.EVERY_N_MONTHS:
            if not merged(c, existing, "period_months"):
                c.problem("period_months", "catalog.required", "every_n_months needs period_months")
        else:
            c.out["period_months"] = PERIOD_MONTHS[BillingPeriod(period)]
        if not merged(c, existing, "timing"):
            c.out["timing"] = BillingTiming.IN_ADVANCE
    elif kind == ChargeKind.USAGE:
        if not merged(c, existing, "usage_metric"):
            c.problem("usage_metric", "catalog.required", "a usage charge needs a metric")
        if not merged(c, existing, "usage_aggregation"):
            c.problem("usage_aggregation", "catalog.required", "a usage charge needs an aggregation")
        if not period:
            c.out["billing_period"] = BillingPeriod.MONTH
            c.out["period_months"] = 1
        elif period != BillingPeriod.EVERY_N_MONTHS:
            c.out["period_months"] = PERIOD_MONTHS[BillingPeriod(period)]
        c.out["timing"] = BillingTiming.IN_ARREARS
    elif kind == ChargeKind.ONE_TIME:
        if period:
            c.problem("billing_period", "catalog.invalid", "a one-time charge has no billing period")
        c.out["billing_period"] = ""
        c.out["period_months"] = 0
        c.out["timing"] = ""
    if kind in (ChargeKind.ONE_TIME, ChargeKind.RECURRING):
        if merged(c, existing, "usage_metric") or merged(c, existing, "usage_aggregation"):
            c.problem(
                "usage_metric", "catalog.invalid", "only usage charges have a metric and an aggregation"
            )
        c.out["usage_metric"] = ""
        c.out["usage_aggregation"] = ""
    for key in ("billing_period", "timing", "usage_aggregation"):
        if key in c.out and c.out[key] is None:
            c.out[key] = ""
    if "period_months" in c.out and c.out["period_months"] is None:
        c.out["period_months"] = 0
    return c


def create_charge(data: Mapping[str, Any], *, actor: Any = None) -> Charge:
    c = clean_charge(data)
    c.raise_if_any()
    with transaction.atomic():
        product = c.out["product"]
        if Charge.objects.filter(product=product, code=c.out["code"]).exists():
            raise CatalogConflict(
                f"{product.sku} has a charge '{c.out['code']}' already",
                code="catalog.duplicate",
                field="code",
            )
        if product.type == ProductType.USAGE and c.out["kind"] != ChargeKind.USAGE:
            raise CatalogInvalid(
                "a usage product has usage charges only", code="catalog.invalid", field="kind"
            )
        charge = Charge.objects.create(**c.out)
        touch()
        record("charge_created", "charge", charge.pk, actor, sku=product.sku, code=charge.code)
    return charge


def update_charge(charge_id: int, data: Mapping[str, Any], *, actor: Any = None) -> Charge:
    with transaction.atomic():
        charge = _get(Charge.objects.select_for_update(of=("self",)).select_related("product"), charge_id, "charge")
        c = clean_charge(data, partial=True, existing=charge)
        c.raise_if_any()
        if "product" in c.out and c.out["product"].pk != charge.product_id:
            raise CatalogInvalid(
                "a charge cannot move to another product", code="catalog.immutable", field="sku"
            )
        if "code" in c.out and c.out["code"] != charge.code:
            raise CatalogInvalid("a charge's code cannot change", code="catalog.immutable", field="code")
        if "kind" in c.out and c.out["kind"] != charge.kind and charge.entries.exists():
            raise CatalogConflict(
                "the charge is priced; its kind cannot change", code="catalog.in_use", field="kind"
            )
        for key, value in c.out.items():
            setattr(charge, key, value)
        charge.save()
        touch()
        record("charge_updated", "charge", charge.pk, actor, fields=sorted(c.out))
    return charge


def delete_charge(charge_id: int, *, actor: Any = None) -> None:
    with transaction.atomic():
        charge = _get(Charge.objects.select_for_update(), charge_id, "charge")
        if charge.entries.exists():
            raise CatalogConflict("the charge has prices; delete them first", code="catalog.in_use")
        charge.delete()
        touch()
        record("charge_deleted", "charge", charge_id, actor)


def _get(qs: Any, pk: int, what: str) -> Any:
    row = qs.filter(pk=pk).first()
    if row is None:
        raise CatalogNotFound(f"no {what} with id {pk}", code=f"catalog.{what}_not_found")
    return row


def _delete(model: Any, pk: int, what: str, event: str, actor: Any) -> None:
    """Delete one catalog row that nothing guards (404 when absent): under its row lock, then
    change the revision and record ``catalog.<event>`` on aggregate ``catalog.<what>``."""
    with transaction.atomic():
        row = _get(model.objects.select_for_update(), pk, what)
        row.delete()
        touch()
        record(event, what, pk, actor)
