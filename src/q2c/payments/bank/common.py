"""Shared helpers of the bank parsers: decoding text, exact amounts, dates, fingerprints.

Amounts are read from text without ever passing through a float, checked against the currency's
ISO 4217 exponent (more decimals than the currency has is an error, never rounded away), and signed
by the caller. Fingerprints hash what the bank said about a line plus its occurrence number among
identical lines of the same account in the file: two genuinely identical payments stay two lines,
while importing the file again yields the same fingerprints (duplicates).

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency, currency_exponent
from q2c.payments.bank.errors import BankFileError, Notice

_PLAIN_DECIMAL = re.compile(r"\d{1,18}(?:\.\d{1,18})?")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk loop that makes no reference cycles.

    With millions of live objects (open items, parsed lines) every full collection walks them
    all; pausing it during parsing, indexing and matching saves a fifth of the time. Reference
    counting still frees everything; the previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def decimal_text(text: str | None, *, where: str) -> Decimal:
    """A non-negative decimal written with a dot (camt, normalised MT940/CSV): exact, no float."""
    value = (text or "").strip()
    if not _PLAIN_DECIMAL.fullmatch(value):
        raise BankFileError("bad_amount", f"'{value}' is not an amount", where=where)
    return Decimal(value)


_QUANTA: dict[str, Decimal] = {}


def money(value: Decimal, currency: str | None, *, where: str) -> Money:
    """Exact Money: unknown currencies and more decimals than the currency allows are refused."""
    code = (currency or "").strip()
    quantum = _QUANTA.get(code)
    if quantum is None:
        try:
            check_currency(code)
        except ValidationError:
            raise BankFileError("bad_amount", f"'{code}' is not an ISO 4217 currency", where=where) from None
        quantum = _QUANTA[code] = Decimal(1).scaleb(-currency_exponent(code))
    # 12.300 EUR is 12.30 (trailing zeros are harmless); 12.305 EUR is refused, never rounded.
    exact = value.quantize(quantum)
    if value != exact:
        raise BankFileError(
            "too_many_decimals",
            f"{value} has more decimals than {code} allows ({currency_exponent(code)})",
            where=where,
        )
    try:
        return Money(exact, code)
    except ValidationError as exc:
        raise BankFileError("bad_amount", exc.message, where=where) from None


def amount_of(text: str | None, currency: str | None, sign: int, where: Callable[[], str]) -> Money:
    """``money(decimal_text(text) * sign, currency)`` — the same value or the same refusal — for
    the hot path of a parser: ``where`` (the place in the file) is only asked for a refusal."""
    if text is not None and currency is not None:
        quantum = _QUANTA.get(currency)  # a currency seen before, written without spaces
        value_text = text.strip()
        if quantum is not None and _PLAIN_DECIMAL.fullmatch(value_text):
            value = Decimal(value_text)
            if sign < 0:
                value = value * sign
            exact = value.quantize(quantum)
            if value == exact:
                try:
                    return Money(exact, currency)
                except ValidationError:
                    pass  # refused below, with the place
    at = where()
    value = decimal_text(text, where=at)
    return money(value * sign if sign < 0 else value, currency, where=at)


def iso_date(text: str | None, *, where: str) -> date:
    """``2027-02-20`` or an ISO date-time (its date part, as the bank wrote it)."""
    value = (text or "").strip()
    try:
        if len(value) > 10:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        return date.fromisoformat(value)
    except ValueError:
        raise BankFileError("bad_date", f"'{value}' is not a date", where=where) from None


def iso_datetime(text: str | None) -> datetime | None:
    value = (text or "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def decode_text(data: bytes, *, what: str, warnings: list[Notice]) -> str:
    """Decode a text format (MT940, BAI2): UTF-8 (a BOM is fine), UTF-16 with a BOM; otherwise
    Latin-1 with a warning, because banks still send ISO 8859-1/Windows-1252 and every byte
    sequence is valid Latin-1 — the warning tells the user names may show odd letters."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BankFileError("encoding", f"the {what} file is not valid UTF-16") from None
    if b"\x00" in data:
        raise BankFileError(
            "encoding", f"the {what} file contains NUL bytes: binary, or UTF-16 without a byte-order mark"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.append(
            Notice.of(
                "encoding_fallback",
                f"the {what} file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "read as ISO 8859-1",
            )
        )
        return data.decode("latin-1")


def clean(text: str | None) -> str | None:
    """Collapse whitespace; empty becomes None."""
    if text is None:
        return None
    value = " ".join(text.split())
    return value or None


def end_to_end(text: str | None) -> str | None:
    """The payer's end-to-end id; SEPA's placeholder ``NOTPROVIDED`` means there is none."""
    value = clean(text)
    return None if value in (None, "NOTPROVIDED") else value


def iban(text: str | None) -> str | None:
    """An IBAN without spaces, upper case (no validation: payers' IBANs are only compared)."""
    if not text:
        return None
    value = "".join(text.split()).upper()
    return value or None


def is_iban(text: str) -> bool:
    """ISO 13616 shape and mod-97 check (to recognise an IBAN, not to validate a bank's data)."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", text):
        return False
    digits = "".join(str(int(c, 36)) for c in text[4:] + text[:4])
    return int(digits) % 97 == 1


def digest(parts: Iterable[object]) -> str:
    """The stored hash of ``parts``: their ``str`` joined by U+001F (None → "None")."""
    return digest_text("\x1f".join(map(str, parts)))


def digest_text(joined: str) -> str:
    """SHA-256 of the text, 32 hex digits: what :func:`digest` hashes, for a caller that joins the
    parts itself (an f-string formats None, bools and tuples as ``str`` does, and faster)."""
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def sha(*parts: object) -> str:
    return digest(parts)


class Fingerprinter:
    """Stable line fingerprints: content hash + occurrence number among identical lines."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._journal: list[str] = []

    def __call__(self, kind: str, account: str, *content: object) -> str:
        return self.numbered(digest((kind, account, *content)))

    def numbered(self, base: str) -> str:
        """``base`` (a :func:`digest` of a line's content) numbered among identical lines."""
        count = self._seen.get(base, 0) + 1
        self._seen[base] = count
        self._journal.append(base)
        # The first occurrence keeps the bare hash; repeats of an identical line are numbered.
        return base if count == 1 else f"{base}#{count}"

    def mark(self) -> int:
        return len(self._journal)

    def rollback(self, mark: int) -> None:
        """Forget the lines counted since ``mark`` (a statement dropped as a repeat)."""
        for base in self._journal[mark:]:
            self._seen[base] -= 1
        del self._journal[mark:]
