"""KPIs and dashboards (issue 18): the Analytics pages in the navigation, the KPI benchmark.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.platform import ui

    ui.add_nav("Analytics", "/analytics/", roles={"sales_manager", "finance", "viewer"})

    from q2c.analytics import bench as kpi_bench
    from q2c.platform.registry import Bench, benches

    benches.add(
        "kpis",
        Bench("kpis", "the KPI report and the dashboards' monthly trends over a generated year (no database)",
              kpi_bench.add_arguments, kpi_bench.run),
    )  # fmt: skip
