"""Properties of the engine that hold for every input (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.core.money import Money
from q2c.revenue.engine import (
    SSP,
    ContractSpec,
    Milestone,
    Milestones,
    Obligation,
    PointInTime,
    Ratable,
    Target,
    allocate_by_ssp,
    compute,
    ratable_schedule,
    ratable_to_date,
)

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
minor = st.integers(min_value=0, max_value=10**13)


@st.composite
def periods(draw):
    start = draw(days)
    length = draw(st.integers(min_value=1, max_value=2000))
    return start, start + timedelta(days=length)


@given(allocated=minor, period=periods(), rounding=st.sampled_from(["half_up", "half_even"]))
def test_a_ratable_schedule_sums_exactly_to_the_allocated_amount_and_never_goes_down(
    allocated, period, rounding
):
    start, end = period
    lines = ratable_schedule(allocated, start, end, rounding)
    assert sum(amount for _, amount in lines) == allocated
    assert all(amount >= 0 for _, amount in lines)
    # One line per calendar month touched, each dated its month's last day.
    assert lines[0][0].month == start.month
    assert lines[-1][0] >= end - timedelta(days=1)


@given(allocated=minor, period=periods(), a=days, b=days)
def test_the_cumulative_day_method_is_monotone_and_bounded(allocated, period, a, b):
    start, end = period
    first, second = sorted((a, b))
    x = ratable_to_date(allocated, start, end, first)
    y = ratable_to_date(allocated, start, end, second)
    assert 0 <= x <= y <= allocated


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    ssps=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=12),
)
def test_an_allocation_sums_exactly_to_what_is_allocated(total, ssps):
    from fractions import Fraction

    parts = allocate_by_ssp(total, [Target(str(i), Fraction(s, 100)) for i, s in enumerate(ssps)])
    assert sum(parts) == total
    # No part is more than one minor unit away from its exact share.
    weight = sum(ssps)
    for part, s in zip(parts, ssps, strict=True):
        assert abs(part - Fraction(total * s, weight)) < 1


@st.composite
def contracts(draw):
    start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    n = draw(st.integers(min_value=1, max_value=5))
    obligations = []
    for i in range(n):
        ssp = SSP.fixed(Money(Decimal(draw(st.integers(min_value=1, max_value=10**8))).scaleb(-2), "EUR"))
        kind = draw(st.sampled_from(["ratable", "point", "milestones"]))
        if kind == "ratable":
            s = start + timedelta(days=draw(st.integers(0, 400)))
            pattern = Ratable(s, s + timedelta(days=draw(st.integers(1, 1100))))
        elif kind == "point":
            pattern = PointInTime(start + timedelta(days=draw(st.integers(0, 700))))
        else:
            pattern = Milestones(
                (
                    Milestone("a", Decimal(40), start + timedelta(days=draw(st.integers(0, 300)))),
                    Milestone("b", Decimal(60), start + timedelta(days=draw(st.integers(0, 700)))),
                )
            )
        obligations.append(Obligation(f"O{i}", pattern, ssp))
    fixed = Money(Decimal(draw(st.integers(min_value=0, max_value=10**9))).scaleb(-2), "EUR")
    return ContractSpec(currency="EUR", start=start, obligations=tuple(obligations), fixed=fixed)


@settings(max_examples=60, deadline=None)
@given(spec=contracts())
def test_a_contract_allocates_its_whole_price_and_each_schedule_sums_to_its_allocation(spec):
    result = compute(spec)
    allocated = [o.allocated for o in result.obligations]
    assert sum(allocated, Money.zero("EUR")) == spec.fixed
    assert sum((r.allocated for r in result.contract(spec.id).allocation), Money.zero("EUR")) == spec.fixed
    for ob in result.obligations:
        assert sum((line.amount for line in ob.lines), Money.zero("EUR")) == ob.allocated
        cumulative = [line.cumulative for line in ob.lines]
        assert cumulative == sorted(cumulative)
    months = [m.cumulative for m in result.months]
    assert months == sorted(months)
    assert result.months[-1].cumulative == spec.fixed


@settings(max_examples=60, deadline=None)
@given(allocated=minor, period=periods())
def test_the_fast_path_gives_what_the_engine_gives_for_a_ratable_obligation(allocated, period):
    start, end = period
    amount = Money.from_minor(allocated % 10**12, "EUR")
    spec = ContractSpec(
        currency="EUR", start=start, obligations=(Obligation("R", Ratable(start, end)),), fixed=amount
    )
    lines = compute(spec).obligation("R").lines
    fast = [(d, a) for d, a in ratable_schedule(amount.minor_units(), start, end) if a]
    assert [(line.recognised_on, line.amount.minor_units()) for line in lines] == fast


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    ssps=st.lists(st.integers(min_value=1, max_value=10**9), min_size=2, max_size=12),
)
def test_the_bulk_allocation_splits_exactly_like_the_money_kernel(total, ssps):
    from q2c.core.money import allocate_minor
    from q2c.revenue.engine.bulk import allocate_simple

    assert allocate_simple(total, ssps) == allocate_minor(total, ssps)


@settings(max_examples=60, deadline=None)
@given(spec=contracts())
def test_the_bulk_path_gives_what_the_engine_gives_for_ratable_and_point_in_time_contracts(spec):
    from q2c.revenue.engine.bulk import POINT_IN_TIME, RATABLE, SimpleObligation, schedule_simple

    if any(isinstance(o.pattern, Milestones) for o in spec.obligations):
        return
    simple = []
    for o in spec.obligations:
        ssp = o.ssp.amount.minor_units()
        if isinstance(o.pattern, Ratable):
            simple.append(
                SimpleObligation(RATABLE, ssp, o.pattern.start.toordinal(), o.pattern.end.toordinal())
            )
        else:
            simple.append(SimpleObligation(POINT_IN_TIME, ssp, o.pattern.delivered_on.toordinal()))
    bulk = schedule_simple(spec.fixed.minor_units(), simple)
    result = compute(spec)
    for (allocated, lines), ob in zip(bulk, result.obligations, strict=True):
        assert allocated == ob.allocated.minor_units()
        assert lines == [(line.recognised_on.toordinal(), line.amount_minor) for line in ob.lines]
