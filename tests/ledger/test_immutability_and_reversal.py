"""Posted entries never change: the model, the queryset and the database refuse; corrections
are reversals linked to the original, at most one per entry."""

from datetime import date

import pytest
from django.db import DatabaseError, transaction

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.ledger import queries, services
from q2c.ledger.domain import SourceRef
from q2c.ledger.models import JournalEntry, JournalLine
from q2c.platform.models import Event
from tests.ledger.conftest import ENTITY, sale
from tests.ledger.guard import sql

pytestmark = pytest.mark.django_db


def refused(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    return err.value


def test_a_posted_entry_cannot_be_saved_again_or_deleted(book):
    entry = services.post(sale("10.00"))
    entry.description = "changed"
    assert refused(entry.save).code == "ledger.immutable"
    assert refused(entry.delete).code == "ledger.immutable"
    line = entry.lines.first()
    assert refused(line.save).code == "ledger.immutable"
    assert refused(line.delete).code == "ledger.immutable"
    assert JournalEntry.objects.get().description == "test entry"


def test_querysets_refuse_to_update_or_delete_posted_rows(book):
    services.post(sale("10.00"))
    assert refused(JournalLine.objects.filter(line_no=1).update, memo="x").code == "ledger.immutable"
    assert refused(JournalEntry.objects.all().delete).code == "ledger.immutable"


def test_the_database_refuses_an_update_of_a_posted_line(book):
    services.post(sale("10.00"))
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        sql("UPDATE ledger_line SET debit_minor = 1 WHERE debit_minor > 0")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        sql("UPDATE ledger_entry SET description = 'changed'")
    assert JournalLine.objects.get(line_no=1).debit == Money("10.00", "EUR")


@pytest.mark.postgres
def test_on_postgresql_the_database_also_refuses_deleting_posted_rows(book):
    services.post(sale("10.00"))
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        sql("DELETE FROM ledger_line")


def test_a_reversal_posts_the_same_lines_on_the_other_sides_linked_to_the_original(book):
    original = services.post(sale("119.00"))
    reversal = services.reverse(original.pk, actor="fin")
    assert (reversal.number, reversal.date, reversal.reverses_id) == (
        "JE-2027-000002",
        date(2027, 3, 1),
        original.pk,
    )
    assert (reversal.source, reversal.purpose) == (f"ledger/entry/{original.pk}", "reversal")
    view = queries.entry(ENTITY, reversal.pk)
    assert [(ln.account_code, ln.debit.amount, ln.credit.amount) for ln in view.lines] == [
        ("1200", 0, 119),
        ("4000", 119, 0),
    ]
    assert queries.entry(ENTITY, original.pk).reversed_by_number == "JE-2027-000002"
    assert all(r.balance == Money("0.00", "EUR") for r in queries.trial_balance(ENTITY).rows)
    assert Event.objects.filter(type="ledger.entry_reversed", aggregate_id=str(original.pk)).exists()


def test_reversing_an_entry_twice_is_a_conflict(book):
    original = services.post(sale("5.00"))
    services.reverse(original.pk)
    err = refused(services.reverse, original.pk)
    assert (err.code, err.status) == ("ledger.already_reversed", 409)
    assert JournalEntry.objects.count() == 2


def test_a_caller_may_reverse_with_its_own_source(book):
    original = services.post(sale("5.00"))
    rev = services.reverse(
        original.pk, source=SourceRef("invoicing", "cancellation", "1"), on=date(2027, 3, 9)
    )
    assert (rev.source, rev.date) == ("invoicing/cancellation/1", date(2027, 3, 9))


def test_a_reversal_cannot_be_dated_before_the_original(book):
    original = services.post(sale("5.00", day=date(2027, 3, 10)))
    err = refused(services.reverse, original.pk, on=date(2027, 3, 9))
    assert (err.code, err.field) == ("ledger.invalid_entry", "on")
    assert JournalEntry.objects.count() == 1


def test_an_entry_in_a_closed_period_is_reversed_today_in_the_open_period(book, at):
    original = services.post(sale("5.00", day=date(2027, 3, 10)))
    at(date(2027, 4, 2))
    services.close_period(ENTITY, "2027-03")
    reversal = services.reverse(original.pk)
    assert (reversal.date, reversal.period.key) == (date(2027, 4, 2), "2027-04")
    assert clock.today() == date(2027, 4, 2)


def test_a_reversal_into_a_closed_period_is_refused(book, at):
    original = services.post(sale("5.00", day=date(2027, 3, 10)))
    at(date(2027, 4, 2))
    services.close_period(ENTITY, "2027-03")
    err = refused(services.reverse, original.pk, on=date(2027, 3, 20))
    assert (err.code, err.status) == ("ledger.period_closed", 409)


def test_reversing_an_unknown_entry_is_not_found(book):
    err = refused(services.reverse, 999)
    assert (err.code, err.status) == ("ledger.entry_not_found", 404)
