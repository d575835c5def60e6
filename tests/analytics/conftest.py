"""Shared helpers for the analytics tests: short constructors for money and dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from q2c.core.money import Money


def eur(amount: str | int) -> Money:
    return Money(Decimal(amount), "EUR")


def usd(amount: str | int) -> Money:
    return Money(Decimal(amount), "USD")


def d(text: str) -> date:
    return date.fromisoformat(text)
