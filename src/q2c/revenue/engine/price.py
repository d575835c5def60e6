"""Transaction price: variable consideration (estimate and constraint) and the financing component.

Variable consideration (ASC 606-10-32-5..14, IFRS 15.50-59) is estimated by the expected value
(sum of probability-weighted scenario amounts) or the most likely amount, then constrained to the
amount highly probable not to reverse, then rounded half-up (or half-even) to the minor unit —
the one rounding point of an estimate.

A significant financing component (ASC 606-10-32-15..20, IFRS 15.60-65) carries each payment to
the date control transfers at the stated annual rate: advance payments accrete interest
(``(1 + r)^years``), deferred payments are discounted (``(1 + r)^-years``); whole years (or
months) count exactly, the part-period by days. Interest is reported month by month by the same
cumulative method as revenue (cumulative interest rounded, differences per month).

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from q2c.core.periods import add_months
from q2c.revenue.engine.errors import RevenueInputError
from q2c.revenue.engine.types import Estimate, Financing, Rounding

_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def to_minor(amount: Decimal, exponent: int, rounding: Rounding) -> int:
    """Round an exact amount to integer minor units."""
    return int(amount.scaleb(exponent).quantize(Decimal(1), rounding=_MODES[rounding]))


def minor_to_decimal(minor: int, exponent: int) -> Decimal:
    return Decimal(minor).scaleb(-exponent)


@dataclass(frozen=True, slots=True)
class EstimateOutcome:
    estimate: Decimal
    cap: Decimal | None
    included: int  # minor units
    reason: str


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def estimate_variable(est: Estimate, exponent: int, rounding: Rounding) -> EstimateOutcome:
    """Estimate one variable amount and apply its constraint."""
    reasons: list[str] = []
    if est.method == "expected_value":
        value = sum((s.amount.amount * s.probability for s in est.scenarios), Decimal(0))
        reasons.append(f"expected value of {len(est.scenarios)} scenarios = {_fmt(value)}")
    elif est.amount is not None:
        value = est.amount.amount
        reasons.append(f"most likely amount {_fmt(value)}")
    else:
        best = max(s.probability for s in est.scenarios)
        top = [s for s in est.scenarios if s.probability == best]
        if len({s.amount.amount for s in top}) > 1:
            raise RevenueInputError(
                "two scenarios share the highest probability: state the most likely amount",
                code="revenue.most_likely_ambiguous",
                field=f"{est.source}.scenarios" if est.source else "scenarios",
            )
        value = top[0].amount.amount
        reasons.append(f"most likely amount {_fmt(value)} (probability {best})")
    cap: Decimal | None = None
    if est.constraint is not None:
        if est.constraint.threshold is not None:
            threshold = est.constraint.threshold
            reachable = None
            for amount in sorted({s.amount.amount for s in est.scenarios}, reverse=True):
                chance = sum((s.probability for s in est.scenarios if s.amount.amount >= amount), Decimal(0))
                if chance >= threshold:
                    reachable = amount
                    break
            if reachable is None:  # pragma: no cover - the lowest amount is always reached with probability 1
                reachable = min(s.amount.amount for s in est.scenarios)
            cap = reachable
            reasons.append(f"constraint: {_fmt(reachable)} is reached with probability ≥ {threshold}")
        if est.constraint.cap is not None:
            judged = est.constraint.cap.amount
            cap = judged if cap is None else min(cap, judged)
            reasons.append(f"constraint: {_fmt(judged)} judged highly probable not to reverse")
    included_exact = value if cap is None else min(value, cap)
    if cap is not None and cap < value:
        reasons.append(f"included {_fmt(included_exact)}")
    elif cap is not None:
        reasons.append("the estimate is within the constraint")
    return EstimateOutcome(value, cap, to_minor(included_exact, exponent, rounding), "; ".join(reasons))


# --- financing -----------------------------------------------------------------------------------
def periods_between(a: date, b: date, months_per_period: int) -> Fraction:
    """Signed number of periods (12 months = a year, or 1 month) from ``a`` to ``b``: whole periods
    stepped on the calendar from ``a``, the remainder as days over that period's days."""
    if b < a:
        return -periods_between(b, a, months_per_period)
    whole = ((b.year - a.year) * 12 + (b.month - a.month)) // months_per_period
    while whole > 0 and add_months(a, whole * months_per_period) > b:
        whole -= 1
    base = add_months(a, whole * months_per_period)
    nxt = add_months(a, (whole + 1) * months_per_period)
    return whole + Fraction((b - base).days, (nxt - base).days)


def _growth(rate: Decimal, periods: Fraction) -> Decimal:
    """``(1 + rate) ** periods`` at 40 significant digits (exact for whole periods)."""
    with localcontext() as ctx:
        ctx.prec = 40
        base = Decimal(1) + rate
        if periods.denominator == 1:
            return base ** int(periods)
        return base ** (Decimal(periods.numerator) / Decimal(periods.denominator))


@dataclass(frozen=True, slots=True)
class FinancingOutcome:
    applied: bool
    reason: str
    promised: int
    value: int  # the payments carried to the transfer date, minor units
    expense: list[tuple[int, int]]  # (ordinal of a day, cumulative interest through its end)
    income: list[tuple[int, int]]


def _far_apart(a: date, b: date) -> bool:
    """More than a year between two dates (a year counted on the calendar)."""
    first, last = min(a, b), max(a, b)
    return last > add_months(first, 12)


def financing_outcome(
    fin: Financing, exponent: int, rounding: Rounding, month_ends: list[int]
) -> FinancingOutcome:
    promised = sum(p.amount.minor_units() for p in fin.payments)
    if fin.not_significant.strip():
        return FinancingOutcome(
            False,
            f"not a significant financing component: {fin.not_significant.strip()} (ASC 606-10-32-17, IFRS 15.62)",
            promised,
            promised,
            [],
            [],
        )
    if not any(_far_apart(p.on, fin.transfer_on) for p in fin.payments):
        return FinancingOutcome(
            False,
            "every payment is within one year of the transfer: practical expedient, no adjustment "
            "(ASC 606-10-32-18, IFRS 15.63)",
            promised,
            promised,
            [],
            [],
        )
    step = 12 if fin.compounding == "annual" else 1
    rate = fin.rate if fin.compounding == "annual" else fin.rate / 12
    total = Decimal(0)
    for p in fin.payments:
        total += p.amount.amount * _growth(rate, periods_between(p.on, fin.transfer_on, step))
    value = to_minor(total, exponent, rounding)

    def interest_at(instant: date) -> tuple[Decimal, Decimal]:
        """Cumulative interest (expense on advances, income on deferred payments) at an instant."""
        expense = Decimal(0)
        income = Decimal(0)
        for p in fin.payments:
            amount = p.amount.amount
            if p.on <= fin.transfer_on:
                t = min(max(instant, p.on), fin.transfer_on)
                expense += amount * (_growth(rate, periods_between(p.on, t, step)) - 1)
            else:
                t = min(max(instant, fin.transfer_on), p.on)
                at_transfer = amount * _growth(rate, -periods_between(fin.transfer_on, p.on, step))
                now = amount * _growth(rate, -periods_between(t, p.on, step))
                income += now - at_transfer
        return expense, income

    expense_series: list[tuple[int, int]] = []
    income_series: list[tuple[int, int]] = []
    for me in month_ends:
        instant = date.fromordinal(me) + timedelta(days=1)
        e, i = interest_at(instant)
        expense_series.append((me, to_minor(e, exponent, rounding)))
        income_series.append((me, to_minor(i, exponent, rounding)))
    direction = []
    if any(p.on <= fin.transfer_on for p in fin.payments):
        direction.append("advance payments accrete interest")
    if any(p.on > fin.transfer_on for p in fin.payments):
        direction.append("deferred payments are discounted")
    return FinancingOutcome(
        True,
        f"payment and transfer are more than a year apart: {' and '.join(direction)} at {fin.rate} a year "
        f"({fin.compounding} compounding) to {fin.transfer_on} (ASC 606-10-32-15, IFRS 15.60)",
        promised,
        value,
        expense_series,
        income_series,
    )
