"""Cash application (issue 14): the workbench pages under /cash/.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.platform import ui

    ui.add_nav("Cash", "/cash/", roles={"finance", "viewer"})
