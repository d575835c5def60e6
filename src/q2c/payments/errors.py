"""Stable error codes of the payments app (``payments.<reason>``). Imports only ``q2c.core``."""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, PermissionDenied, ValidationError

NOT_FOUND = "payments.not_found"
INVALID_PAYMENT = "payments.invalid_payment"
INVALID_APPLICATION = "payments.invalid_application"
OVER_APPLIED = "payments.over_applied"
NOT_APPLICABLE = "payments.invoice_not_open"
EXCEEDS_UNAPPLIED = "payments.exceeds_unapplied"
INVALID_REFUND = "payments.invalid_refund"
INVALID_WRITE_OFF = "payments.invalid_write_off"
SAME_APPROVER = "payments.same_approver"
INVALID_DISPUTE = "payments.invalid_dispute"
DISPUTE_OPEN = "payments.dispute_open"
DUPLICATE = "payments.duplicate"
INVALID_SIGNATURE = "payments.invalid_signature"
INVALID_WEBHOOK = "payments.invalid_webhook"
INVALID_CARD = "payments.invalid_card"
ALREADY_PAID = "payments.already_paid"
INVALID_MANDATE = "payments.invalid_mandate"
INVALID_IBAN = "payments.invalid_iban"
INVALID_BIC = "payments.invalid_bic"
INVALID_COLLECTION = "payments.invalid_collection"
INVALID_RETURN = "payments.invalid_return"
INVALID_LINK = "payments.invalid_link"
NO_BOOK = "payments.no_book"


class PaymentNotFound(NotFound):
    default_code = NOT_FOUND


class InvalidPayment(ValidationError):
    default_code = INVALID_PAYMENT


class PaymentConflict(Conflict):
    default_code = OVER_APPLIED


class Forbidden(PermissionDenied):
    default_code = SAME_APPROVER
