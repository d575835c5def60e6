"""q2c catalog import KIND FILE | export KIND [--format csv|xlsx] [--out FILE] | check-rules.

Import and export the catalog's products, charges, price books and price entries (the same
services as the API: a file with any bad row imports nothing and every problem is printed with
its row); check the stored configuration rules for cycles and contradictions.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.catalog import services
from q2c.catalog.errors import ImportRejected
from q2c.catalog.services.io import FORMATS, KINDS
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Import or export the catalog (CSV/XLSX), or check its configuration rules."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        imp = sub.add_parser("import", help="import a CSV or XLSX file (all rows or none)")
        imp.add_argument("kind", choices=KINDS)
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        exp = sub.add_parser("export", help="write a CSV or XLSX file in the import format")
        exp.add_argument("kind", choices=KINDS)
        exp.add_argument("--format", choices=FORMATS, default="csv")
        exp.add_argument("--out", help="file to write (default: standard output for CSV)")
        sub.add_parser("check-rules", help="look for cycles and contradictions among the rules")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "import":
            path = Path(opts["file"])
            if not path.is_file():
                raise CommandError(f"no file {path}", returncode=2)
            try:
                result = services.import_file(
                    opts["kind"], path.name, path.read_bytes(), actor="cli", dry_run=opts["dry_run"]
                )
            except ImportRejected as exc:
                for problem in exc.details:
                    self.stderr.write(
                        f"row {problem['row']}, {problem['field']}: {problem['message']} [{problem['code']}]"
                    )
                raise
            verb = "would import" if result["dry_run"] else "imported"
            self.stdout.write(
                f"{verb} {result['rows']} rows: {result['created']} new, {result['updated']} updated"
            )
        elif action == "export":
            content, _content_type, _name = services.export_file(opts["kind"], opts["format"])
            out = opts.get("out")
            if out:
                Path(out).write_bytes(content)
                self.stdout.write(f"wrote {out}")
            elif opts["format"] == "csv":
                sys.stdout.write(content.decode())
            else:
                raise CommandError("give --out FILE for an XLSX export", returncode=2)
        else:
            problems = services.check_saved_rules()
            for message in problems:
                self.stdout.write(message)
            if problems:
                raise CommandError(f"{len(problems)} problem(s) among the configuration rules", returncode=1)
            self.stdout.write("the configuration rules have no cycles or contradictions")
