"""Dunning and collections (issue 15): the daily dunning job, reactions to failed and received
payments (retries by failure reason), and the collections pages.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst


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
    ui.add_panel("payments.portal", portal_reminders_panel)


def portal_reminders_panel(request: HttpRequest, context: dict[str, Any]) -> str:
    """The customer portal's "Reminders" section: the reminders sent for invoices still open.

    The portal page's context carries the statement ``st`` of the account the signed link opened,
    so only that account's reminders are shown; everything is escaped by ``format_html``.
    """
    from q2c.payments.dunning import queries as dunning_queries

    st = context.get("st")
    account = getattr(st, "account", None)
    if account is None:
        return ""
    entries = dunning_queries.portal_reminders(account.pk)
    if not entries:
        return ""
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td></tr>',
        (
            (e.business_date.isoformat(), e.invoice_number, capfirst(e.get_action_display()), e.open_amount)
            for e in entries
        ),
    )
    return format_html(
        '<h2>Reminders</h2><table id="reminders"><thead><tr><th scope="col">Date</th><th scope="col">Invoice</th>'
        '<th scope="col">Step</th><th scope="col" class="num">Open then</th></tr></thead><tbody>{}</tbody></table>',
        rows,
    )
