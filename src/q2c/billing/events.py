"""Event types the billing app records (``q2c.platform.events``), stamped by the business clock.
Payloads are documented in docs/invoicing.md (billing section).

Billing itself moves no money: invoices do, and their events are invoicing's
(``invoicing.invoices.issued``, posted by ``q2c.invoicing.posting``).

Must not import any q2c app.
"""

from __future__ import annotations

SCHEDULES_CREATED = "billing.schedules.created"
SCHEDULES_ENDED = "billing.schedules.ended"
ADJUSTMENTS_CREATED = "billing.adjustments.created"
FACT_RECORDED = "billing.fact.recorded"
MILESTONE_DONE = "billing.milestone.done"
RUN_STARTED = "billing.run.started"
RUN_COMPLETED = "billing.run.completed"
RUN_FAILED = "billing.run.failed"
SETTINGS_CHANGED = "billing.settings.changed"
