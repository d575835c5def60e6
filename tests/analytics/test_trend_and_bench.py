"""The dashboards' monthly trend figures agree with the KPI report of each month, and
``q2c bench kpis`` checks its figures against independent sums (it raises when they differ)."""

from __future__ import annotations

from q2c.analytics.bench import bench_kpis
from q2c.analytics.metrics import kpi_report
from q2c.analytics.metrics.trend import monthly, months_of
from tests.analytics.conftest import d
from tests.analytics.test_kpi_report import INPUTS, Q1_END, Q1_START
from tests.analytics.test_metrics_sales import RATES


def test_each_month_of_the_trend_is_that_months_report():
    for figures in monthly(INPUTS, Q1_START, Q1_END, RATES):
        report = kpi_report(INPUTS, figures.start, figures.end, RATES)
        assert (figures.bookings, figures.billings, figures.dso, figures.mrr) == (
            report.bookings, report.billings, report.dso, report.mrr,
        )  # fmt: skip
        assert figures.movements == report.mrr_movements


def test_months_are_cut_to_the_range_and_the_last_twelve_kept():
    assert months_of(d("2027-01-15"), d("2027-03-10")) == [
        ("2027-01", d("2027-01-15"), d("2027-02-01")),
        ("2027-02", d("2027-02-01"), d("2027-03-01")),
        ("2027-03", d("2027-03-01"), d("2027-03-10")),
    ]
    assert [m[0] for m in months_of(d("2026-01-01"), d("2027-04-01"))][:2] == ["2026-04", "2026-05"]


def test_the_benchmark_checks_itself_on_a_small_company():
    result = bench_kpis(300, 30)
    assert (result["invoices"], result["check"]) == (
        300,
        "billings, closing AR and collection rate equal the independent sums",
    )
