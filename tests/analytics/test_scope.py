"""Which entity and currency a report covers when the caller names neither."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from q2c.analytics import queries
from tests.billing.world import at, seller

pytestmark = pytest.mark.django_db


def test_entities_in_one_currency_are_reported_together_in_it():
    at(date(2027, 4, 2))
    seller()
    seller(name="Acme Cloud Nord GmbH", tax_id="DE812651301")
    scope = queries.scope_from()
    assert (scope.entity_id, scope.currency) == (None, "EUR")
    assert (scope.start, scope.end) == (date(2026, 4, 3), date(2027, 4, 3))


def test_entities_in_different_currencies_default_to_the_first_in_its_own():
    at(date(2027, 4, 2))
    first = seller()
    seller(
        name="Acme Cloud Ltd",
        country="GB",
        base_currency="GBP",
        time_zone="Europe/London",
        tax_id="GB980780684",
    )
    assert queries.scope_from().entity_id == first.pk
    assert queries.scope_from(currency="EUR").entity_id is None  # a currency asked for: every entity


def test_the_table_output_names_every_figure():
    at(date(2027, 4, 2))
    seller()
    out = StringIO()
    call_command("kpis", "--from", "2027-01-01", "--to", "2027-03-31", stdout=out)
    text = out.getvalue()
    assert text.startswith("KPIs 2027-01-01 … 2027-03-31 in EUR")
    assert "ar_aging.1-30" in text and "quote_turnaround_days.created_to_sent.median" in text
