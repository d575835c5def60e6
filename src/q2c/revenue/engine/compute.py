"""The revenue engine: one contract in, its allocation, modification decisions and schedule out.

How it works. Every obligation carries a list of *segments*; a segment applies from a date on and
says: recognised to date = ``offset`` + round(``allocated`` × progress), where progress is the
obligation's measure of progress (days elapsed ÷ days for ratable, 0 or 1 for a point in time,
the latest measured fraction, milestones reached). At inception each obligation gets one segment
with its allocated share. Later events add segments:

* a re-estimate of variable consideration (ASC 606-10-32-42..44, IFRS 15.87-89) and a
  modification that is part of the existing contract (ASC 606-10-25-13(b), IFRS 15.21(b)) change
  ``allocated`` but keep the measure of progress, so the next month end catches up cumulatively;
* a modification accounted for prospectively (ASC 606-10-25-13(a), IFRS 15.21(a)) freezes what was
  recognised before the modification date in ``offset`` and starts a new measure of progress over
  what remains, with the remaining consideration newly allocated;
* a separate contract (ASC 606-10-25-12, IFRS 15.20) leaves the existing obligations alone and
  creates obligations of a new contract.

The schedule is then read at each month end: a month's amount is the difference of two cumulative
figures, so the months always add up to what was allocated. Usage obligations are recognised as
the usage is earned (variable consideration allocated wholly to them, ASC 606-10-32-40).

All arithmetic runs on integer minor units and exact fractions; ``Money`` appears only at the
edges. Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency, currency_exponent
from q2c.revenue.engine.allocation import Group, Target, allocate_by_ssp
from q2c.revenue.engine.errors import RevenueInputError, at
from q2c.revenue.engine.price import (
    EstimateOutcome,
    FinancingOutcome,
    estimate_variable,
    financing_outcome,
    minor_to_decimal,
    to_minor,
)
from q2c.revenue.engine.ratable import month_end_ordinal, round_div
from q2c.revenue.engine.types import (
    SSP,
    AllocationRow,
    AllocationStep,
    ContractResult,
    ContractSpec,
    Decision,
    Estimate,
    EstimateResult,
    FinancingResult,
    InterestLine,
    MeasuredProgress,
    Milestones,
    Modification,
    MonthTotal,
    Obligation,
    ObligationChange,
    ObligationResult,
    PointInTime,
    PriceBreakdown,
    Ratable,
    RevenueResult,
    Rounding,
    ScheduleLine,
    Usage,
    VariableResult,
)

_ONE = Fraction(1)
_ZERO = Fraction(0)


# --- measures of progress (as at the end of a day given as an ordinal) ---------------------------
class _Point:
    __slots__ = ("on",)

    def __init__(self, on: int | None) -> None:
        self.on = on

    def at(self, t: int) -> tuple[int, int]:
        return (1, 1) if self.on is not None and self.on <= t else (0, 1)


class _Days:
    __slots__ = ("end", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end

    def at(self, t: int) -> tuple[int, int]:
        elapsed = t + 1 - self.start
        if elapsed <= 0:
            return (0, 1)
        total = self.end - self.start
        if elapsed >= total:
            return (1, 1)
        return (elapsed, total)


class _Steps:
    __slots__ = ("days", "values")

    def __init__(self, points: Sequence[tuple[int, Fraction]]) -> None:
        self.days = [p[0] for p in points]
        self.values = [p[1] for p in points]

    def at(self, t: int) -> tuple[int, int]:
        i = bisect_right(self.days, t)
        if i == 0:
            return (0, 1)
        v = self.values[i - 1]
        return (v.numerator, v.denominator)


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Fraction) -> None:
        self.value = value

    def at(self, t: int) -> tuple[int, int]:
        return (self.value.numerator, self.value.denominator)


class _Rebased:
    """Progress over what remained at a modification: (p - p0) ÷ (1 - p0)."""

    __slots__ = ("base", "p0")

    def __init__(self, base: _Progress, p0: Fraction) -> None:
        self.base = base
        self.p0 = p0

    def at(self, t: int) -> tuple[int, int]:
        n, d = self.base.at(t)
        r = (Fraction(n, d) - self.p0) / (1 - self.p0)
        return (r.numerator, r.denominator)


_Progress = _Point | _Days | _Steps | _Const | _Rebased


@dataclass(slots=True)
class _Seg:
    start: int
    offset: int
    allocated: int
    progress: _Progress


@dataclass(slots=True)
class _Ob:
    spec: Obligation
    contract: str
    loc: str
    ssp: Fraction | None  # minor units, exact
    ssp_basis: str
    segs: list[_Seg] = field(default_factory=list)
    history: list[tuple[int, int, str]] = field(default_factory=list)
    usage: list[tuple[int, int]] | None = None
    ratable_end: int | None = None
    ratable_start: int | None = None
    removed: bool = False
    inception_allocated: int = 0

    def seg_at(self, t: int) -> _Seg | None:
        found = None
        for s in self.segs:
            if s.start <= t:
                found = s
            else:
                break
        return found

    def cum(self, t: int, rounding: Rounding) -> int:
        if self.usage is not None:
            return sum(a for d, a in self.usage if d <= t)
        s = self.seg_at(t)
        if s is None:
            return 0
        n, d = s.progress.at(t)
        return s.offset + round_div(s.allocated * n, d, rounding)

    def progress(self, t: int) -> Fraction:
        s = self.seg_at(t)
        if s is None:
            return _ZERO
        n, d = s.progress.at(t)
        return Fraction(n, d)

    def total(self) -> int:
        if self.usage is not None:
            return sum(a for _, a in self.usage)
        s = self.segs[-1]
        return s.offset + s.allocated

    def set(self, start: int, offset: int, allocated: int, progress: _Progress, reason: str) -> None:
        seg = _Seg(start, offset, allocated, progress)
        if self.segs and self.segs[-1].start == start:
            self.segs[-1] = seg
        else:
            self.segs.append(seg)
        self.history.append((start, offset + allocated, reason))


@dataclass(slots=True)
class _Contract:
    id: str
    origin: str
    start: date
    price: PriceBreakdown | None = None
    allocation: list[AllocationRow] = field(default_factory=list)


class _Engine:
    """One run of the engine over one contract (not reused)."""

    def __init__(self, spec: ContractSpec) -> None:
        self.spec = spec
        self.currency = check_currency(spec.currency)
        self.exp = currency_exponent(self.currency)
        self.rounding: Rounding = spec.rounding
        self.obs: dict[str, _Ob] = {}
        self.contracts: dict[str, _Contract] = {}
        self.decisions: list[Decision] = []
        self.variable_results: list[VariableResult] = []

    # --- conversions ----------------------------------------------------------------------------
    def money(self, minor: int) -> Money:
        return Money.from_minor(minor, self.currency)

    def minor(self, m: Money, where: str) -> int:
        """A rounded amount of the contract's currency, in minor units."""
        if m.currency != self.currency:
            raise RevenueInputError(
                f"{m} is not in the contract's currency {self.currency}",
                code="revenue.currency_mismatch",
                field=where,
            )
        if not m.is_rounded():
            raise RevenueInputError(
                f"{m.amount} has more decimals than {self.currency} allows",
                code="revenue.too_many_decimals",
                field=where,
            )
        return int(m.amount.scaleb(self.exp))

    def exact(self, m: Money, where: str) -> Fraction:
        """Any amount of the contract's currency (SSPs may carry more decimals), in minor units."""
        if m.currency != self.currency:
            raise RevenueInputError(
                f"{m} is not in the contract's currency {self.currency}",
                code="revenue.currency_mismatch",
                field=where,
            )
        return Fraction(m.amount) * 10**self.exp

    def fraction_money(self, value: Fraction) -> Money:
        """A minor-unit fraction shown as money, rounded to the minor unit (for display only)."""
        return self.money(round_div(value.numerator, value.denominator, "half_up"))

    # --- obligations ----------------------------------------------------------------------------
    def new_ob(self, ob: Obligation, contract: str, fallback: str) -> _Ob:
        where = ob.source or fallback
        if ob.id in self.obs:
            raise RevenueInputError(
                f"obligation id {ob.id} is used twice",
                code="revenue.duplicate_obligation",
                field=at(where, "id"),
            )
        ssp_value: Fraction | None = None
        basis = "none"
        if ob.ssp is not None:
            for m in (ob.ssp.amount, ob.ssp.list_price, ob.ssp.low, ob.ssp.high, ob.ssp.observed):
                if m is not None:
                    self.exact(m, at(where, "ssp"))
            v = ob.ssp.value()
            ssp_value = None if v is None else Fraction(v) * 10**self.exp
            basis = ob.ssp.explain()
        state = _Ob(ob, contract, where, ssp_value, basis)
        p = ob.pattern
        if isinstance(p, Usage):
            usage: list[tuple[int, int]] = []
            for i, u in enumerate(p.amounts):
                usage.append((u.on.toordinal(), self.minor(u.amount, at(where, f"usage[{i}].amount"))))
            usage.sort()
            state.usage = usage
            state.ssp_basis = "usage-based variable consideration allocated wholly to it (ASC 606-10-32-40)"
        elif isinstance(p, Ratable):
            state.ratable_start = p.start.toordinal()
            state.ratable_end = p.end.toordinal()
        self.obs[ob.id] = state
        return state

    def progress_of(self, ob: Obligation) -> _Progress:
        p = ob.pattern
        if isinstance(p, PointInTime):
            if not p.deliveries:
                return _Point(p.delivered_on.toordinal() if p.delivered_on else None)
            assert p.units is not None  # PointInTime checks it
            units = Fraction(p.units)
            parts = [(d.on.toordinal(), Fraction(d.delivered) / units) for d in p.deliveries]
            if p.delivered_on is not None:
                whole = p.delivered_on.toordinal()
                parts = [(day, done) for day, done in parts if day < whole] + [(whole, _ONE)]
            return _Steps(parts)
        if isinstance(p, Ratable):
            return _Days(p.start.toordinal(), p.end.toordinal())
        if isinstance(p, MeasuredProgress):
            return _Steps([(pt.on.toordinal(), pt.done) for pt in p.points])
        if isinstance(p, Milestones):
            reached = sorted((m.achieved_on.toordinal(), m.percent) for m in p.milestones if m.achieved_on)
            steps: list[tuple[int, Fraction]] = []
            done = Decimal(0)
            for day, pct in reached:
                done += pct
                if steps and steps[-1][0] == day:
                    steps[-1] = (day, Fraction(done) / 100)
                else:
                    steps.append((day, Fraction(done) / 100))
            return _Steps(steps)
        raise TypeError(f"unknown pattern {type(p).__name__}")  # pragma: no cover

    def target(self, st: _Ob, weight: Fraction | None = None, *, need_ssp: bool = True) -> Target:
        ssp = st.spec.ssp
        if weight is not None:
            return Target(st.spec.id, weight, field=at(st.loc, "ssp"))
        if ssp is None:
            if need_ssp:
                raise RevenueInputError(
                    f"obligation {st.spec.id} has no stand-alone selling price; with more than one "
                    "obligation sharing consideration each needs one",
                    code="revenue.ssp_missing",
                    field=at(st.loc, "ssp"),
                )
            return Target(st.spec.id, _ONE, field=at(st.loc, "ssp"))
        if ssp.basis == "residual":
            low = self.exact(ssp.low, at(st.loc, "ssp.low")) if ssp.low is not None else None
            high = self.exact(ssp.high, at(st.loc, "ssp.high")) if ssp.high is not None else None
            return Target(st.spec.id, None, low, high, field=at(st.loc, "ssp"))
        return Target(st.spec.id, st.ssp, field=at(st.loc, "ssp"))

    def allocate(self, total: int, members: Sequence[_Ob], groups: Sequence[Group] = ()) -> list[int]:
        need = len(members) > 1
        return allocate_by_ssp(total, [self.target(m, need_ssp=need) for m in members], groups)

    # --- the run --------------------------------------------------------------------------------
    def run(self) -> RevenueResult:
        spec = self.spec
        start = spec.start
        start_ord = start.toordinal()
        origin = _Contract(spec.id, "original contract", start)
        self.contracts[spec.id] = origin
        for i, ob in enumerate(spec.obligations):
            self.new_ob(ob, spec.id, f"obligations[{i}]")
        if not spec.obligations:
            raise RevenueInputError(
                "a contract needs at least one performance obligation",
                code="revenue.no_obligations",
                field="obligations",
            )
        added_ids: set[str] = set()
        for mi, mod in enumerate(spec.modifications):
            where = mod.source or f"modifications[{mi}]"
            if mod.on < start:
                raise RevenueInputError(
                    f"modification dated {mod.on}, before the contract's inception {start}",
                    code="revenue.modification_before_contract",
                    field=at(where, "date"),
                )
            for ai, ob in enumerate(mod.add):
                if ob.id in self.obs or ob.id in added_ids:
                    raise RevenueInputError(
                        f"obligation id {ob.id} is used twice",
                        code="revenue.duplicate_obligation",
                        field=at(ob.source or at(where, f"add[{ai}]"), "id"),
                    )
                added_ids.add(ob.id)

        # Month ends of the schedule: from the earliest date anything happens to the latest.
        month_ends = self.horizon()

        # Transaction price at inception.
        fixed = self.minor(spec.fixed, "transaction_price.fixed") if spec.fixed is not None else 0
        discounts = sum(
            self.minor(d, f"transaction_price.discounts[{i}].amount") for i, d in enumerate(spec.discounts)
        )
        fin: FinancingOutcome | None = None
        fin_adjust = 0
        if spec.financing is not None:
            f = spec.financing
            paid = sum(
                self.minor(p.amount, f"transaction_price.financing.payments[{i}].amount")
                for i, p in enumerate(f.payments)
            )
            if paid != fixed - discounts:
                raise RevenueInputError(
                    f"the payments add up to {self.money(paid)}, not to the fixed consideration net of "
                    f"discounts ({self.money(fixed - discounts)})",
                    code="revenue.payments_mismatch",
                    field="transaction_price.financing.payments",
                )
            fin = financing_outcome(f, self.exp, self.rounding, month_ends)
            fin_adjust = fin.value - fin.promised

        pool_members = [self.obs[ob.id] for ob in spec.obligations if not isinstance(ob.pattern, Usage)]
        groups: list[Group] = []
        for gi, g in enumerate(spec.discount_allocation):
            where = g.source or f"discount_allocation[{gi}]"
            ids = tuple(g.obligations)
            for oid in ids:
                if oid not in self.obs or self.obs[oid].usage is not None:
                    raise RevenueInputError(
                        f"discount allocation names {oid}, which is not an obligation sharing the fixed consideration",
                        code="revenue.unknown_obligation",
                        field=at(where, "obligations"),
                    )
            amount = self.minor(g.amount, at(where, "amount")) if g.amount is not None else None
            groups.append(Group(ids, amount, where))

        # Variable consideration: inception estimates, targets.
        outcomes: dict[str, EstimateOutcome] = {}
        var_targets: dict[str, list[_Ob]] = {}
        var_where: dict[str, str] = {}
        events: list[tuple[int, int, int, Callable[[], None]]] = []
        seen_var: set[str] = set()
        for vi, v in enumerate(spec.variable):
            where = v.source or f"transaction_price.variable[{vi}]"
            var_where[v.id] = where
            if v.id in seen_var:
                raise RevenueInputError(
                    f"variable consideration id {v.id} is used twice",
                    code="revenue.duplicate_variable",
                    field=at(where, "id"),
                )
            seen_var.add(v.id)
            targets: list[_Ob] = []
            for oid in v.allocate_to:
                st = self.obs.get(oid)
                if st is None:
                    raise RevenueInputError(
                        f"variable consideration {v.id} is allocated to {oid}, which is not an obligation of the contract",
                        code="revenue.unknown_obligation",
                        field=at(where, "allocate_to"),
                    )
                if st.usage is not None:
                    raise RevenueInputError(
                        f"{oid} is a usage obligation: its consideration is its usage",
                        code="revenue.usage_target",
                        field=at(where, "allocate_to"),
                    )
                targets.append(st)
            var_targets[v.id] = targets
            first = v.estimates[0]
            if first.as_of is not None and first.as_of != start:
                raise RevenueInputError(
                    "the first estimate is the one at inception: leave out its as_of",
                    code="revenue.estimate_date",
                    field=at(first.source or where, "as_of"),
                )
            outcomes[v.id] = self.estimate(first, at(where, "estimate"))
            previous = start
            for ei, est in enumerate(v.estimates[1:], start=1):
                ewhere = est.source or at(where, f"reestimates[{ei - 1}]")
                if est.as_of is None:
                    raise RevenueInputError(
                        "a re-estimate needs the date it is made",
                        code="revenue.estimate_date",
                        field=at(ewhere, "as_of"),
                    )
                if est.as_of < start:
                    raise RevenueInputError(
                        f"re-estimate dated {est.as_of}, before the contract's inception {start}",
                        code="revenue.estimate_before_contract",
                        field=at(ewhere, "as_of"),
                    )
                if est.as_of <= previous and ei > 1:
                    raise RevenueInputError(
                        "re-estimates must be in date order",
                        code="revenue.estimate_date",
                        field=at(ewhere, "as_of"),
                    )
                previous = est.as_of
                events.append(
                    (est.as_of.toordinal(), 0, len(events), self._reestimate_event(v.id, est, ewhere))
                )

        var_rows: dict[str, list[tuple[date, EstimateOutcome, str]]] = {
            v.id: [(start, outcomes[v.id], v.estimates[0].method)] for v in spec.variable
        }
        self._var_rows = var_rows
        self._var_method = {v.id: v for v in spec.variable}
        untargeted = sum(outcomes[v.id].included for v in spec.variable if not v.allocate_to)
        pool = fixed - discounts + fin_adjust + untargeted
        self.pool_members = pool_members
        self.groups = groups
        self.pool = pool
        self.var_outcomes = outcomes
        self.var_targets = var_targets
        self.var_shares: dict[str, list[int]] = {}
        if pool_members:
            self.pool_shares = self.allocate(pool, pool_members, groups)
        elif pool != 0:
            raise RevenueInputError(
                "the contract has fixed consideration but no obligation other than usage to allocate it to",
                code="revenue.allocation_empty",
                field="obligations",
            )
        else:
            self.pool_shares = []
        inception: dict[str, int] = {
            m.spec.id: s for m, s in zip(pool_members, self.pool_shares, strict=True)
        }
        for v in spec.variable:
            if v.allocate_to:
                shares = self.allocate(outcomes[v.id].included, var_targets[v.id])
                self.var_shares[v.id] = shares
                for m, s in zip(var_targets[v.id], shares, strict=True):
                    inception[m.spec.id] = inception.get(m.spec.id, 0) + s
        for ob in spec.obligations:
            st = self.obs[ob.id]
            if st.usage is not None:
                st.inception_allocated = st.total()
                st.history.append((start_ord, st.total(), "usage earned (allocated wholly to it)"))
                continue
            amount = inception.get(ob.id, 0)
            st.inception_allocated = amount
            st.segs.append(_Seg(1, 0, amount, self.progress_of(ob)))
            st.history.append(
                (start_ord, amount, "inception: allocated by relative stand-alone selling price")
            )

        variable_at_inception = sum(o.included for o in outcomes.values())
        origin.price = PriceBreakdown(
            fixed=self.money(fixed),
            discounts=self.money(discounts),
            variable=self.money(variable_at_inception),
            financing=self.money(fin_adjust),
            total=self.money(fixed - discounts + fin_adjust + variable_at_inception),
            usage=self.money(
                sum(self.obs[o.id].total() for o in spec.obligations if self.obs[o.id].usage is not None)
            ),
        )
        origin.allocation = [
            self.row(self.obs[o.id], self.obs[o.id].inception_allocated) for o in spec.obligations
        ]

        for mi, mod in enumerate(spec.modifications):
            events.append((mod.on.toordinal(), 1, len(events), self._modification_event(mi + 1, mod)))
        for _, _, _, apply in sorted(events, key=lambda e: (e[0], e[1], e[2])):
            apply()

        return self.result(month_ends, fin)

    # --- events ---------------------------------------------------------------------------------
    def estimate(self, est: Estimate, where: str) -> EstimateOutcome:
        src = est.source or where
        for i, s in enumerate(est.scenarios):
            self.exact(s.amount, at(src, f"scenarios[{i}].amount"))
        if est.amount is not None:
            self.exact(est.amount, at(src, "amount"))
        if est.constraint is not None and est.constraint.cap is not None:
            self.exact(est.constraint.cap, at(src, "constraint.amount"))
        try:
            return estimate_variable(est, self.exp, self.rounding)
        except ValidationError as exc:
            if not exc.field or not exc.field.startswith(src):
                exc.field = at(src, exc.field or "")
            raise

    def _reestimate_event(self, vid: str, est: Estimate, where: str) -> Callable[[], None]:
        def apply() -> None:
            assert est.as_of is not None
            outcome = self.estimate(est, where)
            old = self.var_outcomes[vid]
            self.var_outcomes[vid] = outcome
            self._var_rows[vid].append((est.as_of, outcome, est.method))
            d = est.as_of.toordinal()
            reason = (
                f"re-estimate of variable consideration {vid} on {est.as_of}: cumulative catch-up "
                "(ASC 606-10-32-43, IFRS 15.88)"
            )
            if self.var_targets[vid]:
                members = self.var_targets[vid]
                new = self.allocate(outcome.included, members)
                old_shares = self.var_shares[vid]
                self.var_shares[vid] = new
            else:
                members = self.pool_members
                self.pool = self.pool - old.included + outcome.included
                try:
                    new = self.allocate(self.pool, members, self.groups)
                except ValidationError as exc:
                    exc.field = exc.field or at(where, "amount")
                    raise
                old_shares = self.pool_shares
                self.pool_shares = new
            for m, o, n in zip(members, old_shares, new, strict=True):
                if n != o:
                    seg = m.segs[-1]
                    m.set(d, seg.offset, seg.allocated + (n - o), seg.progress, reason)

        return apply

    def _modification_event(self, index: int, mod: Modification) -> Callable[[], None]:
        def apply() -> None:
            self.modify(index, mod)

        return apply

    def row(self, st: _Ob, allocated: int, weight: Fraction | None = None) -> AllocationRow:
        if weight is not None:
            ssp: Money | None = self.fraction_money(weight)
            basis = "SSP of what remains at the modification"
        else:
            ssp = None
            if st.spec.ssp is not None:
                v = st.spec.ssp.value()
                ssp = Money(v, self.currency) if v is not None else None
            basis = st.ssp_basis
        return AllocationRow(st.spec.id, ssp, basis, self.money(allocated))

    # --- modifications --------------------------------------------------------------------------
    def priced_at_ssp(self, price: int, added: Sequence[_Ob]) -> tuple[bool, str]:
        low = _ZERO
        high = _ZERO
        for st in added:
            ssp = st.spec.ssp
            if ssp is None:
                return False, f"{st.spec.id} has no stand-alone selling price"
            if ssp.basis == "residual":
                return False, f"{st.spec.id}'s SSP is only a residual"
            if ssp.basis == "range":
                assert ssp.low is not None and ssp.high is not None
                low += self.exact(ssp.low, at(st.loc, "ssp.low"))
                high += self.exact(ssp.high, at(st.loc, "ssp.high"))
            else:
                assert st.ssp is not None
                low += st.ssp
                high += st.ssp
        lo = round_div(low.numerator, low.denominator, self.rounding)
        hi = round_div(high.numerator, high.denominator, self.rounding)
        shown = f"SSP {self.money(lo)}" if lo == hi else f"SSP range {self.money(lo)}–{self.money(hi)}"
        return lo <= price <= hi, f"price {self.money(price)}, {shown}"

    def modify(self, index: int, mod: Modification) -> None:
        spec = self.spec
        where = mod.source or f"modifications[{index - 1}]"
        contract_id = mod.applies_to or spec.id
        if contract_id not in self.contracts:
            raise RevenueInputError(
                f"modification applies to {contract_id}, which is not a contract here",
                code="revenue.unknown_contract",
                field=at(where, "applies_to"),
            )
        d = mod.on.toordinal()
        before = d - 1
        price = self.minor(mod.price_change, at(where, "price_change"))
        members = [
            st
            for st in self.obs.values()
            if st.contract == contract_id and not st.removed and st.usage is None and st.segs
        ]
        member_ids = {st.spec.id for st in members}

        def existing(oid: str, field_name: str) -> _Ob:
            st = self.obs.get(oid)
            if st is not None and st.usage is not None and st.contract == contract_id:
                raise RevenueInputError(
                    f"{oid} is a usage obligation: usage obligations are not modified",
                    code="revenue.usage_not_modifiable",
                    field=field_name,
                )
            if st is None or oid not in member_ids:
                raise RevenueInputError(
                    f"{oid} is not an open obligation of contract {contract_id}",
                    code="revenue.unknown_obligation",
                    field=field_name,
                )
            return st

        removed = [existing(oid, at(where, f"remove[{i}]")) for i, oid in enumerate(mod.remove)]
        changes: dict[str, ObligationChange] = {}
        for ci, ch in enumerate(mod.change):
            cwhere = ch.source or at(where, f"change[{ci}]")
            st = existing(ch.obligation, at(cwhere, "obligation"))
            if st.spec.id in changes:
                raise RevenueInputError(
                    f"{st.spec.id} is changed twice in one modification",
                    code="revenue.duplicate_change",
                    field=cwhere,
                )
            if st in removed:
                raise RevenueInputError(
                    f"{st.spec.id} is both removed and changed", code="revenue.duplicate_change", field=cwhere
                )
            if ch.end is not None:
                if st.ratable_end is None:
                    raise RevenueInputError(
                        f"{st.spec.id} is not recognised over a service period; only a ratable obligation has an end",
                        code="revenue.change_end_not_ratable",
                        field=at(cwhere, "end"),
                    )
                if ch.end <= mod.on or (
                    st.ratable_start is not None and ch.end.toordinal() <= st.ratable_start
                ):
                    raise RevenueInputError(
                        f"the new end {ch.end} is not after the modification date and the period's start",
                        code="revenue.period_reversed",
                        field=at(cwhere, "end"),
                    )
            if ch.ssp is not None and self.exact(ch.ssp, at(cwhere, "ssp")) <= 0:
                raise RevenueInputError(
                    "the SSP of what remains must be above zero",
                    code="revenue.ssp_zero",
                    field=at(cwhere, "ssp"),
                )
            changes[st.spec.id] = ch

        added: list[_Ob] = []
        for ai, ob in enumerate(mod.add):
            if isinstance(ob.pattern, Usage):
                raise RevenueInputError(
                    "a modification cannot add a usage obligation; describe the usage on the contract",
                    code="revenue.usage_not_modifiable",
                    field=at(ob.source or at(where, f"add[{ai}]"), "pattern"),
                )
            added.append(self.new_ob(ob, contract_id, at(where, f"add[{ai}]")))
        if not (added or removed or changes or price):
            raise RevenueInputError(
                "the modification changes nothing", code="revenue.empty_modification", field=where
            )

        status: dict[str, tuple[Fraction, int, int]] = {}
        for st in members:
            p = st.progress(before)
            recognised = st.cum(before, self.rounding)
            status[st.spec.id] = (p, recognised, st.total() - recognised)

        # The rules of ASC 606-10-25-12/13 (IFRS 15.20-21), in order.
        separate_ok = False
        if added and not removed and not changes:
            at_ssp, why = self.priced_at_ssp(price, added)
            ids = ", ".join(a.spec.id for a in added)
            if at_ssp:
                separate_ok = True
                rule_reason = (
                    f"the added obligations ({ids}) are distinct and priced at their stand-alone selling price "
                    f"({why}): a separate contract (ASC 606-10-25-12, IFRS 15.20)"
                )
            else:
                not_separate = f"the price of the added obligations ({ids}) does not reflect their stand-alone selling price ({why})"
        elif added:
            not_separate = "the modification does not only add distinct goods or services (it also changes or removes some)"
        else:
            not_separate = "no distinct goods or services are added"
        if not separate_ok:
            not_distinct = []
            for st in members:
                if st in removed:
                    continue
                p = status[st.spec.id][0]
                if 0 < p < 1:
                    chg = changes.get(st.spec.id)
                    distinct = (
                        chg.remaining_distinct
                        if chg is not None and chg.remaining_distinct is not None
                        else st.spec.distinct_remaining
                    )
                    if not distinct:
                        not_distinct.append(st.spec.id)
            if not not_distinct:
                rule_treatment = "terminate_and_create"
                rule_reason = (
                    f"{not_separate}; the remaining goods or services are distinct from those transferred on or "
                    "before the modification: termination of the existing contract and creation of a new one, "
                    "accounted for prospectively (ASC 606-10-25-13(a), IFRS 15.21(a))"
                )
            else:
                rule_treatment = "cumulative_catch_up"
                rule_reason = (
                    f"{not_separate}; {', '.join(not_distinct)} is partially satisfied and what remains of it is not "
                    "distinct: part of the existing contract, with a cumulative catch-up adjustment "
                    "(ASC 606-10-25-13(b), IFRS 15.21(b))"
                )
        else:
            rule_treatment = "separate_contract"

        if mod.treatment == "automatic":
            treatment = rule_treatment
            decided_by = "rules"
            reason = rule_reason
        else:
            treatment = mod.treatment
            decided_by = "override"
            reason = f"treatment set by finance (the rules would have chosen {rule_treatment}: {rule_reason})"
            if treatment == "separate_contract" and (not added or removed or changes):
                raise RevenueInputError(
                    "a separate contract can only be made of added obligations; this modification also "
                    "changes or removes existing ones, or adds none",
                    code="revenue.override_not_applicable",
                    field=at(where, "treatment"),
                )

        label = f"modification {index} on {mod.on}"
        rows: list[AllocationRow] = []
        new_contract: str | None = None
        consideration = price
        if treatment == "separate_contract":
            new_contract = mod.new_contract or f"{contract_id}-M{index}"
            if new_contract in self.contracts:
                raise RevenueInputError(
                    f"contract id {new_contract} is already used",
                    code="revenue.duplicate_contract",
                    field=at(where, "contract"),
                )
            c = _Contract(new_contract, f"separate contract from {label} of {contract_id}", mod.on)
            self.contracts[new_contract] = c
            shares = self.allocate(price, added)
            for st, share in zip(added, shares, strict=True):
                st.contract = new_contract
                st.inception_allocated = share
                st.set(d, 0, share, self.progress_of(st.spec), f"{label}: separate contract {new_contract}")
                rows.append(self.row(st, share))
            zero = self.money(0)
            c.price = PriceBreakdown(self.money(price), zero, zero, zero, self.money(price), zero)
            c.allocation = list(rows)
        else:
            for st in removed:
                _, recognised, _ = status[st.spec.id]
                st.set(d, recognised, 0, _Const(_ONE), f"{label}: removed; what was recognised stays")
                st.removed = True
            removed_left = sum(status[st.spec.id][2] for st in removed)
            if treatment == "terminate_and_create":
                remaining = [st for st in members if st not in removed and status[st.spec.id][0] < 1]
                consideration = sum(status[st.spec.id][2] for st in remaining) + removed_left + price
                targets = remaining + added
                if not targets:
                    if consideration != 0:
                        raise RevenueInputError(
                            "nothing remains to be transferred to take the modification's consideration",
                            code="revenue.allocation_empty",
                            field=at(where, "price_change"),
                        )
                    shares = []
                else:
                    weights: list[Target] = []
                    need = len(targets) > 1
                    remaining_weight: dict[str, Fraction] = {}
                    for st in remaining:
                        w = self.remaining_weight(st, status[st.spec.id][0], changes.get(st.spec.id))
                        remaining_weight[st.spec.id] = w
                        weights.append(Target(st.spec.id, w, field=at(st.loc, "ssp")))
                    for st in added:
                        weights.append(self.target(st, need_ssp=need))
                    shares = allocate_by_ssp(consideration, weights)
                for st, share in zip(targets, shares, strict=True):
                    if st in added:
                        st.inception_allocated = share
                        st.set(
                            d,
                            0,
                            share,
                            self.progress_of(st.spec),
                            f"{label}: added; new contract, prospective",
                        )
                        rows.append(self.row(st, share))
                        continue
                    p, recognised, _ = status[st.spec.id]
                    chg = changes.get(st.spec.id)
                    progress: _Progress
                    if st.ratable_end is not None and st.ratable_start is not None:
                        if chg is not None and chg.end is not None:
                            st.ratable_end = chg.end.toordinal()
                        progress = _Days(max(d, st.ratable_start), st.ratable_end)
                    elif p > 0:
                        progress = _Rebased(st.segs[-1].progress, p)
                    else:
                        progress = st.segs[-1].progress
                    st.set(
                        d, recognised, share, progress, f"{label}: remaining part re-allocated, prospective"
                    )
                    rows.append(self.row(st, share, remaining_weight[st.spec.id]))
            else:  # cumulative catch-up
                affected = [st for st in members if st.spec.id in changes] + added
                if not affected:
                    affected = [st for st in members if st not in removed and status[st.spec.id][0] < 1]
                consideration = price + removed_left
                if not affected:
                    if consideration != 0:
                        raise RevenueInputError(
                            "nothing remains to be transferred to take the modification's consideration",
                            code="revenue.allocation_empty",
                            field=at(where, "price_change"),
                        )
                    shares = []
                else:
                    need = len(affected) > 1
                    weights = []
                    for st in affected:
                        chg = changes.get(st.spec.id)
                        if chg is not None and chg.ssp is not None:
                            weights.append(
                                Target(
                                    st.spec.id,
                                    self.exact(chg.ssp, at(where, "change")),
                                    field=at(st.loc, "ssp"),
                                )
                            )
                        elif st in added or st.ssp is not None or st.spec.ssp is not None:
                            weights.append(self.target(st, need_ssp=need))
                        else:
                            weights.append(
                                Target(st.spec.id, Fraction(max(st.total(), 1)), field=at(st.loc, "ssp"))
                            )
                    shares = allocate_by_ssp(consideration, weights)
                for st, share in zip(affected, shares, strict=True):
                    if st in added:
                        st.inception_allocated = share
                        st.set(
                            d, 0, share, self.progress_of(st.spec), f"{label}: added to the existing contract"
                        )
                        rows.append(self.row(st, share))
                        continue
                    seg = st.segs[-1]
                    progress = seg.progress
                    chg = changes.get(st.spec.id)
                    if chg is not None and chg.end is not None:
                        st.ratable_end = chg.end.toordinal()
                        seg_start = progress.start if isinstance(progress, _Days) else st.ratable_start
                        assert seg_start is not None
                        progress = _Days(seg_start, st.ratable_end)
                    st.set(d, seg.offset, seg.allocated + share, progress, f"{label}: cumulative catch-up")
                    rows.append(self.row(st, seg.offset + seg.allocated + share))
        self.decisions.append(
            Decision(
                index=index,
                on=mod.on,
                applies_to=contract_id,
                treatment=treatment,
                decided_by=decided_by,  # type: ignore[arg-type]
                reason=reason,
                note=mod.note.strip(),
                new_contract=new_contract,
                consideration=self.money(consideration),
                allocation=tuple(rows),
            )
        )

    def remaining_weight(self, st: _Ob, p: Fraction, ch: ObligationChange | None) -> Fraction:
        """The SSP of what remains of ``st`` at a modification: as stated, else the inception SSP
        (or, without one, the amount allocated) times the share not yet transferred."""
        if ch is not None and ch.ssp is not None:
            return self.exact(ch.ssp, at(ch.source or st.loc, "ssp"))
        base = st.ssp if st.ssp is not None else Fraction(max(st.total(), 1))
        w = base * (1 - p)
        return w if w > 0 else Fraction(1)

    # --- dates and results ----------------------------------------------------------------------
    def horizon(self) -> list[int]:
        spec = self.spec
        days: list[date] = [spec.start]

        def pattern_dates(ob: Obligation) -> Iterable[date]:
            p = ob.pattern
            if isinstance(p, PointInTime):
                yield from (d.on for d in p.deliveries)
                if p.delivered_on:
                    yield p.delivered_on
            elif isinstance(p, Ratable):
                yield p.start
                yield date.fromordinal(p.end.toordinal() - 1)
            elif isinstance(p, MeasuredProgress):
                yield from (pt.on for pt in p.points)
            elif isinstance(p, Milestones):
                yield from (m.achieved_on for m in p.milestones if m.achieved_on)
            elif isinstance(p, Usage):
                yield from (u.on for u in p.amounts)

        for ob in spec.obligations:
            days.extend(pattern_dates(ob))
        for mod in spec.modifications:
            days.append(mod.on)
            for ob in mod.add:
                days.extend(pattern_dates(ob))
            for ch in mod.change:
                if ch.end is not None:
                    days.append(date.fromordinal(ch.end.toordinal() - 1))
        for v in spec.variable:
            days.extend(e.as_of for e in v.estimates if e.as_of)
        if spec.financing is not None:
            days.append(spec.financing.transfer_on)
            days.extend(p.on for p in spec.financing.payments)
        first, last = min(days), max(days)
        out: list[int] = []
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            out.append(month_end_ordinal(y, m))
            m += 1
            if m == 13:
                y, m = y + 1, 1
        return out

    def result(self, month_ends: list[int], fin: FinancingOutcome | None) -> RevenueResult:
        rounding = self.rounding
        currency = self.currency
        totals = [0] * len(month_ends)
        month_dates = [date.fromordinal(me) for me in month_ends]
        ob_results: list[ObligationResult] = []
        for st in self.obs.values():
            lines: list[ScheduleLine] = []
            previous = 0
            for i, me in enumerate(month_ends):
                cum = st.cum(me, rounding)
                if cum != previous:
                    lines.append(ScheduleLine(month_dates[i], cum - previous, cum, currency))
                    totals[i] += cum - previous
                    previous = cum
            total = st.total()
            ssp_money: Money | None = None
            if st.spec.ssp is not None:
                v = st.spec.ssp.value()
                ssp_money = Money(v, self.currency) if v is not None else None
            history = tuple(
                AllocationStep(
                    date.fromordinal(max(day, self.spec.start.toordinal())), self.money(amount), why
                )
                for day, amount, why in st.history
            )
            ob_results.append(
                ObligationResult(
                    id=st.spec.id,
                    contract=st.contract,
                    pattern=st.spec.pattern.kind,
                    ssp=ssp_money,
                    ssp_basis=st.ssp_basis,
                    allocated=self.money(total),
                    recognised=self.money(previous),
                    remaining=self.money(total - previous),
                    history=history,
                    lines=tuple(lines),
                    description=st.spec.description,
                    category=st.spec.category,
                )
            )
        months: list[MonthTotal] = []
        running = 0
        for day, amount in zip(month_dates, totals, strict=True):
            running += amount
            months.append(MonthTotal(day, amount, running, currency))
        contracts = tuple(
            ContractResult(c.id, c.origin, c.start, c.price, tuple(c.allocation))  # type: ignore[arg-type]
            for c in self.contracts.values()
        )
        variable = tuple(
            VariableResult(
                v.id,
                tuple(v.allocate_to),
                tuple(
                    _estimate_result(day, method, o, self.currency, self.exp)
                    for day, o, method in self._var_rows[v.id]
                ),
            )
            for v in self.spec.variable
        )
        financing: FinancingResult | None = None
        if fin is not None and self.spec.financing is not None:
            f = self.spec.financing
            interest: list[InterestLine] = []
            for kind, series in (("expense", fin.expense), ("income", fin.income)):
                prev = 0
                for me, cum in series:
                    if cum != prev:
                        interest.append(
                            InterestLine(date.fromordinal(me), kind, self.money(cum - prev), self.money(cum))  # type: ignore[arg-type]
                        )
                        prev = cum
            interest.sort(key=lambda line: (line.recognised_on, line.kind))
            financing = FinancingResult(
                applied=fin.applied,
                reason=fin.reason,
                rate=f.rate,
                compounding=f.compounding,
                transfer_on=f.transfer_on,
                promised=self.money(fin.promised),
                adjustment=self.money(fin.value - fin.promised),
                interest=tuple(interest),
            )
        return RevenueResult(
            currency=self.currency,
            contracts=contracts,
            obligations=tuple(ob_results),
            variable=variable,
            financing=financing,
            decisions=tuple(self.decisions),
            months=tuple(months),
        )


def _estimate_result(day: date, method: str, o: EstimateOutcome, currency: str, exp: int) -> EstimateResult:
    return EstimateResult(
        as_of=day,
        method=method,
        estimate=Money(o.estimate, currency),
        cap=Money(o.cap, currency) if o.cap is not None else None,
        included=Money(minor_to_decimal(o.included, exp), currency),
        reason=o.reason,
    )


def compute(spec: ContractSpec) -> RevenueResult:
    """Allocate the contract's transaction price, decide its modifications and build the monthly
    schedule. Raises :class:`~q2c.revenue.engine.errors.RevenueInputError` (a ``ValidationError``
    naming the field) when the contract cannot be accounted for as described."""
    return _Engine(spec).run()


def ssp_value_minor(ssp: SSP, exponent: int) -> Fraction | None:
    """An SSP in exact minor units (``None`` for the residual approach)."""
    v = ssp.value()
    return None if v is None else Fraction(v) * 10**exponent


__all__ = ["compute", "ssp_value_minor", "to_minor"]
