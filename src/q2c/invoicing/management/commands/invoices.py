"""``q2c invoices export|verify``: issued documents as files, and their reproducibility.

``q2c invoices export --format ubl|cii|pdf|facturx --out DIR``: every issued document as a file.

Writes one file per issued invoice and credit note (``INV-2027-000001.ubl.xml``,
``CN-2027-000001.ubl.xml`` …) into DIR: the copy stored at issue, byte for byte; a format not
chosen at issue (or a bill-run invoice whose documents are not rendered yet) is rendered from the
frozen rows, validated against the EN 16931 rules and stored first. ``--entity ID``,
``--from``/``--to YYYY-MM-DD`` (issue dates) and ``--kind invoice|credit_note`` narrow the set.
DIR is created when missing; a file already there with other content is never overwritten.
Exit status 0 when everything was written, 2 on a refusal (message on stderr).

``q2c invoices verify [--entity ID] [--from/--to DATE]``: every stored document checked against
its SHA-256 and rendered again from the frozen rows; exit status 1 naming each document whose
bytes differ (serve the stored copy; nothing is overwritten).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.invoicing import errors
from q2c.invoicing.documents.render import DocumentFormat
from q2c.invoicing.services import documents
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Invoice documents: export --format ubl|cii|pdf|facturx --out DIR writes one file per issued document."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        export = sub.add_parser("export", help="write every issued invoice and credit note in one format")
        export.add_argument(
            "--format", dest="format", required=True, choices=[f.value for f in DocumentFormat]
        )
        export.add_argument(
            "-o", "--out", dest="out", required=True, metavar="DIR", help="directory to write into"
        )
        export.add_argument("--entity", dest="entity", type=int, help="only this legal entity's documents")
        export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="issued on or after")
        export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="issued on or before")
        export.add_argument(
            "--kind", dest="kind", choices=["invoice", "credit_note", "all"], default="all",
            help="invoices, credit notes or both (default)",
        )  # fmt: skip
        export.add_argument("--json", action="store_true", help="print the files written as JSON")
        verify = sub.add_parser(
            "verify", help="check stored documents against their hash and a fresh rendering"
        )
        verify.add_argument("--entity", dest="entity", type=int, help="only this legal entity's documents")
        verify.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="issued on or after")
        verify.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="issued on or before")

    def handle(self, *args: Any, **opts: Any) -> None:
        date_from = clock.parse_date(opts["date_from"], field="--from") if opts.get("date_from") else None
        date_to = clock.parse_date(opts["date_to"], field="--to") if opts.get("date_to") else None
        if date_from and date_to and date_to < date_from:
            raise errors.InvalidInvoice("--to is before --from", code=errors.INVALID_EXPORT, field="--to")
        if opts["action"] == "verify":
            self._verify(opts.get("entity"), date_from, date_to)
            return
        out = Path(opts["out"])
        if out.exists() and not out.is_dir():
            raise errors.InvalidInvoice(
                f"{out} is not a directory", code=errors.INVALID_EXPORT, field="--out"
            )
        out.mkdir(parents=True, exist_ok=True)
        kinds = documents.DOC_TYPES if opts["kind"] == "all" else (opts["kind"],)
        written = documents.export_documents(
            out,
            opts["format"],
            entity_id=opts.get("entity"),
            date_from=date_from,
            date_to=date_to,
            kinds=kinds,
        )
        if opts["json"]:
            self.stdout.write(json.dumps([
                {"type": w.doc_type, "file": w.path.name, "sha256": w.sha256} for w in written
            ]))  # fmt: skip
            return
        for w in written:
            self.stdout.write(f"{w.path.name}  {w.sha256}")
        self.stdout.write(f"wrote {len(written)} {opts['format']} document(s) to {out}")

    def _verify(self, entity_id: int | None, date_from: Any, date_to: Any) -> None:
        checked, bad = 0, []
        for doc_type, doc_id in documents.issued_documents(
            entity_id=entity_id, date_from=date_from, date_to=date_to
        ):
            try:
                checked += len(documents.verify_documents(doc_type, doc_id))
            except DomainError as exc:
                bad.append(exc.message)
                self.stdout.write(f"FAIL {exc.message}")
        if bad:
            raise CommandError(
                f"{len(bad)} document(s) not reproducible; serve the stored copies", returncode=1
            )
        self.stdout.write(f"{checked} stored document(s) reproduced byte for byte")
