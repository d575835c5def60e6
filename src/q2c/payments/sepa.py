"""SEPA Direct Debit rules q2c checks itself (pure: no Django): IBAN and BIC through schwifty,
the creditor identifier's check digits, the characters and lengths the EPC rulebook allows in
identifiers, and the R-transaction reason codes of returns and rejects.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from q2c.core.errors import ValidationError

#: EPC "SEPA restricted character set" for identifiers (mandate reference, end-to-end id):
#: a–z A–Z 0–9 / - ? : ( ) . , ' + and space; a mandate reference may not start or end with '/'
#: nor contain '//' (EPC SDD Core rulebook, AT-01).
_ID = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")

#: Reason codes of R-transactions (EPC guidance on reason codes for SDD R-transactions).
REASONS = {
    "AC01": "account identifier incorrect",
    "AC04": "account closed",
    "AC06": "account blocked",
    "AC13": "debtor account is a consumer account",
    "AG01": "transaction forbidden on this account",
    "AG02": "invalid bank operation code",
    "AM04": "insufficient funds",
    "AM05": "duplicate collection",
    "BE05": "creditor identifier incorrect",
    "CNOR": "creditor bank is not registered",
    "DNOR": "debtor bank is not registered",
    "FF01": "invalid file format",
    "MD01": "no valid mandate",
    "MD02": "mandate data missing or incorrect",
    "MD06": "refund request by the debtor",
    "MD07": "debtor deceased",
    "MS02": "refused by the debtor",
    "MS03": "reason not specified",
    "RC01": "BIC incorrect",
    "RR01": "regulatory reason: debtor account or identification missing",
    "RR02": "regulatory reason: debtor name or address missing",
    "RR03": "regulatory reason: creditor name or address missing",
    "RR04": "regulatory reason",
    "SL01": "specific service offered by the debtor bank",
}


def check_iban(value: str, field: str = "iban") -> str:
    """The IBAN in electronic form if valid and in the SEPA zone; else ``payments.invalid_iban``."""
    try:
        iban = IBAN(str(value or ""))
    except (SchwiftyException, ValueError) as exc:
        raise ValidationError(f"not a valid IBAN: {exc}", code="payments.invalid_iban", field=field) from None
    if not iban.in_sepa_zone:
        raise ValidationError(f"{iban.country_code} is not in the SEPA zone", code="payments.invalid_iban", field=field)
    return str(iban.compact)


def check_bic(value: str, iban: str, field: str = "bic") -> str:
    """The BIC as given (validated), or the one schwifty derives from the IBAN's bank code."""
    if value:
        try:
            return str(BIC(str(value)).compact)
        except (SchwiftyException, ValueError) as exc:
            raise ValidationError(f"not a valid BIC: {exc}", code="payments.invalid_bic", field=field) from None
    derived = IBAN(iban).bic
    if derived is None:
        raise ValidationError("no BIC given and none known for this IBAN's bank", code="payments.invalid_bic", field=field)
    return str(derived.compact)


def check_identifier(value: str, field: str) -> str:
    text = str(value or "")
    if not _ID.match(text) or text.startswith("/") or text.endswith("/") or "//" in text:
        raise ValidationError(
            "1–35 characters of a–z, A–Z, 0–9 and / - ? : ( ) . , ' + space (not starting or ending with '/', no '//')",
            code="payments.invalid_mandate", field=field,
        )  # fmt: skip
    return text


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def check_creditor_id(value: str, field: str = "creditor_id") -> str:
    """The SEPA creditor identifier: CC + 2 check digits + 3-character business code + national id;
    check digits by ISO 7064 MOD 97-10 over national id + CC + "00", the business code ignored
    (EPC262-08). ``DE98ZZZ09999999999`` is the Bundesbank's documented example."""
    text = str(value or "").replace(" ", "").upper()
    if not re.match(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$", text):
        raise ValidationError("not a SEPA creditor identifier", code="payments.invalid_collection", field=field)
    national, country, digits = text[7:], text[:2], int(text[2:4])
    if 98 - _mod97(national + country + "00") != digits:
        raise ValidationError("the creditor identifier's check digits are wrong", code="payments.invalid_collection", field=field)
    return text
