"""Recording payments and applying them to invoices.

- :func:`record_payment` — money received (or a pending card/direct-debit payment) with its
  fees, optionally applied at once to invoices; the unapplied part is customer credit.
- :func:`apply_payment` — apply (part of) a payment's unapplied amount to one or many invoices;
  more than an invoice's open balance is refused: each invoice row is locked
  (``SELECT … FOR UPDATE`` through the invoicing service) before its open amount is read.
- :func:`apply_credits` — customer credit to the account's open invoices, oldest due first.
- :func:`fail_payment` — a pending payment that never arrives (declined, rejected).
- :func:`settle_payment` — card or direct-debit money arriving in the bank (clearing → bank).

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import services as invoicing
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import Invoice
from q2c.invoicing.services import common as invoicing_common
from q2c.ledger import chart
from q2c.ledger.domain import SourceRef
from q2c.parties.models import Account
from q2c.payments import domain, errors
from q2c.payments import events as ev
from q2c.payments import posting as book
from q2c.payments.domain import Method, PaymentStatus
from q2c.payments.models import Application, Payment, Reopened
from q2c.payments.services import common
from q2c.platform import events, numbering
from q2c.platform.events import DomainEvent
from q2c.platform.numbering import NumberFormat

PAYMENT_SEQUENCE = "payments.payment"
PAYMENT_NUMBER = NumberFormat("PAY")


@dataclass(frozen=True, slots=True)
class Allocation:
    """Apply ``amount`` (in the payment's currency) to ``invoice_id``; None: as much as possible."""

    invoice_id: int
    amount: Money | None = None


def _allocations(items: Iterable[Any] | None) -> list[Allocation]:
    out = []
    for i, item in enumerate(items or ()):
        if isinstance(item, Allocation):
            out.append(item)
        elif isinstance(item, dict):
            out.append(Allocation(item.get("invoice_id"), item.get("amount")))  # type: ignore[arg-type]
        else:
            invoice_id, amount = item
            out.append(Allocation(invoice_id, amount))
        if not isinstance(out[-1].invoice_id, int) or isinstance(out[-1].invoice_id, bool):
            raise errors.InvalidPayment(f"no invoice {out[-1].invoice_id}", code=errors.INVALID_APPLICATION, field=f"allocations[{i}].invoice_id")
    if len({a.invoice_id for a in out}) != len(out):
        raise errors.InvalidPayment("an invoice appears twice", code=errors.INVALID_APPLICATION, field="allocations")
    return out


def record_payment(
    account_id: int,
    amount: Money,
    *,
    method: str = Method.BANK_TRANSFER,
    received_on: date | None = None,
    fees: Money | None = None,
    payer_name: str = "",
    payer_iban: str = "",
    reference: str = "",
    external_id: str = "",
    pending: bool = False,
    deposit: str | None = None,
    allocations: Sequence[Allocation | dict[str, Any] | tuple[int, Money | None]] | None = None,
    mandate_id: int | None = None,
    actor: Any = None,
) -> Payment:
    """Record a payment from a customer account; apply it at once to ``allocations``.

    ``amount`` is what the customer is credited with, ``fees`` what the bank or gateway kept (the
    deposit receives amount − fees). A received payment in a currency other than the entity's is
    valued at the rate of ``received_on`` (invoicing's rates table). ``pending`` (card authorised,
    direct debit submitted): nothing is posted or applied until :func:`receive_pending`.
    ``external_id`` (a gateway or bank transaction id) is unique per entity and method.

    Errors: ``payments.invalid_payment`` (422: not positive, float, wrong currency, fees ≥ amount,
    unknown method or account), ``payments.duplicate`` (409: the external id was recorded),
    ``invoicing.rate_missing``, and those of :func:`apply_payment` (nothing is written).
    """
    who = common.actor_name(actor)
    account = Account.objects.filter(pk=account_id).only("id", "entity_id", "name").first() if isinstance(account_id, int) else None
    if account is None:
        raise errors.InvalidPayment(f"no customer account {account_id}", field="account_id")
    if not isinstance(amount, Money):
        raise errors.InvalidPayment("amount must be Money", field="amount")
    currency = amount.currency
    amount = common.money(amount, currency, "amount")
    fee = common.money(fees if fees is not None else Money.zero(currency), currency, "fees", allow_zero=True)
    if fee >= amount:
        raise errors.InvalidPayment("fees must be less than the amount", field="fees")
    try:
        method = Method(method)
    except ValueError:
        raise errors.InvalidPayment(f"method is one of {', '.join(Method)}", field="method") from None
    for name, text, limit in (("payer_name", payer_name, 140), ("reference", reference, 140), ("external_id", external_id, 80), ("payer_iban", payer_iban, 34)):
        if not isinstance(text, str) or len(text) > limit:
            raise errors.InvalidPayment(f"{name} is text of at most {limit} characters", field=name)
    entity_id = account.entity_id
    settings = common.settings_for(entity_id)
    day = received_on or common.today(entity_id)
    if not isinstance(day, date):
        raise errors.InvalidPayment("received_on must be a date", field="received_on")
    base_currency = settings.currency
    if deposit is None:
        deposit = chart.PAYMENT_CLEARING if method in (Method.CARD, Method.SEPA_DD) else chart.BANK
    allocs = _allocations(allocations)
    if pending and allocs:
        raise errors.InvalidPayment("a pending payment is applied when it arrives", field="allocations")
    try:
        with transaction.atomic():
            if external_id and Payment.objects.filter(entity_id=entity_id, method=method, external_id=external_id).exists():
                raise _duplicate(external_id)
            rate = common.rate(currency, base_currency, day)
            exp, bexp = currency_exponent(currency), currency_exponent(base_currency)
            amount_base = domain.convert_minor(amount.minor_units(), rate, exp, bexp)
            fees_base = domain.convert_minor(fee.minor_units(), rate, exp, bexp)
            year = day.year
            seq = numbering.take(entity_id, PAYMENT_SEQUENCE, year=year)
            now = clock.now()
            payment = Payment.objects.create(
                entity_id=entity_id, account_id=account.pk, number=PAYMENT_NUMBER.format(seq, year), method=method,
                status=PaymentStatus.PENDING if pending else PaymentStatus.RECEIVED, currency=currency,
                amount=amount, fees=fee, received_on=day, base_currency=base_currency, rate=rate,
                amount_base=Money.from_minor(amount_base, base_currency), fees_base=Money.from_minor(fees_base, base_currency),
                deposit=deposit, payer_name=payer_name, payer_iban=payer_iban, reference=reference,
                external_id=external_id, mandate_id=mandate_id, created_at=now, created_by=who,
            )  # type: ignore[misc]  # fmt: skip
            if pending:
                _event(ev.PAYMENT_PENDING, payment, who, {"date": day})
            else:
                _post_receipt(payment, who)
                if allocs:
                    _apply(payment, allocs, day, who)
    except IntegrityError as exc:
        raise _duplicate(external_id) from exc
    return payment


def _duplicate(external_id: str) -> DomainError:
    return errors.PaymentConflict(
        f"a payment with the id {external_id} was already recorded", code=errors.DUPLICATE, field="external_id"
    )


def _event(kind: str, payment: Payment, who: str, extra: dict[str, Any]) -> None:
    events.record(
        DomainEvent(
            kind, "payments.payment", payment.pk,
            {"payment_id": payment.pk, "number": payment.number, "account_id": payment.account_id,
             "method": payment.method, "amount": payment.amount, "fees": payment.fees, **extra},
            entity_id=payment.entity_id, actor=who,
        )
    )  # fmt: skip


def _post_receipt(payment: Payment, who: str) -> None:
    book.post(
        payment.entity_id, payment.received_on, f"Payment {payment.number} received",
        SourceRef(book.APP, "payment", payment.pk),
        book.receipt(payment.deposit, int(payment.amount_base_minor), int(payment.fees_base_minor)),  # type: ignore[attr-defined]
        payment.base_currency, actor=who,
    )  # fmt: skip
    _event(ev.PAYMENT_RECEIVED, payment, who, {"date": payment.received_on, "reference": payment.reference})


def receive_pending(payment_id: int, *, on: date | None = None, allocations: Sequence[Any] | None = None, actor: Any = None) -> Payment:
    """A pending payment's money arrived (card captured, direct debit collected): post it and
    apply it. Errors: ``payment.invalid_transition`` (409: not pending)."""
    who = common.actor_name(actor)
    allocs = _allocations(allocations)
    with transaction.atomic():
        payment = common.lock_payment(payment_id)
        payment.status = domain.move(payment.status, PaymentStatus.RECEIVED)
        if on is not None:
            payment.received_on = on
        payment.save(update_fields=["status", "received_on"])
        _post_receipt(payment, who)
        if allocs:
            _apply(payment, allocs, payment.received_on, who)
    return payment


def fail_payment(payment_id: int, *, code: str, reason: str = "", actor: Any = None) -> Payment:
    """A pending payment that will not arrive: ``code`` is the gateway's or the bank's reason
    code (``card_declined``, ``insufficient_funds``, SEPA ``AM04`` …). Nothing was posted, so
    nothing is reversed. Errors: ``payment.invalid_transition`` (409)."""
    who = common.actor_name(actor)
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise errors.InvalidPayment("a failure needs a reason code (at most 40 characters)", field="code")
    with transaction.atomic():
        payment = common.lock_payment(payment_id)
        payment.status = domain.move(payment.status, PaymentStatus.FAILED)
        payment.failure_code = code.strip()
        payment.failure_reason = str(reason or "")[:300]
        payment.save(update_fields=["status", "failure_code", "failure_reason"])
        _event(ev.PAYMENT_FAILED, payment, who, {"code": payment.failure_code, "reason": payment.failure_reason,
                                                 "mandate_id": payment.mandate_id})  # fmt: skip
    return payment


def settle_payment(payment_id: int, *, on: date | None = None, fees: Money | None = None, actor: Any = None) -> Payment:
    """Card or direct-debit money reached the bank: Dr bank, Dr bank fees (``fees`` charged at
    settlement, on top of those recorded), Cr payment clearing. Settling twice is a no-op."""
    who = common.actor_name(actor)
    with transaction.atomic():
        payment = common.lock_payment(payment_id)
        if payment.settled_on is not None or payment.deposit != chart.PAYMENT_CLEARING:
            return payment
        if payment.status != PaymentStatus.RECEIVED:
            raise errors.PaymentConflict(f"payment {payment.number} is {payment.status}", code=errors.INVALID_PAYMENT, field="status")
        day = on or common.today(payment.entity_id)
        extra = common.money(fees if fees is not None else Money.zero(payment.currency), payment.currency, "fees", allow_zero=True)
        extra_base = domain.convert_minor(extra.minor_units(), payment.rate, currency_exponent(payment.currency), currency_exponent(payment.base_currency))
        held = int(payment.amount_base_minor) - int(payment.fees_base_minor)  # type: ignore[attr-defined]
        posting: dict[str, int] = {}
        book.add(posting, chart.BANK, held - extra_base)
        book.add(posting, chart.BANK_FEES, extra_base)
        book.add(posting, chart.PAYMENT_CLEARING, -held)
        book.post(payment.entity_id, day, f"Payment {payment.number} settled", SourceRef(book.APP, "payment_settlement", payment.pk),
                  posting, payment.base_currency, actor=who)  # fmt: skip
        payment.settled_on = day
        if extra:
            payment.fees = payment.fees + extra
            payment.fees_base = Money.from_minor(int(payment.fees_base_minor) + extra_base, payment.base_currency)  # type: ignore[attr-defined]
        payment.deposit = chart.BANK
        payment.save(update_fields=["settled_on", "fees", "fees_base", "deposit"])
        _event(ev.PAYMENT_SETTLED, payment, who, {"date": day})
    return payment


def apply_payment(
    payment_id: int,
    allocations: Sequence[Allocation | dict[str, Any] | tuple[int, Money | None]],
    *,
    on: date | None = None,
    actor: Any = None,
) -> list[Application]:
    """Apply a received payment's unapplied amount to invoices of the same customer.

    Each allocation names an invoice and an amount in the payment's currency (None: as much as
    the invoice and the payment allow). A payment in another currency than the invoice is
    converted at the rate of the payment date. The receivable is relieved at the invoice's
    issue rate; the difference to the payment's value is an FX gain or loss.

    Errors (nothing is written): ``payments.invalid_application`` (422: other customer, void,
    draft or written-off invoice, amount not positive), ``payments.over_applied`` (409: more than
    the invoice's open balance), ``payments.exceeds_unapplied`` (409: more than the payment has
    left), ``payment.invalid_transition`` (409: the payment is not received).
    """
    who = common.actor_name(actor)
    allocs = _allocations(allocations)
    if not allocs:
        raise errors.InvalidPayment("name at least one invoice", code=errors.INVALID_APPLICATION, field="allocations")
    with transaction.atomic():
        payment = common.lock_payment(payment_id)
        day = on or common.today(payment.entity_id)
        return _apply(payment, allocs, day, who)


def _apply(payment: Payment, allocs: list[Allocation], day: date, who: str) -> list[Application]:
    if payment.status != PaymentStatus.RECEIVED:
        domain.move(payment.status, PaymentStatus.RECEIVED)  # raises the 409 naming the state
    out: list[Application] = []
    # Invoices are locked in id order so two appliers never wait on each other crosswise.
    order = sorted(range(len(allocs)), key=lambda i: allocs[i].invoice_id)
    for i in order:
        out.append(_apply_one(payment, allocs[i], i, day, who))
    payment.save(update_fields=["applied", "applied_base"])
    return sorted(out, key=lambda a: a.pk)


def open_amounts(invoice: Invoice) -> tuple[int, int]:
    """(open per invoicing, reopened here) in the invoice's minor units."""
    reopened = Reopened.objects.filter(invoice_id=invoice.pk).values_list("amount_minor", flat=True).first() or 0
    return (invoice.open_minor if invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID) else 0), int(reopened)


def _apply_one(payment: Payment, alloc: Allocation, i: int, day: date, who: str) -> Application:
    field = f"allocations[{i}]"
    invoice = invoicing_common.lock_invoice(alloc.invoice_id)
    if invoice.account_id != payment.account_id:
        raise errors.InvalidPayment(f"invoice {invoice.number or invoice.pk} is another customer's",
                                    code=errors.INVALID_APPLICATION, field=f"{field}.invoice_id")  # fmt: skip
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE):
        raise errors.InvalidPayment(f"invoice {invoice.number or invoice.pk} is {invoice.status}: nothing to pay on it",
                                    code=errors.NOT_APPLICABLE, field=f"{field}.invoice_id")  # fmt: skip
    open_inv, reopened = open_amounts(invoice)
    total_open = open_inv + reopened
    cur, icur, bcur = payment.currency, invoice.currency, payment.base_currency
    exp, iexp, bexp = currency_exponent(cur), currency_exponent(icur), currency_exponent(bcur)
    cross = common.rate(cur, icur, payment.received_on) if cur != icur else None
    remaining = payment.unapplied_minor
    if alloc.amount is None:
        if total_open <= 0:
            raise errors.PaymentConflict(f"invoice {invoice.number} has nothing open", code=errors.OVER_APPLIED, field=f"{field}.amount")
        if cross is None:
            pay_minor = min(remaining, total_open)
        else:  # the payment amount whose conversion covers the open amount (or all that is left)
            want = domain.convert_minor(total_open, 1 / cross, iexp, exp)
            pay_minor = min(remaining, want)
    else:
        pay_minor = common.money(alloc.amount, cur, f"{field}.amount").minor_units()
    if pay_minor <= 0:
        raise errors.PaymentConflict("the payment has nothing left to apply", code=errors.EXCEEDS_UNAPPLIED, field=f"{field}.amount")
    if pay_minor > remaining:
        raise errors.PaymentConflict(
            f"{Money.from_minor(pay_minor, cur)} is more than the {Money.from_minor(remaining, cur)} left on {payment.number}",
            code=errors.EXCEEDS_UNAPPLIED, field=f"{field}.amount",
        )  # fmt: skip
    inv_minor = pay_minor if cross is None else domain.convert_minor(pay_minor, cross, exp, iexp)
    if cross is not None and alloc.amount is None:
        inv_minor = min(inv_minor, total_open)
    if inv_minor > total_open:
        raise errors.PaymentConflict(
            f"{Money.from_minor(inv_minor, icur)} is more than the {Money.from_minor(total_open, icur)} open on {invoice.number}",
            code=errors.OVER_APPLIED, field=f"{field}.amount",
        )  # fmt: skip
    from_reopened = min(reopened, inv_minor)
    from_invoice = inv_minor - from_reopened
    ar_base = 0
    reopened_base = 0
    if from_reopened:
        row = Reopened.objects.select_for_update().get(invoice_id=invoice.pk)
        left = int(row.amount_minor) - from_reopened  # type: ignore[attr-defined]
        reopened_base = int(row.amount_base_minor) if left == 0 else domain.convert_minor(  # type: ignore[attr-defined]
            from_reopened, invoice.rate or Decimal(1), iexp, bexp)  # fmt: skip
        row.amount = Money.from_minor(left, icur)
        row.amount_base = Money.from_minor(int(row.amount_base_minor) - reopened_base, bcur)  # type: ignore[attr-defined]
        row.save(update_fields=["amount", "amount_base"])
        ar_base += reopened_base
    if from_invoice:
        before = int(invoice.paid_base_minor)  # type: ignore[attr-defined]
        updated = invoicing.apply_payment(invoice.pk, Money.from_minor(from_invoice, icur), actor=who, reference=payment.number)
        ar_base += int(updated.paid_base_minor) - before  # type: ignore[attr-defined]
    base = domain.base_consumed(pay_minor, remaining, payment.unapplied_base_minor, payment.rate, exp, bexp)
    payment.applied = Money.from_minor(int(payment.applied_minor) + pay_minor, cur)  # type: ignore[attr-defined]
    payment.applied_base = Money.from_minor(int(payment.applied_base_minor) + base, bcur)  # type: ignore[attr-defined]
    app = Application.objects.create(
        payment=payment, entity_id=payment.entity_id, account_id=payment.account_id, invoice_id=invoice.pk,
        invoice_number=invoice.number, currency=cur, amount=Money.from_minor(pay_minor, cur), invoice_currency=icur,
        invoice_amount=Money.from_minor(inv_minor, icur), base_currency=bcur, base=Money.from_minor(base, bcur),
        ar_base=Money.from_minor(ar_base, bcur), reopened_part=Money.from_minor(from_reopened, icur),
        applied_on=day, created_at=clock.now(), created_by=who,
    )  # type: ignore[misc]  # fmt: skip
    book.post(
        payment.entity_id, day, f"Payment {payment.number} applied to {invoice.number}",
        SourceRef(book.APP, "application", app.pk), book.application(base, ar_base, reopened_base), bcur, actor=who,
    )  # fmt: skip
    events.record(
        DomainEvent(
            ev.PAYMENT_APPLIED, "payments.payment", payment.pk,
            {"payment_id": payment.pk, "number": payment.number, "application_id": app.pk, "invoice_id": invoice.pk,
             "invoice_number": invoice.number, "account_id": payment.account_id, "amount": app.amount,
             "invoice_amount": app.invoice_amount, "fx": Money.from_minor(base - ar_base, bcur),
             "invoice_open_after": Money.from_minor(total_open - inv_minor, icur), "date": day},
            entity_id=payment.entity_id, actor=who,
        )
    )  # fmt: skip
    return app


def apply_credits(account_id: int, *, on: date | None = None, actor: Any = None) -> list[Application]:
    """Apply the account's customer credit (unapplied received payments, oldest first) to its
    open invoices (oldest due first) in the same currency. Returns what was applied."""
    from q2c.payments import queries

    who = common.actor_name(actor)
    out: list[Application] = []
    with transaction.atomic():
        payments = list(
            Payment.objects.filter(account_id=account_id, status=PaymentStatus.RECEIVED)
            .order_by("received_on", "id").values_list("id", flat=True)
        )  # fmt: skip
        for pid in payments:
            payment = common.lock_payment(pid)
            if payment.unapplied_minor <= 0:
                continue
            for item in queries.open_receivables(account_id=account_id, currency=payment.currency):
                if payment.unapplied_minor <= 0:
                    break
                if item.disputed:
                    continue
                day = on or common.today(payment.entity_id)
                out.extend(_apply(payment, [Allocation(item.invoice_id, None)], day, who))
    return out


def apply_all_credits(day: date | None = None) -> dict[str, int]:
    """The daily job: customer credit applied to open invoices for every account of an entity
    whose settings say so (default). One transaction per account."""
    from q2c.payments.models import PaymentSettings

    off = set(PaymentSettings.objects.filter(auto_apply_credit=False).values_list("entity_id", flat=True))
    # The accounts holding credit, found by the database (not every received payment read back).
    with_credit = list(
        Payment.objects.filter(status=PaymentStatus.RECEIVED)
        .exclude(entity_id__in=off)
        .filter(amount_minor__gt=F("applied_minor") + F("refunded_minor"))
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    applied = 0
    for account_id in with_credit:
        applied += len(apply_credits(account_id, on=day, actor="system"))
    return {"accounts": len(with_credit), "applications": applied}
