"""KPIs and dashboards — page URLs (mounted in ``q2c/urls.py`` at ``/analytics/``)."""

from __future__ import annotations

from django.urls import path

from q2c.analytics import views
from q2c.analytics.forecasting import views as forecast_views

app_name = "analytics"

urlpatterns = [
    path("forecasts/", forecast_views.forecasts, name="forecasts"),  # forecasts (docs/forecasts.md)
    path("", views.index, name="index"),
    path("sales/", views.sales, name="sales"),
    path("sales/mine/", views.mine, name="mine"),
    path("finance/", views.finance, name="finance"),
    path("executive/", views.executive, name="executive"),
]
