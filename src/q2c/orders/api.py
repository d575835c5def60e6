"""The orders API (mounted at ``/api/v1/orders/``): orders, their lines, shipments, provisioning,
the fulfilment board, stock levels, the stock ledger, receipts, adjustments and locations. Thin:
checks the role, calls ``services``/``queries``, shapes the answer. Who may call what is written in
docs/permissions.md (section orders).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from q2c.orders import domain, queries, services
from q2c.orders.domain import NewOrder, NewOrderLine
from q2c.orders.models import Location, Order, OrderLine, Shipment, StockMove
from q2c.orders.schemas import (
    FulfilmentBoardOut,
    LineActivateIn,
    LineCompleteIn,
    NewOrderIn,
    OrderEventOut,
    OrderFilter,
    OrderLineOut,
    OrderOut,
    OrderReasonIn,
    OrderSummary,
    ShipmentDeliverIn,
    ShipmentOut,
    ShipmentPickIn,
    ShipmentShipIn,
    StockAdjustmentIn,
    StockLevelFilter,
    StockLevelOut,
    StockLocationIn,
    StockLocationOut,
    StockMoveFilter,
    StockMoveOut,
    StockReceiptIn,
)
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import CursorPage, CursorParams, Page, PageParams, paginate, paginate_cursor
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["orders"])

#: Everyone with a role may see orders, the board and stock.
READERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
#: Who fulfils: picks, ships, confirms delivery, provisions, receives and counts stock. q2c has no
#: warehouse role; finance runs the back office (delivery dates drive invoices and revenue).
FULFILMENT = (Role.FINANCE,)
#: Who may call off what a customer ordered: a commercial decision as much as an operational one.
CANCELLERS = (Role.SALES_MANAGER, Role.FINANCE)


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or request.user
    return str(user.get_username())


def _q(value: Any) -> str:
    return str(value)


# --------------------------------------------------------------------------- shaping


def task_out(task: Any) -> dict[str, Any] | None:
    if task is None:
        return None
    return {
        "id": task.pk,
        "kind": task.kind,
        "status": task.status,
        "planned_on": task.planned_on,
        "activated_on": task.activated_on,
        "completed_on": task.completed_on,
        "cancelled_on": task.cancelled_on,
        "automatic": task.automatic,
    }


def line_out(line: OrderLine) -> dict[str, Any]:
    task = getattr(line, "task", None) if line.kind != domain.LineKind.GOOD else None
    return {
        "id": line.pk,
        "order_id": line.order_id,
        "position": line.position,
        "kind": line.kind,
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "unit": line.unit,
        "quantity": _q(line.quantity),
        "status": line.status,
        "contract_line_key": line.contract_line_key,
        "contract_line_id": line.contract_line_id,
        "planned_date": line.planned_date,
        "service_end": line.service_end,
        "location": line.location.code if line.location_id and line.location else None,
        "backordered": _q(line.backordered),
        "reserved": _q(line.reserved),
        "picked": _q(line.picked),
        "shipped": _q(line.shipped),
        "delivered": _q(line.delivered),
        "cancelled": _q(line.cancelled),
        "backordered_since": line.backordered_since,
        "task": task_out(task),
    }


def shipment_out(shipment: Shipment) -> dict[str, Any]:
    return {
        "id": shipment.pk,
        "order_id": shipment.order_id,
        "number": shipment.number,
        "location": shipment.location.code,
        "status": shipment.status,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "picked_on": shipment.picked_on,
        "shipped_on": shipment.shipped_on,
        "delivered_on": shipment.delivered_on,
        "cancelled_on": shipment.cancelled_on,
        "lines": [
            {
                "line_id": item.line_id,
                "position": item.line.position,
                "sku": item.line.sku,
                "quantity": _q(item.quantity),
            }
            for item in shipment.lines.all()
        ],
    }


def summary_out(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "type": order.type,
        "status": order.status,
        "entity_id": order.entity_id,
        "account_id": order.account_id,
        "account_name": order.account.name,
        "contract_id": order.contract_id,
        "contract_number": order.contract_number,
        "contract_version": order.contract_version,
        "location": order.location.code,
        "ordered_on": order.ordered_on,
        "closed_on": order.closed_on,
        "cancelled_on": order.cancelled_on,
    }


def order_out(order: Order) -> dict[str, Any]:
    fresh = queries.order(order.pk)
    return {
        **summary_out(fresh),
        "note": fresh.note,
        "cancel_reason": fresh.cancel_reason,
        "created_at": fresh.created_at,
        "created_by": fresh.created_by,
        "lines": [line_out(ln) for ln in queries.lines_of(fresh.pk)],
        "shipments": [shipment_out(s) for s in queries.shipments_of(fresh.pk)],
    }


def move_out(move: StockMove) -> dict[str, Any]:
    return {
        "id": move.pk,
        "kind": move.kind,
        "location": move.level.location.code,
        "sku": move.level.sku,
        "product_id": move.level.product_id,
        "on_hand_delta": _q(move.on_hand_delta),
        "reserved_delta": _q(move.reserved_delta),
        "on_hand_after": _q(move.on_hand_after),
        "reserved_after": _q(move.reserved_after),
        "order_id": move.order_id,
        "line_id": move.line_id,
        "shipment_id": move.shipment_id,
        "reference": move.reference,
        "note": move.note,
        "occurred_on": move.occurred_on,
        "actor": move.actor,
    }


# --------------------------------------------------------------------------- orders


@router.get("/orders", response=Page[OrderSummary], operation_id="orders_list_orders", summary="Orders")
def list_orders(
    request: HttpRequest, filters: Query[OrderFilter], paging: Query[PageParams]
) -> dict[str, Any]:
    require(request, *READERS)
    page = paginate(queries.orders(filters.dict()), paging)
    page["items"] = [summary_out(o) for o in page["items"]]
    return page


@router.post(
    "/orders", response={201: OrderOut}, operation_id="orders_create_order", summary="Create an order by hand"
)
def create_order(request: HttpRequest, payload: NewOrderIn, response: HttpResponse) -> Status[dict[str, Any]]:
    # Orders come from contracts; a hand-made order (a replacement, a trial) is an admin's call.
    require(request, Role.ADMIN)
    new = NewOrder(
        entity_id=payload.entity_id,
        account_id=payload.account_id,
        type=payload.type,  # type: ignore[arg-type]  # checked by the service
        contract_id=payload.contract_id,
        contract_number=payload.contract_number,
        location_code=payload.location,
        note=payload.note,
        lines=[
            NewOrderLine(
                sku=ln.sku,
                kind=ln.kind,  # type: ignore[arg-type]  # checked by the service
                quantity=ln.quantity,  # type: ignore[arg-type]  # checked by the service
                contract_line_key=ln.contract_line_key,
                planned_date=ln.planned_date,
                service_end=ln.service_end,
                automatic=ln.automatic,
            )
            for ln in payload.lines
        ],
    )
    order = services.create_order(new, actor=_actor(request))
    response["Location"] = f"{request.path}/{order.pk}"
    return Status(201, order_out(order))


@router.get("/orders/{order_id}", response=OrderOut, operation_id="orders_get_order", summary="An order")
def get_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return order_out(queries.order(order_id))


@router.get(
    "/orders/{order_id}/timeline",
    response=list[OrderEventOut],
    operation_id="orders_get_timeline",
    summary="An order's events",
)
def get_timeline(request: HttpRequest, order_id: int) -> list[Any]:
    require(request, *READERS)
    queries.order(order_id)
    return queries.timeline(order_id)


@router.post(
    "/orders/{order_id}/cancel",
    response=OrderOut,
    operation_id="orders_cancel_order",
    summary="Cancel an open order",
)
def cancel_order(request: HttpRequest, order_id: int, payload: OrderReasonIn) -> dict[str, Any]:
    require(request, *CANCELLERS)
    return order_out(services.cancel_order(order_id, actor=_actor(request), reason=payload.reason))


@router.post(
    "/orders/{order_id}/close",
    response=OrderOut,
    operation_id="orders_close_order",
    summary="Close a fulfilled order",
)
def close_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    require(request, *FULFILMENT)
    return order_out(services.close_order(order_id, actor=_actor(request)))


@router.post(
    "/orders/{order_id}/shipments",
    response={201: ShipmentOut},
    operation_id="orders_pick_shipment",
    summary="Pick goods into a shipment",
)
def pick(
    request: HttpRequest, order_id: int, payload: ShipmentPickIn, response: HttpResponse
) -> Status[dict[str, Any]]:
    require(request, *FULFILMENT)
    shipment = services.pick(
        order_id, [(ln.line_id, ln.quantity) for ln in payload.lines], actor=_actor(request)
    )
    response["Location"] = f"/api/v1/orders/shipments/{shipment.pk}"
    return Status(201, shipment_out(queries.shipment(shipment.pk)))


# --------------------------------------------------------------------------- shipments


@router.get(
    "/shipments/{shipment_id}", response=ShipmentOut, operation_id="orders_get_shipment", summary="A shipment"
)
def get_shipment(request: HttpRequest, shipment_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return shipment_out(queries.shipment(shipment_id))


@router.post(
    "/shipments/{shipment_id}/ship",
    response=ShipmentOut,
    operation_id="orders_ship_shipment",
    summary="Ship a picked shipment",
)
def ship(request: HttpRequest, shipment_id: int, payload: ShipmentShipIn) -> dict[str, Any]:
    require(request, *FULFILMENT)
    services.ship(
        shipment_id,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        shipped_on=payload.shipped_on,
        actor=_actor(request),
    )
    return shipment_out(queries.shipment(shipment_id))


@router.post(
    "/shipments/{shipment_id}/deliver",
    response=ShipmentOut,
    operation_id="orders_deliver_shipment",
    summary="Record a delivery",
)
def deliver(request: HttpRequest, shipment_id: int, payload: ShipmentDeliverIn) -> dict[str, Any]:
    require(request, *FULFILMENT)
    services.deliver(shipment_id, delivered_on=payload.delivered_on, actor=_actor(request))
    return shipment_out(queries.shipment(shipment_id))


@router.post(
    "/shipments/{shipment_id}/cancel",
    response=ShipmentOut,
    operation_id="orders_cancel_shipment",
    summary="Put a picked shipment back",
)
def cancel_shipment(request: HttpRequest, shipment_id: int) -> dict[str, Any]:
    require(request, *FULFILMENT)
    services.cancel_shipment(shipment_id, actor=_actor(request))
    return shipment_out(queries.shipment(shipment_id))


# --------------------------------------------------------------------------- lines


@router.get(
    "/lines/{line_id}", response=OrderLineOut, operation_id="orders_get_line", summary="An order line"
)
def get_line(request: HttpRequest, line_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return line_out(queries.line(line_id))


@router.post(
    "/lines/{line_id}/activate",
    response=OrderLineOut,
    operation_id="orders_activate_line",
    summary="Activate a service line",
)
def activate(request: HttpRequest, line_id: int, payload: LineActivateIn) -> dict[str, Any]:
    require(request, *FULFILMENT)
    services.activate(line_id, activated_on=payload.activated_on, actor=_actor(request), note=payload.note)
    return line_out(queries.line(line_id))


@router.post(
    "/lines/{line_id}/complete",
    response=OrderLineOut,
    operation_id="orders_complete_line",
    summary="Complete a one-time service",
)
def complete(request: HttpRequest, line_id: int, payload: LineCompleteIn) -> dict[str, Any]:
    require(request, *FULFILMENT)
    services.complete(line_id, completed_on=payload.completed_on, actor=_actor(request), note=payload.note)
    return line_out(queries.line(line_id))


@router.post(
    "/lines/{line_id}/cancel",
    response=OrderLineOut,
    operation_id="orders_cancel_line",
    summary="Cancel what is left of a line",
)
def cancel_line(request: HttpRequest, line_id: int, payload: OrderReasonIn) -> dict[str, Any]:
    require(request, *CANCELLERS)
    services.cancel_line(line_id, actor=_actor(request), reason=payload.reason)
    return line_out(queries.line(line_id))


# --------------------------------------------------------------------------- board and stock


@router.get(
    "/board", response=FulfilmentBoardOut, operation_id="orders_get_board", summary="The fulfilment board"
)
def get_board(request: HttpRequest) -> dict[str, Any]:
    require(request, *READERS)
    b = queries.board()
    return {
        "to_pick": [line_out(ln) for ln in b.to_pick],
        "to_ship": [shipment_out(s) for s in b.to_ship],
        "in_transit": [shipment_out(s) for s in b.in_transit],
        "to_provision": [line_out(t.line) for t in b.to_provision],
        "backordered": [line_out(ln) for ln in b.backordered],
    }


@router.get(
    "/stock",
    response=list[StockLevelOut],
    operation_id="orders_list_stock",
    summary="Stock per product and location",
)
def list_stock(request: HttpRequest, filters: Query[StockLevelFilter]) -> list[dict[str, Any]]:
    require(request, *READERS)
    return [
        {
            "level_id": r.level_id,
            "location": r.location,
            "product_id": r.product_id,
            "sku": r.sku,
            "on_hand": _q(r.on_hand),
            "reserved": _q(r.reserved),
            "available": _q(r.available),
            "backordered": _q(r.backordered),
        }
        for r in queries.stock(filters.dict())
    ]


@router.get(
    "/stock/moves",
    response=CursorPage[StockMoveOut],
    operation_id="orders_list_stock_moves",
    summary="The stock ledger",
)
def list_moves(
    request: HttpRequest, filters: Query[StockMoveFilter], paging: Query[CursorParams]
) -> dict[str, Any]:
    require(request, *READERS)
    page = paginate_cursor(queries.moves(filters.dict()), paging, order_by=("-id",))
    page["items"] = [move_out(m) for m in page["items"]]
    return page


@router.post(
    "/stock/receipts",
    response={201: StockMoveOut},
    operation_id="orders_receive_stock",
    summary="Receive stock",
)
def receive(request: HttpRequest, payload: StockReceiptIn) -> Status[dict[str, Any]]:
    require(request, *FULFILMENT)
    move = services.receive_stock(
        payload.sku,
        payload.quantity,
        location=payload.location,
        received_on=payload.received_on,
        reference=payload.reference,
        note=payload.note,
        actor=_actor(request),
    )
    return Status(201, move_out(StockMove.objects.select_related("level__location").get(pk=move.pk)))


@router.post(
    "/stock/adjustments",
    response={201: StockMoveOut},
    operation_id="orders_adjust_stock",
    summary="Correct stock after a count",
)
def adjust(request: HttpRequest, payload: StockAdjustmentIn) -> Status[dict[str, Any]]:
    require(request, *FULFILMENT)
    move = services.adjust_stock(
        payload.sku,
        payload.delta,
        location=payload.location,
        reference=payload.reference,
        note=payload.note,
        actor=_actor(request),
    )
    return Status(201, move_out(StockMove.objects.select_related("level__location").get(pk=move.pk)))


@router.get(
    "/locations",
    response=list[StockLocationOut],
    operation_id="orders_list_locations",
    summary="Stock locations",
)
def list_locations(request: HttpRequest) -> list[Location]:
    require(request, *READERS)
    return list(queries.locations())


@router.post(
    "/locations",
    response={201: StockLocationOut},
    operation_id="orders_create_location",
    summary="Add a stock location",
)
def create_location(request: HttpRequest, payload: StockLocationIn) -> Status[Location]:
    require(request, Role.ADMIN)
    return Status(
        201,
        services.create_location(
            payload.code, payload.name, is_default=payload.is_default, actor=_actor(request)
        ),
    )
