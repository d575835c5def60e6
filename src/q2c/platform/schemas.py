"""API schemas every app shares, defined once so the OpenAPI components never clash by name."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class MoneyOut(Schema):
    """An amount as exact decimal text and its ISO 4217 currency: ``{"amount": "12.30", "currency": "EUR"}``."""

    amount: str
    currency: str


def money_out(value: Any) -> dict[str, str] | None:
    """``Money`` as the MoneyOut shape (fixed-point text, never an exponent); ``None`` stays ``None``."""
    if value is None:
        return None
    return {"amount": f"{value.amount:f}", "currency": value.currency}
