"""The engine benchmarks check themselves against an independent recomputation; run them small
here so a broken check is caught by the suite (timings live in docs/benchmarks.md, not here)."""

from q2c.billing.engine.bench import bench_billing_engine, bench_usage_engine


def test_the_billing_engine_bench_agrees_with_its_independent_total():
    result = bench_billing_engine(2_000)
    assert result["checked"] is True
    assert result["items"] == 2_000


def test_the_usage_engine_bench_agrees_with_its_independent_sums():
    result = bench_usage_engine(20_000, subscriptions=20)
    assert result["checked"] is True
    assert result["events"] == 20_000
