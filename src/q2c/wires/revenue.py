"""Revenue recognition (issue 16): wired here once its handlers, run and pages land.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    return None
