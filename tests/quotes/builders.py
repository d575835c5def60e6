"""Set-up for the quotes tests through the public services of parties and catalog only.

The seller, customer and catalog are Acme Cloud and Northwind from
/work/shared/scenarios/northwind.md (Setup table): SEAT 30.00 per seat per month, ONB 5,000.00
once, EDGE 2,000.00 each, API usage in graduated tiers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from q2c.catalog import services as catalog
from q2c.parties import services as parties

ACME = {
    "name": "Acme Cloud GmbH",
    "address_line1": "Friedrichstraße 1",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "base_currency": "EUR",
    "time_zone": "Europe/Berlin",
    "tax_id": "DE136457858",
    "sepa_creditor_id": "DE98ZZZ09999999999",
    "payment_terms_days": 30,
}

NORTHWIND = {
    "name": "Northwind Handels GmbH",
    "billing_line1": "Jungfernstieg 1",
    "billing_postal_code": "20354",
    "billing_city": "Hamburg",
    "country": "DE",
    "tax_id": "DE812651301",
    "kind": "business",
    "invoice_email": "ap@northwind.example",
    "locale": "en",
}


def user(username: str, *roles: str, email: str | None = None, password: str | None = None) -> Any:
    person = get_user_model().objects.create_user(
        username, email=email if email is not None else f"{username}@acme.example", password=password
    )
    for role in roles:
        if role == "admin":
            person.is_staff = person.is_superuser = True
            person.save()
        person.groups.add(Group.objects.get_or_create(name=role)[0])
    return person


def seller() -> Any:
    return parties.create_entity(actor="test", **ACME)


def customer(**overrides: Any) -> Any:
    account = parties.create_account(actor="test", **{**NORTHWIND, **overrides})
    parties.create_contact(
        account.pk, actor="test", name="Nora North", email="nora@northwind.example", is_primary=True
    )
    return account


def ensure_units() -> None:
    """Units are seeded by a migration; a transactional test run before (PostgreSQL suite) flushes
    them, so builders make sure they are there."""
    from q2c.catalog.models import UnitOfMeasure

    for role in ("admin", "sales_rep", "sales_manager", "finance", "viewer"):
        Group.objects.get_or_create(name=role)  # the roles are seeded by a migration too
    for code in ("seat", "each", "device", "call"):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            catalog.create_unit({"code": code, "name": code.capitalize(), "divisible": False})


def northwind_catalog() -> None:
    """The four products of the Setup table in a EUR list price book."""
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
        {"sku": "SEAT", "code": "SUBSCRIPTION", "kind": "recurring", "billing_period": "month"}
    )
    catalog.create_price_entry(
        {
            "price_book": "EUR-LIST",
            "sku": "SEAT",
            "charge": "SUBSCRIPTION",
            "model": "per_unit",
            "price": "30.00",
        }
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
            "timing": "in_arrears",
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


#: Step 1 of the scenario: 50 SEAT at 15 % discount, 1 ONB, 2 EDGE, API usage.
NORTHWIND_LINES = [
    {"key": "L1", "sku": "SEAT", "quantity": "50", "discount": {"percent": "15"}},
    {"key": "L2", "sku": "ONB", "quantity": "1"},
    {"key": "L3", "sku": "EDGE", "quantity": "2"},
    {"key": "L4", "sku": "API"},
]


def reseed() -> None:
    """What the migrations seed, again: transactional tests empty every table after them."""
    from q2c.catalog.models import UnitOfMeasure
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalRule

    for code, name in (("seat", "Seat"), ("each", "Each"), ("call", "API call")):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            catalog.create_unit({"code": code, "name": name})
    catalog.set_discount_limit("sales_rep", "10")
    catalog.set_discount_limit("sales_manager", "25")
    if not ApprovalRule.objects.exists():
        quotes.save_rule(
            actor="test",
            name="Discount above the owner's role limit",
            kind="line_discount_over_role_limit",
            steps=[{"sequence": 1, "role": "sales_manager", "mode": "any"}],
        )
