"""POST /api/v1/pricing/preview: bad input answers 422 problem+json naming the line and field,
nothing is written, the snapshot loads with a fixed number of queries and follows catalog edits."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from q2c.catalog import services
from q2c.catalog.models import Product
from q2c.core import clock
from q2c.platform.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/pricing/preview"


def post(client, body):
    return client.post(URL, data=body, content_type="application/json")


def problem(response):
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    return body["code"], [(e["field"], e["code"]) for e in body["errors"]]


@pytest.fixture
def rita(northwind_catalog, api_as):
    return api_as("sales_rep", "rita")


def line(**kw):
    return {"currency": "EUR", "as_of": "2027-01-10", "lines": [kw]}


@pytest.mark.parametrize(
    ("body", "code", "errors"),
    [
        (line(sku="NOPE", quantity=1), "pricing.unknown_sku", [("lines[0].sku", "pricing.unknown_sku")]),
        (
            line(sku="SEAT", quantity=0),
            "pricing.quantity_not_positive",
            [("lines[0].quantity", "pricing.quantity_not_positive")],
        ),
        (
            line(sku="SEAT", quantity=-5),
            "pricing.quantity_not_positive",
            [("lines[0].quantity", "pricing.quantity_not_positive")],
        ),
        (
            line(sku="SEAT", quantity="2.5"),
            "pricing.fractional_quantity",
            [("lines[0].quantity", "pricing.fractional_quantity")],
        ),
        (
            line(sku="SEAT", quantity=1, discount={"percent": "101"}),
            "pricing.discount_over_100",
            [("lines[0].discount.percent", "pricing.discount_over_100")],
        ),
        (
            line(sku="ONB", quantity=1, discount={"amount": "5000.01"}),
            "pricing.discount_over_100",
            [("lines[0].discount.amount", "pricing.discount_over_100")],
        ),
        (
            {"currency": "USD", "lines": [{"sku": "SEAT", "quantity": 1}]},
            "pricing.no_price_book",
            [("currency", "pricing.no_price_book")],
        ),
        (
            {"currency": "USD", "price_book": "EUR-LIST", "lines": [{"sku": "SEAT", "quantity": 1}]},
            "pricing.price_book_currency",
            [("price_book", "pricing.price_book_currency")],
        ),
        (
            {"currency": "EUR", "price_book": "GBP-LIST", "lines": [{"sku": "SEAT", "quantity": 1}]},
            "pricing.unknown_price_book",
            [("price_book", "pricing.unknown_price_book")],
        ),
        ({"currency": "EUR"}, "pricing.no_lines", [("lines", "pricing.no_lines")]),
    ],
)
def test_bad_input_answers_422_naming_line_and_field(rita, body, code, errors):
    assert problem(post(rita, body)) == (code, errors)


def test_a_fractional_json_number_is_read_as_a_decimal_not_a_float(rita):
    # 1.5 seats is refused because seats are whole, not because of binary floating point.
    assert problem(post(rita, line(sku="SEAT", quantity=1.5))) == (
        "pricing.fractional_quantity",
        [("lines[0].quantity", "pricing.fractional_quantity")],
    )


def test_malformed_json_is_a_clear_error(rita):
    response = rita.post(URL, data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.json()["code"] in ("pricing.invalid_json", "request.invalid_json")


def test_an_inactive_product_is_refused(rita):
    services.update_product(Product.objects.get(sku="EDGE").pk, {"active_to": "2027-01-01"})
    assert problem(post(rita, line(sku="EDGE", quantity=1))) == (
        "pricing.inactive_product",
        [("lines[0].sku", "pricing.inactive_product")],
    )


def test_a_promotion_outside_its_dates_is_refused(rita):
    services.create_promotion(
        {
            "code": "launch",
            "name": "Launch",
            "percent": "10",
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        }
    )
    body = {**line(sku="SEAT", quantity=1), "promotion_codes": ["LAUNCH"]}
    assert problem(post(rita, body)) == (
        "pricing.promotion_outside_dates",
        [("promotion_codes[0]", "pricing.promotion_outside_dates")],
    )


def test_a_tier_table_broken_behind_the_services_back_is_refused_naming_the_line(rita):
    from q2c.catalog.models import PriceTier

    # Only a direct database edit can break a saved table; the services refuse gaps.
    PriceTier.objects.filter(entry__charge__product__sku="API", position=1).update(lower="150000")
    services.touch()
    assert problem(post(rita, line(sku="API", estimated_quantity="1"))) == (
        "pricing.tier_gap",
        [("lines[0].sku", "pricing.tier_gap")],
    )


def test_a_preview_writes_nothing(rita):
    before = (Event.objects.count(), Product.objects.count())
    assert post(rita, line(sku="SEAT", quantity=3)).status_code == 200
    assert problem(post(rita, line(sku="NOPE", quantity=3)))[0] == "pricing.unknown_sku"
    assert (Event.objects.count(), Product.objects.count()) == before


def test_as_of_defaults_to_the_business_date(rita):
    with clock.use(clock.SimulationClock(date(2027, 3, 1))):
        body = post(rita, {"currency": "EUR", "lines": [{"sku": "SEAT", "quantity": 1}]}).json()
    assert body["as_of"] == "2027-03-01"


def test_contracted_prices_of_the_account_apply(rita):
    services.create_contracted_price(
        {"account_id": 42, "sku": "SEAT", "charge": "SUB", "currency": "EUR", "unit_price": "27.00"}
    )
    body = post(rita, {**line(sku="SEAT", quantity=10), "account_id": 42}).json()
    steps = body["lines"][0]["steps"]
    assert [s["kind"] for s in steps] == ["list", "price_model", "contracted", "net"]
    assert body["lines"][0]["net"] == "270.00"
    other = post(rita, {**line(sku="SEAT", quantity=10), "account_id": 43}).json()
    assert other["lines"][0]["net"] == "300.00"


def test_the_snapshot_is_loaded_with_a_fixed_number_of_queries_whatever_the_quote_size(rita):
    small = {"currency": "EUR", "as_of": "2027-01-10", "lines": [{"sku": "SEAT", "quantity": 1}]}
    large = {
        "currency": "EUR",
        "as_of": "2027-01-10",
        "lines": [{"sku": s, "quantity": 1} for s in ["SEAT", "ONB", "EDGE"] * 100],
    }

    assert post(rita, small).status_code == 200  # the token's last-used stamp is written once a while

    def count(body):
        services.clear_cache()
        with CaptureQueriesContext(connection) as cold:
            assert post(rita, body).status_code == 200
        with CaptureQueriesContext(connection) as warm:
            assert post(rita, body).status_code == 200
        return len(cold), len(warm)

    cold_small, warm_small = count(small)
    cold_large, warm_large = count(large)
    assert cold_large == cold_small and warm_large == warm_small
    assert cold_small - warm_small <= 14  # the snapshot's bulk queries
    assert warm_small <= 10  # token auth, revision, price book, contracted prices, roles, limits


def test_a_catalog_change_is_priced_at_once(rita):
    assert post(rita, line(sku="ONB", quantity=1)).json()["lines"][0]["net"] == "5000.00"
    from q2c.catalog.models import PriceEntry

    services.update_price_entry(PriceEntry.objects.get(charge__product__sku="ONB").pk, {"price": "4500.00"})
    assert post(rita, line(sku="ONB", quantity=1)).json()["lines"][0]["net"] == "4500.00"


def test_a_segment_book_inheriting_from_the_list_book_wins_for_its_segment(rita):
    services.create_price_book(
        {
            "code": "EUR-ENT",
            "name": "Enterprise",
            "currency": "EUR",
            "segment": "enterprise",
            "parent": "EUR-LIST",
        }
    )
    services.create_price_entry(
        {"price_book": "EUR-ENT", "sku": "SEAT", "charge": "SUB", "model": "per_unit", "price": "28.00"}
    )
    body = post(rita, {**line(sku="SEAT", quantity=1), "segment": "enterprise"}).json()
    assert body["price_book"] == "EUR-ENT"
    assert body["lines"][0]["net"] == "28.00"
    onb = post(
        rita, {"currency": "EUR", "segment": "enterprise", "lines": [{"sku": "ONB", "quantity": 1}]}
    ).json()
    assert onb["lines"][0]["net"] == "5000.00"  # inherited from EUR-LIST
    general = post(rita, line(sku="SEAT", quantity=1)).json()
    assert (general["price_book"], general["lines"][0]["net"]) == ("EUR-LIST", "30.00")


def test_an_effective_dated_price_change_applies_from_its_date(rita):
    from q2c.catalog.models import PriceEntry

    entry = PriceEntry.objects.get(charge__product__sku="SEAT")
    services.update_price_entry(entry.pk, {"valid_to": "2027-07-01"})
    services.create_price_entry(
        {
            "price_book": "EUR-LIST",
            "sku": "SEAT",
            "charge": "SUB",
            "model": "per_unit",
            "price": "32.00",
            "valid_from": "2027-07-01",
        }
    )
    june = post(
        rita, {"currency": "EUR", "as_of": "2027-06-30", "lines": [{"sku": "SEAT", "quantity": 1}]}
    ).json()
    july = post(
        rita, {"currency": "EUR", "as_of": "2027-07-01", "lines": [{"sku": "SEAT", "quantity": 1}]}
    ).json()
    assert (june["lines"][0]["net"], july["lines"][0]["net"]) == ("30.00", "32.00")


def test_bundles_with_rules_price_and_report_violations(rita, api_as):
    services.create_product(
        {"sku": "SUITE", "name": "Suite", "type": "subscription", "unit": "each", "is_bundle": True}
    )
    services.create_charge({"sku": "SUITE", "code": "SUB", "kind": "recurring", "billing_period": "month"})
    services.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "SUITE", "charge": "SUB", "model": "flat", "price": "200.00"}
    )
    group = services.create_option_group(
        {"bundle": "SUITE", "code": "CORE", "name": "Core", "min_options": 1}
    )
    seat_option = services.create_option(
        {"group_id": group.pk, "sku": "SEAT", "selection": "required", "min_qty": "5"}
    )
    services.create_option({"group_id": group.pk, "sku": "ONB", "included_in_price": True})
    services.create_rule(
        {
            "code": "EDGE-NEEDS-ONB",
            "name": "Edge needs onboarding",
            "kind": "requires",
            "source": "EDGE",
            "target": "ONB",
        }
    )
    body = post(
        rita,
        {
            "currency": "EUR",
            "lines": [
                {"key": "s", "sku": "SUITE", "quantity": 1},
                {"key": "s1", "sku": "SEAT", "quantity": 2, "parent": "s"},
                {"key": "e", "sku": "EDGE", "quantity": 1},
            ],
        },
    ).json()
    assert body["valid"] is False
    assert [(v["rule_id"], v["code"]) for v in body["violations"]] == [
        (f"option:{seat_option.pk}", "bundle.option_quantity"),
        ("rule:EDGE-NEEDS-ONB", "rule.requires"),
    ]
    assert body["lines"][0]["net"] == "200.00"
