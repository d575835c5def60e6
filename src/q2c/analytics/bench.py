"""``q2c bench kpis``: the KPI computations over a year of a generated company, as the KPI report
and the dashboards run them (one report, then the monthly trend figures), without a database.

The gatherers (``queries``) read each source with a handful of bulk queries; what grows with the
company is the pure computation, measured here. The independent check sums billings, cash received
and the closing AR while generating the records, and compares the report's figures with them.

Must not import Django or any app: only ``q2c.core`` and ``q2c.analytics.metrics``.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from q2c.analytics.metrics import (
    Invoice,
    KpiInputs,
    MrrRow,
    Payment,
    RateTable,
    Receivables,
    kpi_report,
    trend,
)
from q2c.core.money import Money
from q2c.core.periods import add_months

START, END = date(2027, 1, 1), date(2028, 1, 1)


def add_arguments(parser: Any) -> None:
    parser.add_argument("--invoices", type=int, default=20_000, help="invoices in the year (default 20,000)")
    parser.add_argument("--accounts", type=int, default=1_000, help="customers they spread over")


def run(**opts: Any) -> dict[str, Any]:
    return bench_kpis(int(opts.get("invoices") or 20_000), int(opts.get("accounts") or 1_000))


def bench_kpis(invoices: int = 20_000, accounts: int = 1_000, seed: int = 18) -> dict[str, Any]:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    rates = RateTable("EUR", {"USD": [(date(2026, 1, 1), Decimal("0.90"))]})
    docs, paid = [], []
    billed, received, open_at_close = Decimal(0), Decimal(0), Decimal(0)
    for n in range(invoices):
        issued = START + timedelta(days=rng.randrange(365))
        cur = "USD" if n % 10 == 0 else "EUR"
        total = Money(Decimal(rng.randrange(1_000, 500_000)) / 100, cur)
        docs.append(Invoice(n, rng.randrange(accounts), issued, issued + timedelta(days=30), total))
        in_eur = total.amount * (Decimal("0.90") if cur == "USD" else 1)
        billed += in_eur
        on = issued + timedelta(days=rng.randrange(10, 60))
        if rng.random() < 0.8 and on < END:
            paid.append(Payment(n, on, total))
            received += in_eur
        else:
            open_at_close += in_eur
    mrr = []
    for account in range(accounts):
        amount = Money(Decimal(rng.randrange(1_000, 100_000)) / 100, "EUR")
        first = add_months(START, rng.randrange(12))
        month = first
        while month < END:
            mrr.append(MrrRow(account, month, amount))
            month = add_months(month, 1)
    inputs = KpiInputs(receivables=Receivables(invoices=docs, payments=paid), mrr=mrr)
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    report = kpi_report(inputs, START, END, rates)
    report_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    months = trend.monthly(inputs, START, END, rates)
    trend_s = time.perf_counter() - t2
    # Each month rounds once and the year once: they may differ by at most a cent per month.
    drift = abs(sum((m.billings.amount for m in months), Decimal(0)) - report.billings.amount)
    if drift > Decimal("0.01") * len(months):
        raise AssertionError("the monthly billings do not add up to the year's")

    def cents(value: Decimal) -> Decimal:
        return Money(value, "EUR").round().amount

    collected = Decimal(report.as_json()["collection_rate"])
    if report.billings.amount != cents(billed):
        raise AssertionError(f"billings {report.billings} differ from the independent sum {cents(billed)}")
    if sum((m.amount for m in report.ar_aging.values()), Decimal(0)) != open_at_close:
        raise AssertionError("closing AR differs from the independent sum of what was left unpaid")
    if collected != (received / billed).quantize(Decimal("0.0001")):
        raise AssertionError("the collection rate differs from cash received ÷ billings")
    return {
        "invoices": len(docs),
        "payments": len(paid),
        "mrr_rows": len(mrr),
        "setup_seconds": round(setup, 3),
        "report_seconds": round(report_s, 3),
        "monthly_trend_seconds": round(trend_s, 3),
        "billings": str(report.billings.amount),
        "check": "billings, closing AR and collection rate equal the independent sums",
    }
