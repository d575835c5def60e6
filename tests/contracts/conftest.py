"""Fixtures of the contracts tests: Acme Cloud selling to Northwind (../shared/scenarios/northwind.md),
Rita (sales_rep) in Max's (sales_manager) team, the Northwind catalog, a business clock that only
moves forward, users per role and API clients with bearer tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.contracts import builders
from tests.quotes.fixtures import _fresh_catalog_cache as _fresh_catalog_cache
from tests.quotes.fixtures import _immediate_tasks as _immediate_tasks
from tests.quotes.fixtures import northwind_world
from tests.quotes.fixtures import on_day as on_day


@pytest.fixture
def world(db: Any, on_day: Any) -> dict[str, Any]:
    return northwind_world(on_day, builders.northwind_catalog)


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
