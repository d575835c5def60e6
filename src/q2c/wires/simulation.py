"""The demo company (issue 17): wired here once the simulation lands.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    return None
