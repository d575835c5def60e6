"""Northwind buys from Acme Cloud — the orders' part of /work/shared/scenarios/northwind.md.

Set-up and steps 1–2 (quote, approval, sending, acceptance → contract C-1) through the public
services of parties, catalog, quotes and contracts (the contracts tests' builders); stock, the
order and its fulfilment through the orders API; the business clock only moves forward. Expected
values are literals from the scenario file:

- Setup: "Stock of EDGE on hand: 10".
- Step 2: "2027-01-20 Northwind accepts … → contract C-1 [2027-02-01, 2028-02-01), order with 2 EDGE
  to ship, ONB to provision, SEAT and API active from 2027-02-01" (50 SEAT, 1 ONB, 2 EDGE, API: step 1).
- Step 5: "2027-02-10 both EDGE delivered; 2027-02-26 ONB completed."
- Step 6: "2027-03-15 amendment: +10 SEAT at 25.50, co-termed to 2028-02-01."

Billing ("EDGE on delivery", INV-2027-000002 dated 2027-02-10) and revenue ("EDGE point in time, on
delivery", "ONB point in time, on completion"; SEAT ratable from 2027-02-01) react to the events
checked here: LineDelivered on 2027-02-10, LineCompleted on 2027-02-26, LineActivated on 2027-02-01.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from q2c.core import clock
from q2c.platform.auth import ApiToken
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db
API = "/api/v1/orders"


def client_of(user: Any) -> Client:
    _, raw = ApiToken.issue(user, "scenario")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"{API}{path}", data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_northwind_step_5_delivers_both_appliances_from_ten_in_stock_and_provisions_the_services(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from q2c.catalog import services as catalog
    from q2c.contracts import services as contracts
    from q2c.orders.services import run_due
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
    finance = client_of(builders.user("fiona", "finance"))
    viewer = client_of(builders.user("vera", "viewer"))

    # Setup: "Stock of EDGE on hand: 10".
    receipt = post(
        finance, "/stock/receipts", {"sku": "EDGE", "quantity": "10", "reference": "opening stock"}
    )
    assert (receipt["on_hand_after"], receipt["reserved_after"]) == ("10", "0")

    # Steps 1–2: the quote is accepted on 2027-01-20; C-1 is active and its order is made at once.
    builders.accept_northwind_quote(
        {"entity": entity, "account": account, "rita": rita, "max": max_}, business.set
    )
    (listed,) = viewer.get(f"{API}/orders").json()["items"]
    order = viewer.get(f"{API}/orders/{listed['id']}").json()
    assert (order["number"], order["type"], order["status"]) == ("ORD-2027-000001", "new", "open")
    assert (order["contract_number"], order["account_name"], order["ordered_on"]) == (
        "CON-2027-000001",
        "Northwind Handels GmbH",
        "2027-01-20",
    )
    lines = {ln["sku"]: ln for ln in order["lines"]}
    assert [(ln["sku"], ln["kind"], ln["quantity"]) for ln in order["lines"]] == [
        ("SEAT", "subscription", "50"),
        ("ONB", "service", "1"),
        ("EDGE", "good", "2"),
        ("API", "usage", "0"),
    ]
    assert all(ln["planned_date"] == "2027-02-01" for ln in order["lines"])
    assert all(ln["service_end"] == "2028-02-01" for ln in order["lines"])
    # 2 EDGE to ship, reserved from the 10 on hand; nothing back-ordered.
    assert (lines["EDGE"]["reserved"], lines["EDGE"]["backordered"]) == ("2", "0")
    assert [(s["on_hand"], s["reserved"], s["available"]) for s in viewer.get(f"{API}/stock").json()] == [
        ("10", "2", "8")
    ]

    # "SEAT and API active from 2027-02-01".
    business.set(date(2027, 2, 1))
    for sku in ("SEAT", "API"):
        activated = post(finance, f"/lines/{lines[sku]['id']}/activate", {})
        assert (activated["status"], activated["task"]["activated_on"]) == ("fulfilled", "2027-02-01")

    # "2027-02-10 both EDGE delivered".
    business.set(date(2027, 2, 10))
    shipment = post(
        finance,
        f"/orders/{order['id']}/shipments",
        {"lines": [{"line_id": lines["EDGE"]["id"], "quantity": "2"}]},
    )
    post(
        finance,
        f"/shipments/{shipment['id']}/ship",
        {"carrier": "DHL", "tracking_number": "00340434161094042557"},
    )
    delivered = post(finance, f"/shipments/{shipment['id']}/deliver", {})
    assert (delivered["status"], delivered["shipped_on"], delivered["delivered_on"]) == (
        "delivered",
        "2027-02-10",
        "2027-02-10",
    )
    assert [(s["on_hand"], s["reserved"], s["available"]) for s in viewer.get(f"{API}/stock").json()] == [
        ("8", "0", "8")
    ]

    # "2027-02-26 ONB completed".
    business.set(date(2027, 2, 26))
    completed = post(finance, f"/lines/{lines['ONB']['id']}/complete", {})
    assert (completed["status"], completed["task"]["completed_on"]) == ("fulfilled", "2027-02-26")
    assert viewer.get(f"{API}/orders/{order['id']}").json()["status"] == "fulfilled"

    # What billing and revenue react to, with the contract line each fulfils.
    c1 = client_of(rita).get(f"/api/v1/contracts/contracts/{order['contract_id']}").json()
    keys = {x["sku"]: x["key"] for x in c1["lines"]}

    def one(type_: str, sku: str) -> dict[str, Any]:
        (event,) = [e for e in Event.objects.filter(type=type_).order_by("seq") if e.payload["sku"] == sku]
        assert event.payload["contract_line_key"] == keys[sku]
        assert event.payload["contract_id"] == order["contract_id"]
        return event.payload

    edge = one("orders.line.delivered", "EDGE")
    assert (edge["quantity"], edge["delivered_on"], edge["fully_delivered"]) == ("2", "2027-02-10", True)
    onb = one("orders.line.completed", "ONB")
    assert (onb["quantity"], onb["completed_on"]) == ("1", "2027-02-26")
    for sku, quantity in (("SEAT", "50"), ("API", "0")):
        started = one("orders.line.activated", sku)
        assert (started["quantity"], started["activated_on"]) == (quantity, "2027-02-01")

    # Step 6: "+10 SEAT at 25.50, co-termed to 2028-02-01" — an amendment order; added seats of a
    # running subscription start by themselves on the effective date (the daily job).
    business.set(date(2027, 3, 15))
    contracts.amend(
        order["contract_id"],
        actor=rita,
        lock_version=c1["lock_version"],
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )
    amendment = viewer.get(f"{API}/orders", {"type": "amendment"}).json()["items"][0]
    (seats,) = viewer.get(f"{API}/orders/{amendment['id']}").json()["lines"]
    assert (seats["sku"], seats["quantity"], seats["planned_date"], seats["service_end"]) == (
        "SEAT",
        "10",
        "2027-03-15",
        "2028-02-01",
    )
    assert run_due(date(2027, 3, 15)) == {"tasks": 1, "failed": []}
    added = viewer.get(f"{API}/lines/{seats['id']}").json()
    assert (added["status"], added["task"]["activated_on"]) == ("fulfilled", "2027-03-15")
