"""The forecasts page (``/analytics/forecasts/``): the revenue and cash forecasts with their
backtest MAPE, and the win-probability model's held-out evaluation against its baselines.
Role check first (docs/permissions.md, analytics); ``?currency=`` picks the currency (default
EUR), a bad one is a 422 page naming the field."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from q2c.analytics.forecasting import forecast, store
from q2c.analytics.views import page
from q2c.core import clock
from q2c.core.money import check_currency
from q2c.platform.auth import require
from q2c.platform.roles import Role

FORECAST_ROLES = (Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)


def currency_of(raw: str | None) -> str:
    """The currency asked for (default EUR); an unknown one raises a 422 naming ``currency``."""
    return check_currency((raw or "EUR").strip().upper())


@require_GET
@page
def forecasts(request: HttpRequest) -> HttpResponse:
    require(request, *FORECAST_ROLES)
    currency = currency_of(request.GET.get("currency"))
    data = forecast.build(clock.today(), currency)
    stored = store.load()
    measured = store.load_value()
    value_rows = []
    if measured:
        for run, contexts in sorted((measured.get("value") or {}).items()):
            for context, v in sorted(contexts.items()):
                value_rows.append({"run": run, "context": context, **v})
    return render(
        request,
        "analytics/forecasts.html",
        {
            "data": data,
            "stored": stored,
            "currency": currency,
            "measured": measured,
            "value_rows": value_rows,
        },
    )
