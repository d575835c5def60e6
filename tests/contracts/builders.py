"""Set-up for the contracts tests through the public services of parties, catalog and quotes.

Seller, customer and catalog are Acme Cloud and Northwind from
/work/shared/scenarios/northwind.md (Setup table): SEAT 30.00 per seat per month (SSP 30.00 new,
25.50 add-on), ONB 5,000.00 once (SSP 4,000.00), EDGE 2,000.00 each, API usage in graduated tiers
(0–100,000: 0.00; 100,001–1,000,000: 0.002; above: 0.001). Users, seller and customer are the
quotes tests' builders (re-exported here); the catalog differs (charge codes, timing, tax category).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.catalog import services as catalog
from q2c.contracts import services
from q2c.contracts.services import NewContract, NewContractLine
from tests.quotes.builders import customer as customer
from tests.quotes.builders import ensure_units
from tests.quotes.builders import seller as seller
from tests.quotes.builders import user as user

#: Step 1 of northwind.md: 50 SEAT at 15 % discount, 1 ONB, 2 EDGE, API usage.
NORTHWIND_QUOTE_LINES = [
    {"key": "1", "sku": "SEAT", "quantity": "50", "discount": {"percent": "15"}},
    {"key": "2", "sku": "ONB", "quantity": "1"},
    {"key": "3", "sku": "EDGE", "quantity": "2"},
    {"key": "4", "sku": "API"},
]


def northwind_catalog() -> None:
    ensure_units()
    catalog.create_price_book({"code": "EUR-LIST", "name": "List prices EUR", "currency": "EUR"})
    catalog.create_product(
        {
            "sku": "SEAT",
            "name": "Platform seat",
            "type": "subscription",
            "unit": "seat",
            "revenue_category": "subscriptions",
            "revenue_rule": "ratable",
            "ssp": [
                {"context": "new", "method": "fixed", "currency": "EUR", "amount": "30.00"},
                {"context": "add_on", "method": "fixed", "currency": "EUR", "amount": "25.50"},
            ],
        }
    )
    catalog.create_charge(
        {"sku": "SEAT", "code": "SUB", "kind": "recurring", "billing_period": "month", "timing": "in_advance"}
    )
    catalog.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "SEAT", "charge": "SUB", "model": "per_unit", "price": "30.00"}
    )
    catalog.create_product(
        {
            "sku": "ONB",
            "name": "Onboarding",
            "type": "service",
            "unit": "each",
            "revenue_category": "services",
            "ssp": [{"context": "new", "method": "fixed", "currency": "EUR", "amount": "4000.00"}],
        }
    )
    catalog.create_charge({"sku": "ONB", "code": "FEE", "kind": "one_time"})
    catalog.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "ONB", "charge": "FEE", "model": "per_unit", "price": "5000.00"}
    )
    catalog.create_product(
        {
            "sku": "EDGE",
            "name": "Edge appliance",
            "type": "good",
            "unit": "each",
            "tax_category": "goods",
            "revenue_category": "hardware",
            "ssp": [{"context": "new", "method": "fixed", "currency": "EUR", "amount": "2000.00"}],
        }
    )
    catalog.create_charge({"sku": "EDGE", "code": "UNIT", "kind": "one_time"})
    catalog.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "EDGE", "charge": "UNIT", "model": "per_unit", "price": "2000.00"}
    )
    catalog.create_product(
        {
            "sku": "API",
            "name": "API calls",
            "type": "usage",
            "unit": "call",
            "revenue_category": "usage",
            "revenue_rule": "as_used",
        }
    )
    catalog.create_charge(
        {
            "sku": "API",
            "code": "CALLS",
            "kind": "usage",
            "billing_period": "month",
            "usage_metric": "api_calls",
            "usage_aggregation": "sum",
        }
    )
    catalog.create_price_entry(
        {
            "price_book": "EUR-LIST",
            "sku": "API",
            "charge": "CALLS",
            "model": "tiered",
            "tiers": [
                {"lower": "0", "upper": "100000", "unit_price": "0.00"},
                {"lower": "100000", "upper": "1000000", "unit_price": "0.002"},
                {"lower": "1000000", "unit_price": "0.001"},
            ],
        }
    )


RATE_CARD = (
    {"lower": "0", "upper": "100000", "unit_price": "0.00", "flat_fee": "0"},
    {"lower": "100000", "upper": "1000000", "unit_price": "0.002", "flat_fee": "0"},
    {"lower": "1000000", "upper": None, "unit_price": "0.001", "flat_fee": "0"},
)


def northwind_lines() -> list[NewContractLine]:
    """C-1's lines as plain input (no quote): 50 SEAT at 25.50 a month, 1 ONB at 5,000.00,
    2 EDGE at 2,000.00, API usage."""
    return [
        NewContractLine(
            sku="SEAT",
            charge="SUB",
            charge_kind="recurring",
            quantity=Decimal(50),
            unit_price=Decimal("25.50"),
            period_months=1,
            name="Platform seat",
            revenue_rule="ratable",
            ssp_unit=Decimal("30.00"),
            timing="in_advance",
        ),
        NewContractLine(
            sku="ONB",
            charge="FEE",
            charge_kind="one_time",
            quantity=Decimal(1),
            unit_price=Decimal("5000.00"),
            name="Onboarding",
        ),
        NewContractLine(
            sku="EDGE",
            charge="UNIT",
            charge_kind="one_time",
            quantity=Decimal(2),
            unit_price=Decimal("2000.00"),
            name="Edge appliance",
        ),
        NewContractLine(
            sku="API",
            charge="CALLS",
            charge_kind="usage",
            quantity=Decimal(0),
            name="API calls",
            rate_card=RATE_CARD,
        ),
    ]


def new_contract(entity: Any, account: Any, **overrides: Any) -> NewContract:
    values: dict[str, Any] = {
        "entity_id": entity.pk,
        "account_id": account.pk,
        "currency": "EUR",
        "start_date": date(2027, 2, 1),
        "term_months": 12,
        "lines": northwind_lines(),
        "billing_day": 1,
    }
    values.update(overrides)
    return NewContract(**values)


def active_contract(entity: Any, account: Any, **overrides: Any) -> Any:
    """C-1 made active without a quote (activated as an auto-renewal would be)."""
    return services.create_contract(
        new_contract(entity, account, activate_unsigned=True, **overrides), actor="test"
    )


def accept_northwind_quote(
    world: dict[str, Any], on_day: Any, *, lines: list[dict[str, Any]] | None = None, **header: Any
) -> Any:
    """Steps 1 and 2 of northwind.md through the quotes app: Rita quotes on 2027-01-10, Max
    approves on 01-11, Rita sends on 01-12, Northwind accepts on 01-20. Returns the quote."""
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalStep

    on_day(date(2027, 1, 10))
    opp = quotes.create_opportunity(
        actor=world["rita"], account_id=world["account"].pk, name="Northwind platform"
    )
    values = {"start_date": date(2027, 2, 1), "term_months": 12, **header}
    quote = quotes.create_quote(
        actor=world["rita"],
        opportunity_id=opp.pk,
        lines=lines if lines is not None else NORTHWIND_QUOTE_LINES,
        **values,
    )
    quote = quotes.submit_quote(quote.pk, actor=world["rita"])
    on_day(date(2027, 1, 11))
    for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    on_day(date(2027, 1, 12))
    sent = quotes.send_quote(quote.pk, actor=world["rita"])
    on_day(date(2027, 1, 20))
    quotes.accept_quote(
        sent.token,
        signer_name="Nora North",
        signer_title="CFO",
        agree=True,
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (test)",
    )
    return quote
