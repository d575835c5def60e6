"""Fixtures of the orders tests: Acme Cloud and Northwind (../shared/scenarios/northwind.md), the
four products of that story in the catalog, users holding one role each, API clients, and a
helper that builds an order input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from q2c.orders.domain import NewOrder, NewOrderLine, OrderType
from tests.users import role_user, token_client

ACME = {
    "name": "Acme Cloud GmbH",
    "address_line1": "Friedrichstraße 1",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "base_currency": "EUR",
    "time_zone": "Europe/Berlin",
    "tax_id": "DE136457858",
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
}


@pytest.fixture
def acme(db: Any):
    from q2c.parties import services

    return services.create_entity(actor="test", **ACME)


@pytest.fixture
def northwind(acme: Any):
    from q2c.parties import services

    return services.create_account(actor="test", **NORTHWIND)


@pytest.fixture
def products(db: Any) -> dict[str, Any]:
    """SEAT (subscription), ONB (one-time service), EDGE (good), API (usage), as in the story's
    Setup table, plus a second good (RACK) for tests that need two."""
    from q2c.catalog import services
    from q2c.catalog.models import UnitOfMeasure

    # Transactional tests (threads, the browser) empty the tables the catalog's migration seeded.
    for code, divisible in (
        ("seat", False),
        ("each", False),
        ("device", False),
        ("call", False),
        ("hour", True),
    ):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            services.create_unit({"code": code, "name": code.capitalize(), "divisible": divisible})
    made = {}
    for sku, name, kind, unit in (
        ("SEAT", "Platform seat", "subscription", "seat"),
        ("ONB", "Onboarding", "service", "each"),
        ("EDGE", "Edge appliance", "good", "device"),
        ("API", "API calls", "usage", "call"),
        ("RACK", "Rack kit", "good", "each"),
        ("FIBRE", "Fibre cable", "good", "hour"),  # a divisible unit (the seeded units have no metre)
    ):
        made[sku] = services.create_product({"sku": sku, "name": name, "type": kind, "unit": unit})
    return made


@pytest.fixture
def make_user(db: Any):
    def make(role: str | None, username: str | None = None, password: str | None = None) -> Any:
        return role_user(role, username or f"orders_{role or 'none'}", password)

    return make


@pytest.fixture
def api_as(make_user: Any):
    """A test client calling the API with the bearer token of a new user holding ``role``."""

    def make(role: str | None, username: str | None = None) -> Client:
        return token_client(make_user(role, username))

    return make


@pytest.fixture
def new_order(acme: Any, northwind: Any, products: Any) -> Callable[..., NewOrder]:
    def make(*lines: NewOrderLine, type: str = "new", **extra: Any) -> NewOrder:
        return NewOrder(
            entity_id=acme.pk, account_id=northwind.pk, type=OrderType(type), lines=list(lines), **extra
        )

    return make
