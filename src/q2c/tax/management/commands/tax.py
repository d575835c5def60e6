"""q2c tax load [--file CSV …] [--replace]: load the shipped tax data, or import CSV files.

Without ``--file`` the files shipped in ``q2c/tax/data/`` (EU and UK VAT rates, Canary Islands
IGIC, US state sales tax, the rules, the tax codes) are loaded; loading twice changes nothing.
With ``--file`` each file is imported (rates, rules or tax codes, told apart by the header).
``--replace`` lets a file replace what it covers (see ``q2c.tax.services.import_csv``). A file
with any bad row is refused whole, each bad row named (exit status 2); with several files,
nothing is imported unless all of them are good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from q2c.core.errors import ValidationError
from q2c.platform.commands import Q2CCommand
from q2c.tax import services


class Command(Q2CCommand):
    help = (
        "Tax data: `q2c tax load [--file CSV ...] [--replace]` loads the shipped data or imports CSV files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        load = sub.add_parser("load", help="load the shipped tax data, or import CSV files (--file)")
        load.add_argument(
            "--file", dest="files", action="append", default=[], metavar="CSV", help="a CSV file (repeatable)"
        )
        load.add_argument(
            "--replace",
            action="store_true",
            help="the file replaces what it covers (rates: its jurisdictions; rules: all; codes: deactivate others)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = "q2c tax load"
        try:
            with transaction.atomic():
                if not opts["files"]:
                    reports = services.load_shipped(replace=opts["replace"], actor=actor)
                else:
                    reports = []
                    for name in opts["files"]:
                        path = Path(name)
                        try:
                            text = path.read_text(encoding="utf-8-sig")
                        except OSError as exc:
                            raise CommandError(f"cannot read {name}: {exc.strerror}", returncode=2) from exc
                        reports.append(
                            services.import_csv(text, replace=opts["replace"], actor=actor, source=path.name)
                        )
        except ValidationError as exc:
            for row in exc.details:
                if "line" in row:
                    self.stderr.write(f"  line {row['line']}: {row['field']}: {row['message']}")
            raise
        for report in reports:
            self.stdout.write(
                f"{report.source}: {report.kind} — {report.rows} row(s): {report.created} created, "
                f"{report.updated} updated, {report.unchanged} unchanged, {report.removed} removed"
            )
