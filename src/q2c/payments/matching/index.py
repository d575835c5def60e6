"""Value → positions indexes over a million open items, built in bulk.

A Python loop with four dict updates per item costs seconds for a million items; here mostly
unique values (invoice numbers, RF references) become one ``dict(zip(values, positions))`` built
in C, and heavily shared integer values (open amounts, customer ids) are grouped by one numpy
sort: the index keeps, per value, a slice of the sorted positions. Values added later (a partly
paid invoice's new open amount) go to a small overlay.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

_NONE: tuple[int, ...] = ()


class PositionIndex:
    """``get(value)`` → the positions holding ``value`` (in position order), ``add`` for later."""

    __slots__ = ("_extra", "_order", "_single", "_slices")

    def __init__(self, values: Sequence[Hashable | None]) -> None:
        self._single: dict[Hashable, int] = {}
        self._slices: dict[Hashable, tuple[int, int]] = {}
        self._order: list[int] = []
        self._extra: dict[Hashable, list[int]] = {}
        n = len(values)
        if n and all(type(v) is int for v in values):
            self._group_integers(values)  # type: ignore[arg-type]
            return
        single = dict(zip(values, range(n), strict=True))
        if None in single:
            del single[None]
            present = (
                n - values.count(None) if isinstance(values, list) else sum(v is not None for v in values)
            )
        else:
            present = n
        if len(single) == present:
            self._single = single  # every value once: the common case for numbers and references
            return
        groups: dict[Hashable, list[int]] = {}
        for position, value in enumerate(values):
            if value is not None:
                groups.setdefault(value, []).append(position)
        for value, positions in groups.items():
            if len(positions) == 1:
                self._single[value] = positions[0]
            else:
                self._extra[value] = positions

    def _group_integers(self, values: Sequence[int]) -> None:
        array = np.fromiter(values, dtype=np.int64, count=len(values))
        order = np.argsort(array, kind="stable")
        ordered = array[order]
        cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(values)]))
        self._order = order.tolist()
        values_list = ordered[starts].tolist()
        starts_list, ends_list = starts.tolist(), ends.tolist()
        # Values held once map straight to their position; shared values to a slice of the order.
        self._single = {
            v: self._order[a]
            for v, a, b in zip(values_list, starts_list, ends_list, strict=True)
            if b - a == 1
        }
        self._slices = {
            v: (a, b) for v, a, b in zip(values_list, starts_list, ends_list, strict=True) if b - a > 1
        }

    def get(self, value: Hashable) -> Sequence[int]:
        found = self._single.get(value)
        if found is not None:
            base: Sequence[int] = (found,)
        else:
            span = self._slices.get(value)
            base = self._order[span[0] : span[1]] if span is not None else _NONE
        if self._extra:
            extra = self._extra.get(value)
            if extra:
                return [*base, *extra]
        return base

    def size(self, value: Hashable) -> int:
        """How many positions :meth:`get` would return, without building them."""
        if value in self._single:
            n = 1
        else:
            span = self._slices.get(value)
            n = span[1] - span[0] if span is not None else 0
        return n + len(self._extra.get(value, ()))

    def add(self, value: Hashable, position: int) -> None:
        self._extra.setdefault(value, []).append(position)

    def __contains__(self, value: Hashable) -> bool:
        return value in self._single or value in self._slices or value in self._extra
