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

from q2c.core.money import Money
from q2c.payments import services as payments
from q2c.payments.domain import Method

if TYPE_CHECKING:
    from q2c.payments.cash.services.apply import LineApplication


def external_id(line_id: int) -> str:
    return f"bankline:{line_id}"


def settle_lines(entity_id: int, items: Sequence[LineApplication], *, actor: str = "") -> list[int]:
    """Record and apply one payment per line, the batch at once (all or nothing: the caller
    retries a refused batch line by line); returns the payment ids (in order)."""
    batch = []
    for item in items:
        proposal = item.proposal
        if proposal.customer_id is None:
            raise ValueError("a proposal to apply names its customer")
        currency = proposal.currency
        batch.append(
            payments.PaymentItem(
                int(proposal.customer_id),
                Money.from_minor(item.line.amount_minor + proposal.fee_minor, currency),
                received_on=item.line.booking_date,
                fees=Money.from_minor(proposal.fee_minor, currency) if proposal.fee_minor else None,
                payer_name=(item.line.payer_name or "")[:140],
                payer_iban=(item.line.payer_iban or "")[:34],
                reference=(item.line.remittance or item.line.end_to_end_id or "")[:140],
                external_id=external_id(item.line_id),
                allocations=[
                    payments.Allocation(
                        int(a.item_id), Money.from_minor(a.amount_minor + a.fee_minor, currency)
                    )
                    for a in proposal.applications
                ],
                method=Method.BANK_TRANSFER,
            )
        )
    return payments.record_payments_many(entity_id, batch, actor=actor, ids_only=True)
