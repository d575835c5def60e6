"""``q2c ledger check``: passes on a consistent ledger; when a row is changed behind the ledger's
back (the triggers dropped, as someone with database access could) it exits non-zero naming the
entry, the period or the entity that no longer ties."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.ledger import checks, services
from q2c.ledger.domain import DraftLine
from q2c.ledger.models import JournalEntry, Period
from q2c.platform.registry import Check
from q2c.platform.registry import checks as registry
from tests.ledger.conftest import ENTITY, draft, eur, sale
from tests.ledger.guard import drop_guard, sql
from tests.ledger.northwind import post_northwind

pytestmark = pytest.mark.django_db

LEDGER_CHECKS = {
    "ledger.entries_balance",
    "ledger.trial_balance_zero",
    "ledger.entries_unchanged",
    "ledger.closed_periods_unchanged",
    "ledger.entry_numbers_gapless",
}


@pytest.fixture(autouse=True)
def only_ledger_checks(monkeypatch):
    """The command runs every registered check; other apps' (AR control …) expect their own
    documents behind the ledger's balances, which these synthetic ledgers do not have."""
    monkeypatch.setattr(
        registry, "_items", {k: v for k, v in registry._items.items() if k.startswith("ledger.")}
    )


def run_check(*args: str) -> tuple[str, CommandError | None]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("ledger", "check", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def closed_march(book, at):
    """Northwind-like postings in March and April; March closed on 2027-04-01."""
    services.post_many(
        [
            sale("100.00", doc="1", day=date(2027, 3, 5)),
            sale("250.00", doc="2", day=date(2027, 3, 20)),
            sale("75.00", doc="3", day=date(2027, 4, 2)),
        ]
    )
    at(date(2027, 4, 1))
    services.close_period(ENTITY, "2027-03")


def test_the_ledgers_checks_are_registered_from_the_wiring():
    assert set(registry.names()) >= LEDGER_CHECKS


def test_a_consistent_ledger_passes_every_check(closed_march):
    out, err = run_check()
    assert err is None
    for name in LEDGER_CHECKS:
        assert f"ok   {name}" in out
    assert "ledger checks passed" in out


def test_the_northwind_ledger_passes_every_check(db):
    post_northwind(3)
    assert run_check()[1] is None


def test_a_tampered_line_amount_fails_the_check_naming_the_entry_and_the_period(closed_march):
    drop_guard()
    # JE-2027-000002 (250.00 on 2027-03-20): its debit becomes 260.00.
    sql("UPDATE ledger_line SET debit_minor = 26000 WHERE debit_minor = 25000")
    out, err = run_check()
    assert err is not None and err.returncode == 1
    assert "FAIL ledger.entries_balance" in out
    assert "JE-2027-000002 (entity 1) does not balance: debits 260.00 EUR ≠ credits 250.00 EUR" in out
    assert "trial balance of entity 1 is off by 10.00 EUR" in out
    assert "JE-2027-000002 (entity 1) was changed after it was posted" in out
    assert "period 2027-03 of entity 1 was changed after it was closed" in out
    assert "ledger.entries_balance" in str(err)


def test_a_balanced_tampering_is_still_found_by_the_digests(closed_march):
    drop_guard()
    sql("UPDATE ledger_line SET debit_minor = 1, credit_minor = 0 WHERE debit_minor = 10000")
    sql("UPDATE ledger_line SET credit_minor = 1 WHERE credit_minor = 10000")
    assert checks.entries_balance() == []
    assert checks.trial_balance_zero() == []
    assert checks.entries_unchanged() == [
        "JE-2027-000001 (entity 1) was changed after it was posted (its digest no longer matches)"
    ]
    assert checks.closed_periods_unchanged() == [
        "period 2027-03 of entity 1 was changed after it was closed (4 line(s) at close, 4 now)"
    ]


def test_an_edited_entry_in_an_open_period_is_named(closed_march):
    drop_guard()
    sql("UPDATE ledger_entry SET description = 'nothing to see' WHERE number = 'JE-2027-000003'")
    out, err = run_check()
    assert err is not None
    assert "JE-2027-000003 (entity 1) was changed after it was posted" in out


def test_an_entry_slipped_into_a_closed_period_is_found(closed_march):
    drop_guard()
    # Move April's entry into closed March.
    march = Period.objects.get(start=date(2027, 3, 1)).pk
    sql(
        "UPDATE ledger_entry SET period_id = %s, date = '2027-03-31' WHERE number = 'JE-2027-000003'", [march]
    )
    problems = checks.closed_periods_unchanged()
    assert problems == [
        "period 2027-03 of entity 1 was changed after it was closed (4 line(s) at close, 6 now)"
    ]


def test_a_rewritten_period_digest_no_longer_meets_the_one_recorded_at_close(closed_march):
    drop_guard()
    sql("UPDATE ledger_line SET debit_minor = 26000 WHERE debit_minor = 25000")
    from q2c.ledger.services import period_snapshot

    march = Period.objects.get(start=date(2027, 3, 1))
    digest, _ = period_snapshot(march)
    sql("UPDATE ledger_period SET digest = %s WHERE id = %s", [digest, march.pk])
    assert checks.closed_periods_unchanged() == [
        "period 2027-03 of entity 1: its stored digest differs from the one recorded when it was closed"
    ]


def test_a_deleted_entry_leaves_a_hole_in_the_numbers(closed_march):
    drop_guard()
    entry = JournalEntry.objects.get(number="JE-2027-000003")
    sql("DELETE FROM ledger_line WHERE entry_id = %s", [entry.pk])
    sql("DELETE FROM ledger_entry WHERE id = %s", [entry.pk])
    out, err = run_check()
    assert err is not None
    assert (
        "entity 1, 2027: 3 entry number(s) were taken but 2 entries exist (numbers 1–2): entries are missing"
        in out
    )


def test_as_of_leaves_out_entries_dated_after_it(closed_march):
    drop_guard()
    sql("UPDATE ledger_line SET debit_minor = 7600 WHERE debit_minor = 7500")  # JE-3, dated 2027-04-02
    assert run_check("--as-of", "2027-03-31")[1] is None
    out, err = run_check("--as-of", "2027-04-02")
    assert err is not None and "JE-2027-000003" in out


def test_a_check_that_breaks_is_reported_as_a_failure_not_a_traceback(book):
    def broken(as_of):
        raise RuntimeError("no such table")

    registry.add("tests.broken", Check("tests.broken", broken))
    try:
        out, err = run_check()
    finally:
        registry._items.pop("tests.broken")
    assert err is not None
    assert "FAIL tests.broken" in out and "the check itself failed: RuntimeError: no such table" in out


def test_a_bad_as_of_is_a_message_and_exit_2(book):
    with pytest.raises(CommandError) as err:
        call_command("ledger", "check", "--as-of", "2027-02-30")
    assert err.value.returncode == 2


def test_an_entry_that_lost_a_line_is_named(book):
    services.post(draft([DraftLine.dr("ar", eur("5.00")), DraftLine.cr("bank", eur("5.00"))]))
    drop_guard()
    sql("DELETE FROM ledger_line WHERE line_no = 2")
    assert checks.entries_balance() == ["JE-2027-000001 (entity 1) has 1 line(s)"]
