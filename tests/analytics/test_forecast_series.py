"""The forecasting engine's pure parts: MAPE and the backtest's windows worked out by hand with a
naive forecaster, exponential smoothing on series whose continuation is known, too-short
histories refused, and the per-customer payment-delay model by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.analytics.forecasting import series
from q2c.analytics.forecasting.series import OpenItem, PaidItem, TooShort


def test_mape_by_hand_skips_zero_actuals():
    # |100 − 110| / 100 = 0.10, |200 − 150| / 200 = 0.25, the 0 actual is skipped → 17.5 %
    assert series.mape([D(100), D(200), D(0)], [D(110), D(150), D(5)]) == D("17.5")
    assert series.mape([D(0)], [D(3)]) is None


def test_backtest_forecasts_each_month_from_the_months_before_it_only():
    seen: list[int] = []

    def naive(history, horizon):
        seen.append(len(history))
        return [history[-1]] * horizon

    history = [D(10 * k) for k in range(1, 10)]  # 10 … 90
    bt = series.backtest(history, 6, naive)
    assert seen == [3, 4, 5, 6, 7, 8]
    assert bt.actuals == tuple(D(v) for v in (40, 50, 60, 70, 80, 90))
    assert bt.forecasts == tuple(D(v) for v in (30, 40, 50, 60, 70, 80))
    # 10/40 + 10/50 + 10/60 + 10/70 + 10/80 + 10/90 = 0.99563… ÷ 6 = 0.16594 → 16.6 %
    assert bt.mape == D("16.6")


def test_too_short_histories_are_refused():
    with pytest.raises(TooShort, match="8 months of history; a 6-month backtest needs 9"):
        series.backtest([D(1)] * 8)
    with pytest.raises(TooShort, match="2 months of history; at least 3"):
        series.smooth([D(1), D(2)], 3)


def test_a_constant_series_continues_and_backtests_without_error():
    assert series.smooth([D("250.00")] * 5, 2) == [D("250.00"), D("250.00")]
    assert series.backtest([D("250.00")] * 12).mape == D("0.0")


def test_a_trend_is_continued():
    history = [D(100 * k) for k in range(1, 13)]  # 100 … 1,200, a straight line
    (nxt,) = series.smooth(history, 1)
    assert D(1250) < nxt < D(1350)  # the line's next value is 1,300; a damped trend may fall a little short
    assert series.backtest(history).mape < D(5)


def test_expected_collections_by_customer_delay():
    paid = [
        PaidItem(1, date(2027, 1, 31), date(2027, 2, 10)),  # 10 days late
        PaidItem(1, date(2027, 2, 28), date(2027, 3, 4)),  # 4 days late → customer 1: 7
        PaidItem(3, date(2027, 2, 28), date(2027, 2, 26)),  # 2 days early
    ]
    per, overall = series.delays(paid)
    assert per == {1: D(7), 3: D(-2)}
    assert overall == D(4)  # (10 + 4 − 2) / 3
    got = series.expected_collections(
        [OpenItem(1, date(2027, 3, 1), D("100.00")), OpenItem(2, date(2027, 3, 1), D("50.00"))],
        paid,
        today=date(2027, 3, 6),
    )
    # customer 1: 03-01 + 7 = 03-08; customer 2 never paid: everyone's 4 → 03-05, already past → today
    assert got == [(date(2027, 3, 8), D("100.00")), (date(2027, 3, 6), D("50.00"))]
    assert series.by_month([*got, (date(2027, 4, 2), D("1.00"))]) == {
        date(2027, 3, 1): D("150.00"),
        date(2027, 4, 1): D("1.00"),
    }


def test_weighted_pipeline_is_timed_by_expected_close_date_and_term():
    # today 2027-04-02; forecast May–July. By hand, each deal's weighted value ÷ its term from the
    # month after its close (none or past: from May):
    # A 1,200 closes 05-20, 12 months → 100 from June; B 600, no date, 6 months → 100 from May;
    # C 300 closed "03-01" (past), 3 months → 100 in May–July; D 240 closes 06-30, 24 months → 10
    # from July. May 200, June 300, July 310.
    items = [
        series.PipelineItem(D(1200), date(2027, 5, 20), 12),
        series.PipelineItem(D(600), None, 6),
        series.PipelineItem(D(300), date(2027, 3, 1), 3),
        series.PipelineItem(D(240), date(2027, 6, 30), 24),
    ]
    months = [date(2027, 5, 1), date(2027, 6, 1), date(2027, 7, 1)]
    assert series.pipeline_by_month(items, date(2027, 4, 2), months) == [
        D("200.00"),
        D("300.00"),
        D("310.00"),
    ]


def test_composed_cash_backtest_rebuilds_the_receivables_of_each_months_first_day():
    inv = series.IssuedInvoice
    invoices = [
        inv(1, 1, date(2027, 1, 1), date(2027, 1, 31), D(100)),  # paid 02-10: 10 days late
        inv(2, 1, date(2027, 3, 1), date(2027, 3, 31), D(200)),  # paid 05-03
        inv(3, 1, date(2027, 4, 5), date(2027, 5, 5), D(50)),  # 20 credited 04-20, 30 paid 05-12
        inv(4, 2, date(2027, 3, 15), date(2027, 4, 14), D(80)),  # never paid; customer 2 has no history
    ]
    settlements = [
        series.Settlement(1, date(2027, 2, 10), D(100)),
        series.Settlement(3, date(2027, 4, 20), D(20), payment=False),
        series.Settlement(2, date(2027, 5, 3), D(200)),
        series.Settlement(3, date(2027, 5, 12), D(30)),
    ]
    # As of 04-01: invoice 2 (200, due 03-31 + customer 1's 10 days = 04-10) and invoice 4 (80, due
    # 04-14 + everyone's mean 10 = 04-24) are expected in April → 280; invoice 3 is not issued yet.
    assert series.cash_as_of(invoices, settlements, date(2027, 4, 1)) == D("280.00")
    # As of 05-01: invoice 2 (04-10, past → May), invoice 3 (50 − 20 credited = 30, 05-15) and
    # invoice 4 (04-24, past → May) → 310.
    assert series.cash_as_of(invoices, settlements, date(2027, 5, 1)) == D("310.00")
    months = [date(2027, m, 1) for m in range(1, 6)]
    bt = series.composed_cash_backtest(
        invoices, settlements, lambda m: D(1000) if m.month == 4 else D(500), months, backtested=2
    )
    assert bt.forecasts == (D(1280), D(810))
    assert bt.actuals == (D(0), D(230))  # April received nothing; May 200 + 30
    # April's 0 is skipped; May |230 − 810| / 230 = 2.52173… → 252.2 %
    assert bt.mape == D("252.2")
    with pytest.raises(TooShort, match="7 months of history; a 6-month backtest needs 9"):
        series.composed_cash_backtest(
            invoices, settlements, lambda m: D(0), [*months, date(2027, 6, 1), date(2027, 7, 1)]
        )


def test_revenue_backtest_counts_a_contract_only_from_the_month_after_it_became_known():
    # Worked by hand. Schedules (monthly run rate, runs from, known on):
    #   A  account 1  +1,000.00 from 2026-01-01, known 2025-12-20;
    #   B  account 2    +500.00 from 2026-04-01, known 2026-04-10 (activated mid-April, backdated);
    #   C  account 1    −200.00 from 2026-05-01, known 2026-05-03 (an amendment applied in May);
    #   D  account 3    −300.00 from 2025-12-01, known 2025-11-01 (alone: its account counts 0).
    # As known on each month's first day: January–April 1,000 (B unknown on 04-01), May 1,500
    # (B known, C not), June 1,300. Actuals 1,000 / 1,000 / 1,000 / 1,500 / 1,300 / 1,300 →
    # errors 0, 0, 0, 500/1,500 = 33.33 %, 200/1,300 = 15.38 %, 0 → MAPE 48.72 / 6 = 8.1 %.
    # Read as the schedules stand now (known ignored), April would be 1,500 and May 1,300: 0 %.
    schedules = [
        series.ContractedSchedule(1, D("1000"), date(2026, 1, 1), None, date(2025, 12, 20)),
        series.ContractedSchedule(2, D("500"), date(2026, 4, 1), None, date(2026, 4, 10)),
        series.ContractedSchedule(1, D("-200"), date(2026, 5, 1), None, date(2026, 5, 3)),
        series.ContractedSchedule(3, D("-300"), date(2025, 12, 1), None, date(2025, 11, 1)),
    ]
    months = [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)] + [
        date(2026, m, 1) for m in range(1, 7)
    ]
    actual = [D(0), D(0), D(0), *(D(v) for v in ("1000", "1000", "1000", "1500", "1300", "1300"))]

    def forecaster(hist, h):
        return [series.contracted_as_of(schedules, months[len(hist)])]

    bt = series.backtest(actual, forecaster=forecaster)
    assert bt.forecasts == tuple(
        D(v) for v in ("1000.00", "1000.00", "1000.00", "1000.00", "1500.00", "1300.00")
    )
    assert bt.mape == D("8.1")
    # a schedule's end is exclusive: one ending on a month's last day does not run that month
    ended = [series.ContractedSchedule(1, D("10"), date(2026, 1, 1), date(2026, 2, 28), date(2025, 1, 1))]
    assert series.contracted_as_of(ended, date(2026, 1, 1)) == D("10.00")
    assert series.contracted_as_of(ended, date(2026, 2, 1)) == D("0.00")


def test_contracted_as_known_on_a_later_day():
    # The composed cash backtest's billings of May are April's contracted MRR as known on 1 May.
    # B (500 from 2026-04-01, known 2026-04-10) was unknown on 1 April but known by 1 May; C
    # (known 2026-05-03) not yet: April as known on 05-01 = 1,000 + 500 = 1,500.00, as known on
    # 04-01 = 1,000.00.
    schedules = [
        series.ContractedSchedule(1, D("1000"), date(2026, 1, 1), None, date(2025, 12, 20)),
        series.ContractedSchedule(2, D("500"), date(2026, 4, 1), None, date(2026, 4, 10)),
        series.ContractedSchedule(1, D("-200"), date(2026, 4, 1), None, date(2026, 5, 3)),
    ]
    assert series.contracted_as_of(schedules, date(2026, 4, 1)) == D("1000.00")
    assert series.contracted_as_of(schedules, date(2026, 4, 1), known_by=date(2026, 5, 1)) == D("1500.00")
    assert series.contracted_as_of(schedules, date(2026, 4, 1), known_by=date(2026, 5, 4)) == D("1300.00")
