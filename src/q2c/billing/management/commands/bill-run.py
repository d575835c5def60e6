"""q2c bill-run --as-of YYYY-MM-DD [--workers N] [--json]: bill everything due on a date.

Runs (or resumes) the bill run of the date (``q2c.billing.run``): a rich progress bar while it
works, then the summary — invoices, totals per currency, accounts not billed and why. Exit
status 0 when everything due was billed, 1 when some accounts were reported (the rest is billed),
2 when the run was refused or failed (nothing half-written: run it again).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from q2c.billing.run import bill_run
from q2c.core import clock
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Bill everything due on the as-of date (default today); idempotent and resumable."
    takes_as_of = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--workers", type=int, default=1, help="processes pricing account shards in parallel (PostgreSQL)"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        as_of = clock.today()
        console = Console(stderr=True)
        show = not opts["json"] and not opts["no_progress"]
        if show:
            with Progress(
                TextColumn(f"bill run {as_of}"), BarColumn(), MofNCompleteColumn(), TextColumn("accounts"),
                TimeElapsedColumn(), console=console, transient=True,
            ) as bar:  # fmt: skip
                task = bar.add_task("accounts", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total or None)

                result = bill_run(as_of, workers=opts["workers"], actor="cli", progress=progress)
        else:
            result = bill_run(as_of, workers=opts["workers"], actor="cli")
        if opts["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            totals = ", ".join(f"{v} {k}" for k, v in result.totals.items()) or "nothing"
            self.stdout.write(
                f"bill run {result.as_of}: {result.invoices} invoices, {totals}; {result.created} new in attempt "
                f"{result.attempts} ({result.seconds:.1f} s)"
            )
            for e in result.errors:
                self.stdout.write(
                    f"  not billed: {e['account']} (account {e['account_id']}): {e['message']} [{e['code']}]"
                )
        if result.errors:
            raise SystemExit(1)
