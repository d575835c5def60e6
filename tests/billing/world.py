"""Builders shared by the billing and invoicing tests: Acme Cloud GmbH and its customers from
../shared/scenarios/northwind.md (Setup), made through the parties app's public services; the
business clock; users holding one role each.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core import clock

ACME = {
    "name": "Acme Cloud GmbH",
    "address_line1": "Friedrichstraße 100",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "base_currency": "EUR",
    "time_zone": "Europe/Berlin",
    "tax_id": "DE136457858",
    "sepa_creditor_id": "DE98ZZZ09999999999",
    "email": "billing@acme.example",
    "payment_terms_days": 30,
}
NORTHWIND = {
    "name": "Northwind Handels GmbH",
    "billing_line1": "Am Sandtorkai 50",
    "billing_postal_code": "20457",
    "billing_city": "Hamburg",
    "country": "DE",
    "currency": "EUR",
    "tax_id": "DE812651301",
    "kind": "business",
    "invoice_email": "ap@northwind.example",
}
FABRIKAM = {
    "name": "Fabrikam SARL",
    "billing_line1": "12 rue de la République",
    "billing_postal_code": "69002",
    "billing_city": "Lyon",
    "country": "FR",
    "currency": "EUR",
    "tax_id": "FR40303265045",
    "kind": "business",
    "invoice_email": "compta@fabrikam.example",
}
CONTOSO = {
    "name": "Contoso Inc.",
    "billing_line1": "500 Fifth Avenue",
    "billing_postal_code": "10110",
    "billing_city": "New York",
    "billing_region": "NY",
    "country": "US",
    "currency": "USD",
    "kind": "business",
    "invoice_email": "ap@contoso.example",
}


def at(day: date) -> clock.SimulationClock:
    """Install a business clock on ``day`` (09:00 Berlin); move it with ``.set``."""
    sim = clock.SimulationClock(day, default_tz="Europe/Berlin")
    clock.install(sim)
    return sim


def seller(**overrides: Any) -> Any:
    from q2c.parties import services as parties

    entity = parties.create_entity(actor="test", **{**ACME, **overrides})
    parties.add_bank_account(
        entity.pk, actor="test", iban="DE89370400440532013000", bic="COBADEFFXXX", currency="EUR"
    )
    return entity


def customer(entity: Any, data: dict[str, Any] | None = None, **overrides: Any) -> Any:
    from q2c.parties import services as parties

    return parties.create_account(actor="test", entity_id=entity.pk, **{**(data or NORTHWIND), **overrides})


def draft_lines(*specs: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    """``(description, quantity, unit price, tax category)`` → draft line dicts."""
    return [
        {
            "description": d,
            "quantity": Decimal(q),
            "unit_price": Decimal(p),
            "tax_category": c,
            "revenue_category": "services",
        }
        for d, q, p, c in specs
    ]


def user(role: str, name: str | None = None) -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    person = get_user_model().objects.create_user(name or f"billing_{role}")
    if role == "admin":
        person.is_staff = person.is_superuser = True
        person.save()
    person.groups.add(Group.objects.get(name=role))
    return person
