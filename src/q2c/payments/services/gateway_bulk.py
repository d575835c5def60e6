"""Recording a batch of card and direct-debit payments and applying them at once — a day's
gateway money (card charges the gateway captured, SEPA direct debits collected).

:func:`record_gateway_payments_many` gives the same payments, applications, invoice states and
ledger balances as :func:`q2c.payments.services.record_payment` called item by item with
``method="card"`` or ``"sepa_dd"`` (same rules, same error codes, fields prefixed with the item:
``items[3].allocations[0].amount``): the money is held in *payment clearing* until the gateway or
the bank settles it (:func:`q2c.payments.services.settle_payment`), the fees the gateway kept are
booked to bank fees, and a direct debit's mandate must be an active mandate of the paying
customer, in euros. A constant number of statements per batch: one existence check of the
external ids, one read of the accounts, mandates and invoices, one block of payment numbers per
year, bulk inserts of payments and applications, the invoices updated through
:func:`q2c.invoicing.services.settle_bulk.apply_locked` (locked in one query in id order), ONE
balanced ledger entry per booking date (receipts, applications, fees and FX summed per account:
the balances equal those of one entry per receipt and application), and the events in one insert.

Events: the same ``payments.payment.received`` (one per payment) and ``payments.payment.applied``
(one per application) as the single path, with the same payloads, so their subscribers (dunning's
retry bookkeeping) run per payment as before; on the invoicing side one
``invoicing.invoices.payments_applied`` per batch instead of one ``invoicing.invoice.payment_applied``
per invoice (the event bank runs record; analytics reads both). All or nothing.

A batch touching an amount a reversal reopened, or paying an invoice in another currency than
its own, goes through the per-item path inside the same transaction (same results, slower).

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, overload

from django.db import IntegrityError, connection, transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import errors as invoicing_errors
from q2c.invoicing.services import settle_bulk
from q2c.invoicing.services.common import db_date, db_datetime, reserve_ids, write_rows
from q2c.ledger import chart
from q2c.ledger.domain import SourceRef
from q2c.parties.models import Account
from q2c.payments import domain, errors
from q2c.payments import events as ev
from q2c.payments import posting as book
from q2c.payments.domain import MandateStatus, Method, PaymentStatus
from q2c.payments.models import Application, Mandate, Payment
from q2c.payments.services import common
from q2c.payments.services.bulk import (
    APPLICATION_COLUMNS,
    CLOSED,
    OPEN,
    PAYMENT_COLUMNS,
    _duplicate,
    _needs_single_path,
    _reopened,
    _select,
)
from q2c.payments.services.receive import (
    PAYMENT_NUMBER,
    PAYMENT_SEQUENCE,
    Allocation,
    _allocations,
    record_payment,
)
from q2c.platform import events, numbering
from q2c.platform.events import DomainEvent

GATEWAY_METHODS = (Method.CARD, Method.SEPA_DD)
RECEIVED = PaymentStatus.RECEIVED.value
COLUMNS = (*PAYMENT_COLUMNS, "mandate_id")


@dataclass(frozen=True)
class GatewayPaymentItem:
    """One card or direct-debit payment received, as :func:`record_payment` takes it.

    ``external_id``: the gateway's charge id or the direct debit's end-to-end id; ``fees``: what
    the gateway or the bank kept; ``mandate_id``: the SEPA mandate a direct debit was collected on.
    """

    account_id: int
    amount: Money
    method: str = Method.CARD
    received_on: date | None = None
    fees: Money | None = None
    payer_name: str = ""
    payer_iban: str = ""
    reference: str = ""
    external_id: str = ""
    allocations: Sequence[Any] = field(default_factory=tuple)
    mandate_id: int | None = None


@dataclass
class _Checked:
    item: GatewayPaymentItem
    account_id: int
    currency: str
    amount: Money
    fee: Money
    method: Method
    day: date
    allocs: list[Allocation]
    mandate_id: int | None


def _check(
    i: int, item: GatewayPaymentItem, entity_id: int, accounts: dict[int, int], default_day: Any
) -> _Checked:
    p = f"items[{i}]."
    if not isinstance(item, GatewayPaymentItem):
        raise errors.InvalidPayment("an item is a GatewayPaymentItem", field=f"items[{i}]")
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
    if method not in GATEWAY_METHODS:
        raise errors.InvalidPayment(
            "this batch records card and direct-debit payments (bank money: record_payments_many)",
            field=p + "method",
        )
    for name, text, limit in (("payer_name", item.payer_name, 140), ("reference", item.reference, 140),
                              ("external_id", item.external_id, 80), ("payer_iban", item.payer_iban, 34)):  # fmt: skip
        if not isinstance(text, str) or len(text) > limit:
            raise errors.InvalidPayment(f"{name} is text of at most {limit} characters", field=p + name)
    mandate_id = item.mandate_id
    if mandate_id is not None:
        if method != Method.SEPA_DD:
            raise errors.InvalidPayment("only a direct debit names a mandate", code=errors.INVALID_MANDATE,
                                        field=p + "mandate_id")  # fmt: skip
        if not isinstance(mandate_id, int) or isinstance(mandate_id, bool):
            raise errors.InvalidPayment(
                f"no mandate {mandate_id}", code=errors.INVALID_MANDATE, field=p + "mandate_id"
            )
        if currency != "EUR":
            raise errors.InvalidPayment(
                "a SEPA direct debit is in EUR", code=errors.INVALID_MANDATE, field=p + "amount"
            )
    day = item.received_on or default_day()
    if not isinstance(day, date):
        raise errors.InvalidPayment("received_on must be a date", field=p + "received_on")
    try:
        allocs = _allocations(item.allocations)
    except errors.InvalidPayment as exc:
        raise errors.InvalidPayment(
            exc.message, code=exc.code, field=p + str(exc.field or "allocations")
        ) from None
    return _Checked(item, item.account_id, currency, amount, fee, method, day, allocs, mandate_id)


@overload
def record_gateway_payments_many(
    entity_id: int,
    items: Sequence[GatewayPaymentItem],
    *,
    actor: Any = None,
    ids_only: Literal[False] = False,
) -> list[Payment]: ...
@overload
def record_gateway_payments_many(
    entity_id: int, items: Sequence[GatewayPaymentItem], *, actor: Any = None, ids_only: Literal[True]
) -> list[int]: ...
def record_gateway_payments_many(
    entity_id: int, items: Sequence[GatewayPaymentItem], *, actor: Any = None, ids_only: bool = False
) -> list[Payment] | list[int]:
    """Record and apply a batch of card and direct-debit payments of one entity; returns them in
    item order (``ids_only``: their ids, without reading them back).

    Errors (nothing is written): those of :func:`record_payment` and of its application, the field
    naming the item — ``payments.invalid_payment`` (also: a bank-transfer item),
    ``payments.invalid_mandate`` (422: the mandate is not an active mandate of the item's
    customer, a mandate on a card payment, a direct debit on a mandate not in EUR),
    ``payments.duplicate`` (409, also for an external id twice in the batch),
    ``payments.invalid_application``, ``payments.invoice_not_open``, ``payments.over_applied``
    (409: more than an invoice's open balance, counting the batch's earlier items),
    ``payments.exceeds_unapplied``, ``invoicing.rate_missing``.
    """
    who = common.actor_name(actor)
    if not items:
        return []
    ids = {
        it.account_id for it in items if isinstance(it, GatewayPaymentItem) and isinstance(it.account_id, int)
    }
    accounts: dict[int, int] = dict(
        _select(f"SELECT id, entity_id FROM {Account._meta.db_table} WHERE id IN ({{}})", [], sorted(ids))  # noqa: S608
    )  # type: ignore[arg-type]
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
    bcur = common.settings_for(entity_id).currency
    try:
        with transaction.atomic():
            _check_mandates(checked)
            payment_ids = _record(entity_id, checked, bcur, who, actor)
    except IntegrityError as exc:
        raise _duplicate("of this batch") from exc
    if ids_only:
        return payment_ids
    found = Payment.objects.in_bulk(payment_ids)
    return [found[pk] for pk in payment_ids]


def _check_mandates(checked: list[_Checked]) -> None:
    """Each named mandate is active and the paying customer's (read, and locked, in one query)."""
    wanted = sorted({c.mandate_id for c in checked if c.mandate_id is not None})
    if not wanted:
        return
    query = Mandate.objects.filter(pk__in=wanted).order_by("pk")
    if connection.features.has_select_for_update:
        query = query.select_for_update(of=("self",))
    found = {pk: (account, status) for pk, account, status in query.values_list("pk", "account_id", "status")}
    for i, c in enumerate(checked):
        if c.mandate_id is None:
            continue
        account, status = found.get(c.mandate_id, (None, None))
        if account != c.account_id:
            raise errors.InvalidPayment(f"no mandate {c.mandate_id} of customer account {c.account_id}",
                                        code=errors.INVALID_MANDATE, field=f"items[{i}].mandate_id")  # fmt: skip
        if status != MandateStatus.ACTIVE:
            raise errors.InvalidPayment(f"mandate {c.mandate_id} is {status}", code=errors.INVALID_MANDATE,
                                        field=f"items[{i}].mandate_id")  # fmt: skip


def _record(entity_id: int, checked: list[_Checked], bcur: str, who: str, actor: Any) -> list[int]:
    by_method: dict[str, list[str]] = {}
    for c in checked:
        if c.item.external_id:
            by_method.setdefault(c.method.value, []).append(c.item.external_id)
    taken: set[tuple[str, str]] = set()
    for method, external in by_method.items():
        # The partial unique index's condition spelled as the index has it (see bulk._record).
        taken.update(
            _select(
                f"SELECT method, external_id FROM {Payment._meta.db_table} WHERE entity_id = %s "  # noqa: S608
                "AND method = %s AND NOT (external_id = '') AND external_id IN ({})",
                [entity_id, method], external,
            )
        )  # fmt: skip
    for c in checked:
        if (c.method.value, c.item.external_id) in taken:
            raise _duplicate(c.item.external_id)
    invoice_ids = sorted({a.invoice_id for c in checked for a in c.allocs})
    if _needs_single_path(checked, invoice_ids):  # type: ignore[arg-type]
        return [_one(c, actor).pk for c in checked]
    rates: dict[tuple[str, date], Decimal] = {}
    for c in checked:
        if (c.currency, c.day) not in rates:
            rates[(c.currency, c.day)] = common.rate(c.currency, bcur, c.day)
    # Numbers per year, the counter before the invoices (as record_payment takes them).
    by_year: dict[int, list[int]] = {}
    for k, c in enumerate(checked):
        by_year.setdefault(c.day.year, []).append(k)
    numbers: list[str] = [""] * len(checked)
    for year in sorted(by_year):
        block = numbering.take_block(entity_id, PAYMENT_SEQUENCE, len(by_year[year]), year=year)
        for k, seq in zip(by_year[year], block, strict=True):
            numbers[k] = PAYMENT_NUMBER.format(seq, year)
    invoices = settle_bulk.lock_open(invoice_ids)
    if _reopened(invoice_ids):  # a reversal reopened one meanwhile (rare)
        return [_one(c, actor).pk for c in checked]
    now = clock.now()
    created = db_datetime(now)
    bexp = currency_exponent(bcur)
    payment_ids = reserve_ids(Payment, len(checked))
    rate_text = {r: Payment._meta.get_field("rate").get_prep_value(r) for r in set(rates.values())}
    open_left = {pk: (inv.open_minor if inv.status in OPEN else 0) for pk, inv in invoices.items()}
    pay_rows: list[tuple[Any, ...]] = []
    # (payment index, invoice id, pay minor, base, invoice open after)
    planned: list[tuple[int, int, int, int, int]] = []
    to_invoicing: list[tuple[int, int, str, date | None]] = []
    received: list[tuple[int, int, int]] = []  # (amount base, fees base, base applied) per payment
    for k, c in enumerate(checked):
        rate = rates[(c.currency, c.day)]
        exp = currency_exponent(c.currency)
        amount_minor = c.amount.minor_units()
        fee_minor = c.fee.minor_units()
        amount_base = domain.convert_minor(amount_minor, rate, exp, bexp)
        fees_base = domain.convert_minor(fee_minor, rate, exp, bexp)
        applied = applied_base = 0
        allocs = c.allocs
        order = range(len(allocs)) if len(allocs) < 2 else sorted(range(len(allocs)), key=lambda j: allocs[j].invoice_id)  # fmt: skip
        for i in order:
            alloc = allocs[i]
            fld = f"items[{k}].allocations[{i}]"
            invoice = invoices.get(alloc.invoice_id)
            if invoice is None:
                raise invoicing_errors.InvoiceNotFound(
                    f"no invoice {alloc.invoice_id}", field=f"{fld}.invoice_id"
                )
            if invoice.account_id != c.account_id:
                raise errors.InvalidPayment(f"invoice {invoice.number or invoice.id} is another customer's",
                                            code=errors.INVALID_APPLICATION, field=f"{fld}.invoice_id")  # fmt: skip
            if invoice.status in CLOSED:
                raise errors.InvalidPayment(f"invoice {invoice.number or invoice.id} is {invoice.status}: nothing to pay on it",
                                            code=errors.NOT_APPLICABLE, field=f"{fld}.invoice_id")  # fmt: skip
            total_open = open_left[invoice.id]
            remaining = amount_minor - applied
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
                raise errors.PaymentConflict("the payment has nothing left to apply",
                                             code=errors.EXCEEDS_UNAPPLIED, field=f"{fld}.amount")  # fmt: skip
            if pay_minor > remaining:
                raise errors.PaymentConflict(
                    f"{Money.from_minor(pay_minor, c.currency)} is more than the {Money.from_minor(remaining, c.currency)} left on {numbers[k]}",
                    code=errors.EXCEEDS_UNAPPLIED, field=f"{fld}.amount",
                )  # fmt: skip
            if pay_minor > total_open:
                raise errors.PaymentConflict(
                    f"{Money.from_minor(pay_minor, c.currency)} is more than the {Money.from_minor(total_open, c.currency)} open on {invoice.number}",
                    code=errors.OVER_APPLIED, field=f"{fld}.amount",
                )  # fmt: skip
            open_left[invoice.id] = total_open - pay_minor
            base = domain.base_consumed(pay_minor, remaining, amount_base - applied_base, rate, exp, bexp)
            applied += pay_minor
            applied_base += base
            planned.append((k, invoice.id, pay_minor, base, total_open - pay_minor))
            to_invoicing.append((invoice.id, pay_minor, numbers[k], c.day))
        received.append((amount_base, fees_base, applied_base))
        item = c.item
        pay_rows.append(
            (payment_ids[k], entity_id, c.account_id, numbers[k], c.method.value, RECEIVED, c.currency,
             amount_minor, fee_minor, applied, 0, db_date(c.day), bcur, rate_text[rate], amount_base, fees_base,
             applied_base, 0, chart.PAYMENT_CLEARING, item.payer_name, item.payer_iban, item.reference,
             item.external_id, "", "", created, who, c.mandate_id)
        )  # fmt: skip
    with connection.wrap_database_errors:
        write_rows(Payment._meta.db_table, COLUMNS, pay_rows, ready=True)
    done = settle_bulk.apply_locked(invoices, to_invoicing, actor=who)
    app_ids = reserve_ids(Application, len(planned))
    app_rows: list[tuple[Any, ...]] = []
    ar_of: list[int] = []
    for (k, invoice_id, pay_minor, base, _after), app_id, applied_row in zip(
        planned, app_ids, done, strict=True
    ):
        c = checked[k]
        ar_of.append(applied_row.base_minor)
        app_rows.append(
            (app_id, payment_ids[k], entity_id, c.account_id, invoice_id, applied_row.number, c.currency,
             pay_minor, applied_row.currency, applied_row.minor, bcur, base, applied_row.base_minor, 0,
             db_date(c.day), False, created, who)
        )  # fmt: skip
    write_rows(Application._meta.db_table, APPLICATION_COLUMNS, app_rows, ready=True)
    _post(entity_id, checked, numbers, payment_ids, received, planned, ar_of, bcur, who)
    _events(entity_id, checked, numbers, payment_ids, pay_rows, planned, app_rows, ar_of, bcur, who)
    return payment_ids


def _post(
    entity_id: int, checked: list[_Checked], numbers: list[str], payment_ids: list[int],
    received: list[tuple[int, int, int]], planned: list[tuple[int, int, int, int, int]], ar_of: list[int],
    bcur: str, who: str,
) -> None:  # fmt: skip
    """One entry per booking date: each receipt (:func:`q2c.payments.posting.receipt` into payment
    clearing) and each application (:func:`q2c.payments.posting.application`) summed per account."""
    by_day: dict[date, dict[str, int]] = {}
    for k, (amount_base, fees_base, _applied) in enumerate(received):
        posting = by_day.setdefault(checked[k].day, {})
        for key, amount in book.receipt(chart.PAYMENT_CLEARING, amount_base, fees_base).items():
            book.add(posting, key, amount)
    for (k, _inv, _pay, base, _after), ar_base in zip(planned, ar_of, strict=True):
        posting = by_day[checked[k].day]
        for key, amount in book.application(base, ar_base).items():
            book.add(posting, key, amount)
    entries = []
    for day in sorted(by_day):
        on_day = [k for k, c in enumerate(checked) if c.day == day]
        first = on_day[0]
        entries.append((day, f"Card and direct-debit payments {numbers[first]} … received and applied ({len(on_day)})",
                        SourceRef(book.APP, "payment_batch", payment_ids[first]), by_day[day]))  # fmt: skip
    book.post_many(entity_id, entries, bcur, actor=who)


def _events(
    entity_id: int, checked: list[_Checked], numbers: list[str], payment_ids: list[int],
    pay_rows: list[tuple[Any, ...]], planned: list[tuple[int, int, int, int, int]],
    app_rows: list[tuple[Any, ...]], ar_of: list[int], bcur: str, who: str,
) -> None:  # fmt: skip
    """The single path's events, in its order: each payment's receipt, then its applications."""
    apps_of: dict[int, list[int]] = {}
    for n, plan in enumerate(planned):
        apps_of.setdefault(plan[0], []).append(n)
    out: list[DomainEvent] = []
    for k, c in enumerate(checked):
        head = {"payment_id": payment_ids[k], "number": numbers[k], "account_id": c.account_id,
                "method": c.method.value, "amount": Money.from_minor(pay_rows[k][7], c.currency),
                "fees": Money.from_minor(pay_rows[k][8], c.currency)}  # as the model reads them back  # fmt: skip
        out.append(DomainEvent(ev.PAYMENT_RECEIVED, "payments.payment", payment_ids[k],
                               {**head, "date": c.day, "reference": c.item.reference},
                               entity_id=entity_id, actor=who))  # fmt: skip
        for n in apps_of.get(k, ()):
            _k, invoice_id, pay_minor, base, after = planned[n]
            row = app_rows[n]
            icur = row[8]
            out.append(DomainEvent(
                ev.PAYMENT_APPLIED, "payments.payment", payment_ids[k],
                {"payment_id": payment_ids[k], "number": numbers[k], "application_id": row[0],
                 "invoice_id": invoice_id, "invoice_number": row[5], "account_id": c.account_id,
                 "amount": Money.from_minor(pay_minor, c.currency), "invoice_amount": Money.from_minor(row[9], icur),
                 "fx": Money.from_minor(base - ar_of[n], bcur), "invoice_open_after": Money.from_minor(after, icur),
                 "date": c.day},
                entity_id=entity_id, actor=who,
            ))  # fmt: skip
    events.record_many(out)


def _one(c: _Checked, actor: Any) -> Payment:
    return record_payment(
        c.account_id, c.amount, method=c.method, received_on=c.day, fees=c.fee if c.fee.amount else None,
        payer_name=c.item.payer_name, payer_iban=c.item.payer_iban, reference=c.item.reference,
        external_id=c.item.external_id, allocations=c.allocs, mandate_id=c.mandate_id, actor=actor,
    )  # fmt: skip
