"""Cash application: bank statements, matching, the workbench — page URLs (mounted in ``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "payments_cash"

urlpatterns: list[URLPattern] = []
