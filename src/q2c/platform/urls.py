"""Pages of the platform: API tokens and the placeholders of parts not built yet.

Included at the site root by ``q2c/urls.py`` (namespace ``platform``).
"""

from __future__ import annotations

from django.urls import path

from q2c.platform import views

app_name = "platform"

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("sections/<slug:slug>/", views.section, name="section"),
]
