"""Value → positions indexes over a million open items, built in bulk.

A Python loop with four dict updates per item costs seconds for a million items; here mostly
unique values (invoice numbers, RF references) become one ``dict(zip(values, positions))`` built
in C, and heavily shared integer values (open amounts, customer ids) are grouped by one numpy
sort: the index keeps, per value, its group's bounds in the sorted positions. Values added later
(a partly paid invoice's new open amount) go to a small overlay.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

_NONE: tuple[int, ...] = ()
#: composite sort keys ``(value - lowest) * n + position`` must stay inside int64
_INT64_ROOM = 2**62


class PositionIndex:
    """``get(value)`` → the positions holding ``value`` (in position order), ``add`` for later."""

    __slots__ = ("_bounds", "_extra", "_group", "_order", "_single")

    def __init__(self, values: Sequence[Hashable | None]) -> None:
        self._single: dict[Hashable, int] = {}
        # Integer values: value → group number; the group's positions are
        # ``_order[_bounds[g] : _bounds[g + 1]]``.
        self._group: dict[Hashable, int] = {}
        self._bounds: list[int] = []
        self._order: list[int] = []
        self._extra: dict[Hashable, list[int]] = {}
        n = len(values)
        if n and type(values[0]) is int:
            array = np.array(values)  # int64 when every value is an integer that fits
            if array.dtype == np.int64 and array.ndim == 1:
                self._group_integers(array)
                return
        if n and isinstance(values, list) and values.count(None) == n:
            return  # nothing to index (no item carries the value)
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

    def _group_integers(self, array: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        n = len(array)
        low = int(array.min())
        if (int(array.max()) - low + 1) * n < _INT64_ROOM:
            # Each (value, position) pair is its own key: numpy's quicksort of distinct keys gives
            # the stable order at half the cost of the stable sort.
            order = np.argsort((array - low) * n + np.arange(n, dtype=np.int64))
        else:
            order = np.argsort(array, kind="stable")
        ordered = array[order]
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        self._order = order.tolist()
        self._group = dict(zip(ordered[starts].tolist(), range(len(starts)), strict=True))
        self._bounds = starts.tolist()
        self._bounds.append(n)

    def get(self, value: Hashable) -> Sequence[int]:
        found = self._single.get(value)
        if found is not None:
            base: Sequence[int] = (found,)
        else:
            g = self._group.get(value)
            base = self._order[self._bounds[g] : self._bounds[g + 1]] if g is not None else _NONE
        if self._extra:
            extra = self._extra.get(value)
            if extra:
                return [*base, *extra]
        return base

    def present(self, values: Iterable[Hashable]) -> list[Hashable]:
        """The values that hold a position, in the order given (one C loop for a plain index)."""
        if not self._group and not self._extra:
            return list(filter(self._single.__contains__, values))
        return [v for v in values if v in self]

    def get_at_most(self, value: Hashable, limit: int) -> Sequence[int] | None:
        """:meth:`get`, or None when more than ``limit`` positions hold ``value`` (not built)."""
        found = self._single.get(value)
        if found is not None:
            base: Sequence[int] = (found,)
        else:
            g = self._group.get(value)
            if g is None:
                base = _NONE
            else:
                start, end = self._bounds[g], self._bounds[g + 1]
                if end - start > limit:
                    return None
                base = self._order[start:end]
        if self._extra:
            extra = self._extra.get(value)
            if extra:
                if len(base) + len(extra) > limit:
                    return None
                return [*base, *extra]
        return base

    def size(self, value: Hashable) -> int:
        """How many positions :meth:`get` would return, without building them."""
        if value in self._single:
            n = 1
        else:
            g = self._group.get(value)
            n = self._bounds[g + 1] - self._bounds[g] if g is not None else 0
        return n + len(self._extra.get(value, ()))

    def add(self, value: Hashable, position: int) -> None:
        self._extra.setdefault(value, []).append(position)

    def __contains__(self, value: Hashable) -> bool:
        return value in self._single or value in self._group or value in self._extra
