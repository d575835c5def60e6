"""Invoicing's ledger check, run by ``q2c ledger check`` (registered from ``q2c.wiring``).

``invoicing.ar_control``: per entity, the balance of the receivables account (key ``ar``) equals
the open invoices less the credits taken off them — Σ over issued, not void invoices of (total −
paid − written off), converted as at issue, minus Σ of the credit notes' amounts applied to
invoices. Payments reduce invoices through ``services.apply_payment`` (the payments app posts the
cash against AR at the same time). With ``--as-of`` only invoices, voids, write-offs, credit
notes and payments (``InvoicePayment``, dated when recorded or taken back) dated on or before it
count: an invoice's paid amount as of the date is its ``paid_base`` less what was recorded after.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, Sum

from q2c.core.money import Money
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import CreditNote, Invoice, InvoicePayment
from q2c.ledger import chart
from q2c.ledger.models import Account, Book, JournalLine
from q2c.platform.registry import Check


def _fmt(minor: int, currency: str) -> str:
    return str(Money.from_minor(int(minor), currency))


def ar_control(as_of: date | None = None) -> list[str]:
    problems: list[str] = []
    for book in Book.objects.all():
        entity_id = book.entity_id
        ar = Account.objects.filter(entity_id=entity_id, key=chart.AR).first()
        lines = (
            JournalLine.objects.filter(entity_id=entity_id, account=ar) if ar else JournalLine.objects.none()
        )
        if as_of:
            lines = lines.filter(entry__date__lte=as_of)
        sums = lines.aggregate(d=Sum("debit_minor"), c=Sum("credit_minor"))
        ledger = int(sums["d"] or 0) - int(sums["c"] or 0)

        invoices = Invoice.objects.filter(entity_id=entity_id).exclude(status=InvoiceStatus.DRAFT)
        if as_of:
            invoices = invoices.filter(issue_date__lte=as_of)
        counted = invoices.exclude(status=InvoiceStatus.VOID)
        if as_of:
            # An invoice voided after the as-of date was still open on it.
            counted = invoices.filter(Q(voided_at__isnull=True) | Q(voided_at__date__gt=as_of))
        totals = counted.aggregate(t=Sum("total_base_minor"), p=Sum("paid_base_minor"))
        later = 0
        if as_of:
            later = int(
                InvoicePayment.objects.filter(invoice__in=counted, day__gt=as_of).aggregate(
                    b=Sum("base_minor")
                )["b"]
                or 0
            )
        written = counted.filter(written_off_on__isnull=False)
        if as_of:
            written = written.filter(written_off_on__lte=as_of)
        w = written.aggregate(w=Sum("written_off_base_minor"))["w"] or 0
        notes = CreditNote.objects.filter(entity_id=entity_id)
        if as_of:
            notes = notes.filter(issue_date__lte=as_of)
        applied = notes.aggregate(a=Sum("applied_base_minor"))["a"] or 0
        expected = int(totals["t"] or 0) - (int(totals["p"] or 0) - later) - int(w) - int(applied)
        if ledger != expected:
            problems.append(
                f"entity {entity_id}: receivables in the ledger {_fmt(ledger, book.currency)} ≠ open invoices "
                f"less credits {_fmt(expected, book.currency)} (difference {_fmt(ledger - expected, book.currency)})"
            )
    return problems


CHECKS = [Check("invoicing.ar_control", ar_control)]
