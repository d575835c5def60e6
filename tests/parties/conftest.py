"""Fixtures of the parties tests: the seller and customer of the Northwind scenario
(/work/shared/scenarios/northwind.md) and users holding one role each."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from q2c.parties import services

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
        # No password unless a test logs in with one: hashing it is the slowest part of a test.
        name = username or f"user_{role or 'none'}"
        user = get_user_model().objects.create_user(name, password=password)
        if role == "admin":
            user.is_staff = user.is_superuser = True
            user.save()
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_as(make_user: Any):
    """A test client calling the API with a bearer token of a new user holding ``role``."""
    from django.test import Client

    from q2c.platform.auth import ApiToken

    def make(role: str | None, username: str | None = None) -> Client:
        user = make_user(role, username)
        _, raw = ApiToken.issue(user, "tests")
        client = Client(headers={"Authorization": f"Bearer {raw}"})
        client.user = user  # type: ignore[attr-defined]
        client.token = raw  # type: ignore[attr-defined]
        return client

    return make
