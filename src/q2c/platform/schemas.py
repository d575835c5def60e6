"""API schemas every app shares, defined once so the OpenAPI components never clash by name."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from q2c.core.money import Money


class MoneyOut(Schema):
    """An amount as exact decimal text and its ISO 4217 currency: ``{"amount": "12.30", "currency": "EUR"}``."""

    amount: str
    currency: str


def money_out(value: Any) -> dict[str, str] | None:
    """``Money`` as the MoneyOut shape (fixed-point text, never an exponent); ``None`` stays ``None``."""
    if value is None:
        return None
    return {"amount": f"{value.amount:f}", "currency": value.currency}


def minor_amount(name: str) -> staticmethod[[Any], str]:
    """A schema resolver (``resolve_<name> = minor_amount("<name>")``): the row's ``<name>_minor``
    in its ``currency`` as decimal text, ``"0"`` when the column is empty."""
    column = f"{name}_minor"

    def resolve(obj: Any) -> str:
        minor = getattr(obj, column)
        return "0" if minor is None else str(Money.from_minor(int(minor), obj.currency).amount)

    return staticmethod(resolve)
