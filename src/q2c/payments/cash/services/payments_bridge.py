"""The seam to the payments app: a bank line's cash recorded as a payment and applied.

One payment per line, from the customer the proposal names, received on the line's booking date,
method bank transfer, ``external_id`` ``bankline:<line id>`` (unique per entity: a line can never
be paid twice). The customer is credited with the cash plus the bank fee; the fee is what the
bank kept (``fees``: Dr bank fees), so each invoice is settled by its cash plus its share of the
fee, and what is left over stays on the payment as the customer's credit.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from q2c.payments import services as payments

if TYPE_CHECKING:
    from q2c.payments.cash.services.apply import LineApplication


def external_id(line_id: int) -> str:
    return f"bankline:{line_id}"


def settle_lines(entity_id: int, items: Sequence[LineApplication], *, actor: str = "") -> list[int]:
    """Record and apply one payment per line, the batch at once (all or nothing: the caller
    retries a refused batch line by line); returns the payment ids (in order). Amounts stay in
    minor units from the matcher to the rows (``payments.MinorPayment``)."""
    batch = []
    for item in items:
        proposal, line = item.proposal, item.line
        if proposal.customer_id is None:
            raise ValueError("a proposal to apply names its customer")
        batch.append(
            payments.MinorPayment(
                int(proposal.customer_id),
                proposal.currency,
                line.amount_minor + proposal.fee_minor,
                proposal.fee_minor,
                line.booking_date,
                (line.payer_name or "")[:140],
                (line.payer_iban or "")[:34],
                (line.remittance or line.end_to_end_id or "")[:140],
                external_id(item.line_id),
                [(int(a.item_id), a.amount_minor + a.fee_minor) for a in proposal.applications],
            )
        )
    return payments.record_payments_many(entity_id, batch, actor=actor, ids_only=True)
