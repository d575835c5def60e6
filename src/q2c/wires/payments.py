"""Payments (issue 13): checks, jobs, navigation and pages of the payments app.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.payments import checks as payments_checks
    from q2c.payments import services as payments_services
    from q2c.platform import ui
    from q2c.platform.registry import Job, checks, jobs

    # The receivables check (reopened receivables, customer credits).
    for check in payments_checks.CHECKS:
        checks.add(check.name, check)
    # The sandbox gateway's daily settlement (signed webhooks) and customer credit applied daily.
    jobs.add("payments.sandbox_settlement", Job("payments.sandbox_settlement", payments_services.sandbox_settle_due))
    jobs.add("payments.apply_credits", Job("payments.apply_credits", payments_services.apply_all_credits))
    ui.add_nav("Payments", "/payments/", roles={"finance", "viewer"})
