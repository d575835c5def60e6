"""Applying a batch of payments to invoices at once — for bank-statement runs.

:func:`apply_payments_bulk` follows the rules of :func:`q2c.invoicing.services.settle.apply_payment`
item by item (same errors, same base amounts, same states) with a constant number of statements:
the invoices are read and locked in one query in id order (``SELECT … FOR UPDATE`` where the
database has it, so two batches over the same invoices wait for each other instead of both
reading the old open amount), their paid amounts and states written in one bulk update, the
dated payment log in one bulk insert, and one ``invoicing.invoices.payments_applied`` event for
the batch. All or nothing, inside the caller's transaction. No ledger posting: the payments app
posts the cash.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction

from q2c.core import clock
from q2c.core.money import Money
from q2c.invoicing import errors
from q2c.invoicing.domain import InvoiceStatus, move, status_after_settlement
from q2c.invoicing.models import Invoice, InvoicePayment
from q2c.invoicing.services import common
from q2c.invoicing.services.settle import open_base_of
from q2c.parties.models import LegalEntity
from q2c.platform import events
from q2c.platform.events import DomainEvent

INVOICES_PAYMENTS_APPLIED = "invoicing.invoices.payments_applied"
OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


@dataclass(frozen=True, slots=True)
class BulkPayment:
    """``amount`` (invoice currency) received against ``invoice_id`` on ``day`` (None: the
    entity's business today)."""

    invoice_id: int
    amount: Money
    reference: str = ""
    day: date | None = None


@dataclass(frozen=True, slots=True)
class BulkApplied:
    """What one item did: the receivable relieved in the entity currency, the state after it."""

    invoice_id: int
    number: str
    account_id: int
    entity_id: int
    currency: str
    base_currency: str
    rate: Any
    minor: int
    base_minor: int
    open_after_minor: int
    status: str


def _err(message: str, i: int, many: bool) -> errors.InvalidInvoice:
    return errors.InvalidInvoice(
        message, code=errors.INVALID_PAYMENT, field=f"items[{i}].amount" if many else "amount"
    )


def lock_invoices(ids: Sequence[int]) -> dict[int, Invoice]:
    """The invoices, read and locked in one query in id order (missing ones are left out)."""
    query = Invoice.objects.filter(pk__in=sorted(set(ids))).order_by("pk")
    if connection.features.has_select_for_update:
        query = query.select_for_update(of=("self",))
    return {inv.pk: inv for inv in query}


def _write_paid(invoices: list[Invoice]) -> None:
    """paid, paid_base, status and updated_at of the invoices: one prepared statement executed for
    all rows (Django's ``bulk_update`` builds a CASE per column that grows with the batch)."""
    if not invoices:
        return
    # Fixed identifiers (invoicing.Invoice's table and columns); the values are parameters.
    sql = "UPDATE invoicing_invoice SET paid_minor = %s, paid_base_minor = %s, status = %s, updated_at = %s WHERE id = %s"
    updated_at = Invoice._meta.get_field("updated_at")
    rows = []
    for inv in invoices:
        stamp = updated_at.get_db_prep_value(inv.updated_at, connection)  # type: ignore[union-attr]
        rows.append((int(inv.paid_minor), int(inv.paid_base_minor), str(inv.status), stamp, inv.pk))  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def apply_payments_bulk(items: Sequence[BulkPayment], *, actor: Any = None) -> list[BulkApplied]:
    """Record each item's payment on its invoice, in the order given (an invoice may appear more
    than once: each item sees what the items before it left open).

    Errors (nothing is written; the field names the item: ``items[3].amount``):
    ``invoicing.not_found`` (404), ``invoicing.invalid_payment`` (wrong currency, not positive,
    more than open), ``invoice.invalid_transition`` (409: not open).
    """
    who = common.actor_name(actor)
    if not items:
        return []
    many = len(items) > 1
    for i, item in enumerate(items):
        if not isinstance(item.invoice_id, int) or isinstance(item.invoice_id, bool):
            raise errors.InvoiceNotFound(f"no invoice {item.invoice_id}", field=f"items[{i}].invoice_id")
    out: list[BulkApplied] = []
    with transaction.atomic():
        invoices = lock_invoices([item.invoice_id for item in items])
        today: dict[int, date] = {}
        logs: list[InvoicePayment] = []
        touched: dict[int, Invoice] = {}
        now = clock.now()
        for i, item in enumerate(items):
            invoice = invoices.get(item.invoice_id)
            if invoice is None:
                raise errors.InvoiceNotFound(f"no invoice {item.invoice_id}", field=f"items[{i}].invoice_id")
            amount = item.amount
            if not isinstance(amount, Money) or amount.currency != invoice.currency or amount.amount <= 0:
                raise _err(f"a payment is a positive amount in {invoice.currency}", i, many)
            minor = amount.minor_units()
            open_minor = invoice.open_minor
            if minor > open_minor:
                raise _err(
                    f"{amount} is more than the {Money.from_minor(open_minor, invoice.currency)} open on {invoice.number}",
                    i, many,
                )  # fmt: skip
            if invoice.status not in OPEN:
                move(invoice.status, InvoiceStatus.PAID)  # raises the 409 naming the state
            base = open_base_of(invoice, open_minor) - open_base_of(invoice, open_minor - minor)
            invoice.paid = Money.from_minor(int(invoice.paid_minor) + minor, invoice.currency)  # type: ignore[attr-defined]
            invoice.paid_base = Money.from_minor(int(invoice.paid_base_minor) + base, invoice.base_currency)  # type: ignore[attr-defined]
            settled = int(invoice.paid_minor) + int(invoice.credited_minor) + int(invoice.written_off_minor)  # type: ignore[attr-defined]
            target = status_after_settlement(int(invoice.total_minor), settled)  # type: ignore[attr-defined]
            if target != invoice.status:
                invoice.status = move(invoice.status, target)
            invoice.updated_at = now
            touched[invoice.pk] = invoice
            day = item.day
            if day is None:
                if invoice.entity_id not in today:
                    tz = (
                        LegalEntity.objects.filter(pk=invoice.entity_id)
                        .values_list("time_zone", flat=True)
                        .first()
                    )
                    today[invoice.entity_id] = clock.today(tz or None)
                day = today[invoice.entity_id]
            logs.append(
                InvoicePayment(
                    invoice_id=invoice.pk, day=day, amount_minor=minor, base_minor=base,
                    reference=str(item.reference or "")[:200], created_at=now,
                )
            )  # fmt: skip
            out.append(
                BulkApplied(
                    invoice.pk, invoice.number, invoice.account_id, invoice.entity_id, invoice.currency,
                    invoice.base_currency, invoice.rate, minor, base, invoice.open_minor, invoice.status,
                )
            )  # fmt: skip
        _write_paid(list(touched.values()))
        InvoicePayment.objects.bulk_create(logs, batch_size=2000)
        by_entity: dict[int, list[BulkApplied]] = {}
        for applied in out:
            by_entity.setdefault(applied.entity_id, []).append(applied)
        for entity_id, rows in by_entity.items():
            events.record(
                DomainEvent(
                    INVOICES_PAYMENTS_APPLIED, "invoicing.invoice", rows[0].invoice_id,
                    {"count": len(rows),
                     "items": [{"invoice_id": r.invoice_id, "number": r.number, "amount_minor": r.minor,
                                "currency": r.currency, "base_minor": r.base_minor, "status": r.status}
                               for r in rows]},
                    entity_id=entity_id, actor=who,
                )
            )  # fmt: skip
    return out
