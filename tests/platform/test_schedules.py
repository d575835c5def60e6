"""Daily schedules: once per business date, in order, even with two workers polling."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from q2c.platform import schedules
from q2c.platform.models import ScheduleRun
from q2c.platform.registry import Job, jobs


@pytest.fixture
def calls():
    seen: list[date] = []
    lock = threading.Lock()

    def run(day: date):
        with lock:
            seen.append(day)
        return {"day": day.isoformat()}

    jobs.add("test.job", Job("test.job", run))
    return seen


def _at(y, m, d, hh=3):
    return datetime(y, m, d, hh, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_missed_days_catch_up_in_order_and_each_date_runs_once(calls):
    schedules.ensure("nightly", "test.job", start_date=date(2027, 1, 1), hour=2, time_zone="UTC")
    ran = schedules.poll(now=_at(2027, 1, 3))
    assert [d for _, d, _ in ran] == [date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]
    assert schedules.poll(now=_at(2027, 1, 3)) == []
    assert calls == [date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]


@pytest.mark.django_db
def test_today_runs_only_after_the_local_time(calls):
    # 02:00 Berlin is 01:00 UTC in winter; at 00:30 UTC today is not due yet.
    schedules.ensure("nightly", "test.job", start_date=date(2027, 1, 5), hour=2, time_zone="Europe/Berlin")
    assert schedules.poll(now=datetime(2027, 1, 5, 0, 30, tzinfo=UTC)) == []
    assert [d for _, d, _ in schedules.poll(now=datetime(2027, 1, 5, 1, 30, tzinfo=UTC))] == [
        date(2027, 1, 5)
    ]


@pytest.mark.django_db
def test_a_failed_run_blocks_later_dates_and_is_retried(calls):
    failures = {date(2027, 1, 2)}

    def flaky(day: date):
        if day in failures:
            raise RuntimeError("bank file missing")
        calls.append(day)

    jobs.add("test.flaky", Job("test.flaky", flaky))
    schedules.ensure("flaky", "test.flaky", start_date=date(2027, 1, 1), hour=2)
    ran = schedules.poll(now=_at(2027, 1, 3))
    assert [(d, s) for _, d, s in ran] == [(date(2027, 1, 1), "done"), (date(2027, 1, 2), "failed")]
    failures.clear()
    ran = schedules.poll(now=_at(2027, 1, 3))
    assert [(d, s) for _, d, s in ran] == [(date(2027, 1, 2), "done"), (date(2027, 1, 3), "done")]
    assert ScheduleRun.objects.get(business_date=date(2027, 1, 2)).attempts == 2


@pytest.mark.django_db
def test_a_dead_workers_claim_is_taken_over_after_its_lease(calls):
    s = schedules.ensure("nightly", "test.job", start_date=date(2027, 1, 1), hour=2)
    ScheduleRun.objects.create(
        schedule=s, business_date=date(2027, 1, 1), status="running", lease_until=_at(2027, 1, 1, 4)
    )
    assert schedules.poll(now=_at(2027, 1, 1, 3)) == []  # still leased
    assert [d for _, d, _ in schedules.poll(now=_at(2027, 1, 1, 5))] == [date(2027, 1, 1)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_run_each_date_once(calls):
    schedules.ensure("nightly", "test.job", start_date=date(2027, 1, 1), hour=2)
    now = _at(2027, 1, 20)
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            for _ in range(3):
                schedules.poll(now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [date(2027, 1, 1) + timedelta(days=i) for i in range(20)]
    assert sorted(calls) == expected
    assert ScheduleRun.objects.filter(status="done").count() == 20
