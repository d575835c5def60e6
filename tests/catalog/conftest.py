"""Fixtures of the catalog tests: users holding one role each, API clients with a bearer token,
and Acme Cloud's catalog of ../shared/scenarios/northwind.md built through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from q2c.catalog import services
from tests.users import role_user, token_client


@pytest.fixture(autouse=True)
def _fresh_snapshot_cache():
    # Each test builds its own catalog inside a rolled-back transaction; a snapshot cached by
    # another test must never be served.
    services.clear_cache()
    yield
    services.clear_cache()


@pytest.fixture
def make_user(db: Any):
    def make(role: str | None, username: str | None = None, password: str | None = None) -> Any:
        return role_user(role, username or f"catalog_{role or 'none'}", password)

    return make


@pytest.fixture
def api_as(make_user: Any):
    """A test client calling the API with the bearer token of a new user holding ``role``."""

    def make(role: str | None, username: str | None = None) -> Client:
        return token_client(make_user(role, username))

    return make


def build_northwind_catalog() -> None:
    """The Setup table of northwind.md: SEAT, ONB, EDGE, API in price book EUR-LIST."""
    seat = services.create_product(
        {
            "sku": "SEAT",
            "name": "Platform seat",
            "type": "subscription",
            "unit": "seat",
            "revenue_category": "subscriptions",
            "revenue_rule": "ratable",
            "ssp": [
                {"context": "new", "method": "fixed", "amount": "30.00", "currency": "EUR"},
                {"context": "add_on", "method": "fixed", "amount": "25.50", "currency": "EUR"},
            ],
        }
    )
    services.create_charge(
        {
            "sku": seat.sku,
            "code": "SUB",
            "kind": "recurring",
            "billing_period": "month",
            "timing": "in_advance",
        }
    )
    services.create_product(
        {
            "sku": "ONB",
            "name": "Onboarding",
            "type": "service",
            "unit": "each",
            "revenue_category": "services",
            "ssp": [{"context": "new", "method": "fixed", "amount": "4000.00", "currency": "EUR"}],
        }
    )
    services.create_charge({"sku": "ONB", "code": "FEE", "kind": "one_time"})
    services.create_product(
        {
            "sku": "EDGE",
            "name": "Edge appliance",
            "type": "good",
            "unit": "device",
            "tax_category": "goods",
            "revenue_category": "hardware",
            "ssp": [{"context": "new", "method": "fixed", "amount": "2000.00", "currency": "EUR"}],
        }
    )
    services.create_charge({"sku": "EDGE", "code": "UNIT", "kind": "one_time"})
    services.create_product(
        {
            "sku": "API",
            "name": "API calls",
            "type": "usage",
            "unit": "call",
            "revenue_category": "usage",
            "revenue_rule": "as_used",
        }
    )
    services.create_charge(
        {
            "sku": "API",
            "code": "CALLS",
            "kind": "usage",
            "usage_metric": "api_calls",
            "usage_aggregation": "sum",
        }
    )
    services.create_price_book({"code": "EUR-LIST", "name": "List prices EUR", "currency": "EUR"})
    services.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "SEAT", "charge": "SUB", "model": "per_unit", "price": "30.00"}
    )
    services.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "ONB", "charge": "FEE", "model": "per_unit", "price": "5000.00"}
    )
    services.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "EDGE", "charge": "UNIT", "model": "per_unit", "price": "2000.00"}
    )
    services.create_price_entry(
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


@pytest.fixture
def northwind_catalog(db: Any) -> None:
    build_northwind_catalog()
