"""The orders API end to end: an order made from a contract ships in part, back-orders the rest,
gets it when stock arrives, and its services activate — all through ``/api/v1/orders/``; bad
requests answer problem+json with a stable code and change nothing; roles are enforced."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from q2c.orders.models import Order, StockLevel, StockMove
from q2c.platform.models import Event

from .builders import at, northwind_contract

pytestmark = pytest.mark.django_db
API = "/api/v1/orders"


def post(client: Any, path: str, body: dict[str, Any] | None = None, **headers: Any) -> Any:
    return client.post(
        f"{API}{path}", data=json.dumps(body or {}), content_type="application/json", **headers
    )


def get(client: Any, path: str) -> Any:
    return client.get(f"{API}{path}")


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


@pytest.fixture
def contract_order(acme, northwind, products, api_as):
    """C-1 signed on 2027-01-20 with 1 EDGE in stock: the order back-orders one appliance."""
    clock = at(date(2027, 1, 15))
    finance = api_as("finance", "fiona")
    assert (
        post(finance, "/stock/receipts", {"sku": "EDGE", "quantity": "1", "reference": "PO-1"}).status_code
        == 201
    )
    clock.set(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind)
    order = Order.objects.get(contract_id=contract.pk)
    return {"clock": clock, "finance": finance, "order": order, "contract": contract}


def lines_by_sku(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ln["sku"]: ln for ln in order["lines"]}


def test_an_order_from_a_contract_ships_in_part_back_orders_the_rest_and_activates_its_services(
    contract_order, api_as
):
    finance, clock, order_id = contract_order["finance"], contract_order["clock"], contract_order["order"].pk
    reader = api_as("sales_rep", "rita")

    found = reader.get(f"{API}/orders", {"contract_id": contract_order["contract"].pk}).json()
    assert [o["id"] for o in found["items"]] == [order_id]
    order = get(reader, f"/orders/{order_id}").json()
    assert (order["type"], order["status"], order["contract_number"]) == (
        "new",
        "open",
        contract_order["contract"].number,
    )
    edge = lines_by_sku(order)["EDGE"]
    assert (edge["quantity"], edge["reserved"], edge["backordered"]) == ("2", "1", "1")
    board = get(reader, "/board").json()
    assert [ln["id"] for ln in board["backordered"]] == [edge["id"]]
    assert [ln["id"] for ln in board["to_pick"]] == [edge["id"]]
    assert sorted(ln["sku"] for ln in board["to_provision"]) == ["API", "ONB", "SEAT"]

    # 2027-02-01: the subscription and usage start.
    clock.set(date(2027, 2, 1))
    by_sku = lines_by_sku(order)
    for sku in ("SEAT", "API"):
        activated = post(finance, f"/lines/{by_sku[sku]['id']}/activate", {"activated_on": "2027-02-01"})
        assert activated.status_code == 200, activated.content
        assert activated.json()["task"]["activated_on"] == "2027-02-01"
        assert activated.json()["status"] == "fulfilled"

    # Ship the one appliance in stock: a partial shipment.
    clock.set(date(2027, 2, 5))
    picked = post(
        finance, f"/orders/{order_id}/shipments", {"lines": [{"line_id": edge["id"], "quantity": "1"}]}
    )
    assert picked.status_code == 201, picked.content
    shipment = picked.json()
    assert picked["Location"] == f"{API}/shipments/{shipment['id']}"
    assert (shipment["status"], shipment["lines"][0]["quantity"]) == ("picked", "1")
    shipped = post(
        finance,
        f"/shipments/{shipment['id']}/ship",
        {"carrier": "DHL", "tracking_number": "00340434161094042557"},
    )
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["shipped_on"] == "2027-02-05"
    clock.set(date(2027, 2, 6))
    delivered = post(finance, f"/shipments/{shipment['id']}/deliver", {"delivered_on": "2027-02-06"})
    assert delivered.json()["delivered_on"] == "2027-02-06"
    assert get(reader, f"/orders/{order_id}").json()["status"] == "in_fulfilment"

    # Stock arrives: the back-order is released at once.
    receipt = post(finance, "/stock/receipts", {"sku": "EDGE", "quantity": "4", "reference": "PO-2"})
    assert receipt.status_code == 201
    assert (receipt.json()["on_hand_after"], receipt.json()["reserved_after"]) == ("4", "0")
    edge = get(reader, f"/lines/{edge['id']}").json()
    assert (edge["reserved"], edge["backordered"], edge["shipped"], edge["delivered"]) == ("1", "0", "1", "1")
    stock = get(reader, "/stock").json()
    assert [(s["sku"], s["on_hand"], s["reserved"], s["available"], s["backordered"]) for s in stock] == [
        ("EDGE", "4", "1", "3", "0")
    ]

    second = post(
        finance, f"/orders/{order_id}/shipments", {"lines": [{"line_id": edge["id"], "quantity": 1}]}
    ).json()
    post(finance, f"/shipments/{second['id']}/ship", {"carrier": "DHL"})
    clock.set(date(2027, 2, 10))
    post(finance, f"/shipments/{second['id']}/deliver", {})

    # Onboarding, a one-time service, is completed.
    clock.set(date(2027, 2, 26))
    done = post(finance, f"/lines/{by_sku['ONB']['id']}/complete", {})
    assert (done.json()["status"], done.json()["task"]["completed_on"]) == ("fulfilled", "2027-02-26")

    order = get(reader, f"/orders/{order_id}").json()
    assert order["status"] == "fulfilled"
    assert [s["delivered_on"] for s in order["shipments"]] == ["2027-02-06", "2027-02-10"]
    timeline = get(reader, f"/orders/{order_id}/timeline").json()
    kinds = [e["type"] for e in timeline]
    assert kinds.count("orders.line.delivered") == 2
    assert kinds.count("orders.line.activated") == 2
    assert kinds[0] == "orders.order.created"
    assert kinds[-1] == "orders.order.status_changed"
    assert timeline[-1]["payload"]["status_to"] == "fulfilled"

    closed = post(finance, f"/orders/{order_id}/close")
    assert closed.json()["status"] == "closed"

    moves = reader.get(f"{API}/stock/moves", {"sku": "EDGE", "limit": 3}).json()
    assert [m["kind"] for m in moves["items"]] == ["shipment", "reservation", "receipt"]
    assert moves["next_cursor"]


def snapshot() -> Any:
    return (
        list(StockLevel.objects.values_list("on_hand", "reserved")),
        StockMove.objects.count(),
        Event.objects.count(),
        list(Order.objects.values_list("status", flat=True)),
    )


def test_bad_requests_answer_problem_json_and_change_nothing(contract_order, api_as):
    finance, order = contract_order["finance"], contract_order["order"]
    contract_order["clock"].set(date(2027, 2, 1))
    lines = lines_by_sku(get(finance, f"/orders/{order.pk}").json())
    edge, seat = lines["EDGE"], lines["SEAT"]
    before = snapshot()

    body = problem(
        post(finance, f"/orders/{order.pk}/shipments", {"lines": [{"line_id": edge["id"], "quantity": "3"}]}),
        422,
        "orders.exceeds_ordered",
    )
    assert body["errors"][0]["field"] == "lines[0].quantity"
    problem(
        post(finance, f"/orders/{order.pk}/shipments", {"lines": [{"line_id": edge["id"], "quantity": "2"}]}),
        409,
        "orders.insufficient_stock",
    )
    problem(
        post(finance, f"/orders/{order.pk}/shipments", {"lines": [{"line_id": edge["id"], "quantity": 1.0}]}),
        422,
        "validation",
    )
    problem(
        post(finance, "/stock/adjustments", {"sku": "EDGE", "delta": "-2", "note": "count"}),
        409,
        "orders.negative_stock",
    )
    problem(
        post(finance, "/stock/receipts", {"sku": "EDGE", "quantity": "-1"}), 422, "orders.invalid_quantity"
    )
    problem(
        post(finance, "/stock/receipts", {"sku": "NOPE", "quantity": "1"}), 404, "orders.product_not_found"
    )
    problem(post(finance, f"/lines/{seat['id']}/complete", {}), 422, "orders.wrong_kind")
    problem(post(finance, "/lines/999999/activate", {}), 404, "orders.line_not_found")
    problem(get(finance, "/orders/999999"), 404, "orders.not_found")
    problem(post(finance, f"/orders/{order.pk}/close"), 409, "order.invalid_transition")
    assert snapshot() == before

    picked = post(
        finance, f"/orders/{order.pk}/shipments", {"lines": [{"line_id": edge["id"], "quantity": "1"}]}
    ).json()
    before = snapshot()
    problem(post(finance, f"/shipments/{picked['id']}/deliver", {}), 409, "shipment.invalid_transition")
    problem(post(finance, f"/shipments/{picked['id']}/ship", {"carrier": ""}), 422, "orders.required")
    assert snapshot() == before

    assert post(finance, f"/lines/{seat['id']}/activate", {}).status_code == 200
    before = snapshot()
    problem(post(finance, f"/lines/{seat['id']}/activate", {}), 409, "provisioning_task.invalid_transition")
    problem(
        post(finance, f"/lines/{seat['id']}/cancel", {"reason": "x"}), 409, "order_line.invalid_transition"
    )
    assert snapshot() == before


def test_roles_read_and_act_as_the_permissions_matrix_says(contract_order, api_as):
    order = contract_order["order"]
    edge = lines_by_sku(get(contract_order["finance"], f"/orders/{order.pk}").json())["EDGE"]
    for role in ("sales_rep", "sales_manager", "viewer"):
        client = api_as(role, f"{role}-reader")
        assert get(client, f"/orders/{order.pk}").status_code == 200
        assert get(client, "/board").status_code == 200
        assert get(client, "/stock").status_code == 200
        problem(post(client, "/stock/receipts", {"sku": "EDGE", "quantity": "1"}), 403, "auth.forbidden")
        problem(
            post(
                client, f"/orders/{order.pk}/shipments", {"lines": [{"line_id": edge["id"], "quantity": "1"}]}
            ),
            403,
            "auth.forbidden",
        )
    manager = api_as("sales_manager", "max")
    assert post(manager, f"/lines/{edge['id']}/cancel", {"reason": "customer asked"}).status_code == 200
    problem(post(api_as("viewer", "vera"), f"/orders/{order.pk}/cancel", {}), 403, "auth.forbidden")
    problem(
        post(contract_order["finance"], "/locations", {"code": "HAM", "name": "Hamburg"}),
        403,
        "auth.forbidden",
    )
    admin = api_as("admin", "ada")
    assert post(admin, "/locations", {"code": "HAM", "name": "Hamburg"}).status_code == 201


def test_an_admin_makes_an_order_by_hand_and_a_retried_request_does_not_make_two(
    acme, northwind, products, api_as
):
    at(date(2027, 2, 1))
    admin = api_as("admin", "ada")
    body = {
        "entity_id": acme.pk,
        "account_id": northwind.pk,
        "type": "new",
        "lines": [
            {"sku": "EDGE", "kind": "good", "quantity": "1"},
            {"sku": "ONB", "kind": "service", "quantity": 1},
        ],
        "note": "replacement for a damaged unit",
    }
    first = post(admin, "/orders", body, HTTP_IDEMPOTENCY_KEY="replacement-1")
    assert first.status_code == 201, first.content
    again = post(admin, "/orders", body, HTTP_IDEMPOTENCY_KEY="replacement-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    made = first.json()
    assert first["Location"] == f"{API}/orders/{made['id']}"
    assert [(ln["sku"], ln["kind"], ln["backordered"]) for ln in made["lines"]] == [
        ("EDGE", "good", "1"),
        ("ONB", "service", "0"),
    ]
    problem(
        post(admin, "/orders", {**body, "lines": [{"sku": "EDGE", "kind": "gadget", "quantity": "1"}]}),
        422,
        "orders.invalid_kind",
    )
    problem(post(admin, "/orders", {**body, "account_id": 999999}), 422, "orders.unknown_account")
