"""Dunning's reactions to the payments app's events (registered in ``q2c/wires/dunning.py``).

- a card or direct-debit payment failed → its retries are planned by failure reason and the
  customer's segment (:func:`q2c.payments.dunning.services.plan_payment_retries`); a failed
  *retry* plans nothing new: the original plan's remaining attempts stand;
- a retry's money arrived → the original payment's remaining planned retries are cancelled.

They run inside the payments use case's transaction (``platform.events``).
"""

from __future__ import annotations

from q2c.core import clock
from q2c.payments.dunning import retries, services
from q2c.payments.dunning.models import PaymentRetry
from q2c.payments.models import Payment
from q2c.platform.events import DomainEvent

RETRY_PREFIX = "retry:"


def on_payment_failed(event: DomainEvent) -> None:
    p = event.payload
    method = retries.METHOD_OF.get(str(p.get("method", "")))
    if method is None:
        return
    payment = (
        Payment.objects.filter(pk=int(p["payment_id"]))
        .values("external_id", "account_id", "received_on")
        .first()
    )
    if payment is None or str(payment["external_id"]).startswith(RETRY_PREFIX):
        return
    services.plan_payment_retries(
        payment_id=int(p["payment_id"]),
        account_id=int(payment["account_id"]),
        method=method,
        reason=retries.reason_of(method, str(p.get("code", ""))),
        failed_on=clock.today(),
        actor=event.actor,
    )


def on_payment_received(event: DomainEvent) -> None:
    payment = Payment.objects.filter(pk=int(event.payload["payment_id"])).values("external_id").first()
    external = str(payment["external_id"]) if payment else ""
    if not external.startswith(RETRY_PREFIX):
        return
    original = external.split(":")[1]
    if original.isdigit():
        PaymentRetry.objects.filter(payment_id=int(original), status=PaymentRetry.Status.PLANNED).update(
            status=PaymentRetry.Status.CANCELLED, outcome="an earlier retry was paid", done_on=clock.today()
        )
