"""``q2c bench orders-receipt`` gives a checked result and leaves the database as it was."""

from __future__ import annotations

import pytest

from q2c.orders import bench
from q2c.orders.models import Order, StockMove

pytestmark = pytest.mark.django_db


def test_the_receipt_benchmark_checks_itself_and_rolls_back(products):
    small = bench.run(orders=30)
    large = bench.run(orders=120)
    assert small["checked"] == large["checked"] == "ok"
    assert small["orders"] == 30
    # The statements do not grow with the lines released (batches of ~70 rows on SQLite aside).
    assert large["statements"] - small["statements"] <= 10
    assert not Order.objects.exists() and not StockMove.objects.exists()
