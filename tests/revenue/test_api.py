"""POST /api/v1/revenue/preview and GET /api/v1/revenue/preview/schema: roles, results, problem+json."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User

from q2c.platform.auth import ApiToken

from .helpers import CONTRACTS

pytestmark = pytest.mark.django_db

PREVIEW = "/api/v1/revenue/preview"
SCHEMA = "/api/v1/revenue/preview/schema"


def bearer(role: str | None) -> dict[str, str]:
    user = User.objects.create_user(f"user-{role}", password="x-long-passphrase")
    if role:
        user.groups.add(Group.objects.get(name=role))
    _, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.parametrize("role", ["finance", "sales_manager", "admin"])
def test_finance_and_sales_managers_get_the_allocation_and_schedule(client, role):
    body = (CONTRACTS / "northwind.json").read_text()
    response = client.post(PREVIEW, data=body, content_type="application/json", **bearer(role))
    assert response.status_code == 200, response.content
    out = response.json()
    assert [r["allocated"] for r in out["contracts"][0]["allocation"][:3]] == [
        "16823.08",
        "3738.46",
        "3738.46",
    ]
    assert out["modifications"][0]["treatment"] == "separate_contract"


def test_the_preview_saves_nothing(client):
    from q2c.platform.models import Event

    before = Event.objects.count()
    headers = bearer("finance")
    client.post(
        PREVIEW, data=(CONTRACTS / "northwind.json").read_text(), content_type="application/json", **headers
    )
    assert Event.objects.count() == before


@pytest.mark.parametrize("role", ["sales_rep", "viewer", None])
def test_other_roles_are_refused(client, role):
    response = client.post(PREVIEW, data="{}", content_type="application/json", **bearer(role))
    assert response.status_code == 403
    assert client.get(SCHEMA, **bearer_again(role)).status_code == 403


def bearer_again(role: str | None) -> dict[str, str]:
    user = User.objects.create_user(f"again-{role}", password="x-long-passphrase")
    if role:
        user.groups.add(Group.objects.get(name=role))
    _, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_without_credentials_the_answer_is_401(client):
    assert client.post(PREVIEW, data="{}", content_type="application/json").status_code == 401
    assert client.get(SCHEMA).status_code == 401


def test_bad_input_is_a_422_problem_naming_the_field(client):
    doc = {
        "currency": "EUR",
        "start": "2027-01-01",
        "transaction_price": {"fixed": "100.00"},
        "obligations": [
            {"id": "A", "ssp": "0", "pattern": "point_in_time"},
            {"id": "B", "ssp": "50.00", "pattern": "point_in_time"},
        ],
    }
    response = client.post(
        PREVIEW, data=json.dumps(doc), content_type="application/json", **bearer("finance")
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "revenue.ssp_zero"
    assert problem["errors"][0]["field"] == "obligations[0].ssp"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ('{"currency": "EUR", "start": ', "revenue.malformed_json", "body"),
        (
            '{"currency": "EUR", "start": "2027-01-01", "transaction_price": {"fixed": 10.5},'
            ' "obligations": [{"id": "A", "pattern": "point_in_time"}]}',
            "revenue.float_not_allowed",
            "transaction_price.fixed",
        ),
        (
            '{"currency": "EUR", "start": "2027-01-01", "obligations": [{"id": "A", "pattern": "point_in_time"}],'
            ' "modifications": [{"date": "2026-01-01", "price_change": "5.00", "change": [{"obligation": "A"}]}]}',
            "revenue.modification_before_contract",
            "modifications[0].date",
        ),
    ],
)
def test_malformed_json_floats_and_early_modifications_are_422(client, body, code, field):
    response = client.post(PREVIEW, data=body, content_type="application/json", **bearer("finance"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == field


def test_the_schema_is_served(client):
    response = client.get(SCHEMA, **bearer("finance"))
    assert response.status_code == 200
    assert response.json()["title"] == "q2c revenue preview: one contract"
