"""Read side of the catalog: filtered lists and the JSON shape of each record.

Decimals are written as strings and dates as ISO text, so API answers never carry a float. Lists
prefetch what their records show (no query per row).

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from q2c.catalog.models import (
    BundleOption,
    Charge,
    ConfigurationRule,
    ContractedPrice,
    DiscountSchedule,
    ManualDiscountLimit,
    OptionGroup,
    PriceBook,
    PriceEntry,
    Product,
    Promotion,
    UnitOfMeasure,
)
from q2c.catalog.services.common import split_list


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _d(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# --- shapes --------------------------------------------------------------------------------


def unit_out(u: UnitOfMeasure) -> dict[str, Any]:
    return {"id": u.pk, "code": u.code, "name": u.name, "divisible": u.divisible}


def product_out(p: Product, *, show_cost: bool = True) -> dict[str, Any]:
    return {
        "id": p.pk,
        "sku": p.sku,
        "name": p.name,
        "description": p.description,
        "family": p.family,
        "type": p.type,
        "unit": p.unit.code,
        "divisible": p.unit.divisible,
        "tax_category": p.tax_category,
        "revenue_category": p.revenue_category,
        "revenue_rule": p.revenue_rule,
        "is_bundle": p.is_bundle,
        "cost": _s(p.cost) if show_cost else None,  # type: ignore[arg-type]
        "cost_currency": p.cost_currency if show_cost else "",
        "floor_price": _s(p.floor_price),  # type: ignore[arg-type]
        "floor_currency": p.floor_currency,
        "floor_enforcement": p.floor_enforcement,
        "active_from": _d(p.active_from),
        "active_to": _d(p.active_to),
        "ssp": [
            {
                "context": s.context,
                "method": s.method,
                "currency": s.currency,
                "amount": _s(s.amount),  # type: ignore[arg-type]
                "percent": _s(s.percent),  # type: ignore[arg-type]
                "low": _s(s.low),  # type: ignore[arg-type]
                "high": _s(s.high),  # type: ignore[arg-type]
            }
            for s in p.ssps.all()
        ],
        "charges": [{"id": c.pk, "code": c.code, "kind": c.kind} for c in p.charges.all()],
    }


def charge_out(c: Charge) -> dict[str, Any]:
    return {
        "id": c.pk,
        "product_id": c.product_id,
        "sku": c.product.sku,
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "billing_period": c.billing_period or None,
        "period_months": c.period_months,
        "timing": c.timing or None,
        "usage_metric": c.usage_metric,
        "usage_aggregation": c.usage_aggregation or None,
        "sequence": c.sequence,
    }


def price_book_out(b: PriceBook) -> dict[str, Any]:
    return {
        "id": b.pk,
        "code": b.code,
        "name": b.name,
        "currency": b.currency,
        "segment": b.segment,
        "region": b.region,
        "parent": b.parent.code if b.parent else None,
        "valid_from": _d(b.valid_from),
        "valid_to": _d(b.valid_to),
        "is_active": b.is_active,
    }


def price_entry_out(e: PriceEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "price_book": e.price_book.code,
        "currency": e.price_book.currency,
        "sku": e.charge.product.sku,
        "charge": e.charge.code,
        "model": e.model,
        "price": _s(e.price),  # type: ignore[arg-type]
        "list_unit_price": _s(e.list_unit_price),  # type: ignore[arg-type]
        "block_size": _s(e.block_size),  # type: ignore[arg-type]
        "percent": _s(e.percent),  # type: ignore[arg-type]
        "percent_of_skus": split_list(e.percent_of_skus),
        "percent_of_families": split_list(e.percent_of_families),
        "minimum": _s(e.minimum),  # type: ignore[arg-type]
        "maximum": _s(e.maximum),  # type: ignore[arg-type]
        "floor_price": _s(e.floor_price),  # type: ignore[arg-type]
        "valid_from": _d(e.valid_from),
        "valid_to": _d(e.valid_to),
        "tiers": [
            {
                "lower": _s(t.lower),  # type: ignore[arg-type]
                "upper": _s(t.upper),  # type: ignore[arg-type]
                "unit_price": _s(t.unit_price),  # type: ignore[arg-type]
                "flat_fee": _s(t.flat_fee),  # type: ignore[arg-type]
            }
            for t in e.tiers.all()
        ],
    }


def contracted_price_out(c: ContractedPrice) -> dict[str, Any]:
    return {
        "id": c.pk,
        "account_id": c.account_id,
        "sku": c.charge.product.sku,
        "charge": c.charge.code,
        "currency": c.currency,
        "unit_price": _s(c.unit_price),  # type: ignore[arg-type]
        "discount_percent": _s(c.discount_percent),  # type: ignore[arg-type]
        "valid_from": _d(c.valid_from),
        "valid_to": _d(c.valid_to),
    }


def schedule_out(s: DiscountSchedule) -> dict[str, Any]:
    return {
        "id": s.pk,
        "code": s.code,
        "name": s.name,
        "kind": s.kind,
        "products": sorted(p.sku for p in s.products.all()),
        "families": split_list(s.families),
        "is_active": s.is_active,
        "tiers": [
            {"threshold": _s(t.threshold), "percent": _s(t.percent)}  # type: ignore[arg-type]
            for t in sorted(s.tiers.all(), key=lambda t: Decimal(t.threshold))
        ],
    }


def promotion_out(p: Promotion) -> dict[str, Any]:
    return {
        "id": p.pk,
        "code": p.code,
        "name": p.name,
        "percent": _s(p.percent),  # type: ignore[arg-type]
        "amount": _s(p.amount),  # type: ignore[arg-type]
        "currency": p.currency,
        "valid_from": _d(p.valid_from),
        "valid_to": _d(p.valid_to),
        "automatic": p.automatic,
        "min_quantity": _s(p.min_quantity),  # type: ignore[arg-type]
        "products": sorted(x.sku for x in p.products.all()),
        "families": split_list(p.families),
        "sale_contexts": split_list(p.sale_contexts),
        "is_active": p.is_active,
    }


def option_out(o: BundleOption) -> dict[str, Any]:
    return {
        "id": o.pk,
        "group_id": o.group_id,
        "sku": o.product.sku,
        "selection": o.selection,
        "min_qty": _s(o.min_qty),  # type: ignore[arg-type]
        "max_qty": _s(o.max_qty),  # type: ignore[arg-type]
        "qty_tied_to_parent": o.qty_tied_to_parent,
        "qty_ratio": _s(o.qty_ratio),  # type: ignore[arg-type]
        "included_in_price": o.included_in_price,
        "sequence": o.sequence,
    }


def option_group_out(g: OptionGroup) -> dict[str, Any]:
    return {
        "id": g.pk,
        "bundle": g.bundle.sku,
        "code": g.code,
        "name": g.name,
        "min_options": g.min_options,
        "max_options": g.max_options,
        "sequence": g.sequence,
        "options": [option_out(o) for o in g.options.all()],
    }


def rule_out(r: ConfigurationRule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "code": r.code,
        "name": r.name,
        "kind": r.kind,
        "bundle": r.bundle.sku if r.bundle else None,
        "source": r.source.sku if r.source else None,
        "target": r.target.sku,
        "per_quantity": _s(r.per_quantity),  # type: ignore[arg-type]
        "target_quantity": _s(r.target_quantity),  # type: ignore[arg-type]
        "attribute": r.attribute,
        "operator": r.operator,
        "values": split_list(r.values),
        "action": r.action,
        "message": r.message,
        "is_active": r.is_active,
    }


def limit_out(row: ManualDiscountLimit) -> dict[str, Any]:
    return {"role": row.role, "max_percent": str(row.max_percent)}


# --- lists ---------------------------------------------------------------------------------


def units(filters: Mapping[str, Any]) -> QuerySet[UnitOfMeasure]:
    return UnitOfMeasure.objects.order_by("code")


def products(filters: Mapping[str, Any]) -> QuerySet[Product]:
    qs = Product.objects.select_related("unit").prefetch_related("ssps", "charges").order_by("sku")
    if q := filters.get("q"):
        qs = qs.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q))
    if family := filters.get("family"):
        qs = qs.filter(family=family)
    if kind := filters.get("type"):
        qs = qs.filter(type=kind)
    if (bundle := filters.get("is_bundle")) is not None:
        qs = qs.filter(is_bundle=bundle)
    if day := filters.get("active_on"):
        qs = qs.filter(Q(active_from__isnull=True) | Q(active_from__lte=day)).filter(
            Q(active_to__isnull=True) | Q(active_to__gt=day)
        )
    return qs


def charges(filters: Mapping[str, Any]) -> QuerySet[Charge]:
    qs = Charge.objects.select_related("product").order_by("product__sku", "sequence", "code")
    if sku := filters.get("sku"):
        qs = qs.filter(product__sku=sku)
    if kind := filters.get("kind"):
        qs = qs.filter(kind=kind)
    return qs


def price_books(filters: Mapping[str, Any]) -> QuerySet[PriceBook]:
    qs = PriceBook.objects.select_related("parent").order_by("code")
    if currency := filters.get("currency"):
        qs = qs.filter(currency=currency.upper())
    return qs


def price_entries(filters: Mapping[str, Any]) -> QuerySet[PriceEntry]:
    qs = (
        PriceEntry.objects.select_related("price_book", "charge__product")
        .prefetch_related("tiers")
        .order_by("price_book__code", "charge__product__sku", "charge__code", "valid_from")
    )
    if book := filters.get("price_book"):
        qs = qs.filter(price_book__code=book)
    if sku := filters.get("sku"):
        qs = qs.filter(charge__product__sku=sku)
    return qs


def contracted_prices(filters: Mapping[str, Any]) -> QuerySet[ContractedPrice]:
    qs = ContractedPrice.objects.select_related("charge__product").order_by("account_id", "id")
    if account := filters.get("account_id"):
        qs = qs.filter(account_id=account)
    if sku := filters.get("sku"):
        qs = qs.filter(charge__product__sku=sku)
    return qs


def schedules(filters: Mapping[str, Any]) -> QuerySet[DiscountSchedule]:
    return DiscountSchedule.objects.prefetch_related("products", "tiers").order_by("code")


def promotions(filters: Mapping[str, Any]) -> QuerySet[Promotion]:
    qs = Promotion.objects.prefetch_related("products").order_by("code")
    if code := filters.get("code"):
        qs = qs.filter(code=code.upper())
    return qs


def option_groups(filters: Mapping[str, Any]) -> QuerySet[OptionGroup]:
    qs = (
        OptionGroup.objects.select_related("bundle")
        .prefetch_related("options__product")
        .order_by("bundle__sku", "sequence", "code")
    )
    if bundle := filters.get("bundle"):
        qs = qs.filter(bundle__sku=bundle)
    return qs


def options(filters: Mapping[str, Any]) -> QuerySet[BundleOption]:
    qs = BundleOption.objects.select_related("product", "group").order_by("group_id", "sequence", "id")
    if group := filters.get("group_id"):
        qs = qs.filter(group_id=group)
    return qs


def rules(filters: Mapping[str, Any]) -> QuerySet[ConfigurationRule]:
    qs = ConfigurationRule.objects.select_related("bundle", "source", "target").order_by("code")
    if bundle := filters.get("bundle"):
        qs = qs.filter(bundle__sku=bundle)
    return qs


def discount_limits() -> list[dict[str, Any]]:
    return [limit_out(r) for r in ManualDiscountLimit.objects.order_by("role")]
