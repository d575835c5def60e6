"""ISO 20022 camt.053 (statements) and camt.054 (debit/credit notifications), versions .001.02 to
.001.08 (later versions, whose elements we read are unchanged, are read with a warning).

Security first: ``defusedxml.ElementTree``'s parser (``forbid_dtd=True``) reads the prolog up to
the root element and refuses any DOCTYPE — and with it entity declarations ("billion laughs"
expansion) and external entities. XML allows a DTD only there, before the root element, so once
defusedxml has seen the root start without one, the document can hold no entity other than the
five predefined ones. The body is then streamed through the standard library's C ``iterparse``
(end events only; each ``Ntry`` cleared once read): defusedxml's own parser is pure Python and
would be the slowest step of a 100,000-line import. Nothing is returned unless the whole file
parsed: an error anywhere refuses the file.

What is read, and how it differs between banks and versions:

- sign from ``CdtDbtInd`` (``CRDT`` > 0, ``DBIT`` < 0) of the entry, or of the transaction detail
  when it carries its own; ``RvslInd`` marks reversals (the indicator already gives the direction
  of the reversing booking, so it does not flip the sign);
- ``Sts`` as text (≤ .07) or ``Sts/Cd`` (.08); booking/value dates as ``Dt`` or ``DtTm``;
- a detail's amount from ``TxDtls/Amt`` (≥ .04), else ``AmtDtls/TxAmt``, else — for an entry with
  a single detail — the entry amount; batch bookings (several ``TxDtls``) must add up to the entry,
  otherwise the entry is kept whole (one line) with a warning;
- parties as ``Dbtr/Nm`` (≤ .07) or ``Dbtr/Pty/Nm`` (.08), accounts as ``IBAN`` or ``Othr/Id``;
- remittance: every ``Ustrd`` line, ``Strd/CdtrRefInf/Ref`` (RF creditor references) and
  ``Strd/RfrdDocInf/Nb`` (referred document numbers) as structured references;
- balances ``OPBD`` (or ``PRCD``, the previous closing some banks send instead) and ``CLBD``.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError, iterparse

import defusedxml
import defusedxml.ElementTree as SafeET

from q2c.core.money import Money
from q2c.payments.bank.common import (
    Fingerprinter,
    clean,
    decimal_text,
    end_to_end,
    gc_paused,
    iban,
    iso_date,
    iso_datetime,
    money,
    sha,
)
from q2c.payments.bank.errors import BankFileError, Notice
from q2c.payments.bank.model import Balance, Entry, ParsedFile, Statement, TransactionDetail

_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3})\.001\.(\d{2})")
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_MESSAGES = {
    "camt.053": ("BkToCstmrStmt", "Stmt", "statement"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "notification"),
}
SUPPORTED_VERSIONS = range(2, 9)  # .001.02 … .001.08
_READ_WITH_WARNING = range(9, 14)  # .001.09 … .001.13: same elements where we read them
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)


def sniff(data: bytes) -> str | None:
    """``camt.053``/``camt.054``/``camt.052``… when the head of an XML file names one, else None."""
    head = data[:4096]
    found = _NAMESPACE.search(head)
    if found:
        return found.group(1).decode()
    for kind, (message, _, _) in _MESSAGES.items():
        if b"<" + message.encode() in head or b":" + message.encode() in head:
            return kind
    return None


class _RootReached(Exception):
    """Raised by the prolog check at the root element: no DTD came before it."""


class _StopAtRoot:
    """A parser target that stops at the first start tag."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached(tag)

    def end(self, tag: str) -> None:  # pragma: no cover - never reached before start
        return None

    def data(self, data: str) -> None:
        return None

    def close(self) -> None:
        return None


def _refuse_dtd(data: bytes) -> None:
    """Let defusedxml read the prolog (everything before the root element) with DTDs forbidden."""
    parser = SafeET.DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True)
    try:
        for offset in range(0, len(data), 1 << 16):
            parser.feed(data[offset : offset + (1 << 16)])
        parser.close()
    except _RootReached:
        return
    except defusedxml.DefusedXmlException as exc:
        raise BankFileError(
            "xml_forbidden",
            f"the XML file declares a DTD or entities ({type(exc).__name__}); bank files never need them, "
            "and they can expand without bound or read local files",
        ) from None
    except ParseError:
        return  # not well-formed: the full parse below says where


def _check_encoding(data: bytes) -> None:
    """Refuse bytes that do not decode in the declared encoding (default UTF-8), with the offset —
    expat's own message ("not well-formed (invalid token)") says nothing about encodings."""
    declared = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared = "utf-16"
    else:
        found = _DECLARED_ENCODING.match(data.lstrip()[:200])
        if found:
            declared = found.group(1).decode("ascii").lower()
    try:
        codecs.lookup(declared)
    except LookupError:
        raise BankFileError("encoding", f"the XML declares an unknown encoding '{declared}'") from None
    try:
        data.decode(declared)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BankFileError(
            "encoding",
            f"the file declares {declared.upper()} but byte 0x{data[exc.start]:02x} is not {declared.upper()} "
            "(a file saved in another encoding, e.g. ISO 8859-1); ask the bank for a correctly encoded file",
            where=f"line {line}, offset {exc.start}",
        ) from None


_TAGS = (
    "Amt", "CdtDbtInd", "Sts", "Cd", "RvslInd", "BookgDt", "ValDt", "Dt", "DtTm", "AcctSvcrRef", "NtryRef",
    "BkTxCd", "AddtlNtryInf", "NtryDtls", "TxDtls", "RltdPties", "RmtInf", "Ustrd", "Strd", "CdtrRefInf",
    "RfrdDocInf", "AddtlRmtInf", "Refs", "EndToEndId", "Dbtr", "DbtrAcct", "Cdtr", "CdtrAcct", "Nm",
)  # fmt: skip


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _first_text(el: Element | None) -> str | None:
    """The text of an element's first child (``BookgDt/Dt`` or ``BookgDt/DtTm``)."""
    if el is None or not len(el):
        return None
    return _text(el[0])


class _Reader:
    """Reads one camt message; ``ns`` is ``{namespace}`` (or empty for files without one)."""

    def __init__(self, ns: str, kind: str, version: str) -> None:
        self.ns = ns
        self.q = {name: ns + name for name in _TAGS}  # qualified tag names, made once
        self._names: dict[str, str] = {}
        self.kind = kind
        self.version = version
        _, self.block, self.statement_kind = _MESSAGES[kind]
        self.fingerprint = Fingerprinter()
        self.warnings: list[Notice] = []
        self.statements: list[Statement] = []
        self.repeated_details = 0
        self._seen_statements: set[str] = set()
        self._new_statement()

    # --- element helpers ---------------------------------------------------------------------
    def find(self, el: Element | None, *path: str) -> Element | None:
        for name in path:
            if el is None:
                return None
            el = el.find(self.ns + name)
        return el

    def text(self, el: Element | None, *path: str) -> str | None:
        found = self.find(el, *path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def all(self, el: Element | None, name: str) -> list[Element]:
        if el is None:
            return []
        return el.findall(self.ns + name)

    def local(self, el: Element) -> str:
        tag = el.tag
        return tag[tag.find("}") + 1 :] if tag.startswith("{") else tag

    # --- statement state ---------------------------------------------------------------------
    def _new_statement(self) -> None:
        self.account: str | None = None
        self.account_currency: str | None = None
        self.balances: list[Balance] = []
        self.entries: list[Entry] = []
        self.mark = self.fingerprint.mark()
        self.currencies: set[str] = set()

    def where(self, entry_no: int | None = None) -> str:
        text = f"{self.block} {len(self.statements) + 1}"
        if entry_no is not None:
            text += f", entry {entry_no}"
        return text

    def amount(self, el: Element | None, *, where: str, sign: int = 1) -> Money:
        if el is None:
            raise BankFileError("missing_element", "an amount (Amt) is missing", where=where)
        value = decimal_text(el.text, where=where)
        return money(value * sign if sign < 0 else value, el.get("Ccy"), where=where)

    @staticmethod
    def sign(indicator: str | None, *, where: str) -> int:
        if indicator == "CRDT":
            return 1
        if indicator == "DBIT":
            return -1
        raise BankFileError(
            "malformed", f"credit/debit indicator '{indicator}' is neither CRDT nor DBIT", where=where
        )

    def on_account(self, el: Element) -> None:
        if self.account is not None:
            return
        self.account = self.text(el, "Id", "IBAN") or self.text(el, "Id", "Othr", "Id")
        if self.account:
            self.account = "".join(self.account.split())
        self.account_currency = self.text(el, "Ccy")

    def on_balance(self, el: Element) -> None:
        where = self.where() + ", balance"
        code = self.text(el, "Tp", "CdOrPrtry", "Cd") or self.text(el, "Tp", "CdOrPrtry", "Prtry") or ""
        sign = self.sign(self.text(el, "CdtDbtInd"), where=where)
        amount = self.amount(self.find(el, "Amt"), where=where, sign=sign)
        day_text = self.text(el, "Dt", "Dt") or self.text(el, "Dt", "DtTm")
        day = iso_date(day_text, where=where) if day_text else None
        self.balances.append(Balance(amount, day, code))

    # --- entries ------------------------------------------------------------------------------
    def _name(self, tag: str) -> str:
        """The local name of a tag (cached: a file uses a few dozen tags, millions of times)."""
        name = self._names.get(tag)
        if name is None:
            name = self._names[tag] = tag[tag.find("}") + 1 :] if tag.startswith("{") else tag
        return name

    def on_entry(self, el: Element) -> None:
        # One pass over the entry's children: a file holds hundreds of thousands of entries.
        names = self._names
        amount_el = booking_el = value_el = code_el = None
        indicator = status = bank_ref = entry_ref = None
        reversal = False
        info: list[str] = []
        tx_els: list[Element] = []
        tx_tag = self.q["TxDtls"]
        for child in el:
            name = names.get(child.tag) or self._name(child.tag)
            if name == "Amt":
                amount_el = child
            elif name == "CdtDbtInd":
                indicator = _text(child)
            elif name == "Sts":
                status = _text(child.find(self.q["Cd"])) or _text(child)
            elif name == "BookgDt":
                booking_el = child
            elif name == "ValDt":
                value_el = child
            elif name == "AcctSvcrRef":
                bank_ref = _text(child)
            elif name == "NtryRef":
                entry_ref = _text(child)
            elif name == "NtryDtls":
                tx_els.extend(child.findall(tx_tag))
            elif name == "RvslInd":
                reversal = (_text(child) or "").lower() in ("true", "1")
            elif name == "BkTxCd":
                code_el = child
            elif name == "AddtlNtryInf":
                info.append(child.text or "")
        entry_no = len(self.entries) + 1
        where = self.where(entry_no)
        sign = self.sign(indicator, where=where)
        amount = self.amount(amount_el, where=where, sign=sign)
        self.currencies.add(amount.currency)
        booking = self._date(booking_el, where)
        value = self._date(value_el, where)
        code = self._transaction_code(code_el)
        info_text = (clean(" ".join(info)) or "") if info else ""
        account = self.account or ""
        # What identifies the booking, as the bank wrote it (texts hash faster than objects).
        content = (
            account, amount_el.text if amount_el is not None else "", amount.currency, indicator,
            _first_text(booking_el), _first_text(value_el),
            status, reversal, bank_ref, entry_ref,
        )  # fmt: skip

        raw = [self._detail(tx, amount, amount_el, sign, where) for tx in tx_els]
        if len(raw) == 1 and raw[0]["amount"] is None:
            raw[0]["amount"] = amount
        if raw and any(r["amount"] is None for r in raw):
            self.warnings.append(
                Notice.of(
                    "detail_amount_missing",
                    f"the entry holds {len(raw)} transaction details without amounts; kept as one line",
                    where,
                )
            )
            raw = [self._merge(raw, amount)]
        elif len(raw) > 1:
            total = sum((r["amount"].amount for r in raw), Decimal(0))
            if total != amount.amount:
                self.warnings.append(
                    Notice.of(
                        "batch_sum_mismatch",
                        f"the {len(raw)} transaction details add up to {total}, the entry to {amount.amount}; "
                        "kept as one line",
                        where,
                    )
                )
                raw = [self._merge(raw, amount)]
        if not raw:
            raw = [{"amount": amount, "remittance": info_text, "implicit": True, "bank_reference": bank_ref}]
        details: list[TransactionDetail] = []
        for r in raw:
            detail_amount: Money = r["amount"]
            if detail_amount.currency != amount.currency:
                raise BankFileError(
                    "mixed_currencies",
                    f"a transaction detail is in {detail_amount.currency}, its entry in {amount.currency}",
                    where=where,
                )
            fp = self.fingerprint(
                "detail",
                *content,
                detail_amount.amount,
                r.get("end_to_end_id"),
                r.get("remittance"),
                r.get("references"),
                r.get("debtor_iban"),
                r.get("creditor_iban"),
                r.get("bank_reference"),
            )
            details.append(TransactionDetail(fingerprint=fp, **r))
        # The details' fingerprints already number repeats: the entry's derives from them.
        entry_fp = sha("entry", *(d.fingerprint for d in details))
        self.entries.append(
            Entry(
                amount=amount,
                fingerprint=entry_fp,
                booking_date=booking,
                value_date=value,
                details=tuple(details),
                status=status or "BOOK",
                reversal=reversal,
                bank_reference=bank_ref,
                entry_reference=entry_ref,
                bank_transaction_code=code,
                additional_info=info_text,
            )
        )

    def _date(self, el: Element | None, where: str) -> date | None:
        day = _first_text(el)  # Dt or DtTm, whichever the bank uses
        return iso_date(day, where=where) if day else None

    def _transaction_code(self, el: Element | None) -> str | None:
        if el is None:
            return None
        domain = self.text(el, "Domn", "Cd")
        if domain:
            family = self.text(el, "Domn", "Fmly", "Cd") or ""
            sub = self.text(el, "Domn", "Fmly", "SubFmlyCd") or ""
            return "/".join(p for p in (domain, family, sub) if p)
        return self.text(el, "Prtry", "Cd")

    def _detail(
        self, tx: Element, entry_amount: Money, entry_amount_el: Element | None, entry_sign: int, where: str
    ) -> dict[str, Any]:
        names = self._names
        amount_el = own_sign = refs_el = parties = rmt = amt_dtls = None
        for child in tx:
            name = names.get(child.tag) or self._name(child.tag)
            if name == "Refs":
                refs_el = child
            elif name == "Amt":
                amount_el = child
            elif name == "CdtDbtInd":
                own_sign = _text(child)
            elif name == "RltdPties":
                parties = child
            elif name == "RmtInf":
                rmt = child
            elif name == "AmtDtls":
                amt_dtls = child
        sign = self.sign(own_sign, where=where) if own_sign else entry_sign
        if amount_el is None and amt_dtls is not None:
            amount_el = self.find(amt_dtls, "TxAmt", "Amt")
        amount: Money | None = None
        if amount_el is not None:
            same = (
                sign == entry_sign
                and entry_amount_el is not None
                and amount_el.text == entry_amount_el.text
                and amount_el.get("Ccy") == entry_amount_el.get("Ccy")
            )
            # A single payment repeats its entry's amount: one Money serves both.
            amount = entry_amount if same else self.amount(amount_el, where=where, sign=sign)
        lines: list[str] = []
        refs: list[str] = []
        if rmt is not None:
            for part in rmt:
                name = names.get(part.tag) or self._name(part.tag)
                if name == "Ustrd":
                    lines.append(part.text or "")
                elif name == "Strd":
                    self._structured(part, refs, lines)
        out: dict[str, Any] = {
            "amount": amount,
            "remittance": (clean(" ".join(lines)) or "") if lines else "",
            "references": tuple(refs),
        }
        if refs_el is not None:
            out["end_to_end_id"] = end_to_end(_text(refs_el.find(self.q["EndToEndId"])))
            out["bank_reference"] = _text(refs_el.find(self.q["AcctSvcrRef"]))
        if parties is not None:
            for party in parties:
                name = names.get(party.tag) or self._name(party.tag)
                if name == "Dbtr":
                    out["debtor_name"] = self._party_name(party)
                elif name == "DbtrAcct":
                    out["debtor_iban"] = self._account_id(party)
                elif name == "Cdtr":
                    out["creditor_name"] = self._party_name(party)
                elif name == "CdtrAcct":
                    out["creditor_iban"] = self._account_id(party)
        return out

    def _structured(self, strd: Element, refs: list[str], lines: list[str]) -> None:
        for part in strd:
            name = self._names.get(part.tag) or self._name(part.tag)
            if name == "CdtrRefInf":
                ref = self.text(part, "Ref")
                if ref:
                    refs.append("".join(ref.split()))
            elif name == "RfrdDocInf":
                number = self.text(part, "Nb")
                if number:
                    refs.append(number)
            elif name == "AddtlRmtInf":
                lines.append(part.text or "")

    def _party_name(self, party: Element) -> str | None:
        return clean(_text(party.find(self.q["Nm"])) or self.text(party, "Pty", "Nm"))

    def _account_id(self, account: Element) -> str | None:
        return iban(self.text(account, "Id", "IBAN") or self.text(account, "Id", "Othr", "Id"))

    @staticmethod
    def _merge(raw: list[dict[str, Any]], amount: Money) -> dict[str, Any]:
        """One line for an entry whose details cannot be used one by one."""
        return {
            "amount": amount,
            "remittance": clean(" ".join(r["remittance"] for r in raw)) or "",
            "references": tuple(ref for r in raw for ref in r["references"]),
            "implicit": True,
        }

    # --- statement end ------------------------------------------------------------------------
    def on_statement(self, el: Element) -> None:
        where = self.where()
        statement_id = self.text(el, "Id") or ""
        sequence = self.text(el, "ElctrncSeqNb") or self.text(el, "LglSeqNb")
        created = iso_datetime(self.text(el, "CreDtTm"))
        from_text = self.text(el, "FrToDt", "FrDtTm")
        to_text = self.text(el, "FrToDt", "ToDtTm")
        if not self.account:
            raise BankFileError("missing_element", "the account (Acct/Id) is missing", where=where)
        currencies = set(self.currencies) | {b.amount.currency for b in self.balances}
        if self.account_currency:
            currencies.add(self.account_currency)
        if len(currencies) > 1:
            raise BankFileError(
                "mixed_currencies",
                f"one {self.statement_kind} holds amounts in {', '.join(sorted(currencies))}; "
                "camt allows one currency per account statement",
                where=where,
            )
        currency = self.account_currency or (currencies.pop() if currencies else None)
        if not currency:
            raise BankFileError("missing_element", "the statement names no currency", where=where)
        opening = next((b for code in _OPENING for b in self.balances if b.kind == code), None)
        closing = next((b for code in _CLOSING for b in self.balances if b.kind == code), None)
        key = sha(self.account, statement_id, sequence, created, len(self.entries))
        entries = tuple(self.entries)
        if statement_id and key in self._seen_statements:
            # The same statement twice in one file: keep the first copy; its lines are duplicates.
            self.repeated_details += sum(len(e.details) for e in entries)
            self.fingerprint.rollback(self.mark)
            self.warnings.append(
                Notice.of("duplicate_statement", f"statement {statement_id} appears twice; kept once", where)
            )
            self._new_statement()
            return
        self._seen_statements.add(key)
        self.statements.append(
            Statement(
                statement_id=statement_id,
                account=self.account,
                currency=currency,
                entries=entries,
                fingerprint=key,
                kind=self.statement_kind,
                created_at=created,
                from_date=iso_date(from_text, where=where) if from_text else None,
                to_date=iso_date(to_text, where=where) if to_text else None,
                sequence=sequence,
                opening_balance=opening,
                closing_balance=closing,
            )
        )
        self._new_statement()


def parse_camt(data: bytes) -> ParsedFile:
    """Parse a camt.053 or camt.054 file completely, or raise :class:`BankFileError`."""
    kind = sniff(data)
    if kind is None:
        raise BankFileError("unknown_format", "the XML file is not an ISO 20022 camt message")
    if kind not in _MESSAGES:
        raise BankFileError(
            "unsupported_format",
            f"{kind} messages are not imported; ask the bank for camt.053 statements or camt.054 notifications",
        )
    found = _NAMESPACE.search(data[:4096])
    warnings: list[Notice] = []
    if found:
        number = int(found.group(2))
        version = f"{kind}.001.{number:02d}"
        if number in _READ_WITH_WARNING:
            warnings.append(
                Notice.of(
                    "unverified_version",
                    f"{version} is newer than the versions q2c was verified with (.001.02–.001.08); "
                    "read with the same rules",
                )
            )
        elif number not in SUPPORTED_VERSIONS:
            raise BankFileError("unsupported_version", f"{version} is not supported (.001.02–.001.08)")
        ns = "{" + found.group(0).decode() + "}"
    else:
        version = kind
        ns = ""
        warnings.append(
            Notice.of("unverified_version", "the file carries no ISO 20022 namespace; read as " + kind)
        )
    _check_encoding(data)
    _refuse_dtd(data)
    reader = _Reader(ns, kind, version)
    message_tag, block_tag, _ = _MESSAGES[kind]
    entry_tag, account_tag, balance_tag = ns + "Ntry", ns + "Acct", ns + "Bal"
    block = ns + block_tag
    root: Element | None = None
    try:
        with gc_paused():
            # Safe: _refuse_dtd let defusedxml read the prolog — no DTD, hence no entities.
            for _, el in iterparse(io.BytesIO(data), events=("end",)):  # noqa: S314
                tag = el.tag
                if tag == entry_tag:
                    reader.on_entry(el)
                    el.clear()
                elif tag == account_tag:
                    reader.on_account(el)
                elif tag == balance_tag:
                    reader.on_balance(el)
                elif tag == block:
                    reader.on_statement(el)
                    el.clear()
                root = el
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        at_end = line >= data.count(b"\n", 0, len(data.rstrip())) + 1
        code = getattr(exc, "code", 0)
        # expat: 3 = no element found, 5 = unclosed token — at the end of the data, a cut-off file.
        if code == 3 or (code == 5 and at_end):
            raise BankFileError(
                "truncated",
                "the XML file ends before its last element is closed — truncated?",
                where=f"line {line}",
            ) from None
        raise BankFileError(
            "malformed", f"the XML is not well-formed: {exc}", where=f"line {line}, column {column}"
        ) from None
    if root is None or reader.local(root) != "Document":
        raise BankFileError("malformed", "the XML root element is not an ISO 20022 Document")
    message = root.find(ns + message_tag)
    if message is None:
        raise BankFileError("missing_element", f"the Document holds no {message_tag}")
    if not reader.statements and not reader.repeated_details:
        raise BankFileError("missing_element", f"the {kind} message holds no {block_tag}")
    return ParsedFile(
        format=version,
        statements=tuple(reader.statements),
        warnings=tuple(warnings + reader.warnings),
        sha256=hashlib.sha256(data).hexdigest(),
        repeated_details=reader.repeated_details,
    )
