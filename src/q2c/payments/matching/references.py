"""ISO 11649 structured creditor references ("RF references") for invoices.

An RF reference is ``RF`` + two check digits + up to 21 letters and digits; the check digits make
``reference + "RF" + check digits`` (letters as numbers, A=10 … Z=35) equal 1 modulo 97 (ISO 7064
MOD 97-10). python-stdnum validates them but has no generator; :func:`creditor_reference` builds
one from an invoice number with stdnum's ``mod_97_10``. The matcher checks thousands of references
per second, so :func:`is_creditor_reference` and :func:`fast_creditor_reference` compute the same
MOD 97-10 with one integer conversion (tests compare both with python-stdnum).

No payments module imports ``q2c.parties`` from pure code: if parties one day owns an RF helper
that is importable without Django, this module should delegate to it.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_97_10

from q2c.core.errors import ValidationError

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


def creditor_reference(number: str) -> str:
    """The RF reference of a document number: ``INV-2027-000001`` → ``RF44INV2027000001``.

    Separators are dropped (they are not allowed in the reference), letters upper-cased.
    """
    body = _reference_body(number)
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def fast_creditor_reference(number: str) -> str:
    """Same result as :func:`creditor_reference`, with integer arithmetic (bulk generation)."""
    body = _reference_body(number)
    check = 98 - int((body + "RF00").translate(_LETTERS)) % 97
    return f"RF{check:02d}{body}"


def is_creditor_reference(text: str) -> bool:
    """True for a well-formed RF reference whose check digits are right (spaces allowed)."""
    compact = "".join(text.split()).upper()
    if not _SHAPE.fullmatch(compact):
        return False
    return int((compact[4:] + compact[:4]).translate(_LETTERS)) % 97 == 1


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
