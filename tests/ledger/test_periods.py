"""Monthly periods: open on first posting, closed on request once the month has ended; posting
into a closed month is refused; reopening needs the admin role and is logged."""

from datetime import date

import pytest

from q2c.core.errors import DomainError
from q2c.ledger import queries, services
from q2c.ledger.models import JournalEntry, Period
from q2c.platform.models import Event
from tests.ledger.conftest import ENTITY, sale

pytestmark = pytest.mark.django_db


def refused(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    return err.value


def test_the_first_posting_in_a_month_opens_its_period(book):
    services.post(sale("1.00", day=date(2027, 3, 31)))
    p = Period.objects.get()
    assert (p.key, p.start, p.end, p.status) == ("2027-03", date(2027, 3, 1), date(2027, 4, 1), "open")


def test_posting_into_a_closed_period_is_refused_and_nothing_is_posted(book, at):
    services.post(sale("1.00", doc="1"))
    at(date(2027, 3, 31))
    closed = services.close_period(ENTITY, "2027-03", actor="fin")
    assert (closed.status, closed.closed_by, closed.line_count) == ("closed", "fin", 2)
    err = refused(services.post, sale("2.00", doc="2", day=date(2027, 3, 15)))
    assert (err.code, err.status, err.field) == ("ledger.period_closed", 409, "date")
    assert JournalEntry.objects.count() == 1
    services.post(sale("2.00", doc="2", day=date(2027, 4, 1)))  # the next month is open


def test_a_month_that_has_not_reached_its_last_day_cannot_close(book, at):
    at(date(2027, 3, 30))
    err = refused(services.close_period, ENTITY, "2027-03")
    assert err.code == "ledger.period_not_ended"
    assert not Period.objects.filter(status="closed").exists()


def test_a_month_without_postings_can_close(book, at):
    at(date(2027, 5, 1))
    p = services.close_period(ENTITY, date(2027, 2, 14))
    assert (p.key, p.status, p.line_count) == ("2027-02", "closed", 0)


def test_closing_a_closed_period_is_a_conflict(book, at):
    at(date(2027, 4, 1))
    services.close_period(ENTITY, "2027-03")
    err = refused(services.close_period, ENTITY, "2027-03")
    assert (err.code, err.status) == ("ledger.period_invalid_transition", 409)


def test_reopening_needs_the_admin_role(book, at, make_user):
    at(date(2027, 4, 1))
    services.close_period(ENTITY, "2027-03")
    err = refused(services.reopen_period, ENTITY, "2027-03", user=make_user("finance"), reason="late invoice")
    assert (err.code, err.status) == ("ledger.admin_required", 403)
    assert Period.objects.get().status == "closed"


def test_an_admin_reopens_a_period_and_it_is_logged(book, at, make_user):
    at(date(2027, 4, 1))
    services.close_period(ENTITY, "2027-03")
    admin = make_user("admin", name="ada")
    p = services.reopen_period(ENTITY, "2027-03", user=admin, reason="late supplier invoice")
    assert (p.status, p.reopen_count, p.digest) == ("open", 1, "")
    event = Event.objects.get(type="ledger.period_reopened")
    assert (event.actor, event.payload["period"], event.payload["reason"]) == (
        "ada",
        "2027-03",
        "late supplier invoice",
    )
    services.post(sale("3.00", day=date(2027, 3, 20)))  # open again


def test_reopening_an_open_or_unknown_period_is_refused(book, make_user):
    admin = make_user("admin")
    assert refused(services.reopen_period, ENTITY, "2027-03", user=admin).code == "ledger.period_not_found"
    services.post(sale("1.00"))
    err = refused(services.reopen_period, ENTITY, "2027-03", user=admin)
    assert (err.code, err.status) == ("ledger.period_invalid_transition", 409)


@pytest.mark.parametrize("bad", ["2027-3", "March", "2027-13"])
def test_a_period_that_is_not_a_month_is_refused(book, bad):
    assert refused(services.close_period, ENTITY, bad).code == "ledger.invalid_period"


def test_closing_for_an_entity_without_a_book_is_refused(db, at):
    at(date(2027, 4, 1))
    assert refused(services.close_period, 9, "2027-03").code == "ledger.no_book"


def test_periods_are_listed_newest_first(book, at):
    services.post_many(
        [sale("1.00", doc="1", day=date(2027, 2, 1)), sale("1.00", doc="2", day=date(2027, 3, 1))]
    )
    assert [p.key for p in queries.periods(ENTITY)] == ["2027-03", "2027-02"]
