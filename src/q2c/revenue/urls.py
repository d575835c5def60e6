"""Revenue recognition — page URLs (mounted in ``q2c/urls.py`` at ``/revenue/``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from q2c.revenue import views

app_name = "revenue"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("runs/", views.start_run, name="start_run"),
    path("close/", views.close, name="close"),
    path("reports/<str:kind>/", views.report, name="report"),
    path("contracts/<int:contract_id>/", views.contract, name="contract"),
]
