"""``q2c kpis [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--entity ID] [--currency CUR] [--json]``.

Prints every KPI of docs/metrics.md for the range (``--to`` is the last day included; default:
the last 12 months to today by the business clock), one entity or all, converted into one
currency at stored rates. ``--json`` prints one JSON object (the keys of docs/metrics.md, "The
KPI report"); without it, a table. Bad input (a malformed or reversed range, an unknown entity
or currency, a currency without a stored rate) prints a message naming the option and exits 2.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.analytics import queries
from q2c.core.errors import DomainError
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Quote-to-cash KPIs for a range, an entity and a currency (--json for one JSON object)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="date_from",
            metavar="YYYY-MM-DD",
            help="first day (default: 12 months before --to)",
        )
        parser.add_argument(
            "--to", dest="date_to", metavar="YYYY-MM-DD", help="last day included (default: today)"
        )
        parser.add_argument("--entity", dest="entity", metavar="ID", help="legal entity id (default: all)")
        parser.add_argument(
            "--currency", dest="currency", metavar="CUR", help="reporting currency (default: the entity's)"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            scope = queries.scope_from(
                date_from=opts.get("date_from"),
                date_to=opts.get("date_to"),
                entity=opts.get("entity"),
                currency=opts.get("currency"),
            )
            data = queries.kpis_json(scope)
        except DomainError as exc:
            option = f"--{exc.field}: " if exc.field else ""
            raise CommandError(f"{option}{exc.message} [{exc.code}]", returncode=2) from exc
        if opts.get("as_json"):
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"KPIs {data['from']} … {data['to']} in {data['currency']}")
        for key, value in data.items():
            if key not in ("from", "to", "currency"):
                self._row(key, value)

    def _row(self, key: str, value: Any) -> None:
        if isinstance(value, dict):
            for sub, inner in value.items():
                self._row(f"{key}.{sub}", inner)
            return
        self.stdout.write(f"  {key:<44} {'—' if value is None else value}")
