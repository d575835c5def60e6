"""Event types the payments app records (``q2c.platform.events``), each stamped with the business
clock; payloads carry the amounts (``Money``) and ids. The ledger postings are made by the
services themselves (``q2c.payments.posting``) in the same transaction, so these events announce
what happened; dunning and cash application react to them.

- ``payments.payment.received`` (PaymentReceived): payment id, account, amount, fees, method;
- ``payments.payment.applied`` (PaymentApplied): payment id, invoice id, amount (payment
  currency), invoice_amount (invoice currency), fx (base currency, gain positive);
- ``payments.payment.failed`` (PaymentFailed): payment id, method, ``code`` (e.g. ``card_declined``,
  ``insufficient_funds``, SEPA ``AM04``) and ``reason`` (words);
- ``payments.payment.reversed`` (PaymentReversed): payment id, amount, reason code, invoices reopened;
- ``payments.refund.made`` (Refunded), ``payments.dispute.opened|won|lost``,
  ``payments.credit.applied``, ``payments.write_off.requested|approved|rejected``,
  ``payments.mandate.created|revoked``, ``payments.collection.created``.

Must not import any q2c app.
"""

from __future__ import annotations

PAYMENT_RECEIVED = "payments.payment.received"
PAYMENT_PENDING = "payments.payment.pending"
PAYMENT_APPLIED = "payments.payment.applied"
PAYMENT_FAILED = "payments.payment.failed"
PAYMENT_REVERSED = "payments.payment.reversed"
PAYMENT_SETTLED = "payments.payment.settled"
REFUNDED = "payments.refund.made"
DISPUTE_OPENED = "payments.dispute.opened"
DISPUTE_WON = "payments.dispute.won"
DISPUTE_LOST = "payments.dispute.lost"
WRITE_OFF_REQUESTED = "payments.write_off.requested"
WRITE_OFF_APPROVED = "payments.write_off.approved"
WRITE_OFF_REJECTED = "payments.write_off.rejected"
MANDATE_CREATED = "payments.mandate.created"
MANDATE_REVOKED = "payments.mandate.revoked"
COLLECTION_CREATED = "payments.collection.created"
