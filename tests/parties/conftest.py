"""Fixtures of the parties tests: the seller and customer of the Northwind scenario
(/work/shared/scenarios/northwind.md) and users holding one role each."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from q2c.parties import services
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
    "locale": "de-DE",
}


@pytest.fixture
def acme(db: Any):
    return services.create_entity(actor="test", **ACME)


@pytest.fixture
def northwind(acme: Any):
    return services.create_account(actor="test", **NORTHWIND)


@pytest.fixture
def make_user(db: Any):
    def make(role: str | None, username: str | None = None, password: str | None = None) -> Any:
        return role_user(role, username or f"user_{role or 'none'}", password)

    return make


@pytest.fixture
def api_as(make_user: Any):
    """A test client calling the API with the bearer token of a new user holding ``role``."""

    def make(role: str | None, username: str | None = None) -> Client:
        return token_client(make_user(role, username))

    return make
