"""Explicit state machines.

A stateful record declares a ``StrEnum`` of states and a transition table next to it::

    TRANSITIONS = {Status.DRAFT: {Status.ISSUED, Status.VOID}, Status.ISSUED: {...}, ...}

and moves with :func:`transition`, which raises :class:`InvalidTransition` for any move the table
does not list — including repeating a move already made (issued → issued). Tests walk the whole
table with :func:`all_moves`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from enum import StrEnum
from typing import TypeVar

from q2c.core.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


def transition(table: Mapping[S, Set[S]], current: S, target: S, *, what: str) -> S:
    """Return ``target`` if ``current → target`` is allowed, else raise ``InvalidTransition``.

    ``what`` names the record kind for the message and the error code (``invoice`` gives the code
    ``invoice.invalid_transition``).
    """
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(
            f"a {what} that is {current} cannot become {target}",
            code=f"{what}.invalid_transition",
            field="status",
        )
    return target


def all_moves(states: type[S], table: Mapping[S, Set[S]]) -> Iterator[tuple[S, S, bool]]:
    """Every (from, to, allowed) pair, for parametrised tests that walk the whole table."""
    for a in states:
        for b in states:
            yield a, b, b in table.get(a, frozenset())


def terminal_states(states: type[S], table: Mapping[S, Set[S]]) -> set[S]:
    return {s for s in states if not table.get(s)}
