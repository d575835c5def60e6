"""Fixtures of the quotes tests: Acme Cloud selling to Northwind (the reference scenario), Rita
(sales_rep) in Max's (sales_manager) team, the Northwind catalog, and tasks that run at once so
emails land in ``mail.outbox``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from q2c.quotes import services
from tests.quotes import builders
from tests.quotes.fixtures import _fresh_catalog_cache as _fresh_catalog_cache
from tests.quotes.fixtures import _immediate_tasks as _immediate_tasks
from tests.quotes.fixtures import northwind_world
from tests.quotes.fixtures import on_day as on_day


@pytest.fixture
def world(db: Any, on_day: Any) -> dict[str, Any]:
    return northwind_world(on_day, builders.northwind_catalog)


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
