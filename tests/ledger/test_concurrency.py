"""Concurrent posting on PostgreSQL: numbers stay gapless, a source posted by two writers at once
is posted once (the loser gets ledger.already_posted, not a database error), and a period cannot
close under a posting in flight."""

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from q2c.core.errors import DomainError
from q2c.ledger import checks, services
from q2c.ledger.models import JournalEntry
from tests.ledger.conftest import ENTITY, sale

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(target, n: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # collected and checked by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_four_writers_posting_batches_at_once_leave_gapless_numbers():
    services.open_book(ENTITY, "EUR")

    def writer(i: int) -> None:
        for batch in range(5):
            with transaction.atomic():
                services.post_many([sale("1.00", doc=f"{i}-{batch}-{k}") for k in range(5)])

    assert _in_threads(writer, 4) == []
    numbers = sorted(JournalEntry.objects.values_list("seq", flat=True))
    assert numbers == list(range(1, 101))
    assert checks.entry_numbers_gapless() == [] and checks.entries_balance() == []


def test_the_same_source_posted_by_two_writers_at_once_is_posted_once():
    services.open_book(ENTITY, "EUR")
    barrier = threading.Barrier(2)

    def writer(i: int) -> None:
        barrier.wait()
        services.post(sale("10.00", doc="race"))

    errors = _in_threads(writer, 2)
    assert JournalEntry.objects.filter(source_id="race").count() == 1
    assert len(errors) == 1
    assert isinstance(errors[0], DomainError) and errors[0].code == "ledger.already_posted"


def _someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cur.fetchone()[0] > 0


def test_a_posting_in_flight_holds_off_the_close_of_its_period():
    import time

    from q2c.core import clock

    services.open_book(ENTITY, "EUR")
    services.post(sale("1.00", doc="first", day=date(2027, 3, 5)))
    posted = threading.Event()
    release = threading.Event()

    def poster() -> None:
        with transaction.atomic():
            services.post(sale("2.00", doc="in-flight", day=date(2027, 3, 6)))
            posted.set()
            release.wait(timeout=20)

    def closer() -> None:
        posted.wait(timeout=20)
        with clock.use(clock.SimulationClock(date(2027, 4, 1))):
            services.close_period(ENTITY, "2027-03")  # blocks on the period row the poster holds

    def releaser() -> None:
        # Let the poster commit only once the closer is seen waiting for its lock.
        posted.wait(timeout=20)
        deadline = time.monotonic() + 20
        while not _someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        waited.append(_someone_waits_on_a_lock())
        release.set()

    waited: list[bool] = []
    errors = _in_threads(lambda i: (poster, closer, releaser)[i](), 3)
    assert errors == []
    assert waited == [True]  # the close really waited for the posting in flight
    # …so its digest covers both entries, and the check ties.
    assert checks.closed_periods_unchanged() == []
    assert JournalEntry.objects.count() == 2
