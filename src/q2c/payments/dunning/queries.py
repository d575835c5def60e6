"""The read side of dunning and collections: the collector's worklist, an account's collection
file (overdue invoices, the dunning log, promises, notes), policies, runs and payment retries.

The worklist ranks overdue accounts by **amount × age**: the score of an account is the sum over
its overdue invoices of the open amount in the seller's currency times the days overdue
(``Σ open × days``, money-days), so 1,000.00 overdue for 60 days (60,000) comes before 3,000.00
overdue for 10 days (30,000); ties go to the older debt, then to the name. ``order="amount"`` or
``order="age"`` sort by the overdue total or the oldest due date instead.

Bulk reads only: one query per table, whatever the number of accounts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from q2c.core.money import Money
from q2c.parties.models import Account
from q2c.payments.dunning import errors, receivables
from q2c.payments.dunning.models import (
    CollectionNote,
    DunningEntry,
    DunningPolicy,
    DunningRun,
    DunningStep,
    PaymentRetry,
    PromiseToPay,
)

ORDERS = ("score", "amount", "age")


@dataclass
class WorklistRow:
    account_id: int
    account_name: str
    entity_id: int
    base_currency: str
    overdue: Money  # in the seller's currency
    by_currency: dict[str, Money]
    invoices: int
    disputed: int
    oldest_due: date
    days_overdue: int
    score: Decimal  # Σ open (seller's currency) × days overdue
    last_step: str = ""
    last_step_on: date | None = None
    promise_date: date | None = None
    promise_amount: Money | None = None
    next_action: str = ""
    next_action_on: date | None = None
    invoice_ids: list[int] = field(default_factory=list)


def worklist(
    on: date, *, entity_id: int | None = None, order: str = "score", limit: int = 500
) -> list[WorklistRow]:
    """Accounts with invoices overdue on ``on`` (due before it), ranked (see the module docstring)."""
    if order not in ORDERS:
        raise errors.DunningInvalid(
            f"order by one of {', '.join(ORDERS)}", code=errors.INVALID_DATE, field="order"
        )
    items = [i for i in receivables.overdue(on, entity_id=entity_id) if i.due_date < on]
    rows: dict[int, WorklistRow] = {}
    for i in items:
        days = (on - i.due_date).days
        row = rows.get(i.account_id)
        if row is None:
            row = rows[i.account_id] = WorklistRow(
                i.account_id, "", i.entity_id, i.base_currency, Money.zero(i.base_currency), {}, 0, 0,
                i.due_date, days, Decimal(0),
            )  # fmt: skip
        base = Money.from_minor(i.open_base_minor, i.base_currency)
        if base.currency == row.base_currency:
            row.overdue += base
            row.score += base.amount * days
        row.by_currency[i.currency] = row.by_currency.get(
            i.currency, Money.zero(i.currency)
        ) + Money.from_minor(i.open_minor, i.currency)
        row.invoices += 1
        row.disputed += i.disputed
        row.invoice_ids.append(i.invoice_id)
        if i.due_date < row.oldest_due:
            row.oldest_due, row.days_overdue = i.due_date, days
    ids = set(rows)
    for pk, name in Account.objects.filter(pk__in=ids).values_list("pk", "name"):
        rows[pk].account_name = name
    for e in (
        DunningEntry.objects.filter(account_id__in=ids, status=DunningEntry.Status.DONE)
        .order_by("account_id", "-business_date", "-id")
        .values("account_id", "step_key", "business_date")
    ):
        row = rows[e["account_id"]]
        if row.last_step_on is None:
            row.last_step, row.last_step_on = e["step_key"], e["business_date"]
    for p in PromiseToPay.objects.filter(account_id__in=ids, status=PromiseToPay.Status.OPEN).order_by(
        "promised_date"
    ):
        row = rows[p.account_id]
        if row.promise_date is None:
            row.promise_date, row.promise_amount = p.promised_date, p.amount
    for n in (
        CollectionNote.objects.filter(account_id__in=ids)
        .exclude(next_action="")
        .order_by("account_id", "-created_at", "-id")
    ):
        row = rows[n.account_id]
        if not row.next_action:
            row.next_action, row.next_action_on = n.next_action, n.next_action_on
    if order == "amount":
        key: Any = lambda r: (-r.overdue.amount, r.oldest_due, r.account_name, r.account_id)  # noqa: E731
    elif order == "age":
        key = lambda r: (r.oldest_due, -r.overdue.amount, r.account_name, r.account_id)  # noqa: E731
    else:
        key = lambda r: (-r.score, r.oldest_due, r.account_name, r.account_id)  # noqa: E731
    return sorted(rows.values(), key=key)[:limit]


def entries(*, account_id: int | None = None, invoice_id: int | None = None) -> QuerySet[DunningEntry]:
    """The dunning log, newest first."""
    qs = DunningEntry.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if invoice_id is not None:
        qs = qs.filter(invoice_id=invoice_id)
    return qs.order_by("-business_date", "-id")


def entry(entry_id: int) -> DunningEntry:
    found = DunningEntry.objects.filter(pk=entry_id).first()
    if found is None:
        raise errors.DunningNotFound(f"no dunning log entry {entry_id}", field="entry_id")
    return found


def promises(*, account_id: int | None = None, status: str = "") -> QuerySet[PromiseToPay]:
    qs = PromiseToPay.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-recorded_on", "-id")


def notes(account_id: int) -> QuerySet[CollectionNote]:
    return CollectionNote.objects.filter(account_id=account_id).order_by("-created_at", "-id")


def account(account_id: int) -> Account:
    found = Account.objects.filter(pk=account_id).first()
    if found is None:
        raise errors.DunningNotFound(f"no customer account {account_id}", field="account_id")
    return found


def overdue_invoices(account_id: int, on: date) -> list[receivables.OpenInvoice]:
    return [i for i in receivables.overdue(on, account_id=account_id) if i.due_date < on]


def policies(entity_id: int | None = None) -> list[tuple[DunningPolicy, list[DunningStep]]]:
    qs = DunningPolicy.objects.all().order_by("entity_id", "segment")
    if entity_id is not None:
        qs = qs.filter(entity_id=entity_id)
    rows = list(qs)
    steps: dict[int, list[DunningStep]] = defaultdict(list)
    for s in DunningStep.objects.filter(policy__in=rows).order_by("policy_id", "position"):
        steps[s.policy_id].append(s)
    return [(p, steps.get(p.pk, [])) for p in rows]


def policy(policy_id: int) -> tuple[DunningPolicy, list[DunningStep]]:
    found = DunningPolicy.objects.filter(pk=policy_id).first()
    if found is None:
        raise errors.DunningNotFound(f"no dunning policy {policy_id}", field="policy_id")
    return found, list(DunningStep.objects.filter(policy=found).order_by("position"))


def runs() -> QuerySet[DunningRun]:
    return DunningRun.objects.order_by("-business_date")


def retries(*, account_id: int | None = None, status: str = "") -> QuerySet[PaymentRetry]:
    qs = PaymentRetry.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("due_on", "id")


def portal_reminders(account_id: int) -> list[DunningEntry]:
    """The reminders a customer was sent for invoices still open (for the customer portal)."""
    open_ids = {i.invoice_id for i in receivables.overdue(date.max, account_id=account_id)}
    return [
        e
        for e in DunningEntry.objects.filter(account_id=account_id, status=DunningEntry.Status.DONE).order_by(
            "-business_date", "-id"
        )
        if e.invoice_id in open_ids
    ]


def retry_rules(entity_id: int | None = None) -> QuerySet[Any]:
    from q2c.payments.dunning.models import RetryRule

    qs = RetryRule.objects.all()
    if entity_id is not None:
        qs = qs.filter(entity_id=entity_id)
    return qs.order_by("entity_id", "segment", "method", "reason", "id")
