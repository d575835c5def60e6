"""The whole KPI report over Q1 2027, from the hand-worked stories of the other metric tests.

Every expected value below is worked by hand (the arithmetic is in the comments or in the test of
the single metric it comes from); the report must only gather and present them.
"""

from __future__ import annotations

import json

import pytest

from q2c.analytics.metrics import KpiInputs, RangeReversed, kpi_report
from tests.analytics.conftest import d
from tests.analytics.test_metrics_receivables import CEI_DATA
from tests.analytics.test_metrics_recurring import ROWS
from tests.analytics.test_metrics_revenue import ENTRIES
from tests.analytics.test_metrics_sales import RATES, _opps, _quotes

Q1_START, Q1_END = d("2027-01-01"), d("2027-04-01")
INPUTS = KpiInputs(opportunities=_opps(), quotes=_quotes(), receivables=CEI_DATA, mrr=ROWS, revenue=ENTRIES)


def test_the_report_gathers_every_metric_with_the_issue_keys():
    report = kpi_report(INPUTS, Q1_START, Q1_END, RATES).as_json()
    assert report == {
        "from": "2027-01-01",
        "to": "2027-04-01",
        "currency": "EUR",
        "pipeline": "35000.00",
        "weighted_pipeline": "15800.00",
        "bookings": "5900.00",
        "win_rate": "0.6667",  # 2 / 3
        "avg_discount": "0.1964",  # 550 / 2,800 = 0.19643
        "quote_turnaround_days": {
            "created_to_sent": {"count": 2, "mean": "2.00", "median": "2.00"},
            "sent_to_accepted": {"count": 1, "mean": "3.00", "median": "3.00"},
        },
        "sales_cycle_days": {"count": 2, "mean": "80.50", "median": "80.50"},
        "billings": "10890.00",  # 3,390 + 3,610 + 3,890
        "mrr": "310.00",
        "arr": "3720.00",
        "mrr_movements": {
            "opening": "350.00",
            "new": "80.00",
            "expansion": "20.00",
            "contraction": "50.00",
            "churn": "130.00",
            "reactivation": "40.00",
            "closing": "310.00",
        },
        "nrr": "0.7714",  # 270 / 350
        "grr": "0.7143",  # 250 / 350
        "logo_churn": "0.3333",  # 1 / 3
        "dso": "52.40",  # 6,340 / 10,890 × 90 days = 52.397
        # 6,340 − March 3,890 → 31 days, 2,450 left; 2,450 / February 3,610 × 28 = 19.003 → 50.003
        "dso_countback": "50.00",
        "cei": "0.7963",  # 10,750 / 13,500
        # At 31 March: W 3,590 current; Z due 12 March → 19 days late; Y due 9 Feb → 50 days late.
        "ar_aging": {
            "current": "3590.00",
            "1-30": "1750.00",
            "31-60": "1000.00",
            "61-90": "0.00",
            "90+": "0.00",
        },
        "collection_rate": "0.6290",  # 10,750 / 17,090 = 0.62902
        "bad_debt_rate": "0.0000",
        "disputes": {"opened": 0, "opened_amount": "0.00", "open_at_end": 0, "rate": "0.0000"},
        "recognized_revenue": "845.00",
        "deferred_revenue": "945.00",
        "billing_accuracy": {
            "invoices": 3,
            "credit_notes": 0,
            "credit_notes_per_invoice": "0.0000",
            "accuracy": "1.0000",
        },
    }
    json.dumps(report)  # plain JSON types only


def test_a_report_over_nothing_gives_zeros_and_nulls():
    report = kpi_report(KpiInputs(), Q1_START, Q1_END, RATES).as_json()
    assert report["pipeline"] == report["billings"] == report["mrr"] == "0.00"
    assert report["win_rate"] is report["nrr"] is report["dso"] is report["cei"] is None
    assert report["sales_cycle_days"] == {"count": 0, "mean": None, "median": None}


def test_a_reversed_range_is_refused_before_anything_is_computed():
    with pytest.raises(RangeReversed) as err:
        kpi_report(INPUTS, Q1_END, Q1_START, RATES)
    assert err.value.code == "analytics.range_reversed"
