"""Usage aggregation (issue 11 §1–2): per period, subscription and dimension; local-day
boundaries in the entity's time zone; duplicates ignored; late events as adjustments; batch
validation with per-event errors. Figures are worked out by hand."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.billing.engine.usage import (
    Aggregation,
    Metric,
    UsageError,
    UsageEvent,
    UsagePeriods,
    aggregate,
    validate_batch,
)
from q2c.core.periods import Period

FEB = Period(date(2027, 2, 1), date(2027, 3, 1))
MARCH = Period(date(2027, 3, 1), date(2027, 4, 1))
APRIL = Period(date(2027, 4, 1), date(2027, 5, 1))
BERLIN = UsagePeriods.calendar_months("Europe/Berlin", date(2027, 1, 1), date(2027, 6, 1))


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def ev(eid, ts, quantity="1", sub=1, metric="api_calls", **props):
    return UsageEvent(eid, sub, metric, Decimal(quantity), ts, props)


SUM = {"api_calls": Metric("api_calls", Aggregation.SUM)}


def values(result):
    return [
        (a.subscription_id, a.metric, a.period, a.dimensions, a.value, a.events) for a in result.aggregates
    ]


def test_each_aggregation_over_one_period():
    metrics = {
        "calls": Metric("calls", Aggregation.SUM),
        "peak": Metric("peak", Aggregation.MAX),
        "requests": Metric("requests", Aggregation.COUNT),
        "users": Metric("users", Aggregation.UNIQUE_COUNT, property="user"),
        "storage": Metric("storage", Aggregation.LAST),
    }
    events = [
        ev("c1", utc(2027, 3, 2, 10), "120", metric="calls"),
        ev("c2", utc(2027, 3, 9, 10), "80.5", metric="calls"),
        ev("p1", utc(2027, 3, 2, 10), "7", metric="peak"),
        ev("p2", utc(2027, 3, 3, 10), "12", metric="peak"),
        ev("p3", utc(2027, 3, 4, 10), "9", metric="peak"),
        ev("r1", utc(2027, 3, 2, 10), "5", metric="requests"),
        ev("r2", utc(2027, 3, 3, 10), "5", metric="requests"),
        ev("u1", utc(2027, 3, 2, 10), metric="users", user="ann"),
        ev("u2", utc(2027, 3, 3, 10), metric="users", user="bob"),
        ev("u3", utc(2027, 3, 4, 10), metric="users", user="ann"),
        ev("u4", utc(2027, 3, 5, 10), metric="users"),  # no user: counted as an event, not a user
        ev("s2", utc(2027, 3, 20, 10), "30", metric="storage"),
        ev("s1", utc(2027, 3, 10, 10), "50", metric="storage"),
    ]
    result = aggregate(events, metrics, BERLIN)
    assert [(a.metric, a.value, a.events) for a in result.aggregates] == [
        ("calls", Decimal("200.5"), 2),
        ("peak", Decimal(12), 3),
        ("requests", Decimal(2), 2),
        ("storage", Decimal(30), 2),  # the latest (20 March), not the last listed
        ("users", Decimal(2), 4),
    ]
    assert all(a.period == MARCH for a in result.aggregates)


def test_the_period_is_decided_by_the_local_day_in_the_entity_time_zone():
    # Europe/Berlin: CET (+01:00) until 2027-03-28, CEST (+02:00) after. Local midnight of
    # 1 March is 2027-02-28 23:00 UTC; local midnight of 1 April is 2027-03-31 22:00 UTC.
    events = [
        ev("a", utc(2027, 2, 28, 22, 59, 59), "1"),  # 23:59:59 on 28 Feb in Berlin
        ev("b", utc(2027, 2, 28, 23, 0, 0), "10"),  # 00:00 on 1 March in Berlin
        ev("c", utc(2027, 3, 31, 21, 59, 59), "100"),  # 23:59:59 on 31 March (CEST)
        ev("d", utc(2027, 3, 31, 22, 0, 0), "1000"),  # 00:00 on 1 April
        ev(
            "e", datetime(2027, 4, 1, 6, 30, tzinfo=timezone(timedelta(hours=9))), "10000"
        ),  # 31 Mar 21:30 UTC
    ]
    result = aggregate(events, SUM, BERLIN)
    assert [(a.period, a.value) for a in result.aggregates] == [
        (FEB, Decimal(1)),
        (MARCH, Decimal(10110)),
        (APRIL, Decimal(1000)),
    ]


def test_duplicate_ids_are_ignored_and_the_first_wins():
    events = [ev("x", utc(2027, 3, 2), "5"), ev("y", utc(2027, 3, 3), "7"), ev("x", utc(2027, 3, 4), "500")]
    result = aggregate(events, SUM, BERLIN)
    assert values(result) == [(1, "api_calls", MARCH, (), Decimal(12), 2)]
    assert result.duplicates == ("x",)


def test_out_of_order_events_land_in_their_own_period():
    events = [
        ev("late-feb", utc(2027, 2, 20), "3"),
        ev("mar", utc(2027, 3, 20), "4"),
        ev("jan", utc(2027, 1, 5), "2"),
    ]
    result = aggregate(events, SUM, BERLIN)
    assert [(a.period.start, a.value) for a in result.aggregates] == [
        (date(2027, 1, 1), Decimal(2)),
        (date(2027, 2, 1), Decimal(3)),
        (date(2027, 3, 1), Decimal(4)),
    ]


def test_late_events_for_an_invoiced_period_come_back_as_adjustments_referring_to_it():
    events = [ev("m1", utc(2027, 3, 30), "40", sub=7), ev("a1", utc(2027, 4, 2), "5", sub=7)]
    result = aggregate(events, SUM, BERLIN, invoiced={(7, "api_calls", date(2027, 3, 1))})
    assert [(a.period, a.value, a.adjustment) for a in result.adjustments] == [(MARCH, Decimal(40), True)]
    assert [(a.period, a.value, a.adjustment) for a in result.aggregates] == [(APRIL, Decimal(5), False)]


def test_dimensions_split_an_aggregate_by_property_values():
    metrics = {"tokens": Metric("tokens", Aggregation.SUM, group_by=("region", "model"))}
    events = [
        ev("1", utc(2027, 3, 2), "100", metric="tokens", region="eu", model="small"),
        ev("2", utc(2027, 3, 3), "50", metric="tokens", region="eu", model="small"),
        ev("3", utc(2027, 3, 4), "70", metric="tokens", region="us", model="small"),
        ev("4", utc(2027, 3, 5), "9", metric="tokens", region="eu"),
    ]
    result = aggregate(events, metrics, BERLIN)
    assert [(a.dimensions, a.value) for a in result.aggregates] == [
        ((("region", "eu"), ("model", "small")), Decimal(150)),
        ((("region", "eu"), ("model", None)), Decimal(9)),
        ((("region", "us"), ("model", "small")), Decimal(70)),
    ]


def test_subscriptions_with_their_own_periods_are_cut_on_their_own_days():
    # Subscription 2 bills usage from the 15th: [Mar 15, Apr 15) holds both events (local days).
    periods = UsagePeriods(
        "Europe/Berlin",
        [MARCH, APRIL],
        {2: [Period(date(2027, 2, 15), date(2027, 3, 15)), Period(date(2027, 3, 15), date(2027, 4, 15))]},
    )
    events = [
        ev("1", utc(2027, 3, 14, 22, 59), "1", sub=2),  # 23:59 on 14 March
        ev("2", utc(2027, 3, 14, 23, 0), "2", sub=2),  # 00:00 on 15 March
        ev("3", utc(2027, 4, 10), "4", sub=2),
        ev("4", utc(2027, 4, 10), "8", sub=1),
    ]
    result = aggregate(events, SUM, periods)
    assert [(a.subscription_id, a.period, a.value) for a in result.aggregates] == [
        (1, APRIL, Decimal(8)),
        (2, Period(date(2027, 2, 15), date(2027, 3, 15)), Decimal(1)),
        (2, Period(date(2027, 3, 15), date(2027, 4, 15)), Decimal(6)),
    ]
    assert periods.locate(2, utc(2027, 3, 14, 23, 0)) == Period(date(2027, 3, 15), date(2027, 4, 15))


def test_events_that_cannot_be_placed_are_rejected_not_dropped():
    events = [
        ev("u", utc(2027, 3, 2), metric="unknown"),
        ev("n", datetime(2027, 3, 2), "1"),
        ev("o", utc(2030, 1, 1), "1"),
        ev("ok", utc(2027, 3, 2), "1"),
    ]
    result = aggregate(events, SUM, BERLIN)
    assert [(r.index, r.id, r.code) for r in result.rejected] == [
        (0, "u", "usage.unknown_metric"),
        (1, "n", "usage.naive_timestamp"),
        (2, "o", "usage.outside_periods"),
    ]
    assert values(result) == [(1, "api_calls", MARCH, (), Decimal(1), 1)]


def test_a_period_without_events_has_no_aggregate():
    # Northwind: February has no API calls, so no usage line (shared/scenarios/northwind.md).
    result = aggregate([ev("m", utc(2027, 3, 5), "350000")], SUM, BERLIN)
    assert [a.period for a in result.aggregates] == [MARCH]


def test_bad_usage_setup_is_refused():
    with pytest.raises(UsageError):
        UsagePeriods("Mars/Olympus_Mons", [MARCH])
    with pytest.raises(UsageError):
        UsagePeriods("UTC", [MARCH, Period(date(2027, 3, 15), date(2027, 4, 15))])
    with pytest.raises(UsageError):
        Metric("users", Aggregation.UNIQUE_COUNT)
    with pytest.raises(UsageError):
        Metric("x", "median")  # type: ignore[arg-type]


# --- ingestion batches --------------------------------------------------------------------------

NOW = utc(2027, 4, 2, 12)
SUBS = {1: date(2027, 2, 1), 2: None}


def good(eid="e1", **over):
    raw = {
        "id": eid,
        "subscription_id": 1,
        "metric": "api_calls",
        "quantity": "3",
        "timestamp": "2027-03-05T10:00:00+01:00",
        "properties": {"region": "eu", "gpu": 1},
    }
    raw.update(over)
    return raw


def test_a_valid_batch_becomes_events():
    events, errors = validate_batch(
        [good(), good("e2", quantity=4)], metrics={"api_calls"}, subscriptions=SUBS, now=NOW
    )
    assert errors == []
    assert [(e.id, e.quantity, e.timestamp, e.properties) for e in events] == [
        ("e1", Decimal(3), utc(2027, 3, 5, 9), {"region": "eu", "gpu": "1"}),
        ("e2", Decimal(4), utc(2027, 3, 5, 9), {"region": "eu", "gpu": "1"}),
    ]


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        (good(subscription_id=99), "usage.unknown_subscription", "subscription_id"),
        (good(metric="gpu_hours"), "usage.unknown_metric", "metric"),
        (good(quantity="-1"), "usage.negative_quantity", "quantity"),
        (good(quantity=1.5), "usage.invalid_quantity", "quantity"),
        (good(quantity="lots"), "usage.invalid_quantity", "quantity"),
        (good(quantity="1e20"), "usage.invalid_quantity", "quantity"),
        (good(quantity="0.0000000000001"), "usage.invalid_quantity", "quantity"),
        (good(timestamp="2027-03-05T10:00:00"), "usage.naive_timestamp", "timestamp"),
        (good(timestamp="yesterday"), "usage.invalid_timestamp", "timestamp"),
        (good(timestamp="2027-04-02T12:06:00Z"), "usage.future_timestamp", "timestamp"),
        (good(timestamp="2027-01-31T22:59:59Z"), "usage.before_subscription", "timestamp"),
        (good(properties=["region"]), "usage.invalid_properties", "properties"),
        (good(properties={"ratio": 0.5}), "usage.invalid_properties", "properties"),
        (good(id=""), "usage.invalid_id", "id"),
        ("not an object", "usage.malformed_event", None),
    ],
)
def test_each_bad_event_gets_its_own_error_and_the_rest_are_kept(raw, code, field):
    events, errors = validate_batch(
        [good("ok"), raw], metrics={"api_calls"}, subscriptions=SUBS, now=NOW, tz="Europe/Berlin"
    )
    assert [e.id for e in events] == ["ok"]
    assert [(e.index, e.code, e.field) for e in errors] == [(1, code, field)]


def test_an_event_dated_at_local_midnight_of_the_start_day_is_accepted():
    # 2027-01-31 23:00 UTC is 00:00 on 1 February in Berlin, the subscription's first day.
    events, errors = validate_batch(
        [good(timestamp="2027-01-31T23:00:00Z")],
        metrics={"api_calls"},
        subscriptions=SUBS,
        now=NOW,
        tz="Europe/Berlin",
    )
    assert errors == [] and len(events) == 1


def test_a_repeated_id_within_a_batch_is_an_error_for_the_repeat():
    events, errors = validate_batch(
        [good("a"), good("a")], metrics={"api_calls"}, subscriptions=SUBS, now=NOW
    )
    assert [e.id for e in events] == ["a"]
    assert [(e.index, e.code) for e in errors] == [(1, "usage.duplicate_in_batch")]


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        ({"id": "x"}, "usage.malformed_batch"),
        ([], "usage.empty_batch"),
        ([good()] * 3, "usage.batch_too_large"),
    ],
)
def test_a_malformed_batch_is_refused_whole(batch, code):
    with pytest.raises(UsageError) as err:
        validate_batch(batch, metrics={"api_calls"}, subscriptions=SUBS, now=NOW, max_batch=2)
    assert err.value.code == code


# --- properties ---------------------------------------------------------------------------------

METRICS = {
    "s": Metric("s", Aggregation.SUM, group_by=("region",)),
    "m": Metric("m", Aggregation.MAX),
    "c": Metric("c", Aggregation.COUNT),
    "u": Metric("u", Aggregation.UNIQUE_COUNT, property="user"),
    "l": Metric("l", Aggregation.LAST),
}
START = utc(2027, 1, 1)


@st.composite
def event_sets(draw):
    n = draw(st.integers(min_value=0, max_value=60))
    out = []
    for i in range(n):
        out.append(
            UsageEvent(
                f"e{i}",
                draw(st.integers(1, 3)),
                draw(st.sampled_from(sorted(METRICS))),
                Decimal(draw(st.integers(0, 10**6))) / 100,
                START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 150))),
                {
                    "region": draw(st.sampled_from(["eu", "us"])),
                    "user": draw(st.sampled_from(["a", "b", "c"])),
                },
            )
        )
    return out


@settings(max_examples=200, deadline=None)
@given(event_sets(), st.randoms(use_true_random=False), st.data())
def test_aggregation_is_order_independent_and_duplicate_insensitive(events, rnd, data):
    expected = aggregate(events, METRICS, BERLIN)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=20)) if events else []
    noisy = shuffled + repeats
    rnd.shuffle(noisy)
    again = aggregate(noisy, METRICS, BERLIN)
    assert again.aggregates == expected.aggregates
    assert again.adjustments == expected.adjustments
    assert len(again.duplicates) == len(repeats)


def test_sums_stay_exact_beyond_decimals_default_precision():
    # Three of the largest quantities validate_batch accepts (15 integer and 12 decimal digits):
    # the sum has 29 significant digits, one more than Decimal's default context keeps.
    q = "999999999999999.999999999999"
    events = [ev(f"big{i}", utc(2027, 3, 2), q) for i in range(3)]
    (agg,) = aggregate(events, SUM, BERLIN).aggregates
    assert agg.value == Decimal("2999999999999999.999999999997")
