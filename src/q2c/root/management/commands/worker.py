"""q2c worker: runs background tasks, polls the daily schedules and seals the audit chain."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser
from django.db import close_old_connections

from q2c.platform import audit, schedules
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Run background tasks and daily schedules; several workers may run against PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="one pass (schedules, seal, pending tasks), then exit"
        )
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args: Any, **opts: Any) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        for name in schedules.ensure_registered():
            self.stdout.write(f"scheduled daily job {name} at 02:00 UTC")
        while True:
            close_old_connections()
            for name, day, status in schedules.poll():
                self.stdout.write(f"schedule {name} {day}: {status}")
            audit.seal()
            Worker(
                queue_names=["*"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=schedules.worker_name(),
                excluded_queue_names=[],
            ).run()
            if opts["once"]:
                return
            time.sleep(opts["interval"])
