"""Dunning and collections (issue 15): wired here once its job and pages land.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    return None
