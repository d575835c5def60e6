"""Top-level URL configuration: the API, the admin, login and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from q2c.api import api
from q2c.platform import views as platform_views

urlpatterns = [
    path("", platform_views.home, name="home"),
    path("healthz", platform_views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("ledger/", include("q2c.ledger.urls")),
    path("", include("q2c.platform.urls")),
    path("parties/", include("q2c.parties.urls")),
    path("catalog/", include("q2c.catalog.urls")),
    path("quotes/", include("q2c.quotes.urls")),
    path("contracts/", include("q2c.contracts.urls")),
    path("billing/", include("q2c.billing.urls")),
    path("orders/", include("q2c.orders.urls")),
    path("payments/", include("q2c.payments.urls")),
    path("cash/", include("q2c.payments.cash.urls")),
    path("dunning/", include("q2c.payments.dunning.urls")),
    path("revenue/", include("q2c.revenue.urls")),
    path("analytics/", include("q2c.analytics.urls")),
]
