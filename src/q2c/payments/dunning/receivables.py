"""What dunning reads about receivables: overdue open invoices with their open amounts and whether
a dispute on them is open. One place, so the job, the worklist, promises and fees agree.

Everything comes from the payments app's read side (``q2c.payments.queries.open_receivables``):
the open amount is invoicing's (total − paid − credited − written off) plus amounts reopened by
reversed payments, and ``disputed`` says a dispute on the invoice is open. The amount in the
seller's currency (for ranking the worklist across currencies) converts the open amount at the
rate the invoice captured at issue.

Reads only; bulk queries (no query per invoice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from q2c.core.money import Money
from q2c.invoicing.models import Invoice
from q2c.payments import queries as payments


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    invoice_id: int
    entity_id: int
    account_id: int
    number: str
    currency: str
    due_date: date
    open_minor: int
    disputed: bool
    base_currency: str
    open_base_minor: int

    @property
    def open(self) -> Money:
        return Money.from_minor(self.open_minor, self.currency)


def _convert(items: list[payments.OpenItem]) -> list[OpenInvoice]:
    rates = {
        pk: (base or cur, rate)
        for pk, cur, base, rate in Invoice.objects.filter(pk__in=[i.invoice_id for i in items]).values_list(
            "pk", "currency", "base_currency", "rate"
        )
    }
    out = []
    for i in items:
        if i.due_date is None:
            continue
        base, rate = rates.get(i.invoice_id, (i.currency, None))
        if base == i.currency or rate is None:
            base_minor = i.open.minor_units() if base == i.currency else 0
        else:
            base_minor = Money(i.open.amount * rate, base).round().minor_units()
        out.append(
            OpenInvoice(i.invoice_id, i.entity_id, i.account_id, i.number, i.currency, i.due_date,
                        i.open.minor_units(), i.disputed, base, base_minor)
        )  # fmt: skip
    return out


def overdue(on: date, *, entity_id: int | None = None, account_id: int | None = None) -> list[OpenInvoice]:
    """Open invoices due on or before ``on`` with something left to pay, oldest due first."""
    items = payments.open_receivables(entity_id=entity_id, account_id=account_id, on=on, due_by=on)
    return _convert([i for i in items if i.due_date is not None and i.due_date <= on])


def open_invoices(invoice_ids: Iterable[int], *, account_id: int | None = None) -> dict[int, OpenInvoice]:
    """Those of ``invoice_ids`` still open (something left to pay), by id."""
    wanted = set(invoice_ids)
    if not wanted:
        return {}
    if account_id is not None:
        items = [i for i in payments.open_receivables(account_id=account_id) if i.invoice_id in wanted]
    else:
        items = [i for pk in sorted(wanted) if (i := payments.open_receivable(pk)) is not None]
    return {r.invoice_id: r for r in _convert(items)}
