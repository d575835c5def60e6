"""CSV bank exports, read with a column mapping saved per bank account.

Every bank's CSV differs (separator, header lines above the table, date and number formats, one
signed amount column or separate credit/debit columns or an amount plus a D/C mark), so nothing is
guessed: a :class:`CsvMapping` — a plain dataclass, saved as JSON beside the bank account — says
where everything is. Amounts are parsed exactly from text with the mapping's decimal and thousands
separators; a value that does not fit the mapping refuses the file with its line number.

A CSV export covers one account in one currency: a currency column disagreeing with the mapping's
currency is an error, not a second statement.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from q2c.payments.bank.common import Fingerprinter, clean, end_to_end, iban, money, sha
from q2c.payments.bank.errors import BankFileError, Notice
from q2c.payments.bank.model import Entry, ParsedFile, Statement, TransactionDetail

_DIGITS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class CsvMapping:
    """Where a bank's CSV export keeps what q2c needs. Columns are header names, or 1-based
    positions written as strings ("1", "2", …) when ``has_header`` is false.

    Amount: exactly one of ``amount_column`` (signed, or unsigned with ``sign_column``) or the pair
    ``credit_column``/``debit_column`` (one of them filled per row).
    """

    account: str  # the account the export belongs to (IBAN or bank account number)
    currency: str
    date_column: str
    date_format: str = "%Y-%m-%d"  # strptime format, e.g. "%d.%m.%Y"
    amount_column: str | None = None
    credit_column: str | None = None
    debit_column: str | None = None
    sign_column: str | None = None
    credit_marks: tuple[str, ...] = ("C", "CR", "CRDT", "H", "+")
    debit_marks: tuple[str, ...] = ("D", "DR", "DBIT", "S", "-")
    value_date_column: str | None = None
    remittance_columns: tuple[str, ...] = ()
    payer_name_column: str | None = None
    payer_iban_column: str | None = None
    reference_column: str | None = None  # the bank's own reference of the line
    end_to_end_column: str | None = None
    currency_column: str | None = None
    delimiter: str = ","
    quotechar: str = '"'
    decimal_separator: str = "."
    thousands_separator: str = ""
    encoding: str = "utf-8"
    skip_lines: int = 0  # lines above the header (titles, account summaries)
    has_header: bool = True

    def __post_init__(self) -> None:
        has_amount = self.amount_column is not None
        has_pair = self.credit_column is not None or self.debit_column is not None
        if has_amount == has_pair or (has_pair and not (self.credit_column and self.debit_column)):
            raise BankFileError(
                "csv_mapping",
                "the mapping needs either amount_column or both credit_column and debit_column",
            )
        if self.decimal_separator == self.thousands_separator or self.decimal_separator not in (".", ","):
            raise BankFileError(
                "csv_mapping",
                "the decimal separator must be '.' or ',' and differ from the thousands separator",
            )
        if "%" not in self.date_format:
            raise BankFileError("csv_mapping", f"'{self.date_format}' is not a strptime date format")
        if len(self.delimiter) != 1:
            raise BankFileError("csv_mapping", "the delimiter must be one character")
        if not self.account or not self.currency:
            raise BankFileError("csv_mapping", "the mapping names the account and its currency")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CsvMapping:
        """Build from saved JSON; unknown keys are refused (a typo would silently lose a column)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BankFileError("csv_mapping", f"unknown mapping keys: {', '.join(unknown)}")
        values = dict(data)
        for key in ("credit_marks", "debit_marks", "remittance_columns"):
            if key in values:
                values[key] = tuple(values[key])
        try:
            return cls(**values)
        except TypeError as exc:
            raise BankFileError("csv_mapping", f"the mapping is incomplete: {exc}") from None


def _amount(text: str, mapping: CsvMapping, *, where: str) -> Decimal:
    value = text.replace("\u00a0", "").replace(" ", "").strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    if value.endswith("-"):  # "123,45-": common in German exports
        negative, value = True, value[:-1]
    if value.startswith(("-", "+")):
        negative, value = value[0] == "-", value[1:]
    if mapping.thousands_separator:
        value = value.replace(mapping.thousands_separator, "")
    if mapping.decimal_separator != ".":
        if "." in value:
            raise BankFileError(
                "bad_amount", f"'{text}' does not use the mapping's decimal comma", where=where
            )
        value = value.replace(",", ".")
    if not _DIGITS.fullmatch(value):
        raise BankFileError("bad_amount", f"'{text}' is not an amount", where=where)
    number = Decimal(value)
    return -number if negative else number


def parse_csv(data: bytes, mapping: CsvMapping) -> ParsedFile:
    """Parse a CSV export completely with ``mapping``, or raise :class:`BankFileError`."""
    try:
        text = data.decode(mapping.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise BankFileError(
            "encoding",
            f"the CSV file is not {mapping.encoding} ({exc}); set the mapping's encoding (e.g. cp1252)",
        ) from None
    text = text.lstrip("\ufeff")
    try:
        reader = csv.reader(
            io.StringIO(text), delimiter=mapping.delimiter, quotechar=mapping.quotechar, strict=True
        )
        rows = list(reader)
    except csv.Error as exc:
        raise BankFileError("malformed", f"the CSV cannot be read: {exc}") from None
    rows = rows[mapping.skip_lines :]
    if mapping.has_header:
        if not rows:
            raise BankFileError("empty", "the CSV file has no header line")
        header = [h.strip() for h in rows[0]]
        body_start = 1
    else:
        width = max((len(r) for r in rows), default=0)
        header = [str(i) for i in range(1, width + 1)]
        body_start = 0
    positions = {name: i for i, name in enumerate(header)}
    wanted = [
        mapping.date_column, mapping.amount_column, mapping.credit_column, mapping.debit_column,
        mapping.sign_column, mapping.value_date_column, *mapping.remittance_columns,
        mapping.payer_name_column, mapping.payer_iban_column, mapping.reference_column,
        mapping.end_to_end_column, mapping.currency_column,
    ]  # fmt: skip
    missing = [c for c in wanted if c is not None and c not in positions]
    if missing:
        raise BankFileError("csv_mapping", f"the file has no column {', '.join(repr(c) for c in missing)}")
    needed = max(positions[c] for c in wanted if c is not None) + 1

    def cell(row: list[str], column: str | None) -> str:
        return row[positions[column]].strip() if column is not None else ""

    def day(value: str, where: str) -> date:
        try:
            return datetime.strptime(value, mapping.date_format).date()
        except ValueError:
            raise BankFileError(
                "bad_date", f"'{value}' does not match {mapping.date_format}", where=where
            ) from None

    fingerprint = Fingerprinter()
    entries: list[Entry] = []
    body = rows[body_start:]
    line_offset = mapping.skip_lines + body_start
    for n, row in enumerate(body, start=1):
        where = f"line {line_offset + n}"
        if not any(c.strip() for c in row):
            continue
        if len(row) < needed:
            last = n == len(body)
            raise BankFileError(
                "truncated" if last and not text.endswith("\n") else "malformed",
                f"the row has {len(row)} columns, the mapping needs {needed}",
                where=where,
            )
        if mapping.currency_column and cell(row, mapping.currency_column) != mapping.currency:
            raise BankFileError(
                "mixed_currencies",
                f"a row in {cell(row, mapping.currency_column)!r} in an export of a {mapping.currency} account",
                where=where,
            )
        if mapping.amount_column is not None:
            value = _amount(cell(row, mapping.amount_column), mapping, where=where)
            if mapping.sign_column is not None:
                mark = cell(row, mapping.sign_column).upper()
                if mark in mapping.debit_marks:
                    value = -abs(value)
                elif mark in mapping.credit_marks:
                    value = abs(value)
                else:
                    raise BankFileError(
                        "bad_amount", f"'{mark}' is neither a credit nor a debit mark", where=where
                    )
        else:
            credit, debit = cell(row, mapping.credit_column), cell(row, mapping.debit_column)
            if bool(credit) == bool(debit):
                raise BankFileError(
                    "bad_amount", "exactly one of the credit and debit columns must be filled", where=where
                )
            value = (
                abs(_amount(credit, mapping, where=where))
                if credit
                else -abs(_amount(debit, mapping, where=where))
            )
        amount = money(value, mapping.currency, where=where)
        booking = day(cell(row, mapping.date_column), where)
        value_text = cell(row, mapping.value_date_column)
        value_date = day(value_text, where) if value_text else booking
        remittance = clean(" ".join(cell(row, c) for c in mapping.remittance_columns)) or ""
        name = clean(cell(row, mapping.payer_name_column))
        account_no = iban(cell(row, mapping.payer_iban_column))
        bank_ref = clean(cell(row, mapping.reference_column))
        e2e = end_to_end(cell(row, mapping.end_to_end_column))
        content = (amount.amount, booking, value_date, remittance, name, account_no, bank_ref, e2e)
        is_credit = amount.amount >= 0
        detail = TransactionDetail(
            amount=amount,
            fingerprint=fingerprint("detail", mapping.account, *content),
            end_to_end_id=e2e,
            remittance=remittance,
            debtor_name=name if is_credit else None,
            debtor_iban=account_no if is_credit else None,
            creditor_name=None if is_credit else name,
            creditor_iban=None if is_credit else account_no,
            bank_reference=bank_ref,
            implicit=True,
        )
        entries.append(
            Entry(
                amount=amount,
                fingerprint=fingerprint("entry", mapping.account, *content),
                booking_date=booking,
                value_date=value_date,
                details=(detail,),
                bank_reference=bank_ref,
            )
        )
    digest = hashlib.sha256(data).hexdigest()
    dates = [e.booking_date for e in entries if e.booking_date]
    warnings: list[Notice] = []
    if not entries:
        warnings.append(Notice.of("skipped_line", "the CSV file holds no bookings"))
    statement = Statement(
        statement_id=f"csv-{digest[:12]}",
        account=mapping.account,
        currency=mapping.currency,
        entries=tuple(entries),
        fingerprint=sha("csv", mapping.account, digest),
        from_date=min(dates) if dates else None,
        to_date=max(dates) if dates else None,
    )
    return ParsedFile(format="csv", statements=(statement,), warnings=tuple(warnings), sha256=digest)
