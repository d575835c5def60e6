"""Ledger page URLs, mounted at ``/ledger/`` (``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import path

from q2c.ledger import views

app_name = "ledger"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:entity_id>/trial-balance/", views.trial_balance, name="trial_balance"),
    path("<int:entity_id>/accounts/", views.accounts, name="accounts"),
    path("<int:entity_id>/accounts/<int:account_id>/", views.general_ledger, name="general_ledger"),
    path("<int:entity_id>/journal/", views.journal, name="journal"),
    path("<int:entity_id>/entries/<int:entry_id>/", views.entry, name="entry"),
    path("<int:entity_id>/entries/<int:entry_id>/reverse/", views.reverse, name="reverse"),
    path("<int:entity_id>/periods/", views.periods, name="periods"),
    path("<int:entity_id>/periods/<str:period>/close/", views.close_period, name="close_period"),
    path("<int:entity_id>/periods/<str:period>/reopen/", views.reopen_period, name="reopen_period"),
]
