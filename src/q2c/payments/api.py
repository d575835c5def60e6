"""Payments, allocations, credits, refunds, disputes, gateways, direct debit, AR — the API router (mounted in ``q2c/api.py``). Thin: checks the role, calls services and
queries. Who may call what is written in docs/permissions.md.
"""

from __future__ import annotations

from ninja import Router

from q2c.platform.auth import api_auth

router = Router(auth=api_auth, tags=["payments"])
