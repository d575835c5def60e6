"""Stable error codes of the parties app.

Each code names one thing a caller got wrong; the API returns it as ``code`` in problem+json and
the UI shows the message beside the field. Imports only ``q2c.core``.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError

INVALID_NAME = "parties.invalid_name"
INVALID_COUNTRY = "parties.invalid_country"
INVALID_CURRENCY = "parties.invalid_currency"
INVALID_TAX_ID = "parties.invalid_tax_id"
INVALID_IBAN = "parties.invalid_iban"
INVALID_BIC = "parties.invalid_bic"
INVALID_CREDITOR_ID = "parties.invalid_creditor_id"
INVALID_TIME_ZONE = "parties.invalid_time_zone"
INVALID_LOCALE = "parties.invalid_locale"
INVALID_EMAIL = "parties.invalid_email"
INVALID_PREFIX = "parties.invalid_prefix"
INVALID_CHOICE = "parties.invalid_choice"
INVALID_PAYMENT_TERMS = "parties.invalid_payment_terms"
INVALID_PARENT = "parties.invalid_parent"
INVALID_REFERENCE = "parties.invalid_reference"
INVALID_OWNER = "parties.invalid_owner"
ENTITY_REQUIRED = "parties.entity_required"
UNKNOWN_FIELD = "parties.unknown_field"


class PartyNotFound(NotFound):
    default_code = "parties.not_found"


class PartyInUse(Conflict):
    """The row is referenced (child accounts, documents of later apps) and cannot be deleted."""

    default_code = "parties.in_use"


class DuplicateBankAccount(Conflict):
    default_code = "parties.duplicate_bank_account"


class PartyValidationError(ValidationError):
    default_code = "parties.invalid"
