"""Shared pieces of the orders use cases: event payloads, the stock primitives (every change of a
stock level is one conditional UPDATE plus one stock-ledger row), back-order release and the
status bookkeeping of lines and orders.

Nothing here opens a transaction of its own: callers (the use cases in this package) hold one.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F, Value
from django.db.models.fields import BigIntegerField

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.orders import domain, events, locks
from q2c.orders.domain import (
    ZERO,
    GoodsProgress,
    LineKind,
    LineStatus,
    MoveKind,
    OrderStatus,
    TaskKind,
    TaskStatus,
)
from q2c.orders.errors import InsufficientStock, InvalidDate, NegativeStock, StockReserved
from q2c.orders.models import Location, Order, OrderLine, ProvisioningTask, StockLevel, StockMove
from q2c.platform.events import DomainEvent, record_many

ORDER_AGGREGATE = "orders.order"
STOCK_AGGREGATE = "orders.stock"


def actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "get_username", lambda: "")() or "")


def today(order: Order | None = None) -> date:
    """The business date, in the selling entity's zone when there is an order."""
    if order is not None:
        return clock.today(order.entity.time_zone or None)
    return clock.today()


def business_date(
    value: date | None,
    *,
    order: Order | None,
    field: str,
    not_before: date | None = None,
    not_before_what: str = "",
) -> date:
    """``value`` (default: today) checked: not in the future, not before ``not_before``."""
    now = today(order)
    day = value or now
    if day > now:
        raise InvalidDate(f"{field} {day} is in the future (today is {now})", field=field)
    if not_before is not None and day < not_before:
        raise InvalidDate(f"{field} {day} is before {not_before_what} ({not_before})", field=field)
    return day


def text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", code="orders.invalid_text", field=field)
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{field} is required", code="orders.required", field=field)
    if len(value) > max_length:
        raise ValidationError(
            f"{field} is longer than {max_length} characters", code="orders.invalid_text", field=field
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValidationError(f"{field} contains control characters", code="orders.invalid_text", field=field)
    return value


# --------------------------------------------------------------------------- events


def order_head(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "order_number": order.number,
        "order_type": order.type,
        "contract_id": order.contract_id,
        "contract_number": order.contract_number,
        "contract_version": order.contract_version,
        "entity_id": order.entity_id,
        "account_id": order.account_id,
    }


def line_head(line: OrderLine) -> dict[str, Any]:
    return {
        "line_id": line.pk,
        "position": line.position,
        "kind": line.kind,
        "product_id": line.product_id,
        "sku": line.sku,
        "contract_line_key": line.contract_line_key,
        "contract_line_id": line.contract_line_id,
        "ordered_quantity": line.quantity,
    }


def order_event(event_type: str, order: Order, actor: Any, **payload: Any) -> DomainEvent:
    return DomainEvent(
        type=event_type,
        aggregate_type=ORDER_AGGREGATE,
        aggregate_id=order.pk,
        payload={**order_head(order), **payload},
        entity_id=order.entity_id,
        actor=actor_name(actor),
    )


def line_event(event_type: str, order: Order, line: OrderLine, actor: Any, **payload: Any) -> DomainEvent:
    return order_event(event_type, order, actor, **line_head(line), **payload)


def stock_event(event_type: str, level: StockLevel, actor: Any, **payload: Any) -> DomainEvent:
    return DomainEvent(
        type=event_type,
        aggregate_type=STOCK_AGGREGATE,
        aggregate_id=level.pk,
        payload={
            "level_id": level.pk,
            "location_id": level.location_id,
            "product_id": level.product_id,
            "sku": level.sku,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            **payload,
        },
        actor=actor_name(actor),
    )


# --------------------------------------------------------------------------- stock primitives


def _units(q: Decimal) -> Value:
    return Value(domain.to_units(q), output_field=BigIntegerField())


def change_level(
    level: StockLevel,
    kind: MoveKind,
    *,
    on_hand: Decimal = ZERO,
    reserved: Decimal = ZERO,
    on: date,
    actor: Any,
    order_id: int | None = None,
    line_id: int | None = None,
    shipment_id: int | None = None,
    reference: str = "",
    note: str = "",
) -> StockMove | None:
    """Move ``on_hand``/``reserved`` of a (locked) level by the given deltas, in one conditional
    UPDATE that holds only while the level stays sound (nothing negative, never more reserved than
    on hand). Returns the stock-ledger row, or None when the condition failed (the level is
    unchanged; the caller decides whether that is an error or a back-order)."""
    # Sound after the move: on_hand + Δh ≥ reserved + Δr (never more promised than held) and
    # reserved + Δr ≥ 0; together they also keep on_hand + Δh ≥ 0.
    query = StockLevel.objects.filter(pk=level.pk, on_hand__gte=F("reserved") + _units(reserved - on_hand))
    if reserved < 0:
        query = query.filter(reserved__gte=-reserved)
    updated = query.update(
        on_hand=F("on_hand") + _units(on_hand),
        reserved=F("reserved") + _units(reserved),
        updated_at=clock.now(),
    )
    if not updated:
        return None
    fresh = StockLevel.objects.filter(pk=level.pk).values_list("on_hand", "reserved").get()
    level.on_hand, level.reserved = fresh
    return StockMove(
        level=level,
        kind=kind,
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        order_id=order_id,
        line_id=line_id,
        shipment_id=shipment_id,
        reference=reference,
        note=note,
        occurred_on=on,
        created_at=clock.now(),
        actor=actor_name(actor),
    )


def reserve(
    level: StockLevel, wanted: Decimal, *, line: OrderLine, on: date, actor: Any
) -> tuple[Decimal, StockMove | None]:
    """Reserve up to ``wanted`` units for ``line``: as much as is available. Returns what was
    reserved (possibly zero) and its stock-ledger row."""
    take = min(wanted, level.available)
    if take <= 0:
        return ZERO, None
    moved = change_level(
        level,
        MoveKind.RESERVATION,
        reserved=take,
        on=on,
        actor=actor,
        order_id=line.order_id,
        line_id=line.pk,
    )
    if moved is None:
        # Someone reserved meanwhile (only possible without row locks): the line waits instead.
        return ZERO, None
    return take, moved


def release(
    level: StockLevel, q: Decimal, *, line: OrderLine, on: date, actor: Any, note: str = ""
) -> StockMove:
    moved = change_level(
        level,
        MoveKind.RELEASE,
        reserved=-q,
        on=on,
        actor=actor,
        order_id=line.order_id,
        line_id=line.pk,
        note=note,
    )
    if moved is None:  # pragma: no cover - the line's own reservation is always there
        raise StockReserved(f"{level.sku}: {q} are not reserved", field="quantity")
    return moved


def adjust(
    level: StockLevel, delta: Decimal, *, kind: MoveKind, on: date, actor: Any, reference: str, note: str
) -> StockMove:
    moved = change_level(level, kind, on_hand=delta, on=on, actor=actor, reference=reference, note=note)
    if moved is None:
        if level.on_hand + delta < 0:
            raise NegativeStock(
                f"{level.sku}: {level.on_hand} on hand; taking {-delta} would leave negative stock",
                field="quantity",
            )
        raise StockReserved(
            f"{level.sku}: {level.reserved} of the {level.on_hand} on hand are reserved for orders; "
            f"taking {-delta} would leave less than that",
            field="quantity",
        )
    return moved


def ship_out(
    level: StockLevel, q: Decimal, *, line: OrderLine, shipment_id: int, on: date, actor: Any, reference: str
) -> StockMove:
    moved = change_level(
        level,
        MoveKind.SHIPMENT,
        on_hand=-q,
        reserved=-q,
        on=on,
        actor=actor,
        order_id=line.order_id,
        line_id=line.pk,
        shipment_id=shipment_id,
        reference=reference,
    )
    if moved is None:  # pragma: no cover - picked units are reserved, and reserved ≤ on hand
        raise InsufficientStock(f"{level.sku}: fewer than {q} in stock", field="quantity")
    return moved


def release_backorders(level: StockLevel, *, on: date, actor: Any) -> list[DomainEvent]:
    """Give what is available at ``level`` to back-ordered lines, oldest first (the caller holds
    the level's lock). Writes the lines and their reservation moves; returns the events to record.

    The hot path of a receipt that releases many back-orders: one read of the queue, the sharing
    computed in plain Python (``domain.fill``), one conditional UPDATE of the level for the total,
    then ``bulk_update`` of the lines and ``bulk_create`` of one stock move per line — the number of
    statements does not grow with the number of lines released.
    """
    if level.available <= 0:
        return []
    queue = OrderLine.objects.filter(
        location_id=level.location_id,
        product_id=level.product_id,
        kind=LineKind.GOOD,
        backordered__gt=0,
        status__in=[LineStatus.OPEN, LineStatus.IN_FULFILMENT],
    ).order_by("id")
    first = domain.fill(
        level.available,
        [((lid, oid), Decimal(q)) for lid, oid, q in queue.values_list("id", "order_id", "backordered")],
    )
    if not first:
        return []
    # Lock the orders concerned (after the level: the lock order of locks.py), then read their
    # lines again under those locks and share once more on what is really waiting.
    orders = locks.orders(oid for (_, oid), _ in first)
    lines = {ln.pk: ln for ln in queue.filter(pk__in=[lid for (lid, _), _ in first])}
    grants = domain.fill(
        level.available, [(ln.pk, ln.backordered) for ln in sorted(lines.values(), key=lambda x: x.pk)]
    )
    total = sum((q for _, q in grants), ZERO)
    before = level.reserved
    if total <= 0 or change_level(level, MoveKind.RESERVATION, reserved=total, on=on, actor=actor) is None:
        return []  # pragma: no cover - the level is locked and had ``total`` available
    moves: list[StockMove] = []
    out: list[DomainEvent] = []
    running = before
    now = clock.now()
    for lid, took in grants:
        line = lines[lid]
        line.backordered -= took
        line.reserved += took
        if line.backordered == 0:
            line.backordered_since = None
        running += took
        moves.append(
            StockMove(
                level=level,
                kind=MoveKind.RESERVATION,
                on_hand_delta=ZERO,
                reserved_delta=took,
                on_hand_after=level.on_hand,
                reserved_after=running,
                order_id=line.order_id,
                line_id=line.pk,
                note="back-order released",
                occurred_on=on,
                created_at=now,
                actor=actor_name(actor),
            )
        )
        out.append(
            line_event(
                events.LINE_RESERVED,
                orders[line.order_id],
                line,
                actor,
                quantity=took,
                reserved=line.reserved,
                backordered=line.backordered,
                released_from_backorder=True,
                location_id=level.location_id,
            )
        )
    # Lines served in full (all but perhaps the last) in one set-based UPDATE — what they waited for
    # moves from back-ordered to reserved; the rows are locked through their orders, so the values
    # read above are the values updated. A line served in part is written on its own.
    full = [lid for lid, _ in grants if lines[lid].backordered == 0]
    if full:
        done = OrderLine.objects.filter(pk__in=full).update(
            reserved=F("reserved") + F("backordered"), backordered=0, backordered_since=None
        )
        assert done == len(full)
    for lid, _ in grants:
        line = lines[lid]
        if line.backordered != 0:
            line.save(update_fields=["backordered", "reserved", "backordered_since"])
    StockMove.objects.bulk_create(moves, batch_size=2_000)
    return out


# --------------------------------------------------------------------------- statuses


def progress(line: OrderLine) -> GoodsProgress:
    return GoodsProgress(
        quantity=line.quantity,
        backordered=line.backordered,
        reserved=line.reserved,
        picked=line.picked,
        shipped=line.shipped,
        delivered=line.delivered,
        cancelled=line.cancelled,
    )


def line_target(line: OrderLine, task: ProvisioningTask | None) -> LineStatus:
    if line.kind == LineKind.GOOD:
        return domain.goods_status(progress(line))
    if task is None:  # pragma: no cover - every provisioned line has a task
        return LineStatus(line.status)
    return domain.provisioned_status(LineKind(line.kind), TaskKind(task.kind), TaskStatus(task.status))


def set_line_status(line: OrderLine, target: LineStatus) -> bool:
    """Move ``line`` to ``target`` through the table; True when it changed."""
    path = domain.line_path(LineStatus(line.status), target)
    if path:
        line.status = path[-1]
    return bool(path)


def refresh_order(order: Order, *, actor: Any, lines: Sequence[OrderLine] | None = None) -> list[DomainEvent]:
    """Bring the order's status in line with its lines' (through the table); the events to record."""
    statuses = [
        LineStatus(s)
        for s in (
            [ln.status for ln in lines]
            if lines is not None
            else OrderLine.objects.filter(order=order).values_list("status", flat=True)
        )
    ]
    current = OrderStatus(order.status)
    target = domain.order_target(current, statuses)
    out: list[DomainEvent] = []
    for step in domain.order_path(current, target):
        out.append(
            order_event(events.ORDER_STATUS_CHANGED, order, actor, status_from=order.status, status_to=step)
        )
        order.status = step
    if out:
        order.updated_at = clock.now()
        order.save(update_fields=["status", "updated_at"])
    return out


def record(evts: Iterable[DomainEvent]) -> None:
    record_many(list(evts))


def location_by_code(code: str | None) -> Location:
    from q2c.orders.errors import LocationNotFound

    if code:
        row = Location.objects.filter(code=code).first()
        if row is None:
            raise LocationNotFound(f"no stock location '{code}'", field="location")
        return row
    row = Location.objects.filter(is_default=True).first() or Location.objects.order_by("id").first()
    if row is None:
        # The migration seeds one; a database without it gets it back on first use.
        row = Location.objects.create(
            code="MAIN", name="Main warehouse", is_default=True, created_at=clock.now()
        )
    return row


def product_info(product_ids: Iterable[int]) -> Mapping[int, dict[str, Any]]:
    """Type, SKU, name, unit and divisibility of catalog products, in one query."""
    from q2c.catalog.models import Product

    ids = sorted({int(p) for p in product_ids if p is not None})
    if not ids:
        return {}
    rows = Product.objects.filter(pk__in=ids).select_related("unit")
    return {
        p.pk: {
            "type": p.type,
            "sku": p.sku,
            "name": p.name,
            "unit": p.unit.code,
            "divisible": p.unit.divisible,
        }
        for p in rows
    }


def products_by_sku(skus: Iterable[str]) -> Mapping[str, dict[str, Any]]:
    """Like :func:`product_by_sku` for several SKUs, in one query."""
    from q2c.catalog.models import Product

    wanted = sorted({s for s in skus if s})
    if not wanted:
        return {}
    rows = Product.objects.filter(sku__in=wanted).select_related("unit")
    return {
        p.sku: {
            "id": p.pk,
            "type": p.type,
            "sku": p.sku,
            "name": p.name,
            "unit": p.unit.code,
            "divisible": p.unit.divisible,
        }
        for p in rows
    }


def product_by_sku(sku: str) -> dict[str, Any] | None:
    from q2c.catalog.models import Product

    p = Product.objects.filter(sku=sku).select_related("unit").first()
    if p is None:
        return None
    return {
        "id": p.pk,
        "type": p.type,
        "sku": p.sku,
        "name": p.name,
        "unit": p.unit.code,
        "divisible": p.unit.divisible,
    }
