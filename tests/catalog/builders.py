"""Hand-built catalog snapshots for the pure engine tests (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from q2c.catalog.pricing import (
    CatalogSnapshot,
    Charge,
    PriceModel,
    PriceModelKind,
    Product,
    Tier,
    parse_request,
)
from q2c.catalog.pricing.types import (
    BillingPeriod,
    BillingTiming,
    ChargeKind,
    ProductType,
    RevenueRule,
    SaleContext,
    Ssp,
    SspMethod,
    UsageAggregation,
)

_ids = iter(range(1, 1_000_000))


def per_unit(price: str, **kw: Any) -> PriceModel:
    return PriceModel(PriceModelKind.PER_UNIT, price=D(price), **kw)


def tiers(*rows: tuple[str, str | None, str]) -> tuple[Tier, ...]:
    return tuple(Tier(D(lo), None if hi is None else D(hi), D(p)) for lo, hi, p in rows)


def one_time(model: PriceModel, code: str = "ONE", **kw: Any) -> Charge:
    return Charge(next(_ids), code, code.title(), ChargeKind.ONE_TIME, model, entry_id=next(_ids), **kw)


def monthly(model: PriceModel, code: str = "MONTHLY", months: int = 1, **kw: Any) -> Charge:
    period = {
        1: BillingPeriod.MONTH,
        3: BillingPeriod.QUARTER,
        6: BillingPeriod.HALF_YEAR,
        12: BillingPeriod.YEAR,
    }.get(months, BillingPeriod.EVERY_N_MONTHS)
    return Charge(
        next(_ids),
        code,
        code.title(),
        ChargeKind.RECURRING,
        model,
        billing_period=period,
        period_months=months,
        timing=BillingTiming.IN_ADVANCE,
        entry_id=next(_ids),
        **kw,
    )


def usage(model: PriceModel, metric: str = "api_calls", code: str = "USAGE") -> Charge:
    return Charge(
        next(_ids),
        code,
        code.title(),
        ChargeKind.USAGE,
        model,
        billing_period=BillingPeriod.MONTH,
        period_months=1,
        timing=BillingTiming.IN_ARREARS,
        usage_metric=metric,
        usage_aggregation=UsageAggregation.SUM,
        entry_id=next(_ids),
    )


def product(sku: str, *charges: Charge, type: ProductType = ProductType.SERVICE, **kw: Any) -> Product:
    kw.setdefault("name", sku.title())
    return Product(next(_ids), sku, type=type, charges=charges, **kw)


def snapshot(*products: Product, **kw: Any) -> CatalogSnapshot:
    kw.setdefault("price_book", "EUR-LIST")
    kw.setdefault("currency", "EUR")
    kw.setdefault("as_of", date(2027, 1, 10))
    return CatalogSnapshot(products={p.sku: p for p in products}, **kw)


def request(data: dict[str, Any], today: date = date(2027, 1, 10), **extra: Any):
    from dataclasses import replace

    data.setdefault("currency", "EUR")
    parsed = parse_request(data, today=today)
    return replace(parsed, **extra) if extra else parsed


def northwind() -> CatalogSnapshot:
    """Acme Cloud's catalog as ../shared/scenarios/northwind.md states it (Setup table)."""
    seat = product(
        "SEAT",
        monthly(per_unit("30.00"), code="SUBSCRIPTION"),
        type=ProductType.SUBSCRIPTION,
        name="Platform seat",
        uom="seat",
        revenue_category="subscriptions",
        revenue_rule=RevenueRule.RATABLE,
        ssp={
            SaleContext.NEW: Ssp(SspMethod.FIXED, amount=D("30.00")),
            SaleContext.ADD_ON: Ssp(SspMethod.FIXED, amount=D("25.50")),
        },
    )
    onb = product(
        "ONB",
        one_time(per_unit("5000.00"), code="FEE"),
        name="Onboarding",
        revenue_category="services",
        ssp={SaleContext.NEW: Ssp(SspMethod.FIXED, amount=D("4000.00"))},
    )
    edge = product(
        "EDGE",
        one_time(per_unit("2000.00"), code="UNIT"),
        type=ProductType.GOOD,
        name="Edge appliance",
        revenue_category="hardware",
        tax_category="goods",
        ssp={SaleContext.NEW: Ssp(SspMethod.FIXED, amount=D("2000.00"))},
    )
    api = product(
        "API",
        usage(
            PriceModel(
                PriceModelKind.TIERED,
                tiers=tiers(
                    ("0", "100000", "0.00"), ("100000", "1000000", "0.002"), ("1000000", None, "0.001")
                ),
            ),
            code="CALLS",
        ),
        type=ProductType.USAGE,
        name="API calls",
        uom="call",
        revenue_category="usage",
        revenue_rule=RevenueRule.AS_USED,
    )
    return snapshot(seat, onb, edge, api)
