"""The Northwind quote (../shared/scenarios/northwind.md, timeline step 1) prices exactly.

Step 1: "50 SEAT at 15 % discount (net 25.50 per seat per month), 1 ONB, 2 EDGE, API usage;
start 2027-02-01, 12 months. Totals: one-time 9,000.00; recurring 1,275.00/month (MRR 1,275.00,
ARR 15,300.00); TCV excluding usage 24,300.00; list TCV 27,000.00 → discount 10.00 % of list.
The 15 % line discount exceeds Rita's 10 % → approval required."
"""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from q2c.catalog.pricing import price

from .builders import northwind, request

QUOTE = {
    "currency": "EUR",
    "as_of": "2027-01-10",
    "start_date": "2027-02-01",
    "term_months": 12,
    "lines": [
        {"key": "1", "sku": "SEAT", "quantity": "50", "discount": {"percent": "15"}},
        {"key": "2", "sku": "ONB", "quantity": "1"},
        {"key": "3", "sku": "EDGE", "quantity": "2"},
        {"key": "4", "sku": "API"},
    ],
}


def test_the_engine_prices_the_northwind_quote_to_the_cent():
    result = price(northwind(), request(json.loads(json.dumps(QUOTE)), manual_discount_limit=D(10)))
    t = result.totals
    assert t.one_time.amount == D("9000.00")
    assert {k: v.amount for k, v in t.recurring.items()} == {"month": D("1275.00")}
    assert t.mrr.amount == D("1275.00")
    assert t.arr.amount == D("15300.00")
    assert t.tcv.amount == D("24300.00")
    assert t.list_tcv.amount == D("27000.00")
    assert t.discount_percent == D("10.00")
    seat = result.lines[0]
    assert seat.net_unit_price == D("25.50")
    assert seat.net == D("1275.00")
    assert [a.code for a in seat.approvals] == ["discount.over_role_limit"]
    assert result.needs_approval
    assert [line.needs_approval for line in result.lines] == [True, False, False, False]


@pytest.mark.django_db
def test_the_preview_api_prices_the_northwind_quote_and_flags_ritas_discount(northwind_catalog, api_as):
    rita = api_as("sales_rep", "rita")
    response = rita.post("/api/v1/pricing/preview", data=QUOTE, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"] == {
        "currency": "EUR",
        "one_time": "9000.00",
        "recurring": {"month": "1275.00"},
        "mrr": "1275.00",
        "arr": "15300.00",
        "tcv": "24300.00",
        "list_tcv": "27000.00",
        "discount": "2700.00",
        "discount_percent": "10.00",
        "usage_estimate": "0.00",
        "margin": None,
        "margin_percent": None,
        "margin_basis": "0.00",
    }
    seat, onb, edge, api = body["lines"]
    assert (seat["net"], seat["net_unit_price"], seat["needs_approval"]) == ("1275.00", "25.50", True)
    assert seat["approvals"][0]["code"] == "discount.over_role_limit"
    assert seat["approvals"][0]["limit"] == "10"
    assert [s["kind"] for s in seat["steps"]] == ["list", "price_model", "manual", "net"]
    assert (onb["net"], edge["net"]) == ("5000.00", "4000.00")
    assert api["charge_kind"] == "usage"
    assert [(t["lower"], t["upper"], t["unit_price"]) for t in api["rate_card"]] == [
        ("0", "100000", "0.00"),
        ("100000", "1000000", "0.002"),
        ("1000000", None, "0.001"),
    ]
    assert body["needs_approval"] is True
    assert body["valid"] is True
    assert seat["ssp_unit"] == "30.00"


@pytest.mark.django_db
def test_max_the_manager_prices_the_same_quote_without_approval(northwind_catalog, api_as):
    max_ = api_as("sales_manager", "max")
    body = max_.post("/api/v1/pricing/preview", data=QUOTE, content_type="application/json").json()
    assert body["needs_approval"] is False  # 15 % is within the manager's 25 %
    assert body["totals"]["tcv"] == "24300.00"


@pytest.mark.django_db
def test_an_add_on_seat_has_its_add_on_ssp(northwind_catalog, api_as):
    rita = api_as("sales_rep", "rita")
    body = rita.post(
        "/api/v1/pricing/preview",
        data={
            "currency": "EUR",
            "sale_context": "add_on",
            "lines": [{"sku": "SEAT", "quantity": 10, "discount": {"target_price": "25.50"}}],
        },
        content_type="application/json",
    ).json()
    # northwind.md step 6: +10 SEAT at 25.50, their SSP for add-on seats is 25.50
    assert body["lines"][0]["net"] == "255.00"
    assert body["lines"][0]["ssp_unit"] == "25.50"


@pytest.mark.django_db
def test_a_manager_can_price_a_reps_quote_at_the_reps_limit(northwind_catalog, make_user):
    from q2c.catalog.services import price_quote

    manager = make_user("sales_manager", "max")
    body = json.loads(json.dumps(QUOTE))
    assert not price_quote(body, manager).needs_approval  # 15 % is within the manager's own 25 %
    assert price_quote(body, manager, limit=D(10)).needs_approval  # but not within Rita's 10 %
