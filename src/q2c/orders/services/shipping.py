"""Use cases of goods: pick reserved units into a shipment, ship it (carrier, tracking number),
record its delivery (date), or cancel a shipment that has not left.

Picking moves units from a line's ``reserved`` to its ``picked`` (they stay reserved in stock);
shipping takes them out of stock (on hand and reserved) with a stock-ledger row per line;
delivery records the date billing and revenue go by.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.orders import domain, events, locks
from q2c.orders.domain import LineKind, ShipmentStatus
from q2c.orders.errors import ExceedsOrdered, InsufficientStock, LineNotFound, ShipmentNotFound, WrongKind
from q2c.orders.models import Order, OrderLine, Shipment, ShipmentLine, StockMove
from q2c.orders.services import common
from q2c.platform.events import DomainEvent


def _wanted(
    order: Order, quantities: Mapping[int, Any] | Sequence[tuple[int, Any]]
) -> list[tuple[OrderLine, Decimal]]:
    """The order's goods lines and the quantities asked for them, each checked."""
    pairs = list(quantities.items()) if isinstance(quantities, Mapping) else list(quantities)
    if not pairs:
        raise ValidationError("say which lines to pick, and how many", code="orders.no_lines", field="lines")
    seen: set[int] = set()
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order, pk__in=[int(lid) for lid, _ in pairs])}
    out: list[tuple[OrderLine, Decimal]] = []
    for i, (line_id, raw) in enumerate(pairs):
        field = f"lines[{i}].quantity"
        line = lines.get(int(line_id))
        if line is None:
            raise LineNotFound(f"order {order.number} has no line {line_id}", field=f"lines[{i}].line_id")
        if line.pk in seen:
            raise ValidationError(
                f"line {line.position} is named twice",
                code="orders.duplicate_line",
                field=f"lines[{i}].line_id",
            )
        seen.add(line.pk)
        if line.kind != LineKind.GOOD:
            raise WrongKind(
                f"line {line.position} ({line.sku}) is a {line.kind}: only goods are shipped",
                field=f"lines[{i}].line_id",
            )
        q = domain.quantity(raw, field=field, divisible=line.divisible)
        to_ship = line.backordered + line.reserved
        if q > to_ship:
            raise ExceedsOrdered(
                f"line {line.position} ({line.sku}) has {to_ship} left to ship of {line.quantity} ordered; {q} is more",
                field=field,
            )
        if q > line.reserved:
            raise InsufficientStock(
                f"only {line.reserved} of {line.sku} are in stock for line {line.position} "
                f"({line.backordered} back-ordered); {q} cannot be picked",
                field=field,
            )
        out.append((line, q))
    return out


def pick(
    order_id: int,
    quantities: Mapping[int, Any] | Sequence[tuple[int, Any]],
    *,
    actor: Any = None,
) -> Shipment:
    """Pick reserved units of goods lines into a new shipment (status ``picked``).

    ``quantities`` maps line id → quantity. Errors: ``OrderNotFound``/``LineNotFound`` (404);
    ``ExceedsOrdered`` (422) for more than the line has left to ship; ``InsufficientStock`` (409)
    for more than is reserved for it; ``WrongKind`` (422) for a line that is not a good;
    ``InvalidTransition`` (409) on a closed or cancelled order.
    """
    with transaction.atomic():
        order = locks.order(order_id)
        if order.status in (domain.OrderStatus.CLOSED, domain.OrderStatus.CANCELLED):
            domain.move_order(order.status, domain.OrderStatus.IN_FULFILMENT)  # raises
        wanted = _wanted(order, quantities)
        today = common.today(order)
        count = Shipment.objects.filter(order=order).count()
        shipment = Shipment.objects.create(
            order=order,
            number=f"{order.number}-S{count + 1}",
            location=order.location,
            status=ShipmentStatus.PICKED,
            picked_on=today,
            created_at=clock.now(),
            created_by=common.actor_name(actor),
        )
        ShipmentLine.objects.bulk_create(
            [ShipmentLine(shipment=shipment, line=line, quantity=q) for line, q in wanted]
        )
        for line, q in wanted:
            line.reserved -= q
            line.picked += q
        OrderLine.objects.bulk_update([ln for ln, _ in wanted], ["reserved", "picked"])
        common.record(
            [
                common.order_event(
                    events.SHIPMENT_PICKED,
                    order,
                    actor,
                    shipment_id=shipment.pk,
                    shipment_number=shipment.number,
                    picked_on=today,
                    lines=[{**common.line_head(ln), "quantity": q} for ln, q in wanted],
                )
            ]
        )
        return shipment


def _shipment_head(shipment_id: int) -> dict[str, Any]:
    head = Shipment.objects.filter(pk=shipment_id).values("order_id", "location_id").first()
    if head is None:
        raise ShipmentNotFound(f"no shipment {shipment_id}", field="shipment_id")
    return dict(head)


def ship(
    shipment_id: int,
    *,
    carrier: str,
    tracking_number: str = "",
    shipped_on: date | None = None,
    actor: Any = None,
) -> Shipment:
    """Hand a picked shipment to the carrier: its units leave stock (a ``shipment`` move per line)
    and each line records LineShipped.

    Errors: ``ShipmentNotFound`` (404); ``ValidationError`` (422) without a carrier;
    ``InvalidDate`` (422) for a date in the future or before picking; ``InvalidTransition`` (409)
    unless the shipment is picked (shipping twice, shipping a cancelled shipment).
    """
    carrier = common.text(carrier, field="carrier", max_length=100, required=True)
    tracking_number = common.text(tracking_number, field="tracking_number", max_length=100)
    with transaction.atomic():
        head = _shipment_head(shipment_id)
        from q2c.orders.models import Location

        items = list(ShipmentLine.objects.filter(shipment_id=shipment_id).select_related("line"))
        location = Location.objects.get(pk=head["location_id"])
        levels = locks.levels(
            location, [(int(i.line.product_id), i.line.sku) for i in items if i.line.product_id]
        )
        order = locks.order(head["order_id"])
        shipment = Shipment.objects.get(pk=shipment_id)
        target = domain.move_shipment(shipment.status, ShipmentStatus.SHIPPED)
        day = common.business_date(
            shipped_on,
            order=order,
            field="shipped_on",
            not_before=shipment.picked_on,
            not_before_what="the day it was picked",
        )
        shipment.status = target
        shipment.carrier = carrier
        shipment.tracking_number = tracking_number
        shipment.shipped_on = day
        shipment.save(update_fields=["status", "carrier", "tracking_number", "shipped_on"])
        items = list(
            ShipmentLine.objects.filter(shipment=shipment).select_related("line").order_by("line__position")
        )
        moves: list[StockMove] = []
        out: list[DomainEvent] = []
        lines = []
        for item in items:
            line = item.line
            level = levels[int(line.product_id or 0)]
            moves.append(
                common.ship_out(
                    level,
                    item.quantity,
                    line=line,
                    shipment_id=shipment.pk,
                    on=day,
                    actor=actor,
                    reference=shipment.number,
                )
            )
            line.picked -= item.quantity
            line.shipped += item.quantity
            common.set_line_status(line, common.line_target(line, None))
            lines.append(line)
            out.append(
                common.line_event(
                    events.LINE_SHIPPED,
                    order,
                    line,
                    actor,
                    quantity=item.quantity,
                    shipped_total=line.shipped,
                    shipment_id=shipment.pk,
                    shipment_number=shipment.number,
                    carrier=carrier,
                    tracking_number=tracking_number,
                    shipped_on=day,
                    location_id=shipment.location_id,
                )
            )
        OrderLine.objects.bulk_update(lines, ["picked", "shipped", "status"])
        StockMove.objects.bulk_create(moves)
        out += common.refresh_order(order, actor=actor)
        common.record(out)
        return shipment


def deliver(shipment_id: int, *, delivered_on: date | None = None, actor: Any = None) -> Shipment:
    """Record that a shipped shipment arrived on ``delivered_on`` (default today): each line
    records LineDelivered with that date.

    Errors: ``ShipmentNotFound`` (404); ``InvalidTransition`` (409) unless the shipment was
    shipped (delivering before shipping, delivering twice); ``InvalidDate`` (422) for a date in
    the future or before it was shipped.
    """
    with transaction.atomic():
        head = _shipment_head(shipment_id)
        order = locks.order(head["order_id"])
        shipment = Shipment.objects.get(pk=shipment_id)
        target = domain.move_shipment(shipment.status, ShipmentStatus.DELIVERED)
        day = common.business_date(
            delivered_on,
            order=order,
            field="delivered_on",
            not_before=shipment.shipped_on,
            not_before_what="the day it was shipped",
        )
        shipment.status = target
        shipment.delivered_on = day
        shipment.save(update_fields=["status", "delivered_on"])
        items = list(
            ShipmentLine.objects.filter(shipment=shipment).select_related("line").order_by("line__position")
        )
        out: list[DomainEvent] = []
        lines = []
        for item in items:
            line = item.line
            line.delivered += item.quantity
            common.set_line_status(line, common.line_target(line, None))
            lines.append(line)
            out.append(
                common.line_event(
                    events.LINE_DELIVERED,
                    order,
                    line,
                    actor,
                    quantity=item.quantity,
                    delivered_total=line.delivered,
                    fully_delivered=line.delivered == line.quantity - line.cancelled,
                    shipment_id=shipment.pk,
                    shipment_number=shipment.number,
                    shipped_on=shipment.shipped_on,
                    delivered_on=day,
                )
            )
        OrderLine.objects.bulk_update(lines, ["delivered", "status"])
        out += common.refresh_order(order, actor=actor)
        common.record(out)
        return shipment


def cancel_shipment(shipment_id: int, *, actor: Any = None) -> Shipment:
    """Put the units of a picked shipment back (they stay reserved for their lines).

    Errors: ``ShipmentNotFound`` (404); ``InvalidTransition`` (409) once it has shipped.
    """
    with transaction.atomic():
        head = _shipment_head(shipment_id)
        order = locks.order(head["order_id"])
        shipment = Shipment.objects.get(pk=shipment_id)
        shipment.status = domain.move_shipment(shipment.status, ShipmentStatus.CANCELLED)
        shipment.cancelled_on = common.today(order)
        shipment.save(update_fields=["status", "cancelled_on"])
        items = list(ShipmentLine.objects.filter(shipment=shipment).select_related("line"))
        for item in items:
            item.line.picked -= item.quantity
            item.line.reserved += item.quantity
        OrderLine.objects.bulk_update([i.line for i in items], ["picked", "reserved"])
        common.record(
            [
                common.order_event(
                    events.SHIPMENT_CANCELLED,
                    order,
                    actor,
                    shipment_id=shipment.pk,
                    shipment_number=shipment.number,
                    lines=[{**common.line_head(i.line), "quantity": i.quantity} for i in items],
                )
            ]
        )
        return shipment
