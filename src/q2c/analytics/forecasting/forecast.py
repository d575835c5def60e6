"""Revenue and cash forecasts for the months after today, in one currency, each with its backtest
(docs/forecasts.md). Reads the billing schedules, opportunities, ledger and receivables through
:mod:`q2c.analytics.queries`; writes nothing.

Revenue of a future month = contracted MRR (billing's recurring schedules running that month)
+ weighted pipeline (open opportunities' TCV × stage probability, spread over their primary
quote's term from the month after their expected close date) + usage (exponential smoothing of
the recognised usage revenue per month).

Cash of a future month = open receivables expected that month (due date + the customer's mean
payment delay) + expected billings (the contracted MRR of the month before, invoiced monthly and
collected a month later).

Backtests (MAPE over the last 6 complete months, each month forecast from the months before it):
revenue — the contracted MRR of the month as known on its first day (the schedules billing had
created by then) + the usage forecast, against the recognised subscription and usage revenue of
the month; cash — exponential smoothing of the monthly receipts against the
receipts; and the composed cash forecast — each month's open receivables as of its first day by
the payment-delay model learnt from what was paid before it, + expected billings (the month
before's contracted MRR as known on the month's first day) — against the receipts. Amounts in only ``currency`` count (nothing is converted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any

from q2c.analytics.forecasting import series
from q2c.core.money import Money
from q2c.core.periods import add_months

PIPELINE_MONTHS = 12


def _months(first: date, last: date) -> list[date]:
    out, m = [], first.replace(day=1)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def _ledger_monthly(currency: str, keys: tuple[str, ...], last: date) -> dict[date, Decimal]:
    from q2c.ledger.models import JournalLine

    out: dict[date, Decimal] = defaultdict(Decimal)
    rows = JournalLine.objects.filter(entry__date__lte=last, currency=currency, account__key__in=keys)
    for day, debit, credit in rows.values_list("entry__date", "debit_minor", "credit_minor"):
        out[day.replace(day=1)] += Money.from_minor(int(credit) - int(debit), currency).amount
    return dict(out)


def _contracted(currency: str, last: date) -> dict[date, Decimal]:
    from q2c.analytics import queries

    out: dict[date, Decimal] = defaultdict(Decimal)
    for row in queries.mrr(None, last):
        if row.mrr.currency == currency:
            out[row.month] += row.mrr.amount
    return dict(out)


def _contracted_schedules(currency: str) -> list[series.ContractedSchedule]:
    """The recurring schedules in ``currency`` with the day each became known (the UTC date of its
    creation: billing creates a contract's schedules when it is signed and so activated, an
    amendment's delta schedules when it is applied), for the revenue backtest. A cancellation
    shortens ``end`` in place: that is read as it stands now."""
    from q2c.billing.models import Schedule

    rows = Schedule.objects.filter(kind="recurring", price_months__gt=0, currency=currency)
    return [
        series.ContractedSchedule(
            account, Decimal(qty) * Decimal(price) / per, start, end, created.astimezone(UTC).date()
        )
        for account, qty, price, per, start, end, created in rows.values_list(
            "account_id", "quantity", "unit_price", "price_months", "start", "end", "created_at"
        ).iterator(chunk_size=2000)
        if price is not None
    ]


def _section(history: dict[date, Decimal], months: list[date]) -> list[Decimal]:
    return [history.get(m, Decimal(0)) for m in months]


def _bt_json(bt: series.Backtest | None, why: str) -> dict[str, Any]:
    if bt is None:
        return {"mape_percent": None, "insufficient": why}
    return {
        "months": bt.months,
        "mape_percent": None if bt.mape is None else str(bt.mape),
        "actuals": [str(v) for v in bt.actuals],
        "forecasts": [str(v) for v in bt.forecasts],
    }


def _close_dates_and_terms(opportunity_ids: list[int]) -> dict[int, tuple[date | None, int]]:
    """Each open opportunity's expected close date and its primary quote's term (12 months
    when it has no quote)."""
    from q2c.quotes.models import Opportunity, Quote

    terms = dict(
        Quote.objects.filter(opportunity_id__in=opportunity_ids, is_primary=True).values_list(
            "opportunity_id", "term_months"
        )
    )
    return {
        pk: (close, int(terms.get(pk) or PIPELINE_MONTHS))
        for pk, close in Opportunity.objects.filter(pk__in=opportunity_ids).values_list(
            "pk", "expected_close_date"
        )
    }


def build(today: date, currency: str, horizon: int = 3) -> dict[str, Any]:
    from q2c.analytics import queries
    from q2c.analytics.metrics.types import Stage

    last_complete = today.replace(day=1) - timedelta(days=1)
    future = [add_months(today.replace(day=1), i) for i in range(1, horizon + 1)]
    contracted = _contracted(currency, future[-1])
    usage = _ledger_monthly(currency, ("revenue.usage",), last_complete)
    recognised = _ledger_monthly(currency, ("revenue.usage", "revenue.subscriptions"), last_complete)
    first = min([*usage, *recognised, *contracted, last_complete.replace(day=1)])
    past = _months(first, last_complete)

    # revenue
    usage_hist = _section(usage, past)
    notes: list[str] = []
    try:
        usage_fc = series.smooth(usage_hist, horizon)
    except series.TooShort as exc:
        usage_fc, notes = [], [f"usage: {exc}"]
    open_opps = [
        o
        for o in queries.opportunities(None, today)
        if o.stage is Stage.OPEN and o.amount.currency == currency
    ]
    timing = _close_dates_and_terms([o.id for o in open_opps])
    pipeline_items = [
        series.PipelineItem(o.amount.amount * o.probability, *timing.get(o.id, (None, PIPELINE_MONTHS)))
        for o in open_opps
    ]
    pipeline_months = series.pipeline_by_month(pipeline_items, today, future)
    revenue_rows = []
    for i, m in enumerate(future):
        c = contracted.get(m, Decimal(0)).quantize(series.CENT)
        u = usage_fc[i] if usage_fc else None
        total = None if u is None else c + pipeline_months[i] + u
        revenue_rows.append({
            "month": m.isoformat(), "contracted": str(c), "weighted_pipeline": str(pipeline_months[i]),
            "usage": None if u is None else str(u), "total": None if total is None else str(total),
        })  # fmt: skip

    known_schedules = _contracted_schedules(currency)

    def revenue_forecaster(hist: Sequence[Decimal], h: int) -> list[Decimal]:
        # As the forecast stood on the month's first day: the schedules billing had by then,
        # and the usage smoothed over the months before it.
        month = past[len(hist)]
        return [
            series.contracted_as_of(known_schedules, month) + series.smooth(usage_hist[: len(hist)], 1)[0]
        ]

    rev_hist = _section(recognised, past)
    try:
        rev_bt: series.Backtest | None = series.backtest(rev_hist, forecaster=revenue_forecaster)
        rev_why = ""
    except series.TooShort as exc:
        rev_bt, rev_why = None, str(exc)

    # cash
    rec = queries.receivables(None, today)
    pays, _source = queries.payments(None, today)
    invoices = {i.id: i for i in rec.invoices if i.total.currency == currency}
    settled: dict[int, Decimal] = defaultdict(Decimal)
    last_paid: dict[int, date] = {}
    receipts: dict[date, Decimal] = defaultdict(Decimal)
    for p in pays:
        if p.amount.currency != currency:
            continue
        settled[p.invoice_id] += p.amount.amount
        last_paid[p.invoice_id] = max(last_paid.get(p.invoice_id, p.paid_on), p.paid_on)
        if p.paid_on <= last_complete:
            receipts[p.paid_on.replace(day=1)] += p.amount.amount
    for note in rec.credit_notes:
        settled[note.invoice_id] += note.amount.amount
    for off in rec.write_offs:
        settled[off.invoice_id] += off.amount.amount
    paid_items, open_items = [], []
    for inv in invoices.values():
        left = inv.total.amount - settled.get(inv.id, Decimal(0))
        if left > 0:
            open_items.append(series.OpenItem(inv.account_id, inv.due_date, left))
        elif inv.id in last_paid:
            paid_items.append(series.PaidItem(inv.account_id, inv.due_date, last_paid[inv.id]))
    expected_ar = series.by_month(series.expected_collections(open_items, paid_items, today))
    this_month = today.replace(day=1)
    overdue_now = sum((v for m, v in expected_ar.items() if m <= this_month), Decimal(0))
    cash_rows = []
    for m in future:
        ar = expected_ar.get(m, Decimal(0))
        billings = contracted.get(add_months(m, -1), Decimal(0)).quantize(series.CENT)
        cash_rows.append({"month": m.isoformat(), "open_receivables": str(ar), "expected_billings": str(billings),
                          "total": str(ar + billings)})  # fmt: skip
    receipts_hist = _section(receipts, past)
    try:
        cash_bt: series.Backtest | None = series.backtest(receipts_hist)
        cash_why = ""
    except series.TooShort as exc:
        cash_bt, cash_why = None, str(exc)
    issued = [
        series.IssuedInvoice(i.id, i.account_id, i.issue_date, i.due_date, i.total.amount)
        for i in invoices.values()
        if i.issue_date <= last_complete
    ]
    settlements = [
        *(series.Settlement(p.invoice_id, p.paid_on, p.amount.amount) for p in pays
          if p.amount.currency == currency and p.paid_on <= last_complete),
        *(series.Settlement(n.invoice_id, n.issue_date, n.amount.amount, payment=False)
          for n in rec.credit_notes if n.issue_date <= last_complete),
        *(series.Settlement(w.invoice_id, w.written_off_on, w.amount.amount, payment=False)
          for w in rec.write_offs if w.written_off_on <= last_complete),
    ]  # fmt: skip
    try:
        composed_bt: series.Backtest | None = series.composed_cash_backtest(
            issued,
            settlements,
            lambda m: series.contracted_as_of(known_schedules, add_months(m, -1), known_by=m),
            past,
        )
        composed_why = ""
    except series.TooShort as exc:
        composed_bt, composed_why = None, str(exc)
    return {
        "as_of": today.isoformat(),
        "currency": currency,
        "revenue": {"months": revenue_rows, "backtest": _bt_json(rev_bt, rev_why), "notes": notes},
        "cash": {
            "months": cash_rows,
            "expected_this_month_from_open_receivables": str(overdue_now),
            "open_receivables": str(sum((o.open_amount for o in open_items), Decimal(0))),
            "backtest": _bt_json(cash_bt, cash_why),
            "composed_backtest": _bt_json(composed_bt, composed_why),
        },
    }
