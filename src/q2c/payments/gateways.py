"""The card-gateway port and the built-in sandbox gateway (pure: no Django, no network).

A gateway authorises and captures card payments, refunds them and reports what happens later
(settlement, disputes) through signed webhooks. :class:`SandboxGateway` behaves like a real one
with test card numbers (the same numbers Stripe documents for its test mode):

| card number | outcome |
|---|---|
| 4242 4242 4242 4242 | authorised and captured |
| 4000 0000 0000 0002 | declined (``card_declined``) |
| 4000 0000 0000 9995 | declined (``insufficient_funds``) |
| 4000 0000 0000 3220 | 3-D Secure required: the cardholder must complete the challenge |

Settlement comes ``settlement_days`` after capture as a ``charge.settled`` webhook carrying the
gateway's fee. Webhooks are signed like Stripe's: header ``Q2C-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" with the shared secret>``; a signature older than the tolerance is a
replay and refused.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from q2c.core.money import Money

SUCCESS = "4242424242424242"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
THREE_D_SECURE = "4000000000003220"

#: Webhook signatures older than this are replays (seconds).
TOLERANCE = 300


class GatewayError(Exception):
    def __init__(self, message: str, code: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


@dataclass(frozen=True, slots=True)
class Authorisation:
    external_id: str
    status: str  # captured, requires_action, failed
    last4: str
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    type: str
    created: datetime
    data: dict[str, Any] = field(default_factory=dict)


class CardGateway(Protocol):
    name: str

    def authorise(self, amount: Money, card_number: str, reference: str) -> Authorisation: ...
    def confirm(self, external_id: str, card_number: str, passed: bool) -> Authorisation: ...
    def refund(self, external_id: str, amount: Money) -> str: ...
    def fee(self, amount: Money) -> Money: ...


def luhn_ok(number: str) -> bool:
    """ISO/IEC 7812 check digit (the Luhn algorithm)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def clean_card(number: Any) -> str:
    """A card number without spaces or dashes, Luhn-checked; else GatewayError(invalid_card)."""
    text = str(number or "").replace(" ", "").replace("-", "")
    if not luhn_ok(text):
        raise GatewayError("that is not a valid card number", "payments.invalid_card", "card_number")
    return text


class SandboxGateway:
    """A gateway that answers like a real one for the test cards above (deterministic)."""

    name = "sandbox"

    def __init__(self, fee_percent: Decimal = Decimal("1.4"), fee_fixed: Money | None = None) -> None:
        self.fee_percent = fee_percent
        self.fee_fixed = fee_fixed

    def authorise(self, amount: Money, card_number: str, reference: str) -> Authorisation:
        number = clean_card(card_number)
        ext = "ch_" + secrets.token_hex(12)
        if number == DECLINED:
            return Authorisation(ext, "failed", number[-4:], "card_declined", "The card was declined.")
        if number == INSUFFICIENT_FUNDS:
            return Authorisation(ext, "failed", number[-4:], "insufficient_funds", "The card has insufficient funds.")
        if number == THREE_D_SECURE:
            return Authorisation(ext, "requires_action", number[-4:])
        return Authorisation(ext, "captured", number[-4:])

    def confirm(self, external_id: str, card_number: str, passed: bool) -> Authorisation:
        """The cardholder completed (``passed``) or failed the 3-D Secure challenge."""
        if passed:
            return Authorisation(external_id, "captured", card_number[-4:])
        return Authorisation(external_id, "failed", card_number[-4:], "authentication_failed",
                             "3-D Secure authentication failed.")  # fmt: skip

    def refund(self, external_id: str, amount: Money) -> str:
        return "re_" + secrets.token_hex(12)

    def fee(self, amount: Money) -> Money:
        """percent × amount, rounded half up once, plus the fixed part."""
        pct = (amount.amount * self.fee_percent / 100).quantize(Decimal(1).scaleb(-amount.exponent), rounding=ROUND_HALF_UP)
        fixed = self.fee_fixed.amount if self.fee_fixed is not None and self.fee_fixed.currency == amount.currency else Decimal(0)
        return Money(pct + fixed, amount.currency)


# --------------------------------------------------------------------------- webhooks


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(
        {"id": event.id, "type": event.type, "created": event.created.isoformat(), "data": event.data},
        sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip


def sign(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(body: bytes, header: str, secret: str, now: int, tolerance: int = TOLERANCE) -> dict[str, Any]:
    """The parsed event if ``header`` signs ``body`` recently enough; else GatewayError."""
    parts = dict(p.split("=", 1) for p in str(header or "").split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise GatewayError("the signature header is malformed", "payments.invalid_signature", "signature") from None
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise GatewayError("the webhook signature does not match", "payments.invalid_signature", "signature")
    if abs(now - timestamp) > tolerance:
        raise GatewayError("the webhook signature is too old (a replay?)", "payments.invalid_signature", "signature")
    try:
        data = json.loads(body)
    except ValueError:
        raise GatewayError("the webhook body is not JSON", "payments.invalid_webhook", "body") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise GatewayError("the webhook names no event id and type", "payments.invalid_webhook", "body")
    if not isinstance(data.get("data"), dict) or not isinstance(data.get("created"), str):
        raise GatewayError("the webhook has no data or creation time", "payments.invalid_webhook", "body")
    return data
