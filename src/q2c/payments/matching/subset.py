"""Bounded subset-sum: which of a customer's open items add up to a payment exactly.

One payment for several invoices names them only sometimes; otherwise the amounts must speak.
The search is exact (integer minor units) and bounded three ways — at most ``max_items`` items
(the caller passes the customer's oldest open items), at most ``max_size`` items per subset, and a
budget of search nodes — and stops after ``limit`` solutions: two different subsets with the same
sum make the answer ambiguous, which is all the caller needs to know.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SubsetResult:
    solutions: tuple[tuple[int, ...], ...]  # positions into the caller's amounts
    exhausted: bool  # the node budget ran out: more solutions may exist

    @property
    def unique(self) -> tuple[int, ...] | None:
        if len(self.solutions) == 1 and not self.exhausted:
            return self.solutions[0]
        return None


def subset_sums(
    amounts: Sequence[int],
    target: int,
    *,
    min_size: int = 2,
    max_size: int = 5,
    limit: int = 2,
    budget: int = 20_000,
) -> SubsetResult:
    """Subsets (as sorted positions) of positive ``amounts`` summing exactly to ``target``."""
    order = sorted((i for i, a in enumerate(amounts) if 0 < a <= target), key=lambda i: -amounts[i])
    values = [amounts[i] for i in order]
    n = len(values)
    prefix = [0]
    for v in values:
        prefix.append(prefix[-1] + v)
    solutions: list[tuple[int, ...]] = []
    nodes = 0
    exhausted = False
    chosen: list[int] = []

    def search(start: int, remaining: int) -> None:
        nonlocal nodes, exhausted
        if remaining == 0:
            if len(chosen) >= min_size:
                solutions.append(tuple(sorted(order[p] for p in chosen)))
            return
        slots = max_size - len(chosen)
        if slots == 0:
            return
        for p in range(start, n):
            if len(solutions) >= limit or exhausted:
                return
            value = values[p]
            if value > remaining:
                continue
            # Values only shrink from here: if the largest ``slots`` of them fall short, stop.
            if prefix[min(n, p + slots)] - prefix[p] < remaining:
                return
            nodes += 1
            if nodes > budget:
                exhausted = True
                return
            chosen.append(p)
            search(p + 1, remaining - value)
            chosen.pop()

    if target > 0:
        search(0, target)
    return SubsetResult(tuple(solutions), exhausted)
