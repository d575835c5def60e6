"""The pure core of payments: payment, refund, dispute, write-off and mandate states with their
moves, aging buckets and the arithmetic of applying a payment across currencies.

Amounts are integer minor units; ``Money`` is built at the edges.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType

from q2c.core.statemachine import transition


class Method(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    SEPA_DD = "sepa_dd"
    CASH = "cash"
    CHEQUE = "cheque"
    OTHER = "other"


class PaymentStatus(StrEnum):
    PENDING = "pending"  # authorised or submitted, money not yet in (card before capture, SEPA before settlement)
    RECEIVED = "received"  # money in, posted; its unapplied part is customer credit
    FAILED = "failed"  # never arrived (declined, rejected): nothing was posted
    REVERSED = "reversed"  # arrived, then taken back (chargeback lost, SEPA return): applications undone


#: pending → received | failed; received → reversed. Nothing leaves failed or reversed.
TRANSITIONS: Mapping[PaymentStatus, Set[PaymentStatus]] = MappingProxyType(
    {
        PaymentStatus.PENDING: frozenset({PaymentStatus.RECEIVED, PaymentStatus.FAILED}),
        PaymentStatus.RECEIVED: frozenset({PaymentStatus.REVERSED}),
        PaymentStatus.FAILED: frozenset(),
        PaymentStatus.REVERSED: frozenset(),
    }
)


def move(current: PaymentStatus | str, target: PaymentStatus) -> PaymentStatus:
    return transition(TRANSITIONS, PaymentStatus(current), target, what="payment")


class DisputeStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


DISPUTE_TRANSITIONS: Mapping[DisputeStatus, Set[DisputeStatus]] = MappingProxyType(
    {
        DisputeStatus.OPEN: frozenset({DisputeStatus.WON, DisputeStatus.LOST}),
        DisputeStatus.WON: frozenset(),
        DisputeStatus.LOST: frozenset(),
    }
)


def move_dispute(current: DisputeStatus | str, target: DisputeStatus) -> DisputeStatus:
    return transition(DISPUTE_TRANSITIONS, DisputeStatus(current), target, what="dispute")


class WriteOffStatus(StrEnum):
    PENDING = "pending"  # above the entity's limit: waits for a second person
    APPROVED = "approved"  # done (at or under the limit it is approved at once)
    REJECTED = "rejected"


WRITE_OFF_TRANSITIONS: Mapping[WriteOffStatus, Set[WriteOffStatus]] = MappingProxyType(
    {
        WriteOffStatus.PENDING: frozenset({WriteOffStatus.APPROVED, WriteOffStatus.REJECTED}),
        WriteOffStatus.APPROVED: frozenset(),
        WriteOffStatus.REJECTED: frozenset(),
    }
)


def move_write_off(current: WriteOffStatus | str, target: WriteOffStatus) -> WriteOffStatus:
    return transition(WRITE_OFF_TRANSITIONS, WriteOffStatus(current), target, what="write_off")


class RefundMethod(StrEnum):
    ORIGINAL = "original"  # back to the card / account the payment came from
    TRANSFER = "transfer"  # a bank transfer to the customer


class MandateStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


MANDATE_TRANSITIONS: Mapping[MandateStatus, Set[MandateStatus]] = MappingProxyType(
    {MandateStatus.ACTIVE: frozenset({MandateStatus.REVOKED}), MandateStatus.REVOKED: frozenset()}
)


def move_mandate(current: MandateStatus | str, target: MandateStatus) -> MandateStatus:
    return transition(MANDATE_TRANSITIONS, MandateStatus(current), target, what="mandate")


# --------------------------------------------------------------------------- arithmetic


def convert_minor(minor: int, rate: Decimal, from_exponent: int, to_exponent: int) -> int:
    """``minor`` units of one currency × ``rate`` as minor units of another, rounded half up once."""
    value = Decimal(minor).scaleb(-from_exponent) * rate
    return int(value.scaleb(to_exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Consumed:
    """What applying ``amount`` of a payment takes: its base value and the FX difference."""

    base: int  # the payment's base value consumed (at the payment-date rate)
    ar_base: int  # the receivable relieved (at the invoice's issue rate)

    @property
    def fx(self) -> int:
        """Positive: a gain (the cash was worth more than the receivable); negative: a loss."""
        return self.base - self.ar_base


def base_consumed(amount: int, remaining: int, remaining_base: int, rate: Decimal, exp: int, base_exp: int) -> int:
    """The base value of ``amount`` out of a payment's ``remaining`` unapplied part: the last
    piece takes exactly what is left (so a payment's pieces always sum to its base amount)."""
    if amount >= remaining:
        return remaining_base
    return convert_minor(amount, rate, exp, base_exp)


# --------------------------------------------------------------------------- aging

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def bucket(due: date | None, on: date) -> str:
    """The aging bucket of an item due on ``due`` as of ``on``: not yet due (or due today) is current."""
    if due is None:
        return "current"
    late = (on - due).days
    if late <= 0:
        return "current"
    if late <= 30:
        return "1-30"
    if late <= 60:
        return "31-60"
    if late <= 90:
        return "61-90"
    return "90+"
