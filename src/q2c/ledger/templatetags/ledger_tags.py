"""Template filters of the ledger pages: ``{% load ledger_tags %}``.

``{{ money|amount }}`` shows a Money (or None) as ``1,234.50`` with the currency's own decimals:
display only; amounts are never parsed back from it.
"""

from __future__ import annotations

from typing import Any

from django import template

from q2c.core.money import Money

register = template.Library()


@register.filter
def amount(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return format(value.amount, ",f")
    return str(value)
