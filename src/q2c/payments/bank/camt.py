"""ISO 20022 camt.053 (statements) and camt.054 (debit/credit notifications), versions .001.02 to
.001.08 (later versions, whose elements we read are unchanged, are read with a warning).

Security first: ``defusedxml.ElementTree``'s parser (``forbid_dtd=True``) reads the prolog up to
the root element and refuses any DOCTYPE — and with it entity declarations ("billion laughs"
expansion) and external entities. XML allows a DTD only there, before the root element, so once
defusedxml has seen the root start without one, the document can hold no entity other than the
five predefined ones. The body is then streamed through the standard library's C XMLPullParser
(end events only; each ``Ntry`` cleared once read): defusedxml's own parser is pure Python and
would be the slowest step of a 100,000-line import. Plainly written entries of a UTF-8 file are
read from its text instead (see "the fast path" below); the parser still reads the whole rest of
the file. Nothing is returned unless the whole file parsed: an error anywhere refuses the file.

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
import re
from collections import deque
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Any, cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

import defusedxml
import defusedxml.ElementTree as SafeET

from q2c.core.money import Money
from q2c.payments.bank.common import (
    Fingerprinter,
    amount_of,
    clean,
    decimal_text,
    digest_text,
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


def _check_encoding(data: bytes) -> str | None:
    """Refuse bytes that do not decode in the declared encoding (default UTF-8), with the offset —
    expat's own message ("not well-formed (invalid token)") says nothing about encodings.

    Returns the text of a UTF-8 file that says nothing else about its encoding, else None.
    """
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
        text = data.decode(declared)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BankFileError(
            "encoding",
            f"the file declares {declared.upper()} but byte 0x{data[exc.start]:02x} is not {declared.upper()} "
            "(a file saved in another encoding, e.g. ISO 8859-1); ask the bank for a correctly encoded file",
            where=f"line {line}, offset {exc.start}",
        ) from None
    if declared != "utf-8":
        return None
    found = _DECLARED_ENCODING.match(data.lstrip()[:200])
    if found and found.group(1).decode("ascii").lower() != "utf-8":
        return None  # a byte-order mark and another declared encoding: left to expat
    return text


_TAGS = (
    "Amt", "CdtDbtInd", "Sts", "Cd", "RvslInd", "BookgDt", "ValDt", "Dt", "DtTm", "AcctSvcrRef", "NtryRef",
    "BkTxCd", "AddtlNtryInf", "NtryDtls", "TxDtls", "RltdPties", "RmtInf", "Ustrd", "Strd", "CdtrRefInf",
    "RfrdDocInf", "AddtlRmtInf", "Refs", "EndToEndId", "Dbtr", "DbtrAcct", "Cdtr", "CdtrAcct", "Nm", "Pty",
    "Id", "IBAN", "Othr", "Ref", "Nb",
)  # fmt: skip
_DATE_CACHE = 4096  # distinct date texts remembered per file (entries share a few days)
_PLANS = 512  # entry shapes remembered per file
_PLANNED_ELEMENTS = 400  # larger entries (big batch bookings) are planned each time, not remembered
_TAG = attrgetter("tag")
_TEXT = attrgetter("text")
_ELEMENT = itemgetter(1)
_CHUNK = 1 << 14  # bytes fed to the parser at a time (as iterparse: the elements stay in the CPU cache)

#: Positions (in the entry's element list, -1 = absent) of NtryRef, Amt, CdtDbtInd, RvslInd,
#: Sts/Cd, Sts, BookgDt's first child, ValDt's first child, AcctSvcrRef, BkTxCd; of the
#: AddtlNtryInf elements; and the plans of the transaction details.
_EntryPlan = tuple[
    int, int, int, int, int, int, int, int, int, int, tuple[int, ...], tuple["_DetailPlan", ...]
]
#: Positions of a detail's Amt (or AmtDtls/TxAmt/Amt), CdtDbtInd, Refs/EndToEndId,
#: Refs/AcctSvcrRef; of its remittance lines (Ustrd, Strd/AddtlRmtInf); of its references
#: (position, spaces removed); of Nm and Pty/Nm of Dbtr, of Id/IBAN and Id/Othr/Id of DbtrAcct,
#: and the same of Cdtr and CdtrAcct.
_DetailPlan = tuple[
    int, int, int, int, tuple[int, ...], tuple[tuple[int, bool], ...], int, int, int, int, int, int, int, int
]


# --- the fast path for plainly written entries ------------------------------------------------
# Most entries of a large file are written alike and plainly: the elements below in schema order,
# texts without markup, one transaction detail. Such an entry is read from the file's text with
# one regular expression (for these, about three times cheaper than building and walking its
# elements) and stands in the document as an empty ``<Ntry q2c-fast="n"/>``; the parser still
# reads the whole rest of the file, statements, balances and every other entry as before.
# The same plan-driven reader (``_Reader._read_entry``) reads both kinds of entry. Whatever the
# expression does not match is read by the parser; whenever the stand-ins are not read one by one
# in order (an entry inside a comment, in another namespace) or the rest is not well-formed, the
# file is read again whole by the parser, which then says exactly what is wrong.
_MARK = "q2c-fast"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 refuses
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _fast_entry_pattern() -> re.Pattern[str]:
    w = "[ \\t\\n]*"  # whitespace between elements (line ends already normalised to \\n)
    plain = "[^<>&]*(?:&(?:amp|lt|gt|quot|apos);[^<>&]*)*"  # text: no markup, the five entities

    def leaf(tag: str, group: str | None) -> str:
        text = f"(?P<{group}>{plain})" if group else plain
        return f"<{tag}>{text}</{tag}>{w}"

    def opt(pattern: str) -> str:
        return f"(?:{pattern})?"

    def day(group: str) -> str:  # BookgDt/ValDt: Dt or DtTm
        return f"{w}<(?P<{group}_tag>Dt|DtTm)>(?P<{group}>{plain})</(?P={group}_tag)>{w}"

    def party(role: str, prefix: str) -> str:
        name = f"<{role}>{w}(?:<Nm>(?P<{prefix}n>{plain})</Nm>|<Pty>{w}<Nm>(?P<{prefix}pn>{plain})</Nm>{w}</Pty>){w}</{role}>{w}"
        account = (
            f"<{role}Acct>{w}<Id>{w}(?:<IBAN>(?P<{prefix}i>{plain})</IBAN>|<Othr>{w}<Id>(?P<{prefix}o>{plain})</Id>"
            f"{w}</Othr>){w}</Id>{w}</{role}Acct>{w}"
        )
        return opt(name) + opt(account)

    def structured(group: str) -> str:
        kind = opt(
            f"<Tp>{w}<CdOrPrtry>{w}<Cd>{plain}</Cd>{w}</CdOrPrtry>{w}" + opt(leaf("Issr", None)) + f"</Tp>{w}"
        )
        return opt(f"<Strd>{w}<CdtrRefInf>{w}{kind}" + leaf("Ref", group) + f"</CdtrRefInf>{w}</Strd>{w}")

    refs = (
        opt(leaf("MsgId", None)) + opt(leaf("AcctSvcrRef", "tx_bank_ref")) + opt(leaf("PmtInfId", None))
        + opt(leaf("InstrId", None)) + opt(leaf("EndToEndId", "e2e")) + opt(leaf("TxId", None))
    )  # fmt: skip
    detail = (
        f"<NtryDtls>{w}(?P<tx><TxDtls>){w}"
        + opt(f"<Refs>{w}{refs}</Refs>{w}")
        + opt(f'<Amt Ccy="(?P<tx_ccy>[A-Z]{{3}})">(?P<tx_amount>{plain})</Amt>{w}')
        + opt(leaf("CdtDbtInd", "tx_indicator"))
        + opt(f"<RltdPties>{w}" + party("Dbtr", "d") + party("Cdtr", "c") + f"</RltdPties>{w}")
        + opt(f"<RmtInf>{w}" + opt(leaf("Ustrd", "u1")) + opt(leaf("Ustrd", "u2")) + structured("r1") + structured("r2") + f"</RmtInf>{w}")
        + f"</TxDtls>{w}</NtryDtls>{w}"
    )  # fmt: skip
    return re.compile(
        f"<Ntry>{w}"
        + opt(leaf("NtryRef", "entry_ref"))
        + f'<Amt Ccy="(?P<ccy>[A-Z]{{3}})">(?P<amount>{plain})</Amt>{w}'
        + leaf("CdtDbtInd", "indicator")
        + opt(leaf("RvslInd", "reversal"))
        + opt(f"<Sts>(?:{w}<Cd>(?P<status_code>{plain})</Cd>{w}|(?P<status>{plain}))</Sts>{w}")
        + opt(f"<BookgDt>{day('booking')}</BookgDt>{w}")
        + opt(f"<ValDt>{day('value')}</ValDt>{w}")
        + opt(leaf("AcctSvcrRef", "bank_ref"))
        + opt(detail)
        + opt(leaf("AddtlNtryInf", "info"))
        + "</Ntry>"
    )


_FAST_ENTRY = _fast_entry_pattern()


def _fast_positions() -> tuple[_EntryPlan, _EntryPlan, int, int, int, int, int]:
    """The plans of a fast entry (with and without its detail) over ``match.groups()``."""
    at = {name: number - 1 for name, number in _FAST_ENTRY.groupindex.items()}
    detail: _DetailPlan = (
        at["tx_amount"], at["tx_indicator"], at["e2e"], at["tx_bank_ref"], (at["u1"], at["u2"]),
        ((at["r1"], True), (at["r2"], True)), at["dn"], at["dpn"], at["di"], at["do"],
        at["cn"], at["cpn"], at["ci"], at["co"],
    )  # fmt: skip
    alone: _EntryPlan = (
        at["entry_ref"], at["amount"], at["indicator"], at["reversal"], at["status_code"], at["status"],
        at["booking"], at["value"], at["bank_ref"], -1, (at["info"],), (),
    )  # fmt: skip
    return alone, (*alone[:11], (detail,)), at["amount"], at["ccy"], at["tx_amount"], at["tx_ccy"], at["tx"]


_FAST_ALONE, _FAST_DETAIL, _F_AMOUNT, _F_CCY, _F_TX_AMOUNT, _F_TX_CCY, _F_TX = _fast_positions()


class _Misread(Exception):
    """The stand-ins of fast entries were not read one by one in order."""


class _Amount:
    """A fast entry's ``Amt``: its text and currency, read as the element's (``text``, ``get``)."""

    __slots__ = ("currency", "text")

    def __init__(self, text: str | None, currency: str | None) -> None:
        self.text = text
        self.currency = currency

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.currency if key == "Ccy" else default


def _fast_entries(text: str) -> tuple[bytes, list[re.Match[str] | None]] | None:
    """The document with its plainly written entries replaced by stand-ins, and those entries."""
    if _MARK in text or _NOT_XML.search(text):
        return None  # the parser refuses such characters: it says where
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as XML parsers read line ends
    pieces: list[str] = []
    matches: list[re.Match[str] | None] = []
    find, match = text.find, _FAST_ENTRY.match
    start = 0
    at = find("<Ntry>")
    while at != -1:
        found = match(text, at)
        if found is None:
            at = find("<Ntry>", at + 6)
            continue
        pieces.append(text[start:at])
        pieces.append(f'<Ntry {_MARK}="{len(matches)}"/>')
        matches.append(found)
        start = found.end()
        at = find("<Ntry>", start)
    if not matches:
        return None
    pieces.append(text[start:])
    return "".join(pieces).encode("utf-8"), matches


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _stripped(text: str | None) -> str | None:
    return (text.strip() or None) if text is not None else None


class _Reader:
    """Reads one camt message; ``ns`` is ``{namespace}`` (or empty for files without one)."""

    def __init__(self, ns: str, kind: str, version: str) -> None:
        self.ns = ns
        q = self.q = {name: ns + name for name in _TAGS}  # qualified tag names, made once
        self._q_cd, self._q_tx, self._q_nm, self._q_pty = q["Cd"], q["TxDtls"], q["Nm"], q["Pty"]
        self._q_id, self._q_iban, self._q_othr = q["Id"], q["IBAN"], q["Othr"]
        self._q_e2e, self._q_bank_ref, self._q_ref, self._q_nb = (
            q["EndToEndId"],
            q["AcctSvcrRef"],
            q["Ref"],
            q["Nb"],
        )
        self._names: dict[str, str] = {}
        self._dates: dict[str, date] = {}
        self._plans: dict[tuple[tuple[str, ...], tuple[int, ...]], _EntryPlan] = {}
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
    # The hot path: a file holds hundreds of thousands of entries, most of them shaped alike.
    # An entry's elements are listed once in document order (C), and the tags and child counts of
    # that list are its *shape*. The first entry of a shape is read element by element into a
    # plan: which position of the list each field comes from. Every later entry of the same shape
    # takes its texts from those positions. Position -1 is "absent": the lists get a None at the
    # end. The place in the file ("Stmt 3, entry 12") is only worked out for an error or warning.
    def _name(self, tag: str) -> str:
        """The local name of a tag (cached: a file uses a few dozen tags, millions of times)."""
        name = self._names.get(tag)
        if name is None:
            name = self._names[tag] = tag[tag.find("}") + 1 :] if tag.startswith("{") else tag
        return name

    def _sign_at(self, indicator: str | None, entry_no: int) -> int:
        if indicator == "CRDT":
            return 1
        if indicator == "DBIT":
            return -1
        return self.sign(indicator, where=self.where(entry_no))

    def _amount_at(self, el: Element | None, sign: int, entry_no: int) -> Money:
        if el is None:
            return self.amount(el, where=self.where(entry_no))  # raises: missing
        return amount_of(el.text, el.get("Ccy"), sign, lambda: self.where(entry_no))

    def _day(self, text: str | None, entry_no: int) -> date | None:
        """``iso_date`` of a booking/value date's text (a file's entries share a few dates)."""
        if not text:
            return None
        day = self._dates.get(text)
        if day is None:
            day = iso_date(text, where=self.where(entry_no))
            if len(self._dates) < _DATE_CACHE:
                self._dates[text] = day
        return day

    def _plan(self, el: Element, els: list[Element]) -> _EntryPlan:
        """Where an entry of this shape keeps each field (see :data:`_EntryPlan`)."""
        positions = {id(e): i for i, e in enumerate(els)}

        def at(found: Element | None) -> int:
            return -1 if found is None else positions[id(found)]

        def first_child(found: Element | None) -> int:
            return at(found[0]) if found is not None and len(found) else -1

        names = self._names
        entry_ref = amount = indicator = reversal = status = booking = value = bank_ref = code = None
        info: list[int] = []
        txs: list[Element] = []
        for child in el:
            name = names.get(child.tag) or self._name(child.tag)
            if name == "NtryRef":
                entry_ref = child
            elif name == "Amt":
                amount = child
            elif name == "CdtDbtInd":
                indicator = child
            elif name == "RvslInd":
                reversal = child
            elif name == "Sts":
                status = child
            elif name == "BookgDt":
                booking = child
            elif name == "ValDt":
                value = child
            elif name == "AcctSvcrRef":
                bank_ref = child
            elif name == "BkTxCd":
                code = child
            elif name == "NtryDtls":
                txs.extend(child.findall(self._q_tx))
            elif name == "AddtlNtryInf":
                info.append(at(child))
        status_code = status.find(self._q_cd) if status is not None else None
        return (
            at(entry_ref), at(amount), at(indicator), at(reversal), at(status_code), at(status),
            first_child(booking), first_child(value), at(bank_ref), at(code), tuple(info),
            tuple(self._plan_detail(tx, at) for tx in txs),
        )  # fmt: skip

    def _plan_detail(self, tx: Element, at: Callable[[Element | None], int]) -> _DetailPlan:
        names = self._names
        amount = sign = refs = parties = rmt = amount_details = None
        for child in tx:
            name = names.get(child.tag) or self._name(child.tag)
            if name == "Refs":
                refs = child
            elif name == "Amt":
                amount = child
            elif name == "CdtDbtInd":
                sign = child
            elif name == "RltdPties":
                parties = child
            elif name == "RmtInf":
                rmt = child
            elif name == "AmtDtls":
                amount_details = child
        if amount is None and amount_details is not None:
            amount = self.find(amount_details, "TxAmt", "Amt")
        lines: list[int] = []
        references: list[tuple[int, bool]] = []  # (position, spaces removed)
        for part in rmt if rmt is not None else ():
            name = names.get(part.tag) or self._name(part.tag)
            if name == "Ustrd":
                lines.append(at(part))
            elif name == "Strd":
                for item in part:
                    name = names.get(item.tag) or self._name(item.tag)
                    if name == "CdtrRefInf":
                        references.append((at(item.find(self._q_ref)), True))
                    elif name == "RfrdDocInf":
                        references.append((at(item.find(self._q_nb)), False))
                    elif name == "AddtlRmtInf":
                        lines.append(at(item))
        # Per role the last element counts (as when a later one overwrote an earlier one).
        party = {"Dbtr": (-1, -1), "DbtrAcct": (-1, -1), "Cdtr": (-1, -1), "CdtrAcct": (-1, -1)}
        for role in parties if parties is not None else ():
            name = names.get(role.tag) or self._name(role.tag)
            if name in ("Dbtr", "Cdtr"):
                # Nm (≤ .07), else Pty/Nm (.08)
                pty = role.find(self._q_pty)
                party[name] = (at(role.find(self._q_nm)), at(pty.find(self._q_nm)) if pty is not None else -1)
            elif name in ("DbtrAcct", "CdtrAcct"):
                # Id/IBAN, else Id/Othr/Id
                ident = role.find(self._q_id)
                other = ident.find(self._q_othr) if ident is not None else None
                party[name] = (
                    at(ident.find(self._q_iban)) if ident is not None else -1,
                    at(other.find(self._q_id)) if other is not None else -1,
                )
        return (
            at(amount), at(sign),
            at(refs.find(self._q_e2e)) if refs is not None else -1,
            at(refs.find(self._q_bank_ref)) if refs is not None else -1,
            tuple(lines), tuple(references),
            *party["Dbtr"], *party["DbtrAcct"], *party["Cdtr"], *party["CdtrAcct"],
        )  # fmt: skip

    def on_entry(self, el: Element) -> None:
        els = list(el.iter())
        shape = (tuple(map(_TAG, els)), tuple(map(len, els)))
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plan(el, els)
            if len(self._plans) < _PLANS and len(els) <= _PLANNED_ELEMENTS:
                self._plans[shape] = plan
        texts: list[str | None] = list(map(_TEXT, els))
        els.append(None)  # type: ignore[arg-type]  # position -1: absent
        texts.append(None)
        self._read_entry(plan, els, texts)

    def on_fast_entry(self, match: re.Match[str]) -> None:
        """An entry :func:`_fast_entries` matched: its texts are the match's groups."""
        texts: list[str | None] = list(match.groups())
        if "&" in match.group(0):
            for i, text in enumerate(texts):
                if text and "&" in text:
                    for entity, char in _ENTITIES:
                        text = text.replace(entity, char)
                    texts[i] = text
        texts.append(None)  # position -1: absent
        els: list[Any] = [None] * len(texts)
        els[_F_AMOUNT] = _Amount(texts[_F_AMOUNT], texts[_F_CCY])
        if texts[_F_TX_AMOUNT] is not None:
            els[_F_TX_AMOUNT] = _Amount(texts[_F_TX_AMOUNT], texts[_F_TX_CCY])
        self._read_entry(_FAST_DETAIL if texts[_F_TX] is not None else _FAST_ALONE, els, texts)

    def _read_entry(self, plan: _EntryPlan, els: list[Any], texts: list[str | None]) -> None:
        """Read an entry from its texts (and amount elements) at the plan's positions."""
        (entry_ref_at, amount_at, indicator_at, reversal_at, code_at, status_at, booking_at, value_at,
         bank_ref_at, transaction_code_at, info_at, detail_plans) = plan  # fmt: skip

        entry_no = len(self.entries) + 1
        text = texts[indicator_at]
        indicator = (text.strip() or None) if text is not None else None
        sign = 1 if indicator == "CRDT" else -1 if indicator == "DBIT" else self._sign_at(indicator, entry_no)
        amount_el = els[amount_at]
        amount = self._amount_at(amount_el, sign, entry_no)
        currency = amount.currency
        self.currencies.add(currency)
        text = texts[booking_at]
        booking_text = (text.strip() or None) if text is not None else None
        text = texts[value_at]
        value_text = (text.strip() or None) if text is not None else None
        booking = self._day(booking_text, entry_no)
        value = booking if value_text == booking_text else self._day(value_text, entry_no)
        code_el = els[transaction_code_at]
        code = self._transaction_code(code_el) if code_el is not None else None
        if len(info_at) == 1:
            info_text = " ".join(text.split()) if (text := texts[info_at[0]]) else ""
        else:
            info_text = (clean(" ".join(texts[i] or "" for i in info_at)) or "") if info_at else ""
        text = texts[code_at]
        status = (text.strip() or None) if text is not None else None
        if status is None:
            text = texts[status_at]
            status = (text.strip() or None) if text is not None else None
        text = texts[reversal_at]
        reversal = text is not None and text.strip().lower() in ("true", "1")
        text = texts[bank_ref_at]
        bank_ref = (text.strip() or None) if text is not None else None
        text = texts[entry_ref_at]
        entry_ref = (text.strip() or None) if text is not None else None

        # Each line: [amount, remittance, references, end-to-end id, bank reference, debtor name,
        # debtor IBAN, creditor name, creditor IBAN, implicit]; references None: not given.
        raw: list[list[Any]]
        if detail_plans:
            raw = [self._detail(p, els, texts, amount, amount_el, sign, entry_no) for p in detail_plans]
            if len(raw) == 1:
                if raw[0][0] is None:
                    raw[0][0] = amount  # a single payment without its own amount: the entry's
            elif any(r[0] is None for r in raw):
                self.warnings.append(
                    Notice.of(
                        "detail_amount_missing",
                        f"the entry holds {len(raw)} transaction details without amounts; kept as one line",
                        self.where(entry_no),
                    )
                )
                raw = [self._merge(raw, amount)]
            elif len(raw) > 1:
                total = sum((r[0].amount for r in raw), Decimal(0))
                if total != amount.amount:
                    self.warnings.append(
                        Notice.of(
                            "batch_sum_mismatch",
                            f"the {len(raw)} transaction details add up to {total}, the entry to "
                            f"{amount.amount}; kept as one line",
                            self.where(entry_no),
                        )
                    )
                    raw = [self._merge(raw, amount)]
        else:
            raw = [[amount, info_text, None, None, bank_ref, None, None, None, None, True]]
        # What identifies the booking, as the bank wrote it: ``sha("detail", account, …)`` of
        # these texts (the parts joined by U+001F: :func:`~q2c.payments.bank.common.digest`).
        head = (
            f"detail\x1f{self.account or ''}\x1f{amount_el.text}\x1f{currency}\x1f{indicator}\x1f"
            f"{booking_text}\x1f{value_text}\x1f{status}\x1f{reversal}\x1f{bank_ref}\x1f{entry_ref}"
        )
        numbered = self.fingerprint.numbered
        details: list[TransactionDetail] = []
        for (
            line_amount,
            remittance,
            refs,
            e2e,
            line_ref,
            debtor,
            debtor_iban,
            creditor,
            creditor_iban,
            implicit,
        ) in raw:
            if line_amount.currency != currency:
                raise BankFileError(
                    "mixed_currencies",
                    f"a transaction detail is in {line_amount.currency}, its entry in {currency}",
                    where=self.where(entry_no),
                )
            fp = numbered(
                digest_text(
                    f"{head}\x1f{line_amount.amount!s}\x1f{e2e}\x1f{remittance}\x1f{refs}\x1f{debtor_iban}"
                    f"\x1f{creditor_iban}\x1f{line_ref}"
                )
            )
            details.append(
                TransactionDetail(
                    line_amount,
                    fp,
                    e2e,
                    remittance,
                    () if refs is None else refs,
                    debtor,
                    debtor_iban,
                    creditor,
                    creditor_iban,
                    line_ref,
                    implicit,
                )
            )
        # The details' fingerprints already number repeats: the entry's derives from them.
        if len(details) == 1:
            entry_fp = digest_text(f"entry\x1f{details[0].fingerprint}")
        else:
            entry_fp = digest_text("\x1f".join(["entry", *(d.fingerprint for d in details)]))
        self.entries.append(
            Entry(
                amount,
                entry_fp,
                booking,
                value,
                tuple(details),
                status or "BOOK",
                reversal,
                bank_ref,
                entry_ref,
                code,
                info_text,
            )
        )

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
        self,
        plan: _DetailPlan,
        els: list[Any],
        texts: list[str | None],
        entry_amount: Money,
        entry_amount_el: Element | None,
        entry_sign: int,
        entry_no: int,
    ) -> list[Any]:
        (amount_at, sign_at, e2e_at, bank_ref_at, lines_at, refs_at,
         debtor_at, debtor_pty_at, debtor_iban_at, debtor_other_at,
         creditor_at, creditor_pty_at, creditor_iban_at, creditor_other_at) = plan  # fmt: skip
        text = texts[sign_at]
        own_sign = (text.strip() or None) if text is not None else None
        sign = self._sign_at(own_sign, entry_no) if own_sign else entry_sign
        amount: Money | None = None
        amount_el = els[amount_at]
        if amount_el is not None:
            if (
                sign == entry_sign
                and entry_amount_el is not None
                and texts[amount_at] == entry_amount_el.text
                and amount_el.get("Ccy") == entry_amount_el.get("Ccy")
            ):
                amount = entry_amount  # a single payment repeats its entry's amount: one Money serves both
            else:
                amount = self._amount_at(amount_el, sign, entry_no)
        if not lines_at:
            remittance = ""
        elif len(lines_at) == 1:
            remittance = " ".join((texts[lines_at[0]] or "").split())
        else:
            remittance = " ".join(" ".join(texts[i] or "" for i in lines_at).split())
        refs: list[str] = []
        for i, squeeze in refs_at:
            text = texts[i]
            if text is not None and (text := text.strip()):
                refs.append("".join(text.split()) if squeeze else text)
        return [
            amount,
            remittance,
            tuple(refs),
            end_to_end(_stripped(texts[e2e_at])),
            _stripped(texts[bank_ref_at]),
            clean(_stripped(texts[debtor_at]) or _stripped(texts[debtor_pty_at])),
            iban(_stripped(texts[debtor_iban_at]) or _stripped(texts[debtor_other_at])),
            clean(_stripped(texts[creditor_at]) or _stripped(texts[creditor_pty_at])),
            iban(_stripped(texts[creditor_iban_at]) or _stripped(texts[creditor_other_at])),
            False,
        ]

    @staticmethod
    def _merge(raw: list[list[Any]], amount: Money) -> list[Any]:
        """One line for an entry whose details cannot be used one by one."""
        remittance = clean(" ".join(r[1] for r in raw)) or ""
        references = tuple(ref for r in raw for ref in r[2])
        return [amount, remittance, references, None, None, None, None, None, None, True]

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


def _read_events(
    parser: XMLPullParser, handlers: dict[str, Callable[[Element], None]], cleared: tuple[str, ...]
) -> Element | None:
    """Hand the elements whose end the parser has read to their handlers, in document order; return
    the last element read (the root, once the document is complete).

    Millions of elements end in a large file and a few kinds are read: the events are taken from
    the parser's queue in bulk and filtered in C rather than one by one through ``read_events``.
    A syntax error the parser stopped at is raised after the elements before it were read, as
    ``iterparse`` does.
    """
    queue = getattr(parser, "_events_queue", None)
    failure: BaseException | None = None
    elements: list[Element]
    if isinstance(queue, deque):
        if queue and isinstance(queue[-1], BaseException):
            failure = queue.pop()
        elements = list(map(_ELEMENT, queue))
        queue.clear()
    else:  # pragma: no cover - a Python whose XMLPullParser keeps its events elsewhere
        elements = []
        try:
            events = cast("Iterator[tuple[str, Element]]", parser.read_events())
            elements.extend(el for _, el in events)
        except SyntaxError as exc:
            failure = exc
    for el in compress(elements, map(handlers.__contains__, map(_TAG, elements))):
        handlers[el.tag](el)
        if el.tag in cleared:
            el.clear()
    if failure is not None:
        raise failure
    return elements[-1] if elements else None


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
    text = _check_encoding(data)
    _refuse_dtd(data)
    message_tag, block_tag, _ = _MESSAGES[kind]
    fast = _fast_entries(text) if text is not None else None
    reader = _Reader(ns, kind, version)
    root: Element | None = None
    if fast is not None:
        reduced, matches = fast
        try:
            root = _read_document(reduced, reader, ns + block_tag, matches)
        except (ParseError, _Misread):
            # Not well-formed, or an entry the scan found is not one the parser reads (inside a
            # comment, another namespace): read the file itself, which says exactly what is wrong.
            reader, root = _Reader(ns, kind, version), None
    if root is None:
        try:
            root = _read_document(data, reader, ns + block_tag, [])
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


def _read_document(
    data: bytes, reader: _Reader, block: str, matches: list[re.Match[str] | None]
) -> Element | None:
    """Feed the document to the parser and its elements to the reader; the root element (None if
    the document has none). ``matches``: the entries :func:`_fast_entries` took out of ``data``
    (each let go once read)."""
    ns = reader.ns
    on_entry = reader.on_entry
    if matches:
        expected = iter(range(len(matches)))

        def on_entry(el: Element) -> None:
            number = el.get(_MARK)
            if number is None:
                reader.on_entry(el)
            elif (n := int(number)) == next(expected, -1) and (match := matches[n]) is not None:
                matches[n] = None
                reader.on_fast_entry(match)
            else:
                raise _Misread(number)

    handlers: dict[str, Callable[[Element], None]] = {
        ns + "Ntry": on_entry,
        ns + "Acct": reader.on_account,
        ns + "Bal": reader.on_balance,
        block: reader.on_statement,
    }
    cleared = (ns + "Ntry", block)  # read: their elements can go
    # Safe: _refuse_dtd let defusedxml read the prolog — no DTD, hence no entities.
    parser = XMLPullParser(events=("end",))
    root: Element | None = None
    with gc_paused():
        for offset in range(0, len(data), _CHUNK):
            parser.feed(data[offset : offset + _CHUNK])
            last = _read_events(parser, handlers, cleared)
            root = root if last is None else last
        parser.close()
        last = _read_events(parser, handlers, cleared)
        root = root if last is None else last
    if matches and next(expected, None) is not None:
        raise _Misread("an entry was not read")
    return root
