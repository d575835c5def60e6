"""Orders through their public services: reservations and back-orders, receipts releasing them
oldest first, partial shipments, deliveries with dates, provisioning, cancellation, closing, the
daily job, the stock ledger and the events billing and revenue react to. Every expected number is
worked out by hand in the test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c.orders import events, services
from q2c.orders.models import OrderLine, ProvisioningTask, StockLevel, StockMove
from q2c.platform.models import Event

from .builders import at, line

pytestmark = pytest.mark.django_db
D = Decimal


def level(sku: str) -> tuple[Decimal, Decimal]:
    row = StockLevel.objects.get(sku=sku)
    return row.on_hand, row.reserved


def lines_of(order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).order_by("position"))


def quantities(ln: OrderLine) -> dict[str, Decimal]:
    ln.refresh_from_db()
    return {
        k: getattr(ln, k)
        for k in ("backordered", "reserved", "picked", "shipped", "delivered", "cancelled")
        if getattr(ln, k)
    }


def events_of(order, type_: str) -> list[dict]:
    return [
        e.payload
        for e in Event.objects.filter(
            aggregate_type="orders.order", aggregate_id=str(order.pk), type=type_
        ).order_by("seq")
    ]


# --------------------------------------------------------------------------- reservations


def test_an_order_reserves_what_is_in_stock_and_back_orders_the_rest(new_order):
    at(date(2027, 1, 20))
    services.receive_stock("EDGE", "1", reference="PO-1")
    order = services.create_order(new_order(line("EDGE", "good", "3", contract_line_key="3")))

    (edge,) = lines_of(order)
    assert quantities(edge) == {"reserved": D(1), "backordered": D(2)}
    assert edge.backordered_since == date(2027, 1, 20)
    assert level("EDGE") == (D(1), D(1))  # 1 on hand, 1 of it promised
    assert order.number == "ORD-2027-000001"
    assert order.status == "open"
    moves = list(
        StockMove.objects.order_by("id").values_list(
            "kind", "on_hand_delta", "reserved_delta", "on_hand_after", "reserved_after"
        )
    )
    assert moves == [("receipt", D(1), D(0), D(1), D(0)), ("reservation", D(0), D(1), D(1), D(1))]
    (created,) = events_of(order, events.ORDER_CREATED)
    assert created["lines"][0]["contract_line_key"] == "3"
    # Payloads are stored as JSON: exact decimals as text, dates as ISO dates.
    assert created["lines"][0]["quantity"] == "3"
    assert created["lines"][0]["reserved"] == "1"
    assert created["lines"][0]["backordered"] == "2"
    assert [e["quantity"] for e in events_of(order, events.LINE_BACKORDERED)] == ["2"]


def test_a_receipt_releases_back_orders_oldest_first_as_far_as_it_goes(new_order):
    at(date(2027, 1, 20))
    first = services.create_order(new_order(line("EDGE", "good", "2")))
    second = services.create_order(new_order(line("EDGE", "good", "3")))
    assert quantities(lines_of(first)[0]) == {"backordered": D(2)}

    services.receive_stock("EDGE", "4")

    # 4 units: the first order's 2, then 2 of the second's 3; 1 still waits.
    assert quantities(lines_of(first)[0]) == {"reserved": D(2)}
    assert quantities(lines_of(second)[0]) == {"reserved": D(2), "backordered": D(1)}
    assert level("EDGE") == (D(4), D(4))
    released = events_of(second, events.LINE_RESERVED)
    assert [(e["quantity"], e["released_from_backorder"]) for e in released] == [("2", True)]

    services.receive_stock("EDGE", "5")
    assert quantities(lines_of(second)[0]) == {"reserved": D(3)}
    assert lines_of(second)[0].backordered_since is None
    assert level("EDGE") == (D(9), D(5))


def test_stock_is_kept_per_location(new_order):
    at(date(2027, 1, 20))
    services.create_location("HAM", "Hamburg warehouse")
    services.receive_stock("EDGE", "5", location="HAM")
    order = services.create_order(new_order(line("EDGE", "good", "1")))  # ships from MAIN
    assert quantities(lines_of(order)[0]) == {"backordered": D(1)}
    services.receive_stock("EDGE", "1")  # at MAIN
    assert quantities(lines_of(order)[0]) == {"reserved": D(1)}
    assert sorted(StockLevel.objects.values_list("location__code", "on_hand", "reserved")) == [
        ("HAM", D(5), D(0)),
        ("MAIN", D(1), D(1)),
    ]


# --------------------------------------------------------------------------- goods


def test_goods_ship_in_part_and_are_delivered_with_a_date(new_order):
    clock = at(date(2027, 2, 8))
    services.receive_stock("EDGE", "1")
    order = services.create_order(new_order(line("EDGE", "good", "2", contract_line_key="3")))
    (edge,) = lines_of(order)

    shipment = services.pick(order.pk, {edge.pk: "1"})
    assert shipment.number == "ORD-2027-000001-S1"
    assert quantities(edge) == {"picked": D(1), "backordered": D(1)}
    assert level("EDGE") == (D(1), D(1))  # picked units are still here, still promised

    services.ship(shipment.pk, carrier="DHL", tracking_number="00340434161094042557")
    assert quantities(edge) == {"shipped": D(1), "backordered": D(1)}
    assert level("EDGE") == (D(0), D(0))
    edge.refresh_from_db()
    order.refresh_from_db()
    assert edge.status == "in_fulfilment"
    assert order.status == "in_fulfilment"
    (shipped,) = events_of(order, events.LINE_SHIPPED)
    assert shipped["quantity"] == "1"
    assert shipped["shipped_on"] == "2027-02-08"
    assert shipped["carrier"] == "DHL"
    assert shipped["tracking_number"] == "00340434161094042557"
    assert shipped["contract_line_key"] == "3"
    assert shipped["line_id"] == edge.pk

    clock.set(date(2027, 2, 10))
    services.deliver(shipment.pk)
    (delivered,) = events_of(order, events.LINE_DELIVERED)
    assert delivered["delivered_on"] == "2027-02-10"
    assert delivered["quantity"] == "1"
    assert delivered["delivered_total"] == "1"
    assert delivered["fully_delivered"] is False

    # The back-ordered unit arrives, ships and is delivered: the line and the order are done.
    services.receive_stock("EDGE", "1")
    assert quantities(edge) == {"reserved": D(1), "shipped": D(1), "delivered": D(1)}
    second = services.pick(order.pk, {edge.pk: "1"})
    services.ship(second.pk, carrier="DHL")
    services.deliver(second.pk, delivered_on=date(2027, 2, 10))
    edge.refresh_from_db()
    order.refresh_from_db()
    assert (edge.status, order.status) == ("fulfilled", "fulfilled")
    assert events_of(order, events.LINE_DELIVERED)[-1]["fully_delivered"] is True
    statuses = [e["status_to"] for e in events_of(order, events.ORDER_STATUS_CHANGED)]
    assert statuses == ["in_fulfilment", "fulfilled"]

    services.close_order(order.pk)
    order.refresh_from_db()
    assert (order.status, order.closed_on) == ("closed", date(2027, 2, 10))


def test_a_picked_shipment_put_back_leaves_its_units_reserved_for_the_line(new_order):
    at(date(2027, 2, 8))
    services.receive_stock("EDGE", "2")
    order = services.create_order(new_order(line("EDGE", "good", "2")))
    (edge,) = lines_of(order)
    shipment = services.pick(order.pk, {edge.pk: "2"})
    services.cancel_shipment(shipment.pk)
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"
    assert quantities(edge) == {"reserved": D(2)}
    assert level("EDGE") == (D(2), D(2))


def test_cancelling_the_rest_of_a_partly_delivered_line_leaves_it_partially_fulfilled(new_order):
    at(date(2027, 2, 8))
    services.receive_stock("EDGE", "1")
    order = services.create_order(new_order(line("EDGE", "good", "3")))
    (edge,) = lines_of(order)
    shipment = services.pick(order.pk, {edge.pk: "1"})
    services.ship(shipment.pk, carrier="UPS")
    services.deliver(shipment.pk)

    services.cancel_line(edge.pk, reason="customer no longer needs them")

    edge.refresh_from_db()
    order.refresh_from_db()
    assert quantities(edge) == {"shipped": D(1), "delivered": D(1), "cancelled": D(2)}
    assert (edge.status, order.status) == ("partially_fulfilled", "partially_fulfilled")
    (cancelled,) = events_of(order, events.LINE_CANCELLED)
    assert (cancelled["quantity"], cancelled["reason"]) == ("2", "customer no longer needs them")


def test_a_cancelled_reservation_goes_to_the_next_order_waiting_for_the_product(new_order):
    at(date(2027, 1, 20))
    services.receive_stock("EDGE", "2")
    first = services.create_order(new_order(line("EDGE", "good", "2")))
    second = services.create_order(new_order(line("EDGE", "good", "1")))
    assert quantities(lines_of(second)[0]) == {"backordered": D(1)}

    services.cancel_order(first.pk, reason="duplicate")

    first.refresh_from_db()
    assert first.status == "cancelled"
    assert first.cancelled_on == date(2027, 1, 20)
    assert quantities(lines_of(first)[0]) == {"cancelled": D(2)}
    assert quantities(lines_of(second)[0]) == {"reserved": D(1)}
    assert level("EDGE") == (D(2), D(1))
    kinds = list(StockMove.objects.order_by("id").values_list("kind", "reserved_delta"))
    assert kinds == [("receipt", D(0)), ("reservation", D(2)), ("release", D(-2)), ("reservation", D(1))]


def test_a_stock_count_adjusts_what_is_on_hand_and_a_gain_releases_back_orders(new_order):
    at(date(2027, 2, 28))
    order = services.create_order(new_order(line("EDGE", "good", "1")))
    services.adjust_stock("EDGE", "2", note="found two in the back room")
    assert quantities(lines_of(order)[0]) == {"reserved": D(1)}
    services.adjust_stock("EDGE", "-1", note="one damaged")
    assert level("EDGE") == (D(1), D(1))
    assert list(StockMove.objects.filter(kind="adjustment").values_list("on_hand_delta", "note")) == [
        (D(2), "found two in the back room"),
        (D(-1), "one damaged"),
    ]


def test_divisible_goods_take_decimal_quantities(new_order):
    at(date(2027, 1, 20))
    services.receive_stock("FIBRE", "12.5")
    order = services.create_order(new_order(line("FIBRE", "good", "20.25")))
    assert quantities(lines_of(order)[0]) == {"reserved": D("12.5"), "backordered": D("7.75")}
    assert level("FIBRE") == (D("12.5"), D("12.5"))


# --------------------------------------------------------------------------- services


def test_a_subscription_is_fulfilled_when_it_is_activated(new_order):
    clock = at(date(2027, 1, 20))
    order = services.create_order(
        new_order(
            line(
                "SEAT",
                "subscription",
                "50",
                contract_line_key="1",
                planned_date=date(2027, 2, 1),
                service_end=date(2028, 2, 1),
            )
        )
    )
    (seat,) = lines_of(order)
    task = ProvisioningTask.objects.get(line=seat)
    assert (task.kind, task.status, task.planned_on) == ("activate", "pending", date(2027, 2, 1))

    clock.set(date(2027, 2, 1))
    services.activate(seat.pk)

    seat.refresh_from_db()
    task.refresh_from_db()
    order.refresh_from_db()
    assert (task.status, task.activated_on) == ("active", date(2027, 2, 1))
    assert (seat.status, order.status) == ("fulfilled", "fulfilled")
    (activated,) = events_of(order, events.LINE_ACTIVATED)
    assert activated["activated_on"] == "2027-02-01"
    assert activated["planned_on"] == "2027-02-01"
    assert activated["quantity"] == "50"
    assert activated["contract_line_key"] == "1"
    assert activated["service_end"] == "2028-02-01"


def test_a_one_time_service_starts_then_completes_and_may_complete_without_starting(new_order):
    clock = at(date(2027, 2, 1))
    order = services.create_order(new_order(line("ONB", "service", "1"), line("ONB", "service", "1")))
    first, second = lines_of(order)
    services.activate(first.pk)
    first.refresh_from_db()
    assert first.status == "in_fulfilment"
    clock.set(date(2027, 2, 26))
    services.complete(first.pk)
    services.complete(second.pk, completed_on=date(2027, 2, 20))
    order.refresh_from_db()
    assert order.status == "fulfilled"
    completed = events_of(order, events.LINE_COMPLETED)
    assert [(e["line_id"], e["completed_on"], e["activated_on"]) for e in completed] == [
        (first.pk, "2027-02-26", "2027-02-01"),
        (second.pk, "2027-02-20", None),
    ]


def test_a_pending_service_line_can_be_cancelled(new_order):
    at(date(2027, 2, 1))
    order = services.create_order(new_order(line("ONB", "service", "1"), line("SEAT", "subscription", "5")))
    onb, seat = lines_of(order)
    services.activate(seat.pk)
    services.cancel_line(onb.pk)
    onb.refresh_from_db()
    order.refresh_from_db()
    assert onb.status == "cancelled"
    assert ProvisioningTask.objects.get(line=onb).status == "cancelled"
    assert order.status == "partially_fulfilled"


def test_the_daily_job_carries_out_automatic_tasks_on_their_planned_date_once(new_order):
    clock = at(date(2027, 3, 10))
    order = services.create_order(
        new_order(
            line("SEAT", "subscription", "10", planned_date=date(2027, 3, 15), automatic=True),
            line("SEAT", "subscription", "-5", planned_date=date(2027, 3, 12), automatic=True),
            line("ONB", "service", "1", planned_date=date(2027, 3, 12)),
            type="amendment",
        )
    )
    added, reduced, onb = lines_of(order)
    assert ProvisioningTask.objects.get(line=reduced).kind == "deactivate"

    clock.set(date(2027, 3, 11))
    assert services.run_due(date(2027, 3, 11)) == {"tasks": 0, "failed": []}
    clock.set(date(2027, 3, 15))
    assert services.run_due(date(2027, 3, 15)) == {"tasks": 2, "failed": []}
    assert services.run_due(date(2027, 3, 15)) == {"tasks": 0, "failed": []}

    deactivated = events_of(order, events.LINE_DEACTIVATED)
    assert [(e["line_id"], e["deactivated_on"]) for e in deactivated] == [(reduced.pk, "2027-03-12")]
    activated = events_of(order, events.LINE_ACTIVATED)
    assert [(e["line_id"], e["activated_on"], e["automatic"]) for e in activated] == [
        (added.pk, "2027-03-15", True)
    ]
    assert ProvisioningTask.objects.get(line=onb).status == "pending"  # a person does that one


# --------------------------------------------------------------------------- the ledger and events


def test_the_stock_ledger_adds_up_to_the_stock_levels(new_order):
    clock = at(date(2027, 2, 1))
    services.receive_stock("EDGE", "3")
    services.receive_stock("RACK", "1")
    order = services.create_order(new_order(line("EDGE", "good", "2"), line("RACK", "good", "2")))
    edge, rack = lines_of(order)
    shipment = services.pick(order.pk, {edge.pk: "2", rack.pk: "1"})
    clock.set(date(2027, 2, 2))
    services.ship(shipment.pk, carrier="DHL")
    services.receive_stock("RACK", "4")
    services.adjust_stock("EDGE", "-1", note="count")
    for row in StockLevel.objects.all():
        moves = list(StockMove.objects.filter(level=row).order_by("id"))
        assert sum((m.on_hand_delta for m in moves), D(0)) == row.on_hand
        assert sum((m.reserved_delta for m in moves), D(0)) == row.reserved
        assert (moves[-1].on_hand_after, moves[-1].reserved_after) == (row.on_hand, row.reserved)
    # EDGE: +3, reserve 2, ship 2, −1 → 0 on hand; RACK: +1, reserve 1, ship 1, +4, reserve 1 → 4, 1.
    assert level("EDGE") == (D(0), D(0))
    assert level("RACK") == (D(4), D(1))


def test_every_order_event_names_the_order_and_the_contract(new_order):
    at(date(2027, 2, 1))
    services.receive_stock("EDGE", "1")
    order = services.create_order(
        new_order(
            line("EDGE", "good", "1", contract_line_key="3"),
            contract_id=77,
            contract_number="CON-2027-000001",
        )
    )
    for e in Event.objects.filter(aggregate_type="orders.order"):
        assert e.aggregate_id == str(order.pk)
        assert e.payload["order_number"] == order.number
        assert e.payload["contract_id"] == 77
        assert e.payload["contract_number"] == "CON-2027-000001"
        assert e.entity_id == order.entity_id


def test_an_order_with_a_source_key_is_made_once(new_order):
    at(date(2027, 2, 1))
    first = services.create_order(
        new_order(line("SEAT", "subscription", "1"), source_key="contract:1:activated")
    )
    again = services.create_order(
        new_order(line("SEAT", "subscription", "1"), source_key="contract:1:activated")
    )
    assert again.pk == first.pk
    assert Event.objects.filter(type=events.ORDER_CREATED).count() == 1
