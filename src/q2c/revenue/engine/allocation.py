"""Allocation of an amount to performance obligations by relative stand-alone selling price.

ASC 606-10-32-28..41, IFRS 15.73-86. Each target gets its exact share first (``Fraction``s, no
rounding): by relative SSP; a discount that the evidence ties to some obligations goes to those
only (ASC 606-10-32-37) and is taken out before the residual approach is applied (32-41); the
residual obligation gets what the others' SSPs leave (32-34(c)). The exact shares are then turned
into minor units by largest remainder with :func:`q2c.core.money.allocate_minor`, so the parts
always sum to the amount allocated.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from q2c.core.money import allocate_minor
from q2c.revenue.engine.errors import RevenueInputError


@dataclass(frozen=True, slots=True)
class Target:
    """An obligation taking part in an allocation: ``ssp`` in minor units (exact, may have a
    fractional part); ``None`` = residual. ``low``/``high``: the residual's observed range."""

    id: str
    ssp: Fraction | None
    low: Fraction | None = None
    high: Fraction | None = None
    field: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """A discount allocated entirely to ``ids`` (minor units; ``None`` = the whole discount)."""

    ids: tuple[str, ...]
    amount: int | None
    field: str = ""


def largest_remainder(total: int, shares: Sequence[Fraction]) -> list[int]:
    """Round exact shares that sum to ``total`` into integers that still sum to ``total``."""
    if total == 0 and all(s == 0 for s in shares):
        return [0 for _ in shares]
    sign = -1 if total < 0 else 1
    if any(s * sign < 0 for s in shares):
        raise RevenueInputError(
            "the allocation would give an obligation an amount of the opposite sign",
            code="revenue.negative_allocation",
        )
    scale = lcm(*(s.denominator for s in shares))
    weights = [int(abs(s) * scale) for s in shares]
    if not any(weights):
        raise RevenueInputError("nothing to allocate the amount by", code="revenue.allocation_empty")
    return allocate_minor(total, weights)


def exact_shares(total: int, targets: Sequence[Target], groups: Sequence[Group] = ()) -> list[Fraction]:
    """The exact share of ``total`` (minor units) for each target, in order."""
    if not targets:
        raise RevenueInputError(
            "there is no obligation to allocate the consideration to", code="revenue.allocation_empty"
        )
    residuals = [t for t in targets if t.ssp is None]
    if len(targets) == 1:
        return [Fraction(total)]
    if len(residuals) > 1:
        raise RevenueInputError(
            "the residual approach can be used for one obligation only; "
            + ", ".join(t.id for t in residuals)
            + " all ask for it",
            code="revenue.residual_twice",
            field=residuals[1].field,
        )
    for t in targets:
        if t.ssp is not None and t.ssp <= 0:
            raise RevenueInputError(
                f"obligation {t.id} has a stand-alone selling price of zero or less; "
                "allocation by relative SSP needs a positive SSP",
                code="revenue.ssp_zero",
                field=t.field,
            )
    by_id = {t.id: t for t in targets}
    share: dict[str, Fraction] = {}
    grouped: set[str] = set()
    whole_discount_groups = [g for g in groups if g.amount is None]
    if len(whole_discount_groups) > 1:
        raise RevenueInputError(
            "only one discount allocation may take the whole discount (leave out its amount)",
            code="revenue.discount_allocation",
            field=whole_discount_groups[1].field,
        )
    ssp_total = sum((t.ssp for t in targets if t.ssp is not None), Fraction(0))
    for g in groups:
        members = []
        for oid in g.ids:
            found = by_id.get(oid)
            if found is None:
                raise RevenueInputError(
                    f"discount allocation names {oid}, which is not an obligation of this allocation",
                    code="revenue.unknown_obligation",
                    field=g.field,
                )
            t = found
            if t.ssp is None:
                raise RevenueInputError(
                    f"a discount cannot be allocated to {oid}, whose SSP is the residual",
                    code="revenue.discount_allocation",
                    field=g.field,
                )
            if oid in grouped:
                raise RevenueInputError(
                    f"{oid} appears in two discount allocations",
                    code="revenue.discount_allocation",
                    field=g.field,
                )
            grouped.add(oid)
            members.append(t)
        if len(members) == len(targets):
            raise RevenueInputError(
                "a discount allocated to every obligation is the ordinary allocation: "
                "name only the obligations the discount belongs to",
                code="revenue.discount_allocation",
                field=g.field,
            )
        if g.amount is None:
            if residuals:
                raise RevenueInputError(
                    "with a residual obligation the whole discount is unknown: state the discount's amount",
                    code="revenue.discount_allocation",
                    field=g.field,
                )
            discount = ssp_total - total
        else:
            discount = Fraction(g.amount)
        group_ssp = sum((m.ssp for m in members if m.ssp is not None), Fraction(0))
        value = group_ssp - discount
        if value < 0:
            raise RevenueInputError(
                f"the discount ({discount}) is larger than the SSPs of {', '.join(g.ids)}",
                code="revenue.discount_allocation",
                field=g.field,
            )
        for m in members:
            assert m.ssp is not None
            share[m.id] = value * m.ssp / group_ssp
    rest = [t for t in targets if t.id not in grouped and t.ssp is not None]
    allocated = sum(share.values(), Fraction(0))
    if residuals:
        r = residuals[0]
        for t in rest:
            assert t.ssp is not None
            share[t.id] = t.ssp
        left = total - allocated - sum((t.ssp for t in rest if t.ssp is not None), Fraction(0))
        if left <= 0:
            raise RevenueInputError(
                f"the residual approach leaves {left} for {r.id}: the other obligations' SSPs take the "
                "whole transaction price",
                code="revenue.residual_not_positive",
                field=r.field,
            )
        if r.low is not None and r.high is not None and not (r.low <= left <= r.high):
            raise RevenueInputError(
                f"the residual approach gives {r.id} an amount outside its observed selling prices, so it "
                "does not depict the consideration for it; estimate its SSP another way "
                "(ASC 606-10-55-269, IFRS 15.IE177)",
                code="revenue.residual_outside_range",
                field=r.field,
            )
        share[r.id] = left
    else:
        left = total - allocated
        rest_ssp = sum((t.ssp for t in rest if t.ssp is not None), Fraction(0))
        if rest:
            for t in rest:
                assert t.ssp is not None
                share[t.id] = left * t.ssp / rest_ssp
        elif left != 0:
            raise RevenueInputError(
                "the discount allocation does not account for the whole transaction price: "
                f"{left} minor units are left with no obligation to take them",
                code="revenue.discount_allocation",
                field=groups[0].field if groups else "",
            )
    return [share[t.id] for t in targets]


def allocate_by_ssp(total: int, targets: Sequence[Target], groups: Sequence[Group] = ()) -> list[int]:
    """Allocate ``total`` minor units to ``targets``; the parts sum exactly to ``total``."""
    if not groups and len(targets) > 1:
        # The common case (plain relative SSP, whole minor-unit SSPs) goes straight to the largest
        # remainder split: the same parts as the general path, without the exact shares.
        ssps = [t.ssp for t in targets]
        if all(s is not None and s.denominator == 1 and s > 0 for s in ssps):
            return allocate_minor(total, [int(s) for s in ssps if s is not None])
    return largest_remainder(total, exact_shares(total, targets, groups))
