"""Payments, allocations, credits, refunds, disputes, gateways, direct debit, AR — page URLs (mounted in ``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "payments"

urlpatterns: list[URLPattern] = []
