"""Pages of parties, mounted at ``/parties/`` (namespace ``parties``)."""

from __future__ import annotations

from django.urls import path

from q2c.parties import views

app_name = "parties"

urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:account_id>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<int:account_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("entities/", views.entity_list, name="entity_list"),
]
