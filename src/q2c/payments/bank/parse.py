"""Format detection from content, and the one entry point that parses any supported file.

Detection never trusts a file name: XML naming an ISO 20022 camt message is camt; a first record
``01,`` is BAI2; ``:20:`` followed by MT940 tags (optionally inside a SWIFT envelope) is MT940;
anything else is CSV, which needs the account's saved column mapping.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import codecs
import dataclasses
from collections.abc import Mapping

from q2c.payments.bank import bai, camt, swift_mt940
from q2c.payments.bank.checks import check_balances
from q2c.payments.bank.csvfile import CsvMapping, parse_csv
from q2c.payments.bank.errors import BankFileError
from q2c.payments.bank.model import Balance, ParsedFile


def _head(data: bytes) -> str:
    head = data[:8192]
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return head.decode(codec, errors="ignore").lstrip("\ufeff")
    # Latin-1 decodes any bytes: enough to look at ASCII markers.
    return head.decode("latin-1")


def detect_format(data: bytes) -> str:
    """``camt``, ``bai2``, ``mt940`` or ``csv`` (the last when nothing else fits)."""
    if not data.strip():
        raise BankFileError("empty", "the file is empty")
    head = _head(data).lstrip()
    if head.startswith("<"):
        return "camt"
    if bai.sniff(head):
        return "bai2"
    if swift_mt940.sniff(head.replace("\r\n", "\n")) or head.startswith("{1:"):
        return "mt940"
    return "csv"


def parse_file(
    data: bytes,
    *,
    csv_mapping: CsvMapping | None = None,
    previous_closing: Mapping[str, Balance] | None = None,
) -> ParsedFile:
    """Parse a bank file of any supported format, completely or not at all.

    Args:
        data: the file's bytes, as received.
        csv_mapping: the account's saved column mapping, needed only for CSV files.
        previous_closing: per account, the closing balance of the last statement already imported,
            so a gap before this file's first statement is reported.

    Returns the parsed file with its warnings (balance checks included).

    Raises:
        BankFileError: with a stable ``payments.bank.*`` code; nothing of the file is returned.
    """
    kind = detect_format(data)
    if kind == "camt":
        parsed = camt.parse_camt(data)
    elif kind == "bai2":
        parsed = bai.parse_bai2(data)
    elif kind == "mt940":
        parsed = swift_mt940.parse_mt940(data)
    else:
        if csv_mapping is None:
            raise BankFileError(
                "csv_mapping_required",
                "the file is not camt.053/054, MT940 or BAI2; if it is a CSV export, import it with the "
                "account's column mapping",
            )
        parsed = parse_csv(data, csv_mapping)
    balance_notes = check_balances(parsed.statements, previous_closing)
    if balance_notes:
        parsed = dataclasses.replace(parsed, warnings=parsed.warnings + tuple(balance_notes))
    return parsed
