"""Event types the orders app records (``q2c.platform.events``), each stamped with the business
clock. Every event about an order names it (``aggregate_type`` ``orders.order``, ``aggregate_id``
the order id), so an order's timeline is the list of its events; stock events name the stock
level (``orders.stock``). Payloads are documented in docs/orders.md.

Five of them are what later stages react to (handlers registered in ``q2c.wiring``):

- ``orders.order.created`` (OrderCreated): every line with its kind, quantity, planned date and
  the contract line it fulfils;
- ``orders.line.shipped`` (LineShipped): a shipment left with some units of a goods line;
- ``orders.line.delivered`` (LineDelivered): those units arrived, with the delivery date — goods
  are invoiced and their revenue recognised on it;
- ``orders.line.activated`` (LineActivated): a subscription, usage or one-time service line
  started, with the activation date — subscriptions start billing from it;
- ``orders.line.completed`` (LineCompleted): a one-time service was completed (revenue at that
  point in time);
- ``orders.line.deactivated``: what a reduction or cancellation stops was switched off.

Must not import any q2c app.
"""

from __future__ import annotations

ORDER_CREATED = "orders.order.created"
ORDER_STATUS_CHANGED = "orders.order.status_changed"
ORDER_CANCELLED = "orders.order.cancelled"
ORDER_CLOSED = "orders.order.closed"
LINE_RESERVED = "orders.line.reserved"
LINE_BACKORDERED = "orders.line.backordered"
LINE_CANCELLED = "orders.line.cancelled"
SHIPMENT_PICKED = "orders.shipment.picked"
SHIPMENT_CANCELLED = "orders.shipment.cancelled"
LINE_SHIPPED = "orders.line.shipped"
LINE_DELIVERED = "orders.line.delivered"
LINE_ACTIVATED = "orders.line.activated"
LINE_COMPLETED = "orders.line.completed"
LINE_DEACTIVATED = "orders.line.deactivated"
STOCK_RECEIVED = "orders.stock.received"
STOCK_ADJUSTED = "orders.stock.adjusted"
LOCATION_CREATED = "orders.location.created"

#: The events billing and revenue consume.
FULFILMENT = (ORDER_CREATED, LINE_SHIPPED, LINE_DELIVERED, LINE_ACTIVATED, LINE_COMPLETED, LINE_DEACTIVATED)

ALL = (
    ORDER_CREATED,
    ORDER_STATUS_CHANGED,
    ORDER_CANCELLED,
    ORDER_CLOSED,
    LINE_RESERVED,
    LINE_BACKORDERED,
    LINE_CANCELLED,
    SHIPMENT_PICKED,
    SHIPMENT_CANCELLED,
    LINE_SHIPPED,
    LINE_DELIVERED,
    LINE_ACTIVATED,
    LINE_COMPLETED,
    LINE_DEACTIVATED,
    STOCK_RECEIVED,
    STOCK_ADJUSTED,
    LOCATION_CREATED,
)
