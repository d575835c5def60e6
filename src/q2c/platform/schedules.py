"""Daily schedules polled by ``q2c worker``.

Each schedule names a registered job and a local time of day. A poll finds, per schedule, every
business date from the day after its last completed run (or its start date) up to today — today
only once the local time has passed the schedule's time — and runs them in date order, so missed
days catch up in order. A run is claimed by inserting ``(schedule, business_date)`` under a unique
constraint in its own short transaction: when two workers poll at once, one insert wins and the
other skips. A failed run stops that schedule's catch-up and is retried on the next poll; a run
whose worker died is reclaimed once its lease has expired. Jobs must be idempotent per date.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery

from q2c.core import clock
from q2c.platform.models import Schedule, ScheduleRun
from q2c.platform.registry import jobs

log = logging.getLogger(__name__)
LEASE = timedelta(hours=2)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def due_dates(schedule: Schedule, now: datetime) -> list[date]:
    """Business dates this schedule still owes, oldest first."""
    latest_done = ScheduleRun.objects.filter(schedule=schedule, status=ScheduleRun.Status.DONE).aggregate(
        latest=Max("business_date")
    )["latest"]
    return _owed(schedule, now, latest_done)


def _owed(schedule: Schedule, now: datetime, latest_done: date | None) -> list[date]:
    """The dates from the day after ``latest_done`` (or the start date) through the schedule's
    last due day at ``now``."""
    local_now = now.astimezone(ZoneInfo(schedule.time_zone))
    last_day = local_now.date()
    if local_now.time() < time(schedule.hour, schedule.minute):
        last_day -= timedelta(days=1)
    start = schedule.start_date if latest_done is None else latest_done + timedelta(days=1)
    start = max(start, schedule.start_date)
    days = []
    d = start
    while d <= last_day:
        days.append(d)
        d += timedelta(days=1)
    return days


def _enabled_with_latest_done() -> list[Schedule]:
    """Every enabled schedule (by name) with ``latest_done``, its latest completed date: one
    statement for all of them (a correlated subquery each, read backwards along the unique
    ``(schedule, business_date)`` index), not one aggregate per schedule on every poll."""
    latest = (
        ScheduleRun.objects.filter(schedule=OuterRef("pk"), status=ScheduleRun.Status.DONE)
        .order_by("-business_date")
        .values("business_date")[:1]
    )
    return list(
        Schedule.objects.filter(enabled=True).annotate(latest_done=Subquery(latest)).order_by("name")
    )


def _claim(schedule: Schedule, day: date, now: datetime, me: str) -> ScheduleRun | None:
    try:
        with transaction.atomic():
            return ScheduleRun.objects.create(
                schedule=schedule,
                business_date=day,
                status=ScheduleRun.Status.RUNNING,
                worker=me,
                lease_until=now + LEASE,
            )
    except IntegrityError:
        pass
    # Already there: take it over only if it failed or its worker's lease ran out.
    with transaction.atomic():
        taken = (
            ScheduleRun.objects.filter(schedule=schedule, business_date=day)
            .filter(
                Q(status=ScheduleRun.Status.FAILED)
                | Q(status=ScheduleRun.Status.RUNNING, lease_until__lt=now)
            )
            .update(
                status=ScheduleRun.Status.RUNNING,
                worker=me,
                lease_until=now + LEASE,
                attempts=F("attempts") + 1,
                error="",
            )
        )
    if taken:
        return ScheduleRun.objects.get(schedule=schedule, business_date=day)
    return None


def poll(now: datetime | None = None) -> list[tuple[str, date, str]]:
    """Run whatever is due; returns ``(schedule, date, status)`` for each run this call made."""
    now = now or clock.now()
    me = worker_name()
    ran: list[tuple[str, date, str]] = []
    for schedule in _enabled_with_latest_done():
        for day in _owed(schedule, now, schedule.latest_done):  # type: ignore[attr-defined]
            run = _claim(schedule, day, now, me)
            if run is None:
                # Another worker holds this date; later dates must wait for it.
                break
            status = _execute(schedule, run)
            ran.append((schedule.name, day, status))
            if status != ScheduleRun.Status.DONE:
                break
    return ran


def _execute(schedule: Schedule, run: ScheduleRun) -> str:
    try:
        job = jobs.get(schedule.job)
        result: Any = job.run(run.business_date) or {}
    except Exception as exc:
        log.exception("schedule %s failed for %s", schedule.name, run.business_date)
        ScheduleRun.objects.filter(pk=run.pk).update(
            status=ScheduleRun.Status.FAILED,
            error=f"{exc}\n{traceback.format_exc(limit=5)}"[:4000],
            finished_at=clock.now(),
        )
        return ScheduleRun.Status.FAILED
    ScheduleRun.objects.filter(pk=run.pk).update(
        status=ScheduleRun.Status.DONE, result=result, finished_at=clock.now()
    )
    return ScheduleRun.Status.DONE


def ensure_registered(*, hour: int = 2, minute: int = 0, time_zone: str = "UTC") -> list[str]:
    """Give every registered job without a schedule a daily one (from today, at ``hour:minute``).

    Run by the worker at start, so that a job an app registers in wiring.py runs without a
    separate set-up step; schedules already there (and their times) are left alone.
    """
    have = set(Schedule.objects.values_list("job", flat=True))
    created = []
    for name in jobs.names():
        if name not in have:
            Schedule.objects.get_or_create(
                name=name,
                defaults={
                    "job": name,
                    "hour": hour,
                    "minute": minute,
                    "time_zone": time_zone,
                    "start_date": clock.today(time_zone),
                },
            )
            created.append(name)
    return created


def ensure(
    name: str, job: str, *, start_date: date, hour: int = 2, minute: int = 0, time_zone: str = "UTC"
) -> Schedule:
    """Create or update a schedule (used by apps' set-up and the demo)."""
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "job": job,
            "hour": hour,
            "minute": minute,
            "time_zone": time_zone,
            "start_date": start_date,
        },
    )
    return schedule
