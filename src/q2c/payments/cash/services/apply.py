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

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from orjson import dumps

from q2c.core import clock
from q2c.invoicing.services.common import db_date, db_datetime, write_rows
from q2c.payments.bank.common import gc_paused
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
    known_payers: Collection[tuple[int, str]] = (),
) -> list[int]:
    """Record and apply the payment of each line; returns the payment ids in order.

    ``known_payers``: (customer id, IBAN) pairs the caller read already (a matching run loads them
    all); they are not written again."""
    if not items:
        return []
    # A matching run holds every open item in memory: a cycle collection triggered by the batch's
    # short-lived rows would traverse them all, again and again.
    with gc_paused():
        return _apply_many(entity_id, items, run_id=run_id, actor=actor, known_payers=known_payers)


def _apply_many(
    entity_id: int,
    items: Sequence[tuple[int, MatchLine, Proposal, str]],
    *,
    run_id: int | None,
    actor: str,
    known_payers: Collection[tuple[int, str]],
) -> list[int]:
    now = clock.now()
    created = db_datetime(now)
    payment_ids = payments_bridge.settle_lines(
        entity_id, [LineApplication(*item) for item in items], actor=actor
    )
    # Plain rows, one bulk insert (a bank run writes ~100,000).
    rows: list[tuple[Any, ...]] = []
    payers: dict[tuple[int, str], tuple[str, Any]] = {}
    for (line_id, line, proposal, how), payment_id in zip(items, payment_ids, strict=True):
        reasons = dumps([{"code": r.code, "text": r.text} for r in proposal.reasons]).decode()
        for a in proposal.applications:
            rows.append(
                (line_id, int(a.item_id), a.number, a.currency, a.amount_minor, a.fee_minor, how,
                 proposal.confidence, reasons, payment_id, run_id, created, actor)
            )  # fmt: skip
        if line.payer_iban and proposal.customer_id is not None:
            pair = (int(proposal.customer_id), line.payer_iban[:34])
            if pair not in known_payers:
                payers[pair] = (line.payer_name or "", line.booking_date)
    write_rows(CashApplication._meta.db_table, APPLICATION_COLUMNS, rows, ready=True)
    learn_payers(payers)
    return payment_ids


APPLICATION_COLUMNS = (
    "line_id", "invoice_id", "invoice_number", "currency", "amount_minor", "fee_minor", "how", "confidence",
    "reasons", "payment_id", "match_run_id", "created_at", "created_by",
)  # fmt: skip


def learn_payers(payers: dict[tuple[int, str], tuple[str, Any]]) -> None:
    """Remember who paid from which IBAN (new pairs inserted; known ones left as they are)."""
    if not payers:
        return
    # Fixed identifiers (the model's table and columns); the values are parameters. Both backends
    # skip a pair already known (the unique constraint on account and IBAN).
    sql = (
        f"INSERT INTO {KnownPayer._meta.db_table} (account_id, iban, name, last_paid_on) "  # noqa: S608
        "VALUES (%s, %s, %s, %s) ON CONFLICT (account_id, iban) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (account_id, iban[:34], name[:200], db_date(day))
                for (account_id, iban), (name, day) in payers.items()
            ],
        )
