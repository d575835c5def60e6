"""KPIs and dashboards — the API router (mounted in ``q2c/api.py`` at ``/api/v1/analytics/``).
Thin: checks the role first, then reads through ``q2c.analytics.queries``. Who may call what is
written in docs/permissions.md (analytics).

- ``GET /kpis?from=&to=&entity=&currency=``: the object ``q2c kpis --json`` prints; bad input is a
  422 problem naming the field (``from``, ``to``, ``entity``, ``currency``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from q2c.analytics import queries
from q2c.analytics.forecasting import api as forecast_api
from q2c.platform.auth import api_auth, require
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["analytics"])
router.add_router("", forecast_api.router)  # forecasts: GET /forecasts (docs/forecasts.md)

#: Who reads the KPI report (aggregates of sales and receivables).
KPI_ROLES = (Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)


class AnalyticsKpiQuery(Schema):
    # Text, not dates: the report checks them itself and names the field it refuses.
    date_from: str | None = Field(
        None, alias="from", description="first day, YYYY-MM-DD (default: 12 months before `to`)"
    )
    to: str | None = Field(None, description="last day included, YYYY-MM-DD (default: today)")
    entity: str | None = Field(None, description="legal entity id (default: every entity)")
    currency: str | None = Field(None, description="reporting currency, ISO 4217 (default: the entity's)")


@router.get("/kpis", response=dict[str, Any], operation_id="analytics_kpis", summary="KPI report")
def kpis(request: HttpRequest, params: Query[AnalyticsKpiQuery]) -> dict[str, Any]:
    require(request, *KPI_ROLES)
    scope = queries.scope_from(
        date_from=params.date_from, date_to=params.to, entity=params.entity, currency=params.currency
    )
    return queries.kpis_json(scope)
