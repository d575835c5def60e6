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
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import errors
from q2c.invoicing.domain import InvoiceStatus, move, open_base, status_after_settlement
from q2c.invoicing.models import Invoice, InvoicePayment
from q2c.invoicing.services import common
from q2c.invoicing.services.common import db_date, db_datetime, write_rows
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


@dataclass(slots=True)
class LockedInvoice:
    """What settling needs of an invoice, as plain values (a bank run touches ~100,000)."""

    id: int
    number: str
    account_id: int
    entity_id: int
    status: str
    currency: str
    base_currency: str
    rate: Decimal | None
    total_minor: int
    total_base_minor: int
    paid_minor: int
    paid_base_minor: int
    credited_minor: int
    written_off_minor: int

    @property
    def open_minor(self) -> int:
        return self.total_minor - self.paid_minor - self.credited_minor - self.written_off_minor


_LOCKED_COLUMNS = ", ".join((
    "id", "number", "account_id", "entity_id", "status", "currency", "base_currency", "rate", "total_minor",
    "total_base_minor", "paid_minor", "paid_base_minor", "credited_minor", "written_off_minor",
))  # fmt: skip


def lock_open(ids: Sequence[int]) -> dict[int, LockedInvoice]:
    """The invoices as :class:`LockedInvoice` rows, read and locked in one query in id order (as
    :func:`lock_invoices`; missing ones are left out)."""
    # Raw: Django prepares every value of an ``__in`` lookup one by one. Identifiers are constants.
    wanted = sorted(set(ids))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    out: dict[int, LockedInvoice] = {}
    with connection.cursor() as cursor:
        for i in range(0, len(wanted), 900):  # SQLite's parameter limit
            chunk = wanted[i : i + 900]
            marks = ", ".join(["%s"] * len(chunk))
            sql = f"SELECT {_LOCKED_COLUMNS} FROM {Invoice._meta.db_table} WHERE id IN ({marks}) ORDER BY id{lock}"  # noqa: S608
            cursor.execute(sql, chunk)
            for pk, number, account, entity, status, cur, bcur, rate, *amounts in cursor.fetchall():
                exact = None if rate is None else Decimal(rate)
                out[pk] = LockedInvoice(pk, number, account, entity, status, cur, bcur, exact, *amounts)
    return out


def _open_base(inv: LockedInvoice, open_minor: int) -> int:
    return open_base(
        inv.total_minor, inv.total_base_minor, open_minor, inv.rate,
        currency_exponent(inv.currency), currency_exponent(inv.base_currency),
    )  # fmt: skip


def _write_paid(invoices: Sequence[LockedInvoice], now: datetime) -> None:
    """paid, paid_base, status and updated_at of the invoices: one prepared statement executed for
    all rows (Django's ``bulk_update`` builds a CASE per column that grows with the batch)."""
    if not invoices:
        return
    # Fixed identifiers (invoicing.Invoice's table and columns); the values are parameters.
    sql = "UPDATE invoicing_invoice SET paid_minor = %s, paid_base_minor = %s, status = %s, updated_at = %s WHERE id = %s"
    stamp = Invoice._meta.get_field("updated_at").get_db_prep_value(now, connection)  # type: ignore[union-attr]
    # In id order: neighbouring rows share their pages.
    rows = [(inv.paid_minor, inv.paid_base_minor, inv.status, stamp, inv.id) for inv in invoices]
    rows.sort(key=lambda row: row[4])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def apply_payments_bulk(items: Sequence[BulkPayment], *, actor: Any = None) -> list[BulkApplied]:
    """Record each item's payment on its invoice, in the order given (an invoice may appear more
    than once: each item sees what the items before it left open).

    Errors (nothing is written; the field names the item: ``items[3].amount``):
    ``invoicing.not_found`` (404), ``invoicing.invalid_payment`` (wrong currency, not positive,
    more than open), ``invoice.invalid_transition`` (409: not open).
    """
    if not items:
        return []
    for i, item in enumerate(items):
        if not isinstance(item.invoice_id, int) or isinstance(item.invoice_id, bool):
            raise errors.InvoiceNotFound(f"no invoice {item.invoice_id}", field=f"items[{i}].invoice_id")
    with transaction.atomic():
        invoices = lock_open([item.invoice_id for item in items])
        plain: list[tuple[int, int, str, date | None]] = []
        for i, item in enumerate(items):
            invoice = invoices.get(item.invoice_id)
            if invoice is None:
                raise errors.InvoiceNotFound(f"no invoice {item.invoice_id}", field=f"items[{i}].invoice_id")
            amount = item.amount
            if not isinstance(amount, Money) or amount.currency != invoice.currency or amount.amount <= 0:
                raise _err(f"a payment is a positive amount in {invoice.currency}", i, len(items) > 1)
            plain.append((item.invoice_id, amount.minor_units(), str(item.reference or ""), item.day))
        return apply_locked(invoices, plain, actor=actor)


def apply_locked(
    invoices: dict[int, LockedInvoice],
    items: Sequence[tuple[int, int, str, date | None]],
    *,
    actor: Any = None,
) -> list[BulkApplied]:
    """:func:`apply_payments_bulk` over invoices the caller has locked with :func:`lock_open` in
    its transaction, the items plain: (invoice id, positive minor units in the invoice's currency,
    reference, day or None). Updates ``invoices`` in place; same errors, same writes, same event."""
    who = common.actor_name(actor)
    if not items:
        return []
    many = len(items) > 1
    out: list[BulkApplied] = []
    with transaction.atomic():
        today: dict[int, date] = {}
        logs: list[tuple[Any, ...]] = []
        touched: dict[int, LockedInvoice] = {}
        now = clock.now()
        created = db_datetime(now)
        for i, (invoice_id, minor, reference, item_day) in enumerate(items):
            invoice = invoices.get(invoice_id)
            if invoice is None:
                raise errors.InvoiceNotFound(f"no invoice {invoice_id}", field=f"items[{i}].invoice_id")
            if not isinstance(minor, int) or minor <= 0:
                raise _err(f"a payment is a positive amount in {invoice.currency}", i, many)
            open_minor = invoice.open_minor
            if minor > open_minor:
                raise _err(
                    f"{Money.from_minor(minor, invoice.currency)} is more than the {Money.from_minor(open_minor, invoice.currency)} open on {invoice.number}",
                    i, many,
                )  # fmt: skip
            if invoice.status not in OPEN:
                move(invoice.status, InvoiceStatus.PAID)  # raises the 409 naming the state
            base = _open_base(invoice, open_minor) - _open_base(invoice, open_minor - minor)
            invoice.paid_minor += minor
            invoice.paid_base_minor += base
            settled = invoice.paid_minor + invoice.credited_minor + invoice.written_off_minor
            target = status_after_settlement(invoice.total_minor, settled)
            if target != invoice.status:
                invoice.status = move(invoice.status, target).value
            touched[invoice.id] = invoice
            day = item_day
            if day is None:
                if invoice.entity_id not in today:
                    tz = (
                        LegalEntity.objects.filter(pk=invoice.entity_id)
                        .values_list("time_zone", flat=True)
                        .first()
                    )
                    today[invoice.entity_id] = clock.today(tz or None)
                day = today[invoice.entity_id]
            logs.append((invoice.id, db_date(day), minor, base, reference[:200], created))
            out.append(
                BulkApplied(
                    invoice.id, invoice.number, invoice.account_id, invoice.entity_id, invoice.currency,
                    invoice.base_currency, invoice.rate, minor, base, invoice.open_minor, invoice.status,
                )
            )  # fmt: skip
        _write_paid(list(touched.values()), now)
        write_rows(
            InvoicePayment._meta.db_table,
            ["invoice_id", "day", "amount_minor", "base_minor", "reference", "created_at"],
            logs,
            ready=True,
        )
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
