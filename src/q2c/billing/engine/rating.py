"""Rating glue: from an aggregated quantity to usage line amounts.

Owns what happens around a price model when usage is billed: included allowances (units that
cost nothing before the price applies), overage (the units beyond the allowance, priced by the
model), minimum commitments (a true-up line lifting the period's usage charges to the minimum)
and adjustments for late usage (the rated difference between what is due now and what was
billed). The price model itself — graduated, volume, package — belongs to the catalog
(``q2c.catalog.pricing``); here it is any callable ``quantity → Money`` (:class:`PriceModel`), so
this module needs no catalog import and the catalog needs nothing from billing.

Rounding point: each rated amount is rounded once, to the currency's minor unit (half-up by
default), after the price model — never per tier or per event.

Plain Python over plain dataclasses: must not import Django, the ORM, or any q2c package other
than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from q2c.core.errors import ValidationError
from q2c.core.money import Money, Rounding, to_decimal

__all__ = ["PriceModel", "RatedUsage", "RatingError", "commitment_true_up", "rate", "rate_adjustment"]


class RatingError(ValidationError):
    default_code = "billing.rating_invalid"


class PriceModel(Protocol):
    """The amount of ``quantity`` units under a price model (graduated, volume, package, …).

    Returns the (unrounded) ``Money``, or ``(Money, breakdown)`` where ``breakdown`` is the tier
    detail the invoice line shows (passed through untouched). The catalog's pricing engine
    provides the models; adapt one with a small function, e.g.
    ``def api(q): r = pricing.rate(model, q); return Money(r.amount, "EUR"), r.breakdown``.
    """

    def __call__(self, quantity: Decimal, /) -> Money | tuple[Money, tuple[Any, ...]]: ...


@dataclass(frozen=True, slots=True)
class RatedUsage:
    """A rated usage figure: ``amount = round(price(billable))``, ``billable = quantity − included``."""

    quantity: Decimal
    included: Decimal
    billable: Decimal
    amount: Money
    breakdown: tuple[Any, ...] = ()


def _quantity(value: Decimal | int | str, field: str) -> Decimal:
    quantity = to_decimal(value, field=field)
    if quantity < 0:
        raise RatingError(f"{field} must not be negative", field=field)
    return quantity


def rate(
    quantity: Decimal | int | str,
    price: PriceModel,
    *,
    included: Decimal | int | str = 0,
    rounding: Rounding = "half_up",
) -> RatedUsage:
    """Rate ``quantity`` after deducting up to ``included`` units of allowance.

    The allowance is used first; the model prices the remaining units from zero (its first tier
    applies to the first unit beyond the allowance). Prorate the allowance of a partial period
    before passing it (``included × days ÷ period days``) if the contract says so.
    """
    q = _quantity(quantity, "quantity")
    allowance = _quantity(included, "included")
    used = min(q, allowance)
    billable = q - used
    priced = price(billable)
    breakdown: tuple[Any, ...] = ()
    amount: object = priced
    if isinstance(priced, tuple):
        amount, breakdown = priced[0], tuple(priced[1])
    if not isinstance(amount, Money):
        raise RatingError("the price model must return Money", field="price")
    return RatedUsage(
        quantity=q, included=used, billable=billable, amount=amount.round(rounding), breakdown=breakdown
    )


def rate_adjustment(
    billed_quantity: Decimal | int | str,
    quantity: Decimal | int | str,
    price: PriceModel,
    *,
    included: Decimal | int | str = 0,
    rounding: Rounding = "half_up",
) -> Money:
    """The amount to bill for late usage: ``rate(quantity) − rate(billed_quantity)``.

    ``billed_quantity`` is the period's aggregate as invoiced, ``quantity`` the aggregate with the
    late events. Right for every price model and aggregation (a late event may cross a tier, or
    not raise a maximum); negative when the period was over-billed.
    """
    now = rate(quantity, price, included=included, rounding=rounding).amount
    before = rate(billed_quantity, price, included=included, rounding=rounding).amount
    return now - before


def commitment_true_up(charges: Iterable[Money], minimum: Money) -> Money:
    """The true-up that lifts ``charges`` (a period's usage amounts) to ``minimum``; zero if met.

    Prorate the minimum of a partial period before passing it, as for any recurring amount.
    """
    if minimum.amount < 0:
        raise RatingError("a minimum commitment must not be negative", field="minimum")
    total = Money.zero(minimum.currency)
    for charge in charges:
        total = total + charge
    if total >= minimum:
        return Money.zero(minimum.currency)
    return minimum - total
