"""SWIFT MT940 customer statements, read with the ``mt-940`` package.

The package's defaults sign amounts wrongly in two cases real files contain, so it runs with our
own pre-processors (the package's documented extension point, ``processors=``):

- reversal marks: ``RC`` (reversal of a credit — money leaves the account) comes out positive and
  ``RD`` only happens to be right; we read the mark ourselves, sign ``D``/``RC`` negative and
  ``C``/``RD`` positive, and keep ``reversal=True``;
- lowercase marks (``c``, ``d``, ``rc``; the tag patterns match case-insensitively but the sign
  test compares with ``'D'``) — the marks of statement lines *and* balances are upper-cased first.

Other banks' habits handled here: a SWIFT envelope (``{1:…}{2:…}{4:`` … ``-}``), several
statements per file (split at ``:20:``; the package keeps only the last statement's balances),
statement-level ``:86:`` after the closing balance (kept out of the last line's text), German
structured ``:86:`` (``?20``–``?29`` purpose, ``?32`` name, ``?31`` IBAN, ``SVWZ+``/``EREF+``),
Dutch/ING slash fields (``/EREF/``, ``/CNTP/``, ``/NAME/``, ``/REMI/``), and free text.

Every ``:61:`` must come out as exactly one line (the package silently merges statement lines
without a transaction type code), every message must close with ``:62F:``/``:62M:`` (else the
file is truncated), and all amounts of a message are in its opening balance's currency.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import InvalidOperation
from typing import Any

import mt940.models
import mt940.processors

from q2c.core.money import Money
from q2c.payments.bank.common import Fingerprinter, clean, decode_text, end_to_end, iban, is_iban, money, sha
from q2c.payments.bank.errors import BankFileError, Notice
from q2c.payments.bank.model import Balance, Entry, ParsedFile, Statement, TransactionDetail

_ENVELOPE = re.compile(r"\{[1235]:(?:[^{}]|\{[^{}]*\})*\}")
_AMOUNT = re.compile(r"\d{1,15},\d{0,15}")
_SLASH_KEYS = (
    "EREF", "KREF", "MARF", "CSID", "CNTP", "ORDP", "BENM", "NAME", "ADDR", "REMI", "IBAN", "BIC",
    "ISDT", "RTRN", "PREF", "PURP", "ULTC", "ULTD", "ULTB", "BUSP", "TRCD", "SVCL", "CDTRREFTP",
)  # fmt: skip
_SLASH = re.compile(r"/(" + "|".join(_SLASH_KEYS) + r")/")


def _mark(transactions: Any, tag: Any, tag_dict: dict[str, Any], *args: Any) -> dict[str, Any]:
    """Read the debit/credit mark of a :61: line before the package signs the amount."""
    mark = (tag_dict.get("status") or "").upper()
    tag_dict["q2c_mark"] = mark
    # RC reverses a credit (money out), RD reverses a debit (money back in).
    tag_dict["status"] = "D" if mark in ("D", "RC") else "C"
    if not _AMOUNT.fullmatch(tag_dict.get("amount") or ""):
        raise BankFileError(
            "bad_amount", f"'{tag_dict.get('amount')}' is not an MT940 amount (digits, one comma)"
        )
    return tag_dict


def _balance_mark(transactions: Any, tag: Any, tag_dict: dict[str, Any], *args: Any) -> dict[str, Any]:
    tag_dict["status"] = (tag_dict.get("status") or "").upper()
    if not _AMOUNT.fullmatch(tag_dict.get("amount") or ""):
        raise BankFileError("bad_amount", f"'{tag_dict.get('amount')}' is not an MT940 balance amount")
    return tag_dict


_BALANCES = (
    "opening_balance", "final_opening_balance", "intermediate_opening_balance", "closing_balance",
    "final_closing_balance", "intermediate_closing_balance", "available_balance",
    "forward_available_balance",
)  # fmt: skip
PROCESSORS: dict[str, list[Any]] = {
    "pre_statement": [mt940.processors.date_fixup_pre_processor, _mark],
    "post_transaction_details": [mt940.processors.transaction_details_post_processor_with_space],
    **{f"pre_{name}": [_balance_mark] for name in _BALANCES},
}


def sniff(text: str) -> bool:
    head = text[:8192]
    return bool(re.search(r"^:20:", head, re.M)) and bool(re.search(r"^:(25|60[FM]|61|28C?):", head, re.M))


def _messages(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ENVELOPE.sub("", text).replace("{4:", "\n")
    text = re.sub(r"^-\}?\s*$", "", text, flags=re.M)
    starts = [m.start() for m in re.finditer(r"^:20:", text, re.M)]
    return [text[a:b].strip() for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _slash_fields(text: str) -> dict[str, str]:
    parts = _SLASH.split("/" + text.lstrip("/") if text.startswith("/") else text)
    fields: dict[str, str] = {}
    for i in range(1, len(parts) - 1, 2):
        fields.setdefault(parts[i], parts[i + 1].strip("/ ").strip())
    return fields


def _details(data: dict[str, Any]) -> dict[str, Any]:
    """Counterparty and remittance from a :86: field, whichever convention the bank follows."""
    out: dict[str, Any] = {"references": ()}
    if "purpose" in data or "applicant_name" in data:  # German structured (?20…), parsed by mt940
        out["remittance"] = clean(data.get("purpose")) or ""
        out["name"] = clean(data.get("applicant_name"))
        out["iban"] = iban(data.get("applicant_iban"))
        out["end_to_end_id"] = end_to_end(data.get("end_to_end_reference"))
        return out
    raw = data.get("transaction_details") or ""
    flat = " ".join(raw.split("\n"))
    if _SLASH.search(flat):
        fields = _slash_fields("".join(raw.split("\n")))
        remittance = fields.get("REMI", "")
        refs: tuple[str, ...] = ()
        if remittance.startswith("USTD"):
            remittance = remittance[4:].lstrip("/")
        elif remittance.startswith("STRD"):
            pieces = [p for p in remittance.split("/") if p]
            refs = tuple(p for p in pieces[1:] if p.upper() not in ("CUR", "ISO"))
            remittance = ""
        counterparty = fields.get("CNTP", "").split("/")
        out["remittance"] = clean(remittance.replace("/", " ")) or ""
        out["references"] = refs
        out["name"] = clean(fields.get("NAME") or (counterparty[2] if len(counterparty) > 2 else None))
        out["iban"] = iban(
            fields.get("IBAN") or (counterparty[0] if counterparty and counterparty[0] else None)
        )
        out["end_to_end_id"] = end_to_end(fields.get("EREF"))
        return out
    out["remittance"] = clean(flat) or ""
    return out


def _balance(data: dict[str, Any], key: str, currency: str, where: str) -> Balance | None:
    balance = data.get(key)
    if balance is None or balance.amount is None:
        return None
    return Balance(
        money(balance.amount.amount, balance.amount.currency or currency, where=where),
        _plain_date(balance.date),
        key,
    )


def _plain_date(value: Any) -> date | None:
    # mt940's Date subclasses date; keep plain dates in our records.
    return None if value is None else date(value.year, value.month, value.day)


def parse_mt940(data: bytes) -> ParsedFile:
    """Parse an MT940 file completely, or raise :class:`BankFileError`."""
    warnings: list[Notice] = []
    text = decode_text(data, what="MT940", warnings=warnings)
    messages = _messages(text)
    if not messages:
        raise BankFileError("unknown_format", "no MT940 statement (:20:) found")
    fingerprint = Fingerprinter()
    statements: list[Statement] = []
    for number, message in enumerate(messages, start=1):
        where = f"statement {number}"
        closing_at = re.search(r"^:62[FM]:.*$", message, re.M)
        if closing_at is None:
            raise BankFileError(
                "truncated",
                "the statement has no closing balance (:62F:/:62M:) — the file looks truncated",
                where=where,
            )
        # Statement-level :86: after the closing balance must not join the last line's text.
        tail = re.sub(r"^:86:.*?(?=^:\d\d[A-Z]?:|\Z)", "", message[closing_at.end() :], flags=re.M | re.S)
        message = message[: closing_at.end()] + tail
        transactions = mt940.models.Transactions(processors=PROCESSORS)
        try:
            transactions.parse(message)
        except BankFileError as exc:
            raise BankFileError(exc.reason, exc.message, where=where) from None
        except (RuntimeError, AssertionError, KeyError, ValueError, InvalidOperation, TypeError) as exc:
            raise BankFileError(
                "malformed", f"the MT940 statement cannot be read: {exc}", where=where
            ) from None
        header = transactions.data
        currency = transactions.currency
        if not currency:
            raise BankFileError(
                "missing_element", "the statement has no opening balance (:60F:)", where=where
            )
        opening = (
            _balance(header, "final_opening_balance", currency, where)
            or _balance(header, "opening_balance", currency, where)
            or _balance(header, "intermediate_opening_balance", currency, where)
        )
        closing = (
            _balance(header, "final_closing_balance", currency, where)
            or _balance(header, "closing_balance", currency, where)
            or _balance(header, "intermediate_closing_balance", currency, where)
        )
        seen = {b.amount.currency for b in (opening, closing) if b is not None}
        if seen - {currency}:
            raise BankFileError(
                "mixed_currencies",
                f"balances in {', '.join(sorted(seen | {currency}))}; an MT940 statement has one currency",
                where=where,
            )
        lines = [t for t in transactions if t.data.get("amount") is not None]
        expected = len(re.findall(r"^:61:", message, re.M))
        if len(lines) != expected:
            raise BankFileError(
                "malformed",
                f"{expected} statement lines (:61:) but {len(lines)} could be read — a line without a "
                "transaction type code?",
                where=where,
            )
        account_text = (header.get("account_identification") or "").split()
        account = account_text[0] if account_text else ""
        if account.endswith(currency) and is_iban(account[: -len(currency)]):
            account = account[: -len(currency)]  # ING writes the IBAN with the currency appended
        if not account:
            raise BankFileError("missing_element", "the statement names no account (:25:)", where=where)
        entries: list[Entry] = []
        for line_no, tx in enumerate(lines, start=1):
            entry_where = f"{where}, line {line_no}"
            d = tx.data
            amount_currency = d["amount"].currency or currency
            if amount_currency != currency:
                raise BankFileError(
                    "mixed_currencies",
                    f"a line in {amount_currency} on a {currency} statement",
                    where=entry_where,
                )
            amount: Money = money(d["amount"].amount, currency, where=entry_where)
            value_date = _plain_date(d.get("date"))
            booking_date = _plain_date(d.get("guessed_entry_date")) or value_date
            mark = d.get("q2c_mark", "")
            info = _details(d)
            bank_ref = clean(d.get("bank_reference"))
            customer_ref = clean(d.get("customer_reference"))
            if customer_ref == "NONREF":
                customer_ref = None
            content = (
                amount.amount, currency, booking_date, value_date, mark, bank_ref, customer_ref,
                info.get("remittance"), info.get("references"), info.get("iban"), info.get("end_to_end_id"),
            )  # fmt: skip
            detail_fp = fingerprint("detail", account, *content)
            is_credit = amount.amount >= 0
            detail = TransactionDetail(
                amount=amount,
                fingerprint=detail_fp,
                end_to_end_id=info.get("end_to_end_id"),
                remittance=info.get("remittance") or "",
                references=info.get("references") or (),
                debtor_name=info.get("name") if is_credit else None,
                debtor_iban=info.get("iban") if is_credit else None,
                creditor_name=None if is_credit else info.get("name"),
                creditor_iban=None if is_credit else info.get("iban"),
                bank_reference=bank_ref,
                implicit=True,
            )
            entries.append(
                Entry(
                    amount=amount,
                    fingerprint=fingerprint("entry", account, *content),
                    booking_date=booking_date,
                    value_date=value_date,
                    details=(detail,),
                    reversal=mark.startswith("R"),
                    bank_reference=bank_ref,
                    entry_reference=customer_ref,
                    bank_transaction_code=d.get("id"),
                    additional_info=clean(d.get("extra_details")) or "",
                )
            )
        statement_id = clean(header.get("transaction_reference")) or ""
        sequence = clean(str(header.get("statement_number") or "")) or None
        statements.append(
            Statement(
                statement_id=statement_id,
                account=account,
                currency=currency,
                entries=tuple(entries),
                fingerprint=sha(account, statement_id, sequence, len(entries), opening and opening.amount),
                sequence=sequence,
                opening_balance=opening,
                closing_balance=closing,
            )
        )
    return ParsedFile(
        format="mt940",
        statements=tuple(statements),
        warnings=tuple(warnings),
        sha256=hashlib.sha256(data).hexdigest(),
    )
