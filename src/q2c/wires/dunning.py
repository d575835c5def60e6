"""Dunning and collections (issue 15): the daily dunning job, reactions to failed and received
payments (retries by failure reason), and the collections pages.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.payments import events as payment_events
    from q2c.payments.dunning import handlers as dunning_handlers
    from q2c.payments.dunning import services as dunning_services
    from q2c.platform import ui
    from q2c.platform.events import bus
    from q2c.platform.registry import Job, jobs

    jobs.add("payments.dunning", Job("payments.dunning", dunning_services.run_day))
    bus.subscribe(payment_events.PAYMENT_FAILED, dunning_handlers.on_payment_failed)
    bus.subscribe(payment_events.PAYMENT_RECEIVED, dunning_handlers.on_payment_received)
    bus.subscribe(payment_events.PAYMENT_SETTLED, dunning_handlers.on_payment_received)
    ui.add_nav("Collections", "/dunning/", roles={"finance", "viewer"})
