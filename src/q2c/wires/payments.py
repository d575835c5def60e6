"""Payments (issue 13): checks, jobs, navigation and pages of the payments app.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    # Payments (issue 13): the receivables check (reopened receivables, customer credits).
    from q2c.payments import checks as payments_checks
    from q2c.platform.registry import checks

    for check in payments_checks.CHECKS:
        checks.add(check.name, check)
