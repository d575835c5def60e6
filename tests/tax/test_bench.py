"""The tax-engine benchmark runs through the engine and checks itself against its independent
recomputation (a small run here; timings live in docs/benchmarks.md, never in tests)."""

from __future__ import annotations

from q2c.tax.bench import bench_tax_engine, run


def test_the_benchmark_checks_every_document_against_an_independent_recomputation():
    result = bench_tax_engine(documents=200, lines=5)
    assert result["checked"] is True
    assert (result["documents"], result["lines"]) == (200, 1000)


def test_the_registered_runner_reads_its_options():
    assert run(documents=10, lines=2)["lines"] == 20
