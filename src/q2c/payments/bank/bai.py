"""BAI2 (Cash Management Balance Reporting Specification, version 2), read with the ``bai2``
package with its integrity checks on (record counts and control totals must tie).

BAI2 amounts are integers in the currency's minor units with the decimal point implied (150000 in
USD is 1,500.00; in JPY it is 150,000), unsigned for transactions: the type code says credit (100–
399) or debit (400–699). Status amounts (balances, type 010 opening ledger / 015 closing ledger)
may carry a sign. Each account record names its currency (else the group's, else USD as the
specification says); one account never mixes currencies. Type 890 (non-monetary information) is
skipped with a warning. A file must end with its ``99`` trailer, else it was truncated.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from bai2 import bai2 as bai2_parser
from bai2 import exceptions as bai2_errors
from bai2.constants import TypeCodeTransaction

from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.payments.bank.common import Fingerprinter, clean, decode_text, sha
from q2c.payments.bank.errors import BankFileError, Notice
from q2c.payments.bank.model import Balance, Entry, ParsedFile, Statement, TransactionDetail

_KEYS = r"ORIG CO NAME|ORIG ID|ORIG BK|ORIGINATOR|DESC DATE|ENTRY DESCR|IND ID|IND NAME|TRACE#|SEC|REF|OBI|BBI|BNF|ORG|B/O|WIRE TYPE"
# US ACH/wire texts name the payer after one of these keys ("ORIG CO NAME:CONTOSO LTD ORIG ID:…").
_PAYER = re.compile(
    r"(?:ORIG CO NAME|ORIGINATOR|B/O|ORG)\s*[:=]\s*(.+?)\s*(?=(?:" + _KEYS + r")\s*[:=]|[,/]|$)"
)


def sniff(text: str) -> bool:
    return text.lstrip("\ufeff \r\n").startswith("01,")


def _minor(value: int | None, currency: str, *, where: str) -> Money:
    if value is None:
        raise BankFileError("bad_amount", "an amount is missing", where=where)
    try:
        return Money.from_minor(int(value), currency)
    except ValidationError as exc:
        raise BankFileError("bad_amount", exc.message, where=where) from None


def _payer(text: str) -> str | None:
    found = _PAYER.search(text.upper())
    return clean(found.group(1)) if found else None


def parse_bai2(data: bytes) -> ParsedFile:
    """Parse a BAI2 file completely, or raise :class:`BankFileError`."""
    warnings: list[Notice] = []
    text = decode_text(data, what="BAI2", warnings=warnings)
    records = [line.strip() for line in text.splitlines() if line.strip()]
    if not records or not records[0].startswith("01,"):
        raise BankFileError("unknown_format", "a BAI2 file starts with a 01 file header record")
    if not records[-1].startswith("99,"):
        raise BankFileError("truncated", "the BAI2 file does not end with its 99 trailer record — truncated?")
    try:
        parsed: Any = bai2_parser.parse_from_lines(records, check_integrity=True)
    except bai2_errors.IntegrityException as exc:
        raise BankFileError("control_total", f"the BAI2 totals do not tie: {exc}") from None
    except bai2_errors.NotSupportedYetException as exc:
        raise BankFileError("malformed", f"the BAI2 file uses something q2c cannot read: {exc}") from None
    except (bai2_errors.ParsingException, StopIteration, ValueError, IndexError, KeyError, TypeError) as exc:
        raise BankFileError(
            "malformed", f"the BAI2 file cannot be read: {exc or type(exc).__name__}"
        ) from None
    fingerprint = Fingerprinter()
    statements: list[Statement] = []
    file_id = clean(parsed.header.file_id) or ""
    for g_no, group in enumerate(parsed.children, start=1):
        as_of = group.header.as_of_date
        group_currency = group.header.currency or "USD"
        for a_no, account in enumerate(group.children, start=1):
            where = f"group {g_no}, account {a_no}"
            number = clean(account.header.customer_account_number) or ""
            currency = account.header.currency or group_currency
            opening = closing = None
            for summary in account.header.summary_items:
                code = summary.type_code.code
                if code in ("010", "015") and summary.amount is not None:
                    balance = Balance(_minor(summary.amount, currency, where=where), as_of, code)
                    if code == "010":
                        opening = balance
                    else:
                        closing = balance
            entries: list[Entry] = []
            for t_no, tx in enumerate(account.children, start=1):
                line_where = f"{where}, transaction {t_no}"
                direction = tx.type_code.transaction
                if direction not in (TypeCodeTransaction.credit, TypeCodeTransaction.debit):
                    warnings.append(
                        Notice.of(
                            "skipped_line",
                            f"type {tx.type_code.code} ({tx.type_code.description}) carries no amount to book",
                            line_where,
                        )
                    )
                    continue
                amount = _minor(tx.amount, currency, where=line_where)
                if amount.amount < 0:
                    raise BankFileError(
                        "bad_amount", "a BAI2 transaction amount is negative", where=line_where
                    )
                if direction is TypeCodeTransaction.debit:
                    amount = -amount
                value_date = as_of
                if isinstance(tx.availability, dict) and tx.availability.get("date"):
                    value_date = tx.availability["date"]
                remittance = clean(tx.text) or ""
                bank_ref = clean(tx.bank_reference)
                customer_ref = clean(tx.customer_reference)
                content = (
                    amount.amount,
                    currency,
                    as_of,
                    tx.type_code.code,
                    bank_ref,
                    customer_ref,
                    remittance,
                )
                payer = _payer(remittance)
                is_credit = amount.amount >= 0
                detail = TransactionDetail(
                    amount=amount,
                    fingerprint=fingerprint("detail", number, *content),
                    remittance=remittance,
                    references=(customer_ref,) if customer_ref else (),
                    debtor_name=payer if is_credit else None,
                    creditor_name=None if is_credit else payer,
                    bank_reference=bank_ref,
                    implicit=True,
                )
                entries.append(
                    Entry(
                        amount=amount,
                        fingerprint=fingerprint("entry", number, *content),
                        booking_date=as_of,
                        value_date=value_date,
                        details=(detail,),
                        bank_reference=bank_ref,
                        entry_reference=customer_ref,
                        bank_transaction_code=tx.type_code.code,
                    )
                )
            statement_id = f"{file_id}/{g_no}/{number}"
            statements.append(
                Statement(
                    statement_id=statement_id,
                    account=number,
                    currency=currency,
                    entries=tuple(entries),
                    fingerprint=sha("bai2", statement_id, as_of, len(entries)),
                    from_date=as_of,
                    to_date=as_of,
                    opening_balance=opening,
                    closing_balance=closing,
                )
            )
    return ParsedFile(
        format="bai2",
        statements=tuple(statements),
        warnings=tuple(warnings),
        sha256=hashlib.sha256(data).hexdigest(),
    )
