"""The ledger's domain errors, each with a stable code (``ledger.<reason>``).

Pure: imports only ``q2c.core``. The API maps them to problem+json by kind (422 validation,
404 not found, 409 conflict, 403 forbidden); the CLI prints the message and exits non-zero.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, PermissionDenied, ValidationError


class Unbalanced(ValidationError):
    """Debits and credits of an entry differ (no tolerance: the minor unit counts)."""

    default_code = "ledger.unbalanced"


class InvalidLine(ValidationError):
    """A line has no amount, both sides, a negative or zero amount, or a bad original amount."""

    default_code = "ledger.invalid_line"


class EmptyEntry(ValidationError):
    default_code = "ledger.empty_entry"


class MissingSource(ValidationError):
    """An entry without a source reference (app, type, id) cannot be posted."""

    default_code = "ledger.no_source"


class TooManyDecimals(ValidationError):
    default_code = "ledger.too_many_decimals"


class CurrencyMismatch(ValidationError):
    """A line is not in the entity's currency (the original currency goes in ``original``)."""

    default_code = "ledger.currency_mismatch"


class UnknownAccount(ValidationError):
    default_code = "ledger.unknown_account"


class AccountNotFound(NotFound):
    """An account looked up by id (in a URL) does not exist for that entity."""

    default_code = "ledger.account_not_found"


class InactiveAccount(ValidationError):
    default_code = "ledger.inactive_account"


class DuplicateAccount(Conflict):
    default_code = "ledger.duplicate_account"


class NoBook(NotFound):
    """The entity has no ledger book yet (``open_book`` was not called for it)."""

    default_code = "ledger.no_book"


class BookExists(Conflict):
    default_code = "ledger.book_exists"


class EntryNotFound(NotFound):
    default_code = "ledger.entry_not_found"


class PeriodNotFound(NotFound):
    default_code = "ledger.period_not_found"


class PeriodClosed(Conflict):
    """Posting into, or reversing into, a closed period."""

    default_code = "ledger.period_closed"


class AlreadyPosted(Conflict):
    """An entry with this source reference and purpose exists: a rerun must not post twice."""

    default_code = "ledger.already_posted"


class AlreadyReversed(Conflict):
    default_code = "ledger.already_reversed"


class Immutable(Conflict):
    """Posted entries and their lines are never changed or deleted; post a reversal instead."""

    default_code = "ledger.immutable"


class AdminRequired(PermissionDenied):
    default_code = "ledger.admin_required"
