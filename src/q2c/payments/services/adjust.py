"""Refunds, reversals, disputes and write-offs.

- :func:`refund` — give back (part of) a payment's unapplied amount, to the original method or
  by bank transfer; more than is unapplied is refused (what was applied must first be taken off
  the invoice by a credit note, which turns it into customer credit).
- :func:`reverse_payment` — a received payment taken back (chargeback lost, direct-debit return):
  every application is undone and its invoice reopened through invoicing's ``unapply_payment``;
  the receipt undone; a fee booked.
- :func:`open_dispute` / :func:`resolve_dispute` — a card chargeback (open → won / lost; lost
  reverses the payment and books the fee) or a customer contesting an invoice (dunning pauses;
  no money moves).
- :func:`write_off` / :func:`approve_write_off` / :func:`reject_write_off` — an invoice's open
  remainder made bad debt; above the entity's limit a second person approves it.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import services as invoicing
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.services import common as invoicing_common
from q2c.ledger import chart
from q2c.ledger.domain import SourceRef
from q2c.payments import domain, errors
from q2c.payments import events as ev
from q2c.payments import posting as book
from q2c.payments.domain import DisputeStatus, Method, PaymentStatus, RefundMethod, WriteOffStatus
from q2c.payments.models import Application, Dispute, Payment, Refund, Reopened, WriteOff
from q2c.payments.services import common
from q2c.payments.services.receive import open_amounts
from q2c.platform import events
from q2c.platform.events import DomainEvent


def _record(kind: str, aggregate: str, pk: int, entity_id: int, who: str, payload: dict[str, Any]) -> None:
    events.record(DomainEvent(kind, aggregate, pk, payload, entity_id=entity_id, actor=who))


# --------------------------------------------------------------------------- refunds


def refund(
    payment_id: int,
    amount: Money | None = None,
    *,
    method: str = RefundMethod.ORIGINAL,
    reason: str = "",
    on: date | None = None,
    external_id: str = "",
    actor: Any = None,
) -> Refund:
    """Refund ``amount`` (default: all that is unapplied) of a received payment.

    Posting: Dr customer credits, Cr the deposit the money came to (``original``: the card's
    clearing account until settled, else the bank) or the bank (``transfer``), at the payment's
    rate. Errors: ``payments.invalid_refund`` (422: not positive, more than unapplied, unknown
    method), ``payment.invalid_transition`` (409: not received).
    """
    who = common.actor_name(actor)
    try:
        how = RefundMethod(method)
    except ValueError:
        raise errors.InvalidPayment(f"method is one of {', '.join(RefundMethod)}", code=errors.INVALID_REFUND, field="method") from None
    with transaction.atomic():
        payment = common.lock_payment(payment_id)
        if payment.status != PaymentStatus.RECEIVED:
            domain.move(payment.status, PaymentStatus.RECEIVED)
        left = payment.unapplied_minor
        value = common.money(amount if amount is not None else Money.from_minor(left, payment.currency), payment.currency, "amount")
        minor = value.minor_units()
        if minor > left:
            raise errors.InvalidPayment(
                f"{value} is more than the {Money.from_minor(left, payment.currency)} of {payment.number} not applied to "
                "invoices; to refund applied money, credit the invoice first",
                code=errors.INVALID_REFUND, field="amount",
            )  # fmt: skip
        day = on or common.today(payment.entity_id)
        base = domain.base_consumed(minor, left, payment.unapplied_base_minor, payment.rate,
                                    currency_exponent(payment.currency), currency_exponent(payment.base_currency))  # fmt: skip
        payment.refunded = Money.from_minor(int(payment.refunded_minor) + minor, payment.currency)  # type: ignore[attr-defined]
        payment.refunded_base = Money.from_minor(int(payment.refunded_base_minor) + base, payment.base_currency)  # type: ignore[attr-defined]
        payment.save(update_fields=["refunded", "refunded_base"])
        row = Refund.objects.create(
            payment=payment, entity_id=payment.entity_id, account_id=payment.account_id, method=how,
            currency=payment.currency, amount=value, base_currency=payment.base_currency,
            amount_base=Money.from_minor(base, payment.base_currency), refunded_on=day, reason=str(reason or "")[:300],
            external_id=str(external_id or "")[:80], created_at=clock.now(), created_by=who,
        )  # type: ignore[misc]  # fmt: skip
        out = payment.deposit if how == RefundMethod.ORIGINAL else chart.BANK
        book.post(payment.entity_id, day, f"Refund of payment {payment.number}", SourceRef(book.APP, "refund", row.pk),
                  {chart.CUSTOMER_CREDITS: base, out: -base}, payment.base_currency, actor=who)  # fmt: skip
        _record(ev.REFUNDED, "payments.payment", payment.pk, payment.entity_id, who,
                {"payment_id": payment.pk, "refund_id": row.pk, "number": payment.number, "account_id": payment.account_id,
                 "amount": value, "method": how.value, "date": day, "reason": row.reason})  # fmt: skip
    return row


# --------------------------------------------------------------------------- reversals


def reverse_payment(
    payment_id: int, *, code: str, reason: str = "", fee: Money | None = None, on: date | None = None, actor: Any = None
) -> Payment:
    """Take back a received payment: each application is undone and its invoice reopened (Dr
    receivables at the amount relieved, Cr customer credits at the value consumed, FX undone), then the receipt (Dr customer credits, Cr the deposit with what was not refunded),
    then ``fee`` (Dr bank fees, Cr the deposit). Records PaymentReversed and PaymentFailed (with
    ``code``) so dunning can retry. Errors: ``payment.invalid_transition`` (409: not received)."""
    who = common.actor_name(actor)
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise errors.InvalidPayment("a reversal needs a reason code (at most 40 characters)", field="code")
    with transaction.atomic():
        payment = common.lock_payment(payment_id)
        payment.status = domain.move(payment.status, PaymentStatus.REVERSED)
        day = on or common.today(payment.entity_id)
        bcur = payment.base_currency
        extra = common.money(fee if fee is not None else Money.zero(bcur), bcur, "fee", allow_zero=True)
        reopened: list[dict[str, Any]] = []
        posting: dict[str, int] = {}
        apps = list(Application.objects.filter(payment=payment, reversed=False).order_by("invoice_id", "id"))
        for app in apps:
            inv_minor, ar_base, base = int(app.invoice_amount_minor), int(app.ar_base_minor), int(app.base_minor)  # type: ignore[attr-defined]
            if int(app.reopened_part_minor):  # type: ignore[attr-defined]
                # Applied to an amount reopened here before invoicing could take payments back:
                # it goes back where it came from.
                invoicing_common.lock_invoice(app.invoice_id)
                row, _ = Reopened.objects.select_for_update().get_or_create(
                    invoice_id=app.invoice_id,
                    defaults={"entity_id": app.entity_id, "account_id": app.account_id, "currency": app.invoice_currency,
                              "base_currency": bcur, "amount_minor": 0, "amount_base_minor": 0},
                )  # fmt: skip
                row.amount = Money.from_minor(int(row.amount_minor) + inv_minor, app.invoice_currency)  # type: ignore[attr-defined]
                row.amount_base = Money.from_minor(int(row.amount_base_minor) + ar_base, bcur)  # type: ignore[attr-defined]
                row.save(update_fields=["amount", "amount_base"])
                ar_key = book.AR_REOPENED
            else:
                # The invoice is reopened by invoicing itself (paid → partially paid or issued).
                invoicing.unapply_payment(app.invoice_id, app.invoice_amount, base_amount=app.ar_base, reason=code,
                                          actor=who, reference=payment.number)  # fmt: skip
                ar_key = chart.AR
            for key, value in book.negate(book.application(base, ar_base, 0)).items():
                book.add(posting, ar_key if key == chart.AR else key, value)
            app.reversed = True
            app.save(update_fields=["reversed"])
            reopened.append({"invoice_id": app.invoice_id, "number": app.invoice_number, "amount": app.invoice_amount})
        kept = int(payment.amount_base_minor) - int(payment.refunded_base_minor)  # type: ignore[attr-defined]
        fee_minor = extra.minor_units()
        book.add(posting, chart.CUSTOMER_CREDITS, kept)
        book.add(posting, payment.deposit, -(kept + fee_minor))
        book.add(posting, chart.BANK_FEES, fee_minor)
        book.post(payment.entity_id, day, f"Payment {payment.number} reversed ({code})",
                  SourceRef(book.APP, "reversal", payment.pk), posting, bcur, purpose="reversal", actor=who)  # fmt: skip
        payment.applied = Money.zero(payment.currency)
        payment.applied_base = Money.zero(bcur)
        payment.reversed_on = day
        payment.failure_code = code.strip()
        payment.failure_reason = str(reason or "")[:300]
        payment.save(update_fields=["status", "applied", "applied_base", "reversed_on", "failure_code", "failure_reason"])
        base_payload = {"payment_id": payment.pk, "number": payment.number, "account_id": payment.account_id,
                        "method": payment.method, "amount": payment.amount, "fees": payment.fees, "date": day,
                        "code": payment.failure_code, "reason": payment.failure_reason, "mandate_id": payment.mandate_id}  # fmt: skip
        _record(ev.PAYMENT_REVERSED, "payments.payment", payment.pk, payment.entity_id, who,
                {**base_payload, "fee": extra, "reopened": reopened})  # fmt: skip
        _record(ev.PAYMENT_FAILED, "payments.payment", payment.pk, payment.entity_id, who, base_payload)
    return payment


# --------------------------------------------------------------------------- disputes


def open_dispute(
    payment_id: int | None = None,
    *,
    invoice_id: int | None = None,
    reason: str = "",
    external_id: str = "",
    on: date | None = None,
    actor: Any = None,
) -> Dispute:
    """Open a chargeback on a received card payment (``payment_id``; its whole amount), or a
    customer's dispute of an invoice (``invoice_id``; dunning pauses, no money moves).

    Errors: ``payments.invalid_dispute`` (422: neither or both named, not a received card payment,
    nothing open on the invoice), ``payments.dispute_open`` (409: one is open already)."""
    who = common.actor_name(actor)
    if (payment_id is None) == (invoice_id is None):
        raise errors.InvalidPayment("name a payment or an invoice", code=errors.INVALID_DISPUTE, field="payment_id")
    try:
        with transaction.atomic():
            if payment_id is not None:
                payment = common.lock_payment(payment_id)
                if payment.method != Method.CARD or payment.status != PaymentStatus.RECEIVED:
                    raise errors.InvalidPayment(
                        f"payment {payment.number} is a {payment.method} payment that is {payment.status}: "
                        "only received card payments are charged back",
                        code=errors.INVALID_DISPUTE, field="payment_id",
                    )  # fmt: skip
                entity_id, account_id, amount = payment.entity_id, payment.account_id, payment.amount
                inv = None
            else:
                inv = invoicing_common.lock_invoice(invoice_id)
                open_inv, reopened = open_amounts(inv)
                if open_inv + reopened <= 0:
                    raise errors.InvalidPayment(f"nothing is open on invoice {inv.number}", code=errors.INVALID_DISPUTE, field="invoice_id")
                entity_id, account_id = inv.entity_id, inv.account_id
                amount = Money.from_minor(open_inv + reopened, inv.currency)
            same = Dispute.objects.filter(status=DisputeStatus.OPEN)
            same = same.filter(payment_id=payment_id) if payment_id is not None else same.filter(payment__isnull=True, invoice_id=invoice_id)
            if same.exists():
                raise _already_open()
            day = on or common.today(entity_id)
            dispute = Dispute.objects.create(
                payment_id=payment_id, invoice_id=invoice_id, entity_id=entity_id, account_id=account_id,
                currency=amount.currency, amount=amount, reason=str(reason or "")[:300],
                external_id=str(external_id or "")[:80], opened_on=day, created_at=clock.now(), created_by=who,
            )  # type: ignore[misc]  # fmt: skip
            _record(ev.DISPUTE_OPENED, "payments.dispute", dispute.pk, entity_id, who,
                    {"dispute_id": dispute.pk, "payment_id": payment_id, "invoice_id": invoice_id,
                     "invoice_number": inv.number if inv else "", "account_id": account_id, "amount": amount,
                     "reason": dispute.reason, "date": day})  # fmt: skip
    except IntegrityError as exc:
        raise _already_open() from exc
    return dispute


def _already_open() -> errors.PaymentConflict:
    return errors.PaymentConflict("a dispute is open already", code=errors.DISPUTE_OPEN, field="payment_id")


def resolve_dispute(
    dispute_id: int, *, won: bool, fee: Money | None = None, on: date | None = None, actor: Any = None
) -> Dispute:
    """Close a dispute. A chargeback lost reverses the payment (its invoices reopen) and books
    ``fee`` (default: the entity's dispute fee); won leaves everything as it was. An invoice
    dispute lost is settled with a credit note in invoicing. Errors: ``dispute.invalid_transition``."""
    who = common.actor_name(actor)
    with transaction.atomic():
        dispute = common.locked(Dispute.objects.all(), dispute_id, "dispute")
        target = DisputeStatus.WON if won else DisputeStatus.LOST
        dispute.status = domain.move_dispute(dispute.status, target)
        day = on or common.today(dispute.entity_id)
        if dispute.payment_id is not None and not won:
            settings = common.settings_for(dispute.entity_id)
            charge = fee if fee is not None else settings.dispute_fee
            dispute.fee = charge
            reverse_payment(dispute.payment_id, code="chargeback", reason=dispute.reason or "dispute lost", fee=charge, on=day, actor=who)
        dispute.closed_on = day
        dispute.save(update_fields=["status", "fee", "closed_on"])
        kind = ev.DISPUTE_WON if won else ev.DISPUTE_LOST
        _record(kind, "payments.dispute", dispute.pk, dispute.entity_id, who,
                {"dispute_id": dispute.pk, "payment_id": dispute.payment_id, "invoice_id": dispute.invoice_id,
                 "account_id": dispute.account_id, "amount": dispute.amount, "fee": dispute.fee, "date": day})  # fmt: skip
    return dispute


# --------------------------------------------------------------------------- write-offs


def _limit_exceeded(entity_id: int, amount: Money, rate: Any) -> bool:
    settings = common.settings_for(entity_id)
    limit = int(settings.write_off_limit_minor)  # type: ignore[attr-defined]
    if amount.currency == settings.currency:
        return amount.minor_units() > limit
    value = domain.convert_minor(amount.minor_units(), rate, currency_exponent(amount.currency), currency_exponent(settings.currency))
    return value > limit


def write_off(invoice_id: int, *, reason: str = "", actor: Any = None) -> WriteOff:
    """Write off what is open on an invoice: at or under the entity's limit at once, above it as
    a request a second person approves. Errors: ``payments.invalid_write_off`` (422: nothing
    open, void), ``payments.invalid_write_off`` (409: a request is pending)."""
    who = common.actor_name(actor)
    if not isinstance(reason, str) or not reason.strip():
        raise errors.InvalidPayment("say why the amount is written off", code=errors.INVALID_WRITE_OFF, field="reason")
    try:
        with transaction.atomic():
            inv = invoicing_common.lock_invoice(invoice_id)
            open_inv, reopened = open_amounts(inv)
            if open_inv + reopened <= 0:
                raise errors.InvalidPayment(f"nothing is open on invoice {inv.number or inv.pk}", code=errors.INVALID_WRITE_OFF, field="invoice_id")
            amount = Money.from_minor(open_inv + reopened, inv.currency)
            pending = _limit_exceeded(inv.entity_id, amount, inv.rate)
            row = WriteOff.objects.create(
                invoice_id=inv.pk, invoice_number=inv.number, entity_id=inv.entity_id, account_id=inv.account_id,
                status=WriteOffStatus.PENDING if pending else WriteOffStatus.APPROVED, currency=inv.currency,
                amount=amount, reason=reason.strip()[:300], requested_by=who, requested_at=clock.now(),
            )  # type: ignore[misc]  # fmt: skip
            _record(ev.WRITE_OFF_REQUESTED, "payments.write_off", row.pk, inv.entity_id, who,
                    {"write_off_id": row.pk, "invoice_id": inv.pk, "invoice_number": inv.number, "amount": amount,
                     "needs_approval": pending})  # fmt: skip
            if not pending:
                row.decided_by, row.decided_at = who, row.requested_at
                row.save(update_fields=["decided_by", "decided_at"])
                _execute(row, inv, open_inv, reopened, who)
    except IntegrityError as exc:
        raise errors.PaymentConflict("a write-off of this invoice waits for approval", code=errors.INVALID_WRITE_OFF, field="invoice_id") from exc
    return row


def _execute(row: WriteOff, inv: Any, open_inv: int, reopened: int, who: str) -> None:
    day = common.today(inv.entity_id)
    if open_inv > 0 and inv.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
        invoicing.write_off(inv.pk, reason=row.reason, actor=who)  # invoicing posts Dr bad debt, Cr AR
    if reopened > 0:
        r = Reopened.objects.select_for_update().get(invoice_id=inv.pk)
        base = int(r.amount_base_minor)  # type: ignore[attr-defined]
        r.amount = Money.zero(r.currency)
        r.amount_base = Money.zero(r.base_currency)
        r.save(update_fields=["amount", "amount_base"])
        book.post(inv.entity_id, day, f"Invoice {inv.number} written off (reopened part)", SourceRef(book.APP, "write_off", row.pk),
                  {chart.BAD_DEBT: base, book.AR_REOPENED: -base}, r.base_currency, purpose="write_off", actor=who)  # fmt: skip
    _record(ev.WRITE_OFF_APPROVED, "payments.write_off", row.pk, inv.entity_id, who,
            {"write_off_id": row.pk, "invoice_id": inv.pk, "invoice_number": inv.number, "amount": row.amount, "date": day})  # fmt: skip


def approve_write_off(write_off_id: int, *, actor: Any) -> WriteOff:
    """Approve a pending write-off: someone other than who asked. If the open amount changed
    since the request, the request is refused (ask again). Errors: ``payments.same_approver``
    (403), ``write_off.invalid_transition`` (409), ``payments.invalid_write_off`` (409)."""
    who = common.actor_name(actor)
    with transaction.atomic():
        row = common.locked(WriteOff.objects.all(), write_off_id, "write_off")
        if who and who == row.requested_by:
            raise errors.Forbidden("a write-off above the limit is approved by someone other than who asked", field="actor")
        row.status = domain.move_write_off(row.status, WriteOffStatus.APPROVED)
        inv = invoicing_common.lock_invoice(row.invoice_id)
        open_inv, reopened = open_amounts(inv)
        if open_inv + reopened != int(row.amount_minor):  # type: ignore[attr-defined]
            raise errors.PaymentConflict(
                f"the open amount of {inv.number} changed since the request; ask again", code=errors.INVALID_WRITE_OFF, field="amount"
            )
        row.decided_by, row.decided_at = who, clock.now()
        row.save(update_fields=["status", "decided_by", "decided_at"])
        _execute(row, inv, open_inv, reopened, who)
    return row


def reject_write_off(write_off_id: int, *, actor: Any) -> WriteOff:
    who = common.actor_name(actor)
    with transaction.atomic():
        row = common.locked(WriteOff.objects.all(), write_off_id, "write_off")
        row.status = domain.move_write_off(row.status, WriteOffStatus.REJECTED)
        row.decided_by, row.decided_at = who, clock.now()
        row.save(update_fields=["status", "decided_by", "decided_at"])
        _record(ev.WRITE_OFF_REJECTED, "payments.write_off", row.pk, row.entity_id, who,
                {"write_off_id": row.pk, "invoice_id": row.invoice_id, "amount": row.amount})  # fmt: skip
    return row


__all__ = [
    "Payment",
    "approve_write_off",
    "open_dispute",
    "refund",
    "reject_write_off",
    "resolve_dispute",
    "reverse_payment",
    "write_off",
]
