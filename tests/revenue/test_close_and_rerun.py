"""Closing a month and rerunning it: the checks judge the entity being closed, a rerun after the
next month's billing does not reclassify the contract asset again, and a contract in another
currency than the book's is recognised (converted), so a close finds nothing unposted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from q2c.core import clock
from q2c.core.errors import InvalidTransition
from q2c.ledger import queries as ledger_queries
from q2c.ledger.models import JournalEntry
from q2c.platform.registry import Check, checks
from q2c.revenue import run as revenue_run
from q2c.revenue import services
from q2c.revenue.models import ContractAsset, Obligation

pytestmark = pytest.mark.django_db

ENTITY = {
    "name": "Acme Cloud GmbH", "address_line1": "Friedrichstraße 100", "postal_code": "10117", "city": "Berlin",
    "country": "DE", "base_currency": "EUR", "time_zone": "Europe/Berlin", "tax_id": "DE136457858",
    "payment_terms_days": 30,
}  # fmt: skip


def _entity(**kw: Any) -> int:
    from q2c.parties import services as parties

    return int(parties.create_entity(actor="test", **{**ENTITY, **kw}).pk)


@pytest.fixture
def entity_id() -> int:
    clock.install(clock.SimulationClock(date(2020, 1, 1), default_tz="Europe/Berlin"))
    return _entity()


def on(day: date) -> None:
    clock.current().set(day)  # type: ignore[attr-defined]


def seats(entity_id: int, contract_id: int, currency: str = "EUR") -> None:
    """3,660.00 a year over 2020 (366 days), ratable: January 3,660 × 31 ÷ 366 = 310.00,
    February 3,660 × 29 ÷ 366 = 290.00."""
    services.identify(
        {"contract_id": contract_id, "number": f"CON-{contract_id}", "entity_id": entity_id, "account_id": 1,
         "currency": currency, "start_date": "2020-01-01", "end_date": "2021-01-01",
         "lines": [{"key": "1", "sku": "SEAT", "charge_kind": "recurring", "quantity": "1",
                    "revenue_category": "subscriptions", "value": "3660.00", "net_unit_price": "305",
                    "ssp_unit": "305", "period_months": 1, "service_start": "2020-01-01",
                    "service_end": "2021-01-01"}]},
        actor="test",
    )  # fmt: skip


def test_a_problem_of_another_entity_does_not_block_the_close_and_one_of_this_entity_does(
    entity_id, monkeypatch
):
    other = _entity(name="Acme Cloud Ltd", country="GB", base_currency="GBP", time_zone="Europe/London",
                    tax_id="GB980780684", postal_code="EC1A 1BB", city="London")  # fmt: skip
    seen: list[date | None] = []

    def other_books(as_of: date | None) -> list[str]:
        seen.append(as_of)
        return [f"entity {other}: receivables in the ledger 1.00 EUR ≠ open invoices less credits 0.00 EUR"]

    monkeypatch.setitem(checks._items, "test.other_books", Check("test.other_books", other_books))
    on(date(2020, 2, 3))
    assert services.close_period(entity_id, "2020-01")["status"] == "closed"
    # The checks judge the books as they are now (everything posted), not as of the month end.
    assert seen == [None]
    with pytest.raises(InvalidTransition) as err:
        services.close_period(other, "2020-01")
    assert err.value.code == "revenue.checks_failed"
    assert f"test.other_books: entity {other}: receivables" in err.value.message
    assert not services.is_closed(other, date(2020, 1, 1))


def test_a_problem_naming_no_entity_blocks_every_close_and_one_only_dated_checks_see_blocks_none(
    entity_id, monkeypatch
):
    def dated_only(as_of: date | None) -> list[str]:  # e.g. payments after the month end
        return [f"entity {entity_id}: off as of {as_of}"] if as_of is not None else []

    monkeypatch.setitem(checks._items, "test.dated_only", Check("test.dated_only", dated_only))
    on(date(2020, 2, 3))
    assert services.close_period(entity_id, "2020-01")["status"] == "closed"
    monkeypatch.setitem(
        checks._items, "test.nameless", Check("test.nameless", lambda as_of: ["7 line 2 is in USD"])
    )
    on(date(2020, 3, 2))
    with pytest.raises(InvalidTransition) as err:
        services.close_period(entity_id, "2020-02")
    assert "test.nameless: 7 line 2 is in USD" in err.value.message


def test_a_rerun_after_the_next_months_billing_cleared_the_asset_does_not_reclassify_again(entity_id):
    """January: 310.00 recognised, nothing billed → a contract asset of 310.00 at 2020-01-31.
    On 2020-02-01 billing clears 305.00 of it (billing's split, dated that day). The daily rerun
    of January the same day must post nothing: at 2020-01-31 the asset is still 310.00."""
    on(date(2020, 1, 1))
    seats(entity_id, 21)
    (jan,) = revenue_run.daily(date(2020, 1, 31))["runs"]
    assert jan["recognised"] == "310.00"
    assert dict(ContractAsset.objects.values_list("contract_id", "asset_minor")) == {21: 31000}
    on(date(2020, 2, 1))
    split = revenue_run.contract_split(entity_id, 21, -30500, date(2020, 2, 1))
    assert split == {"contract_assets": -30500}
    (again,) = revenue_run.daily(date(2020, 2, 1))["runs"]
    assert (again["period"], again["attempt"], again["recognised"], again["entry"]) == (
        "2020-01",
        2,
        "0.00",
        "",
    )
    on(date(2020, 2, 5))
    later = revenue_run.recognise(entity_id, date(2020, 1, 1))  # what a close runs first
    assert (later["attempt"], later["entry"]) == (3, "")
    assert JournalEntry.objects.filter(entity_id=entity_id, source_app="revenue").count() == 1
    tb = ledger_queries.trial_balance(entity_id, date(2020, 1, 31)).by_key()
    assert tb["contract_assets"].amount == Decimal("310.00")
    assert dict(ContractAsset.objects.values_list("contract_id", "asset_minor")) == {21: 500}


def test_a_contract_in_another_currency_is_recognised_converted_and_the_close_finds_nothing_unposted(
    entity_id,
):
    """A USD contract of the EUR entity: January 310.00 USD at the month end's 0.9 = 279.00 EUR,
    February 290.00 USD at 0.8 = 232.00 EUR (cumulative 511.00 EUR, 600.00 USD)."""
    from q2c.invoicing.services import rates

    rates.set_rate("USD", "EUR", date(2020, 1, 31), "0.9", actor="test")
    rates.set_rate("USD", "EUR", date(2020, 2, 28), "0.8", actor="test")
    on(date(2020, 1, 1))
    seats(entity_id, 22, currency="USD")
    (jan,) = revenue_run.daily(date(2020, 1, 31))["runs"]
    assert (jan["recognised"], jan["currency"]) == ("279.00", "EUR")
    on(date(2020, 2, 2))
    assert revenue_run.unposted(entity_id, date(2020, 1, 31)) == 0
    assert services.close_period(entity_id, "2020-01")["status"] == "closed"
    on(date(2020, 2, 29))
    (feb,) = revenue_run.daily(date(2020, 2, 29))["runs"]
    assert feb["recognised"] == "232.00"
    assert Obligation.objects.get(contract__contract_id=22).recognised_minor == 60000  # USD
    tb = ledger_queries.trial_balance(entity_id, date(2020, 2, 29)).by_key()
    assert tb["revenue.subscriptions"].amount == Decimal("-511.00")
    assert tb["contract_assets"].amount == Decimal("511.00")  # nothing billed yet
    assert revenue_run.positions_tie() == []


def test_reports_show_a_foreign_contract_in_the_book_currency(entity_id):
    """The USD seats of the EUR entity (3,660.00 USD over 2020), January run at 0.9: posted
    279.00 EUR. Today 2020-02-02 the latest rate is still January's 0.9, so the waterfall shows
    February's scheduled 290.00 USD as 261.00 EUR and March's 310.00 USD as 279.00 EUR; the RPO
    after January is 3,660.00 − 310.00 = 3,350.00 USD × 0.9 = 3,015.00 EUR, all within a year.
    Before, the USD figures were added to the EUR columns as they were."""
    from q2c.invoicing.services import rates
    from q2c.revenue import queries

    rates.set_rate("USD", "EUR", date(2020, 1, 31), "0.9", actor="test")
    on(date(2020, 1, 1))
    seats(entity_id, 23, currency="USD")
    revenue_run.daily(date(2020, 1, 31))
    on(date(2020, 2, 2))
    waterfall = queries.waterfall(entity_id, date(2020, 1, 1), months=3)
    assert waterfall.currency == "EUR"
    assert waterfall.rows[-1] == ["total", "279.00", "261.00", "279.00", "819.00"]
    rpo = queries.remaining(entity_id, date(2020, 1, 1))
    assert rpo.rows == [["CON-23", "3015.00", "3015.00", "0.00"]]
