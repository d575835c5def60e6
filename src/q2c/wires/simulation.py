"""The demo company (issue 17): lived day by day through the business clock (docs/simulation.md).

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.platform.registry import demo_steps
    from q2c.simulation.demo import simulate

    demo_steps.add("10-company", simulate)
