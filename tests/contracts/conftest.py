"""Fixtures of the contracts tests: Acme Cloud selling to Northwind (../shared/scenarios/northwind.md),
Rita (sales_rep) in Max's (sales_manager) team, the Northwind catalog, a business clock that only
moves forward, users per role and API clients with bearer tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from q2c.catalog import services as catalog_services
from q2c.core import clock
from tests.contracts import builders


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _fresh_catalog_cache() -> Any:
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
    from q2c.quotes import services as quotes

    on_day(date(2027, 1, 10))
    entity = builders.seller()
    account = builders.customer()
    builders.northwind_catalog()
    rita = builders.user("rita", "sales_rep")
    max_ = builders.user("max", "sales_manager")
    quotes.save_team(name="DACH", manager_id=max_.pk, member_ids=[rita.pk], actor="test")
    return {"entity": entity, "account": account, "rita": rita, "max": max_}


@pytest.fixture
def contract(world: dict[str, Any], on_day: Any) -> Any:
    """C-1, active, made directly (no quote) on 2027-01-20."""
    on_day(date(2027, 1, 20))
    return builders.active_contract(world["entity"], world["account"], owner_id=world["rita"].pk)


@pytest.fixture
def api_as(db: Any) -> Any:
    """A test client calling the API with the bearer token of a user holding ``role``."""
    from django.test import Client

    from q2c.platform.auth import ApiToken

    made: dict[str, Any] = {}

    def make(role: str | None, username: str | None = None, user: Any = None) -> Client:
        person = user or made.get(username or role or "none")
        if person is None:
            person = builders.user(username or f"api_{role or 'none'}", *([role] if role else []))
            made[username or role or "none"] = person
        _, raw = ApiToken.issue(person, "tests")
        client = Client(headers={"Authorization": f"Bearer {raw}"})
        client.user = person  # type: ignore[attr-defined]
        return client

    return make
