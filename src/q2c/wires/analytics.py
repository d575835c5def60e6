"""KPIs and dashboards (issue 18).

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    return None
