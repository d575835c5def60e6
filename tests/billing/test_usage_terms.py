"""A usage subscription's terms (``q2c.billing.usage.set_usage_terms``): prices per dimension value
(an override for region=EU, the catalog's price for the other values, or a default override),
the allowance and minimum commitment from a month on (months already rated keep theirs), bad
input refused naming the field with nothing written, and the API's roles.

Expected amounts worked out by hand from the price tables written in each test (Northwind's
catalog tiers: 0–100,000 at 0.00; 100,001–1,000,000 at 0.002; above at 0.001).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from q2c.billing import queries
from q2c.billing.models import Charge, UsageMetric, UsageTerms
from q2c.billing.run import bill_run
from q2c.billing.usage import UsageRefused, ingest, set_usage_terms
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.platform.auth import ApiToken
from tests.billing.usage_world import at_berlin, event, northwind_usage_world
from tests.billing.world import user

pytestmark = pytest.mark.django_db

EU_TIERS = [
    {"lower": "0", "upper": "100000", "unit_price": "0"},
    {"lower": "100000", "unit_price": "0.003"},
]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    return northwind_usage_world()


def by_region(sub: Any, day: date = date(2027, 3, 3), **quantities: int) -> None:
    ingest([
        event(f"{region}-{day}", sub.pk, q, at_berlin(day), properties={"region": region})
        for region, q in quantities.items()
    ])  # fmt: skip


# --- prices per dimension value ---------------------------------------------------------------------


def test_a_region_has_its_own_tiers_and_the_other_regions_the_catalog_price(world):
    clk, _, _, sub = world
    UsageMetric.objects.filter(code="api_calls").update(group_by=["region"])
    set_usage_terms(sub.pk, {"effective_from": "2027-03-01",
                             "prices": [{"dimension": {"region": "EU"}, "model": "tiered", "tiers": EU_TIERS}]})  # fmt: skip
    clk.set(date(2027, 4, 1))
    by_region(sub, EU=200_000, US=150_000, APAC=120_000)
    bill_run(date(2027, 4, 1), actor="test")
    # EU (override): 100,000 × 0.00 + 100,000 × 0.003 = 300.00
    # US (catalog): 100,000 × 0.00 + 50,000 × 0.002 = 100.00; APAC: 20,000 × 0.002 = 40.00
    assert sorted((c.dimension, c.amount_minor) for c in Charge.objects.all()) == [
        ("region=APAC", 4000), ("region=EU", 30000), ("region=US", 10000),
    ]  # fmt: skip
    inv = Invoice.objects.get()
    assert inv.net_minor == 44000
    eu = InvoiceLine.objects.get(invoice=inv, net_minor=30000)
    assert eu.tiers == [
        {"lower": "1", "upper": "100000", "quantity": "100000", "unit_price": "0", "amount": "0.00"},
        {"lower": "100001", "upper": None, "quantity": "100000", "unit_price": "0.003", "amount": "300.00"},
    ]
    assert "price for region=EU" in Charge.objects.get(dimension="region=EU").detail
    # The explorer names the price each dimension got.
    (month,) = queries.usage_explorer(sub.pk)["months"]
    assert [(a["dimension"], a["price"], a["amount"]) for a in month["aggregates"]] == [
        ("region=APAC", "", "40.00"), ("region=EU", "region=EU", "300.00"), ("region=US", "", "100.00"),
    ]  # fmt: skip
    assert month["aggregates"][1]["tiers"][1]["unit_price"] == "0.003"


def test_the_most_specific_override_wins_and_a_default_override_prices_the_rest(world):
    clk, _, _, sub = world
    UsageMetric.objects.filter(code="api_calls").update(group_by=["region", "model"])
    set_usage_terms(sub.pk, {"effective_from": "2027-03-01", "prices": [
        {"dimension": {}, "model": "per_unit", "price": "0.001"},
        {"dimension": {"region": "EU"}, "model": "per_unit", "price": "0.005"},
        {"dimension": {"region": "EU", "model": "large"}, "model": "per_unit", "price": "0.01"},
    ]})  # fmt: skip
    clk.set(date(2027, 4, 1))
    ingest([
        event("a", sub.pk, 1000, at_berlin(date(2027, 3, 3)), properties={"region": "EU", "model": "large"}),
        event("b", sub.pk, 1000, at_berlin(date(2027, 3, 3)), properties={"region": "EU", "model": "small"}),
        event("c", sub.pk, 1000, at_berlin(date(2027, 3, 3)), properties={"region": "US", "model": "large"}),
    ])  # fmt: skip
    bill_run(date(2027, 4, 1), actor="test")
    # 1,000 × 0.01 = 10.00 (EU large); 1,000 × 0.005 = 5.00 (EU small); 1,000 × 0.001 = 1.00 (US).
    assert sorted((c.dimension, c.amount_minor) for c in Charge.objects.all()) == [
        ("region=EU,model=large", 1000), ("region=EU,model=small", 500), ("region=US,model=large", 100),
    ]  # fmt: skip


def test_a_metric_without_dimensions_takes_a_default_override(world):
    clk, _, _, sub = world
    set_usage_terms(sub.pk, {"effective_from": "2027-03-01",
                             "prices": [{"model": "package", "price": "5.00", "block_size": "100000"}]})  # fmt: skip
    clk.set(date(2027, 4, 1))
    ingest([event("x", sub.pk, 350_000, at_berlin(date(2027, 3, 3)))])
    bill_run(date(2027, 4, 1), actor="test")
    # ceil(350,000 ÷ 100,000) = 4 blocks × 5.00 = 20.00 (the catalog's tiers would give 500.00).
    assert [c.amount_minor for c in Charge.objects.all()] == [2000]


# --- terms from a month on ------------------------------------------------------------------------


def test_terms_apply_from_their_month_and_late_events_keep_their_month_terms(world):
    clk, _, _, sub = world
    clk.set(date(2027, 4, 1))
    ingest([event("m", sub.pk, 350_000, at_berlin(date(2027, 3, 10)))])
    bill_run(date(2027, 4, 1), actor="test")  # March: 250,000 × 0.002 = 500.00
    set_usage_terms(sub.pk, {"effective_from": "2027-04-01", "included": "50000", "minimum": "700.00"})
    clk.set(date(2027, 4, 20))
    ingest([
        event("a", sub.pk, 420_000, at_berlin(date(2027, 4, 9))),
        event("late", sub.pk, 10_000, at_berlin(date(2027, 3, 20))),
    ])  # fmt: skip
    clk.set(date(2027, 5, 1))
    bill_run(date(2027, 5, 1), actor="test")
    may = Invoice.objects.get(number="INV-2027-000002")
    lines = sorted((ln.description, ln.net_minor) for ln in InvoiceLine.objects.filter(invoice=may))
    # April: 420,000 − 50,000 included = 370,000 → 270,000 × 0.002 = 540.00, trued up to 700.00 (+160.00).
    # March keeps its own terms (no allowance): 360,000 → 520.00, 20.00 more than billed.
    assert lines == [
        ("API — API calls, minimum commitment 2027-04 — true-up", 16000),
        ("API — API calls, usage 2027-03 — late usage adjustment", 2000),
        ("API — API calls, usage 2027-04", 54000),
    ]
    # A rated month cannot be given other terms.
    with pytest.raises(UsageRefused) as exc:
        set_usage_terms(sub.pk, {"effective_from": "2027-04-01", "included": "0"})
    assert (exc.value.code, exc.value.field) == ("usage.period_rated", "effective_from")
    assert UsageTerms.objects.get().included == D(50_000)


def test_fields_left_out_keep_what_was_in_force_and_null_clears(world):
    _, _, _, sub = world
    set_usage_terms(sub.pk, {"effective_from": "2027-04-01", "included": "50000", "minimum": "450.00"})
    later = set_usage_terms(sub.pk, {"effective_from": "2027-06-01", "minimum": None,
                                     "prices": [{"model": "per_unit", "price": "0.001"}]})  # fmt: skip
    assert (later.included, later.minimum, len(later.prices)) == (D(50_000), None, 1)
    # The same month again replaces its terms.
    again = set_usage_terms(sub.pk, {"effective_from": "2027-04-01", "included": "60000"})
    assert (again.included, again.minimum) == (D(60_000), D("450.00"))
    assert UsageTerms.objects.count() == 2
    # Each terms row is stored complete: June keeps the 50,000 it was set with.
    terms = queries.usage_explorer(sub.pk)["terms"]
    assert [(t["effective_from"], t["included"], t["minimum"]) for t in terms] == [
        (None, None, None), (date(2027, 4, 1), "60000", "450.00"), (date(2027, 6, 1), "50000", None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"effective_from": "2027-04-15"}, "usage.not_a_period_start", "effective_from"),
        ({"effective_from": "2029-01-01"}, "usage.outside_subscription", "effective_from"),
        ({"included": "5"}, "usage.invalid_terms", "effective_from"),
        ({"effective_from": "2027-04-01", "included": 1.5}, "usage.invalid_terms", "included"),
        ({"effective_from": "2027-04-01", "included": "-1"}, "usage.invalid_terms", "included"),
        ({"effective_from": "2027-04-01", "minimum": "1.001"}, "usage.invalid_terms", "minimum"),
        ({"effective_from": "2027-04-01", "price_book": "NOPE"}, "usage.unknown_price_book", "price_book"),
        ({"effective_from": "2027-04-01", "seats": 3}, "usage.invalid_terms", "seats"),
        (
            {
                "effective_from": "2027-04-01",
                "prices": [{"dimension": {"colour": "red"}, "model": "flat", "price": "1"}],
            },
            "usage.unknown_dimension",
            "prices[0].dimension.colour",
        ),
        (
            {"effective_from": "2027-04-01", "prices": [{"model": "percent"}]},
            "usage.invalid_terms",
            "prices[0].model",
        ),
        (
            {
                "effective_from": "2027-04-01",
                "prices": [
                    {
                        "model": "tiered",
                        "tiers": [
                            {"lower": "0", "upper": "10", "unit_price": "1"},
                            {"lower": "20", "unit_price": "1"},
                        ],
                    }
                ],
            },
            "pricing.tier_gap",
            "prices[0].tiers[1].lower",
        ),
        (
            {
                "effective_from": "2027-04-01",
                "prices": [{"model": "flat", "price": "1"}, {"model": "flat", "price": "2"}],
            },
            "usage.duplicate_dimension",
            "prices[1].dimension",
        ),
    ],
)
def test_bad_terms_are_refused_naming_the_field_and_nothing_is_written(world, body, code, field):
    _, _, _, sub = world
    with pytest.raises(UsageRefused) as exc:
        set_usage_terms(sub.pk, body)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert not UsageTerms.objects.exists()


# --- API --------------------------------------------------------------------------------------------


def client(role: str | None) -> Client:
    if role is None:
        return Client()
    _, raw = ApiToken.issue(user(role, f"terms_{role}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def put(c: Client, sub_id: int, body: Any) -> Any:
    return c.put(f"/api/v1/billing/usage/subscriptions/{sub_id}/terms", json.dumps(body),
                 content_type="application/json")  # fmt: skip


def test_finance_sets_terms_over_the_api_and_others_are_refused(world):
    _, _, _, sub = world
    UsageMetric.objects.filter(code="api_calls").update(group_by=["region"])
    body = {"effective_from": "2027-04-01", "included": "1000",
            "prices": [{"dimension": {"region": "EU"}, "model": "tiered", "tiers": EU_TIERS}]}  # fmt: skip
    assert put(client(None), sub.pk, body).status_code == 401
    viewer = client("viewer")
    refused = put(viewer, sub.pk, body)
    assert (refused.status_code, refused["Content-Type"]) == (403, "application/problem+json")
    assert not UsageTerms.objects.exists()
    finance = client("finance")
    ok = put(finance, sub.pk, body)
    assert ok.status_code == 200, ok.content
    assert ok.json()["included"] == "1000" and ok.json()["prices"][0]["dimension"] == {"region": "EU"}
    assert UsageTerms.objects.get().actor == "terms_finance"
    bad = put(finance, sub.pk, {**body, "effective_from": "2027-05-02"})
    assert (bad.status_code, bad["Content-Type"]) == (422, "application/problem+json")
    assert bad.json()["code"] == "usage.not_a_period_start"
    assert bad.json()["errors"][0]["field"] == "effective_from"
    assert put(finance, 999_999, body).status_code == 404
    shown = viewer.get(f"/api/v1/billing/usage/subscriptions/{sub.pk}").json()
    assert [t["included"] for t in shown["terms"]] == [None, "1000"]


def test_a_close_rates_under_the_terms_committed_before_it_not_those_it_was_handed(world):
    from q2c.billing import usage

    clk, _, _, sub = world
    clk.set(date(2027, 4, 1))
    ingest([event("m", sub.pk, 350_000, at_berlin(date(2027, 3, 10)))])
    stale = usage.terms_for(sub, date(2027, 3, 1))
    price = usage.pricing_for(sub, stale, date(2027, 3, 1))
    # Terms written after the close read its terms, before it locked the subscription.
    set_usage_terms(sub.pk, {"effective_from": "2027-03-01", "included": "50000"})
    usage.close_one(sub, date(2027, 3, 1), date(2027, 4, 1), usage._metric("api_calls"), "Europe/Berlin",
                    price, "half_up", terms=stale)  # fmt: skip
    # 350,000 − 50,000 included = 300,000 → 200,000 × 0.002 = 400.00 (not 500.00).
    assert [c.amount_minor for c in Charge.objects.all()] == [40000]
