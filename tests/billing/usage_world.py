"""Usage fixtures: Acme Cloud GmbH (Europe/Berlin), Northwind, the API product with Northwind's
graduated tiers (../shared/scenarios/northwind.md: 0–100,000 at 0.00; 100,001–1,000,000 at 0.002;
above at 0.001), and a contract with an API usage line from 2027-02-01 — through public services.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

from q2c.billing import services
from q2c.billing.models import Schedule
from q2c.billing.services import ContractHead, LineIn

BERLIN = ZoneInfo("Europe/Berlin")
NORTHWIND_TIERS = [
    {"lower": "0", "upper": "100000", "unit_price": "0"},
    {"lower": "100000", "upper": "1000000", "unit_price": "0.002"},
    {"lower": "1000000", "unit_price": "0.001"},
]


def catalog(
    sku: str = "API",
    charge: str = "CALLS",
    metric: str = "api_calls",
    aggregation: str = "sum",
    model: dict[str, Any] | None = None,
    book: str = "EUR-LIST",
) -> None:
    from q2c.catalog import services as cat
    from q2c.catalog.models import PriceBook, UnitOfMeasure

    if not UnitOfMeasure.objects.filter(code="call").exists():
        cat.create_unit({"code": "call", "name": "Call", "divisible": False})
    cat.create_product({"sku": sku, "name": f"{sku} usage", "type": "usage", "unit": "call"})
    cat.create_charge(
        {
            "sku": sku,
            "code": charge,
            "kind": "usage",
            "usage_metric": metric,
            "usage_aggregation": aggregation,
        }
    )
    if not PriceBook.objects.filter(code=book).exists():
        cat.create_price_book({"code": book, "name": "List", "currency": "EUR"})
    cat.create_price_entry(
        {
            "price_book": book,
            "sku": sku,
            "charge": charge,
            **(model or {"model": "tiered", "tiers": NORTHWIND_TIERS}),
        }
    )


def usage_contract(
    acme: Any, acct: Any, *, contract_id: int = 1, sku: str = "API", charge: str = "CALLS", key: str = "4",
    start: date = date(2027, 2, 1), end: date = date(2028, 2, 1),
) -> Schedule:  # fmt: skip
    head = ContractHead(contract_id, f"CON-{contract_id}", acme.pk, acct.pk, "EUR", start, end)
    line = LineIn(key, sku, "usage", D(0), None, start, end, name="API calls", charge=charge,
                  tax_category="digital_service", revenue_category="usage")  # fmt: skip
    services.create_schedules(head, [line])
    return Schedule.objects.get(contract_id=contract_id, line_key=key)


def at_berlin(day: date, hour: int = 12, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).isoformat()


def event(
    eid: str, sub: int, quantity: Any, ts: str, metric: str = "api_calls", **extra: Any
) -> dict[str, Any]:
    return {
        "id": eid,
        "subscription_id": sub,
        "metric": metric,
        "quantity": quantity,
        "timestamp": ts,
        **extra,
    }


def northwind_usage_world() -> tuple[Any, Any, Any, Schedule]:
    """The clock on 2027-03-01, the seller, Northwind, the catalog and Northwind's API usage
    subscription: (clock, seller, customer, subscription)."""
    from tests.billing.world import at, customer, seller

    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    catalog()
    return clk, acme, northwind, usage_contract(acme, northwind)
