"""The orders app's use cases: the only code that writes its tables, one transaction each.

Other apps (and the composition root's handlers) call these, never the models:

- ``create_order(NewOrder, actor=…) -> Order`` (idempotent by ``NewOrder.source_key``);
- ``cancel_order(order_id, …)``, ``cancel_line(line_id, …)``, ``close_order(order_id, …)``;
- goods: ``pick(order_id, {line_id: quantity}, …) -> Shipment``, ``ship(shipment_id, carrier=…,
  tracking_number=…, shipped_on=…)``, ``deliver(shipment_id, delivered_on=…)``,
  ``cancel_shipment(shipment_id)``;
- services, subscriptions, usage: ``activate(line_id, activated_on=…)``,
  ``complete(line_id, completed_on=…)``, ``run_due(business_date)`` (the daily job);
- stock: ``create_location(code, name, …)``, ``receive_stock(sku, quantity, location=…,
  received_on=…, reference=…)``, ``adjust_stock(sku, delta, note=…)``.

Errors are ``q2c.core.errors`` kinds with codes listed in ``q2c.orders.errors``.

Must not import any q2c app above ``contracts``.
"""

from q2c.orders.domain import LineKind, NewOrder, NewOrderLine, OrderType
from q2c.orders.services.orders import cancel_line, cancel_order, close_order, create_order
from q2c.orders.services.provisioning import activate, complete, run_due
from q2c.orders.services.shipping import cancel_shipment, deliver, pick, ship
from q2c.orders.services.stock import adjust_stock, create_location, level_of, receive_stock

__all__ = [
    "LineKind",
    "NewOrder",
    "NewOrderLine",
    "OrderType",
    "activate",
    "adjust_stock",
    "cancel_line",
    "cancel_order",
    "cancel_shipment",
    "close_order",
    "complete",
    "create_location",
    "create_order",
    "deliver",
    "level_of",
    "pick",
    "receive_stock",
    "run_due",
    "ship",
]
