"""q2c serve: migrate, then serve on 127.0.0.1:8000 (gunicorn; --dev for the autoreloader)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser

from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Apply migrations, then serve q2c (gunicorn on 127.0.0.1:8000; --dev: Django's autoreloader)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port (default 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--dev", action="store_true", help="Django's development server with autoreload")
        parser.add_argument("--no-migrate", action="store_true", help="skip migrations")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if opts["dev"]:
            call_command("runserver", opts["bind"])
            return
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "q2c.wsgi:application",
            "--bind",
            opts["bind"],
            "--workers",
            str(opts["workers"]),
            "--access-logfile",
            "-",
        ]
        self.stdout.write(f"q2c serving on http://{opts['bind']}/")
        os.execv(sys.executable, argv)
