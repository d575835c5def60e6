"""Row locks of the orders app, all in one place, taken in one order so two use cases never wait
for each other in a circle: **stock levels first** (by id), **then orders** (by id). A use case
that changes a line locks the line's order; one that changes stock locks the level.

On PostgreSQL these are ``SELECT … FOR UPDATE``; SQLite has no row locks, but q2c opens its
transactions ``IMMEDIATE``, so writers run one at a time there anyway. Every stock change is also
a conditional update (``services.common``), so even without a lock the database refuses to
promise more than is on hand.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction

from q2c.core import clock
from q2c.orders.errors import OrderNotFound
from q2c.orders.models import Location, Order, StockLevel


def _for_update(queryset):  # type: ignore[no-untyped-def]
    if connection.features.has_select_for_update:
        return queryset.select_for_update(of=("self",))
    return queryset


def level(location: Location, product_id: int, sku: str) -> StockLevel:
    """The stock level of ``product_id`` at ``location``, locked; created (empty) if missing."""
    query = _for_update(StockLevel.objects.filter(location=location, product_id=product_id))
    row = query.first()
    if row is not None:
        return row
    try:
        # A concurrent creator wins the unique constraint; we then wait for and read its row.
        with transaction.atomic():
            StockLevel.objects.create(
                location=location, product_id=product_id, sku=sku, updated_at=clock.now()
            )
    except IntegrityError:
        pass
    return query.get()


def levels(location: Location, products: Iterable[tuple[int, str]]) -> dict[int, StockLevel]:
    """Stock levels of several products at one location, locked in product order."""
    wanted = dict(sorted(set(products)))
    return {pid: level(location, pid, sku) for pid, sku in wanted.items()}


def order(order_id: int) -> Order:
    """The order ``order_id``, locked."""
    row = (
        _for_update(Order.objects.select_related("entity", "account", "location")).filter(pk=order_id).first()
    )
    if row is None:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    return row


def orders(order_ids: Iterable[int]) -> dict[int, Order]:
    """Several orders locked in id order (a receipt that releases back-orders of many orders)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = _for_update(Order.objects.filter(pk__in=ids).order_by("id"))
    return {row.pk: row for row in rows}
