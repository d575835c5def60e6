"""The orders pages: list, fulfilment board, order detail with its timeline, stock levels and
moves, the receipt and adjustment forms, and the actions on an order — including a broken rule
shown on the page with the API's status code, nothing changed, and hostile text shown as text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from q2c.orders import services
from q2c.orders.domain import NewOrder, OrderType
from q2c.orders.models import Order, OrderLine, StockLevel

from .builders import at, line, northwind_contract

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def browser_as(make_user):
    def make(role: str, username: str | None = None) -> Client:
        client = Client()
        client.force_login(make_user(role, username))
        return client

    return make


@pytest.fixture
def order(acme, northwind, products):
    clock = at(date(2027, 1, 15))
    services.receive_stock("EDGE", "1")
    clock.set(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind)
    clock.set(date(2027, 2, 1))
    return Order.objects.get(contract_id=contract.pk)


def line_of(order: Order, sku: str) -> OrderLine:
    return OrderLine.objects.get(order=order, sku=sku)


def test_the_order_list_board_and_stock_pages_show_what_needs_doing(order, browser_as):
    viewer = browser_as("viewer")
    listing = viewer.get("/orders/", {"q": "Northwind"})
    assert listing.status_code == 200
    assert order.number in listing.content.decode()
    board = viewer.get("/orders/board/").content.decode()
    assert "Back-ordered" in board and "To provision" in board and order.number in board
    stock = viewer.get("/orders/stock/").content.decode()
    assert "EDGE" in stock
    moves = viewer.get("/orders/stock/moves/", {"sku": "EDGE"}).content.decode()
    assert "reservation" in moves and "receipt" in moves
    detail = viewer.get(f"/orders/{order.pk}/").content.decode()
    assert "Timeline" in detail and "New order created from contract" in detail
    # A viewer sees no buttons that act.
    assert "Record delivery" not in detail and ">Pick<" not in detail and "Activate" not in detail


def test_finance_picks_ships_and_delivers_from_the_order_page(order, browser_as):
    finance = browser_as("finance")
    edge = line_of(order, "EDGE")
    page = finance.get(f"/orders/{order.pk}/").content.decode()
    assert f'name="qty-{edge.pk}"' in page
    response = finance.post(f"/orders/{order.pk}/pick/", {f"qty-{edge.pk}": "1"})
    assert response.status_code == 302
    shipment = order.shipments.get()
    finance.post(f"/orders/shipments/{shipment.pk}/ship/", {"carrier": "DHL", "tracking_number": "JJD0001"})
    finance.post(f"/orders/shipments/{shipment.pk}/deliver/", {"delivered_on": "2027-02-01"})
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.delivered_on) == (
        "delivered",
        "DHL",
        date(2027, 2, 1),
    )
    page = finance.get(f"/orders/{order.pk}/").content.decode()
    assert "1 of line 3 EDGE delivered on 2027-02-01" in page
    seat = line_of(order, "SEAT")
    finance.post(f"/orders/lines/{seat.pk}/activate/", {"activated_on": "2027-02-01"})
    seat.refresh_from_db()
    assert seat.status == "fulfilled"


def test_a_broken_rule_is_shown_on_the_page_with_its_status_and_nothing_changes(order, browser_as):
    finance = browser_as("finance")
    edge = line_of(order, "EDGE")
    response = finance.post(f"/orders/{order.pk}/pick/", {f"qty-{edge.pk}": "2"})
    assert response.status_code == 409
    text = response.content.decode()
    assert "orders.insufficient_stock" in text and "only 1 of EDGE" in text
    assert not order.shipments.exists()
    seat = line_of(order, "SEAT")
    finance.post(f"/orders/lines/{seat.pk}/activate/", {})
    again = finance.post(f"/orders/lines/{seat.pk}/activate/", {})
    assert again.status_code == 409
    assert "provisioning_task.invalid_transition" in again.content.decode()
    bad_date = finance.post(
        f"/orders/lines/{line_of(order, 'ONB').pk}/complete/", {"completed_on": "2027-13-01"}
    )
    assert bad_date.status_code == 422


def test_the_receipt_form_receives_stock_and_releases_the_back_order(order, browser_as):
    finance = browser_as("finance")
    assert finance.get("/orders/stock/receive/").status_code == 200
    response = finance.post(
        "/orders/stock/receive/", {"sku": "EDGE", "quantity": "3", "location": "MAIN", "reference": "PO-7"}
    )
    assert response.status_code == 302
    assert StockLevel.objects.values_list("on_hand", "reserved").get() == (D(4), D(2))
    assert line_of(order, "EDGE").backordered == 0


def test_the_stock_forms_show_errors_next_to_the_field_and_change_nothing(order, browser_as):
    finance = browser_as("finance")
    refused = finance.post("/orders/stock/receive/", {"sku": "EDGE", "quantity": "1.5", "location": "MAIN"})
    assert refused.status_code == 422
    assert "orders.indivisible" in refused.content.decode()
    negative = finance.post(
        "/orders/stock/adjust/", {"sku": "EDGE", "delta": "-5", "location": "MAIN", "note": "count"}
    )
    assert negative.status_code == 409
    assert "orders.negative_stock" in negative.content.decode()
    assert StockLevel.objects.values_list("on_hand", "reserved").get() == (D(1), D(1))


def test_only_finance_acts_and_only_managers_and_finance_cancel(order, browser_as):
    rep = browser_as("sales_rep")
    assert rep.get("/orders/stock/receive/").status_code == 403
    assert rep.post(f"/orders/{order.pk}/pick/", {}).status_code == 403
    assert rep.post(f"/orders/{order.pk}/cancel/", {}).status_code == 403
    manager = browser_as("sales_manager")
    response = manager.post(f"/orders/{order.pk}/cancel/", {"reason": "deal fell through"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "deal fell through")


def test_text_people_typed_is_shown_as_text(acme, northwind, products, browser_as):
    at(date(2027, 2, 1))
    hostile = '<script>alert("x")</script>'
    made = services.create_order(
        NewOrder(
            entity_id=acme.pk,
            account_id=northwind.pk,
            type=OrderType.NEW,
            lines=[line("ONB", "service", "1")],
            note=hostile,
        )
    )
    page = browser_as("viewer").get(f"/orders/{made.pk}/").content.decode()
    assert hostile not in page
    assert "&lt;script&gt;" in page


def test_an_unknown_order_is_a_404_page(browser_as, db: Any):
    assert browser_as("viewer").get("/orders/999999/").status_code == 404
    assert browser_as("finance").post("/orders/shipments/999999/ship/", {"carrier": "DHL"}).status_code == 404
