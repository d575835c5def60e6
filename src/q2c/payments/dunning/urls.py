"""Dunning and collections — page URLs (mounted at ``/dunning/`` in ``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import path

from q2c.payments.dunning import views

app_name = "payments_dunning"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("run/", views.run, name="run"),
    path("policies/", views.policies, name="policies"),
    path("accounts/<int:account_id>/", views.account, name="account"),
    path("accounts/<int:account_id>/promises/", views.record_promise, name="record_promise"),
    path("accounts/<int:account_id>/notes/", views.add_note, name="add_note"),
    path("promises/<int:promise_id>/close/", views.close_promise, name="close_promise"),
    path("entries/<int:entry_id>/", views.entry, name="entry"),
]
