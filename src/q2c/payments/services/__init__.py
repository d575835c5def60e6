"""Use cases of payments: the only code that writes its tables, one transaction each.

- receive: ``record_payment``, ``receive_pending``, ``apply_payment``, ``apply_credits``,
  ``fail_payment``, ``settle_payment``;
- adjust: ``refund``, ``reverse_payment``, ``open_dispute``, ``resolve_dispute``, ``write_off``,
  ``approve_write_off``, ``reject_write_off``;
- card: ``pay_by_card``, ``confirm_card``, ``refund_card``, ``handle_webhook`` (signed, idempotent,
  convergent), ``sandbox_settle_due``;
- bulk: ``record_payments_many`` (a bank run's batch: same results as ``record_payment`` per
  item, a constant number of statements, one ledger entry per booking date);
- direct_debit: ``create_mandate``, ``revoke_mandate``, ``create_collection`` (pain.008.001.08),
  ``settle_collection``, ``record_return``;

Must not import any q2c app above payments.
"""

from q2c.payments.services.adjust import (
    approve_write_off,
    open_dispute,
    refund,
    reject_write_off,
    resolve_dispute,
    reverse_payment,
    write_off,
)
from q2c.payments.services.bulk import MinorPayment, PaymentItem, record_payments_many
from q2c.payments.services.card import (
    confirm_card,
    handle_webhook,
    pay_by_card,
    refund_card,
    sandbox_event,
    sandbox_settle_due,
)
from q2c.payments.services.direct_debit import (
    create_collection,
    create_mandate,
    record_return,
    revoke_mandate,
    settle_collection,
)
from q2c.payments.services.receive import (
    Allocation,
    apply_all_credits,
    apply_credits,
    apply_payment,
    fail_payment,
    receive_pending,
    record_payment,
    settle_payment,
)

__all__ = [
    "Allocation",
    "MinorPayment",
    "PaymentItem",
    "apply_all_credits",
    "apply_credits",
    "apply_payment",
    "approve_write_off",
    "confirm_card",
    "create_collection",
    "create_mandate",
    "fail_payment",
    "handle_webhook",
    "open_dispute",
    "pay_by_card",
    "receive_pending",
    "record_payment",
    "record_payments_many",
    "record_return",
    "refund",
    "refund_card",
    "reject_write_off",
    "resolve_dispute",
    "reverse_payment",
    "revoke_mandate",
    "sandbox_event",
    "sandbox_settle_due",
    "settle_collection",
    "settle_payment",
    "write_off",
]
