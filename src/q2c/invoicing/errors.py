"""Stable error codes of the invoicing app (``invoicing.<reason>``).

Each names one thing a caller got wrong or a state that forbids the action; the API answers them
as problem+json, the CLI as a message and exit status 2. Imports only ``q2c.core``.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError

NOT_FOUND = "invoicing.not_found"
INVALID_LINE = "invoicing.invalid_line"
EMPTY_INVOICE = "invoicing.empty_invoice"
NOT_DRAFT = "invoicing.not_draft"
RATE_MISSING = "invoicing.rate_missing"
INVALID_RATE = "invoicing.invalid_rate"
INVALID_TERMS = "invoicing.invalid_terms"
INVALID_CREDIT = "invoicing.invalid_credit"
CREDIT_EXCEEDS = "invoicing.credit_exceeds_invoice"
NOT_VOIDABLE = "invoicing.not_voidable"
INVALID_PAYMENT = "invoicing.invalid_payment"
INVALID_FILTER = "invoicing.invalid_filter"
NO_BOOK = "invoicing.no_book"
TAX_FAILED = "invoicing.tax_failed"
INVALID_SETTINGS = "invoicing.invalid_settings"
NEGATIVE_TOTAL = "invoicing.negative_total"
NOT_ISSUED = "invoicing.not_issued"
INVALID_DELIVERY = "invoicing.invalid_delivery"
INVALID_EXPORT = "invoicing.invalid_export"
EXPORT_CONFLICT = "invoicing.export_conflict"


class InvoiceNotFound(NotFound):
    default_code = NOT_FOUND


class InvalidInvoice(ValidationError):
    default_code = INVALID_LINE


class RateMissing(ValidationError):
    """No exchange rate from the invoice currency to the entity currency for the issue date."""

    default_code = RATE_MISSING


class InvalidCredit(ValidationError):
    default_code = INVALID_CREDIT


class InvoiceConflict(Conflict):
    default_code = NOT_DRAFT
