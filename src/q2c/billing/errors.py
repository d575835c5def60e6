"""Stable error codes of the billing app (``billing.<reason>``). Imports only ``q2c.core``."""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError

NOT_FOUND = "billing.not_found"
PRICE_MISSING = "billing.price_missing"
PERIOD_CLOSED = "billing.period_closed"
BEFORE_LAST_RUN = "billing.as_of_before_last_run"
RUN_IN_PROGRESS = "billing.run_in_progress"
RUN_FAILED = "billing.run_failed"
NO_BOOK = "billing.no_book"
INVALID_SETTINGS = "billing.invalid_settings"
INVALID_SCHEDULE = "billing.invalid_schedule"
INVALID_MILESTONE = "billing.invalid_milestone"
INVALID_WORKERS = "billing.invalid_workers"
CREDIT_ONLY = "billing.credit_only"


class BillingNotFound(NotFound):
    default_code = NOT_FOUND


class BillingInvalid(ValidationError):
    default_code = INVALID_SCHEDULE


class BillRunRefused(ValidationError):
    """Bad input for a bill run (closed period, as-of before the last run, missing rate …):
    nothing was written."""

    default_code = "billing.run_refused"


class BillRunConflict(Conflict):
    default_code = RUN_IN_PROGRESS
