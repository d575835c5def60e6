"""Builders for the payments tests: Acme Cloud GmbH and its customers (northwind.md), issued
invoices through the invoicing services, and the ledger's balances per account key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

from q2c.core.money import Money
from q2c.invoicing import services as invoicing
from q2c.ledger import queries as ledger_queries
from tests.billing.world import CONTOSO, FABRIKAM, at, customer, draft_lines, seller, user

__all__ = ["CONTOSO", "FABRIKAM", "at", "balances", "customer", "eur", "invoice", "seller", "usd", "user"]


def eur(text: str) -> Money:
    return Money(D(text), "EUR")


def usd(text: str) -> Money:
    return Money(D(text), "USD")


def invoice(account: Any, net: str = "1900.00", *, category: str = "service", quantity: str = "1") -> Any:
    """An issued invoice of one line ``quantity × net`` (19 % VAT for a German customer)."""
    draft = invoicing.create_draft(
        account_id=account.pk, lines=draft_lines(("Consulting", quantity, net, category))
    )
    return invoicing.issue(draft.pk, formats=[])


def balances(entity: Any, day: date = date(2027, 12, 31)) -> dict[str, D]:
    return {k: v.amount for k, v in ledger_queries.trial_balance(entity.pk, day).by_key().items() if v}
