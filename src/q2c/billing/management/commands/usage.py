"""q2c usage import FILE [--batch N] [--json]: ingest usage events from a CSV or JSON Lines file.

Each batch of up to 10,000 records is stored in one transaction through the same service as the
API (``q2c.billing.usage.ingest``); events already stored (same id) are skipped, so importing a
file again is harmless. Bad records are listed with their line and stored not at all. Exit status
0 when every record was taken, 1 when some were refused (the others are stored), 2 when the file
cannot be read (nothing stored).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from q2c.billing import usage
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Usage metering: `q2c usage import FILE` ingests usage events from a .csv or .jsonl file."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="ingest usage events from a CSV or JSON Lines file")
        imp.add_argument("file", help="a .csv (header: id, subscription_id or account_id, metric, quantity, "
                         "timestamp, prop.<name>…) or .jsonl file (one event object per line)")  # fmt: skip
        imp.add_argument(
            "--batch", type=int, default=usage.MAX_BATCH, help="records per transaction (≤ 10,000)"
        )
        imp.add_argument("--json", action="store_true", help="print the result as one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        result = usage.import_file(opts["file"], batch=opts["batch"])
        if opts["json"]:
            self.stdout.write(json.dumps({"lines": result.lines, "accepted": result.accepted,
                                          "duplicates": result.duplicates, "errors": result.errors}))  # fmt: skip
        else:
            self.stdout.write(
                f"{opts['file']}: {result.lines} records, {result.accepted} stored, {result.duplicates} already "
                f"stored, {len(result.errors)} refused"
            )
            for e in result.errors[:50]:
                self.stdout.write(f"  line {e['line']}: {e['detail']} [{e['code']}]")
        if result.errors:
            raise SystemExit(1)
