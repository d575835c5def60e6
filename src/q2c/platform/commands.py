"""Base class for q2c management commands.

Domain errors become a message on stderr and exit status 2 (Django's ``CommandError``), never a
traceback. Commands that act on dates take ``--as-of YYYY-MM-DD``, which sets the business clock
for the whole run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from q2c.core import clock
from q2c.core.errors import DomainError


class Q2CCommand(BaseCommand):
    #: Set to True in commands that act on business dates.
    takes_as_of = False

    def add_arguments(self, parser: CommandParser) -> None:
        if self.takes_as_of:
            parser.add_argument(
                "--as-of",
                dest="as_of",
                metavar="YYYY-MM-DD",
                help="business date to act on (sets the business clock for this run; default: today)",
            )

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            as_of = options.get("as_of")
            if as_of:
                day = clock.parse_date(as_of, field="--as-of")
                tz = getattr(clock.current(), "default_tz", "UTC")
                with clock.use(clock.SimulationClock(day, default_tz=tz)):
                    return super().execute(*args, **options)
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=2) from exc
