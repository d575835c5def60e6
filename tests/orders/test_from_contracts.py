"""Every contract event makes its order through the handlers wired in ``q2c.wiring``: a new
contract a ``new`` order, an amendment an ``amendment`` order with its delta lines, a
cancellation a ``cancellation`` order switching off what stops, a renewal a ``renewal`` order
whose subscriptions continue by themselves. Contracts are made through the contracts app's
public services; lines and dates are those of ../shared/scenarios/northwind.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c.orders import handlers, services
from q2c.orders.models import Order, OrderLine, ProvisioningTask, StockLevel
from q2c.platform.events import DomainEvent
from q2c.platform.models import Event

from .builders import at, northwind_contract

pytestmark = pytest.mark.django_db
D = Decimal


def rows(order: Order) -> list[tuple]:
    return [
        (ln.contract_line_key, ln.sku, ln.kind, ln.quantity, ln.planned_date, ln.service_end, ln.status)
        for ln in OrderLine.objects.filter(order=order).order_by("position")
    ]


def tasks(order: Order) -> list[tuple]:
    return [
        (t.line.sku, t.kind, t.status, t.planned_on, t.automatic)
        for t in ProvisioningTask.objects.filter(order=order)
        .select_related("line")
        .order_by("line__position")
    ]


def test_an_activated_contract_makes_a_new_order_with_every_line(acme, northwind, products):
    at(date(2027, 1, 15))
    services.receive_stock("EDGE", "10")
    at(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind)

    (order,) = Order.objects.all()
    assert (order.type, order.status, order.contract_id, order.contract_number) == (
        "new",
        "open",
        contract.pk,
        contract.number,
    )
    assert order.ordered_on == date(2027, 1, 20)
    start, end = date(2027, 2, 1), date(2028, 2, 1)
    assert rows(order) == [
        ("1", "SEAT", "subscription", D(50), start, end, "open"),
        ("2", "ONB", "service", D(1), start, end, "open"),
        ("3", "EDGE", "good", D(2), start, end, "open"),
        ("4", "API", "usage", D(0), start, end, "open"),
    ]
    # A new customer's services are set up by a person; both appliances are reserved from the 10.
    assert tasks(order) == [
        ("SEAT", "activate", "pending", start, False),
        ("ONB", "activate", "pending", start, False),
        ("API", "activate", "pending", start, False),
    ]
    assert StockLevel.objects.values_list("on_hand", "reserved").get() == (D(10), D(2))
    created = Event.objects.get(type="orders.order.created")
    assert created.payload["contract_id"] == contract.pk
    assert [ln["contract_line_key"] for ln in created.payload["lines"]] == ["1", "2", "3", "4"]


def test_an_amendment_makes_an_amendment_order_whose_added_seats_start_by_themselves(
    acme, northwind, products
):
    clock = at(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind)
    clock.set(date(2027, 3, 15))
    from q2c.contracts import services as contracts

    contract.refresh_from_db()
    contracts.amend(
        contract.pk,
        actor="test",
        lock_version=contract.lock_version,
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )

    order = Order.objects.get(type="amendment")
    assert order.contract_id == contract.pk
    assert rows(order) == [
        ("A1.1", "SEAT", "subscription", D(10), date(2027, 3, 15), date(2028, 2, 1), "open")
    ]
    assert tasks(order) == [("SEAT", "activate", "pending", date(2027, 3, 15), True)]
    assert services.run_due(date(2027, 3, 15)) == {"tasks": 1, "failed": []}
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_a_cancellation_makes_an_order_that_switches_off_what_stops(acme, northwind, products):
    clock = at(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind, non_cancellable=False, notice_days=0)
    clock.set(date(2027, 6, 1))
    from q2c.contracts import services as contracts

    contract.refresh_from_db()
    contracts.cancel(
        contract.pk,
        actor="test",
        lock_version=contract.lock_version,
        effective_date=date(2027, 7, 1),
        reason="customer moves to another provider",
    )

    order = Order.objects.get(type="cancellation")
    # What stops: the 50 seats over [2027-07-01, 2028-02-01); they switch off by themselves.
    assert rows(order) == [
        ("A1.1", "SEAT", "subscription", D(-50), date(2027, 7, 1), date(2028, 2, 1), "open")
    ]
    assert tasks(order) == [("SEAT", "deactivate", "pending", date(2027, 7, 1), True)]
    clock.set(date(2027, 7, 1))
    assert services.run_due(date(2027, 7, 1)) == {"tasks": 1, "failed": []}
    (off,) = Event.objects.filter(type="orders.line.deactivated")
    assert (off.payload["deactivated_on"], off.payload["quantity"], off.payload["contract_line_key"]) == (
        "2027-07-01",
        "-50",
        "A1.1",
    )
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_an_automatic_renewal_makes_a_renewal_order_whose_subscriptions_continue_by_themselves(
    acme, northwind, products
):
    clock = at(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind, auto_renew=True)
    clock.set(date(2028, 2, 1))
    from q2c.contracts import services as contracts

    successor = contracts.end_term(contract.pk, day=date(2028, 2, 1))

    assert successor is not None
    order = Order.objects.get(type="renewal")
    assert order.contract_id == successor.pk
    seat = next(t for t in tasks(order) if t[0] == "SEAT")
    assert seat == ("SEAT", "activate", "pending", date(2028, 2, 1), True)
    # The renewed event finds the order the activation made: one renewal order, not two.
    assert Order.objects.filter(contract_id=successor.pk).count() == 1


def test_a_replayed_contract_event_finds_the_order_it_made(acme, northwind, products):
    at(date(2027, 1, 20))
    contract = northwind_contract(acme, northwind)
    stored = Event.objects.get(type="contracts.contract.activated", aggregate_id=str(contract.pk))
    replay = DomainEvent(
        type=stored.type,
        aggregate_type=stored.aggregate_type,
        aggregate_id=stored.aggregate_id,
        payload=stored.payload,
        entity_id=stored.entity_id,
    )
    again = handlers.on_contract_activated(replay)
    assert Order.objects.count() == 1
    assert again.contract_id == contract.pk


def test_a_contract_line_whose_product_left_the_catalog_still_becomes_an_order_line(
    acme, northwind, products
):
    """The handler runs inside the contract's transaction: it must not fail it."""
    at(date(2027, 1, 20))
    event = DomainEvent(
        type=handlers.ACTIVATED,
        aggregate_type="contracts.contract",
        aggregate_id=99,
        payload={
            "contract_id": 99,
            "number": "CON-2027-000099",
            "entity_id": acme.pk,
            "account_id": northwind.pk,
            "version": 1,
            "lines": [
                {
                    "key": "1",
                    "sku": "GONE",
                    "charge_kind": "recurring",
                    "quantity": "3",
                    "service_start": "2027-02-01",
                    "service_end": "2028-02-01",
                },
            ],
        },
    )
    order = handlers.on_contract_activated(event)
    assert rows(order) == [("1", "GONE", "subscription", D(3), date(2027, 2, 1), date(2028, 2, 1), "open")]


def test_a_contract_selling_part_of_an_indivisible_unit_is_still_ordered_as_written(
    acme, northwind, products
):
    """SEAT's unit is indivisible, yet the contract sold 2.5: the order follows the contract."""
    at(date(2027, 1, 20))
    event = DomainEvent(
        type=handlers.ACTIVATED,
        aggregate_type="contracts.contract",
        aggregate_id=98,
        payload={
            "contract_id": 98,
            "number": "CON-2027-000098",
            "entity_id": acme.pk,
            "account_id": northwind.pk,
            "version": 1,
            "lines": [
                {
                    "key": "1",
                    "sku": "SEAT",
                    "product_id": products["SEAT"].pk,
                    "charge_kind": "recurring",
                    "quantity": "2.5",
                }
            ],
        },
    )
    order = handlers.on_contract_activated(event)
    (seat,) = OrderLine.objects.filter(order=order)
    assert (seat.quantity, seat.divisible) == (D("2.5"), True)
