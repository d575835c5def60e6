"""Catalog CRUD over the API: create, list, read, change, delete; every bad input answers a clear
error naming the field and writes nothing."""

from __future__ import annotations

import pytest

from q2c.catalog.models import ConfigurationRule, PriceEntry, Product
from q2c.platform.models import Event

pytestmark = pytest.mark.django_db

API = "/api/v1/catalog"


@pytest.fixture
def admin(api_as):
    return api_as("admin", "cat_admin")


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def fails(response, status=422):
    assert response.status_code == status, response.content
    body = response.json()
    return body["code"], [(e["field"], e["code"]) for e in body.get("errors", [])]


SEAT = {
    "sku": "SEAT",
    "name": "Platform seat",
    "type": "subscription",
    "unit": "seat",
    "cost": "8.00",
    "cost_currency": "EUR",
}


def test_a_product_is_created_read_listed_changed_and_deleted(admin):
    created = ok(admin.post(f"{API}/products", data=SEAT, content_type="application/json"), 201)
    assert (created["sku"], created["unit"], created["cost"], created["divisible"]) == (
        "SEAT",
        "seat",
        "8.00",
        False,
    )
    pid = created["id"]
    assert ok(admin.get(f"{API}/products/{pid}"))["name"] == "Platform seat"
    page = ok(admin.get(f"{API}/products?q=platform&page_size=10"))
    assert (page["total"], page["items"][0]["sku"]) == (1, "SEAT")
    changed = ok(
        admin.patch(
            f"{API}/products/{pid}",
            data={"family": "platform", "active_to": "2028-01-01"},
            content_type="application/json",
        )
    )
    assert (changed["family"], changed["active_to"], changed["name"]) == (
        "platform",
        "2028-01-01",
        "Platform seat",
    )
    assert ok(admin.delete(f"{API}/products/{pid}"), 204) is None
    assert admin.get(f"{API}/products/{pid}").status_code == 404
    types = list(
        Event.objects.filter(type__startswith="catalog.product")
        .order_by("seq")
        .values_list("type", flat=True)
    )
    assert types == ["catalog.product_created", "catalog.product_updated", "catalog.product_deleted"]


def test_a_duplicate_sku_is_a_conflict(admin):
    ok(admin.post(f"{API}/products", data=SEAT, content_type="application/json"), 201)
    assert fails(admin.post(f"{API}/products", data=SEAT, content_type="application/json"), 409) == (
        "catalog.duplicate",
        [("sku", "catalog.duplicate")],
    )


def test_every_bad_field_of_a_product_is_named_and_nothing_is_written(admin):
    body = {
        **SEAT,
        "sku": "bad sku!",
        "type": "gizmo",
        "unit": "parsec",
        "cost": "cheap",
        "active_from": "2027-05-01",
        "active_to": "2027-01-01",
    }
    code, errors = fails(admin.post(f"{API}/products", data=body, content_type="application/json"))
    assert code == "catalog.invalid_code"
    assert errors == [
        ("sku", "catalog.invalid_code"),
        ("type", "catalog.invalid_choice"),
        ("cost", "catalog.not_a_number"),
        ("active_to", "catalog.invalid_range"),
        ("unit", "catalog.unknown_unit"),
    ]
    assert not Product.objects.exists()
    assert not Event.objects.filter(type__startswith="catalog.").exists()


def test_float_prices_are_refused_by_the_schema(admin):
    response = admin.post(f"{API}/products", data={**SEAT, "cost": 8.5}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("cost")


def test_sales_reps_do_not_see_cost(admin, api_as):
    ok(admin.post(f"{API}/products", data=SEAT, content_type="application/json"), 201)
    rep = api_as("sales_rep", "rep")
    item = ok(rep.get(f"{API}/products"))["items"][0]
    assert (item["cost"], item["cost_currency"]) == (None, "")
    manager = api_as("sales_manager", "mgr")
    assert ok(manager.get(f"{API}/products"))["items"][0]["cost"] == "8.00"


def test_a_sales_rep_cannot_change_the_catalog(api_as):
    rep = api_as("sales_rep", "rep")
    assert (
        fails(rep.post(f"{API}/products", data=SEAT, content_type="application/json"), 403)[0]
        == "auth.forbidden"
    )
    assert not Product.objects.exists()


def test_charges_validate_their_kind(admin):
    ok(admin.post(f"{API}/products", data=SEAT, content_type="application/json"), 201)
    bad = {"sku": "SEAT", "code": "SUB", "kind": "recurring"}
    assert fails(admin.post(f"{API}/charges", data=bad, content_type="application/json")) == (
        "catalog.required",
        [("billing_period", "catalog.required")],
    )
    every_5 = ok(
        admin.post(
            f"{API}/charges",
            data={
                "sku": "SEAT",
                "code": "SUB",
                "kind": "recurring",
                "billing_period": "every_n_months",
                "period_months": 5,
            },
            content_type="application/json",
        ),
        201,
    )
    assert (every_5["period_months"], every_5["timing"]) == (5, "in_advance")
    usage = {"sku": "SEAT", "code": "USE", "kind": "usage"}
    assert fails(admin.post(f"{API}/charges", data=usage, content_type="application/json"))[1] == [
        ("usage_metric", "catalog.required"),
        ("usage_aggregation", "catalog.required"),
    ]


@pytest.fixture
def priced(admin, northwind_catalog):
    return admin


def test_a_price_entry_with_a_tier_gap_is_refused_naming_the_tier(priced):
    body = {
        "price_book": "EUR-LIST",
        "sku": "API",
        "charge": "CALLS",
        "model": "volume",
        "valid_from": "2028-01-01",
        "tiers": [
            {"lower": "0", "upper": "1000", "unit_price": "0.01"},
            {"lower": "2000", "unit_price": "0.005"},
        ],
    }
    code, errors = fails(priced.post(f"{API}/price-entries", data=body, content_type="application/json"))
    assert (code, errors) == ("pricing.tier_gap", [("tiers[1].lower", "pricing.tier_gap")])
    overlap = {
        **body,
        "tiers": [
            {"lower": "0", "upper": "1000", "unit_price": "0.01"},
            {"lower": "900", "unit_price": "0.005"},
        ],
    }
    assert (
        fails(priced.post(f"{API}/price-entries", data=overlap, content_type="application/json"))[0]
        == "pricing.tier_overlap"
    )
    assert PriceEntry.objects.filter(valid_from="2028-01-01").count() == 0


def test_a_second_price_valid_on_the_same_days_is_a_conflict(priced):
    body = {"price_book": "EUR-LIST", "sku": "SEAT", "charge": "SUB", "model": "per_unit", "price": "31.00"}
    assert (
        fails(priced.post(f"{API}/price-entries", data=body, content_type="application/json"), 409)[0]
        == "catalog.overlapping_price"
    )


def test_a_price_entry_reads_back_with_its_tiers(priced):
    entry = PriceEntry.objects.get(charge__product__sku="API")
    body = ok(priced.get(f"{API}/price-entries/{entry.pk}"))
    assert [(t["lower"], t["upper"], t["unit_price"]) for t in body["tiers"]] == [
        ("0", "100000", "0.00"),
        ("100000", "1000000", "0.002"),
        ("1000000", None, "0.001"),
    ]
    page = ok(priced.get(f"{API}/price-entries?price_book=EUR-LIST&page_size=2"))
    assert (page["total"], page["pages"], len(page["items"])) == (4, 2, 2)


def test_a_rule_closing_a_cycle_is_refused_when_it_is_saved(priced):
    first = {
        "code": "SEAT-ONB",
        "name": "Seats need onboarding",
        "kind": "requires",
        "source": "SEAT",
        "target": "ONB",
    }
    second = {
        "code": "ONB-EDGE",
        "name": "Onboarding needs an appliance",
        "kind": "quantity_ratio",
        "source": "ONB",
        "target": "EDGE",
        "per_quantity": "1",
    }
    closing = {
        "code": "EDGE-SEAT",
        "name": "Appliances need seats",
        "kind": "requires",
        "source": "EDGE",
        "target": "SEAT",
    }
    ok(priced.post(f"{API}/rules", data=first, content_type="application/json"), 201)
    ok(priced.post(f"{API}/rules", data=second, content_type="application/json"), 201)
    response = priced.post(f"{API}/rules", data=closing, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "catalog.rule_cycle"
    assert body["detail"] == "the rules EDGE-SEAT, SEAT-ONB, ONB-EDGE form a cycle: EDGE → SEAT → ONB → EDGE"
    assert not ConfigurationRule.objects.filter(code="EDGE-SEAT").exists()


def test_an_attribute_rule_needs_its_attribute_and_value(priced):
    body = {"code": "EU", "name": "EU", "kind": "attribute", "target": "EDGE"}
    assert fails(priced.post(f"{API}/rules", data=body, content_type="application/json"))[1] == [
        ("attribute", "catalog.required"),
        ("values", "catalog.required"),
    ]


def test_bundle_groups_and_options_are_managed_over_the_api(priced):
    ok(
        priced.post(
            f"{API}/products",
            data={"sku": "SUITE", "name": "Suite", "type": "subscription", "unit": "each", "is_bundle": True},
            content_type="application/json",
        ),
        201,
    )
    group = ok(
        priced.post(
            f"{API}/option-groups",
            data={"bundle": "SUITE", "code": "CORE", "name": "Core"},
            content_type="application/json",
        ),
        201,
    )
    option = ok(
        priced.post(
            f"{API}/bundle-options",
            data={
                "group_id": group["id"],
                "sku": "SEAT",
                "selection": "required",
                "min_qty": "5",
                "max_qty": "2",
            },
            content_type="application/json",
        ),
        422,
    )
    assert option["errors"][0]["field"] == "max_qty"
    option = ok(
        priced.post(
            f"{API}/bundle-options",
            data={"group_id": group["id"], "sku": "SEAT", "selection": "required", "min_qty": "5"},
            content_type="application/json",
        ),
        201,
    )
    assert ok(priced.get(f"{API}/option-groups/{group['id']}"))["options"][0]["sku"] == "SEAT"
    not_bundle = priced.post(
        f"{API}/option-groups",
        data={"bundle": "SEAT", "code": "X", "name": "X"},
        content_type="application/json",
    )
    assert fails(not_bundle)[0] == "catalog.not_a_bundle"
    assert ok(priced.delete(f"{API}/bundle-options/{option['id']}"), 204) is None
    deleted = Event.objects.get(type="catalog.option_deleted")
    assert (deleted.aggregate_type, deleted.aggregate_id) == ("catalog.bundle_option", str(option["id"]))
    assert ok(priced.delete(f"{API}/bundle-options/{option['id']}"), 404) is not None


def test_schedules_promotions_and_contracted_prices_round_trip(priced):
    schedule = ok(
        priced.post(
            f"{API}/discount-schedules",
            data={
                "code": "VOL",
                "name": "Volume",
                "kind": "volume",
                "products": ["SEAT"],
                "tiers": [{"threshold": "100", "percent": "5"}, {"threshold": "10", "percent": "2"}],
            },
            content_type="application/json",
        ),
        201,
    )
    assert [t["threshold"] for t in schedule["tiers"]] == ["10", "100"]
    promo = ok(
        priced.post(
            f"{API}/promotions",
            data={
                "code": "spring27",
                "name": "Spring",
                "percent": "10",
                "valid_from": "2027-03-01",
                "valid_to": "2027-06-01",
                "families": ["hardware"],
            },
            content_type="application/json",
        ),
        201,
    )
    assert (promo["code"], promo["families"]) == ("SPRING27", ["hardware"])
    both = {"code": "BOTH", "name": "x", "percent": "10", "amount": "5", "currency": "EUR"}
    assert fails(priced.post(f"{API}/promotions", data=both, content_type="application/json"))[1] == [
        ("percent", "catalog.invalid")
    ]
    contracted = ok(
        priced.post(
            f"{API}/contracted-prices",
            data={
                "account_id": 7,
                "sku": "SEAT",
                "charge": "SUB",
                "currency": "EUR",
                "discount_percent": "12",
            },
            content_type="application/json",
        ),
        201,
    )
    assert contracted["discount_percent"] == "12"
    assert ok(priced.get(f"{API}/contracted-prices?account_id=7"))["total"] == 1


def test_discount_limits_are_seeded_and_set_by_admins(admin, api_as):
    limits = ok(admin.get(f"{API}/discount-limits"))
    assert {row["role"]: row["max_percent"] for row in limits} == {
        "admin": "100",
        "sales_manager": "25",
        "sales_rep": "10",
    }
    assert (
        ok(
            admin.put(
                f"{API}/discount-limits/sales_rep",
                data={"max_percent": "12.5"},
                content_type="application/json",
            )
        )["max_percent"]
        == "12.5"
    )
    assert fails(
        admin.put(
            f"{API}/discount-limits/sales_rep", data={"max_percent": "120"}, content_type="application/json"
        )
    )[1] == [("max_percent", "catalog.out_of_range")]
    assert fails(
        admin.put(f"{API}/discount-limits/pirate", data={"max_percent": "5"}, content_type="application/json")
    )[1] == [("role", "catalog.invalid_choice")]
    manager = api_as("sales_manager", "mgr")
    assert (
        manager.put(
            f"{API}/discount-limits/sales_rep", data={"max_percent": "50"}, content_type="application/json"
        ).status_code
        == 403
    )


def test_a_product_in_use_cannot_be_deleted(priced):
    seat = Product.objects.get(sku="SEAT")
    assert fails(priced.delete(f"{API}/products/{seat.pk}"), 409)[0] == "catalog.in_use"


def test_unknown_ids_answer_404(admin):
    assert fails(admin.get(f"{API}/products/999999"), 404)[0] == "catalog.product_not_found"
    assert (
        fails(admin.patch(f"{API}/charges/999999", data={"name": "x"}, content_type="application/json"), 404)[
            0
        ]
        == "catalog.charge_not_found"
    )


# The codes are the catalog's "no <what>" convention spelled out for each resource.
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("price-entries", "catalog.price_entry_not_found"),
        ("contracted-prices", "catalog.contracted_price_not_found"),
        ("discount-schedules", "catalog.discount_schedule_not_found"),
        ("promotions", "catalog.promotion_not_found"),
        ("option-groups", "catalog.option_group_not_found"),
        ("bundle-options", "catalog.bundle_option_not_found"),
        ("rules", "catalog.rule_not_found"),
    ],
)
def test_deleting_what_is_not_there_answers_404_naming_it_and_records_nothing(admin, path, code):
    assert fails(admin.delete(f"{API}/{path}/999999"), 404)[0] == code
    assert not Event.objects.filter(type__startswith="catalog.").exists()
