"""Request and response shapes of the orders API. Quantities travel as decimal text ("2",
"12.5") or integers; floats are refused (they are not exact). Dates are ``YYYY-MM-DD``.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

#: A quantity as text ("2.5") or an integer; floats are refused.
Qty = StrictStr | StrictInt


class OrderFilter(Schema):
    status: str | None = Field(
        None, description="open, in_fulfilment, fulfilled, partially_fulfilled, closed, cancelled"
    )
    type: str | None = Field(None, description="new, amendment, renewal, cancellation")
    account_id: int | None = None
    contract_id: int | None = None
    q: str | None = Field(None, max_length=200, description="order or contract number, customer name")


class NewOrderLineIn(Schema):
    sku: str = Field(..., max_length=64, examples=["EDGE"])
    kind: str = Field(..., description="good, service, subscription or usage", examples=["good"])
    quantity: Qty = Field(..., examples=["2"])
    contract_line_key: str = Field("", max_length=40)
    planned_date: date | None = None
    service_end: date | None = None
    automatic: bool = False


class NewOrderIn(Schema):
    entity_id: int = Field(..., examples=[1])
    account_id: int = Field(..., examples=[1])
    type: str = Field("new", examples=["new"])
    lines: list[NewOrderLineIn] = Field(..., min_length=1, max_length=500)
    contract_id: int | None = None
    contract_number: str = Field("", max_length=40)
    location: str = Field(
        "", max_length=20, description="stock location code (default: the default location)"
    )
    note: str = Field("", max_length=2000)


class OrderTaskOut(Schema):
    id: int
    kind: str
    status: str
    planned_on: date | None
    activated_on: date | None
    completed_on: date | None
    cancelled_on: date | None
    automatic: bool


class OrderLineOut(Schema):
    id: int
    order_id: int
    position: int
    kind: str
    product_id: int | None
    sku: str
    name: str
    unit: str
    quantity: str
    status: str
    contract_line_key: str
    contract_line_id: int | None
    planned_date: date | None
    service_end: date | None
    location: str | None
    backordered: str
    reserved: str
    picked: str
    shipped: str
    delivered: str
    cancelled: str
    backordered_since: date | None
    task: OrderTaskOut | None


class ShipmentItemOut(Schema):
    line_id: int
    position: int
    sku: str
    quantity: str


class ShipmentOut(Schema):
    id: int
    order_id: int
    number: str
    location: str
    status: str
    carrier: str
    tracking_number: str
    picked_on: date
    shipped_on: date | None
    delivered_on: date | None
    cancelled_on: date | None
    lines: list[ShipmentItemOut]


class OrderSummary(Schema):
    id: int
    number: str
    type: str
    status: str
    entity_id: int
    account_id: int
    account_name: str
    contract_id: int | None
    contract_number: str
    contract_version: int | None
    location: str
    ordered_on: date
    closed_on: date | None
    cancelled_on: date | None


class OrderOut(OrderSummary):
    note: str
    cancel_reason: str
    created_at: datetime
    created_by: str
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]


class OrderEventOut(Schema):
    seq: int
    type: str
    actor: str
    occurred_at: datetime
    payload: dict[str, Any]


class OrderReasonIn(Schema):
    reason: str = Field("", max_length=500)


class PickedLineIn(Schema):
    line_id: int = Field(..., examples=[1])
    quantity: Qty = Field(..., examples=["1"])


class ShipmentPickIn(Schema):
    lines: list[PickedLineIn] = Field(..., min_length=1, max_length=500)


class ShipmentShipIn(Schema):
    carrier: str = Field(..., max_length=100, examples=["DHL"])
    tracking_number: str = Field("", max_length=100, examples=["00340434161094042557"])
    shipped_on: date | None = Field(None, description="default: today")


class ShipmentDeliverIn(Schema):
    delivered_on: date | None = Field(None, description="default: today")


class LineActivateIn(Schema):
    activated_on: date | None = Field(None, description="default: today")
    note: str = Field("", max_length=500)


class LineCompleteIn(Schema):
    completed_on: date | None = Field(None, description="default: today")
    note: str = Field("", max_length=500)


class FulfilmentBoardOut(Schema):
    to_pick: list[OrderLineOut]
    to_ship: list[ShipmentOut]
    in_transit: list[ShipmentOut]
    to_provision: list[OrderLineOut]
    backordered: list[OrderLineOut]


class StockLevelFilter(Schema):
    sku: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=20)


class StockLevelOut(Schema):
    level_id: int
    location: str
    product_id: int
    sku: str
    on_hand: str
    reserved: str
    available: str
    backordered: str


class StockMoveFilter(Schema):
    sku: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=20)
    kind: str | None = Field(None, description="receipt, adjustment, reservation, release, shipment")
    order_id: int | None = None


class StockMoveOut(Schema):
    id: int
    kind: str
    location: str
    sku: str
    product_id: int
    on_hand_delta: str
    reserved_delta: str
    on_hand_after: str
    reserved_after: str
    order_id: int | None
    line_id: int | None
    shipment_id: int | None
    reference: str
    note: str
    occurred_on: date
    actor: str


class StockReceiptIn(Schema):
    sku: str = Field(..., max_length=64, examples=["EDGE"])
    quantity: Qty = Field(..., examples=["10"])
    location: str = Field("", max_length=20, description="default: the default location")
    received_on: date | None = Field(None, description="default: today")
    reference: str = Field("", max_length=100, examples=["PO-4711"])
    note: str = Field("", max_length=500)


class StockAdjustmentIn(Schema):
    sku: str = Field(..., max_length=64, examples=["EDGE"])
    delta: Qty = Field(..., examples=["-1"])
    location: str = Field("", max_length=20)
    reference: str = Field("", max_length=100)
    note: str = Field(..., max_length=500, examples=["stock count 2027-02-28"])


class StockLocationIn(Schema):
    code: str = Field(..., max_length=20, examples=["HAM"])
    name: str = Field(..., max_length=200, examples=["Hamburg warehouse"])
    is_default: bool = False


class StockLocationOut(Schema):
    id: int
    code: str
    name: str
    is_default: bool
    is_active: bool
