"""Cash application: bank statements, matching, the workbench — page URLs (mounted in ``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import path

from q2c.payments.cash import views

app_name = "payments_cash"

urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.upload, name="upload"),
    path("match/", views.match, name="match"),
    path("lines/<int:line_id>/", views.line_detail, name="line"),
    path("lines/<int:line_id>/accept/", views.accept, name="accept"),
    path("lines/<int:line_id>/apply/", views.apply, name="apply"),
    path("lines/<int:line_id>/not-ours/", views.not_ours, name="not_ours"),
]
