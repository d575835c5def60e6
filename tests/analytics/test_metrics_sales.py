"""Sales metrics, checked against numbers worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from q2c.analytics.metrics import (
    NoRate,
    Opportunity,
    Quote,
    RangeReversed,
    RateTable,
    Stage,
    average_discount,
    bookings,
    pipeline,
    quote_turnaround,
    sales_cycle,
    weighted_pipeline,
    win_rate,
)
from q2c.core.errors import ValidationError
from q2c.core.money import Money
from tests.analytics.conftest import d, eur, usd

RATES = RateTable.fixed("EUR", {"USD": "0.9"})  # 1 USD = 0.90 EUR
Q1_START, Q1_END = d("2027-01-01"), d("2027-04-01")


def _opps() -> list[Opportunity]:
    return [
        Opportunity(1, 1, eur(10000), Decimal("0.5"), Stage.OPEN, d("2027-01-10")),
        Opportunity(2, 2, usd(20000), Decimal("0.25"), Stage.OPEN, d("2027-02-01")),
        Opportunity(3, 3, eur(5000), Decimal(1), Stage.WON, d("2027-01-05"), d("2027-02-15")),
        Opportunity(4, 4, eur(8000), Decimal(0), Stage.LOST, d("2027-01-20"), d("2027-03-10")),
        Opportunity(5, 5, usd(1000), Decimal(1), Stage.WON, d("2026-12-01"), d("2027-03-31")),
        # Won after the range ends: still open at the close of 31 March.
        Opportunity(6, 6, eur(7000), Decimal("0.9"), Stage.WON, d("2027-03-01"), d("2027-04-02")),
    ]


def test_pipeline_sums_the_opportunities_open_at_the_close_of_the_range():
    # Open at 2027-03-31: #1 10,000 + #2 20,000 USD × 0.9 = 18,000 + #6 7,000 = 35,000.00 EUR.
    # #5 closed on 31 March, so it is no longer open at the close of that day.
    assert pipeline(_opps(), Q1_END, RATES) == eur("35000.00")


def test_weighted_pipeline_weights_each_open_amount_by_its_probability():
    # 10,000 × 0.5 + 18,000 × 0.25 + 7,000 × 0.9 = 5,000 + 4,500 + 6,300 = 15,800.00
    assert weighted_pipeline(_opps(), Q1_END, RATES) == eur("15800.00")


def test_bookings_sum_the_opportunities_won_in_the_range_at_their_close_date_rate():
    # #3 5,000 EUR + #5 1,000 USD × 0.9 = 900 → 5,900.00; #6 is won after the range.
    assert bookings(_opps(), Q1_START, Q1_END, RATES) == eur("5900.00")


def test_win_rate_counts_won_against_won_plus_lost_in_the_range():
    # won #3, #5; lost #4 → 2 / 3
    assert win_rate(_opps(), Q1_START, Q1_END) == Decimal(2) / Decimal(3)


def test_sales_cycle_averages_days_from_created_to_won():
    # #3: 5 Jan → 15 Feb = 26 + 15 = 41 days; #5: 1 Dec → 31 Mar = 31 + 31 + 28 + 30 = 120 days.
    cycle = sales_cycle(_opps(), Q1_START, Q1_END)
    assert (cycle.count, cycle.mean_days, cycle.median_days) == (2, Decimal("80.5"), Decimal("80.5"))


def _quotes() -> list[Quote]:
    return [
        Quote(
            1,
            datetime(2027, 1, 4, 9, tzinfo=UTC),
            eur(1000),
            eur(900),
            sent_at=datetime(2027, 1, 5, 21, tzinfo=UTC),
            accepted_at=datetime(2027, 1, 8, 21, tzinfo=UTC),
        ),
        Quote(
            2,
            datetime(2027, 2, 1, 0, tzinfo=UTC),
            usd(2000),
            usd(1500),
            sent_at=datetime(2027, 2, 3, 12, tzinfo=UTC),
        ),
        Quote(3, datetime(2027, 3, 1, tzinfo=UTC), eur(500), eur(100)),  # never sent: not counted
    ]


def test_average_discount_weights_each_sent_quote_by_its_list_amount():
    # q1 discount 100 on 1,000; q2 500 USD on 2,000 USD = 450 on 1,800 EUR → 550 / 2,800
    assert average_discount(_quotes(), Q1_START, Q1_END, RATES) == Decimal(550) / Decimal(2800)


def test_quote_turnaround_measures_created_to_sent_and_sent_to_accepted_in_days():
    # q1 created 4 Jan 09:00 → sent 5 Jan 21:00 = 1.5 days; q2 1 Feb 00:00 → 3 Feb 12:00 = 2.5 days
    # q1 sent 5 Jan 21:00 → accepted 8 Jan 21:00 = 3 days
    t = quote_turnaround(_quotes(), Q1_START, Q1_END)
    assert (t.created_to_sent.count, t.created_to_sent.mean_days) == (2, Decimal(2))
    assert t.created_to_sent.median_days == Decimal(2)
    assert (t.sent_to_accepted.count, t.sent_to_accepted.mean_days) == (1, Decimal(3))


def test_an_empty_range_gives_zero_money_and_no_ratios():
    day = d("2027-02-01")
    assert bookings(_opps(), day, day, RATES) == eur("0.00")
    assert win_rate(_opps(), day, day) is None
    assert average_discount(_quotes(), day, day, RATES) is None
    t = quote_turnaround(_quotes(), day, day)
    assert (t.created_to_sent.count, t.created_to_sent.mean_days, t.created_to_sent.median_days) == (
        0,
        None,
        None,
    )
    assert sales_cycle(_opps(), day, day).mean_days is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: bookings(_opps(), Q1_END, Q1_START, RATES),
        lambda: win_rate(_opps(), Q1_END, Q1_START),
        lambda: average_discount(_quotes(), Q1_END, Q1_START, RATES),
        lambda: quote_turnaround(_quotes(), Q1_END, Q1_START),
        lambda: sales_cycle(_opps(), Q1_END, Q1_START),
    ],
)
def test_a_reversed_range_is_refused_with_a_stable_code(call):
    with pytest.raises(RangeReversed) as err:
        call()
    assert err.value.code == "analytics.range_reversed"
    assert err.value.field == "end"


def test_an_amount_in_a_currency_without_a_rate_is_refused():
    opp = Opportunity(9, 9, Money("10", "CHF"), Decimal("0.5"), Stage.OPEN, d("2027-01-01"))
    with pytest.raises(NoRate) as err:
        pipeline([opp], Q1_END, RATES)
    assert err.value.code == "analytics.no_rate"


def test_an_unknown_reporting_currency_is_refused():
    with pytest.raises(ValidationError) as err:
        RateTable.fixed("XYZ")
    assert err.value.code == "money.invalid_currency"


def test_a_rate_applies_from_its_effective_date():
    rates = RateTable("EUR", {"USD": [(d("2027-01-01"), Decimal("0.9")), (d("2027-03-01"), Decimal("0.8"))]})
    assert rates.rate("USD", d("2027-02-28")) == Decimal("0.9")
    assert rates.rate("USD", d("2027-03-01")) == Decimal("0.8")
    with pytest.raises(NoRate):
        rates.rate("USD", d("2026-12-31"))


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_a_non_positive_rate_is_refused(bad):
    with pytest.raises(ValidationError) as err:
        RateTable.fixed("EUR", {"USD": bad})
    assert err.value.code == "analytics.invalid"


def test_a_probability_outside_zero_to_one_is_refused():
    with pytest.raises(ValidationError) as err:
        Opportunity(1, 1, eur(1), Decimal("1.5"), Stage.OPEN, d("2027-01-01"))
    assert err.value.field == "probability"


def test_an_open_opportunity_with_a_close_date_is_refused():
    with pytest.raises(ValidationError) as err:
        Opportunity(1, 1, eur(1), Decimal("0.5"), Stage.OPEN, d("2027-01-01"), d("2027-01-02"))
    assert err.value.field == "closed_on"


def test_a_quote_day_is_its_utc_date():
    # Sent at 00:30 on 1 April in UTC+02:00 is 22:30 on 31 March UTC: inside Q1.
    sent = datetime.fromisoformat("2027-04-01T00:30:00+02:00")
    q = Quote(7, datetime(2027, 3, 30, tzinfo=UTC), eur(100), eur(90), sent_at=sent)
    assert average_discount([q], Q1_START, Q1_END, RATES) == Decimal("0.1")


@pytest.mark.parametrize(
    ("created", "sent", "accepted"),
    [
        (datetime(2027, 1, 2), None, None),  # naive timestamp
        (datetime(2027, 1, 2, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), None),  # sent before created
        (datetime(2027, 1, 2, tzinfo=UTC), None, datetime(2027, 1, 3, tzinfo=UTC)),  # accepted unsent
    ],
)
def test_quotes_with_impossible_timestamps_are_refused(created, sent, accepted):
    with pytest.raises(ValidationError) as err:
        Quote(1, created, eur(1), eur(1), sent_at=sent, accepted_at=accepted)
    assert err.value.code == "analytics.invalid"
