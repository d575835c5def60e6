"""Errors and warnings of bank-file import, with stable codes.

Every refusal is a :class:`BankFileError` (a ``ValidationError``: API 422, CLI exit 2) carrying a
stable ``payments.bank.*`` code and, where it helps, where in the file the problem sits. Warnings
are :class:`Notice` values collected beside the parsed statements; they never stop an import.

Codes (errors): ``empty``, ``unknown_format``, ``unsupported_format``, ``unsupported_version``,
``xml_forbidden`` (DTDs, entity expansion, external entities), ``malformed``, ``truncated``,
``encoding``, ``bad_amount``, ``too_many_decimals``, ``bad_date``, ``mixed_currencies``,
``missing_element``, ``control_total``, ``csv_mapping_required``, ``csv_mapping``.
Codes (warnings): ``encoding_fallback``, ``balance_gap``, ``balance_mismatch``,
``batch_sum_mismatch``, ``detail_amount_missing``, ``duplicate_statement``, ``unknown_account``,
``unverified_version``, ``skipped_line``.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from q2c.core.errors import ValidationError

PREFIX = "payments.bank."


class BankFileError(ValidationError):
    """A bank file was refused; nothing of it may be used."""

    default_code = PREFIX + "malformed"

    def __init__(self, reason: str, message: str, *, where: str = "") -> None:
        text = f"{message} ({where})" if where else message
        super().__init__(
            text, code=PREFIX + reason, field="file", details=[{"where": where}] if where else None
        )
        self.reason = reason
        self.where = where


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning about an imported file: stable ``code``, a message for people, and where."""

    code: str
    message: str
    where: str = ""

    @classmethod
    def of(cls, reason: str, message: str, where: str = "") -> Notice:
        return cls(PREFIX + reason, message, where)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.where:
            data["where"] = self.where
        return data
