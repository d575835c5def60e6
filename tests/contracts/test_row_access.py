"""Who reads which contract: the quotes' owner/team rule (``q2c.quotes.access``) on the contract's
owner. Rita (sales_rep) is in Max's team; Olga (sales_rep) is in no team of Max's; Mona is a sales
manager without a team. A contract the caller may not read answers 404 — as a quote does — in the
API and on the pages, for reading and for changing alike, and nothing is written."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from q2c.contracts.models import Amendment, Contract
from tests.contracts import builders

pytestmark = pytest.mark.django_db

BASE = "/api/v1/contracts"


@pytest.fixture
def two_contracts(world: dict[str, Any], on_day: Any) -> dict[str, Any]:
    on_day(date(2027, 1, 20))
    olga = builders.user("olga", "sales_rep")
    mona = builders.user("mona", "sales_manager")
    ritas = builders.active_contract(world["entity"], world["account"], owner_id=world["rita"].pk)
    olgas = builders.active_contract(world["entity"], world["account"], owner_id=olga.pk)
    return {**world, "olga": olga, "mona": mona, "ritas": ritas, "olgas": olgas}


def _numbers(client: Any) -> list[str]:
    response = client.get(f"{BASE}/contracts?sort=number")
    assert response.status_code == 200, response.content
    return [c["number"] for c in response.json()["items"]]


def test_the_api_list_shows_a_rep_their_own_a_manager_their_team_and_readers_all(two_contracts, api_as):
    w = two_contracts
    # CON-2027-000001 is Rita's, CON-2027-000002 Olga's (numbers in the order they were made).
    assert (w["ritas"].number, w["olgas"].number) == ("CON-2027-000001", "CON-2027-000002")
    assert _numbers(api_as(None, user=w["rita"])) == ["CON-2027-000001"]
    assert _numbers(api_as(None, user=w["olga"])) == ["CON-2027-000002"]
    assert _numbers(api_as(None, user=w["max"])) == ["CON-2027-000001"]  # Rita is in his team
    assert _numbers(api_as(None, user=w["mona"])) == []  # a manager without a team
    for role in ("finance", "viewer", "admin"):
        assert _numbers(api_as(role)) == ["CON-2027-000001", "CON-2027-000002"], role


def test_the_api_answers_404_for_a_contract_the_caller_may_not_read_as_quotes_do(two_contracts, api_as):
    w = two_contracts
    olga = api_as(None, user=w["olga"])
    ritas = w["ritas"]
    for path in (
        f"/contracts/{ritas.pk}",
        f"/contracts/{ritas.pk}/versions",
        f"/contracts/{ritas.pk}/versions/1",
        f"/contracts/{ritas.pk}/amendments",
        f"/contracts/{ritas.pk}/events",
        f"/contracts/{ritas.pk}/redline?a=1&b=1",
    ):
        response = olga.get(f"{BASE}{path}")
        assert response.status_code == 404, (path, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "contracts.not_found"
    # The same 404 a quote of Rita's answers Olga (existence not revealed).
    from q2c.quotes import services as quotes

    opp = quotes.create_opportunity(actor=w["rita"], account_id=w["account"].pk, name="Northwind")
    quote = quotes.create_quote(
        actor=w["rita"],
        opportunity_id=opp.pk,
        start_date=date(2027, 2, 1),
        term_months=12,
        lines=[{"sku": "SEAT", "quantity": "5"}],
    )
    assert olga.get(f"/api/v1/quotes/quotes/{quote.pk}").status_code == 404
    # Her manager and the reading roles get it.
    assert api_as(None, user=w["max"]).get(f"{BASE}/contracts/{ritas.pk}").status_code == 200
    assert api_as("viewer").get(f"{BASE}/contracts/{ritas.pk}").status_code == 200
    assert api_as(None, user=w["mona"]).get(f"{BASE}/contracts/{ritas.pk}").status_code == 404


def test_a_rep_cannot_amend_cancel_or_renew_a_contract_they_may_not_read(two_contracts, api_as, on_day):
    w = two_contracts
    on_day(date(2027, 3, 15))
    olga = api_as(None, user=w["olga"])
    ritas = w["ritas"]
    before = Contract.objects.get(pk=ritas.pk).lock_version
    calls = [
        (
            f"/contracts/{ritas.pk}/amendments",
            {
                "lock_version": before,
                "kind": "add_quantity",
                "effective_date": "2027-03-15",
                "sku": "SEAT",
                "quantity": "10",
            },
        ),
        (
            f"/contracts/{ritas.pk}/cancel",
            {"lock_version": before, "effective_date": "2028-02-01", "reason": "x"},
        ),
        (f"/contracts/{ritas.pk}/renewal-quote", {}),
    ]
    for path, body in calls:
        response = olga.post(f"{BASE}{path}", data=json.dumps(body), content_type="application/json")
        assert response.status_code == 404, (path, response.content)
        assert response.json()["code"] == "contracts.not_found"
    assert Contract.objects.get(pk=ritas.pk).lock_version == before
    assert not Amendment.objects.filter(contract_id=ritas.pk).exists()
    # Max, her manager, may amend it.
    response = api_as(None, user=w["max"]).post(
        f"{BASE}/contracts/{ritas.pk}/amendments",
        data=json.dumps(calls[0][1]),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def _page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_list_and_show_only_readable_contracts(two_contracts, on_day):
    w = two_contracts
    ritas, olgas = w["ritas"], w["olgas"]
    listing = _page(w["olga"]).get("/contracts/").content.decode()
    assert olgas.number in listing and ritas.number not in listing
    listing = _page(w["max"]).get("/contracts/").content.decode()
    assert ritas.number in listing and olgas.number not in listing
    assert _page(w["olga"]).get(f"/contracts/{ritas.pk}/").status_code == 404
    assert _page(w["olga"]).get(f"/contracts/{ritas.pk}/versions/1/").status_code == 404
    assert _page(w["max"]).get(f"/contracts/{ritas.pk}/").status_code == 200
    assert _page(w["rita"]).get(f"/contracts/{olgas.pk}/").status_code == 404
    on_day(date(2027, 3, 15))
    response = _page(w["olga"]).post(
        f"/contracts/{ritas.pk}/amend/",
        {
            "lock_version": ritas.lock_version,
            "kind": "add_quantity",
            "effective_date": "2027-03-15",
            "sku": "SEAT",
            "quantity": "10",
        },
    )
    assert response.status_code == 404
    assert not Amendment.objects.filter(contract_id=ritas.pk).exists()
