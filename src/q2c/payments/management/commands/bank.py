"""``q2c bank …``: bank statements and cash application from the command line.

- ``q2c bank import FILE [--dry-run] [--json] [--mapping MAPPING.json] [--account IBAN] [--no-match]``
  — parse a camt.053/054, MT940, BAI2 or CSV file (format detected from content) and store its
  statements and lines once; lines already held are counted as duplicates and nothing of them is
  written again. Then the new lines are matched and automatic matches applied (``--no-match``
  leaves them for ``q2c bank match``). ``--dry-run`` parses and reports without saving and accepts
  statements for accounts q2c does not know (a warning).
- ``q2c bank match [--entity ID] [--rematch] [--json]`` — match the unresolved lines; apply what
  is sure, leave the rest in the workbench.
- ``q2c bank account IBAN [--fee-tolerance AMOUNT] [--threshold N] [--mapping MAPPING.json]``
  — the cash-application settings of one of the seller's bank accounts (CSV column mapping, bank
  fee tolerance, auto-apply threshold).

Thin: parsing lives in :mod:`q2c.payments.bank` (pure), storing and matching in
:mod:`q2c.payments.cash.services`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.payments.bank import CsvMapping
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Bank statements: q2c bank import FILE [--dry-run] [--json]; q2c bank match; q2c bank account IBAN"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        imp = sub.add_parser("import", help="import a camt.053/054, MT940, BAI2 or CSV file")
        imp.add_argument("file", metavar="FILE")
        imp.add_argument("--dry-run", action="store_true", help="parse and report; save nothing")
        imp.add_argument("--json", action="store_true", help="print one JSON object")
        imp.add_argument("--mapping", metavar="MAPPING.json", help="column mapping for a CSV export")
        imp.add_argument(
            "--account",
            metavar="IBAN",
            help="the bank account the file belongs to (CSV, local account numbers)",
        )
        imp.add_argument("--no-match", action="store_true", help="store the lines; do not match them now")
        match = sub.add_parser("match", help="match unresolved bank lines and apply what is sure")
        match.add_argument("--entity", type=int, metavar="ID", help="only this legal entity's accounts")
        match.add_argument(
            "--rematch", action="store_true", help="also retry proposed and unidentified lines"
        )
        match.add_argument("--json", action="store_true", help="print one JSON object")
        account = sub.add_parser("account", help="cash-application settings of a bank account")
        account.add_argument("iban", metavar="IBAN")
        account.add_argument(
            "--fee-tolerance", metavar="AMOUNT", help="short payments up to this are a bank fee"
        )
        account.add_argument(
            "--threshold", type=int, metavar="N", help="confidence at which matches apply themselves"
        )
        account.add_argument("--mapping", metavar="MAPPING.json", help="save this CSV column mapping")
        account.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, "_" + opts["action"])(opts)

    # --- helpers -------------------------------------------------------------------------------

    def _mapping(self, path: str | None) -> CsvMapping | None:
        if not path:
            return None
        try:
            return CsvMapping.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the mapping {path}: {exc}", returncode=2) from None

    def _account_id(self, iban: str | None) -> int | None:
        if not iban:
            return None
        from q2c.payments.cash.services.importing import known_accounts

        found = known_accounts().get("".join(iban.split()).upper())
        if found is None:
            raise CommandError(f"q2c holds no bank account {iban}", returncode=2)
        return found.id

    # --- actions -------------------------------------------------------------------------------

    def _import(self, opts: dict[str, Any]) -> None:
        from q2c.payments.cash.services import importing, pipeline

        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=2) from None
        mapping = self._mapping(opts.get("mapping"))
        account_id = self._account_id(opts.get("account"))
        if opts["dry_run"]:
            report = importing.import_file(
                data,
                file_name=path.name,
                bank_account_id=account_id,
                csv_mapping=mapping,
                dry_run=True,
                actor="cli",
            )
            report.pop("saved", None)
        else:
            # Imported and matched; the import runs beside the matcher's loading where it can.
            report = pipeline.import_and_match(
                data, file_name=path.name, bank_account_id=account_id, csv_mapping=mapping,
                match=not opts["no_match"], actor="cli",
            )  # fmt: skip
        if opts["json"]:
            self.stdout.write(json.dumps(report))
            return
        saved = "dry run — nothing saved" if opts["dry_run"] else f"saved as file {report['file_id']}"
        self.stdout.write(f"{path.name}: {report['format']} ({saved})")
        self.stdout.write(
            f"  {report['statements']} statements, {report['entries']} entries, "
            f"{report['transaction_details']} transaction details, {report['duplicates']} duplicates"
        )
        if not opts["dry_run"]:
            self.stdout.write(
                f"  {report['saved_statements']} statements and {report['saved_lines']} lines stored"
            )
        for currency, sums in report["totals"].items():
            self.stdout.write(f"  {currency}: credits {sums['credits']}, debits {sums['debits']}")
        for warning in report["warnings"]:
            where = f" [{warning['where']}]" if warning.get("where") else ""
            self.stdout.write(f"  warning {warning['code']}: {warning['message']}{where}")
        if "matching" in report:
            self._print_run(report["matching"])

    def _print_run(self, run: dict[str, Any]) -> None:
        self.stdout.write(
            f"  matched {run['lines']} lines: {run['applied']} applied, {run['proposed']} proposed, "
            f"{run['unidentified']} unidentified, {run['not_receivable']} not receivable"
        )

    def _match(self, opts: dict[str, Any]) -> None:
        from q2c.payments.cash.services import matching

        run = matching.run_matching(entity_id=opts.get("entity"), rematch=opts["rematch"], actor="cli")
        if opts["json"]:
            self.stdout.write(json.dumps(run))
            return
        self._print_run(run)

    def _account(self, opts: dict[str, Any]) -> None:
        from q2c.payments.cash.services import accounts

        account_id = self._account_id(opts["iban"])
        assert account_id is not None
        mapping = self._mapping(opts.get("mapping"))
        row = accounts.update_settings(
            account_id,
            fee_tolerance=opts.get("fee_tolerance"),
            auto_threshold=opts.get("threshold"),
            csv_mapping=mapping.to_dict() if mapping else None,
            actor="cli",
        )
        out = accounts.settings_dict(row)
        if opts["json"]:
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(
            f"{opts['iban']}: fee tolerance {out['fee_tolerance']} {out['currency']}, threshold "
            f"{out['auto_threshold']}, CSV mapping {'saved' if out['csv_mapping'] else 'none'}"
        )
