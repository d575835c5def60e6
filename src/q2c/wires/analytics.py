"""KPIs and dashboards (issue 18): the Analytics pages in the navigation.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.platform import ui

    ui.add_nav("Analytics", "/analytics/", roles={"sales_manager", "finance", "viewer"})
