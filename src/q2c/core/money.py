"""Money: an exact amount in one currency.

``Money`` holds a ``Decimal`` and an ISO 4217 currency. Floats are refused (``TypeError``) on
construction and in arithmetic; mixing currencies raises ``CurrencyMismatch``. Nothing rounds
implicitly: only :meth:`Money.round` rounds, to the currency's ISO 4217 exponent, half-up unless
told otherwise. :func:`allocate` splits an amount by weights with the largest-remainder method so
the parts always sum to the whole.

Currency exponents come from py-moneyed's ISO 4217 table (read once, at import). Display
formatting lives elsewhere (Babel); this module only computes.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

from q2c.core.errors import ValidationError

Rounding = Literal["half_up", "half_even"]
_ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}

#: Amounts above this (15 integer digits) are refused: they fit a BIGINT in minor units with room
#: for sums, and no real document carries them.
MAX_INTEGER_DIGITS = 15
_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS


class CurrencyMismatch(ValidationError):
    default_code = "money.currency_mismatch"


class InvalidCurrency(ValidationError):
    default_code = "money.invalid_currency"


class InvalidAmount(ValidationError):
    default_code = "money.invalid_amount"


@lru_cache(maxsize=1)
def _iso_exponents() -> dict[str, int]:
    # py-moneyed knows ISO 4217 minor units as ``sub_unit`` (100 for EUR, 1 for JPY, 1000 for KWD).
    import moneyed  # py-moneyed; wrapped, never exposed (it accepts floats).

    table: dict[str, int] = {}
    for code, cur in moneyed.CURRENCIES.items():
        if len(code) != 3 or not code.isalpha() or code == "XXX":
            continue
        sub_unit = getattr(cur, "sub_unit", None) or 1
        exponent = len(str(int(sub_unit))) - 1
        table[code] = exponent
    return table


def currency_exponent(currency: str) -> int:
    """The number of minor-unit digits of an ISO 4217 currency (EUR 2, JPY 0, KWD 3)."""
    try:
        return _iso_exponents()[currency]
    except (KeyError, TypeError):
        raise InvalidCurrency(f"'{currency}' is not an ISO 4217 currency code", field="currency") from None


def check_currency(currency: Any) -> str:
    """Return ``currency`` if it is a known ISO 4217 code (upper case), else raise."""
    if not isinstance(currency, str) or currency not in _iso_exponents():
        raise InvalidCurrency(f"'{currency}' is not an ISO 4217 currency code", field="currency")
    return currency


def to_decimal(value: Any, *, field: str = "amount") -> Decimal:
    """Convert an int, str or Decimal to a finite Decimal; floats raise ``TypeError``."""
    if isinstance(value, bool):
        raise TypeError("booleans are not amounts")
    if isinstance(value, float):
        raise TypeError("floats are not accepted for money or quantities; use Decimal or str")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidAmount(f"'{value}' is not a number", field=field) from None
    else:
        raise TypeError(f"cannot use {type(value).__name__} as an amount")
    if not result.is_finite():
        raise InvalidAmount(f"'{value}' is not a finite number", field=field)
    return result


def _quantum(exponent: int) -> Decimal:
    return Decimal(1).scaleb(-exponent)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency. Immutable; compare, add and sum like numbers."""

    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        value = to_decimal(amount)
        if abs(value) >= _LIMIT:
            raise InvalidAmount(
                f"amount {value} has more than {MAX_INTEGER_DIGITS} integer digits", field="amount"
            )
        object.__setattr__(self, "amount", value)
        object.__setattr__(self, "currency", check_currency(currency))

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Build from integer minor units (cents): ``from_minor(1999, "EUR")`` is 19.99 EUR."""
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise TypeError("minor units must be an int")
        return cls(Decimal(minor).scaleb(-currency_exponent(currency)), currency)

    @classmethod
    def exact(cls, amount: Decimal | int | str, currency: str, *, field: str = "amount") -> Money:
        """Build where exactness matters: refuse more decimals than the currency allows."""
        money = cls(amount, currency)
        if money.amount != money.amount.quantize(_quantum(money.exponent), rounding=ROUND_HALF_UP):
            raise InvalidAmount(
                f"{amount} has more decimals than {currency} allows ({money.exponent})",
                code="money.too_many_decimals",
                field=field,
            )
        return money

    # --- properties ---------------------------------------------------------------------------
    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def minor_units(self) -> int:
        """The amount in integer minor units. Refuses amounts that are not yet rounded."""
        scaled = self.amount.scaleb(self.exponent)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(
                f"{self} is not rounded to {self.currency} minor units; round() it first",
                code="money.not_rounded",
            )
        return int(scaled)

    def is_rounded(self) -> bool:
        return self.amount == self.amount.quantize(_quantum(self.exponent))

    # --- rounding -----------------------------------------------------------------------------
    def round(self, rounding: Rounding = "half_up") -> Money:
        """Round to the currency's minor unit (ISO 4217 exponent); half-up by default."""
        quantized = self.amount.quantize(_quantum(self.exponent), rounding=_ROUNDING_MODES[rounding])
        return Money(quantized, self.currency)

    def __round__(self, ndigits: int | None = None) -> Money:
        if ndigits is not None:
            raise TypeError("Money rounds to its currency's minor unit; use .round()")
        return self.round()

    # --- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: object) -> Money:
        if isinstance(other, Money):
            self._same(other)
            return Money(self.amount + other.amount, self.currency)
        if isinstance(other, float):
            raise TypeError("cannot add a float to Money")
        return NotImplemented

    def __radd__(self, other: object) -> Money:
        # sum() starts from int 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return self.__add__(other)

    def __sub__(self, other: object) -> Money:
        if isinstance(other, Money):
            self._same(other)
            return Money(self.amount - other.amount, self.currency)
        if isinstance(other, float):
            raise TypeError("cannot subtract a float from Money")
        return NotImplemented

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply Money by Money")
        if isinstance(factor, Decimal | int | str) and not isinstance(factor, bool):
            return Money(self.amount * to_decimal(factor, field="factor"), self.currency)
        if isinstance(factor, float):
            raise TypeError("cannot multiply Money by a float")
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, divisor: object) -> Money:
        if isinstance(divisor, Decimal | int) and not isinstance(divisor, bool):
            if divisor == 0:
                raise ZeroDivisionError("division of Money by zero")
            return Money(self.amount / to_decimal(divisor), self.currency)
        if isinstance(divisor, float):
            raise TypeError("cannot divide Money by a float")
        return NotImplemented

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __bool__(self) -> bool:
        return bool(self.amount)

    # --- comparison ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.currency == other.currency and self.amount == other.amount
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def _cmp(self, other: object) -> Decimal:
        if not isinstance(other, Money):
            raise TypeError(f"cannot compare Money with {type(other).__name__}")
        self._same(other)
        return self.amount - other.amount

    def __lt__(self, other: object) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: object) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: object) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: object) -> bool:
        return self._cmp(other) >= 0

    # --- text ---------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"


def money_sum(items: Iterable[Money], currency: str) -> Money:
    """Sum that also works for an empty iterable (the currency names the zero)."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def allocate_minor(total: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split integer ``total`` by ``weights`` with the largest-remainder (Hamilton) method.

    Each part first gets ``floor(total × w / Σw)``; the units left over go one each to the parts
    with the largest remainders, ties to the earlier part. Parts always sum to ``total``; a
    negative total is split as its absolute value and negated.
    """
    if not weights:
        raise InvalidAmount("allocate needs at least one weight", field="weights")
    # Fractions keep every product exact, whatever the weights' digits (Decimal would round at
    # its context precision).
    ws = [Fraction(to_decimal(w, field="weights")) for w in weights]
    if any(w < 0 for w in ws):
        raise InvalidAmount("weights must not be negative", field="weights")
    weight_sum = sum(ws, Fraction(0))
    if weight_sum == 0:
        raise InvalidAmount("weights must not all be zero", field="weights")
    sign = -1 if total < 0 else 1
    units = abs(total)
    floors: list[int] = []
    remainders: list[Fraction] = []
    for w in ws:
        share = units * w / weight_sum
        whole = share.numerator // share.denominator
        floors.append(whole)
        remainders.append(share - whole)
    left = units - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * part for part in floors]


def allocate(total: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split a rounded amount by weights; the parts are rounded and sum exactly to ``total``."""
    parts = allocate_minor(total.minor_units(), weights)
    return [Money.from_minor(p, total.currency) for p in parts]
