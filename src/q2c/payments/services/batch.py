"""The writer both batch paths share: bank money (:mod:`q2c.payments.services.bulk`) and card and
direct-debit money (:mod:`q2c.payments.services.gateway_bulk`) recorded and applied at once.

:func:`record` gives the same payments, applications, invoice states and ledger balances as
:func:`q2c.payments.services.record_payment` called item by item (same rules, same error codes,
fields prefixed with the item: ``items[3].allocations[0].amount``), with a constant number of
statements per batch: one existence check of the external ids (through the partial unique index),
one read of the accounts and of the invoices, one block of payment numbers per year
(``numbering.take_block``), bulk inserts of payments and applications, the invoices updated
through :func:`q2c.invoicing.services.settle_bulk.apply_locked` (locked in one query in id
order), ONE balanced ledger entry per booking date of the batch (receipts, applications, fees and
FX summed per account: the balances equal those of one entry per receipt and application), and
the batch's events. All or nothing.

What differs between the paths is a :class:`Kind`: the item class and the methods it takes, the
account the money is held in (bank, or payment clearing until the gateway settles it), the
entries' description, a mandate per item or none, the events, and checks of its own.

A batch touching an amount a reversal reopened, or paying an invoice in another currency than
its own, goes through the per-item path inside the same transaction (same results, slower).

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing import errors as invoicing_errors
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import Invoice
from q2c.invoicing.services import settle_bulk
from q2c.invoicing.services.common import db_date, db_datetime, reserve_ids, write_rows
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
from q2c.platform import numbering

CLOSED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE)
OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
RECEIVED = PaymentStatus.RECEIVED.value

PAYMENT_COLUMNS = (
    "id", "entity_id", "account_id", "number", "method", "status", "currency", "amount_minor", "fees_minor",
    "applied_minor", "refunded_minor", "received_on", "base_currency", "rate", "amount_base_minor",
    "fees_base_minor", "applied_base_minor", "refunded_base_minor", "deposit", "payer_name", "payer_iban",
    "reference", "external_id", "failure_code", "failure_reason", "created_at", "created_by",
)  # fmt: skip
APPLICATION_COLUMNS = (
    "id", "payment_id", "entity_id", "account_id", "invoice_id", "invoice_number", "currency", "amount_minor",
    "invoice_currency", "invoice_amount_minor", "base_currency", "base_minor", "ar_base_minor",
    "reopened_part_minor", "applied_on", "reversed", "created_at", "created_by",
)  # fmt: skip


class MinorAlloc(NamedTuple):
    invoice_id: int
    amount: int | None  # minor units of the payment's currency


@dataclass(slots=True)
class Checked:
    """An item as checked: its amounts in minor units of its currency."""

    item: Any
    account_id: int
    currency: str
    amount_minor: int
    fee_minor: int
    method: Method
    day: date
    allocs: list[Any]  # Allocation (amount Money | None, checked when applied) or MinorAlloc
    mandate_id: int | None = None


DefaultDay = Callable[[], date]
# An application planned: (payment index, invoice id, pay minor, base, invoice open after).
Plan = tuple[int, int, int, int, int]


class Written(NamedTuple):
    """What a batch wrote, for its events."""

    entity_id: int
    checked: list[Checked]
    payment_ids: list[int]
    numbers: list[str]
    pay_rows: list[tuple[Any, ...]]  # PAYMENT_COLUMNS (then the mandate id, where the kind has one)
    planned: list[Plan]
    app_rows: list[tuple[Any, ...]]  # APPLICATION_COLUMNS
    bcur: str
    who: str


@dataclass(frozen=True)
class Kind:
    """One batch path: what it takes, where its money is held, what it records beyond the rows."""

    item: type[Any]  # the item with Money amounts
    items: tuple[type[Any], ...]  # every item class a batch of this kind takes
    methods: tuple[Method, ...]
    wrong_method: str  # the error for an item of another method
    deposit: str  # the ledger account key the money is held in (payments.deposit)
    label: str  # the journal entries' description: "{label} PAY-… … received and applied (n)"
    events: Callable[[Written], None]
    # An item's mandate, checked (after its texts, before its date): (prefix, item, method,
    # currency) -> mandate id or None. A kind with one writes payments.mandate_id.
    mandate: Callable[[str, Any, Method, str], int | None] | None = None
    # Every item checked, in order (default: :func:`check` each).
    checks: Callable[[Sequence[Any], int, dict[int, int], DefaultDay], list[Checked]] | None = None
    # Inside the transaction, before anything is read for the writes or written.
    verify: Callable[[list[Checked]], None] | None = None


def record(
    entity_id: int, items: Sequence[Any], kind: Kind, *, actor: Any, ids_only: bool
) -> list[Payment] | list[int]:
    """Record and apply a batch of ``kind`` of one entity; returns the payments in item order
    (``ids_only``: their ids, without reading them back)."""
    who = common.actor_name(actor)
    if not items:
        return []
    ids = {it.account_id for it in items if isinstance(it, kind.items) and isinstance(it.account_id, int)}
    accounts: dict[int, int] = dict(
        _select(f"SELECT id, entity_id FROM {Account._meta.db_table} WHERE id IN ({{}})", [], sorted(ids))  # noqa: S608
    )  # type: ignore[arg-type]
    today: list[date] = []

    def default_day() -> date:
        if not today:
            today.append(common.today(entity_id))
        return today[0]

    if kind.checks is None:
        checked = [check(i, it, entity_id, accounts, default_day, kind) for i, it in enumerate(items)]
    else:
        checked = kind.checks(items, entity_id, accounts, default_day)
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
            if kind.verify is not None:
                kind.verify(checked)
            payment_ids = _write(entity_id, checked, kind, bcur, who, actor)
    except IntegrityError as exc:
        raise _duplicate("of this batch") from exc
    if ids_only:
        return payment_ids
    found = Payment.objects.in_bulk(payment_ids)
    return [found[pk] for pk in payment_ids]


def check(
    i: int, item: Any, entity_id: int, accounts: dict[int, int], default_day: DefaultDay, kind: Kind
) -> Checked:
    """An item with ``Money`` amounts, checked as :func:`record_payment` checks its arguments."""
    p = f"items[{i}]."
    if not isinstance(item, kind.item):
        raise errors.InvalidPayment(f"an item is a {kind.item.__name__}", field=f"items[{i}]")
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
    if method not in kind.methods:
        raise errors.InvalidPayment(kind.wrong_method, field=p + "method")
    for name, text, limit in (("payer_name", item.payer_name, 140), ("reference", item.reference, 140),
                              ("external_id", item.external_id, 80), ("payer_iban", item.payer_iban, 34)):  # fmt: skip
        if not isinstance(text, str) or len(text) > limit:
            raise errors.InvalidPayment(f"{name} is text of at most {limit} characters", field=p + name)
    mandate_id = None if kind.mandate is None else kind.mandate(p, item, method, currency)
    day = item.received_on or default_day()
    if not isinstance(day, date):
        raise errors.InvalidPayment("received_on must be a date", field=p + "received_on")
    try:
        allocs = _allocations(item.allocations)
    except errors.InvalidPayment as exc:
        raise errors.InvalidPayment(
            exc.message, code=exc.code, field=p + str(exc.field or "allocations")
        ) from None
    amount_minor, fee_minor = amount.minor_units(), fee.minor_units()
    return Checked(item, item.account_id, currency, amount_minor, fee_minor, method, day, allocs, mandate_id)


def _duplicate(external_id: str) -> errors.PaymentConflict:
    return errors.PaymentConflict(
        f"a payment with the id {external_id} was already recorded",
        code=errors.DUPLICATE,
        field="external_id",
    )


def _write(entity_id: int, checked: list[Checked], kind: Kind, bcur: str, who: str, actor: Any) -> list[int]:
    by_method: dict[str, list[str]] = {}
    for c in checked:
        if c.item.external_id:
            by_method.setdefault(c.method.value, []).append(c.item.external_id)
    if by_method:
        # Through the partial unique index (entity, method, external id): its condition spelled
        # as the index has it, so SQLite reads the index instead of all the entity's payments.
        taken: set[tuple[str, str]] = set()
        for method, external in by_method.items():
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
    if _needs_single_path(checked, invoice_ids):
        return [_one(c, actor).pk for c in checked]
    # Rates per (currency, day), numbers per year — the counter before the invoices, as
    # record_payment takes them, so a batch and a single payment never wait on each other crosswise.
    rates: dict[tuple[str, date], Decimal] = {}
    for c in checked:
        if (c.currency, c.day) not in rates:
            rates[(c.currency, c.day)] = common.rate(c.currency, bcur, c.day)
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
    deposit = kind.deposit
    mandates = kind.mandate is not None
    # The applications, item by item as the single path does them (allocations in invoice id
    # order), against the open amounts the batch's earlier items leave. Plain values only: a bank
    # run writes ~100,000 payments.
    open_left = {pk: (inv.open_minor if inv.status in OPEN else 0) for pk, inv in invoices.items()}
    pay_rows: list[tuple[Any, ...]] = []
    planned: list[Plan] = []
    to_invoicing: list[tuple[int, int, str, date | None]] = []
    # The ledger, per booking date: receipts and applications summed per account (as posting
    # each and adding them up: see q2c.payments.posting.receipt and .application).
    sums: dict[date, list[int]] = {}  # [amount_base, fees_base, base applied, ar_base, fx gains, fx losses]
    for k, c in enumerate(checked):
        rate = rates[(c.currency, c.day)]
        exp = currency_exponent(c.currency)
        amount_minor = c.amount_minor
        fee_minor = c.fee_minor
        amount_base = domain.convert_minor(amount_minor, rate, exp, bexp)
        fees_base = domain.convert_minor(fee_minor, rate, exp, bexp)
        applied = applied_base = 0
        day_sums = sums.get(c.day)
        if day_sums is None:
            day_sums = sums[c.day] = [0, 0, 0, 0, 0, 0]
        day_sums[0] += amount_base
        day_sums[1] += fees_base
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
            if type(alloc) is MinorAlloc and alloc.amount is not None:
                pay_minor = alloc.amount
            elif alloc.amount is None:
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
        item = c.item
        row = (payment_ids[k], entity_id, c.account_id, numbers[k], c.method.value, RECEIVED, c.currency,
               amount_minor, fee_minor, applied, 0, db_date(c.day), bcur, rate_text[rate], amount_base, fees_base,
               applied_base, 0, deposit, item.payer_name, item.payer_iban, item.reference, item.external_id,
               "", "", created, who)  # fmt: skip
        pay_rows.append((*row, c.mandate_id) if mandates else row)
    with connection.wrap_database_errors:
        write_rows(
            Payment._meta.db_table, (*PAYMENT_COLUMNS, "mandate_id") if mandates else PAYMENT_COLUMNS, pay_rows,
            ready=True,
        )  # fmt: skip
    done = settle_bulk.apply_locked(invoices, to_invoicing, actor=who)
    app_ids = reserve_ids(Application, len(planned))
    app_rows: list[tuple[Any, ...]] = []
    for (k, invoice_id, pay_minor, base, _), app_id, applied_row in zip(planned, app_ids, done, strict=True):
        c = checked[k]
        day_sums = sums[c.day]
        ar_base = applied_row.base_minor
        day_sums[2] += base
        day_sums[3] += ar_base
        fx = base - ar_base
        if fx > 0:
            day_sums[4] += fx
        elif fx < 0:
            day_sums[5] += fx
        app_rows.append(
            (app_id, payment_ids[k], entity_id, c.account_id, invoice_id, applied_row.number, c.currency,
             pay_minor, applied_row.currency, applied_row.minor, bcur, base, ar_base, 0, db_date(c.day), False,
             created, who)
        )  # fmt: skip
    write_rows(Application._meta.db_table, APPLICATION_COLUMNS, app_rows, ready=True)
    entries = []
    for day in sorted(sums):
        amount_base, fees_base, base, ar_base, gains, losses = sums[day]
        posting: dict[str, int] = {}
        book.add(posting, deposit, amount_base - fees_base)
        book.add(posting, chart.BANK_FEES, fees_base)
        book.add(posting, chart.CUSTOMER_CREDITS, base - amount_base)
        book.add(posting, chart.AR, -ar_base)
        book.add(posting, chart.FX_GAINS, -gains)
        book.add(posting, chart.FX_LOSSES, -losses)
        on_day = [k for k, c in enumerate(checked) if c.day == day]
        first = on_day[0]
        entries.append((day, f"{kind.label} {numbers[first]} … received and applied ({len(on_day)})",
                        SourceRef(book.APP, "payment_batch", payment_ids[first]), posting))  # fmt: skip
    book.post_many(entity_id, entries, bcur, actor=who)
    kind.events(Written(entity_id, checked, payment_ids, numbers, pay_rows, planned, app_rows, bcur, who))
    return payment_ids


def _select(sql: str, params: list[Any], ids: Sequence[Any], *, size: int = 900) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` whose ``IN ({})`` takes ``ids``, in chunks (SQLite's parameter limit); raw,
    as Django prepares every value of an ``__in`` lookup one by one. Identifiers are constants."""
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for i in range(0, len(ids), size):
            chunk = list(ids[i : i + size])
            cursor.execute(sql.format(", ".join(["%s"] * len(chunk))), [*params, *chunk])
            out.extend(cursor.fetchall())
    return out


def _reopened(invoice_ids: list[int]) -> bool:
    table = Reopened._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE amount_minor > 0 LIMIT 1")  # noqa: S608
        if cursor.fetchone() is None:  # nothing reopened anywhere: the usual case
            return False
    sql = f"SELECT 1 FROM {table} WHERE amount_minor > 0 AND invoice_id IN ({{}})"  # noqa: S608
    return bool(_select(sql, [], invoice_ids))


def _needs_single_path(checked: list[Checked], invoice_ids: list[int]) -> bool:
    """An amount a reversal reopened, or an invoice in another currency than its payment."""
    if _reopened(invoice_ids):
        return True
    by_currency: dict[str, set[int]] = {}
    for c in checked:
        by_currency.setdefault(c.currency, set()).update(a.invoice_id for a in c.allocs)
    table = Invoice._meta.db_table
    return any(
        _select(f"SELECT 1 FROM {table} WHERE currency <> %s AND id IN ({{}})", [currency], sorted(ids))  # noqa: S608
        for currency, ids in by_currency.items()
    )


def _one(c: Checked, actor: Any) -> Payment:
    cur = c.currency
    allocations = [
        Allocation(a.invoice_id, None if a.amount is None else Money.from_minor(a.amount, cur))
        if type(a) is MinorAlloc else a
        for a in c.allocs
    ]  # fmt: skip
    fees = Money.from_minor(c.fee_minor, cur) if c.fee_minor else None
    return record_payment(
        c.account_id, Money.from_minor(c.amount_minor, cur), method=c.method, received_on=c.day, fees=fees,
        payer_name=c.item.payer_name, payer_iban=c.item.payer_iban, reference=c.item.reference,
        external_id=c.item.external_id, allocations=allocations, mandate_id=c.mandate_id, actor=actor,
    )  # fmt: skip
