"""Tables of the orders app: stock locations, stock levels and the stock ledger (every move),
orders and their lines, shipments, provisioning tasks.

``Order`` holds foreign keys to ``parties.LegalEntity`` and ``parties.Account`` (public aggregate
roots of a lower layer, PROTECT). Contracts and catalog products are named by plain ids (and
number/SKU for people): contracts is the layer below but its rows are referred to by id, never by
foreign key, so orders can be read without it. Quantities are exact: stored as integer millionths
(:class:`QuantityField`), so the database adds and compares them exactly — the conditional update
that reserves the last unit depends on it. Rows are written only by ``q2c.orders.services``.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.expressions import Combinable

from q2c.orders.domain import (
    QUANTITY_SCALE,
    LineKind,
    LineStatus,
    MoveKind,
    OrderStatus,
    OrderType,
    ShipmentStatus,
    TaskKind,
    TaskStatus,
    from_units,
    quantity,
    to_units,
)


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class QuantityField(models.BigIntegerField):
    """An exact quantity kept as integer millionths (``2.5`` is stored as ``2500000``); the attribute
    reads and writes ``Decimal``. Filters with a Decimal value are scaled the same way; in
    ``F()`` arithmetic pass scaled integers (``domain.to_units``)."""

    # What django-stubs' mypy plugin reads as the attribute's types (Decimal, not int).
    _pyi_private_set_type: Decimal | int | str | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: Decimal  # type: ignore[assignment]

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        return None if value is None else from_units(int(value))

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        if isinstance(value, Decimal):
            return value
        return quantity(value, field=self.name, positive=False, allow_zero=True)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, Decimal):
            return to_units(value)  # refuses more than six places
        if isinstance(value, int) and not isinstance(value, bool):
            return value * QUANTITY_SCALE
        if isinstance(value, str):
            return to_units(quantity(value, field=self.name, positive=False, allow_zero=True))
        return super().get_prep_value(value)


class Location(models.Model):
    """A place stock is kept (a warehouse, a van). One is the default for new orders."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "orders_location"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="orders_one_default_location"
            )
        ]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """What one location holds of one product: on hand, and how much of it orders have reserved.

    Available to promise is ``on_hand - reserved``; the rows change only together with a
    :class:`StockMove` that says why.
    """

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="levels")
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    on_hand = QuantityField(default=0)
    reserved = QuantityField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "orders_stock_level"
        ordering = ["sku", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "product_id"], name="orders_one_level_per_product"),
            # The last line of defence: no path may leave stock negative or over-promised.
            models.CheckConstraint(condition=Q(reserved__gte=0), name="orders_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=models.F("reserved")), name="orders_reserved_le_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku}@{self.location_id}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class StockMove(models.Model):
    """One row of the stock ledger: what changed on hand and reserved, why, and the balance after."""

    level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(max_length=12, choices=_choices(MoveKind))
    on_hand_delta = QuantityField(default=0)
    reserved_delta = QuantityField(default=0)
    on_hand_after = QuantityField()
    reserved_after = QuantityField()
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    line_id = models.BigIntegerField(null=True, blank=True)
    shipment_id = models.BigIntegerField(null=True, blank=True)
    reference = models.CharField(
        max_length=100, blank=True, default="", help_text="delivery note, PO, count sheet"
    )
    note = models.CharField(max_length=500, blank=True, default="")
    occurred_on = models.DateField()
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "orders_stock_move"
        ordering = ["id"]
        indexes = [models.Index(fields=["level", "id"], name="orders_move_level")]


class Order(models.Model):
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=40)
    type = models.CharField(max_length=15, choices=_choices(OrderType))
    status = models.CharField(max_length=20, choices=_choices(OrderStatus), default=OrderStatus.OPEN.value)
    contract_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    contract_number = models.CharField(max_length=40, blank=True, default="")
    contract_version = models.PositiveIntegerField(null=True, blank=True)
    source_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="orders")
    ordered_on = models.DateField()
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")
    updated_at = models.DateTimeField()
    closed_on = models.DateField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, default="")

    class Meta:
        db_table = "orders_order"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["entity", "number"], name="orders_number_once")]
        indexes = [models.Index(fields=["status", "id"], name="orders_status")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One thing to deliver. For goods: ``quantity = backordered + reserved + picked + shipped +
    cancelled`` and ``delivered ≤ shipped``; ``reserved + picked`` units are held in the stock
    level's ``reserved``. Services, subscriptions and usage have one provisioning task."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=15, choices=_choices(LineKind))
    product_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True, default="")
    unit = models.CharField(max_length=20, blank=True, default="")
    divisible = models.BooleanField(default=False)
    quantity = QuantityField(help_text="negative for a reduction")
    contract_line_key = models.CharField(max_length=40, blank=True, default="")
    contract_line_id = models.BigIntegerField(null=True, blank=True)
    planned_date = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True, help_text="exclusive")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=_choices(LineStatus), default=LineStatus.OPEN.value)
    backordered = QuantityField(default=0)
    reserved = QuantityField(default=0)
    picked = QuantityField(default=0)
    shipped = QuantityField(default=0)
    delivered = QuantityField(default=0)
    cancelled = QuantityField(default=0)
    backordered_since = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "orders_line"
        ordering = ["order_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="orders_line_position_once")
        ]
        indexes = [
            # The back-order queue of a product at a location, first come first served.
            models.Index(fields=["location", "product_id", "id"], name="orders_line_queue"),
            models.Index(fields=["status", "kind"], name="orders_line_status_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.position} {self.sku}"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    number = models.CharField(max_length=50)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=_choices(ShipmentStatus), default=ShipmentStatus.PICKED.value
    )
    carrier = models.CharField(max_length=100, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    picked_on = models.DateField()
    shipped_on = models.DateField(null=True, blank=True)
    delivered_on = models.DateField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "orders_shipment"
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="orders_shipment_number_once")
        ]
        indexes = [models.Index(fields=["status", "id"], name="orders_shipment_status")]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = QuantityField()

    class Meta:
        db_table = "orders_shipment_line"
        ordering = ["shipment_id", "id"]
        constraints = [models.UniqueConstraint(fields=["shipment", "line"], name="orders_shipment_line_once")]


class ProvisioningTask(models.Model):
    """Bringing a service, subscription or usage line to life (or switching off a reduction)."""

    line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="task")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=12, choices=_choices(TaskKind), default=TaskKind.ACTIVATE.value)
    status = models.CharField(max_length=12, choices=_choices(TaskStatus), default=TaskStatus.PENDING.value)
    planned_on = models.DateField(null=True, blank=True)
    activated_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    automatic = models.BooleanField(
        default=False, help_text="carried out by the daily job on the planned date"
    )
    note = models.CharField(max_length=500, blank=True, default="")
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "orders_provisioning_task"
        ordering = ["planned_on", "id"]
        indexes = [models.Index(fields=["status", "planned_on"], name="orders_task_due")]
