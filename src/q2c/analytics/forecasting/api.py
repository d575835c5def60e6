"""Forecasts API (included by the analytics router at ``/api/v1/analytics/``):

- ``GET /forecasts?currency=&months=``: the object ``q2c forecast --json`` prints; a bad
  currency or months is a 422 problem naming the field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from q2c.analytics.forecasting import forecast
from q2c.analytics.forecasting.views import FORECAST_ROLES, currency_of
from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.platform.auth import api_auth, require

router = Router(auth=api_auth, tags=["analytics"])


class AnalyticsForecastQuery(Schema):
    currency: str | None = Field(None, description="ISO 4217 (default EUR); only amounts in it count")
    months: str | None = Field(None, description="months ahead, 1–12 (default 3)")


@router.get("/forecasts", response=dict[str, Any], operation_id="analytics_forecasts", summary="Forecasts")
def forecasts(request: HttpRequest, params: Query[AnalyticsForecastQuery]) -> dict[str, Any]:
    require(request, *FORECAST_ROLES)
    currency = currency_of(params.currency)
    raw = (params.months or "3").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 12:
        raise ValidationError(
            "months must be a whole number from 1 to 12", code="analytics.invalid_months", field="months"
        )
    return forecast.build(clock.today(), currency, int(raw))
