"""Measure the registered daily jobs the way the worker runs them: ``schedules.poll`` once per
business day over the days that follow a demo database's last scheduled day, inside one
transaction that is rolled back at the end (the database is left as it was; run it on a copy all
the same, a job may write files under the var directory).

    cp -r /tmp/demo-var /tmp/bench-var
    Q2C_VAR_DIR=/tmp/bench-var .venv/bin/python tools/jobs_bench.py --days 30

Prints the CPU time (``time.process_time``) of each job in total and per day, and of the
schedule machinery around them (claims, completion marks, the poll's own read). The USD→EUR
rate of each day is set as the demo does, so bill runs find a rate. Weekly forecast training is
left out by default (``--skip``). ``--dump FILE`` writes what the jobs did (each run's result,
the invoices, recognition lines and dunning steps) so two versions of the code can be compared
on the same database (``PYTHONPATH=<other checkout>/src``); ``--profile JOB`` prints the
cProfile of that job's runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "q2c.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, help="first day (default: after the last run)")
    parser.add_argument("--skip", default="analytics.forecast_training", help="jobs left out, comma-separated")
    parser.add_argument("--profile", default="", help="a job whose runs are profiled")
    parser.add_argument("--dump", default="", help="write what the jobs did to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import transaction
    from django.db.models import Max

    from q2c.core import clock
    from q2c.invoicing.services import rates
    from q2c.platform import schedules
    from q2c.platform.models import Schedule, ScheduleRun
    from q2c.platform.registry import Job, jobs

    cpu: defaultdict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    profiler = cProfile.Profile()

    def timed(name: str, run: Callable[[date], Any]) -> Callable[[date], Any]:
        def timed_run(day: date) -> Any:
            started = time.process_time()
            if name == args.profile:
                profiler.enable()
            try:
                return run(day)
            finally:
                if name == args.profile:
                    profiler.disable()
                cpu[name] += time.process_time() - started
                calls[name] += 1

        return timed_run

    for name in jobs.names():
        job = jobs.get(name)
        jobs.add(name, Job(job.name, timed(name, job.run)))
    last = ScheduleRun.objects.aggregate(d=Max("business_date"))["d"]
    start = args.start or (last + timedelta(days=1) if last else clock.today())
    clk = clock.SimulationClock(start, default_tz="Europe/Berlin")
    clock.install(clk)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    polling = 0.0
    with transaction.atomic():
        Schedule.objects.filter(job__in=[j for j in args.skip.split(",") if j]).update(enabled=False)
        for n in range(args.days):
            day = start + timedelta(days=n)
            clk.set(day)
            rates.set_rate("USD", "EUR", day, Decimal("0.920000"), source="demo", actor="bench")
            started = time.process_time()
            for name, _day, status in schedules.poll(now=datetime(day.year, day.month, day.day, 23, tzinfo=UTC)):
                statuses[name][str(status)] += 1
            polling += time.process_time() - started
        if args.dump:
            _dump(args.dump, start)
        transaction.set_rollback(True)
    print(f"{args.days} days from {start}: the polls took {polling:.2f} s CPU, "
          f"the schedule machinery around the jobs {polling - sum(cpu.values()):.2f} s")  # fmt: skip
    for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(f"  {name:30s} {seconds:7.2f} s  {1000 * seconds / max(calls[name], 1):7.1f} ms a day  "
              f"{dict(statuses[name])}")  # fmt: skip
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def _dump(path: str, start: date) -> None:
    from q2c.invoicing.models import Invoice
    from q2c.payments.dunning.models import DunningEntry
    from q2c.platform.models import ScheduleRun
    from q2c.revenue.models import RecognitionLine

    out = []
    for name, day, result in (
        ScheduleRun.objects.filter(business_date__gte=start)
        .order_by("schedule__name", "business_date")
        .values_list("schedule__name", "business_date", "result")
    ):
        if isinstance(result, dict):  # timings and ids differ from run to run
            result = {k: v for k, v in result.items() if k not in ("seconds", "timings", "run_id")}
        out.append(f"{name} {day} {json.dumps(result, sort_keys=True, default=str)}")
    out.append(f"invoices {sorted(Invoice.objects.values_list('number', 'total_minor', 'issue_date'))}")
    out.append(f"recognition {sorted(RecognitionLine.objects.values_list('obligation_id', 'period', 'amount_minor'))}")
    out.append(f"dunning {sorted(DunningEntry.objects.values_list('invoice_id', 'step_key', 'business_date'))}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
