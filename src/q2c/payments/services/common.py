"""Shared helpers of the payments use cases: actors, business dates, row locks, rates, settings.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.invoicing import fx
from q2c.invoicing.services import common as invoicing_common
from q2c.parties.models import LegalEntity
from q2c.payments import errors
from q2c.payments.models import Payment, PaymentSettings


def actor_name(actor: Any) -> str:
    return invoicing_common.actor_name(actor)


def today(entity_id: int) -> date:
    tz = LegalEntity.objects.filter(pk=entity_id).values_list("time_zone", flat=True).first()
    return clock.today(tz or None)


def locked(query: QuerySet[Any], pk: Any, what: str) -> Any:
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise errors.PaymentNotFound(f"no {what} {pk}", field=f"{what}_id")
    if connection.features.has_select_for_update:
        query = query.select_for_update(of=("self",))
    found = query.filter(pk=pk).first()
    if found is None:
        raise errors.PaymentNotFound(f"no {what} {pk}", field=f"{what}_id")
    return found


def lock_payment(pk: Any) -> Payment:
    return locked(Payment.objects.all(), pk, "payment")  # type: ignore[no-any-return]


def settings_for(entity_id: int) -> PaymentSettings:
    found = PaymentSettings.objects.filter(entity_id=entity_id).first()
    if found is not None:
        return found
    currency = LegalEntity.objects.filter(pk=entity_id).values_list("base_currency", flat=True).first() or "EUR"
    return PaymentSettings(entity_id=entity_id, currency=currency)


def rate(from_currency: str, to_currency: str, day: date) -> Decimal:
    """1 ``from_currency`` = rate ``to_currency`` on ``day`` (the invoicing app's rates table)."""
    if from_currency == to_currency:
        return Decimal(1)
    return fx.rates_for([(from_currency, to_currency)], day)[(from_currency, to_currency)][0]


def money(value: Any, currency: str, field: str, *, positive: bool = True, allow_zero: bool = False) -> Money:
    """A request amount as exact ``Money`` in ``currency``: refuses floats, wrong currencies,
    more decimals than the currency has, and (``positive``) zero or negative amounts."""
    if isinstance(value, Money):
        if value.currency != currency:
            raise errors.InvalidPayment(f"{field} must be in {currency}, not {value.currency}", field=field)
        value = value.amount
    if isinstance(value, float):
        raise errors.InvalidPayment(f"{field} must be an exact decimal, not a float", field=field)
    try:
        out = Money.exact(value, currency, field=field)
    except DomainError:
        raise
    except Exception as exc:
        raise errors.InvalidPayment(f"{field}: {exc}", field=field) from None
    if positive and (out.amount < 0 or (out.amount == 0 and not allow_zero)):
        raise errors.InvalidPayment(f"{field} must be more than zero", field=field)
    return out
