"""``q2c bank import FILE [--dry-run] [--json] [--mapping MAPPING.json]``.

With ``--dry-run`` the file is parsed and checked (format detected from content, every line read
or the file refused) and a summary printed; nothing is saved, and statements for bank accounts q2c
does not know are accepted with a warning. Saving statements — and applying matched cash —
arrives with the payments app's bank-account and statement tables; until then the command
refuses to run without ``--dry-run`` rather than pretend to import.

Owns the command only; parsing lives in :mod:`q2c.payments.bank` (pure).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.payments.bank import CsvMapping, dry_run_report, parse_file
from q2c.platform.commands import Q2CCommand

NOT_YET = (
    "saving bank statements arrives with the payments app (bank accounts, statements, cash "
    "application); for now run 'q2c bank import FILE --dry-run' to parse and check a file"
)


class Command(Q2CCommand):
    help = "Bank statements: q2c bank import FILE --dry-run [--json] [--mapping MAPPING.json]"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        imp = sub.add_parser("import", help="import a camt.053/054, MT940, BAI2 or CSV file")
        imp.add_argument("file", metavar="FILE")
        imp.add_argument("--dry-run", action="store_true", help="parse and report; save nothing")
        imp.add_argument("--json", action="store_true", help="print one JSON object")
        imp.add_argument("--mapping", metavar="MAPPING.json", help="column mapping for a CSV export")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["dry_run"]:
            raise CommandError(NOT_YET, returncode=2)
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=2) from None
        mapping = None
        if opts.get("mapping"):
            try:
                mapping = CsvMapping.from_dict(json.loads(Path(opts["mapping"]).read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise CommandError(
                    f"cannot read the mapping {opts['mapping']}: {exc}", returncode=2
                ) from None
        parsed = parse_file(data, csv_mapping=mapping)
        # q2c holds no bank accounts yet (they come with the payments app): every account is unknown.
        report = dry_run_report(parsed, known_fingerprints=frozenset(), known_accounts=frozenset())
        if opts["json"]:
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(f"{path.name}: {report['format']} (dry run — nothing saved)")
        self.stdout.write(
            f"  {report['statements']} statements, {report['entries']} entries, "
            f"{report['transaction_details']} transaction details, {report['duplicates']} duplicates"
        )
        for currency, sums in report["totals"].items():
            self.stdout.write(f"  {currency}: credits {sums['credits']}, debits {sums['debits']}")
        for warning in report["warnings"]:
            where = f" [{warning['where']}]" if warning.get("where") else ""
            self.stdout.write(f"  warning {warning['code']}: {warning['message']}{where}")
