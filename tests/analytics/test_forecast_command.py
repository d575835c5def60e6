"""``q2c forecast`` over the small company of ``world.py`` on 2027-04-02 (EUR), worked out by hand:

- contracted: C-1, 50 SEAT × 25.50 = 1,275.00 a month from 2027-02-01 for 12 months → 1,275.00 in
  May, June and July;
- weighted pipeline: O3's TCV 24,300.00 × 50 % = 12,150.00, spread over its quote's 12 months from
  May (no expected close date: taken to close this month) = 1,012.50;
- usage: no usage revenue, and only 2 months (February, March) of history → no forecast, said so;
  the totals stay empty rather than guessed;
- cash: open EUR receivables I2 2,380 − 1,000 paid = 1,380.00 (due 03-03) and I4 595 − 119 credit
  = 476.00 (due 04-14); Northwind paid I1 (due 02-03) on 01-20, 14 days early → expected 02-17 and
  03-31, both before today → this month: 1,856.00; nothing left for May–July. Expected billings of
  May = April's contracted 1,275.00. The USD invoice I3 is another currency and not counted;
- both backtests need 9 months of history and say so.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.analytics import world

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("forecast", *args, stdout=out)
    return json.loads(out.getvalue())


def test_forecast_of_the_small_company_by_hand(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    world.build()
    data = run("--as-of", "2027-04-02", "--json")
    assert data["currency"] == "EUR"
    rev = data["revenue"]
    assert [m["month"] for m in rev["months"]] == ["2027-05-01", "2027-06-01", "2027-07-01"]
    for m in rev["months"]:
        assert (m["contracted"], m["weighted_pipeline"], m["usage"], m["total"]) == (
            "1275.00",
            "1012.50",
            None,
            None,
        )
    assert rev["notes"] == ["usage: 2 months of history; at least 3 are needed"]
    assert rev["backtest"] == {
        "mape_percent": None,
        "insufficient": "2 months of history; a 6-month backtest needs 9",
    }
    cash = data["cash"]
    assert cash["open_receivables"] == "1856.00"
    assert cash["expected_this_month_from_open_receivables"] == "1856.00"
    assert [(m["open_receivables"], m["expected_billings"]) for m in cash["months"]] == [
        ("0", "1275.00"), ("0", "1275.00"), ("0", "1275.00"),
    ]  # fmt: skip
    assert cash["backtest"]["mape_percent"] is None
    assert cash["composed_backtest"] == {
        "mape_percent": None,
        "insufficient": "2 months of history; a 6-month backtest needs 9",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--months", "0"), "--months: a whole number from 1 to 12"),
        (("--months", "1e9"), "--months: a whole number from 1 to 12"),
        (("--currency", "XYZ"), "--currency: 'XYZ' is not an ISO 4217 currency code"),
        (("--as-of", "2027-02-30"), "'2027-02-30' is not a date in the form YYYY-MM-DD"),
    ],
)
def test_bad_options_are_refused_naming_them(args, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("forecast", *args, stdout=StringIO())
    assert info.value.returncode == 2


def test_revenue_backtest_reads_each_schedule_with_the_day_billing_created_it(settings, tmp_path):
    # C-1 was accepted (and so signed and activated) on 2027-01-20 at 09:00 Berlin (08:00 UTC):
    # billing created its schedule that day — 50 SEAT × 25.50 = 1,275.00 a month from
    # 2027-02-01 for 12 months (end exclusive 2028-02-01). Contoso (USD) has no contract.
    from q2c.analytics.forecasting import forecast, series

    settings.VAR_DIR = tmp_path
    w = world.build()
    got = forecast._contracted_schedules("EUR")
    assert got == [
        series.ContractedSchedule(
            w["northwind"].pk, Decimal("1275.00"), date(2027, 2, 1), date(2028, 2, 1), date(2027, 1, 20)
        )
    ]
    # so a forecast made on 2027-01-01 knew none of it, one made on 2027-02-01 all of it
    assert series.contracted_as_of(got, date(2027, 1, 1)) == Decimal("0.00")
    assert series.contracted_as_of(got, date(2027, 2, 1)) == Decimal("1275.00")
    assert forecast._contracted_schedules("USD") == []
