"""Settling issued invoices: void, write off as uncollectible, apply a payment.

- :func:`void` cancels an issued invoice nothing has been paid or credited on: its posting is
  reversed (an entry of its own, purpose ``void``), its number stays used (the sequence has no gap).
- :func:`write_off` makes an open invoice uncollectible: bad debt is debited and AR credited
  with its open amount (VAT relief on bad debts is a national matter and not posted here).
- :func:`apply_payment` records money received against an invoice (called by the payments app,
  which posts the cash itself): partially paid, then paid.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import errors
from q2c.invoicing import events as ev
from q2c.invoicing import posting as book
from q2c.invoicing.domain import InvoiceStatus, convert_minor, move, open_base, status_after_settlement
from q2c.invoicing.models import Invoice, InvoicePayment
from q2c.invoicing.services import common
from q2c.ledger import chart
from q2c.parties.models import LegalEntity
from q2c.platform import events
from q2c.platform.events import DomainEvent


def _today(invoice: Invoice) -> date:
    tz = LegalEntity.objects.filter(pk=invoice.entity_id).values_list("time_zone", flat=True).first()
    return clock.today(tz or None)


def _log_payment(invoice: Invoice, day: date | None, minor: int, base: int, reference: str) -> None:
    InvoicePayment.objects.create(
        invoice=invoice, day=day or _today(invoice), amount_minor=minor, base_minor=base,
        reference=str(reference or "")[:200], created_at=clock.now(),
    )  # fmt: skip


def open_base_of(invoice: Invoice, open_minor: int) -> int:
    rate = None if invoice.rate is None else invoice.rate
    return open_base(
        int(invoice.total_minor),  # type: ignore[attr-defined]
        int(invoice.total_base_minor),  # type: ignore[attr-defined]
        open_minor,
        rate,
        currency_exponent(invoice.currency),
        currency_exponent(invoice.base_currency),
    )


def void(invoice_id: int, *, reason: str = "", actor: Any = None) -> Invoice:
    """Void an issued invoice with nothing paid or credited; its posting is reversed.

    Errors: ``invoicing.not_found``, ``invoice.invalid_transition`` (409: not issued — a draft is
    discarded, a paid one credited), ``invoicing.not_voidable`` (409: something was credited).
    """
    who = common.actor_name(actor)
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        target = move(invoice.status, InvoiceStatus.VOID)
        if invoice.credited_minor or invoice.paid_minor or invoice.written_off_minor:  # type: ignore[attr-defined]
            raise errors.InvoiceConflict(
                f"invoice {invoice.number} has payments or credit notes; correct it with a credit note",
                code=errors.NOT_VOIDABLE,
                field="status",
            )
        day = _today(invoice)
        invoice.status = target
        invoice.voided_at = clock.now()
        invoice.void_reason = str(reason or "")[:2000]
        invoice.updated_at = invoice.voided_at
        invoice.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
        events.record(
            DomainEvent(
                ev.INVOICE_VOIDED,
                "invoicing.invoice",
                invoice.pk,
                {
                    "invoice_id": invoice.pk,
                    "number": invoice.number,
                    "account_id": invoice.account_id,
                    "date": day,
                    "reason": invoice.void_reason,
                    "total": invoice.total,
                    "total_base": invoice.total_base,
                    "base_currency": invoice.base_currency,
                    "posting": book.negate(invoice.posting),
                },
                entity_id=invoice.entity_id,
                actor=who,
            )
        )
    return invoice


def write_off(invoice_id: int, *, reason: str = "", actor: Any = None) -> Invoice:
    """Make an open invoice uncollectible: Dr bad debt, Cr AR with its open amount.

    Errors: ``invoicing.not_found``, ``invoice.invalid_transition`` (409).
    """
    who = common.actor_name(actor)
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        target = move(invoice.status, InvoiceStatus.UNCOLLECTIBLE)
        open_minor = invoice.open_minor
        ob = open_base_of(invoice, open_minor)
        day = _today(invoice)
        invoice.status = target
        invoice.written_off = Money.from_minor(open_minor, invoice.currency)
        invoice.written_off_base = Money.from_minor(ob, invoice.base_currency)
        invoice.written_off_on = day
        invoice.updated_at = clock.now()
        invoice.save()
        events.record(
            DomainEvent(
                ev.INVOICE_WRITTEN_OFF,
                "invoicing.invoice",
                invoice.pk,
                {
                    "invoice_id": invoice.pk,
                    "number": invoice.number,
                    "account_id": invoice.account_id,
                    "date": day,
                    "reason": str(reason or "")[:2000],
                    "amount": invoice.written_off,
                    "base_currency": invoice.base_currency,
                    "posting": {chart.BAD_DEBT: ob, chart.AR: -ob} if ob else {},
                },
                entity_id=invoice.entity_id,
                actor=who,
            )
        )
    return invoice


def apply_payment(
    invoice_id: int,
    amount: Money,
    *,
    base_amount: Money | None = None,
    actor: Any = None,
    reference: str = "",
    day: date | None = None,
) -> Invoice:
    """Record ``amount`` (invoice currency) received against an open invoice, on ``day`` (default:
    the entity's business today; the AR control as of a date counts payments by it).

    ``base_amount`` is what it is worth in the entity currency (default: at the invoice's rate,
    the last payment taking exactly what is left). No ledger posting: the payments app posts the
    cash. Errors: ``invoicing.invalid_payment`` (wrong currency, not positive, more than open),
    ``invoice.invalid_transition`` (409: not open).
    """
    who = common.actor_name(actor)
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        if not isinstance(amount, Money) or amount.currency != invoice.currency or amount.amount <= 0:
            raise errors.InvalidInvoice(
                f"a payment is a positive amount in {invoice.currency}",
                code=errors.INVALID_PAYMENT,
                field="amount",
            )
        minor = amount.minor_units()
        open_minor = invoice.open_minor
        if minor > open_minor:
            raise errors.InvalidInvoice(
                f"{amount} is more than the {Money.from_minor(open_minor, invoice.currency)} open on {invoice.number}",
                code=errors.INVALID_PAYMENT,
                field="amount",
            )
        if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
            move(invoice.status, InvoiceStatus.PAID)  # raises the 409 naming the state
        before = open_base_of(invoice, open_minor)
        after = open_base_of(invoice, open_minor - minor)
        base = base_amount.minor_units() if base_amount is not None else before - after
        invoice.paid = Money.from_minor(int(invoice.paid_minor) + minor, invoice.currency)  # type: ignore[attr-defined]
        invoice.paid_base = Money.from_minor(int(invoice.paid_base_minor) + base, invoice.base_currency)  # type: ignore[attr-defined]
        _log_payment(invoice, day, minor, base, reference)
        settled = int(invoice.paid_minor) + int(invoice.credited_minor) + int(invoice.written_off_minor)  # type: ignore[attr-defined]
        target = status_after_settlement(int(invoice.total_minor), settled)  # type: ignore[attr-defined]
        if target != invoice.status:
            invoice.status = move(invoice.status, target)
        invoice.updated_at = clock.now()
        invoice.save()
        events.record(
            DomainEvent(
                ev.INVOICE_PAYMENT_APPLIED,
                "invoicing.invoice",
                invoice.pk,
                {"invoice_id": invoice.pk, "number": invoice.number, "amount": amount, "reference": reference,
                 "status": invoice.status},
                entity_id=invoice.entity_id,
                actor=who,
            )
        )  # fmt: skip
    return invoice


def unapply_payment(
    invoice_id: int,
    amount: Money,
    *,
    base_amount: Money | None = None,
    reason: str = "",
    actor: Any = None,
    reference: str = "",
    day: date | None = None,
) -> Invoice:
    """Take ``amount`` (invoice currency) of a recorded payment back off an invoice — a chargeback
    lost, a SEPA direct debit returned — so it is open again: paid → partially paid or issued
    (an uncollectible invoice stays uncollectible).

    ``base_amount`` is what it was worth in the entity currency (default: all of ``paid_base``
    when the whole payment goes back, else ``amount`` at the invoice's rate). No ledger posting:
    the payments app posts the cash side. Errors: ``invoicing.invalid_payment`` (wrong currency,
    not positive, more than paid), ``invoice.invalid_transition`` (409: a draft or void invoice).
    """
    who = common.actor_name(actor)
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        if not isinstance(amount, Money) or amount.currency != invoice.currency or amount.amount <= 0:
            raise errors.InvalidInvoice(
                f"a payment taken back is a positive amount in {invoice.currency}",
                code=errors.INVALID_PAYMENT,
                field="amount",
            )
        if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            move(invoice.status, InvoiceStatus.PARTIALLY_PAID)  # raises the 409 naming the state
        minor = amount.minor_units()
        paid = int(invoice.paid_minor)  # type: ignore[attr-defined]
        if minor > paid:
            raise errors.InvalidInvoice(
                f"{amount} is more than the {Money.from_minor(paid, invoice.currency)} paid on {invoice.number}",
                code=errors.INVALID_PAYMENT,
                field="amount",
            )
        if base_amount is not None and (
            not isinstance(base_amount, Money) or base_amount.currency != invoice.base_currency
        ):
            raise errors.InvalidInvoice(
                f"the base amount is in {invoice.base_currency}",
                code=errors.INVALID_PAYMENT,
                field="base_amount",
            )
        paid_base = int(invoice.paid_base_minor)  # type: ignore[attr-defined]
        if base_amount is not None:
            base = base_amount.minor_units()
        elif minor == paid or invoice.rate is None:
            base = paid_base if minor == paid else minor
        else:
            base = convert_minor(
                minor, Decimal(invoice.rate), currency_exponent(invoice.currency),
                currency_exponent(invoice.base_currency), invoice.rounding,  # type: ignore[arg-type]
            )  # fmt: skip
        if not 0 <= base <= paid_base:
            raise errors.InvalidInvoice(
                "the base amount is more than was paid in the entity currency",
                code=errors.INVALID_PAYMENT,
                field="base_amount",
            )
        invoice.paid = Money.from_minor(paid - minor, invoice.currency)
        invoice.paid_base = Money.from_minor(paid_base - base, invoice.base_currency)
        _log_payment(invoice, day, -minor, -base, reference)
        if invoice.status != InvoiceStatus.UNCOLLECTIBLE:
            settled = int(invoice.paid_minor) + int(invoice.credited_minor) + int(invoice.written_off_minor)  # type: ignore[attr-defined]
            target = status_after_settlement(int(invoice.total_minor), settled)  # type: ignore[attr-defined]
            if target != invoice.status:
                invoice.status = move(invoice.status, target)
        invoice.updated_at = clock.now()
        invoice.save()
        events.record(
            DomainEvent(
                ev.INVOICE_PAYMENT_REVERSED,
                "invoicing.invoice",
                invoice.pk,
                {"invoice_id": invoice.pk, "number": invoice.number, "amount": amount,
                 "base_amount": Money.from_minor(base, invoice.base_currency), "reason": str(reason or "")[:2000],
                 "reference": reference, "status": invoice.status},
                entity_id=invoice.entity_id,
                actor=who,
            )
        )  # fmt: skip
    return invoice
