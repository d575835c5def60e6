"""KPIs and dashboards (issue 18): the Analytics pages in the navigation, the KPI benchmark.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.platform import ui

    ui.add_nav("Analytics", "/analytics/", roles={"sales_manager", "finance", "viewer"})
    ui.add_nav("My deals", "/analytics/sales/mine/", roles={"sales_rep"})

    from q2c.analytics import bench as kpi_bench
    from q2c.platform.registry import Bench, benches

    benches.add(
        "kpis",
        Bench("kpis", "the KPI report and the dashboards' monthly trends over a generated year (no database)",
              kpi_bench.add_arguments, kpi_bench.run),
    )  # fmt: skip

    # forecasts and pricing intelligence (issue 19): the win-chance panel of the quote builder,
    # the weekly (Mondays) training of the win-probability model as a daily job
    from q2c.analytics.forecasting import jobs as forecast_jobs
    from q2c.analytics.forecasting import panels as forecast_panels
    from q2c.platform.registry import Job, jobs

    ui.add_panel("quotes.builder", forecast_panels.builder_panel)
    ui.add_panel("analytics.dashboard", forecast_panels.dashboard_panel)  # forecasts beside the dashboards
    ui.add_nav("Forecasts", "/analytics/forecasts/", roles={"sales_manager", "finance", "viewer"})
    jobs.add("analytics.forecast_training", Job("analytics.forecast_training", forecast_jobs.daily))
