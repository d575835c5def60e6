"""How numbers, dates and namespaced elements are written into e-invoice XML (UBL and CII share these rules).

EN 16931 wants amounts with at most two decimals (BR-DEC-*) and plain decimal notation
everywhere; Python's ``str(Decimal)`` may answer ``1E+3``, so every number goes through here.

Must not import Django or any q2c app.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from lxml import etree

from q2c.core.money import Money
from q2c.core.periods import Period


class Elements:
    """Adds namespaced elements named ``prefix:local`` (each syntax names its own prefixes)."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = dict(prefixes)

    def q(self, tag: str) -> str:
        """The Clark name (``{namespace}local``) of ``prefix:local``."""
        prefix, local = tag.split(":")
        return f"{{{self.prefixes[prefix]}}}{local}"

    def add(self, parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        """A child element of ``parent`` with optional text and attributes."""
        el = etree.SubElement(parent, self.q(tag))
        if text is not None:
            el.text = text
        for key, value in attrs.items():
            el.set(key, value)
        return el


class DocumentDataError(ValueError):
    """The document cannot be written as it stands (an unrounded amount, an empty period)."""


def amount(money: Money) -> str:
    """An amount with the currency's decimals; unrounded amounts are a bug upstream."""
    if not money.is_rounded():
        raise DocumentDataError(f"{money} is not rounded to {money.currency} minor units")
    return f"{money.amount:.{money.exponent}f}"


def decimal(value: Decimal) -> str:
    """A quantity, rate or unit price in plain notation without trailing zeros (``19``, ``0.002``)."""
    text = format(value.normalize(), "f")
    return text


def price(money: Money) -> str:
    """A unit price: at least the currency's decimals, more when the price has them."""
    if money.is_rounded():
        return amount(money)
    return decimal(money.amount)


def iso_date(day: date) -> str:
    return day.isoformat()


def cii_date(day: date) -> str:
    """CII date format 102 (``CCYYMMDD``)."""
    return day.strftime("%Y%m%d")


def inclusive_end(period: Period) -> date:
    """EN 16931 periods end on their last day; q2c's are half-open ``[start, end)``."""
    if period.end <= period.start:
        raise DocumentDataError(f"the period {period} is empty")
    return period.end - timedelta(days=1)


def tier_label(lower: Decimal, upper: Decimal | None) -> str:
    if upper is None:
        return f"{decimal(lower)}+"
    return f"{decimal(lower)}-{decimal(upper)}"
