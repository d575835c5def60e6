"""Builders for the tax tests: money, lines and documents (Acme Cloud and its customers from
shared/scenarios/northwind.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from q2c.core.money import Money
from q2c.tax.engine import (
    Buyer,
    CustomerKind,
    Seller,
    TaxCategory,
    TaxDocument,
    TaxLine,
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def money(amount: str, currency: str) -> Money:
    return Money(Decimal(amount), currency)


def line(line_id: str, amount: Money, category: TaxCategory = TaxCategory.SERVICE, **kw) -> TaxLine:
    return TaxLine(id=line_id, amount=amount, tax_category=category, **kw)


#: Acme Cloud GmbH, Berlin (Northwind scenario) and its customers.
ACME = Seller("DE", vat_id="DE136457858")
NORTHWIND = Buyer("DE", kind=CustomerKind.BUSINESS, vat_id="DE812651301", vat_id_valid=True)
FABRIKAM = Buyer("FR", kind=CustomerKind.BUSINESS, vat_id="FR40303265045", vat_id_valid=True)


def document(
    *lines: TaxLine, seller=ACME, buyer=NORTHWIND, on=date(2027, 2, 1), currency="EUR", **kw
) -> TaxDocument:
    return TaxDocument(currency=currency, seller=seller, buyer=buyer, tax_date=on, lines=tuple(lines), **kw)
