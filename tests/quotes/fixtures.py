"""Fixtures the quotes and contracts tests share (each conftest imports them): tasks that run at
once, a fresh catalog cache per test, a business clock that only moves forward, and the Northwind
world of Acme Cloud, Rita (sales_rep) in Max's (sales_manager) team and a catalog."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from q2c.catalog import services as catalog_services
from q2c.core import clock
from tests.quotes import builders


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _fresh_catalog_cache() -> Any:
    # Snapshots are cached by revision token; each test builds its catalog anew.
    catalog_services.clear_cache()
    yield
    catalog_services.clear_cache()


@pytest.fixture
def on_day() -> Any:
    """``on_day(date)`` sets the business clock (09:00 Berlin); it only moves forward."""
    state: dict[str, clock.SimulationClock] = {}

    def move(day: date) -> clock.SimulationClock:
        if "clock" not in state:
            state["clock"] = clock.SimulationClock(day, default_tz="Europe/Berlin")
            clock.install(state["clock"])
        else:
            state["clock"].set(day)
        return state["clock"]

    return move


def northwind_world(on_day: Any, northwind_catalog: Callable[[], None]) -> dict[str, Any]:
    """On 2027-01-10: Acme Cloud, Northwind, the given catalog, Rita and Max in team DACH."""
    from q2c.quotes import services as quotes

    on_day(date(2027, 1, 10))
    entity = builders.seller()
    account = builders.customer()
    northwind_catalog()
    rita = builders.user("rita", "sales_rep")
    max_ = builders.user("max", "sales_manager")
    quotes.save_team(name="DACH", manager_id=max_.pk, member_ids=[rita.pk], actor="test")
    return {"entity": entity, "account": account, "rita": rita, "max": max_}
