"""Applying a bank line's cash to invoices — the one path the matcher and the workbench share.

For each line: the payments app records the payment (money in on the bank account, from the
customer) and applies it to the invoices; a short payment within the account's tolerance is
written off as a bank fee on the invoice it belongs to. Here, q2c keeps what cash application
decided: a :class:`~q2c.payments.cash.models.CashApplication` per invoice with the reasons, the
payment's id, and the payer's IBAN learned for the customer.

Runs inside the caller's transaction (a matching run, a workbench action).
Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from q2c.core import clock
from q2c.core.money import Money
from q2c.payments.cash.models import CashApplication, KnownPayer
from q2c.payments.cash.services import payments_bridge
from q2c.payments.matching import BankLine as MatchLine
from q2c.payments.matching import Proposal


@dataclass(frozen=True)
class LineApplication:
    line_id: int
    line: MatchLine
    proposal: Proposal
    how: str  # "auto" or "manual"


def apply_many(
    entity_id: int,
    items: Sequence[tuple[int, MatchLine, Proposal, str]],
    *,
    run_id: int | None = None,
    actor: str = "",
) -> list[int]:
    """Record and apply the payment of each line; returns the payment ids in order."""
    if not items:
        return []
    now = clock.now()
    payment_ids = payments_bridge.settle_lines(
        entity_id, [LineApplication(*item) for item in items], actor=actor
    )
    rows = []
    payers: dict[tuple[int, str], tuple[str, Any]] = {}
    for (line_id, line, proposal, how), payment_id in zip(items, payment_ids, strict=True):
        reasons = [{"code": r.code, "text": r.text} for r in proposal.reasons]
        for a in proposal.applications:
            rows.append(
                CashApplication(  # type: ignore[misc]
                    line_id=line_id,
                    invoice_id=int(a.item_id),
                    invoice_number=a.number,
                    amount=Money.from_minor(a.amount_minor, a.currency),
                    fee=Money.from_minor(a.fee_minor, a.currency),
                    how=how,
                    confidence=proposal.confidence,
                    reasons=reasons,
                    payment_id=payment_id,
                    match_run_id=run_id,
                    created_at=now,
                    created_by=actor,
                )
            )
        if line.payer_iban and proposal.customer_id is not None:
            payers[(int(proposal.customer_id), line.payer_iban)] = (line.payer_name or "", line.booking_date)
    CashApplication.objects.bulk_create(rows, batch_size=2000)
    learn_payers(payers)
    return payment_ids


def learn_payers(payers: dict[tuple[int, str], tuple[str, Any]]) -> None:
    """Remember who paid from which IBAN (new pairs inserted; known ones left as they are)."""
    if not payers:
        return
    KnownPayer.objects.bulk_create(
        [
            KnownPayer(account_id=account_id, iban=iban[:34], name=name[:200], last_paid_on=day)
            for (account_id, iban), (name, day) in payers.items()
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
