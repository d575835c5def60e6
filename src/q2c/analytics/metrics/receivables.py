"""Receivables metrics: AR balances and aging, DSO (standard and count-back), CEI, collection rate,
bad-debt rate, disputes, billings and billing accuracy.

Time basis: "AR at day D" is every invoice's open balance at the close of D — total minus the
payments, credit notes and write-offs dated on or before D — over invoices issued on or before D;
only positive balances count (a credit balance is unapplied cash, not receivable). A range
``[start, end)`` opens with AR at ``start − 1 day`` and closes with AR at ``end − 1 day``. Each
document converts at the rate of its own date (an invoice's balance at its issue date's rate, a
payment at its payment date's rate, …); money results are rounded once, at the end.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain

from q2c.analytics.metrics.types import Dispute, RateTable, Receivables, check_range
from q2c.core.money import Money
from q2c.core.periods import months

#: Aging buckets by days past due at the as-of day (due on the day itself = current).
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def _bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


def open_balances(data: Receivables, day: date, rates: RateTable) -> dict[int, Money]:
    """Each invoice's positive open balance at the close of ``day``, in the reporting currency
    at its issue date's rate (unrounded). Invoices settled, credited or issued later are absent."""
    issued = {inv.id: inv for inv in data.invoices if inv.issue_date <= day}
    # Every reduction converts at the invoice's issue-date rate too, so a fully paid foreign
    # invoice reaches exactly zero whatever the rate did meanwhile. Sums stay in each document's
    # currency (exact Decimal) and convert once per invoice and currency: (a − b) × r = a×r − b×r.
    left: dict[int, dict[str, Decimal]] = {}
    for inv_id, inv in issued.items():
        left[inv_id] = {inv.total.currency: inv.total.amount}
    reductions = chain(
        ((p.invoice_id, p.paid_on, p.amount) for p in data.payments),
        ((c.invoice_id, c.issue_date, c.amount) for c in data.credit_notes),
        ((w.invoice_id, w.written_off_on, w.amount) for w in data.write_offs),
    )
    for inv_id, on, taken in reductions:
        if on <= day and inv_id in left:
            cell = left[inv_id]
            cell[taken.currency] = cell.get(taken.currency, Decimal(0)) - taken.amount
    out: dict[int, Money] = {}
    rate_of: dict[tuple[str, date], Decimal] = {}
    for inv_id, cell in left.items():
        on = issued[inv_id].issue_date
        balance = Decimal(0)
        for cur, rest in cell.items():
            if rest:
                key = (cur, on)
                if key not in rate_of:
                    rate_of[key] = rates.rate(cur, on)
                balance += rest * rate_of[key]
        if balance > 0:
            out[inv_id] = Money(balance, rates.currency)
    return out


def ar_total(data: Receivables, day: date, rates: RateTable) -> Money:
    """Total open AR at the close of ``day`` (unrounded)."""
    return sum(open_balances(data, day, rates).values(), rates.zero())


def ar_aging(data: Receivables, as_of: date, rates: RateTable) -> dict[str, Money]:
    """Open AR at the close of ``as_of`` by days past due: current, 1–30, 31–60, 61–90, 90+.

    Unrounded so the buckets sum exactly to :func:`ar_total`; round each for display.
    """
    due = {inv.id: inv.due_date for inv in data.invoices}
    out = {name: rates.zero() for name in BUCKETS}
    for inv_id, balance in open_balances(data, as_of, rates).items():
        out[_bucket((as_of - due[inv_id]).days)] += balance
    return out


def _current_ar(data: Receivables, day: date, rates: RateTable) -> Money:
    due = {inv.id: inv.due_date for inv in data.invoices}
    return sum((b for i, b in open_balances(data, day, rates).items() if due[i] >= day), rates.zero())


def credit_sales(data: Receivables, start: date, end: date, rates: RateTable) -> Money:
    """Net billings: invoices issued in the range minus credit notes issued in it (unrounded)."""
    check_range(start, end)
    total = rates.zero()
    for inv in data.invoices:
        if start <= inv.issue_date < end:
            total += rates.convert(inv.total, inv.issue_date)
    for c in data.credit_notes:
        if start <= c.issue_date < end:
            total -= rates.convert(c.amount, c.issue_date)
    return total


def billings(data: Receivables, start: date, end: date, rates: RateTable) -> Money:
    """Net billings in the range, rounded (see :func:`credit_sales`)."""
    return credit_sales(data, start, end, rates).round()


def _last_day(start: date, end: date) -> date:
    return end - timedelta(days=1)


def dso(data: Receivables, start: date, end: date, rates: RateTable) -> Decimal | None:
    """Standard DSO: closing AR ÷ net credit sales of the range × days in the range.

    None for an empty range or when the range has no net credit sales.
    """
    check_range(start, end)
    sales = credit_sales(data, start, end, rates)
    if start == end or sales.amount <= 0:
        return None
    closing = ar_total(data, _last_day(start, end), rates)
    return closing.amount / sales.amount * (end - start).days


def dso_countback(data: Receivables, start: date, end: date, rates: RateTable) -> Decimal | None:
    """Count-back DSO: take closing AR, subtract each calendar month's net credit sales walking back
    from the last month, adding the month's days while AR covers the month, then the fraction
    remaining AR ÷ that month's sales × its days. Months are cut to the range.

    If AR exceeds all the range's sales, the answer is the range's days (a floor: widen the range).
    None for an empty range.
    """
    check_range(start, end)
    if start == end:
        return None
    remaining = ar_total(data, _last_day(start, end), rates).amount
    days = Decimal(0)
    for period in reversed(list(months(start, end))):
        sales = credit_sales(data, period.start, period.end, rates).amount
        if remaining <= 0:
            break
        if sales > 0 and remaining < sales:
            return days + remaining / sales * period.days
        remaining -= max(sales, Decimal(0))
        days += period.days
    return days


def cei(
    data: Receivables, start: date, end: date, rates: RateTable, *, average_months: bool = False
) -> Decimal | None:
    """Collection effectiveness index, as a fraction (×100 for the usual percentage):

        (opening AR + S − closing AR) ÷ (opening AR + S − closing current AR)

    S is the range's net credit sales (the whole-period form; the numerator is then what was
    collected, credited or written off, so 0 ≤ CEI ≤ 1 whenever nothing is overpaid). With
    ``average_months`` S is the sales divided by N, the number of calendar months the range touches
    (the Credit Research Foundation's monthly-average form, as creditguru.com states it; it can
    leave [0, 1] over long ranges). Current AR is what is not yet past due at the closing day.
    None for an empty range or a denominator ≤ 0.
    """
    check_range(start, end)
    if start == end:
        return None
    last = _last_day(start, end)
    opening = ar_total(data, start - timedelta(days=1), rates).amount
    sales = credit_sales(data, start, end, rates).amount
    if average_months:
        sales = sales / len(list(months(start, end)))
    closing = ar_total(data, last, rates).amount
    current = _current_ar(data, last, rates).amount
    denominator = opening + sales - current
    if denominator <= 0:
        return None
    return (opening + sales - closing) / denominator


def collections(data: Receivables, start: date, end: date, rates: RateTable) -> Money:
    """Cash received against invoices in the range, each payment at its own date's rate (unrounded)."""
    check_range(start, end)
    total = rates.zero()
    for p in data.payments:
        if start <= p.paid_on < end:
            total += rates.convert(p.amount, p.paid_on)
    return total


def collection_rate(data: Receivables, start: date, end: date, rates: RateTable) -> Decimal | None:
    """Collections in the range ÷ (opening AR + net credit sales of the range); None if that is ≤ 0."""
    check_range(start, end)
    collectible = ar_total(data, start - timedelta(days=1), rates) + credit_sales(data, start, end, rates)
    if collectible.amount <= 0:
        return None
    return collections(data, start, end, rates).amount / collectible.amount


def bad_debt_rate(data: Receivables, start: date, end: date, rates: RateTable) -> Decimal | None:
    """Write-offs in the range ÷ net credit sales of the range; None if sales ≤ 0."""
    sales = credit_sales(data, start, end, rates)
    if sales.amount <= 0:
        return None
    issued_on = {inv.id: inv.issue_date for inv in data.invoices}
    written = rates.zero()
    for w in data.write_offs:
        if start <= w.written_off_on < end:
            written += rates.convert(w.amount, issued_on.get(w.invoice_id, w.written_off_on))
    return written.amount / sales.amount


@dataclass(frozen=True, slots=True)
class DisputeStats:
    opened: int  # disputes opened in the range
    opened_amount: Money  # their amount, each at its opening date's rate, rounded
    open_at_end: int  # disputes open at the close of the range's last day
    rate: Decimal | None  # opened ÷ invoices issued in the range; None if none issued


def disputes(
    items: Iterable[Dispute], data: Receivables, start: date, end: date, rates: RateTable
) -> DisputeStats:
    check_range(start, end)
    last = _last_day(start, end)
    count, amount = 0, rates.zero()
    open_at_end = 0
    for d in items:
        if start <= d.opened_on < end:
            count += 1
            amount += rates.convert(d.amount, d.opened_on)
        if d.opened_on <= last and (d.resolved_on is None or d.resolved_on > last):
            open_at_end += 1
    issued = sum(1 for inv in data.invoices if start <= inv.issue_date < end)
    return DisputeStats(count, amount.round(), open_at_end, Decimal(count) / issued if issued else None)


@dataclass(frozen=True, slots=True)
class BillingAccuracy:
    invoices: int  # invoices issued in the range
    credit_notes: int  # credit notes (to date) against those invoices
    credit_notes_per_invoice: Decimal | None
    accuracy: Decimal | None  # share of the range's invoices with no credit note (to date)


def billing_accuracy(data: Receivables, start: date, end: date) -> BillingAccuracy:
    """Credit notes against invoices of the range ÷ those invoices, and the share never credited.

    A credit note counts with its invoice's range (the invoice was wrong when issued), whenever the
    credit note itself was issued; pass credit notes up to the reporting day.
    """
    check_range(start, end)
    ids = {inv.id for inv in data.invoices if start <= inv.issue_date < end}
    notes = [c for c in data.credit_notes if c.invoice_id in ids]
    credited = {c.invoice_id for c in notes}
    if not ids:
        return BillingAccuracy(0, 0, None, None)
    return BillingAccuracy(
        len(ids),
        len(notes),
        Decimal(len(notes)) / len(ids),
        Decimal(len(ids) - len(credited)) / len(ids),
    )
