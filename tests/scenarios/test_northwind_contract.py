"""Northwind buys from Acme Cloud — steps 2 and 6 of /work/shared/scenarios/northwind.md, the
contract's part.

Set-up through the public services of parties and catalog; the quote through the quotes services
(step 1 and the approval, sending and acceptance of step 2); the contract read and amended through
the contracts API; the business clock moves forward only. Every expected value is a literal from
the scenario file:

2. "2027-01-20 Northwind accepts via the public link → contract C-1 [2027-02-01, 2028-02-01)" —
   with 50 SEAT at 25.50 per seat per month, 1 ONB (5,000.00), 2 EDGE (2,000.00 each) and API
   usage (step 1), numbers ``CON-2027-000001…`` (Setup), TCV excluding usage 24,300.00 (step 1).
6. "2027-03-15 amendment: +10 SEAT at 25.50, co-termed to 2028-02-01" — add-on seats priced at
   their add-on SSP 25.50 (Setup table), "ratable over [2027-03-15, 2028-02-01) = 323 days",
   "transaction price 139.84 + 10 × 255.00 = 2,689.84" (INV-2027-000004: 10 × 25.50 × 17/31 =
   139.84 for March).

Setting used: the entity's default "signature on acceptance" — the customer's signed acceptance of
the quote is the contract signature, so C-1 is active from the acceptance (orders follow at once,
as step 2 says).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from q2c.core import clock
from q2c.platform.auth import ApiToken
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db
API = "/api/v1/contracts"


def client_of(user) -> Client:
    _, raw = ApiToken.issue(user, "scenario")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_northwind_contract_c1_from_the_accepted_quote_and_the_co_termed_add_on_seats(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from q2c.catalog import services as catalog
    from q2c.quotes import services as quotes

    business = clock.SimulationClock(date(2027, 1, 10), default_tz="Europe/Berlin")
    clock.install(business)
    catalog.clear_cache()
    entity = builders.seller()
    account = builders.customer()
    builders.northwind_catalog()
    rita = builders.user("rita", "sales_rep")
    max_ = builders.user("max", "sales_manager")
    quotes.save_team(name="DACH", manager_id=max_.pk, member_ids=[rita.pk], actor="setup")
    world = {"entity": entity, "account": account, "rita": rita, "max": max_}

    # Step 1 and 2: the quote, Max's approval on 01-11, sent on 01-12, accepted on 2027-01-20.
    quote = builders.accept_northwind_quote(world, business.set)
    assert quote.number == "Q-2027-000001"
    assert clock.today("Europe/Berlin") == date(2027, 1, 20)

    viewer = client_of(builders.user("vera", "viewer"))
    listed = viewer.get(f"{API}/contracts").json()
    assert [c["number"] for c in listed["items"]] == ["CON-2027-000001"]
    c1 = viewer.get(f"{API}/contracts/{listed['items'][0]['id']}").json()
    assert (c1["status"], c1["start_date"], c1["end_date"], c1["term_months"]) == (
        "active",
        "2027-02-01",
        "2028-02-01",
        12,
    )
    assert (c1["currency"], c1["source_quote_number"], c1["sale_context"]) == ("EUR", "Q-2027-000001", "new")
    assert [
        (x["sku"], x["charge_kind"], x["quantity"], x["net_unit_price"])
        for x in c1["lines"]
        if x["charge_kind"] != "usage"
    ] == [
        ("SEAT", "recurring", "50", "25.50"),
        ("ONB", "one_time", "1", "5000.00"),
        ("EDGE", "one_time", "2", "2000.00"),
    ]
    assert [x["sku"] for x in c1["lines"] if x["charge_kind"] == "usage"] == ["API"]
    assert all(x["quote_id"] == quote.pk and x["document_sha256"] for x in c1["lines"])
    assert (c1["one_time"]["amount"], c1["mrr"]["amount"], c1["value"]["amount"]) == (
        "9000.00",
        "1275.00",
        "24300.00",
    )
    activated = Event.objects.get(type="contracts.contract.activated")
    assert activated.occurred_at.date() == date(2027, 1, 20)

    # Step 6: on 2027-03-15 Rita adds 10 SEAT at 25.50, co-termed to 2028-02-01.
    business.set(date(2027, 3, 15))
    response = client_of(rita).post(
        f"{API}/contracts/{c1['id']}/amendments",
        data=json.dumps(
            {
                "lock_version": c1["lock_version"],
                "kind": "add_quantity",
                "effective_date": "2027-03-15",
                "sku": "SEAT",
                "quantity": "10",
                "unit_price": "25.50",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    amendment = response.json()
    assert (amendment["status"], amendment["sale_context"], amendment["effective_date"]) == (
        "applied",
        "add_on",
        "2027-03-15",
    )
    (seats,) = amendment["delta_lines"]
    assert (seats["sku"], seats["quantity"], seats["net_unit_price"], seats["ssp_unit"]) == (
        "SEAT",
        "10",
        "25.50",
        "25.50",
    )
    assert (seats["service_start"], seats["service_end"]) == ("2027-03-15", "2028-02-01")
    assert (date(2028, 2, 1) - date(2027, 3, 15)).days == 323
    assert amendment["delta_value"]["amount"] == "2689.84"

    after = viewer.get(f"{API}/contracts/{c1['id']}").json()
    assert after["current_version"] == 2
    assert [x["quantity"] for x in after["lines"] if x["sku"] == "SEAT"] == ["50", "10"]
    before = viewer.get(f"{API}/contracts/{c1['id']}/versions/1").json()
    assert [x["quantity"] for x in before["lines"] if x["sku"] == "SEAT"] == ["50"]
    amended = Event.objects.get(type="contracts.contract.amended")
    assert (amended.payload["sale_context"], amended.payload["delta_lines"][0]["value"]["amount"]) == (
        "add_on",
        "2689.84",
    )
    timeline = [e["type"] for e in viewer.get(f"{API}/contracts/{c1['id']}/events").json()]
    assert timeline == [
        "contracts.contract.created",
        "contracts.contract.signed",
        "contracts.contract.activated",
        "contracts.contract.amended",
    ]
