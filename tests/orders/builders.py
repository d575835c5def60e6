"""Small builders shared by the orders tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core import clock
from q2c.orders.domain import LineKind, NewOrderLine


def line(sku: str, kind: str, quantity: str, **extra: Any) -> NewOrderLine:
    return NewOrderLine(sku=sku, kind=LineKind(kind), quantity=Decimal(quantity), **extra)


def at(day: date) -> clock.SimulationClock:
    """Install a business clock standing on ``day`` (advance it with ``.set``)."""
    sim = clock.SimulationClock(day)
    clock.install(sim)
    return sim
