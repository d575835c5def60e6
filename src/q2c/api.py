"""The JSON API at /api/v1: one NinjaAPI, each app adds its router here."""

from __future__ import annotations

from q2c.analytics.api import router as analytics_router
from q2c.billing.api import router as billing_router
from q2c.catalog.api import pricing_router
from q2c.catalog.api import router as catalog_router
from q2c.contracts.api import router as contracts_router
from q2c.invoicing.api import router as invoicing_router
from q2c.ledger.api import router as ledger_router
from q2c.orders.api import router as orders_router
from q2c.parties.api import router as parties_router
from q2c.payments.api import router as payments_router
from q2c.payments.cash.api import router as cash_router
from q2c.payments.dunning.api import router as dunning_router
from q2c.platform.api import build_api
from q2c.platform.tokens import router as platform_router
from q2c.quotes.api import router as quotes_router
from q2c.revenue.api import router as revenue_router
from q2c.tax.api import router as tax_router

api = build_api(routers=[("/platform/", platform_router), ("/parties/", parties_router), ("/ledger/", ledger_router), ("/revenue/", revenue_router), ("/tax/", tax_router), ("/catalog/", catalog_router), ("/pricing/", pricing_router), ("/orders/", orders_router), ("/quotes/", quotes_router), ("/contracts/", contracts_router), ("/invoicing/", invoicing_router), ("/billing/", billing_router), ("/payments/", payments_router), ("/cash/", cash_router), ("/dunning/", dunning_router), ("/analytics/", analytics_router)])
