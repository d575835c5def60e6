"""The plain data the revenue engine reads and writes.

A contract is described by a :class:`ContractSpec`: its currency, inception date, the components of
its transaction price (fixed consideration, discounts, variable consideration with estimates and a
constraint, a financing component), its performance obligations (each with a stand-alone selling
price basis and a recognition pattern), evidence for allocating a discount to some obligations
only, and its modifications. :func:`q2c.revenue.engine.compute` turns it into a
:class:`RevenueResult`: the allocation, the decisions taken on each modification, and the monthly
schedule.

Amounts are :class:`~q2c.core.money.Money` in the contract's currency; probabilities, percentages
and rates are exact ``Decimal``. Dates are business dates; service periods are half-open.
The classes check what can be checked on their own (a period that ends before it starts, progress
above 100 %); rules that need the whole contract are checked by the engine.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from q2c.core.money import Money
from q2c.revenue.engine.errors import RevenueInputError

Rounding = Literal["half_up", "half_even"]
Treatment = Literal["separate_contract", "terminate_and_create", "cumulative_catch_up"]
TREATMENTS: tuple[str, ...] = ("separate_contract", "terminate_and_create", "cumulative_catch_up")

_HUNDRED = Decimal(100)


# --- stand-alone selling prices --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SSP:
    """How an obligation's stand-alone selling price is determined (ASC 606-10-32-31..35, IFRS 15.76-80).

    Build with :meth:`fixed`, :meth:`of_list`, :meth:`from_range` or :meth:`residual`.
    """

    basis: Literal["amount", "percent_of_list", "range", "residual"]
    amount: Money | None = None
    list_price: Money | None = None
    percent: Decimal | None = None
    low: Money | None = None
    high: Money | None = None
    observed: Money | None = None

    @classmethod
    def fixed(cls, amount: Money) -> SSP:
        return cls("amount", amount=amount)

    @classmethod
    def of_list(cls, list_price: Money, percent: Decimal) -> SSP:
        if percent <= 0:
            raise RevenueInputError(
                "the percentage of list price must be above zero",
                code="revenue.ssp_zero",
                field="percent_of_list",
            )
        return cls("percent_of_list", list_price=list_price, percent=percent)

    @classmethod
    def from_range(cls, low: Money, high: Money, observed: Money) -> SSP:
        if high < low:
            raise RevenueInputError(
                f"the SSP range ends ({high}) below where it starts ({low})",
                code="revenue.ssp_range_reversed",
                field="high",
            )
        return cls("range", low=low, high=high, observed=observed)

    @classmethod
    def residual(cls, low: Money | None = None, high: Money | None = None) -> SSP:
        """The residual approach; ``low``/``high`` are the observed selling prices that the
        residual must fall within (ASC 606-10-55-269: outside them the approach is not faithful)."""
        if (low is None) != (high is None):
            raise RevenueInputError(
                "give both ends of the observed range for a residual SSP, or neither",
                code="revenue.ssp_range_incomplete",
                field="low" if low is None else "high",
            )
        if low is not None and high is not None and high < low:
            raise RevenueInputError(
                f"the observed range ends ({high}) below where it starts ({low})",
                code="revenue.ssp_range_reversed",
                field="high",
            )
        return cls("residual", low=low, high=high)

    def value(self) -> Decimal | None:
        """The SSP as an exact amount, or ``None`` for the residual approach."""
        if self.basis == "amount":
            assert self.amount is not None
            return self.amount.amount
        if self.basis == "percent_of_list":
            assert self.list_price is not None and self.percent is not None
            return self.list_price.amount * self.percent / _HUNDRED
        if self.basis == "range":
            assert self.low is not None and self.high is not None and self.observed is not None
            return min(max(self.observed.amount, self.low.amount), self.high.amount)
        return None

    def explain(self) -> str:
        if self.basis == "amount":
            return "stated SSP"
        if self.basis == "percent_of_list":
            return f"{self.percent} % of list price {self.list_price}"
        if self.basis == "range":
            assert self.low is not None and self.high is not None and self.observed is not None
            if self.observed < self.low:
                where = f"below the range: the lower bound {self.low} is used"
            elif self.observed > self.high:
                where = f"above the range: the upper bound {self.high} is used"
            else:
                where = "inside the range: the observed price is used"
            return f"SSP range [{self.low}, {self.high}], observed price {self.observed} {where}"
        return "residual approach (ASC 606-10-32-34(c), IFRS 15.79(c))"


# --- recognition patterns --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Delivery:
    """``delivered`` units in all (cumulative, not this delivery's) had passed to the customer by the
    end of day ``on``."""

    on: date
    delivered: Decimal


@dataclass(frozen=True, slots=True)
class PointInTime:
    """Recognised when control passes (delivery, acceptance, completion); ``None`` = not yet.

    Goods delivered in parts: each unit passes on its own delivery, so with ``units`` (the
    obligation's quantity) and ``deliveries`` (cumulative units by date) the obligation is
    recognised unit by unit — recognised to date = round(allocated × delivered ÷ units), cumulative,
    the last unit taking what rounding left (ASC 606-10-25-30, IFRS 15.38). ``delivered_on`` is the
    day everything had passed; it recognises the whole from that day whatever the deliveries say."""

    delivered_on: date | None = None
    deliveries: tuple[Delivery, ...] = ()
    units: Decimal | None = None
    kind: str = "point_in_time"

    def __post_init__(self) -> None:
        if not self.deliveries:
            return
        if self.units is None or self.units <= 0:
            raise RevenueInputError(
                "deliveries need the obligation's units (its quantity, above zero)",
                code="revenue.deliveries_without_units",
                field="units",
            )
        before: Delivery | None = None
        for d in self.deliveries:
            if d.delivered <= 0 or d.delivered > self.units:
                raise RevenueInputError(
                    f"{d.delivered} units delivered by {d.on} is not between 0 and the {self.units} units sold",
                    code="revenue.delivered_out_of_range",
                    field="deliveries",
                )
            if before is not None and (d.on <= before.on or d.delivered < before.delivered):
                raise RevenueInputError(
                    f"deliveries must be in date order with cumulative units ({d.on}: {d.delivered} "
                    f"after {before.on}: {before.delivered})",
                    code="revenue.deliveries_order",
                    field="deliveries",
                )
            before = d


@dataclass(frozen=True, slots=True)
class Ratable:
    """Recognised evenly over the half-open service period ``[start, end)`` by the cumulative day
    method: recognised to date = round(allocated × days elapsed ÷ days in the period)."""

    start: date
    end: date
    kind: str = "ratable"

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise RevenueInputError(
                f"the service period ends ({self.end}) on or before it starts ({self.start})",
                code="revenue.period_reversed",
                field="end",
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """Measured progress as at the end of day ``on`` (usually a month end): 0 ≤ done ≤ 1."""

    on: date
    done: Fraction

    def __post_init__(self) -> None:
        if self.done > 1:
            raise RevenueInputError(
                f"progress {float(self.done) * 100:.4g} % is above 100 %",
                code="revenue.progress_above_100",
                field="progress",
            )
        if self.done < 0:
            raise RevenueInputError(
                "progress cannot be negative", code="revenue.progress_negative", field="progress"
            )


@dataclass(frozen=True, slots=True)
class MeasuredProgress:
    """Recognised by a measure of progress (hours or costs incurred against an estimate, units
    delivered …) entered per period; the latest point at or before a date applies."""

    points: tuple[ProgressPoint, ...] = ()
    kind: str = "progress"

    def __post_init__(self) -> None:
        for before, after in zip(self.points, self.points[1:], strict=False):
            if after.on <= before.on:
                raise RevenueInputError(
                    f"progress entries must be in date order, one per period ({after.on} after {before.on})",
                    code="revenue.progress_order",
                    field="progress",
                )

    @classmethod
    def from_percentages(cls, points: list[tuple[date, Decimal]]) -> MeasuredProgress:
        return cls(tuple(ProgressPoint(on, Fraction(pct) / 100) for on, pct in points))

    @classmethod
    def from_inputs(cls, points: list[tuple[date, Decimal, Decimal]]) -> MeasuredProgress:
        """``(date, incurred in the period, estimated total)``: progress = incurred to date ÷ estimate."""
        done = Decimal(0)
        out: list[ProgressPoint] = []
        for on, incurred, estimate in points:
            if estimate <= 0:
                raise RevenueInputError(
                    "the estimated total must be above zero",
                    code="revenue.progress_estimate",
                    field="progress",
                )
            done += incurred
            out.append(ProgressPoint(on, Fraction(done) / Fraction(estimate)))
        return cls(tuple(out))


@dataclass(frozen=True, slots=True)
class Milestone:
    id: str
    percent: Decimal
    achieved_on: date | None = None


@dataclass(frozen=True, slots=True)
class Milestones:
    """Recognised by milestones reached (an output method); their percentages add up to 100."""

    milestones: tuple[Milestone, ...]
    kind: str = "milestones"

    def __post_init__(self) -> None:
        if not self.milestones:
            raise RevenueInputError(
                "give at least one milestone", code="revenue.milestones_empty", field="milestones"
            )
        if any(m.percent <= 0 for m in self.milestones):
            raise RevenueInputError(
                "each milestone's percentage must be above zero",
                code="revenue.milestone_share",
                field="milestones",
            )
        total = sum((m.percent for m in self.milestones), Decimal(0))
        if total != _HUNDRED:
            raise RevenueInputError(
                f"milestone percentages add up to {total} %, not 100 %",
                code="revenue.milestones_not_100" if total < _HUNDRED else "revenue.progress_above_100",
                field="milestones",
            )


@dataclass(frozen=True, slots=True)
class UsageAmount:
    """Usage-based consideration earned, recognised at the end of day ``on`` (a month end)."""

    on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class Usage:
    """Usage (or sales-based royalties) recognised as used: variable consideration allocated wholly
    to this obligation (ASC 606-10-32-40, IFRS 15.85)."""

    amounts: tuple[UsageAmount, ...] = ()
    kind: str = "usage"


Pattern = PointInTime | Ratable | MeasuredProgress | Milestones | Usage


@dataclass(frozen=True, slots=True)
class Obligation:
    """A performance obligation. ``series``: the part not yet transferred is distinct from the part
    transferred (a series of distinct days or months); default True for ratable, False otherwise.
    ``source`` names where it came from, for error messages."""

    id: str
    pattern: Pattern
    ssp: SSP | None = None
    series: bool | None = None
    description: str = ""
    category: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise RevenueInputError("an obligation needs an id", code="revenue.obligation_id", field="id")

    @property
    def distinct_remaining(self) -> bool:
        if self.series is not None:
            return self.series
        return isinstance(self.pattern, Ratable)


# --- transaction price ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Scenario:
    amount: Money
    probability: Decimal


@dataclass(frozen=True, slots=True)
class Constraint:
    """Limits variable consideration to the amount highly probable not to reverse.

    ``threshold``: with scenarios, the included amount is at most the largest scenario amount that
    is reached or exceeded with at least this probability. ``cap``: the amount judged highly
    probable, stated directly (``0`` = fully constrained).
    """

    threshold: Decimal | None = None
    cap: Money | None = None

    def __post_init__(self) -> None:
        if self.threshold is None and self.cap is None:
            raise RevenueInputError(
                "a constraint needs a probability threshold or a capped amount",
                code="revenue.constraint_empty",
                field="constraint",
            )
        if self.threshold is not None and not (0 < self.threshold <= 1):
            raise RevenueInputError(
                "the constraint's threshold is a probability above 0 and at most 1",
                code="revenue.probability",
                field="constraint.threshold",
            )


@dataclass(frozen=True, slots=True)
class Estimate:
    """One estimate of a variable amount: by expected value (probability-weighted scenarios) or
    the most likely amount (stated, or the scenario with the highest probability)."""

    method: Literal["expected_value", "most_likely"]
    scenarios: tuple[Scenario, ...] = ()
    amount: Money | None = None
    constraint: Constraint | None = None
    as_of: date | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.method == "expected_value" and not self.scenarios:
            raise RevenueInputError(
                "the expected value needs scenarios with probabilities",
                code="revenue.scenarios_missing",
                field="scenarios",
            )
        if self.method == "most_likely" and self.amount is None and not self.scenarios:
            raise RevenueInputError(
                "the most likely amount needs an amount or scenarios",
                code="revenue.amount_missing",
                field="amount",
            )
        if self.scenarios:
            for s in self.scenarios:
                if not (0 <= s.probability <= 1):
                    raise RevenueInputError(
                        f"probability {s.probability} is not between 0 and 1",
                        code="revenue.probability",
                        field="scenarios",
                    )
            total = sum((s.probability for s in self.scenarios), Decimal(0))
            if total != 1:
                raise RevenueInputError(
                    f"scenario probabilities add up to {total}, not 1",
                    code="revenue.probabilities_not_1",
                    field="scenarios",
                )
        if self.constraint is not None and self.constraint.threshold is not None and not self.scenarios:
            raise RevenueInputError(
                "a probability threshold needs scenarios to apply to",
                code="revenue.constraint_needs_scenarios",
                field="constraint.threshold",
            )


@dataclass(frozen=True, slots=True)
class VariableConsideration:
    """A variable amount (bonus, penalty, rebate, price concession …). ``estimates[0]`` applies from
    inception; later ones (``as_of`` set) re-estimate it, the change recognised as a cumulative
    catch-up. ``allocate_to``: the obligations it relates to specifically (ASC 606-10-32-40);
    empty = the whole contract."""

    id: str
    estimates: tuple[Estimate, ...]
    allocate_to: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if not self.estimates:
            raise RevenueInputError(
                "variable consideration needs an estimate", code="revenue.estimate_missing"
            )


@dataclass(frozen=True, slots=True)
class Payment:
    on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class Financing:
    """When payments and the transfer of control are far apart (ASC 606-10-32-15..20, IFRS 15.60-65).

    Each payment is carried to ``transfer_on`` at ``rate`` a year (compounded annually or
    monthly): advance payments accrete interest (expense), deferred payments are discounted
    (interest income). Not applied when every payment is within a year of the transfer (the
    practical expedient) or when ``not_significant`` states why (ASC 606-10-32-17).
    """

    rate: Decimal
    transfer_on: date
    payments: tuple[Payment, ...]
    compounding: Literal["annual", "monthly"] = "annual"
    not_significant: str = ""

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise RevenueInputError("the discount rate cannot be negative", code="revenue.rate", field="rate")
        if not self.payments:
            raise RevenueInputError(
                "a financing component needs the payment schedule",
                code="revenue.payments_missing",
                field="payments",
            )


@dataclass(frozen=True, slots=True)
class DiscountAllocation:
    """Observable evidence that a discount belongs to some obligations only (ASC 606-10-32-37,
    IFRS 15.82). ``amount`` ``None`` = the whole discount of the contract."""

    obligations: tuple[str, ...]
    amount: Money | None = None
    source: str = ""


# --- modifications --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ObligationChange:
    """A change to an existing obligation made by a modification: a new end of its service period,
    the SSP of its remaining part at the modification date, whether that remaining part is distinct."""

    obligation: str
    end: date | None = None
    ssp: Money | None = None
    remaining_distinct: bool | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Modification:
    """A change in scope or price approved on ``on`` (effective from the start of that day).

    ``price_change``: the change in consideration. ``treatment``: ``"automatic"`` lets the rules of
    ASC 606-10-25-12/13 (IFRS 15.20-21) decide; naming a treatment forces it, with a ``note``.
    ``new_contract``: the id of the contract a separate-contract modification creates.
    ``applies_to``: the contract modified (default: the original contract).
    """

    on: date
    price_change: Money
    add: tuple[Obligation, ...] = ()
    remove: tuple[str, ...] = ()
    change: tuple[ObligationChange, ...] = ()
    treatment: Literal["automatic", "separate_contract", "terminate_and_create", "cumulative_catch_up"] = (
        "automatic"
    )
    note: str = ""
    new_contract: str | None = None
    applies_to: str | None = None
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.treatment != "automatic" and not self.note.strip():
            raise RevenueInputError(
                "a forced treatment needs a note saying why", code="revenue.override_note", field="note"
            )


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """Everything the engine needs to allocate and schedule one contract."""

    currency: str
    start: date
    obligations: tuple[Obligation, ...]
    id: str = "contract"
    fixed: Money | None = None
    discounts: tuple[Money, ...] = ()
    variable: tuple[VariableConsideration, ...] = ()
    financing: Financing | None = None
    discount_allocation: tuple[DiscountAllocation, ...] = ()
    modifications: tuple[Modification, ...] = ()
    rounding: Rounding = "half_up"


# --- results -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """Revenue recognised in one month, dated its last day. Amounts are kept in integer minor
    units (cheap to build by the hundred thousand); ``amount`` and ``cumulative`` give ``Money``."""

    recognised_on: date
    amount_minor: int
    cumulative_minor: int
    currency: str

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def cumulative(self) -> Money:
        return Money.from_minor(self.cumulative_minor, self.currency)

    @property
    def month(self) -> str:
        return self.recognised_on.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class AllocationStep:
    """The amount allocated to an obligation from ``effective`` on, and why it changed."""

    effective: date
    allocated: Money
    reason: str


@dataclass(frozen=True, slots=True)
class ObligationResult:
    id: str
    contract: str
    pattern: str
    ssp: Money | None
    ssp_basis: str
    allocated: Money
    recognised: Money
    remaining: Money
    history: tuple[AllocationStep, ...]
    lines: tuple[ScheduleLine, ...]
    description: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class AllocationRow:
    obligation: str
    ssp: Money | None
    ssp_basis: str
    allocated: Money


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    fixed: Money
    discounts: Money
    variable: Money
    financing: Money
    total: Money
    usage: Money


@dataclass(frozen=True, slots=True)
class ContractResult:
    id: str
    origin: str
    start: date
    price: PriceBreakdown
    allocation: tuple[AllocationRow, ...]


@dataclass(frozen=True, slots=True)
class EstimateResult:
    as_of: date
    method: str
    estimate: Money
    cap: Money | None
    included: Money
    reason: str


@dataclass(frozen=True, slots=True)
class VariableResult:
    id: str
    allocate_to: tuple[str, ...]
    estimates: tuple[EstimateResult, ...]


@dataclass(frozen=True, slots=True)
class InterestLine:
    recognised_on: date
    kind: Literal["expense", "income"]
    amount: Money
    cumulative: Money


@dataclass(frozen=True, slots=True)
class FinancingResult:
    applied: bool
    reason: str
    rate: Decimal
    compounding: str
    transfer_on: date
    promised: Money
    adjustment: Money
    interest: tuple[InterestLine, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """How one modification was accounted for, and why."""

    index: int
    on: date
    applies_to: str
    treatment: str
    decided_by: Literal["rules", "override"]
    reason: str
    note: str
    new_contract: str | None
    consideration: Money
    allocation: tuple[AllocationRow, ...]


@dataclass(frozen=True, slots=True)
class MonthTotal:
    """All revenue of the contract (and any separate contracts) recognised in one month."""

    recognised_on: date
    amount_minor: int
    cumulative_minor: int
    currency: str

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def cumulative(self) -> Money:
        return Money.from_minor(self.cumulative_minor, self.currency)

    @property
    def month(self) -> str:
        return self.recognised_on.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class RevenueResult:
    currency: str
    contracts: tuple[ContractResult, ...]
    obligations: tuple[ObligationResult, ...]
    variable: tuple[VariableResult, ...]
    financing: FinancingResult | None
    decisions: tuple[Decision, ...]
    months: tuple[MonthTotal, ...]
    notes: tuple[str, ...] = field(default=())

    def obligation(self, obligation_id: str) -> ObligationResult:
        for ob in self.obligations:
            if ob.id == obligation_id:
                return ob
        raise KeyError(obligation_id)

    def contract(self, contract_id: str) -> ContractResult:
        for c in self.contracts:
            if c.id == contract_id:
                return c
        raise KeyError(contract_id)
