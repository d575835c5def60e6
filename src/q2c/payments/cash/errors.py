"""Stable error codes of cash application (``payments_cash.<reason>``). Imports only ``q2c.core``.

Bank-file refusals keep the parsers' own ``payments.bank.*`` codes (:mod:`q2c.payments.bank.errors`).
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError

NOT_FOUND = "payments_cash.not_found"
UNKNOWN_ACCOUNT = "payments_cash.unknown_account"
AMBIGUOUS_ACCOUNT = "payments_cash.ambiguous_account"
WRONG_CURRENCY = "payments_cash.wrong_currency"
INVALID_SETTINGS = "payments_cash.invalid_settings"
INVALID_APPLICATION = "payments_cash.invalid_application"
ALREADY_RESOLVED = "payments_cash.already_resolved"
NOT_APPLICABLE = "payments_cash.not_applicable"
FILE_TOO_LARGE = "payments_cash.file_too_large"


class CashNotFound(NotFound):
    default_code = NOT_FOUND


class CashInvalid(ValidationError):
    default_code = INVALID_APPLICATION


class CashConflict(Conflict):
    default_code = ALREADY_RESOLVED
