"""One KPI report for a range: every issue 18 metric computed from one bundle of records.

Owns: ``KpiInputs`` (all the records a report reads), ``kpi_report`` (calls each metric with the
same range and rate table) and ``KpiReport.as_json`` (the key set ``q2c kpis --json`` and the API
print). Rounding for presentation happens here and only here: ratios to 4 decimals, days to 2,
half-up; money results are already rounded to the reporting currency's minor unit.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from q2c.analytics.metrics import receivables as ar
from q2c.analytics.metrics import recurring, revenue, sales
from q2c.analytics.metrics.types import (
    Dispute,
    MrrRow,
    Opportunity,
    Quote,
    RateTable,
    Receivables,
    RevenueEntry,
    check_range,
)
from q2c.core.money import Money
from q2c.core.periods import month_of

RATIO_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class KpiInputs:
    opportunities: Sequence[Opportunity] = ()
    quotes: Sequence[Quote] = ()
    receivables: Receivables = field(default_factory=Receivables)
    disputes: Sequence[Dispute] = ()
    mrr: Sequence[MrrRow] = ()
    revenue: Sequence[RevenueEntry] = ()


@dataclass(frozen=True, slots=True)
class KpiReport:
    start: date
    end: date
    currency: str
    pipeline: Money
    weighted_pipeline: Money
    bookings: Money
    win_rate: Decimal | None
    avg_discount: Decimal | None
    quote_turnaround: sales.Turnaround
    sales_cycle: sales.Durations
    billings: Money
    mrr: Money
    arr: Money
    mrr_movements: recurring.Movements
    retention: recurring.Retention
    dso: Decimal | None
    dso_countback: Decimal | None
    cei: Decimal | None
    ar_aging: dict[str, Money]
    collection_rate: Decimal | None
    bad_debt_rate: Decimal | None
    disputes: ar.DisputeStats
    recognized_revenue: Money
    deferred_revenue: Money
    billing_accuracy: ar.BillingAccuracy

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types: amounts as decimal strings, ratios to 4 places, days to 2, None as null."""
        turnaround = self.quote_turnaround
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "currency": self.currency,
            "pipeline": _money(self.pipeline),
            "weighted_pipeline": _money(self.weighted_pipeline),
            "bookings": _money(self.bookings),
            "win_rate": _ratio(self.win_rate),
            "avg_discount": _ratio(self.avg_discount),
            "quote_turnaround_days": {
                "created_to_sent": _durations(turnaround.created_to_sent),
                "sent_to_accepted": _durations(turnaround.sent_to_accepted),
            },
            "sales_cycle_days": _durations(self.sales_cycle),
            "billings": _money(self.billings),
            "mrr": _money(self.mrr),
            "arr": _money(self.arr),
            "mrr_movements": {
                name: _money(getattr(self.mrr_movements, name).round())
                for name in ("opening", "new", "expansion", "contraction", "churn", "reactivation", "closing")
            },
            "nrr": _ratio(self.retention.nrr),
            "grr": _ratio(self.retention.grr),
            "logo_churn": _ratio(self.retention.logo_churn),
            "dso": _days(self.dso),
            "dso_countback": _days(self.dso_countback),
            "cei": _ratio(self.cei),
            "ar_aging": {name: _money(amount.round()) for name, amount in self.ar_aging.items()},
            "collection_rate": _ratio(self.collection_rate),
            "bad_debt_rate": _ratio(self.bad_debt_rate),
            "disputes": {
                "opened": self.disputes.opened,
                "opened_amount": _money(self.disputes.opened_amount),
                "open_at_end": self.disputes.open_at_end,
                "rate": _ratio(self.disputes.rate),
            },
            "recognized_revenue": _money(self.recognized_revenue),
            "deferred_revenue": _money(self.deferred_revenue),
            "billing_accuracy": {
                "invoices": self.billing_accuracy.invoices,
                "credit_notes": self.billing_accuracy.credit_notes,
                "credit_notes_per_invoice": _ratio(self.billing_accuracy.credit_notes_per_invoice),
                "accuracy": _ratio(self.billing_accuracy.accuracy),
            },
        }


def _money(value: Money) -> str:
    return format(value.amount, "f")


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP), "f")


def _days(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(DAY_PLACES, rounding=ROUND_HALF_UP), "f")


def _durations(value: sales.Durations) -> dict[str, Any]:
    return {"count": value.count, "mean": _days(value.mean_days), "median": _days(value.median_days)}


def kpi_report(inputs: KpiInputs, start: date, end: date, rates: RateTable) -> KpiReport:
    """Every metric for ``[start, end)`` in ``rates.currency``. Snapshots (pipeline, MRR/ARR, AR
    aging, deferred revenue) are taken at the close of ``end − 1 day``; MRR and ARR are those of the
    calendar month containing that day. Raises ``analytics.range_reversed`` for a reversed range."""
    check_range(start, end)
    last = end - timedelta(days=1)
    month = month_of(last).start
    data = inputs.receivables
    return KpiReport(
        start=start,
        end=end,
        currency=rates.currency,
        pipeline=sales.pipeline(inputs.opportunities, end, rates),
        weighted_pipeline=sales.weighted_pipeline(inputs.opportunities, end, rates),
        bookings=sales.bookings(inputs.opportunities, start, end, rates),
        win_rate=sales.win_rate(inputs.opportunities, start, end),
        avg_discount=sales.average_discount(inputs.quotes, start, end, rates),
        quote_turnaround=sales.quote_turnaround(inputs.quotes, start, end),
        sales_cycle=sales.sales_cycle(inputs.opportunities, start, end),
        billings=ar.billings(data, start, end, rates),
        mrr=recurring.mrr(inputs.mrr, month, rates, rate_day=last),
        arr=recurring.arr(inputs.mrr, month, rates, rate_day=last),
        mrr_movements=recurring.mrr_movements(inputs.mrr, start, end, rates),
        retention=recurring.retention(inputs.mrr, start, end, rates),
        dso=ar.dso(data, start, end, rates),
        dso_countback=ar.dso_countback(data, start, end, rates),
        cei=ar.cei(data, start, end, rates),
        ar_aging=ar.ar_aging(data, last, rates),
        collection_rate=ar.collection_rate(data, start, end, rates),
        bad_debt_rate=ar.bad_debt_rate(data, start, end, rates),
        disputes=ar.disputes(inputs.disputes, data, start, end, rates),
        recognized_revenue=revenue.recognised_revenue(inputs.revenue, start, end, rates),
        deferred_revenue=revenue.deferred_revenue(inputs.revenue, end, rates),
        billing_accuracy=ar.billing_accuracy(data, start, end),
    )
