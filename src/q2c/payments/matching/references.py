"""ISO 11649 structured creditor references ("RF references") as the matcher reads them.

An RF reference is ``RF`` + two check digits + up to 21 letters and digits; the check digits make
``reference + "RF" + check digits`` (letters as numbers, A=10 … Z=35) equal 1 modulo 97 (ISO 7064
MOD 97-10). The reference of a document number is :func:`creditor_reference`, owned by
``q2c.parties.references`` (pure: python-stdnum's ``mod_97_10``, no Django) and re-exported here.

The matcher checks a reference per bank line, and the benchmark builds a million: python-stdnum's
validator takes tens of microseconds, so :func:`is_creditor_reference` and
:func:`fast_creditor_reference` compute the same MOD 97-10 with one integer conversion; tests
compare them with python-stdnum and with ``q2c.parties.references``.

Must not import Django; of q2c, only ``q2c.core`` and the pure ``q2c.parties.references``.
"""

from __future__ import annotations

import re

from q2c.core.errors import ValidationError
from q2c.parties.references import creditor_reference

__all__ = [
    "compact_reference",
    "creditor_reference",
    "creditor_reference_body",
    "fast_creditor_reference",
    "is_compact_creditor_reference",
    "is_creditor_reference",
    "references_in_text",
]

_ALNUM = re.compile(r"[A-Z0-9]+")
# Letters become their MOD 97-10 values (A=10 … Z=35) in one str.translate.
_LETTERS = {ord(c): str(10 + i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_SHAPE = re.compile(r"RF\d{2}[A-Z0-9]{1,21}")
# In free text an RF reference is often printed in groups of four: "RF18 5390 0754 7034".
_IN_TEXT = re.compile(r"\bRF\s?\d{2}(?:\s?[A-Z0-9]){1,21}\b")


def _reference_body(number: str) -> str:
    body = "".join(_ALNUM.findall(number.upper()))
    if not body or len(body) > 21:
        raise ValidationError(
            f"'{number}' cannot become an ISO 11649 reference (1–21 letters and digits)",
            code="payments.reference_invalid",
            field="number",
        )
    return body


_NOT_ALNUM = bytes(c for c in range(256) if not (48 <= c <= 57 or 65 <= c <= 90))
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PREFIX_DIGITS: dict[str, str] = {}  # "INV" → "182931": a file's numbers share a few prefixes
_RF00 = "RF00".translate(_LETTERS)
_RF = "RF".translate(_LETTERS)
_PREFIXES_KEPT = 1_000


def fast_creditor_reference(number: str) -> str:
    """:func:`creditor_reference` of an ASCII document number, with integer arithmetic (bulk).

    A million open items each need one: the usual shape — letters, then digits and separators
    (``INV-2027-000002``) — keeps its letters' MOD 97-10 digits per prefix and strips separators
    with one ``bytes.translate``; anything else takes the general path.
    """
    if number.isascii():
        body = number.upper().encode("ascii").translate(None, _NOT_ALNUM).decode("ascii")
        rest = body.lstrip(_UPPER)
        if body and len(body) <= 21 and (not rest or rest.isdigit()):
            prefix = body[: len(body) - len(rest)]
            digits = _PREFIX_DIGITS.get(prefix)
            if digits is None:
                digits = _PREFIX_DIGITS[prefix] = prefix.translate(_LETTERS)
            check = 98 - int(digits + rest + _RF00) % 97
            return f"RF{check:02d}{body}"
    body = _reference_body(number)
    check = 98 - int((body + "RF00").translate(_LETTERS)) % 97
    return f"RF{check:02d}{body}"


def creditor_reference_body(number: str) -> str:
    """The body of the RF reference printed for ``number``: its letters and digits, upper case.

    The reference is ``"RF"`` + check digits + body, the check digits a function of the body, so
    a valid reference whose check digits are the computed ones (anything but 00, 01 and 99, which
    equal them only modulo 97) is the reference of every number with its body.
    """
    if number.isascii():
        return number.upper().encode("ascii").translate(None, _NOT_ALNUM).decode("ascii")
    return "".join(_ALNUM.findall(number.upper()))


def is_creditor_reference(text: str) -> bool:
    """True for a well-formed RF reference whose check digits are right (spaces allowed)."""
    return is_compact_creditor_reference("".join(text.split()).upper())


def is_compact_creditor_reference(compact: str) -> bool:
    """:func:`is_creditor_reference` of a reference already compact (no spaces, upper case).

    The usual body — letters, then digits (``INV20270000001``) — keeps its letters' MOD 97-10
    digits per prefix, as :func:`fast_creditor_reference` does, instead of translating each one.
    """
    if not _SHAPE.fullmatch(compact):
        return False
    body = compact[4:]  # [A-Z0-9]{1,21}: ASCII
    rest = body.lstrip(_UPPER)
    if rest.isdigit():
        prefix = body[: len(body) - len(rest)]
        digits = _PREFIX_DIGITS.get(prefix)
        if digits is None:
            digits = prefix.translate(_LETTERS)
            if len(_PREFIX_DIGITS) < _PREFIXES_KEPT:  # bank lines bring any prefix: keep a few
                _PREFIX_DIGITS[prefix] = digits
        return int(digits + rest + _RF + compact[2:4]) % 97 == 1
    return int((body + compact[:4]).translate(_LETTERS)) % 97 == 1


def compact_reference(text: str) -> str:
    return "".join(text.split()).upper()


def references_in_text(text: str) -> list[str]:
    """Valid RF references written in free text, compacted (invalid check digits are ignored)."""
    if "RF" not in text.upper():
        return []
    found = []
    for match in _IN_TEXT.finditer(text.upper()):
        candidate = compact_reference(match.group())
        # A reference printed in groups may run into the next word; shorten until it checks out.
        while len(candidate) > 4:
            if is_creditor_reference(candidate):
                found.append(candidate)
                break
            candidate = candidate[:-1]
    return found
