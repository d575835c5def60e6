"""Bad input at every entry point of the orders services: a clear error with a stable code and
the field at fault, and nothing changed — no row, no stock move, no event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from q2c.core.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationError
from q2c.orders import services
from q2c.orders.models import Order, OrderLine, ProvisioningTask, Shipment, StockLevel, StockMove
from q2c.platform.models import Event

from .builders import at, line

pytestmark = pytest.mark.django_db
D = Decimal


def snapshot() -> Any:
    """Everything a use case could have written."""
    return (
        list(Order.objects.order_by("id").values_list("id", "status", "closed_on", "cancelled_on")),
        list(
            OrderLine.objects.order_by("id").values_list(
                "id", "status", "backordered", "reserved", "picked", "shipped", "delivered", "cancelled"
            )
        ),
        list(
            Shipment.objects.order_by("id").values_list(
                "id", "status", "carrier", "shipped_on", "delivered_on"
            )
        ),
        list(
            ProvisioningTask.objects.order_by("id").values_list(
                "id", "status", "activated_on", "completed_on"
            )
        ),
        list(StockLevel.objects.order_by("id").values_list("id", "on_hand", "reserved")),
        StockMove.objects.count(),
        Event.objects.count(),
    )


def refused(kind: type[DomainError], code: str, call: Any, *, field: str | None = None) -> DomainError:
    before = snapshot()
    with pytest.raises(kind) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    if field is not None:
        assert caught.value.field == field
    assert caught.value.message  # a sentence for people
    assert snapshot() == before, "nothing may change"
    return caught.value


@pytest.fixture
def order(new_order):
    """2 EDGE with 1 in stock (1 reserved, 1 back-ordered), 50 SEAT, 1 ONB; clock on 2027-02-08."""
    at(date(2027, 2, 8))
    services.receive_stock("EDGE", "1")
    return services.create_order(
        new_order(line("EDGE", "good", "2"), line("SEAT", "subscription", "50"), line("ONB", "service", "1"))
    )


def lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).order_by("position"))


# --------------------------------------------------------------------------- shipping


def test_picking_more_than_was_ordered_is_refused(order):
    edge = lines(order)[0]
    error = refused(
        ValidationError,
        "orders.exceeds_ordered",
        lambda: services.pick(order.pk, {edge.pk: "3"}),
        field="lines[0].quantity",
    )
    assert error.status == 422
    assert "2 left to ship" in error.message


def test_picking_more_than_is_in_stock_is_refused(order):
    edge = lines(order)[0]
    error = refused(
        Conflict,
        "orders.insufficient_stock",
        lambda: services.pick(order.pk, {edge.pk: "2"}),
        field="lines[0].quantity",
    )
    assert error.status == 409
    assert "only 1 of EDGE" in error.message


def test_picking_after_part_has_shipped_counts_what_is_left(order):
    edge = lines(order)[0]
    shipment = services.pick(order.pk, {edge.pk: "1"})
    services.ship(shipment.pk, carrier="DHL")
    services.receive_stock("EDGE", "5")
    refused(ValidationError, "orders.exceeds_ordered", lambda: services.pick(order.pk, {edge.pk: "2"}))


def test_picking_a_service_line_a_line_of_another_order_or_one_line_twice_is_refused(order, new_order):
    _, seat, _ = lines(order)
    edge = lines(order)[0]
    other = services.create_order(new_order(line("RACK", "good", "1")))
    refused(ValidationError, "orders.wrong_kind", lambda: services.pick(order.pk, {seat.pk: "1"}))
    refused(NotFound, "orders.line_not_found", lambda: services.pick(order.pk, {lines(other)[0].pk: "1"}))
    refused(
        ValidationError,
        "orders.duplicate_line",
        lambda: services.pick(order.pk, [(edge.pk, "1"), (edge.pk, "1")]),
    )
    refused(ValidationError, "orders.no_lines", lambda: services.pick(order.pk, {}))
    refused(ValidationError, "orders.indivisible", lambda: services.pick(order.pk, {edge.pk: "0.5"}))
    refused(NotFound, "orders.not_found", lambda: services.pick(999_999, {edge.pk: "1"}))


def test_shipping_needs_a_carrier_and_a_date_that_is_not_in_the_future(order):
    shipment = services.pick(order.pk, {lines(order)[0].pk: "1"})
    refused(
        ValidationError, "orders.required", lambda: services.ship(shipment.pk, carrier="  "), field="carrier"
    )
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.ship(shipment.pk, carrier="DHL", shipped_on=date(2027, 2, 9)),
        field="shipped_on",
    )
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.ship(shipment.pk, carrier="DHL", shipped_on=date(2027, 2, 7)),
        field="shipped_on",
    )
    refused(ValidationError, "orders.invalid_text", lambda: services.ship(shipment.pk, carrier="DHL\x00"))


def test_shipping_twice_is_refused(order):
    shipment = services.pick(order.pk, {lines(order)[0].pk: "1"})
    services.ship(shipment.pk, carrier="DHL")
    error = refused(
        InvalidTransition, "shipment.invalid_transition", lambda: services.ship(shipment.pk, carrier="DHL")
    )
    assert error.status == 409


def test_delivering_before_shipping_is_refused(order):
    shipment = services.pick(order.pk, {lines(order)[0].pk: "1"})
    error = refused(InvalidTransition, "shipment.invalid_transition", lambda: services.deliver(shipment.pk))
    assert error.status == 409
    assert "picked cannot become delivered" in error.message


def test_a_delivery_date_before_the_shipment_left_or_in_the_future_is_refused(order):
    clock = at(date(2027, 2, 8))
    shipment = services.pick(order.pk, {lines(order)[0].pk: "1"})
    services.ship(shipment.pk, carrier="DHL")
    clock.set(date(2027, 2, 12))
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.deliver(shipment.pk, delivered_on=date(2027, 2, 7)),
    )
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.deliver(shipment.pk, delivered_on=date(2027, 2, 13)),
    )


def test_putting_back_a_shipment_that_left_is_refused(order):
    shipment = services.pick(order.pk, {lines(order)[0].pk: "1"})
    services.ship(shipment.pk, carrier="DHL")
    refused(InvalidTransition, "shipment.invalid_transition", lambda: services.cancel_shipment(shipment.pk))
    refused(NotFound, "orders.shipment_not_found", lambda: services.ship(999_999, carrier="DHL"))


# --------------------------------------------------------------------------- provisioning


def test_activating_twice_is_refused(order):
    seat = lines(order)[1]
    services.activate(seat.pk)
    error = refused(
        InvalidTransition, "provisioning_task.invalid_transition", lambda: services.activate(seat.pk)
    )
    assert error.status == 409


def test_goods_are_not_activated_and_subscriptions_are_not_completed(order):
    edge, seat, _ = lines(order)
    refused(ValidationError, "orders.wrong_kind", lambda: services.activate(edge.pk))
    refused(ValidationError, "orders.wrong_kind", lambda: services.complete(seat.pk))
    refused(NotFound, "orders.line_not_found", lambda: services.activate(999_999))


def test_activation_dates_in_the_future_or_before_the_order_are_refused(order):
    seat = lines(order)[1]
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.activate(seat.pk, activated_on=date(2027, 2, 9)),
    )
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.activate(seat.pk, activated_on=date(2027, 2, 7)),
    )


def test_completing_before_the_service_started_is_refused(order):
    clock = at(date(2027, 2, 8))
    onb = lines(order)[2]
    clock.set(date(2027, 2, 20))
    services.activate(onb.pk, activated_on=date(2027, 2, 15))
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.complete(onb.pk, completed_on=date(2027, 2, 14)),
    )
    services.complete(onb.pk)
    refused(InvalidTransition, "provisioning_task.invalid_transition", lambda: services.complete(onb.pk))


# --------------------------------------------------------------------------- cancelling


def test_cancelling_a_delivered_line_is_refused(new_order):
    at(date(2027, 2, 10))
    services.receive_stock("EDGE", "2")
    order = services.create_order(new_order(line("EDGE", "good", "2")))
    edge = lines(order)[0]
    shipment = services.pick(order.pk, {edge.pk: "2"})
    services.ship(shipment.pk, carrier="DHL")
    services.deliver(shipment.pk)
    error = refused(InvalidTransition, "order_line.invalid_transition", lambda: services.cancel_line(edge.pk))
    assert error.status == 409
    assert "fulfilled cannot become cancelled" in error.message


def test_cancelling_a_line_whose_units_all_shipped_or_that_is_picked_is_refused(order):
    edge = lines(order)[0]
    shipment = services.pick(order.pk, {edge.pk: "1"})
    refused(Conflict, "orders.line_picked", lambda: services.cancel_line(edge.pk))
    services.ship(shipment.pk, carrier="DHL")
    services.receive_stock("EDGE", "1")
    second = services.pick(order.pk, {edge.pk: "1"})
    services.ship(second.pk, carrier="DHL")
    refused(Conflict, "orders.nothing_to_cancel", lambda: services.cancel_line(edge.pk))


def test_cancelling_a_running_subscription_or_a_started_order_is_refused(order):
    seat = lines(order)[1]
    services.activate(seat.pk)
    refused(InvalidTransition, "order_line.invalid_transition", lambda: services.cancel_line(seat.pk))
    refused(InvalidTransition, "order.invalid_transition", lambda: services.cancel_order(order.pk))


def test_closing_an_order_that_is_not_finished_is_refused(order):
    refused(InvalidTransition, "order.invalid_transition", lambda: services.close_order(order.pk))
    refused(NotFound, "orders.not_found", lambda: services.close_order(999_999))


# --------------------------------------------------------------------------- stock


def test_stock_cannot_go_negative(products):
    at(date(2027, 2, 8))
    services.receive_stock("EDGE", "1")
    error = refused(
        Conflict,
        "orders.negative_stock",
        lambda: services.adjust_stock("EDGE", "-2", note="count"),
        field="quantity",
    )
    assert error.status == 409


def test_stock_reserved_for_orders_cannot_be_counted_away(order):
    refused(Conflict, "orders.stock_reserved", lambda: services.adjust_stock("EDGE", "-1", note="count"))


@pytest.mark.parametrize(
    ("sku", "quantity", "kind", "code"),
    [
        ("EDGE", "-3", ValidationError, "orders.invalid_quantity"),
        ("EDGE", "0", ValidationError, "orders.invalid_quantity"),
        ("EDGE", "1.5", ValidationError, "orders.indivisible"),
        ("EDGE", "ten", ValidationError, "orders.invalid_quantity"),
        ("FIBRE", "0.0000001", ValidationError, "orders.too_many_decimals"),
        ("SEAT", "1", ValidationError, "orders.wrong_kind"),
        ("NOPE", "1", NotFound, "orders.product_not_found"),
        ("", "1", ValidationError, "orders.required"),
    ],
)
def test_a_bad_receipt_is_refused(products, sku, quantity, kind, code):
    at(date(2027, 2, 8))
    refused(kind, code, lambda: services.receive_stock(sku, quantity))


def test_a_receipt_dated_in_the_future_or_at_an_unknown_location_is_refused(products):
    at(date(2027, 2, 8))
    refused(
        ValidationError,
        "orders.invalid_date",
        lambda: services.receive_stock("EDGE", "1", received_on=date(2027, 2, 9)),
    )
    refused(
        NotFound, "orders.location_not_found", lambda: services.receive_stock("EDGE", "1", location="MARS")
    )


def test_an_adjustment_needs_a_reason_and_a_non_zero_change(products):
    at(date(2027, 2, 8))
    refused(
        ValidationError, "orders.required", lambda: services.adjust_stock("EDGE", "1", note=""), field="note"
    )
    refused(
        ValidationError,
        "orders.invalid_quantity",
        lambda: services.adjust_stock("EDGE", "0", note="x"),
        field="delta",
    )


def test_a_location_needs_a_clean_unique_code(products):
    refused(ValidationError, "orders.invalid_code", lambda: services.create_location("a b", "Somewhere"))
    refused(ValidationError, "orders.required", lambda: services.create_location("HAM", ""))
    refused(Conflict, "orders.duplicate_location", lambda: services.create_location("MAIN", "Again"))


# --------------------------------------------------------------------------- creating orders


def test_an_order_for_an_unknown_customer_or_product_is_refused(new_order, acme):
    at(date(2027, 2, 8))
    good = new_order(line("EDGE", "good", "1"))
    refused(
        ValidationError,
        "orders.unknown_account",
        lambda: services.create_order(type(good)(**{**good.__dict__, "account_id": 999_999})),
        field="account_id",
    )
    refused(
        NotFound,
        "orders.product_not_found",
        lambda: services.create_order(new_order(line("NOPE", "good", "1"))),
    )
    refused(
        ValidationError,
        "orders.indivisible",
        lambda: services.create_order(new_order(line("EDGE", "good", "1.5"))),
    )
    refused(
        ValidationError,
        "orders.invalid_quantity",
        lambda: services.create_order(new_order(line("EDGE", "good", "-1"))),
    )
    refused(ValidationError, "orders.no_lines", lambda: services.create_order(new_order()))
