"""Rounding to a currency's minor unit, for the pricing hot path.

``Money.round()`` is the project's one rounding rule: the currency's ISO 4217 exponent, half-up by
default or half-even on request. A 10,000-line quote rounds some 100,000 times, and building a
``Money`` for each costs more than the pricing itself, so the engine rounds bare Decimals with a
:class:`MinorUnits` bound once to the quote's currency and mode. Its quantum comes from
``q2c.core.money.currency_exponent`` and its modes are the same Decimal constants, so the result is
the same as ``Money(x, currency).round(mode).amount`` — a Hypothesis property in the tests checks
exactly that.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.catalog.pricing``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from q2c.catalog.pricing.types import Rounding
from q2c.core.money import currency_exponent

_MODES = {Rounding.HALF_UP: ROUND_HALF_UP, Rounding.HALF_EVEN: ROUND_HALF_EVEN}
PERCENT_QUANTUM = Decimal("0.01")
UNIT_PRICE_QUANTUM = Decimal("0.000001")


class MinorUnits:
    """Round Decimals to one currency's minor unit: ``MinorUnits("EUR")(Decimal("1.005"))`` → 1.01."""

    __slots__ = ("currency", "mode", "quantum")

    def __init__(self, currency: str, rounding: Rounding = Rounding.HALF_UP) -> None:
        self.currency = currency
        self.quantum = Decimal(1).scaleb(-currency_exponent(currency))
        self.mode = _MODES[Rounding(rounding)]

    def __call__(self, value: Decimal) -> Decimal:
        return value.quantize(self.quantum, rounding=self.mode)


def percent(value: Decimal) -> Decimal:
    """A percentage for display and totals: two decimals, half-up (10.00 %)."""
    return value.quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)


def unit_price(value: Decimal, minor: Decimal) -> Decimal:
    """A derived unit price (net ÷ quantity) for display: at most six decimals (half-up), at least
    the currency's minor unit (``minor``, e.g. 0.01): 25.50, 0.002. Never used to compute an amount."""
    q = value.quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP).normalize()
    short = q.quantize(minor)
    return short if short == q else q
