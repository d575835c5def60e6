"""Use cases of payments: the only code that writes its tables, one transaction each.

- receive: ``record_payment``, ``receive_pending``, ``apply_payment``, ``apply_credits``,
  ``fail_payment``, ``settle_payment``;

Must not import any q2c app above payments.
"""

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
    "fail_payment",
    "receive_pending",
    "record_payment",
    "settle_payment",
]
