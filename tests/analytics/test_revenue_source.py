"""Recognised and deferred revenue read from the ledger, where invoicing posts billings into
deferred revenue and the revenue app's monthly recognition run moves them to revenue.

Hand-worked: a contract billed 1,200.00 into deferred revenue on 2027-01-01; the recognition runs
post 100.00 at the end of January and 100.00 at the end of February (Dr deferred revenue, Cr
revenue — subscriptions); a one-off service of 50.00 goes straight to revenue on 2027-02-10.
February: recognised 100.00 + 50.00 = 150.00; deferred at 02-28 = 1,200 − 200 = 1,000.00.
Q1 to 02-28: recognised 250.00. At 01-31: deferred 1,100.00.
"""

from __future__ import annotations

from datetime import date

import pytest

from q2c.analytics import queries
from q2c.core.money import Money
from q2c.ledger import services as ledger
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from tests.billing.world import at, seller

pytestmark = pytest.mark.django_db


def eur(text: str) -> Money:
    from decimal import Decimal

    return Money(Decimal(text), "EUR")


def post(entity_id: int, day: date, debit: str, credit: str, amount: str) -> None:
    ledger.post(
        EntryDraft(entity_id, day, f"{debit} / {credit}", SourceRef("manual", "test", f"{day}-{credit}"),
                   (DraftLine(debit, debit=eur(amount)), DraftLine(credit, credit=eur(amount)))),
        actor="test",
    )  # fmt: skip


def test_revenue_comes_from_the_revenue_and_deferred_revenue_accounts():
    at(date(2026, 12, 1))
    entity = seller()
    post(entity.pk, date(2027, 1, 1), "ar", "deferred_revenue", "1200.00")
    post(entity.pk, date(2027, 1, 31), "deferred_revenue", "revenue.subscriptions", "100.00")
    post(entity.pk, date(2027, 2, 10), "ar", "revenue.services", "50.00")
    post(entity.pk, date(2027, 2, 28), "deferred_revenue", "revenue.subscriptions", "100.00")
    feb = queries.kpis_json(queries.scope_from(date_from="2027-02-01", date_to="2027-02-28"))
    assert (feb["recognized_revenue"], feb["deferred_revenue"]) == ("150.00", "1000.00")
    jan = queries.kpis_json(
        queries.scope_from(date_from="2027-01-01", date_to="2027-01-31", entity=entity.pk)
    )
    assert (jan["recognized_revenue"], jan["deferred_revenue"]) == ("100.00", "1100.00")
    both = queries.kpis_json(queries.scope_from(date_from="2027-01-01", date_to="2027-02-28"))
    assert both["recognized_revenue"] == "250.00"
