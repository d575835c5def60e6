"""The orders app's domain errors, each with a stable code (``orders.<reason>``).

The API maps them by kind: ``ValidationError`` 422, ``NotFound`` 404, ``Conflict`` 409 (the request
clashes with what is in stock or with the order's state). Illegal state moves raise
``InvalidTransition`` (409) from ``q2c.core.statemachine`` with the codes
``order.invalid_transition``, ``order_line.invalid_transition``, ``shipment.invalid_transition``
and ``provisioning_task.invalid_transition``.

Pure: imports only ``q2c.core``.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError


class OrderNotFound(NotFound):
    default_code = "orders.not_found"


class LineNotFound(NotFound):
    default_code = "orders.line_not_found"


class ShipmentNotFound(NotFound):
    default_code = "orders.shipment_not_found"


class LocationNotFound(NotFound):
    default_code = "orders.location_not_found"


class ProductNotFound(NotFound):
    default_code = "orders.product_not_found"


class ExceedsOrdered(ValidationError):
    """More would be picked or shipped than the line still has to ship."""

    default_code = "orders.exceeds_ordered"


class InsufficientStock(Conflict):
    """More would be picked than is reserved for the line in the warehouse."""

    default_code = "orders.insufficient_stock"


class NegativeStock(Conflict):
    """An adjustment would take the quantity on hand below zero."""

    default_code = "orders.negative_stock"


class StockReserved(Conflict):
    """An adjustment would take the quantity on hand below what is promised to orders."""

    default_code = "orders.stock_reserved"


class WrongKind(ValidationError):
    """The action does not fit the line (shipping a subscription, completing a good …)."""

    default_code = "orders.wrong_kind"


class InvalidDate(ValidationError):
    default_code = "orders.invalid_date"


class NothingToCancel(Conflict):
    default_code = "orders.nothing_to_cancel"


class LinePicked(Conflict):
    """Units of the line sit in a picked shipment: cancel that shipment first."""

    default_code = "orders.line_picked"


class DuplicateLocation(Conflict):
    default_code = "orders.duplicate_location"
