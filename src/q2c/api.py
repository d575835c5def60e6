"""The JSON API at /api/v1: one NinjaAPI, each app adds its router here."""

from __future__ import annotations

from q2c.platform.api import build_api

api = build_api(routers=[])
