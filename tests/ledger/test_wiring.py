"""The composition root joins the ledger to its sibling parties: setting up a legal entity opens
its ledger book, in the entity's base currency and rounding, with the template chart."""

import pytest

from q2c.ledger import accounts, queries
from q2c.parties import services as parties

pytestmark = pytest.mark.django_db

ACME = {
    "name": "Acme Cloud GmbH",
    "address_line1": "Friedrichstraße 1",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "base_currency": "EUR",
    "time_zone": "Europe/Berlin",
    "rounding_mode": "half_even",
}


def test_a_new_legal_entity_gets_its_ledger_book():
    entity = parties.create_entity(actor="ada", **ACME)
    book = queries.book(entity.pk)
    assert (book.currency, book.rounding, book.name) == ("EUR", "half_even", "Acme Cloud GmbH")
    assert accounts.by_key(entity.pk, "ar").code == "1200"
