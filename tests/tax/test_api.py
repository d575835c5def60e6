"""POST /api/v1/tax/preview: tax for draft lines, nothing saved; roles sales_rep, sales_manager,
finance, admin (docs/permissions.md, section tax); bad input answers problem+json 422."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from q2c.platform.models import Event
from q2c.tax import services

pytestmark = pytest.mark.django_db

URL = "/api/v1/tax/preview"

ROUNDING_CHECK = {
    "currency": "EUR",
    "seller": {"country": "DE", "vat_id": "DE136457858"},
    "buyer": {"country": "DE", "kind": "business", "vat_id": "DE812651301"},
    "tax_date": "2027-03-15",
    "lines": [
        {"id": "a", "amount": "139.84", "tax_category": "service"},
        {"id": "b", "amount": "500.50", "tax_category": "service"},
    ],
}


def post(client: Client, body: dict[str, Any]):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def test_the_rounding_check_through_the_api_gives_121_66_per_rate(api_as):
    response = post(api_as("sales_rep"), ROUNDING_CHECK)
    assert response.status_code == 200, response.content
    body = response.json()
    # 640.34 × 19 % = 121.6646 → 121.66 (northwind.md; EN 16931 BR-CO-17).
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == ("640.34", "121.66", "762.00")
    assert body["summary"] == [
        {
            "jurisdiction": "DE",
            "category": "S",
            "percent": "19",
            "taxable": "640.34",
            "tax": "121.66",
            "mention": "",
            "reason_code": "",
            "line_ids": ["a", "b"],
            "deliver_to_country": "",
            "delivery_date": None,
        }
    ]


def test_the_rounding_check_through_the_api_gives_121_67_per_line(api_as):
    response = post(api_as("finance"), {**ROUNDING_CHECK, "rounding_method": "per_line"})
    assert response.json()["tax_total"] == "121.67"  # 26.57 + 95.10


def test_fabrikam_gets_reverse_charge_and_intra_community_supply_with_the_vat_id_checked_offline(api_as):
    body = {
        "currency": "EUR",
        "seller": {"country": "DE", "vat_id": "DE136457858"},
        "buyer": {"country": "FR", "kind": "business", "vat_id": "FR40303265045"},
        "tax_date": "2027-02-10",
        "ship_to": {"country": "FR"},
        "delivery_date": "2027-02-10",
        "lines": [
            {"id": "edge", "amount": "4000.00", "tax_code": "GOODS"},
            {"id": "seat", "amount": "1275.00", "tax_code": "digital"},
        ],
    }
    data = post(api_as("sales_manager"), body).json()
    assert data["tax_total"] == "0.00"
    assert [(r["category"], r["deliver_to_country"], r["delivery_date"]) for r in data["summary"]] == [
        ("K", "FR", "2027-02-10"),
        ("AE", "", None),
    ]
    assert data["mentions"] == [
        "Intra-Community supply — exempt (Art. 138 Directive 2006/112/EC)",
        "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)",
    ]
    # A VAT id with a wrong check digit: the documented fallback, domestic VAT with a warning.
    # 4,000.00 + 1,275.00 = 5,275.00 × 19 % = 1,002.25.
    body["buyer"]["vat_id"] = "FR40303265046"
    data = post(api_as("sales_rep"), body).json()
    assert data["tax_total"] == "1002.25"
    assert {w["code"] for w in data["warnings"]} == {"tax.vat_id_invalid"}


def test_a_customers_stored_exemption_certificate_applies(api_as):
    from datetime import date

    services.record_exemption(account_id=42, certificate_ref="TX-RESALE-9", valid_from=date(2026, 1, 1))
    body = {
        "currency": "USD",
        "seller": {"country": "US", "region": "CA"},
        "buyer": {"country": "US", "region": "TX", "kind": "business"},
        "tax_date": "2026-05-01",
        "account_id": 42,
        "lines": [{"id": "1", "amount": "100.00", "tax_category": "goods"}],
    }
    data = post(api_as("finance"), body).json()
    assert (data["summary"][0]["category"], data["tax_total"]) == ("E", "0.00")
    assert "TX-RESALE-9" in data["summary"][0]["mention"]


def test_the_preview_saves_nothing(api_as):
    before = Event.objects.count()
    post(api_as("sales_rep"), ROUNDING_CHECK)
    assert Event.objects.count() == before


def test_tax_date_defaults_to_the_business_clock(api_as):
    from datetime import date

    from q2c.core import clock

    body = {
        **ROUNDING_CHECK,
        "tax_date": None,
        "lines": [{"id": "1", "amount": "100.00", "tax_category": "service"}],
    }
    with clock.use(clock.SimulationClock(date(2020, 8, 1))):
        data = post(api_as("sales_rep"), body).json()
    assert data["tax_total"] == "16.00"  # the 2020 German cut to 16 %


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"buyer": {"country": "XX", "kind": "business"}}, 422, "tax.unknown_country", "buyer.country"),
        (
            {"buyer": {"country": "US", "region": "ZZ", "kind": "consumer"}},
            422,
            "tax.unknown_region",
            "buyer.region",
        ),
        ({"buyer": {"country": "DE"}}, 422, "validation", "buyer.kind"),
        ({"tax_date": "1990-01-01"}, 422, "tax.no_rule", "lines[0]"),
        (
            {
                "tax_date": "2011-01-01",
                "lines": [{"id": "1", "amount": "1.00", "tax_category": "zero", "supply_type": "goods"}],
            },
            422,
            "tax.rate_missing",
            "lines[0].tax_category",
        ),
        (
            {"prices_include_tax": True, "lines": [{"id": "1", "amount": "9.99", "tax_category": "service"}]},
            422,
            "tax.inclusive_not_splittable",
            "lines[0].amount",
        ),
        (
            {"lines": [{"id": "1", "amount": "1.005", "tax_category": "service"}]},
            422,
            "money.too_many_decimals",
            "lines[0].amount",
        ),
        ({"lines": [{"id": "1", "amount": "1.00"}]}, 422, "tax.category_required", "lines[0].tax_category"),
        (
            {"lines": [{"id": "1", "amount": "1.00", "tax_code": "NOPE"}]},
            422,
            "tax.unknown_code",
            "lines[0].tax_code",
        ),
        (
            {"lines": [{"id": "1", "amount": 1.5, "tax_category": "service"}]},
            422,
            "validation",
            "lines.0.amount",
        ),
        ({"lines": []}, 422, "validation", "lines"),
        ({"currency": "EURO"}, 422, "validation", "currency"),
        ({"currency": "ZZZ"}, 422, "money.invalid_currency", "currency"),
    ],
)
def test_bad_input_answers_problem_json_naming_the_field(api_as, change, status, code, field):
    response = post(api_as("sales_rep"), {**ROUNDING_CHECK, **change})
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == field


def test_callers_without_a_role_that_may_preview_are_refused(api_as):
    assert post(Client(), ROUNDING_CHECK).status_code == 401
    for role in (None, "viewer"):
        response = post(api_as(role), ROUNDING_CHECK)
        assert response.status_code == 403
        assert response.json()["code"] == "auth.forbidden"
    for role in ("sales_rep", "sales_manager", "finance", "admin"):
        assert post(api_as(role), ROUNDING_CHECK).status_code == 200


def test_the_openapi_schema_describes_the_preview_with_the_tax_apps_own_components():
    # OpenAPI components are named by class: another app's LineIn must not stand in for ours.
    from q2c.api import api

    schema = api.get_openapi_schema()
    body = schema["paths"]["/api/v1/tax/preview"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert body["$ref"].endswith("/TaxPreviewIn")
    line = schema["components"]["schemas"]["TaxLineIn"]
    assert {"id", "amount", "tax_category", "tax_code", "supply_type"} <= set(line["properties"])
    assert line["properties"]["amount"]["examples"] == ["139.84"]
