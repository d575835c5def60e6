"""Fixtures of the quotes tests: Acme Cloud selling to Northwind (the reference scenario), Rita
(sales_rep) in Max's (sales_manager) team, the Northwind catalog, and tasks that run at once so
emails land in ``mail.outbox``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from q2c.catalog import services as catalog_services
from q2c.core import clock
from q2c.quotes import services
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


@pytest.fixture
def world(db: Any, on_day: Any) -> dict[str, Any]:
    on_day(date(2027, 1, 10))
    entity = builders.seller()
    account = builders.customer()
    builders.northwind_catalog()
    rita = builders.user("rita", "sales_rep")
    max_ = builders.user("max", "sales_manager")
    services.save_team(name="DACH", manager_id=max_.pk, member_ids=[rita.pk], actor="test")
    return {"entity": entity, "account": account, "rita": rita, "max": max_}


@pytest.fixture
def opportunity(world: dict[str, Any]) -> Any:
    return services.create_opportunity(
        actor=world["rita"], account_id=world["account"].pk, name="Northwind platform"
    )


@pytest.fixture
def northwind_quote(world: dict[str, Any], opportunity: Any) -> Any:
    return services.create_quote(
        actor=world["rita"],
        opportunity_id=opportunity.pk,
        start_date=date(2027, 2, 1),
        term_months=12,
        lines=builders.NORTHWIND_LINES,
    )
