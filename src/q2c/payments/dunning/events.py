"""Event types dunning records (``q2c.platform.events``), stamped by the business clock.
Payloads are documented in docs/dunning.md.

A late fee moves money through the invoice it becomes (invoicing's ``invoicing.invoice.issued``
posts it); ``FEE_CHARGED`` only says which step charged it.

Must not import any q2c app.
"""

from __future__ import annotations

REMINDER_SENT = "payments.dunning.reminder_sent"
STEP_SKIPPED = "payments.dunning.step_skipped"
FEE_CHARGED = "payments.dunning.fee_charged"
SERVICE_SUSPENDED = "payments.dunning.service_suspended"
HANDED_TO_COLLECTIONS = "payments.dunning.handed_to_collections"
PROMISE_RECORDED = "payments.dunning.promise_to_pay_recorded"
PROMISE_CLOSED = "payments.dunning.promise_to_pay_closed"
POLICY_SAVED = "payments.dunning.policy_saved"
NOTE_ADDED = "payments.dunning.note_added"
RUN_COMPLETED = "payments.dunning.run_completed"
RETRY_PLANNED = "payments.dunning.retry_planned"
NEW_METHOD_REQUESTED = "payments.dunning.new_method_requested"
