"""Proration: the share of a period's price that a part of the period is worth.

Owns the arithmetic every billing line goes through — ``base × numerator ÷ denominator`` rounded
once to the currency's minor unit — the two ways of counting a partial period (whole days, the
default; or seconds, for parity with Stripe), the exact split of an amount over sub-periods
(largest remainder), and the lines an amendment in the middle of a billed period produces (a
credit for the unused old line plus a charge for the new one, Stripe style, or one delta line),
tagged with when they are to be invoiced.

Formulas (docs/billing.md):

* days mode: ``share = days in the partial period ÷ days in the billing period``; periods are
  half-open ``[start, end)``, so ``[2027-03-15, 2027-04-01)`` has 17 days of March's 31;
* seconds mode: ``share = seconds in the partial span ÷ seconds in the billing span`` over
  timezone-aware timestamps;
* ``amount = round(base × share)`` — computed exactly in integers and rounded once, half-up by
  default (half-even on request), to the currency's ISO 4217 minor unit.

Plain Python over plain dataclasses: must not import Django, the ORM, or any q2c package other
than ``q2c.core``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from q2c.core.errors import ValidationError
from q2c.core.money import Money, Rounding, allocate, currency_exponent, to_decimal
from q2c.core.periods import Period

__all__ = [
    "PART_AMEND_CHARGE",
    "PART_AMEND_CREDIT",
    "PART_AMEND_DELTA",
    "PART_PERIOD",
    "AmendmentProration",
    "AmendmentStyle",
    "InvoiceTiming",
    "ItemKey",
    "LineKind",
    "LineTerms",
    "ProrationLine",
    "ProrationMode",
    "ProrationSettings",
    "TimeSpan",
    "amend",
    "prorate",
    "prorate_seconds",
    "share_amount",
    "share_minor",
    "split",
]


class ProrationError(ValidationError):
    default_code = "billing.proration_invalid"


# --- keys ----------------------------------------------------------------------------------------

#: ``part`` of an item key: a regular period or one-time charge.
PART_PERIOD = 0
#: Amendment lines (Stripe style credit and charge; single delta).
PART_AMEND_CREDIT = 1
PART_AMEND_CHARGE = 2
PART_AMEND_DELTA = 3
#: Milestone ``k`` (1-based) of a milestone schedule has part ``PART_MILESTONE_BASE + k``.
PART_MILESTONE_BASE = 100


class ItemKey(NamedTuple):
    """Stable identity of a billable item: a bill run's unique constraint.

    ``(schedule_id, period_start, part)``: the same schedule and service start always give the same
    key, whatever day the run happens, so a second run inserts nothing new.
    """

    schedule_id: int
    period_start: date
    part: int = PART_PERIOD


# --- the one rounding point ----------------------------------------------------------------------


def share_minor(
    base: Decimal, numerator: int, denominator: int, exponent: int, rounding: Rounding = "half_up"
) -> int:
    """``round(base × numerator ÷ denominator)`` in integer minor units, computed exactly.

    Decimal division would round at the context precision first; here the value is a ratio of
    integers until the single rounding, so ``255 × 17 ÷ 31`` gives 13984 cents (139.8387… → 139.84)
    whatever the digits. Half-up rounds halves away from zero (as ``Decimal.ROUND_HALF_UP``).
    """
    if denominator <= 0:
        raise ProrationError("the billing period is empty", code="billing.empty_period", field="period")
    n, d = base.as_integer_ratio()
    num = n * numerator
    den = d * denominator
    if exponent >= 0:
        num *= 10**exponent
    else:  # pragma: no cover - ISO 4217 has no negative exponents
        den *= 10**-exponent
    negative = num < 0
    q, r = divmod(-num if negative else num, den)
    twice = 2 * r
    if twice > den or (twice == den and (rounding == "half_up" or q & 1)):
        q += 1
    return -q if negative else q


def share_amount(base: Money, numerator: int, denominator: int, *, rounding: Rounding = "half_up") -> Money:
    """``base × numerator ÷ denominator``, rounded once to the currency's minor unit."""
    exponent = currency_exponent(base.currency)
    return Money.from_minor(
        share_minor(base.amount, numerator, denominator, exponent, rounding), base.currency
    )


# --- days and seconds ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class TimeSpan:
    """A half-open span of time ``[start, end)`` between timezone-aware timestamps (seconds mode)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
                raise ProrationError(f"{name} must be a timezone-aware timestamp", field=name)
        if self.end < self.start:
            raise ProrationError(f"span ends ({self.end}) before it starts ({self.start})", field="end")

    @property
    def seconds(self) -> int:
        """Whole seconds in the span (Stripe prorates to the second; sub-second parts are dropped)."""
        return (self.end - self.start) // timedelta(seconds=1)


def prorate(base: Money, part: Period, full: Period, *, rounding: Rounding = "half_up") -> Money:
    """Days mode: ``round(base × part.days ÷ full.days)``; ``part`` must lie within ``full``."""
    if part.start < full.start or part.end > full.end:
        raise ProrationError(f"{part} is not within the billing period {full}", field="period")
    return share_amount(base, part.days, full.days, rounding=rounding)


def prorate_seconds(base: Money, part: TimeSpan, full: TimeSpan, *, rounding: Rounding = "half_up") -> Money:
    """Seconds mode (Stripe parity): ``round(base × part.seconds ÷ full.seconds)``."""
    if part.start < full.start or part.end > full.end:
        raise ProrationError("the partial span is not within the billing span", field="period")
    return share_amount(base, part.seconds, full.seconds, rounding=rounding)


def split(base: Money, full: Period, cuts: Sequence[date]) -> list[tuple[Period, Money]]:
    """Cut ``full`` at ``cuts`` and share ``base`` by days with the largest-remainder method.

    Unlike prorating each part on its own (each rounded, so the parts may miss the whole by up to
    half a minor unit per part), the parts returned here always sum exactly to ``base``: each gets
    the floor of its exact share and the minor units left over go to the largest remainders, ties
    to the earlier part (``q2c.core.money.allocate``). ``base`` must already be rounded.
    """
    points = sorted(set(cuts))
    for cut in points:
        if not full.start < cut < full.end:
            raise ProrationError(f"cut {cut} is not inside {full}", field="cuts")
    edges = [full.start, *points, full.end]
    periods = [Period(a, b) for a, b in itertools.pairwise(edges)]
    if full.days == 0:
        raise ProrationError("the billing period is empty", code="billing.empty_period", field="period")
    amounts = allocate(base, [p.days for p in periods])
    return list(zip(periods, amounts, strict=True))


# --- amendments ----------------------------------------------------------------------------------


class ProrationMode(StrEnum):
    DAYS = "days"
    SECONDS = "seconds"


class AmendmentStyle(StrEnum):
    #: A credit for the unused part of the old line and a charge for the new one (Stripe).
    CREDIT_AND_CHARGE = "credit_and_charge"
    #: One line for the difference.
    DELTA = "delta"


class InvoiceTiming(StrEnum):
    #: The proration lines make an invoice of their own on the amendment date.
    IMMEDIATELY = "immediately"
    #: They wait for the next regular invoice (the end of the current billing period).
    NEXT_INVOICE = "next_invoice"


class LineKind(StrEnum):
    CREDIT = "credit"
    CHARGE = "charge"
    DELTA = "delta"


@dataclass(frozen=True, slots=True)
class ProrationSettings:
    """Per-entity billing settings for amendments (defaults are Northwind's: one delta line, now)."""

    mode: ProrationMode = ProrationMode.DAYS
    style: AmendmentStyle = AmendmentStyle.DELTA
    timing: InvoiceTiming = InvoiceTiming.IMMEDIATELY
    rounding: Rounding = "half_up"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", ProrationMode(self.mode))
            object.__setattr__(self, "style", AmendmentStyle(self.style))
            object.__setattr__(self, "timing", InvoiceTiming(self.timing))
        except ValueError as exc:
            raise ProrationError(str(exc), code="billing.invalid_setting", field="settings") from None
        if self.rounding not in ("half_up", "half_even"):
            raise ProrationError(
                f"unknown rounding '{self.rounding}'", code="billing.invalid_setting", field="rounding"
            )


@dataclass(frozen=True, slots=True)
class LineTerms:
    """A recurring line's terms: ``quantity × unit_price`` is the price of one billing period."""

    quantity: Decimal
    unit_price: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", to_decimal(self.quantity, field="quantity"))
        object.__setattr__(self, "unit_price", to_decimal(self.unit_price, field="unit_price"))
        if self.quantity < 0:
            raise ProrationError("quantity must not be negative", field="quantity")

    @property
    def base(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class ProrationLine:
    """One proration line: ``amount = round(quantity × unit_price × numerator ÷ denominator)``."""

    key: ItemKey
    kind: LineKind
    service: Period | TimeSpan
    quantity: Decimal
    unit_price: Decimal
    numerator: int
    denominator: int
    amount: Money


@dataclass(frozen=True, slots=True)
class AmendmentProration:
    """The lines an amendment produces and when they are to be invoiced."""

    lines: tuple[ProrationLine, ...]
    timing: InvoiceTiming
    #: The bill date those lines belong to: the amendment date (immediately) or the end of the
    #: current billing period, which is the next regular bill date (next invoice).
    bill_date: date

    @property
    def total(self) -> Money | None:
        if not self.lines:
            return None
        return sum((line.amount for line in self.lines[1:]), self.lines[0].amount)


def _remaining(
    mode: ProrationMode,
    period: Period | TimeSpan,
    effective: date | datetime,
    basis: int | None,
) -> tuple[Period | TimeSpan, int, int, date]:
    """The unused part of the billed period from ``effective`` on, its size and the basis size."""
    if mode is ProrationMode.DAYS:
        if (
            not isinstance(period, Period)
            or isinstance(effective, datetime)
            or not isinstance(effective, date)
        ):
            raise ProrationError(
                "days mode takes a Period and an effective date",
                code="billing.mode_mismatch",
                field="effective",
            )
        if not period.start <= effective < period.end:
            raise ProrationError(f"{effective} is not within the billed period {period}", field="effective")
        rest = Period(effective, period.end)
        return rest, rest.days, basis if basis is not None else period.days, period.end
    if not isinstance(period, TimeSpan) or not isinstance(effective, datetime):
        raise ProrationError(
            "seconds mode takes a TimeSpan and an effective timestamp",
            code="billing.mode_mismatch",
            field="effective",
        )
    if effective.tzinfo is None or not period.start <= effective < period.end:
        raise ProrationError(f"{effective} is not within the billed span", field="effective")
    span = TimeSpan(effective, period.end)
    return span, span.seconds, basis if basis is not None else period.seconds, period.end.date()


def amend(
    *,
    schedule_id: int,
    currency: str,
    period: Period | TimeSpan,
    effective: date | datetime,
    old: LineTerms | None,
    new: LineTerms | None,
    settings: ProrationSettings = ProrationSettings(),
    basis: int | None = None,
) -> AmendmentProration:
    """Lines for changing a line billed in advance for ``period`` from ``old`` to ``new`` at ``effective``.

    ``period`` is the billed service period (a ``Period`` in days mode, a ``TimeSpan`` in seconds
    mode); the unused part is ``[effective, period.end)``. ``basis`` is the size of the billing
    period the period was priced against, in days or seconds (default: the period's own size; pass
    the scheduled item's ``share_of`` for a prorated first period). ``old=None`` adds a line,
    ``new=None`` removes one.

    * credit and charge: ``−round(old × unused ÷ basis)`` and ``+round(new × unused ÷ basis)``;
    * delta: ``round((new − old) × unused ÷ basis)``, one line (none when it is zero).

    Lines billed in arrears need no proration lines: end the old schedule at ``effective`` and
    start the new one there, and both bill their prorated part at the period end.
    """
    if old is None and new is None:
        raise ProrationError("an amendment needs an old or a new line", field="new")
    rest, size, full, period_end = _remaining(settings.mode, period, effective, basis)
    if full <= 0 or size > full:
        raise ProrationError("the basis is smaller than the unused part", field="basis")
    exponent = currency_exponent(currency)
    effective_day = effective.date() if isinstance(effective, datetime) else effective
    zero = Decimal(0)
    lines: list[ProrationLine] = []

    def line(part: int, kind: LineKind, quantity: Decimal, unit_price: Decimal, sign: int) -> ProrationLine:
        minor = share_minor(quantity * unit_price, size, full, exponent, settings.rounding)
        return ProrationLine(
            key=ItemKey(schedule_id, effective_day, part),
            kind=kind,
            service=rest,
            quantity=sign * quantity,
            unit_price=unit_price,
            numerator=size,
            denominator=full,
            amount=Money.from_minor(sign * minor, currency),
        )

    if settings.style is AmendmentStyle.CREDIT_AND_CHARGE:
        if old is not None and old.base != 0:
            lines.append(line(PART_AMEND_CREDIT, LineKind.CREDIT, old.quantity, old.unit_price, -1))
        if new is not None and new.base != 0:
            lines.append(line(PART_AMEND_CHARGE, LineKind.CHARGE, new.quantity, new.unit_price, 1))
    else:
        old_q, old_p = (old.quantity, old.unit_price) if old is not None else (zero, zero)
        new_q, new_p = (new.quantity, new.unit_price) if new is not None else (zero, zero)
        if old is None or new is None or old_p == new_p:
            # Same price (or a line added or removed): show the seat delta at the unit price, so
            # the invoice reads "10 SEAT × 25.50 × 17/31".
            price = new_p if new is not None else old_p
            quantity = new_q - old_q
        else:
            price, quantity = new_q * new_p - old_q * old_p, Decimal(1)
        if quantity * price != 0:
            sign = 1 if quantity >= 0 else -1
            lines.append(line(PART_AMEND_DELTA, LineKind.DELTA, abs(quantity), price, sign))
    bill_date = effective_day if settings.timing is InvoiceTiming.IMMEDIATELY else period_end
    return AmendmentProration(lines=tuple(lines), timing=settings.timing, bill_date=bill_date)
