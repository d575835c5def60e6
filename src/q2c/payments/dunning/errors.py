"""Stable error codes of dunning and collections (``dunning.<reason>``). Imports only ``q2c.core``.

The pure engine's own codes (``dunning.overlapping_steps``, ``dunning.duplicate_step``,
``dunning.negative_offset``, ``dunning.invalid``) come from :mod:`q2c.payments.dunning.engine`.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError

NOT_FOUND = "dunning.not_found"
INVALID_POLICY = "dunning.invalid_policy"
INVALID_PROMISE = "dunning.invalid_promise"
PROMISE_IN_PAST = "dunning.promise_date_past"
INVOICE_DISPUTED = "dunning.invoice_disputed"
INVOICE_NOT_OPEN = "dunning.invoice_not_open"
INVALID_FEE = "dunning.invalid_fee"
PROMISE_CLOSED = "dunning.promise_closed"
INVALID_NOTE = "dunning.invalid_note"
INVALID_DATE = "dunning.invalid_date"


class DunningNotFound(NotFound):
    default_code = NOT_FOUND


class DunningInvalid(ValidationError):
    default_code = INVALID_POLICY


class DunningConflict(Conflict):
    default_code = INVOICE_DISPUTED
