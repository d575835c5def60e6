"""Event types the invoicing app records (``q2c.platform.events``), each stamped with the business
clock. Payloads are documented in docs/invoicing.md.

Money-moving ones (declared ``moves_money=True`` in ``q2c.wiring``; their handler is
:mod:`q2c.invoicing.posting`, which posts to the ledger in the same transaction):

- ``invoicing.invoice.issued`` (InvoiceIssued): one invoice issued by hand (API, UI);
- ``invoicing.invoices.issued`` (InvoicesIssued): one write batch of a bill run — every invoice
  of the batch with its number and amounts (``invoices``: a text table, one line per invoice
  ``invoice_id number account_id total_minor total_base_minor``), totals per currency and the
  batch's posting; one event per entity and batch instead of one per invoice, so a
  100,000-invoice run records hundreds of events, not 100,000 (see docs/invoicing.md);
- ``invoicing.invoice.voided`` (InvoiceVoided), ``invoicing.invoice.written_off``
  (InvoiceUncollectible), ``invoicing.credit_note.issued`` (CreditNoteIssued).

Must not import any q2c app.
"""

from __future__ import annotations

INVOICE_CREATED = "invoicing.invoice.created"
INVOICE_ISSUED = "invoicing.invoice.issued"
INVOICES_ISSUED = "invoicing.invoices.issued"
INVOICE_VOIDED = "invoicing.invoice.voided"
INVOICE_WRITTEN_OFF = "invoicing.invoice.written_off"
INVOICE_PAYMENT_APPLIED = "invoicing.invoice.payment_applied"
INVOICE_PAYMENT_REVERSED = "invoicing.invoice.payment_reversed"
INVOICE_DISCARDED = "invoicing.invoice.discarded"
CREDIT_NOTE_ISSUED = "invoicing.credit_note.issued"
DOCUMENT_RENDERED = "invoicing.document.rendered"
DOCUMENT_SENT = "invoicing.document.sent"
DOCUMENT_RESEND = "invoicing.document.resend_requested"
RATE_SET = "invoicing.rate.set"
SETTINGS_CHANGED = "invoicing.settings.changed"

#: The event types whose handler posts to the ledger.
MONEY = (INVOICE_ISSUED, INVOICES_ISSUED, INVOICE_VOIDED, INVOICE_WRITTEN_OFF, CREDIT_NOTE_ISSUED)
