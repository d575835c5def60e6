"""Recording a batch of received payments and applying them at once — bank-statement runs.

:func:`record_payments_many` gives the same payments, applications, invoice states and ledger
balances as :func:`q2c.payments.services.record_payment` called item by item (same rules, same
error codes, fields prefixed with the item: ``items[3].allocations[0].amount``), with a constant
number of statements per batch: one existence check of the external ids, one read of the
accounts and of the invoices, one block of payment numbers per year
(``numbering.take_block``), bulk inserts of payments and applications, the invoices updated
through :func:`q2c.invoicing.services.settle_bulk.apply_payments_bulk` (locked in one query in id
order), ONE balanced ledger entry per booking date of the batch (receipts, applications, fees and
FX summed per account: the balances equal those of one entry per receipt and application), and
one ``payments.payments.recorded`` event per batch. All or nothing.

A batch touching an amount a reversal reopened, or paying an invoice in another currency than
its own, goes through the per-item path inside the same transaction (same results, slower).

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import errors as invoicing_errors
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import Invoice
from q2c.invoicing.services import settle_bulk
from q2c.ledger import chart
from q2c.ledger.domain import SourceRef
from q2c.parties.models import Account
from q2c.payments import domain, errors
from q2c.payments import posting as book
from q2c.payments.domain import Method, PaymentStatus
from q2c.payments.models import Application, Payment, Reopened
from q2c.payments.services import common
from q2c.payments.services.receive import (
    PAYMENT_NUMBER,
    PAYMENT_SEQUENCE,
    Allocation,
    _allocations,
    record_payment,
)
from q2c.platform import events, numbering
from q2c.platform.events import DomainEvent

PAYMENTS_RECORDED = "payments.payments.recorded"
CLOSED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE)


@dataclass(frozen=True)
class PaymentItem:
    """One received payment, as :func:`record_payment` takes it (bank transfer by default)."""

    account_id: int
    amount: Money
    received_on: date | None = None
    fees: Money | None = None
    payer_name: str = ""
    payer_iban: str = ""
    reference: str = ""
    external_id: str = ""
    allocations: Sequence[Any] = field(default_factory=tuple)
    method: str = Method.BANK_TRANSFER


@dataclass
class _Checked:
    item: PaymentItem
    account_id: int
    currency: str
    amount: Money
    fee: Money
    method: Method
    day: date
    allocs: list[Allocation]


def _check(i: int, item: PaymentItem, entity_id: int, accounts: dict[int, int], default_day: Any) -> _Checked:
    p = f"items[{i}]."
    if not isinstance(item, PaymentItem):
        raise errors.InvalidPayment("an item is a PaymentItem", field=f"items[{i}]")
    account_entity = accounts.get(item.account_id) if isinstance(item.account_id, int) else None
    if account_entity != entity_id:
        raise errors.InvalidPayment(f"no customer account {item.account_id}", field=p + "account_id")
    if not isinstance(item.amount, Money):
        raise errors.InvalidPayment("amount must be Money", field=p + "amount")
    currency = item.amount.currency
    try:
        amount = common.money(item.amount, currency, "amount")
        fee = common.money(
            item.fees if item.fees is not None else Money.zero(currency), currency, "fees", allow_zero=True
        )
    except errors.InvalidPayment as exc:
        raise errors.InvalidPayment(exc.message, field=p + str(exc.field or "amount")) from None
    if fee >= amount:
        raise errors.InvalidPayment("fees must be less than the amount", field=p + "fees")
    try:
        method = Method(item.method)
    except ValueError:
        raise errors.InvalidPayment(f"method is one of {', '.join(Method)}", field=p + "method") from None
    if method in (Method.CARD, Method.SEPA_DD):
        raise errors.InvalidPayment("a batch records money received in the bank", field=p + "method")
    for name, text, limit in (("payer_name", item.payer_name, 140), ("reference", item.reference, 140),
                              ("external_id", item.external_id, 80), ("payer_iban", item.payer_iban, 34)):  # fmt: skip
        if not isinstance(text, str) or len(text) > limit:
            raise errors.InvalidPayment(f"{name} is text of at most {limit} characters", field=p + name)
    day = item.received_on or default_day()
    if not isinstance(day, date):
        raise errors.InvalidPayment("received_on must be a date", field=p + "received_on")
    try:
        allocs = _allocations(item.allocations)
    except errors.InvalidPayment as exc:
        raise errors.InvalidPayment(
            exc.message, code=exc.code, field=p + str(exc.field or "allocations")
        ) from None
    return _Checked(item, item.account_id, currency, amount, fee, method, day, allocs)


def record_payments_many(entity_id: int, items: Sequence[PaymentItem], *, actor: Any = None) -> list[Payment]:
    """Record and apply a batch of received payments of one entity; returns them in item order.

    Errors (nothing is written): those of :func:`record_payment` and of its application, the field
    naming the item — ``payments.invalid_payment``, ``payments.duplicate`` (409, also for an
    external id twice in the batch), ``payments.invalid_application``,
    ``payments.invoice_not_open``, ``payments.over_applied`` (409: more than an invoice's open
    balance, counting the batch's earlier items), ``payments.exceeds_unapplied``,
    ``invoicing.rate_missing``.
    """
    who = common.actor_name(actor)
    if not items:
        return []
    ids = {it.account_id for it in items if isinstance(it, PaymentItem) and isinstance(it.account_id, int)}
    accounts = dict(Account.objects.filter(pk__in=ids).values_list("pk", "entity_id"))
    today: list[date] = []

    def default_day() -> date:
        if not today:
            today.append(common.today(entity_id))
        return today[0]

    checked = [_check(i, it, entity_id, accounts, default_day) for i, it in enumerate(items)]
    seen: set[tuple[str, str]] = set()
    for c in checked:
        if c.item.external_id:
            key = (c.method.value, c.item.external_id)
            if key in seen:
                raise _duplicate(c.item.external_id)
            seen.add(key)
    settings = common.settings_for(entity_id)
    bcur = settings.currency
    try:
        with transaction.atomic():
            return _record(entity_id, checked, bcur, who, actor)
    except IntegrityError as exc:
        raise _duplicate("of this batch") from exc


def _duplicate(external_id: str) -> errors.PaymentConflict:
    return errors.PaymentConflict(
        f"a payment with the id {external_id} was already recorded",
        code=errors.DUPLICATE,
        field="external_id",
    )


def _record(entity_id: int, checked: list[_Checked], bcur: str, who: str, actor: Any) -> list[Payment]:
    externals = [c.item.external_id for c in checked if c.item.external_id]
    if externals:
        found = (
            Payment.objects.filter(entity_id=entity_id, external_id__in=externals)
            .values_list("method", "external_id")
        )  # fmt: skip
        taken = set(found)
        for c in checked:
            if (c.method.value, c.item.external_id) in taken:
                raise _duplicate(c.item.external_id)
    invoice_ids = sorted({a.invoice_id for c in checked for a in c.allocs})
    if _needs_single_path(checked, invoice_ids):
        return [_one(c, actor) for c in checked]
    # Rates per (currency, day), numbers per year — the counter before the invoices, as
    # record_payment takes them, so a batch and a single payment never wait on each other crosswise.
    rates: dict[tuple[str, date], Decimal] = {}
    for c in checked:
        if (c.currency, c.day) not in rates:
            rates[(c.currency, c.day)] = common.rate(c.currency, bcur, c.day)
    by_year: dict[int, list[int]] = {}
    for k, c in enumerate(checked):
        by_year.setdefault(c.day.year, []).append(k)
    numbers: dict[int, str] = {}
    for year in sorted(by_year):
        block = numbering.take_block(entity_id, PAYMENT_SEQUENCE, len(by_year[year]), year=year)
        for k, seq in zip(by_year[year], block, strict=True):
            numbers[k] = PAYMENT_NUMBER.format(seq, year)
    invoices = settle_bulk.lock_invoices(invoice_ids)
    if _needs_single_path(checked, invoice_ids):  # a reversal reopened one meanwhile (rare)
        return [_one(c, actor) for c in checked]
    now = clock.now()
    bexp = currency_exponent(bcur)
    payments: list[Payment] = []
    for k, c in enumerate(checked):
        rate = rates[(c.currency, c.day)]
        exp = currency_exponent(c.currency)
        payments.append(
            Payment(  # type: ignore[misc]
                entity_id=entity_id, account_id=c.account_id, number=numbers[k], method=c.method,
                status=PaymentStatus.RECEIVED, currency=c.currency, amount=c.amount, fees=c.fee,
                received_on=c.day, base_currency=bcur, rate=rate,
                amount_base=Money.from_minor(domain.convert_minor(c.amount.minor_units(), rate, exp, bexp), bcur),
                fees_base=Money.from_minor(domain.convert_minor(c.fee.minor_units(), rate, exp, bexp), bcur),
                applied=Money.zero(c.currency), refunded=Money.zero(c.currency),
                applied_base=Money.zero(bcur), refunded_base=Money.zero(bcur),
                deposit=chart.BANK, payer_name=c.item.payer_name, payer_iban=c.item.payer_iban,
                reference=c.item.reference, external_id=c.item.external_id, created_at=now, created_by=who,
            )
        )  # fmt: skip
    # The applications, item by item as the single path does them (allocations in invoice id
    # order), against the open amounts the batch's earlier items leave.
    open_left = {pk: (inv.open_minor if inv.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID) else 0)
                 for pk, inv in invoices.items()}  # fmt: skip
    planned: list[tuple[int, int, int, int]] = []  # (payment index, invoice id, pay minor, base)
    to_invoicing: list[settle_bulk.BulkPayment] = []
    for k, c in enumerate(checked):
        payment = payments[k]
        exp = currency_exponent(c.currency)
        for i in sorted(range(len(c.allocs)), key=lambda j: c.allocs[j].invoice_id):
            alloc = c.allocs[i]
            fld = f"items[{k}].allocations[{i}]"
            invoice = invoices.get(alloc.invoice_id)
            if invoice is None:
                raise invoicing_errors.InvoiceNotFound(
                    f"no invoice {alloc.invoice_id}", field=f"{fld}.invoice_id"
                )
            if invoice.account_id != c.account_id:
                raise errors.InvalidPayment(f"invoice {invoice.number or invoice.pk} is another customer's",
                                            code=errors.INVALID_APPLICATION, field=f"{fld}.invoice_id")  # fmt: skip
            if invoice.status in CLOSED:
                raise errors.InvalidPayment(f"invoice {invoice.number or invoice.pk} is {invoice.status}: nothing to pay on it",
                                            code=errors.NOT_APPLICABLE, field=f"{fld}.invoice_id")  # fmt: skip
            total_open = open_left[invoice.pk]
            remaining = payment.unapplied_minor
            if alloc.amount is None:
                if total_open <= 0:
                    raise errors.PaymentConflict(f"invoice {invoice.number} has nothing open",
                                                 code=errors.OVER_APPLIED, field=f"{fld}.amount")  # fmt: skip
                pay_minor = min(remaining, total_open)
            else:
                try:
                    pay_minor = common.money(alloc.amount, c.currency, f"{fld}.amount").minor_units()
                except errors.InvalidPayment as exc:
                    raise errors.InvalidPayment(exc.message, field=f"{fld}.amount") from None
            if pay_minor <= 0:
                raise errors.PaymentConflict(
                    "the payment has nothing left to apply",
                    code=errors.EXCEEDS_UNAPPLIED,
                    field=f"{fld}.amount",
                )
            if pay_minor > remaining:
                raise errors.PaymentConflict(
                    f"{Money.from_minor(pay_minor, c.currency)} is more than the {Money.from_minor(remaining, c.currency)} left on {payment.number}",
                    code=errors.EXCEEDS_UNAPPLIED, field=f"{fld}.amount",
                )  # fmt: skip
            if pay_minor > total_open:
                raise errors.PaymentConflict(
                    f"{Money.from_minor(pay_minor, c.currency)} is more than the {Money.from_minor(total_open, c.currency)} open on {invoice.number}",
                    code=errors.OVER_APPLIED, field=f"{fld}.amount",
                )  # fmt: skip
            open_left[invoice.pk] = total_open - pay_minor
            base = domain.base_consumed(
                pay_minor, remaining, payment.unapplied_base_minor, payment.rate, exp, bexp
            )
            payment.applied = Money.from_minor(int(payment.applied_minor) + pay_minor, c.currency)  # type: ignore[attr-defined]
            payment.applied_base = Money.from_minor(int(payment.applied_base_minor) + base, bcur)  # type: ignore[attr-defined]
            planned.append((k, invoice.pk, pay_minor, base))
            to_invoicing.append(
                settle_bulk.BulkPayment(
                    invoice.pk, Money.from_minor(pay_minor, c.currency), numbers[k], c.day
                )
            )
    Payment.objects.bulk_create(payments, batch_size=1000)
    done = settle_bulk.apply_payments_bulk(to_invoicing, actor=who)
    # The ledger: per booking date, the receipts and applications summed per account.
    postings: dict[date, dict[str, int]] = {}
    for c, payment in zip(checked, payments, strict=True):
        into = postings.setdefault(c.day, {})
        received = book.receipt(
            chart.BANK, payment.amount_base.minor_units(), payment.fees_base.minor_units()
        )
        for key, amount in received.items():
            book.add(into, key, amount)
    apps: list[Application] = []
    for (k, invoice_id, pay_minor, base), applied in zip(planned, done, strict=True):
        c, payment = checked[k], payments[k]
        apps.append(
            Application(  # type: ignore[misc]
                payment_id=payment.pk, entity_id=entity_id, account_id=c.account_id, invoice_id=invoice_id,
                invoice_number=applied.number, currency=c.currency, amount=Money.from_minor(pay_minor, c.currency),
                invoice_currency=applied.currency, invoice_amount=Money.from_minor(applied.minor, applied.currency),
                base_currency=bcur, base=Money.from_minor(base, bcur), ar_base=Money.from_minor(applied.base_minor, bcur),
                reopened_part=Money.zero(applied.currency), applied_on=c.day, created_at=now, created_by=who,
            )
        )  # fmt: skip
        into = postings[c.day]
        for key, amount in book.application(base, applied.base_minor).items():
            book.add(into, key, amount)
    Application.objects.bulk_create(apps, batch_size=2000)
    for day in sorted(postings):
        first = next(p for p in payments if p.received_on == day)
        count = sum(1 for p in payments if p.received_on == day)
        book.post(entity_id, day, f"Payments {first.number} … received and applied ({count})",
                  SourceRef(book.APP, "payment_batch", first.pk), postings[day], bcur, actor=who)  # fmt: skip
    events.record(
        DomainEvent(
            PAYMENTS_RECORDED, "payments.payment", payments[0].pk,
            {"count": len(payments),
             "payments": [{"payment_id": p.pk, "number": p.number, "account_id": p.account_id,
                           "external_id": p.external_id, "amount_minor": int(p.amount_minor),  # type: ignore[attr-defined]
                           "currency": p.currency, "date": p.received_on} for p in payments],
             "applications": [{"application_id": a.pk, "payment_id": a.payment_id, "invoice_id": a.invoice_id,
                               "amount_minor": int(a.amount_minor), "date": a.applied_on} for a in apps]},  # type: ignore[attr-defined]
            entity_id=entity_id, actor=who,
        )
    )  # fmt: skip
    return payments


def _needs_single_path(checked: list[_Checked], invoice_ids: list[int]) -> bool:
    """An amount a reversal reopened, or an invoice in another currency than its payment."""
    if Reopened.objects.filter(invoice_id__in=invoice_ids, amount_minor__gt=0).exists():
        return True
    currencies = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "currency"))
    return any(currencies.get(a.invoice_id, c.currency) != c.currency for c in checked for a in c.allocs)


def _one(c: _Checked, actor: Any) -> Payment:
    return record_payment(
        c.account_id, c.amount, method=c.method, received_on=c.day, fees=c.fee if c.fee.amount else None,
        payer_name=c.item.payer_name, payer_iban=c.item.payer_iban, reference=c.item.reference,
        external_id=c.item.external_id, allocations=c.allocs, actor=actor,
    )  # fmt: skip
