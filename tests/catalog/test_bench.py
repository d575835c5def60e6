"""``q2c bench pricing`` runs end to end on a small quote, checks itself and leaves nothing behind.
(It is a benchmark, not a timed test: no figure is asserted here; see docs/benchmarks.md.)"""

from __future__ import annotations

import json
import random

import pytest

from q2c.catalog import bench
from q2c.catalog.models import Product
from q2c.platform.registry import benches

pytestmark = pytest.mark.django_db


def test_the_pricing_bench_is_registered():
    assert benches.get("pricing").run is bench.run


def test_the_bench_prices_checks_and_rolls_back():
    result = bench.run(lines=80, iterations=2, seed=3)
    assert result["lines"] == 80
    assert result["checked"] == 3  # the warm-up and two timed runs, each checked
    assert {"p50_ms", "p95_ms", "peak_rss_mb", "setup_s", "cpu_p50_ms"} <= set(result)
    assert result["products"] >= 500
    assert not Product.objects.filter(sku__startswith="P0").exists()


def test_the_recomputation_catches_a_wrong_total():
    from django.db import transaction

    from q2c.catalog.services.preview import preview_json

    with transaction.atomic():
        cat = bench.build_catalog(random.Random(5))
        quote = bench.build_quote(random.Random(9), cat, 40)
        from django.contrib.auth import get_user_model

        answer = json.loads(
            preview_json(json.dumps(quote).encode(), get_user_model().objects.create_user("b"))
        )
        bench._check(answer, bench.recompute(quote, cat))  # the engine and the recomputation agree
        answer["lines"][0]["net"] = "0.01"
        with pytest.raises(AssertionError, match="recomputation"):
            bench._check(answer, bench.recompute(quote, cat))
        transaction.set_rollback(True)


def test_pricing_pauses_the_cycle_collector_and_restores_it_even_on_error():
    import gc

    from q2c.catalog.services.preview import gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
