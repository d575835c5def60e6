"""The JSON API at /api/v1: one NinjaAPI, each app adds its router here."""

from __future__ import annotations

from q2c.platform.api import build_api
from q2c.revenue.api import router as revenue_router

api = build_api(routers=[("/revenue/", revenue_router)])
