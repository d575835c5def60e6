"""The quote-preview benchmark runs, checks its own answers and leaves the database as it was."""

from __future__ import annotations

import pytest

from q2c.quotes import bench
from q2c.quotes.models import Quote

pytestmark = pytest.mark.django_db


def test_the_benchmark_checks_every_preview_and_rolls_back():
    result = bench.run(lines=6, iterations=2, seed=1)
    assert result["checked"].startswith("TCV equals")
    assert result["preview_p50_ms"] > 0 and result["save_p50_ms"] > 0
    assert not Quote.objects.exists()


def test_the_independent_recomputation_follows_the_scenario():
    # Northwind step 1 without usage: 50 SEAT at 15 % → 1,275.00 × 12; 1 ONB; 2 EDGE = 24,300.00.
    lines = [
        {"sku": "SEAT", "quantity": "50", "discount": {"percent": "15"}},
        {"sku": "ONB", "quantity": "1"},
        {"sku": "EDGE", "quantity": "2"},
    ]
    assert str(bench._expected_tcv(lines)) == "24300"


def test_the_benchmark_is_registered():
    from q2c.platform.registry import benches

    assert benches.get("quote-preview").run is bench.run
