"""The read side of orders: lists, an order with its lines, shipments, tasks and timeline, the
fulfilment board, stock levels and the stock ledger. Plain querysets and dicts; nothing writes.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from q2c.orders.domain import (
    ZERO,
    LineKind,
    LineStatus,
    OrderStatus,
    OrderType,
    ShipmentStatus,
    TaskStatus,
)
from q2c.orders.errors import LineNotFound, OrderNotFound, ShipmentNotFound
from q2c.orders.models import (
    Location,
    Order,
    OrderLine,
    ProvisioningTask,
    Shipment,
    StockLevel,
    StockMove,
)
from q2c.orders.services.common import ORDER_AGGREGATE
from q2c.platform.models import Event

ORDER_SORTS = {
    "number": ("number", "id"),
    "-number": ("-number", "-id"),
    "date": ("ordered_on", "id"),
    "-date": ("-ordered_on", "-id"),
    "customer": ("account__name", "id"),
    "-customer": ("-account__name", "-id"),
    "status": ("status", "id"),
    "-status": ("-status", "-id"),
}


def orders(filters: Mapping[str, Any] | None = None) -> QuerySet[Order]:
    """Orders filtered by ``status``, ``type``, ``account_id``, ``contract_id`` and ``q`` (number,
    contract number or customer name), sorted by ``sort`` (default newest first)."""
    f = dict(filters or {})
    rows = Order.objects.select_related("account", "entity", "location")
    if f.get("status") in OrderStatus.__members__.values():
        rows = rows.filter(status=f["status"])
    if f.get("type") in OrderType.__members__.values():
        rows = rows.filter(type=f["type"])
    if f.get("account_id"):
        rows = rows.filter(account_id=f["account_id"])
    if f.get("contract_id"):
        rows = rows.filter(contract_id=f["contract_id"])
    q = (f.get("q") or "").strip()
    if q:
        rows = rows.filter(
            Q(number__icontains=q) | Q(contract_number__icontains=q) | Q(account__name__icontains=q)
        )
    return rows.order_by(*ORDER_SORTS.get(f.get("sort") or "", ("-id",)))


def order(order_id: int) -> Order:
    row = Order.objects.select_related("account", "entity", "location").filter(pk=order_id).first()
    if row is None:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    return row


def lines_of(order_id: int) -> list[OrderLine]:
    return list(
        OrderLine.objects.filter(order_id=order_id).select_related("task", "location").order_by("position")
    )


def shipments_of(order_id: int) -> list[Shipment]:
    return list(Shipment.objects.filter(order_id=order_id).prefetch_related("lines__line").order_by("id"))


def shipment(shipment_id: int) -> Shipment:
    row = (
        Shipment.objects.select_related("order", "location")
        .prefetch_related("lines__line")
        .filter(pk=shipment_id)
        .first()
    )
    if row is None:
        raise ShipmentNotFound(f"no shipment {shipment_id}", field="shipment_id")
    return row


def line(line_id: int) -> OrderLine:
    row = OrderLine.objects.select_related("order", "task", "location").filter(pk=line_id).first()
    if row is None:
        raise LineNotFound(f"no order line {line_id}", field="line_id")
    return row


def timeline(order_id: int) -> list[Event]:
    """The order's events in the order they happened."""
    return list(
        Event.objects.filter(aggregate_type=ORDER_AGGREGATE, aggregate_id=str(order_id)).order_by("seq")
    )


# --------------------------------------------------------------------------- the board


@dataclass(frozen=True)
class Board:
    """What needs doing: goods to pick (reserved), shipments to ship or to confirm delivered,
    services to provision, and lines waiting for stock."""

    to_pick: list[OrderLine]
    to_ship: list[Shipment]
    in_transit: list[Shipment]
    to_provision: list[ProvisioningTask]
    backordered: list[OrderLine]


def board(limit: int = 200) -> Board:
    live = [LineStatus.OPEN, LineStatus.IN_FULFILMENT]
    goods = OrderLine.objects.filter(kind=LineKind.GOOD, status__in=live).select_related(
        "order", "order__account"
    )
    return Board(
        to_pick=list(goods.filter(reserved__gt=0).order_by("order_id", "position")[:limit]),
        to_ship=list(
            Shipment.objects.filter(status=ShipmentStatus.PICKED)
            .select_related("order", "order__account")
            .prefetch_related("lines__line")
            .order_by("id")[:limit]
        ),
        in_transit=list(
            Shipment.objects.filter(status=ShipmentStatus.SHIPPED)
            .select_related("order", "order__account")
            .prefetch_related("lines__line")
            .order_by("shipped_on", "id")[:limit]
        ),
        to_provision=list(
            ProvisioningTask.objects.filter(status__in=[TaskStatus.PENDING, TaskStatus.ACTIVE])
            .exclude(status=TaskStatus.ACTIVE, line__kind__in=[LineKind.SUBSCRIPTION, LineKind.USAGE])
            .select_related("line", "order", "order__account")
            .order_by("planned_on", "id")[:limit]
        ),
        backordered=list(goods.filter(backordered__gt=0).order_by("id")[:limit]),
    )


# --------------------------------------------------------------------------- stock


@dataclass(frozen=True)
class StockRow:
    level_id: int
    location: str
    location_id: int
    product_id: int
    sku: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    backordered: Decimal


def stock(filters: Mapping[str, Any] | None = None) -> list[StockRow]:
    """Stock per product and location, with what orders are waiting for (back-ordered)."""
    f = dict(filters or {})
    levels = StockLevel.objects.select_related("location").order_by("sku", "location__code")
    if f.get("sku"):
        levels = levels.filter(sku__icontains=f["sku"].strip())
    if f.get("location"):
        levels = levels.filter(location__code=f["location"])
    waiting = {
        (row["location_id"], row["product_id"]): row["total"]
        for row in OrderLine.objects.filter(
            kind=LineKind.GOOD, backordered__gt=0, status__in=[LineStatus.OPEN, LineStatus.IN_FULFILMENT]
        )
        .values("location_id", "product_id")
        .annotate(total=Sum("backordered"))
    }
    return [
        StockRow(
            level_id=lv.pk,
            location=lv.location.code,
            location_id=lv.location_id,
            product_id=lv.product_id,
            sku=lv.sku,
            on_hand=lv.on_hand,
            reserved=lv.reserved,
            available=lv.on_hand - lv.reserved,
            backordered=waiting.get((lv.location_id, lv.product_id), ZERO) or ZERO,
        )
        for lv in levels
    ]


def moves(filters: Mapping[str, Any] | None = None) -> QuerySet[StockMove]:
    """The stock ledger, newest first, filtered by ``sku``, ``location``, ``kind``, ``order_id``."""
    f = dict(filters or {})
    rows = StockMove.objects.select_related("level", "level__location")
    if f.get("sku"):
        rows = rows.filter(level__sku=f["sku"].strip())
    if f.get("location"):
        rows = rows.filter(level__location__code=f["location"])
    if f.get("kind"):
        rows = rows.filter(kind=f["kind"])
    if f.get("order_id"):
        rows = rows.filter(order_id=f["order_id"])
    return rows.order_by("-id")


def locations() -> QuerySet[Location]:
    return Location.objects.order_by("code")
