"""q2c revenue preview FILE.json: a contract's allocation and monthly schedule as JSON, saving nothing.
q2c revenue run --period YYYY-MM [--entity ID] [--json]: recognise and post a month (idempotent).

The file uses the format of docs/revenue-preview.md (JSON Schema:
src/q2c/revenue/schema/revenue-preview.schema.json); ``-`` reads standard input. Bad input is a
message naming the field, and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.platform.commands import Q2CCommand
from q2c.revenue.engine import preview as engine_preview
from q2c.revenue.engine.errors import RevenueInputError


class Command(Q2CCommand):
    help = "Revenue tools. q2c revenue preview FILE.json: print a contract's allocation and schedule as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        p = sub.add_parser(
            "preview",
            help="allocate and schedule a contract described as JSON (docs/revenue-preview.md); saves nothing",
        )
        p.add_argument("file", metavar="FILE.json", help="the contract as JSON; '-' reads standard input")
        p.add_argument("--compact", action="store_true", help="one line of JSON instead of indented output")
        p.add_argument("--schema", action="store_true", help="print the JSON Schema of the input instead")

        r = sub.add_parser(
            "run", help="recognise and post every contract's revenue through a month end (idempotent)"
        )
        r.add_argument("--period", required=True, metavar="YYYY-MM")
        r.add_argument(
            "--entity", type=int, default=None, help="legal entity id (default: every entity with a book)"
        )
        r.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "run":
            self._run(opts)
            return
        if opts.get("schema"):
            self.stdout.write(json.dumps(engine_preview.schema(), indent=2, ensure_ascii=False))
            return
        name = opts["file"]
        try:
            text = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc.strerror}", returncode=2) from None
        try:
            result = engine_preview.preview(text)
        except RevenueInputError as exc:
            named = exc.field and not exc.message.startswith(exc.field)
            lines = [f"{exc.field}: {exc.message} [{exc.code}]" if named else f"{exc.message} [{exc.code}]"]
            lines += [f"  also: {d['message']}" for d in exc.details[1:]]
            raise CommandError("\n".join(lines), returncode=2) from None
        indent = None if opts.get("compact") else 2
        self.stdout.write(json.dumps(result, indent=indent, ensure_ascii=False))

    def _run(self, opts: dict[str, Any]) -> None:
        from q2c.core.errors import DomainError
        from q2c.ledger.models import Book
        from q2c.revenue import run as revenue_run
        from q2c.revenue.services import month_of

        try:
            first = month_of(opts["period"])
            entities = (
                [opts["entity"]]
                if opts.get("entity")
                else list(Book.objects.values_list("entity_id", flat=True))
            )
            results = [revenue_run.recognise(e, first, actor="cli") for e in entities]
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=2) from None
        if opts.get("json"):
            self.stdout.write(json.dumps(results if len(results) != 1 else results[0]))
            return
        for r in results:
            self.stdout.write(
                f"revenue {r['period']} entity {r['entity_id']}: {r['recognised']} {r['currency']} recognised "
                f"({r['usage']} usage), {r['lines']} lines, entry {r['entry'] or '-'} (run {r['attempt']})"
            )
