"""Template filters of the Billing pages: ``{{ invoice.total|money }}`` → ``7,467.25 EUR``;
``{{ minor|minor:"EUR" }}`` for amounts kept in minor units."""

from __future__ import annotations

from typing import Any

from django import template

from q2c.core.money import Money

register = template.Library()


@register.filter
def money(value: Any) -> str:
    if not isinstance(value, Money):
        return "" if value is None else str(value)
    digits = value.exponent
    return f"{value.amount:,.{digits}f} {value.currency}"


@register.filter
def minor(value: Any, currency: str) -> str:
    if value is None or value == "":
        return ""
    return money(Money.from_minor(int(value), currency))
