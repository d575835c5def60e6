"""KPIs, forecasts and dashboards — page URLs (mounted in ``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "analytics"

urlpatterns: list[URLPattern] = []
