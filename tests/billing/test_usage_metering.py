"""Usage metering end to end (``q2c.billing.usage``): ingestion batches (idempotent by event id,
per-event errors, nothing half-written, months by the entity's time zone), the usage close in the
bill run (catalog price models, tier breakdown, allowance, commitment, dimensions, late events as
adjustments referring to their month) and the month-end unbilled usage.

Expected amounts by hand from Northwind's API tiers (../shared/scenarios/northwind.md: 0–100,000
at 0.00; 100,001–1,000,000 at 0.002; above at 0.001): March 350,000 calls = 250,000 × 0.002 =
500.00; April 420,000 = 320,000 × 0.002 = 640.00; 10,000 late March calls raise March to 360,000 =
520.00, an adjustment of 20.00. VAT 19 % (Northwind, DE business).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from q2c.billing import queries
from q2c.billing.engine.usage import UsageError
from q2c.billing.models import Charge, UsageEvent, UsageMetric, UsagePending
from q2c.billing.run import bill_run
from q2c.billing.usage import ingest
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.ledger import queries as ledger_queries
from tests.billing.usage_world import at_berlin, catalog, event, northwind_usage_world, usage_contract

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    return northwind_usage_world()


def march(sub: Any) -> list[dict[str, Any]]:
    """350,000 calls in March, out of order."""
    return [
        event("m3", sub.pk, 50_000, at_berlin(date(2027, 3, 30))),
        event("m1", sub.pk, 100_000, at_berlin(date(2027, 3, 2))),
        event("m2", sub.pk, "200000", at_berlin(date(2027, 3, 15))),
    ]


# --- ingestion -------------------------------------------------------------------------------------


def test_a_batch_is_stored_and_resending_it_stores_nothing_twice(world):
    clk, _, _, sub = world
    clk.set(date(2027, 4, 1))
    first = ingest(march(sub))
    assert (first.received, first.accepted, first.duplicates, first.errors) == (3, 3, 0, [])
    again = ingest([*march(sub), event("m4", sub.pk, 1, at_berlin(date(2027, 3, 31)))])
    assert (again.accepted, again.duplicates) == (1, 3)
    assert UsageEvent.objects.count() == 4
    assert set(UsagePending.objects.values_list("subscription_id", "period_start")) == {
        (sub.pk, date(2027, 3, 1))
    }


def test_events_land_in_the_month_of_their_timestamp_in_the_entity_time_zone(world):
    clk, _, _, sub = world
    clk.set(date(2027, 4, 2))
    ingest([
        # 2027-02-28 23:30 UTC is 2027-03-01 00:30 in Berlin (CET, +1): March.
        event("a", sub.pk, 1, "2027-02-28T23:30:00+00:00"),
        # 2027-03-31 21:59:59 UTC is 23:59:59 in Berlin (CEST, +2 since 03-28): still March.
        event("b", sub.pk, 1, "2027-03-31T21:59:59Z"),
        # 2027-03-31 22:00 UTC is 2027-04-01 00:00 in Berlin: April.
        event("c", sub.pk, 1, "2027-03-31T22:00:00+00:00"),
        # 2027-02-28 22:59 UTC is 23:59 in Berlin: February.
        event("d", sub.pk, 1, "2027-02-28T22:59:00+00:00"),
    ])  # fmt: skip
    months = dict(UsageEvent.objects.values_list("event_id", "period_start"))
    assert months == {
        "a": date(2027, 3, 1),
        "b": date(2027, 3, 1),
        "c": date(2027, 4, 1),
        "d": date(2027, 2, 1),
    }


def test_bad_events_come_back_one_by_one_and_the_good_ones_are_stored(world):
    clk, _, _, sub = world
    clk.set(date(2027, 3, 10))
    ts = at_berlin(date(2027, 3, 5))
    result = ingest([
        event("ok", sub.pk, 5, ts),
        event("unknown-sub", 999_999, 5, ts),
        event("unknown-metric", sub.pk, 5, ts, metric="gb"),
        event("negative", sub.pk, -1, ts),
        event("float", sub.pk, 1.5, ts),
        event("huge", sub.pk, "1e20", ts),
        event("naive", sub.pk, 1, "2027-03-05T10:00:00"),
        event("future", sub.pk, 1, at_berlin(date(2027, 3, 12))),
        event("before", sub.pk, 1, at_berlin(date(2027, 1, 31))),
        event("ok", sub.pk, 5, ts),
        "not an event",
        {"id": "no-sub", "metric": "api_calls", "quantity": 1, "timestamp": ts},
        event("<b>html</b>", sub.pk, 1, ts, properties={"region": {"nested": 1}}),
    ])  # fmt: skip
    assert result.accepted == 1
    assert [(e["index"], e["code"], e["field"]) for e in result.errors] == [
        (1, "usage.unknown_subscription", "subscription_id"),
        (2, "usage.unknown_metric", "metric"),
        (3, "usage.negative_quantity", "quantity"),
        (4, "usage.invalid_quantity", "quantity"),
        (5, "usage.invalid_quantity", "quantity"),
        (6, "usage.naive_timestamp", "timestamp"),
        (7, "usage.future_timestamp", "timestamp"),
        (8, "usage.before_subscription", "timestamp"),
        (9, "usage.duplicate_in_batch", "id"),
        (10, "usage.malformed_event", None),
        (11, "usage.unknown_subscription", "subscription_id"),
        (12, "usage.invalid_properties", "properties"),
    ]
    assert list(UsageEvent.objects.values_list("event_id", "quantity")) == [("ok", D(5))]


def test_an_event_after_the_subscription_ended_is_refused(world):
    clk, acme, northwind, _ = world
    ended = usage_contract(acme, northwind, contract_id=2, start=date(2027, 2, 1), end=date(2027, 3, 1))
    clk.set(date(2027, 3, 10))
    result = ingest([event("late-in-term", ended.pk, 1, at_berlin(date(2027, 3, 2)))])
    assert [e["code"] for e in result.errors] == ["usage.after_subscription"]


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        ({"id": "x"}, "usage.malformed_batch"),
        ([], "usage.empty_batch"),
        ([{}] * 10_001, "usage.batch_too_large"),
    ],
)
def test_a_malformed_batch_is_refused_whole(world, batch, code):
    with pytest.raises(UsageError) as info:
        ingest(batch)
    assert info.value.code == code
    assert not UsageEvent.objects.exists()


def test_an_event_may_name_the_customer_instead_of_the_subscription(world):
    clk, _, northwind, sub = world
    clk.set(date(2027, 3, 10))
    result = ingest([
        {"id": "by-account", "account_id": northwind.pk, "metric": "api_calls", "quantity": 3,
         "timestamp": at_berlin(date(2027, 3, 5))},
        {"id": "nobody", "account_id": 987_654, "metric": "api_calls", "quantity": 3,
         "timestamp": at_berlin(date(2027, 3, 5))},
    ])  # fmt: skip
    assert [e["code"] for e in result.errors] == ["usage.unknown_customer"]
    assert UsageEvent.objects.get().subscription_id == sub.pk


# --- rating in the bill run --------------------------------------------------------------------------


def test_march_usage_is_billed_on_april_first_with_its_tier_breakdown(world):
    clk, acme, _, sub = world
    clk.set(date(2027, 4, 1))
    ingest(march(sub))
    bill_run(date(2027, 4, 1), actor="test")
    inv = Invoice.objects.get()
    assert (inv.number, inv.net_minor, inv.tax_minor, inv.total_minor) == (
        "INV-2027-000001",
        50000,
        9500,
        59500,
    )
    line = InvoiceLine.objects.get(invoice=inv)
    assert (line.item_id, line.quantity, line.net_minor, line.service_start, line.service_end, line.posting) == (
        "API", D(350_000), 50000, date(2027, 3, 1), date(2027, 4, 1), "unbilled",
    )  # fmt: skip
    charge = Charge.objects.get()
    assert charge.tiers == [
        {"lower": "1", "upper": "100000", "quantity": "100000", "unit_price": "0", "amount": "0.00"},
        {
            "lower": "100001",
            "upper": "1000000",
            "quantity": "250000",
            "unit_price": "0.002",
            "amount": "500.00",
        },
    ]
    # The invoice line shows the same breakdown; its tiers add up to the line.
    assert line.tiers == charge.tiers
    # Usage lines credit unbilled receivables (their revenue is recognised as it occurs).
    assert ledger_queries.trial_balance(acme.pk, date(2027, 4, 30)).by_key()[
        "unbilled_receivables"
    ].amount == D("-500.00")
    # A second run of the date bills nothing more.
    bill_run(date(2027, 4, 1), actor="test")
    assert Invoice.objects.count() == 1 and Charge.objects.count() == 1


def test_a_month_without_usage_has_no_usage_line(world):
    clk, _, _, _sub = world
    clk.set(date(2027, 3, 1))
    bill_run(date(2027, 3, 1), actor="test")
    assert not Invoice.objects.exists() and not Charge.objects.exists()


def test_late_events_for_an_invoiced_month_are_an_adjustment_on_the_next_invoice(world):
    clk, _, _, sub = world
    clk.set(date(2027, 4, 1))
    ingest(march(sub))
    bill_run(date(2027, 4, 1), actor="test")
    clk.set(date(2027, 4, 10))
    ingest([
        event("late", sub.pk, 10_000, at_berlin(date(2027, 3, 20))),
        event("a1", sub.pk, 420_000, at_berlin(date(2027, 4, 9))),
    ])  # fmt: skip
    clk.set(date(2027, 5, 1))
    bill_run(date(2027, 5, 1), actor="test")
    may = Invoice.objects.get(number="INV-2027-000002")
    # April 640.00 + March adjustment 20.00 = 660.00; VAT 19 % = 125.40.
    assert (may.net_minor, may.tax_minor, may.total_minor) == (66000, 12540, 78540)
    lines = [
        (ln.description, ln.net_minor, ln.service_start) for ln in InvoiceLine.objects.filter(invoice=may)
    ]
    assert sorted(lines, key=lambda x: x[2]) == [
        ("API — API calls, usage 2027-03 — late usage adjustment", 2000, date(2027, 3, 1)),
        ("API — API calls, usage 2027-04", 64000, date(2027, 4, 1)),
    ]


def test_an_allowance_is_used_before_the_tiers_and_a_commitment_is_trued_up(world):
    clk, _, _, sub = world
    sub.included = D(50_000)
    sub.minimum = D("450.00")
    sub.save()
    clk.set(date(2027, 4, 1))
    ingest([event("x", sub.pk, 150_000, at_berlin(date(2027, 3, 3)))])
    bill_run(date(2027, 4, 1), actor="test")
    # 150,000 − 50,000 included = 100,000 billable, all in the free tier: 0.00; true-up to 450.00.
    assert sorted((c.kind, c.amount_minor) for c in Charge.objects.all()) == [("usage", 45000)]
    assert Invoice.objects.get().net_minor == 45000


def test_the_allowance_moves_the_tiers(world):
    clk, _, _, sub = world
    sub.included = D(50_000)
    sub.save()
    clk.set(date(2027, 4, 1))
    ingest(march(sub))
    bill_run(date(2027, 4, 1), actor="test")
    # 350,000 − 50,000 = 300,000 billable: 100,000 × 0.00 + 200,000 × 0.002 = 400.00.
    assert Invoice.objects.get().net_minor == 40000


def test_dimensions_are_rated_apart(world):
    clk, _, _, sub = world
    UsageMetric.objects.filter(code="api_calls").update(group_by=["region"])
    clk.set(date(2027, 4, 1))
    ingest([
        event("eu1", sub.pk, 150_000, at_berlin(date(2027, 3, 3)), properties={"region": "eu"}),
        event("eu2", sub.pk, 50_000, at_berlin(date(2027, 3, 4)), properties={"region": "eu"}),
        event("us1", sub.pk, 150_000, at_berlin(date(2027, 3, 5)), properties={"region": "us"}),
    ])  # fmt: skip
    bill_run(date(2027, 4, 1), actor="test")
    # eu 200,000 → 100,000 × 0.002 = 200.00; us 150,000 → 50,000 × 0.002 = 100.00.
    assert sorted((c.dimension, c.amount_minor) for c in Charge.objects.all()) == [
        ("region=eu", 20000),
        ("region=us", 10000),
    ]


def test_a_maximum_metric_bills_a_late_peak_and_ignores_a_late_lower_value(world):
    clk, acme, northwind, _ = world
    catalog("GB", "STORE", "storage_gb", "max", {"model": "per_unit", "price": "0.50"})
    gb = usage_contract(acme, northwind, contract_id=2, sku="GB", charge="STORE", key="5")
    clk.set(date(2027, 4, 1))
    ingest([event(f"g{i}", gb.pk, q, at_berlin(date(2027, 3, 1 + i)), metric="storage_gb")
            for i, q in enumerate((10, 30, 20))])  # fmt: skip
    bill_run(date(2027, 4, 1), actor="test")
    assert Invoice.objects.get().net_minor == 1500  # max 30 × 0.50
    clk.set(date(2027, 4, 5))
    ingest([event("g-late-low", gb.pk, 25, at_berlin(date(2027, 3, 20)), metric="storage_gb")])
    clk.set(date(2027, 4, 6))
    bill_run(date(2027, 4, 6), actor="test")
    assert Invoice.objects.count() == 1  # 25 < 30: nothing to adjust
    ingest([event("g-late-peak", gb.pk, 40, at_berlin(date(2027, 3, 21)), metric="storage_gb")])
    clk.set(date(2027, 4, 7))
    bill_run(date(2027, 4, 7), actor="test")
    assert Invoice.objects.order_by("-id").first().net_minor == 500  # (40 − 30) × 0.50


def test_a_volume_and_a_package_price_rate_as_the_catalog_says(world):
    clk, acme, northwind, _ = world
    catalog(
        "VOL",
        "CALLS",
        "vol_calls",
        "sum",
        {
            "model": "volume",
            "tiers": [
                {"lower": "0", "upper": "100000", "unit_price": "0.003"},
                {"lower": "100000", "unit_price": "0.002"},
            ],
        },
    )
    catalog("PKG", "CALLS", "pkg_calls", "sum", {"model": "package", "price": "1.50", "block_size": "1000"})
    vol = usage_contract(acme, northwind, contract_id=2, sku="VOL", key="6")
    pkg = usage_contract(acme, northwind, contract_id=3, sku="PKG", key="7")
    clk.set(date(2027, 4, 1))
    ingest([event("v", vol.pk, 350_000, at_berlin(date(2027, 3, 3)), metric="vol_calls"),
            event("p", pkg.pk, 350_001, at_berlin(date(2027, 3, 3)), metric="pkg_calls")])  # fmt: skip
    bill_run(date(2027, 4, 1), actor="test")
    # Volume: all 350,000 at the reached tier's 0.002 = 700.00. Package: 351 started blocks × 1.50 = 526.50.
    assert sorted((c.item_id, c.amount_minor) for c in Charge.objects.all()) == [
        ("PKG", 52650),
        ("VOL", 70000),
    ]


def test_a_subscription_without_a_price_is_reported_and_its_usage_waits(world):
    clk, acme, northwind, _ = world
    from q2c.catalog import services as cat

    cat.create_product({"sku": "NOPRICE", "name": "No price", "type": "usage", "unit": "call"})
    cat.create_charge(
        {"sku": "NOPRICE", "code": "CALLS", "kind": "usage", "usage_metric": "np", "usage_aggregation": "sum"}
    )
    s = usage_contract(acme, northwind, contract_id=2, sku="NOPRICE", key="8")
    clk.set(date(2027, 4, 1))
    ingest([event("n", s.pk, 5, at_berlin(date(2027, 3, 3)), metric="np")])
    result = bill_run(date(2027, 4, 1), actor="test")
    assert [e["code"] for e in result.errors] == ["billing.price_missing"]
    assert UsagePending.objects.filter(subscription_id=s.pk).exists()


# --- month-end accrual ------------------------------------------------------------------------------


def test_unbilled_usage_is_what_occurred_and_is_not_yet_invoiced(world):
    clk, acme, _, sub = world
    clk.set(date(2027, 3, 31))
    ingest(march(sub))
    (row,) = queries.unbilled_usage(date(2027, 3, 31))
    assert (row.period_start, row.quantity, str(row.amount), row.revenue_category) == (
        date(2027, 3, 1), D(350_000), "500.00 EUR", "usage",
    )  # fmt: skip
    clk.set(date(2027, 4, 1))
    bill_run(date(2027, 4, 1), actor="test")
    clk.set(date(2027, 4, 30))
    ingest([event("a1", sub.pk, 400_000, at_berlin(date(2027, 4, 9))),
            event("a2", sub.pk, 20_000, at_berlin(date(2027, 4, 30), 8, 59))])  # fmt: skip
    # Asked later, the March figure is what it was at 03-31 (INV on 04-01 is after it).
    assert [str(r.amount) for r in queries.unbilled_usage(date(2027, 3, 31))] == ["500.00 EUR"]
    assert [(r.period_start, str(r.amount)) for r in queries.unbilled_usage(date(2027, 4, 30))] == [
        (date(2027, 4, 1), "640.00 EUR")
    ]
    # Mid-month: April's calls to 04-15 only (400,000 → 300,000 × 0.002 = 600.00).
    assert [str(r.amount) for r in queries.unbilled_usage(date(2027, 4, 15), entity_id=acme.pk)] == [
        "600.00 EUR"
    ]
