"""q2c demo: build the demo company by running the registered demo steps."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from q2c.platform.commands import Q2CCommand
from q2c.platform.registry import demo_steps


class Command(Q2CCommand):
    help = "Seed a demo company (q2c demo [--customers N] [--months M] [--seed S] [--start YYYY-MM-DD] [--if-empty])."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=200)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--start", default=None, metavar="YYYY-MM-DD")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has users"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from django.contrib.auth import get_user_model

        if opts["if_empty"] and get_user_model().objects.exists():
            self.stdout.write("database not empty: demo not seeded")
            return
        for name, step in demo_steps.items():
            self.stdout.write(f"demo: {name}")
            step(stdout=self.stdout, **opts)
