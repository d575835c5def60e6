"""Structured creditor references (ISO 11649, "RF…") for any document number.

A payer copies the reference into the remittance field; its check digits let the bank and the
cash matcher tell it from free text and catch typing errors. python-stdnum validates RF
references but has no generator, so the check digits are computed here with its ISO 7064
mod 97-10 routine, exactly as ISO 11649 defines them: the reference, followed by ``RF00``, read
as a number with A=10 … Z=35, and the check digits are 98 minus that number modulo 97.

Pure: no Django, no q2c app.
"""

from __future__ import annotations

import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from q2c.core.errors import ValidationError
from q2c.parties import errors

#: ISO 11649 allows up to 21 alphanumeric characters after "RF" and the two check digits.
MAX_REFERENCE_LENGTH = 21


def creditor_reference(document_number: str) -> str:
    """The ISO 11649 creditor reference of a document number, electronic form (no spaces).

    Separators are dropped and letters upper-cased (``INV-2027-000001`` → ``RF…INV2027000001``).
    Raises ``ValidationError`` (``parties.invalid_reference``) when nothing is left or more than
    21 characters remain.
    """
    if not isinstance(document_number, str):
        raise ValidationError(
            "a document number is text", code=errors.INVALID_REFERENCE, field="document_number"
        )
    if any(ch.isalnum() and not ch.isascii() for ch in document_number):
        # Dropping "Ä" would let two document numbers share one reference.
        raise ValidationError(
            f"'{document_number}' has letters outside A–Z; an RF reference holds A–Z and 0–9 only",
            code=errors.INVALID_REFERENCE,
            field="document_number",
        )
    body = re.sub(r"[^0-9A-Za-z]", "", document_number).upper()
    if not body:
        raise ValidationError(
            f"'{document_number}' has no letters or digits to build a reference from",
            code=errors.INVALID_REFERENCE,
            field="document_number",
        )
    if len(body) > MAX_REFERENCE_LENGTH:
        raise ValidationError(
            f"'{document_number}' gives {len(body)} characters; an RF reference holds at most {MAX_REFERENCE_LENGTH}",
            code=errors.INVALID_REFERENCE,
            field="document_number",
        )
    check = mod_97_10.calc_check_digits(body + "RF")
    reference = f"RF{check}{body}"
    # Belt and braces: the reference must pass the library's own validator.
    iso11649.validate(reference)
    return reference


def format_reference(reference: str) -> str:
    """Print form: groups of four (``RF18 5390 0754 7034``)."""
    return str(iso11649.format(reference))


def is_creditor_reference(text: str) -> bool:
    """True if ``text`` (spaces allowed) is a valid ISO 11649 reference."""
    return bool(iso11649.is_valid(text))
