"""The read side of invoicing: invoice lists with filters, aging and totals; an invoice with its
lines, their sources, credit notes, documents and deliveries.

Aging buckets by days past due on the as-of date: not yet due, 1–30, 31–60, 61–90, over 90 —
open amounts (total − paid − credited − written off) in each invoice's currency.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import F, Q, QuerySet, Sum

from q2c.core import clock
from q2c.core.money import Money
from q2c.invoicing import errors
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import CreditNote, CreditNoteLine, DocumentFile, EmailDelivery, Invoice, InvoiceLine

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


@dataclass
class InvoiceFilter:
    status: str = ""
    account_id: int | None = None
    entity_id: int | None = None
    currency: str = ""
    issued_from: date | None = None
    issued_to: date | None = None
    overdue: bool = False
    bill_run_id: int | None = None
    q: str = ""
    as_of: date | None = None


def invoices(f: InvoiceFilter) -> QuerySet[Invoice]:
    """Invoices matching ``f``, newest first. Errors: ``invoicing.invalid_filter``."""
    qs = Invoice.objects.select_related("account").order_by("-issue_date", "-id")
    if f.status:
        if f.status == "open":
            qs = qs.filter(status__in=(InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID))
        elif f.status in InvoiceStatus._value2member_map_:
            qs = qs.filter(status=f.status)
        else:
            raise errors.InvalidInvoice(
                f"unknown status '{f.status}'", code=errors.INVALID_FILTER, field="status"
            )
    if f.account_id:
        qs = qs.filter(account_id=f.account_id)
    if f.entity_id:
        qs = qs.filter(entity_id=f.entity_id)
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    if f.issued_from:
        qs = qs.filter(issue_date__gte=f.issued_from)
    if f.issued_to:
        qs = qs.filter(issue_date__lte=f.issued_to)
    if f.bill_run_id:
        qs = qs.filter(bill_run_id=f.bill_run_id)
    if f.overdue:
        qs = qs.filter(
            status__in=(InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID),
            due_date__lt=f.as_of or clock.today(),
        )
    if f.q:
        text = f.q.strip()
        qs = qs.filter(Q(number__icontains=text) | Q(account__name__icontains=text))
    return qs


def bucket(due: date | None, as_of: date) -> str:
    if due is None or due >= as_of:
        return "current"
    late = (as_of - due).days
    if late <= 30:
        return "1-30"
    if late <= 60:
        return "31-60"
    if late <= 90:
        return "61-90"
    return "90+"


@dataclass
class Summary:
    """Totals per currency of a filtered list: invoiced, open, and open by aging bucket."""

    count: int = 0
    total: dict[str, Money] = field(default_factory=dict)
    open: dict[str, Money] = field(default_factory=dict)
    aging: dict[str, dict[str, Money]] = field(default_factory=dict)


def summary(qs: QuerySet[Invoice], as_of: date | None = None) -> Summary:
    """Totals and aging of ``qs`` (one grouped query each)."""
    day = as_of or clock.today()
    out = Summary(count=qs.count())
    issued = qs.exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
    for row in issued.values("currency").annotate(t=Sum("total_minor")):
        out.total[row["currency"]] = Money.from_minor(int(row["t"] or 0), row["currency"])
    open_rows = (
        issued.filter(status__in=(InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID))
        .annotate(left=F("total_minor") - F("paid_minor") - F("credited_minor") - F("written_off_minor"))
        .values("currency", "due_date")
        .annotate(o=Sum("left"))
    )
    aging: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    for row in open_rows:
        aging[row["currency"]][bucket(row["due_date"], day)] += int(row["o"] or 0)
    for cur, buckets in sorted(aging.items()):
        out.open[cur] = Money.from_minor(sum(buckets.values()), cur)
        out.aging[cur] = {b: Money.from_minor(v, cur) for b, v in buckets.items()}
    return out


def invoice(invoice_id: int) -> Invoice:
    found = Invoice.objects.select_related("account", "entity").filter(pk=invoice_id).first()
    if found is None:
        raise errors.InvoiceNotFound(f"no invoice {invoice_id}", field="invoice_id")
    return found


def lines(invoice_id: int) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.filter(invoice_id=invoice_id).order_by("position"))


def credit_notes(invoice_id: int) -> list[CreditNote]:
    return list(CreditNote.objects.filter(invoice_id=invoice_id).order_by("id"))


def credit_note(note_id: int) -> CreditNote:
    found = CreditNote.objects.select_related("invoice", "account").filter(pk=note_id).first()
    if found is None:
        raise errors.InvoiceNotFound(f"no credit note {note_id}", field="credit_note_id")
    return found


def credit_note_lines(note_id: int) -> list[CreditNoteLine]:
    return list(CreditNoteLine.objects.filter(credit_note_id=note_id).order_by("position"))


def documents(doc_type: str, doc_id: int) -> list[dict[str, Any]]:
    rows = DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id).order_by("format")
    return [dict(r) for r in rows.values("id", "format", "filename", "content_type", "sha256", "created_at")]


def document_file(doc_type: str, doc_id: int, fmt: str) -> DocumentFile:
    found = DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id, format=fmt).first()
    if found is None:
        raise errors.InvoiceNotFound(f"no {fmt} document for {doc_type} {doc_id}", field="format")
    return found


def deliveries(doc_type: str, doc_id: int) -> list[EmailDelivery]:
    return list(EmailDelivery.objects.filter(doc_type=doc_type, doc_id=doc_id).order_by("id"))
