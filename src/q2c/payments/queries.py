"""The read side of payments: open receivables (per account, invoice or entity) with their due
dates, aging and dispute flags; payments and their applications; customer credit; aging totals.

Open amount of an invoice = what the invoicing app leaves open (total − paid − credited − written
off, for issued and partially paid invoices) + what a reversal reopened here. Reads in bulk: one
query per table, whatever the number of invoices.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from q2c.core import clock
from q2c.core.money import Money
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import Invoice
from q2c.payments.domain import BUCKETS, DisputeStatus, PaymentStatus, bucket
from q2c.payments.models import Application, Dispute, Payment, Reopened


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One open invoice as payments sees it."""

    invoice_id: int
    number: str
    entity_id: int
    account_id: int
    currency: str
    total: Money
    open: Money
    issue_date: date | None
    due_date: date | None
    days_overdue: int
    bucket: str
    disputed: bool
    reopened: Money


def open_receivables(
    *,
    account_id: int | None = None,
    invoice_id: int | None = None,
    entity_id: int | None = None,
    currency: str | None = None,
    on: date | None = None,
    due_by: date | None = None,
) -> list[OpenItem]:
    """Open invoices (oldest due first), each with its open amount, due date, days overdue and
    aging bucket as of ``on`` (default: today) and whether a dispute on it is open; with
    ``due_by``, only those due on or before that date (selected by the database)."""
    day = on or clock.today()
    reopened_q = Reopened.objects.filter(amount_minor__gt=0)
    query: QuerySet[Invoice] = Invoice.objects.all()
    if account_id is not None:
        query = query.filter(account_id=account_id)
        reopened_q = reopened_q.filter(account_id=account_id)
    if invoice_id is not None:
        query = query.filter(pk=invoice_id)
        reopened_q = reopened_q.filter(invoice_id=invoice_id)
    if entity_id is not None:
        query = query.filter(entity_id=entity_id)
        reopened_q = reopened_q.filter(entity_id=entity_id)
    if currency:
        query = query.filter(currency=currency)
    if due_by is not None:
        query = query.filter(due_date__lte=due_by)
    reopened = dict(reopened_q.values_list("invoice_id", "amount_minor"))
    query = query.filter(Q(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]) | Q(pk__in=list(reopened)))
    rows = list(
        query.order_by("due_date", "id").values_list(
            "id", "number", "entity_id", "account_id", "currency", "status", "issue_date", "due_date",
            "total_minor", "paid_minor", "credited_minor", "written_off_minor",
        )
    )  # fmt: skip
    ids = [r[0] for r in rows]
    disputed = set(
        Dispute.objects.filter(invoice_id__in=ids, status=DisputeStatus.OPEN).values_list("invoice_id", flat=True)
    ) if ids else set()  # fmt: skip
    out = []
    for pk, number, ent, acc, cur, status, issued, due, total, paid, credited, written in rows:
        base_open = total - paid - credited - written if status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID) else 0
        extra = int(reopened.get(pk, 0))
        amount = base_open + extra
        if amount <= 0:
            continue
        late = max(0, (day - due).days) if due else 0
        out.append(
            OpenItem(pk, number, ent, acc, cur, Money.from_minor(total, cur), Money.from_minor(amount, cur), issued, due,
                     late, bucket(due, day), pk in disputed, Money.from_minor(extra, cur))
        )  # fmt: skip
    return out


def open_receivable(invoice_id: int, *, on: date | None = None) -> OpenItem | None:
    """One invoice's open item, or None when nothing is open on it."""
    found = open_receivables(invoice_id=invoice_id, on=on)
    return found[0] if found else None


def aging(*, entity_id: int | None = None, account_id: int | None = None, on: date | None = None) -> dict[str, dict[str, Money]]:
    """Open amounts per currency and bucket (current, 1–30, 31–60, 61–90, 90+) and a total."""
    out: dict[str, dict[str, Money]] = {}
    for item in open_receivables(entity_id=entity_id, account_id=account_id, on=on):
        row = out.setdefault(item.currency, {b: Money.zero(item.currency) for b in (*BUCKETS, "total")})
        row[item.bucket] = row[item.bucket] + item.open
        row["total"] = row["total"] + item.open
    return out


def aging_by_account(*, entity_id: int | None = None, on: date | None = None) -> list[dict[str, object]]:
    """Per customer and currency: the buckets and total (the AR aging report)."""
    rows: dict[tuple[int, str], dict[str, Money]] = {}
    for item in open_receivables(entity_id=entity_id, on=on):
        row = rows.setdefault((item.account_id, item.currency), {b: Money.zero(item.currency) for b in (*BUCKETS, "total")})
        row[item.bucket] = row[item.bucket] + item.open
        row["total"] = row["total"] + item.open
    from q2c.parties.models import Account

    names = dict(Account.objects.filter(pk__in={k[0] for k in rows}).values_list("id", "name"))
    return [
        {"account_id": acc, "account_name": names.get(acc, ""), "currency": cur, "buckets": buckets}
        for (acc, cur), buckets in sorted(rows.items(), key=lambda kv: (names.get(kv[0][0], ""), kv[0][1]))
    ]


def customer_credit(account_id: int) -> dict[str, Money]:
    """Unapplied received payments per currency (what the customer has in credit)."""
    out: dict[str, int] = defaultdict(int)
    for cur, amount, applied, refunded in Payment.objects.filter(
        account_id=account_id, status=PaymentStatus.RECEIVED
    ).values_list("currency", "amount_minor", "applied_minor", "refunded_minor"):
        out[cur] += amount - applied - refunded
    return {c: Money.from_minor(v, c) for c, v in out.items() if v}


def payments(*, account_id: int | None = None, entity_id: int | None = None, status: str = "", method: str = "") -> QuerySet[Payment]:
    query = Payment.objects.all()
    if account_id is not None:
        query = query.filter(account_id=account_id)
    if entity_id is not None:
        query = query.filter(entity_id=entity_id)
    if status:
        query = query.filter(status=status)
    if method:
        query = query.filter(method=method)
    return query.order_by("-received_on", "-id")


def applications(*, payment_id: int | None = None, invoice_id: int | None = None) -> QuerySet[Application]:
    query = Application.objects.all()
    if payment_id is not None:
        query = query.filter(payment_id=payment_id)
    if invoice_id is not None:
        query = query.filter(invoice_id=invoice_id)
    return query.order_by("id")
