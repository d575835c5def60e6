"""Dunning and collections (issue 15): the daily dunning job and the collections pages.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    # Payments — dunning (issue 15): the daily dunning job (reminders, fees as invoices, suspension
    # events, lapsed promises to pay) and the collections pages.
    from q2c.payments.dunning import services as dunning_services
    from q2c.platform import ui
    from q2c.platform.registry import Job as DunningJob
    from q2c.platform.registry import jobs as dunning_jobs

    dunning_jobs.add("payments.dunning", DunningJob("payments.dunning", dunning_services.run_day))
    ui.add_nav("Collections", "/dunning/", roles={"finance", "viewer"})
