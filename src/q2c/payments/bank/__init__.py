"""Bank statement import, pure: bytes in, :class:`ParsedFile` out (or a :class:`BankFileError`).

Public entry points (no Django, no database — the payments app stores what these return):

- :func:`parse_file` ``(data, *, csv_mapping=None, previous_closing=None) -> ParsedFile`` — detects
  the format from the content (camt.053/054 XML, MT940, BAI2; CSV when a mapping is given), parses
  the whole file or refuses it, and adds balance warnings;
- :func:`detect_format` ``(data) -> str`` — ``"camt"``, ``"mt940"``, ``"bai2"`` or ``"csv"``;
- :func:`dry_run_report` ``(parsed, *, known_fingerprints=(), known_accounts=None) -> dict`` —
  the ``q2c bank import --dry-run --json`` summary;
- :func:`check_balances` — opening/closing continuity warnings, given earlier closings;
- the records :class:`Statement`, :class:`Entry`, :class:`TransactionDetail`, :class:`Balance`,
  :class:`ParsedFile`, :class:`Notice`, and :class:`CsvMapping`.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from q2c.payments.bank.checks import check_balances
from q2c.payments.bank.csvfile import CsvMapping
from q2c.payments.bank.errors import BankFileError, Notice
from q2c.payments.bank.model import Balance, Entry, ParsedFile, Statement, TransactionDetail
from q2c.payments.bank.parse import detect_format, parse_file
from q2c.payments.bank.report import dry_run_report

__all__ = [
    "Balance",
    "BankFileError",
    "CsvMapping",
    "Entry",
    "Notice",
    "ParsedFile",
    "Statement",
    "TransactionDetail",
    "check_balances",
    "detect_format",
    "dry_run_report",
    "parse_file",
]
