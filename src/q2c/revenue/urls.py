"""Revenue recognition — page URLs (mounted in ``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "revenue"

urlpatterns: list[URLPattern] = []
