"""Use cases of payments: the only code that writes its tables, one transaction each.

- receive: ``record_payment``, ``receive_pending``, ``apply_payment``, ``apply_credits``,
  ``fail_payment``, ``settle_payment``;
- adjust: ``refund``, ``reverse_payment``, ``open_dispute``, ``resolve_dispute``, ``write_off``,
  ``approve_write_off``, ``reject_write_off``;

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
from q2c.payments.services.receive import (
    Allocation,
    apply_credits,
    apply_payment,
    fail_payment,
    receive_pending,
    record_payment,
    settle_payment,
)

__all__ = [
    "Allocation",
    "apply_credits",
    "apply_payment",
    "approve_write_off",
    "fail_payment",
    "open_dispute",
    "receive_pending",
    "record_payment",
    "refund",
    "reject_write_off",
    "resolve_dispute",
    "reverse_payment",
    "settle_payment",
    "write_off",
]
