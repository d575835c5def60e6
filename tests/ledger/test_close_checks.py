"""What a period close checks of the ledger (``q2c.ledger.checks.AT_CLOSE``, run by the revenue
close for the entity it closes) and what it leaves to ``q2c ledger check``: the close refuses a
tampered entry of the month it closes and a closed period whose lines were added or removed; a
closed period edited in place (same number of lines) is not rehashed at a close, and
``q2c ledger check`` still finds it."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.core.errors import InvalidTransition
from q2c.ledger import checks, services
from q2c.ledger.models import Period
from q2c.platform.registry import checks as registry
from q2c.revenue import services as revenue
from tests.ledger.conftest import ENTITY, sale
from tests.ledger.guard import drop_guard, sql
from tests.revenue.test_close_and_rerun import _entity, on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_ledger_checks(monkeypatch):
    """Other apps' checks (AR control …) expect their documents behind these synthetic entries."""
    monkeypatch.setattr(
        registry, "_items", {k: v for k, v in registry._items.items() if k.startswith("ledger.")}
    )


def at_close(entity_id: int) -> list[str]:
    return [p for name in sorted(checks.AT_CLOSE) for p in checks.AT_CLOSE[name](entity_id)]


def ledger_check() -> tuple[str, CommandError | None]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("ledger", "check", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_every_ledger_check_has_its_scoped_form_at_close():
    assert set(checks.AT_CLOSE) == {c.name for c in checks.CHECKS}


@pytest.fixture
def company(entity_id):
    """Entries of 100.00 on 2020-01-10 (JE-2020-000001) and 250.00 on 2020-02-10
    (JE-2020-000002), two lines each; January closed through the revenue close on 2020-02-03."""
    services.post_many(
        [
            sale("100.00", doc="1", day=date(2020, 1, 10), entity_id=entity_id),
            sale("250.00", doc="2", day=date(2020, 2, 10), entity_id=entity_id),
        ]
    )
    on(date(2020, 2, 3))
    assert revenue.close_period(entity_id, "2020-01")["status"] == "closed"
    on(date(2020, 3, 2))
    return entity_id


def test_a_close_refuses_a_tampered_entry_of_the_month_it_closes(company):
    drop_guard()
    sql("UPDATE ledger_entry SET description = 'nothing to see' WHERE number = 'JE-2020-000002'")
    with pytest.raises(InvalidTransition) as err:
        revenue.close_period(company, "2020-02")
    assert err.value.code == "revenue.checks_failed"
    assert (
        f"ledger.entries_unchanged: JE-2020-000002 (entity {company}) was changed after it was posted"
        in err.value.message
    )
    assert not Period.objects.get(entity_id=company, start=date(2020, 2, 1)).is_closed


def test_a_close_refuses_an_unbalanced_entry_of_the_month_it_closes(company):
    drop_guard()
    # JE-2020-000002's debit 250.00 becomes 260.00: off by 10.00 against its credit.
    sql("UPDATE ledger_line SET debit_minor = 26000 WHERE debit_minor = 25000")
    with pytest.raises(InvalidTransition) as err:
        revenue.close_period(company, "2020-02")
    assert (
        f"ledger.entries_balance: JE-2020-000002 (entity {company}) does not balance: "
        "debits 260.00 EUR ≠ credits 250.00 EUR" in err.value.message
    )
    assert f"trial balance of entity {company} is off by 10.00 EUR" in err.value.message


def test_a_close_refuses_when_an_entry_was_moved_into_a_closed_period(company):
    drop_guard()
    january = Period.objects.get(entity_id=company, start=date(2020, 1, 1)).pk
    sql(
        "UPDATE ledger_entry SET period_id = %s, date = '2020-01-31' WHERE number = 'JE-2020-000002'",
        [january],
    )
    with pytest.raises(InvalidTransition) as err:
        revenue.close_period(company, "2020-02")
    # January had JE-2020-000001's 2 lines at close; with JE-2020-000002's 2 it has 4.
    assert (
        f"ledger.closed_periods_unchanged: period 2020-01 of entity {company} was changed after it was "
        "closed (2 line(s) at close, 4 now)" in err.value.message
    )


def test_a_closed_period_edited_in_place_is_left_to_ledger_check_which_finds_it(company):
    drop_guard()
    # A balanced edit of JE-2020-000001 (in closed January): 100.00 → 1.00 on both lines.
    sql("UPDATE ledger_line SET debit_minor = 100 WHERE debit_minor = 10000")
    sql("UPDATE ledger_line SET credit_minor = 100 WHERE credit_minor = 10000")
    # Same number of lines, entries outside closed periods untouched: the close does not rehash.
    assert at_close(company) == []
    out, err = ledger_check()
    assert err is not None and err.returncode == 1
    assert f"JE-2020-000001 (entity {company}) was changed after it was posted" in out
    assert (
        f"period 2020-01 of entity {company} was changed after it was closed (2 line(s) at close, 2 now)"
        in out
    )


def test_a_rewritten_sealed_digest_is_found_at_close(company):
    drop_guard()
    sql("UPDATE ledger_period SET digest = 'x' WHERE entity_id = %s AND start = '2020-01-01'", [company])
    assert at_close(company) == [
        f"period 2020-01 of entity {company}: its stored digest differs from the one recorded when it was closed"
    ]


def test_the_close_checks_look_at_the_entity_closed_only(book, at):
    services.open_book(2, "EUR", name="Acme Cloud Ltd")
    services.post_many(
        [
            sale("100.00", doc="1", day=date(2027, 3, 5)),
            sale("40.00", doc="2", day=date(2027, 3, 6), entity_id=2),
        ]
    )
    drop_guard()
    sql("UPDATE ledger_entry SET description = 'edited' WHERE entity_id = 2")
    assert at_close(ENTITY) == []
    assert at_close(2) == [
        "JE-2027-000001 (entity 2) was changed after it was posted (its digest no longer matches)"
    ]
    assert checks.entries_unchanged() == at_close(2)


@pytest.fixture
def entity_id():
    from q2c.core import clock

    clock.install(clock.SimulationClock(date(2020, 1, 1), default_tz="Europe/Berlin"))
    return _entity()


def test_ledger_check_rehashes_closed_periods_read_in_batches(book, at, monkeypatch):
    """Three closed months read two periods per batch: the untouched ones tie, the edited one in
    the second batch is named with its own line count (one entry, two lines)."""
    monkeypatch.setattr(services, "_PERIODS_CHUNK", 2)
    services.post_many(
        [
            sale("100.00", doc="1", day=date(2027, 1, 5)),
            sale("200.00", doc="2", day=date(2027, 2, 5)),
            sale("300.00", doc="3", day=date(2027, 3, 5)),
        ]
    )
    at(date(2027, 4, 1))
    for month in ("2027-01", "2027-02", "2027-03"):
        services.close_period(ENTITY, month)
    assert checks.closed_periods_unchanged() == []
    drop_guard()
    sql("UPDATE ledger_entry SET description = 'edited' WHERE number = 'JE-2027-000003'")
    assert checks.closed_periods_unchanged() == [
        "period 2027-03 of entity 1 was changed after it was closed (2 line(s) at close, 2 now)"
    ]
