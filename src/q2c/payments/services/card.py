"""Card payments through the gateway port: pay invoices by card (with the 3-D Secure step),
refund to the card, and the gateway's signed webhooks (settlement, disputes) — idempotent by
event id, and convergent: each event carries the charge's whole state, an event older than the
last one applied is stale and changes nothing, so duplicates and out-of-order deliveries are
harmless.

The built-in gateway is :class:`q2c.payments.gateways.SandboxGateway`; :func:`sandbox_deliver`
plays its side of a webhook (sign and deliver) and :func:`sandbox_settle_due` is its daily
settlement run.

Must not import any q2c app above payments.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction

from q2c.core import clock
from q2c.core.money import Money
from q2c.invoicing.services import common as invoicing_common
from q2c.parties.models import Account
from q2c.payments import errors, gateways
from q2c.payments.domain import DisputeStatus, Method, PaymentStatus
from q2c.payments.models import Dispute, GatewayCharge, Payment, WebhookDelivery
from q2c.payments.services import adjust, common, receive
from q2c.payments.services.receive import Allocation, open_amounts


def gateway_for(entity_id: int) -> gateways.SandboxGateway:
    s = common.settings_for(entity_id)
    return gateways.SandboxGateway(Decimal(s.card_fee_percent), s.card_fee_fixed)


def webhook_secret() -> str:
    """The shared webhook secret (``Q2C_GATEWAY_WEBHOOK_SECRET``; default derived from the secret key)."""
    explicit = getattr(django_settings, "Q2C_GATEWAY_WEBHOOK_SECRET", "")
    if explicit:
        return str(explicit)
    return hmac.new(str(django_settings.SECRET_KEY).encode(), b"payments.sandbox.webhooks", hashlib.sha256).hexdigest()


def _gateway_error(exc: gateways.GatewayError) -> errors.InvalidPayment:
    return errors.InvalidPayment(exc.message, code=exc.code, field=exc.field)


def pay_by_card(account_id: int, invoice_ids: list[int], card_number: str, *, actor: Any = None) -> GatewayCharge:
    """Charge a card for what is open on ``invoice_ids`` (one customer, one currency).

    Captured at once: the payment is recorded and applied (Dr payment clearing until the
    settlement webhook). 3-D Secure: the charge waits (``requires_action``) for
    :func:`confirm_card`. Declined: the payment is recorded as failed with the gateway's code.
    Errors (nothing charged): ``payments.already_paid`` (409: nothing open on an invoice),
    ``payments.invalid_card`` (422), ``payments.invalid_application`` (422: other customer's,
    mixed currencies, no invoice).
    """
    who = common.actor_name(actor)
    if not invoice_ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in invoice_ids):
        raise errors.InvalidPayment("name the invoices to pay", code=errors.INVALID_APPLICATION, field="invoice_ids")
    if len(set(invoice_ids)) != len(invoice_ids):
        raise errors.InvalidPayment("an invoice appears twice", code=errors.INVALID_APPLICATION, field="invoice_ids")
    try:
        number = gateways.clean_card(card_number)
    except gateways.GatewayError as exc:
        raise _gateway_error(exc) from None
    account = Account.objects.filter(pk=account_id).first() if isinstance(account_id, int) else None
    if account is None:
        raise errors.InvalidPayment(f"no customer account {account_id}", field="account_id")
    with transaction.atomic():
        total = 0
        currency = ""
        for iid in sorted(invoice_ids):
            inv = invoicing_common.lock_invoice(iid)
            if inv.account_id != account.pk:
                raise errors.InvalidPayment(f"invoice {inv.number or iid} is another customer's",
                                            code=errors.INVALID_APPLICATION, field="invoice_ids")  # fmt: skip
            open_inv, reopened = open_amounts(inv)
            if open_inv + reopened <= 0:
                raise errors.PaymentConflict(f"invoice {inv.number or iid} is already paid", code=errors.ALREADY_PAID, field="invoice_ids")
            if currency and inv.currency != currency:
                raise errors.InvalidPayment("invoices in different currencies are paid separately",
                                            code=errors.INVALID_APPLICATION, field="invoice_ids")  # fmt: skip
            currency = inv.currency
            total += open_inv + reopened
        amount = Money.from_minor(total, currency)
        gw = gateway_for(account.entity_id)
        auth = gw.authorise(amount, number, f"account {account.pk}")
        payment = receive.record_payment(account.pk, amount, method=Method.CARD, external_id=auth.external_id,
                                         pending=True, reference=",".join(map(str, invoice_ids)), actor=who)  # fmt: skip
        charge = GatewayCharge.objects.create(
            entity_id=account.entity_id, account_id=account.pk, gateway=gw.name, external_id=auth.external_id,
            status=auth.status, currency=currency, amount=amount, invoice_ids=sorted(invoice_ids), card_last4=auth.last4,
            payment=payment, created_at=clock.now(), created_by=who,
        )  # type: ignore[misc]  # fmt: skip
        _after_authorisation(charge, auth, who)
    return charge


def _after_authorisation(charge: GatewayCharge, auth: gateways.Authorisation, who: str) -> None:
    charge.status = auth.status
    charge.failure_code = auth.failure_code
    if auth.status == "captured":
        today = common.today(charge.entity_id)
        receive.receive_pending(charge.payment_id, on=today,  # type: ignore[arg-type]
                                allocations=[Allocation(i, None) for i in charge.invoice_ids], actor=who)  # fmt: skip
        charge.settle_on = today + timedelta(days=common.settings_for(charge.entity_id).card_settlement_days)
    elif auth.status == "failed":
        receive.fail_payment(charge.payment_id, code=auth.failure_code, reason=auth.failure_message, actor=who)  # type: ignore[arg-type]
    charge.save(update_fields=["status", "failure_code", "settle_on"])


def confirm_card(charge_id: int, *, passed: bool, actor: Any = None) -> GatewayCharge:
    """The cardholder completed (``passed``) or abandoned the 3-D Secure challenge. If an invoice
    was paid meanwhile, the charge fails rather than over-applying. Errors:
    ``payments.invalid_card`` (409: the charge is not waiting for 3-D Secure)."""
    who = common.actor_name(actor)
    with transaction.atomic():
        charge = common.locked(GatewayCharge.objects.all(), charge_id, "charge")
        if charge.status != "requires_action":
            raise errors.PaymentConflict(f"the charge is {charge.status}, not waiting for 3-D Secure",
                                         code=errors.INVALID_CARD, field="charge_id")  # fmt: skip
        still_open = 0
        for iid in sorted(charge.invoice_ids):
            open_inv, reopened = open_amounts(invoicing_common.lock_invoice(iid))
            still_open += open_inv + reopened
        if passed and still_open != int(charge.amount_minor):  # type: ignore[attr-defined]
            auth = gateways.Authorisation(charge.external_id, "failed", charge.card_last4, "invoice_changed",
                                          "The invoices changed while the card was being authenticated.")  # fmt: skip
        else:
            auth = gateway_for(charge.entity_id).confirm(charge.external_id, charge.card_last4, passed)
        _after_authorisation(charge, auth, who)
    return charge


def refund_card(payment_id: int, amount: Money | None = None, *, reason: str = "", actor: Any = None) -> Any:
    """Refund a card payment's unapplied amount to the card through the gateway."""
    payment = Payment.objects.filter(pk=payment_id, method=Method.CARD).first() if isinstance(payment_id, int) else None
    if payment is None:
        raise errors.PaymentNotFound(f"no card payment {payment_id}", field="payment_id")
    ref = gateway_for(payment.entity_id).refund(payment.external_id, amount or Money.from_minor(payment.unapplied_minor, payment.currency))
    return adjust.refund(payment_id, amount, method="original", reason=reason, external_id=ref, actor=actor)


# --------------------------------------------------------------------------- webhooks


def handle_webhook(gateway: str, body: bytes, signature: str) -> str:
    """Verify and apply one webhook: returns ``applied``, ``duplicate`` (this event id was seen),
    ``stale`` (older than the charge's last event) or ``ignored`` (an unknown charge).
    Errors: ``payments.invalid_signature`` (bad, missing or old signature), ``payments.invalid_webhook``."""
    try:
        data = gateways.verify(body, signature, webhook_secret(), int(clock.now().timestamp()))
    except gateways.GatewayError as exc:
        raise _gateway_error(exc) from None
    try:
        created = datetime.fromisoformat(data["created"])
    except ValueError:
        raise errors.InvalidPayment("the creation time is not ISO 8601", code=errors.INVALID_WEBHOOK, field="created") from None
    snapshot = data["data"]
    try:
        with transaction.atomic():
            if WebhookDelivery.objects.filter(gateway=gateway, event_id=data["id"]).exists():
                return "duplicate"
            charge = GatewayCharge.objects.select_for_update().filter(gateway=gateway, external_id=str(snapshot.get("charge", ""))).first()
            if charge is None:
                outcome = "ignored"
            elif charge.last_event_at is not None and created <= charge.last_event_at:
                outcome = "stale"
            else:
                _reconcile(charge, snapshot, created)
                outcome = "applied"
            WebhookDelivery.objects.create(gateway=gateway, event_id=data["id"][:80], event_type=data["type"][:60], created=created,
                                           payload=data, outcome=outcome, received_at=clock.now())  # fmt: skip
    except IntegrityError:
        return "duplicate"  # the same event delivered twice at once: the other delivery applied it
    return outcome


def _reconcile(charge: GatewayCharge, snap: dict[str, Any], created: datetime) -> None:
    who = f"gateway:{charge.gateway}"
    day = created.date()
    payment = Payment.objects.get(pk=charge.payment_id)  # type: ignore[misc]
    if snap.get("status") == "settled" and charge.status == "captured" and payment.status == PaymentStatus.RECEIVED:
        fee = common.money(str(snap.get("fee") or "0"), charge.currency, "fee", allow_zero=True)
        receive.settle_payment(payment.pk, on=day, fees=fee, actor=who)
        charge.status = "settled"
    dispute = snap.get("dispute")
    if isinstance(dispute, dict) and dispute.get("id"):
        ours = Dispute.objects.filter(payment_id=payment.pk, external_id=str(dispute["id"])[:80]).first()
        if ours is None and payment.status == PaymentStatus.RECEIVED:
            ours = adjust.open_dispute(payment.pk, reason=str(dispute.get("reason", ""))[:300], external_id=str(dispute["id"]), on=day, actor=who)
        if ours is not None and ours.status == DisputeStatus.OPEN and dispute.get("status") in ("won", "lost"):
            fee_text = dispute.get("fee")
            money = None if fee_text is None else common.money(str(fee_text), common.settings_for(charge.entity_id).currency, "fee", allow_zero=True)
            adjust.resolve_dispute(ours.pk, won=dispute["status"] == "won", fee=money, on=day, actor=who)
    charge.last_event_at = created
    charge.save(update_fields=["status", "last_event_at"])


# --------------------------------------------------------------------------- the sandbox's side


def sandbox_event(charge: GatewayCharge, kind: str, *, status: str | None = None, dispute: dict[str, Any] | None = None,
                  created: datetime | None = None) -> tuple[bytes, str]:  # fmt: skip
    """A signed webhook as the sandbox would send it: the charge's whole state at ``created``."""
    fee = gateway_for(charge.entity_id).fee(charge.amount)
    event = gateways.WebhookEvent(
        "evt_" + secrets.token_hex(12), kind, created or clock.now(),
        {"charge": charge.external_id, "status": status or charge.status, "amount": str(charge.amount.amount),
         "currency": charge.currency, "fee": str(fee.amount), "dispute": dispute},
    )  # fmt: skip
    body = gateways.event_body(event)
    return body, gateways.sign(body, webhook_secret(), int(clock.now().timestamp()))


def sandbox_settle_due(day: date | None = None) -> dict[str, int]:
    """The sandbox's daily settlement (a registered job): a ``charge.settled`` webhook for each
    captured charge due on or before ``day`` (default today)."""
    today = day or clock.today()
    done = 0
    for charge in GatewayCharge.objects.filter(gateway="sandbox", status="captured", settle_on__lte=today):
        body, sig = sandbox_event(charge, "charge.settled", status="settled")
        if handle_webhook("sandbox", body, sig) == "applied":
            done += 1
    return {"settled": done}
