"""Recording a batch of received payments and applying them at once — bank-statement runs.

:func:`record_payments_many` gives the same payments, applications, invoice states and ledger
balances as :func:`q2c.payments.services.record_payment` called item by item (same rules, same
error codes, fields prefixed with the item: ``items[3].allocations[0].amount``), with a constant
number of statements per batch, through the writer of :mod:`q2c.payments.services.batch`
(shared with card and direct-debit batches: what it reads, locks and writes, and the per-item
fallback, are told there). What is the bank's own is here: the items (also in minor units,
:class:`MinorPayment`, checked on plain integers — a matching run's hot path), the money held in
the bank, and one ``payments.payments.recorded`` event per batch. All or nothing.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, overload

from q2c.core.errors import DomainError
from q2c.core.money import Money, currency_exponent
from q2c.ledger import chart
from q2c.payments import errors
from q2c.payments.domain import Method
from q2c.payments.models import Payment
from q2c.payments.services import batch
from q2c.payments.services.batch import Checked, MinorAlloc
from q2c.platform import events
from q2c.platform.events import DomainEvent

PAYMENTS_RECORDED = "payments.payments.recorded"


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


@dataclass(frozen=True, slots=True)
class MinorPayment:
    """One received bank payment in minor units of its currency — :class:`PaymentItem`'s form
    for callers that hold plain amounts already (a matching run): no ``Money`` built per item.
    ``allocations``: (invoice id, minor units of the payment's currency, or None: as much as is
    open), in the order given."""

    account_id: int
    currency: str
    amount_minor: int
    fee_minor: int = 0
    received_on: date | None = None
    payer_name: str = ""
    payer_iban: str = ""
    reference: str = ""
    external_id: str = ""
    allocations: Sequence[tuple[int, int | None]] = ()


_TEXTS = (("payer_name", 140), ("reference", 140), ("external_id", 80), ("payer_iban", 34))
# Money's limit: 15 integer digits (q2c.core.money.MAX_INTEGER_DIGITS); minor units of any currency
# stay below 10**18.
_MAX_MINOR = 10**18


def _check_minor(
    i: int, item: MinorPayment, entity_id: int, accounts: dict[int, int], default_day: batch.DefaultDay
) -> Checked:
    """:func:`batch.check` for a :class:`MinorPayment`: the same rules on plain integers."""
    p = f"items[{i}]."
    if type(item) is not MinorPayment:
        raise errors.InvalidPayment("an item is a MinorPayment", field=f"items[{i}]")
    account_id = item.account_id
    if (accounts.get(account_id) if type(account_id) is int else None) != entity_id:
        raise errors.InvalidPayment(f"no customer account {account_id}", field=p + "account_id")
    currency = item.currency
    try:
        currency_exponent(currency)
    except DomainError as exc:
        raise errors.InvalidPayment(exc.message, field=p + "amount") from None
    amount, fee = item.amount_minor, item.fee_minor
    if type(amount) is not int or not 0 < amount < _MAX_MINOR:
        raise errors.InvalidPayment(
            "amount must be a whole number of minor units, more than zero", field=p + "amount"
        )
    if type(fee) is not int or fee < 0:
        raise errors.InvalidPayment(
            "fees must be a whole number of minor units, not negative", field=p + "fees"
        )
    if fee >= amount:
        raise errors.InvalidPayment("fees must be less than the amount", field=p + "fees")
    for name, limit in _TEXTS:
        text = getattr(item, name)
        if type(text) is not str or len(text) > limit:
            raise errors.InvalidPayment(f"{name} is text of at most {limit} characters", field=p + name)
    day = item.received_on or default_day()
    if not isinstance(day, date):
        raise errors.InvalidPayment("received_on must be a date", field=p + "received_on")
    allocs = []
    for j, (invoice_id, minor) in enumerate(item.allocations):
        if type(invoice_id) is not int:
            raise errors.InvalidPayment(f"no invoice {invoice_id}", code=errors.INVALID_APPLICATION,
                                        field=f"{p}allocations[{j}].invoice_id")  # fmt: skip
        if minor is not None and (type(minor) is not int or minor <= 0):
            raise errors.InvalidPayment("amount must be more than zero", field=f"{p}allocations[{j}].amount")
        allocs.append(MinorAlloc(invoice_id, minor))
    if len(allocs) > 1 and len({a.invoice_id for a in allocs}) != len(allocs):
        raise errors.InvalidPayment(
            "an invoice appears twice", code=errors.INVALID_APPLICATION, field=p + "allocations"
        )
    return Checked(item, account_id, currency, amount, fee, Method.BANK_TRANSFER, day, allocs)


def _checks(
    items: Sequence[Any], entity_id: int, accounts: dict[int, int], default_day: batch.DefaultDay
) -> list[Checked]:
    return [
        _check_minor(i, it, entity_id, accounts, default_day)
        if type(it) is MinorPayment
        else batch.check(i, it, entity_id, accounts, default_day, BANK)
        for i, it in enumerate(items)
    ]


def _events(w: batch.Written) -> None:
    """One event for the batch: its payments and applications."""
    events.record(
        DomainEvent(
            PAYMENTS_RECORDED, "payments.payment", w.payment_ids[0],
            {"count": len(w.checked),
             "payments": [{"payment_id": r[0], "number": r[3], "account_id": r[2], "external_id": r[22],
                           "amount_minor": r[7], "currency": r[6], "date": c.day}
                          for r, c in zip(w.pay_rows, w.checked, strict=True)],
             "applications": [{"application_id": r[0], "payment_id": r[1], "invoice_id": r[4],
                               "amount_minor": r[7], "date": w.checked[p[0]].day}
                              for r, p in zip(w.app_rows, w.planned, strict=True)]},
            entity_id=w.entity_id, actor=w.who,
        )
    )  # fmt: skip


BANK = batch.Kind(
    item=PaymentItem,
    items=(PaymentItem, MinorPayment),
    methods=tuple(m for m in Method if m not in (Method.CARD, Method.SEPA_DD)),
    wrong_method="a batch records money received in the bank",
    deposit=chart.BANK,
    label="Payments",
    events=_events,
    checks=_checks,
)


@overload
def record_payments_many(
    entity_id: int,
    items: Sequence[PaymentItem | MinorPayment],
    *,
    actor: Any = None,
    ids_only: Literal[False] = False,
) -> list[Payment]: ...
@overload
def record_payments_many(
    entity_id: int, items: Sequence[PaymentItem | MinorPayment], *, actor: Any = None, ids_only: Literal[True]
) -> list[int]: ...
def record_payments_many(
    entity_id: int, items: Sequence[PaymentItem | MinorPayment], *, actor: Any = None, ids_only: bool = False
) -> list[Payment] | list[int]:
    """Record and apply a batch of received payments of one entity; returns them in item order
    (``ids_only``: their ids, without reading them back — a bank run's hot path). Items are
    :class:`PaymentItem` (``Money`` amounts) or :class:`MinorPayment` (the same in minor units).

    Errors (nothing is written): those of :func:`record_payment` and of its application, the field
    naming the item — ``payments.invalid_payment``, ``payments.duplicate`` (409, also for an
    external id twice in the batch), ``payments.invalid_application``,
    ``payments.invoice_not_open``, ``payments.over_applied`` (409: more than an invoice's open
    balance, counting the batch's earlier items), ``payments.exceeds_unapplied``,
    ``invoicing.rate_missing``.
    """
    return batch.record(entity_id, items, BANK, actor=actor, ids_only=ids_only)
