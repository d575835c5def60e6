"""Registries that span apps: benchmarks, demo steps, ledger checks, daily jobs.

Commands like ``q2c bench`` and ``q2c ledger check`` belong to the composition root; each app
registers its parts here from ``q2c/wiring.py``, so no app imports another's commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Bench:
    name: str
    help: str
    add_arguments: Callable[[Any], None]
    run: Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Check:
    """A ledger invariant: returns a list of problems (empty when it ties)."""

    name: str
    run: Callable[[date | None], list[str]]


@dataclass(frozen=True)
class Job:
    """A daily job: called with the business date; must be idempotent for that date."""

    name: str
    run: Callable[[date], dict[str, Any] | None]


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> None:
        self._items[name] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise KeyError(f"unknown {self.what} '{name}' (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())


benches: Registry[Bench] = Registry("benchmark")
checks: Registry[Check] = Registry("ledger check")
jobs: Registry[Job] = Registry("daily job")
demo_steps: Registry[Callable[..., Any]] = Registry("demo step")
