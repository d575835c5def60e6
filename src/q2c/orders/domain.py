"""The pure core of orders: states and their moves, quantities, the order input, and the rules of
fulfilment (who gets scarce stock first, what a line's and an order's status follow from).

Everything here is plain Python over plain data; the services load rows, ask these functions and
write the answer. The state tables are the single source of truth for what may happen:

- an **order** is ``open`` → ``in_fulfilment`` → ``fulfilled`` (everything delivered, activated or
  completed) or ``partially_fulfilled`` (nothing left to do, but part was cancelled) → ``closed``;
  an order on which nothing happened yet can be ``cancelled``;
- an **order line** follows the same words without ``closed``: goods are ``in_fulfilment`` from
  their first shipment until everything shipped is delivered; a subscription or usage line is
  ``fulfilled`` when it is activated, a one-time service when it is completed;
- a **shipment** is ``picked`` → ``shipped`` → ``delivered``, or ``cancelled`` while only picked;
- a **provisioning task** is ``pending`` → ``active`` → ``completed`` (one-time services), or
  ``pending`` → ``completed`` directly; ``pending`` → ``cancelled``.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from q2c.core.errors import ValidationError
from q2c.core.money import to_decimal
from q2c.core.statemachine import transition

ZERO = Decimal(0)

#: Quantities are exact decimals with at most this many places (stored as integer millionths,
#: so the database can add and compare them exactly — SQLite has no decimal type).
QUANTITY_DECIMALS = 6
QUANTITY_SCALE = 10**QUANTITY_DECIMALS
#: The largest quantity a line or a stock level may hold (10¹² × 10⁶ fits a BIGINT).
MAX_QUANTITY = Decimal(10) ** 12


# --------------------------------------------------------------------------- kinds and states


class OrderType(StrEnum):
    NEW = "new"
    AMENDMENT = "amendment"
    RENEWAL = "renewal"
    CANCELLATION = "cancellation"


class LineKind(StrEnum):
    """What fulfilling a line means: ship a good, or provision a service, subscription or usage."""

    GOOD = "good"
    SERVICE = "service"  # one-time service: activated (started), then completed
    SUBSCRIPTION = "subscription"
    USAGE = "usage"


PROVISIONED = frozenset({LineKind.SERVICE, LineKind.SUBSCRIPTION, LineKind.USAGE})


class OrderStatus(StrEnum):
    OPEN = "open"
    IN_FULFILMENT = "in_fulfilment"
    FULFILLED = "fulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ORDER_TRANSITIONS: Mapping[OrderStatus, Set[OrderStatus]] = MappingProxyType(
    {
        OrderStatus.OPEN: frozenset({OrderStatus.IN_FULFILMENT, OrderStatus.CANCELLED}),
        OrderStatus.IN_FULFILMENT: frozenset({OrderStatus.FULFILLED, OrderStatus.PARTIALLY_FULFILLED}),
        OrderStatus.FULFILLED: frozenset({OrderStatus.CLOSED}),
        OrderStatus.PARTIALLY_FULFILLED: frozenset({OrderStatus.CLOSED}),
        OrderStatus.CLOSED: frozenset(),
        OrderStatus.CANCELLED: frozenset(),
    }
)


class LineStatus(StrEnum):
    OPEN = "open"
    IN_FULFILMENT = "in_fulfilment"
    FULFILLED = "fulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    CANCELLED = "cancelled"


LINE_TRANSITIONS: Mapping[LineStatus, Set[LineStatus]] = MappingProxyType(
    {
        LineStatus.OPEN: frozenset({LineStatus.IN_FULFILMENT, LineStatus.FULFILLED, LineStatus.CANCELLED}),
        LineStatus.IN_FULFILMENT: frozenset({LineStatus.FULFILLED, LineStatus.PARTIALLY_FULFILLED}),
        LineStatus.FULFILLED: frozenset(),
        LineStatus.PARTIALLY_FULFILLED: frozenset(),
        LineStatus.CANCELLED: frozenset(),
    }
)

#: Lines in these states need nothing more.
LINE_DONE = frozenset({LineStatus.FULFILLED, LineStatus.PARTIALLY_FULFILLED, LineStatus.CANCELLED})


class ShipmentStatus(StrEnum):
    PICKED = "picked"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


SHIPMENT_TRANSITIONS: Mapping[ShipmentStatus, Set[ShipmentStatus]] = MappingProxyType(
    {
        ShipmentStatus.PICKED: frozenset({ShipmentStatus.SHIPPED, ShipmentStatus.CANCELLED}),
        ShipmentStatus.SHIPPED: frozenset({ShipmentStatus.DELIVERED}),
        ShipmentStatus.DELIVERED: frozenset(),
        ShipmentStatus.CANCELLED: frozenset(),
    }
)


class TaskKind(StrEnum):
    ACTIVATE = "activate"  # start a service, subscription or usage line
    DEACTIVATE = "deactivate"  # stop what a reduction or cancellation no longer runs


class TaskStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


TASK_TRANSITIONS: Mapping[TaskStatus, Set[TaskStatus]] = MappingProxyType(
    {
        TaskStatus.PENDING: frozenset({TaskStatus.ACTIVE, TaskStatus.COMPLETED, TaskStatus.CANCELLED}),
        TaskStatus.ACTIVE: frozenset({TaskStatus.COMPLETED}),
        TaskStatus.COMPLETED: frozenset(),
        TaskStatus.CANCELLED: frozenset(),
    }
)


class MoveKind(StrEnum):
    """A row of the stock ledger. Receipts and adjustments change what is on hand; reservations
    and releases change what is promised; a shipment takes units out of both."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    RESERVATION = "reservation"
    RELEASE = "release"
    SHIPMENT = "shipment"


S = TypeVar("S", bound=StrEnum)


def move_order(current: OrderStatus | str, target: OrderStatus) -> OrderStatus:
    return transition(ORDER_TRANSITIONS, OrderStatus(current), target, what="order")


def move_line(current: LineStatus | str, target: LineStatus) -> LineStatus:
    return transition(LINE_TRANSITIONS, LineStatus(current), target, what="order_line")


def move_shipment(current: ShipmentStatus | str, target: ShipmentStatus) -> ShipmentStatus:
    return transition(SHIPMENT_TRANSITIONS, ShipmentStatus(current), target, what="shipment")


def move_task(current: TaskStatus | str, target: TaskStatus) -> TaskStatus:
    return transition(TASK_TRANSITIONS, TaskStatus(current), target, what="provisioning_task")


# --------------------------------------------------------------------------- quantities


def quantity(
    value: Any,
    *,
    field: str = "quantity",
    divisible: bool = True,
    positive: bool = True,
    allow_zero: bool = False,
) -> Decimal:
    """``value`` as an exact quantity, or a ``ValidationError`` naming ``field``.

    At most :data:`QUANTITY_DECIMALS` places; whole numbers only when the unit is not divisible
    (seats, appliances); positive unless ``positive`` is False (reduction lines are negative);
    zero only when ``allow_zero``. Floats are refused: they are not exact.
    """
    if isinstance(value, float):
        raise ValidationError(
            f"{field} must be an exact number (text or integer), not a float",
            code="orders.invalid_quantity",
            field=field,
        )
    try:
        number = to_decimal(value, field=field)
    except (TypeError, InvalidOperation, ValidationError):
        raise ValidationError(
            f"'{value}' is not a quantity", code="orders.invalid_quantity", field=field
        ) from None
    if abs(number) >= MAX_QUANTITY:
        raise ValidationError(f"{field} {number} is too large", code="orders.invalid_quantity", field=field)
    if number != number.quantize(Decimal(1).scaleb(-QUANTITY_DECIMALS)):
        raise ValidationError(
            f"{field} {number} has more than {QUANTITY_DECIMALS} decimal places",
            code="orders.too_many_decimals",
            field=field,
        )
    if not divisible and number != number.to_integral_value():
        raise ValidationError(
            f"{field} {number} must be a whole number: the unit cannot be divided",
            code="orders.indivisible",
            field=field,
        )
    if number == 0 and not allow_zero:
        raise ValidationError(f"{field} must not be zero", code="orders.invalid_quantity", field=field)
    if positive and number < 0:
        raise ValidationError(f"{field} must be positive", code="orders.invalid_quantity", field=field)
    # Normal form: no exponent noise ("2" rather than "2.000" or "2E+0").
    return normal(number)


def normal(number: Decimal) -> Decimal:
    """A quantity without trailing zeros or exponent (``Decimal("2.500")`` → ``2.5``)."""
    if number == 0:
        return ZERO
    text = format(number.normalize(), "f")
    return Decimal(text)


def to_units(number: Decimal) -> int:
    """A quantity as integer millionths (how the database stores it)."""
    scaled = number.scaleb(QUANTITY_DECIMALS)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"{number} has more than {QUANTITY_DECIMALS} decimal places", code="orders.too_many_decimals"
        )
    return int(scaled)


def from_units(units: int) -> Decimal:
    return normal(Decimal(units).scaleb(-QUANTITY_DECIMALS))


# --------------------------------------------------------------------------- the order input


@dataclass(frozen=True)
class NewOrderLine:
    """One line to fulfil. ``quantity`` is negative for a reduction (amendment or cancellation)."""

    sku: str
    kind: LineKind
    quantity: Decimal
    product_id: int | None = None
    name: str = ""
    unit: str = ""
    divisible: bool = False
    contract_line_key: str = ""
    contract_line_id: int | None = None
    planned_date: date | None = None
    service_end: date | None = None
    #: Provisioning happens by itself on the planned date (the daily job), without a person.
    automatic: bool = False


@dataclass(frozen=True)
class NewOrder:
    entity_id: int
    account_id: int
    type: OrderType
    lines: Sequence[NewOrderLine]
    contract_id: int | None = None
    contract_number: str = ""
    contract_version: int | None = None
    #: Unique key of what produced the order (``contract:12:v3:amendment``): a replayed event
    #: finds the order it made instead of making a second one.
    source_key: str = ""
    location_code: str = ""
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def check_new_order(order: NewOrder, *, allow_empty: bool = False) -> list[dict[str, str]]:
    """Every problem of an order input, one per field (empty when it is fine)."""
    problems: list[dict[str, str]] = []

    def add(field_name: str, code: str, message: str) -> None:
        problems.append({"field": field_name, "code": code, "message": message})

    try:
        OrderType(order.type)
    except ValueError:
        add("type", "orders.invalid_type", f"'{order.type}' is not an order type")
    if not order.lines and not allow_empty:
        add("lines", "orders.no_lines", "an order needs at least one line")
    for i, line in enumerate(order.lines):
        prefix = f"lines[{i}]"
        if not (line.sku or "").strip():
            add(f"{prefix}.sku", "orders.invalid_sku", "a line needs a SKU")
        try:
            kind = LineKind(line.kind)
        except ValueError:
            add(
                f"{prefix}.kind",
                "orders.invalid_kind",
                f"'{line.kind}' is not good, service, subscription or usage",
            )
            continue
        try:
            # Reductions (negative lines) belong to amendments and cancellations only.
            quantity(
                line.quantity,
                field=f"{prefix}.quantity",
                divisible=line.divisible or kind is LineKind.USAGE,
                positive=order.type in (OrderType.NEW, OrderType.RENEWAL),
                # Usage is measured, not ordered: its line may name no quantity.
                allow_zero=kind is LineKind.USAGE,
            )
        except ValidationError as exc:
            add(exc.field or f"{prefix}.quantity", exc.code, exc.message)
        if line.planned_date and line.service_end and line.service_end <= line.planned_date:
            add(f"{prefix}.service_end", "orders.invalid_dates", "the service must end after it starts")
    return problems


# --------------------------------------------------------------------------- fulfilment rules

K = TypeVar("K", bound=Hashable)


def fill(available: Decimal, queue: Iterable[tuple[K, Decimal]]) -> list[tuple[K, Decimal]]:
    """Share ``available`` units among waiting lines in queue order (first come, first served).

    Each waiting line gets as much as it still needs or as is left; a line that cannot be filled
    in full takes what remains (a partial reservation) and the rest keeps waiting. Returns
    ``(key, quantity)`` for every line that gets something, in queue order.
    """
    left = available
    granted: list[tuple[K, Decimal]] = []
    for key, wanted in queue:
        if left <= 0:
            break
        take = min(wanted, left)
        if take > 0:
            granted.append((key, take))
            left -= take
    return granted


@dataclass(frozen=True)
class GoodsProgress:
    """A goods line's quantities: ``quantity`` = backordered + reserved + picked + shipped + cancelled."""

    quantity: Decimal
    backordered: Decimal = ZERO
    reserved: Decimal = ZERO
    picked: Decimal = ZERO
    shipped: Decimal = ZERO
    delivered: Decimal = ZERO
    cancelled: Decimal = ZERO

    @property
    def unshipped(self) -> Decimal:
        return self.backordered + self.reserved + self.picked

    def consistent(self) -> bool:
        parts = (self.backordered, self.reserved, self.picked, self.shipped, self.delivered, self.cancelled)
        return (
            all(p >= 0 for p in parts)
            and self.backordered + self.reserved + self.picked + self.shipped + self.cancelled
            == self.quantity
            and self.delivered <= self.shipped
        )


def goods_status(p: GoodsProgress) -> LineStatus:
    """What a goods line's quantities say its status is."""
    if p.quantity <= 0:
        # A reduction of goods ships nothing (returns are not handled here): nothing to do.
        return LineStatus.FULFILLED
    if p.cancelled == p.quantity:
        return LineStatus.CANCELLED
    if p.shipped == 0:
        return LineStatus.OPEN
    if p.unshipped > 0 or p.delivered < p.shipped:
        return LineStatus.IN_FULFILMENT
    return LineStatus.PARTIALLY_FULFILLED if p.cancelled > 0 else LineStatus.FULFILLED


def provisioned_status(kind: LineKind, task_kind: TaskKind, task: TaskStatus) -> LineStatus:
    """What a service, subscription or usage line's provisioning task says its status is."""
    if task is TaskStatus.CANCELLED:
        return LineStatus.CANCELLED
    if task is TaskStatus.COMPLETED:
        return LineStatus.FULFILLED
    if task is TaskStatus.ACTIVE:
        # A subscription or usage line is delivered once it runs; a one-time service once done.
        if kind is LineKind.SERVICE and task_kind is TaskKind.ACTIVATE:
            return LineStatus.IN_FULFILMENT
        return LineStatus.FULFILLED
    return LineStatus.OPEN


def line_path(current: LineStatus, target: LineStatus) -> list[LineStatus]:
    """The moves from ``current`` to ``target`` (none when equal); each checked by the table."""
    if current == target:
        return []
    if target in LINE_TRANSITIONS[current]:
        return [target]
    # open → partially fulfilled happens when a line's last unshipped units are cancelled in the
    # same step as its shipped units are delivered; it passes through in_fulfilment.
    if current is LineStatus.OPEN and target is LineStatus.PARTIALLY_FULFILLED:
        return [LineStatus.IN_FULFILMENT, target]
    move_line(current, target)  # raises InvalidTransition with the usual message
    return [target]


def order_target(current: OrderStatus, lines: Sequence[LineStatus]) -> OrderStatus:
    """The status an order's lines call for. ``closed`` and ``cancelled`` orders stay as they are."""
    if current in (OrderStatus.CLOSED, OrderStatus.CANCELLED):
        return current
    if not lines:
        return OrderStatus.FULFILLED
    if all(s is LineStatus.CANCELLED for s in lines):
        # Nothing was ever fulfilled: the order is cancelled (or, if it had started, which a
        # cancelled line cannot have, partially fulfilled).
        return OrderStatus.CANCELLED if current is OrderStatus.OPEN else OrderStatus.PARTIALLY_FULFILLED
    if all(s in LINE_DONE for s in lines):
        if any(s in (LineStatus.CANCELLED, LineStatus.PARTIALLY_FULFILLED) for s in lines):
            return OrderStatus.PARTIALLY_FULFILLED
        return OrderStatus.FULFILLED
    if any(s is not LineStatus.OPEN and s is not LineStatus.CANCELLED for s in lines):
        return OrderStatus.IN_FULFILMENT
    return current if current is OrderStatus.IN_FULFILMENT else OrderStatus.OPEN


def order_path(current: OrderStatus, target: OrderStatus) -> list[OrderStatus]:
    """The moves from ``current`` to ``target``: an open order that finishes in one step passes
    through ``in_fulfilment`` (so the table and the timeline show every stage)."""
    if current == target:
        return []
    if current is OrderStatus.OPEN and target in (OrderStatus.FULFILLED, OrderStatus.PARTIALLY_FULFILLED):
        return [OrderStatus.IN_FULFILMENT, target]
    move_order(current, target)
    return [target]


def kind_for(product_type: str | None, charge_kind: str | None) -> LineKind:
    """A line's kind: the catalog product's type when known, else what its charge suggests
    (recurring → subscription, usage → usage, one-time → service)."""
    if product_type:
        try:
            return LineKind(product_type)
        except ValueError:
            pass
    if charge_kind == "recurring":
        return LineKind.SUBSCRIPTION
    if charge_kind == "usage":
        return LineKind.USAGE
    return LineKind.SERVICE
