"""``q2c ledger check|export``: run the registered ledger invariants, or export the journal.

- ``q2c ledger check [--as-of DATE]`` runs every check in ``q2c.platform.registry.checks`` (the
  ledger's own and those later apps register from ``q2c/wiring.py``); it prints each check's
  result and exits 1 naming every problem when something does not tie.
- ``q2c ledger export --format beancount|csv -o FILE [--entity ID] [--as-of DATE]`` writes an
  entity's journal (entries dated up to ``--as-of``) as a beancount ledger or a CSV journal;
  ``-o -`` writes to standard output.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.ledger import exports, queries
from q2c.platform.commands import Q2CCommand
from q2c.platform.registry import checks


def _as_of_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--as-of",
        dest="as_of",
        metavar="YYYY-MM-DD",
        help="business date: only entries dated on or before it (sets the business clock)",
    )


class Command(Q2CCommand):
    help = "Ledger invariants (check) and exports (export --format beancount|csv -o FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        check = sub.add_parser(
            "check", help="run every registered ledger check; exit 1 naming what does not tie"
        )
        _as_of_argument(check)
        export = sub.add_parser("export", help="write an entity's journal as beancount or CSV")
        export.add_argument("--format", dest="format", choices=["beancount", "csv"], default="beancount")
        export.add_argument(
            "-o", "--out", dest="out", required=True, metavar="FILE", help="file to write; - for stdout"
        )
        export.add_argument(
            "--entity", dest="entity", type=int, help="entity id (needed when there are several books)"
        )
        _as_of_argument(export)

    def handle(self, *args: Any, **opts: Any) -> None:
        as_of = clock.today() if opts.get("as_of") else None
        if opts["action"] == "check":
            self._check(as_of)
        else:
            self._export(opts, as_of)

    def _check(self, as_of: date | None) -> None:
        failed: list[str] = []
        total = 0
        for name, check in checks.items():
            try:
                problems = list(check.run(as_of))
            except Exception as exc:  # a broken check is a failure to report, not a traceback
                problems = [f"the check itself failed: {type(exc).__name__}: {exc}"]
            if problems:
                failed.append(name)
                total += len(problems)
                self.stdout.write(f"FAIL {name}")
                for problem in problems:
                    self.stdout.write(f"     - {problem}")
            else:
                self.stdout.write(f"ok   {name}")
        if failed:
            raise CommandError(
                f"ledger check failed: {total} problem(s) in {', '.join(failed)}", returncode=1
            )
        scope = f" as of {as_of.isoformat()}" if as_of else ""
        self.stdout.write(f"ledger checks passed{scope}: {len(checks.names())} check(s)")

    def _export(self, opts: dict[str, Any], as_of: date | None) -> None:
        entity_id = opts.get("entity")
        if entity_id is None:
            books = queries.books()
            if len(books) != 1:
                raise ValidationError(
                    f"there are {len(books)} ledger books; name one with --entity "
                    f"({', '.join(str(b.entity_id) for b in books) or 'none'})",
                    code="ledger.entity_required",
                    field="--entity",
                )
            entity_id = books[0].entity_id
        queries.book(entity_id)
        out = opts["out"]
        fh = sys.stdout if out == "-" else open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115
        try:
            if opts["format"] == "beancount":
                n = exports.write_beancount(fh, entity_id, date_to=as_of)
                what = f"{n} entries"
            else:
                n = exports.write_journal_csv(fh, entity_id, queries.JournalFilter(date_to=as_of))
                what = f"{n} lines"
        finally:
            if fh is not sys.stdout:
                fh.close()
        if out != "-":
            self.stdout.write(f"wrote {what} of entity {entity_id} to {out} ({opts['format']})")
