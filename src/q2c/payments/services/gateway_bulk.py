"""Recording a batch of card and direct-debit payments and applying them at once — a day's
gateway money (card charges the gateway captured, SEPA direct debits collected).

:func:`record_gateway_payments_many` gives the same payments, applications, invoice states and
ledger balances as :func:`q2c.payments.services.record_payment` called item by item with
``method="card"`` or ``"sepa_dd"`` (same rules, same error codes, fields prefixed with the item:
``items[3].allocations[0].amount``), with a constant number of statements per batch, through the
writer of :mod:`q2c.payments.services.batch` (shared with bank batches: what it reads, locks and
writes, and the per-item fallback, are told there). What is the gateway's own is here: the money
is held in *payment clearing* until the gateway or the bank settles it
(:func:`q2c.payments.services.settle_payment`), the fees the gateway kept are booked to bank
fees, and a direct debit's mandate must be an active mandate of the paying customer, in euros
(the mandates read, and locked, in one query).

Events: the same ``payments.payment.received`` (one per payment) and ``payments.payment.applied``
(one per application) as the single path, with the same payloads, in one insert, so their
subscribers (dunning's retry bookkeeping) run per payment as before; on the invoicing side one
``invoicing.invoices.payments_applied`` per batch instead of one ``invoicing.invoice.payment_applied``
per invoice (the event bank runs record; analytics reads both). All or nothing.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, overload

from django.db import connection

from q2c.core.money import Money
from q2c.ledger import chart
from q2c.payments import errors
from q2c.payments import events as ev
from q2c.payments.domain import MandateStatus, Method
from q2c.payments.models import Mandate, Payment
from q2c.payments.services import batch
from q2c.payments.services.batch import Checked
from q2c.platform import events
from q2c.platform.events import DomainEvent

GATEWAY_METHODS = (Method.CARD, Method.SEPA_DD)


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


def _mandate(p: str, item: GatewayPaymentItem, method: Method, currency: str) -> int | None:
    """The item's mandate, if it names one: a direct debit's, in euros (whose it is, and that it
    is active, :func:`_check_mandates` checks when it locks them)."""
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
    return mandate_id


def _check_mandates(checked: list[Checked]) -> None:
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


def _events(w: batch.Written) -> None:
    """The single path's events, in its order: each payment's receipt, then its applications."""
    apps_of: dict[int, list[int]] = {}
    for n, plan in enumerate(w.planned):
        apps_of.setdefault(plan[0], []).append(n)
    out: list[DomainEvent] = []
    for k, c in enumerate(w.checked):
        payment_id, number, pay_row = w.payment_ids[k], w.numbers[k], w.pay_rows[k]
        head = {"payment_id": payment_id, "number": number, "account_id": c.account_id,
                "method": c.method.value, "amount": Money.from_minor(pay_row[7], c.currency),
                "fees": Money.from_minor(pay_row[8], c.currency)}  # as the model reads them back  # fmt: skip
        out.append(DomainEvent(ev.PAYMENT_RECEIVED, "payments.payment", payment_id,
                               {**head, "date": c.day, "reference": c.item.reference},
                               entity_id=w.entity_id, actor=w.who))  # fmt: skip
        for n in apps_of.get(k, ()):
            _k, invoice_id, pay_minor, base, after = w.planned[n]
            row = w.app_rows[n]
            icur = row[8]
            out.append(DomainEvent(
                ev.PAYMENT_APPLIED, "payments.payment", payment_id,
                {"payment_id": payment_id, "number": number, "application_id": row[0],
                 "invoice_id": invoice_id, "invoice_number": row[5], "account_id": c.account_id,
                 "amount": Money.from_minor(pay_minor, c.currency), "invoice_amount": Money.from_minor(row[9], icur),
                 "fx": Money.from_minor(base - row[12], w.bcur), "invoice_open_after": Money.from_minor(after, icur),
                 "date": c.day},
                entity_id=w.entity_id, actor=w.who,
            ))  # fmt: skip
    events.record_many(out)


GATEWAY = batch.Kind(
    item=GatewayPaymentItem,
    items=(GatewayPaymentItem,),
    methods=GATEWAY_METHODS,
    wrong_method="this batch records card and direct-debit payments (bank money: record_payments_many)",
    deposit=chart.PAYMENT_CLEARING,
    label="Card and direct-debit payments",
    events=_events,
    mandate=_mandate,
    verify=_check_mandates,
)


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
    return batch.record(entity_id, items, GATEWAY, actor=actor, ids_only=ids_only)
