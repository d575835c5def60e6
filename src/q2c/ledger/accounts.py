"""Finding accounts by role, for other apps' posting rules — never by hard-coded id or code.

    from q2c.ledger import accounts, chart
    ar = accounts.by_key(entity_id, chart.AR)
    sales = accounts.revenue_account(entity_id, RevenueCategory.SUBSCRIPTIONS)
    vat = accounts.tax_payable_account(entity_id, "DE-S-19")   # created on first use

Posting rules usually need no lookup at all: a :class:`~q2c.ledger.domain.DraftLine` may name
its account by key (``DraftLine.dr(chart.AR, amount)``) and ``post`` resolves the keys of a whole
batch in one query. Tax-payable accounts must exist first (call :func:`tax_payable_account`).

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

from q2c.ledger import chart, errors, services
from q2c.ledger.categories import RevenueCategory
from q2c.ledger.models import Account


def by_key(entity_id: int, key: str) -> Account:
    """The account with a role key (``"ar"``, ``"bank"``, ``"revenue.usage"`` …).

    Errors: ``ledger.unknown_account`` when the entity's chart has no such key.
    """
    found = Account.objects.filter(entity_id=entity_id, key=key).first()
    if found is None:
        raise errors.UnknownAccount(f"entity {entity_id} has no account with key '{key}'", field="account")
    return found


def by_code(entity_id: int, code: str) -> Account:
    found = Account.objects.filter(entity_id=entity_id, code=code).first()
    if found is None:
        raise errors.UnknownAccount(f"entity {entity_id} has no account with code '{code}'", field="account")
    return found


def keyed(entity_id: int) -> dict[str, Account]:
    """Every keyed account of an entity, by key (one query)."""
    return {a.key: a for a in Account.objects.filter(entity_id=entity_id, key__isnull=False) if a.key}


def revenue_account(entity_id: int, category: RevenueCategory | str) -> Account:
    """The revenue account of a revenue category (products name their category)."""
    return by_key(entity_id, chart.revenue(category))


def tax_payable_account(entity_id: int, tax_code: str, *, actor: str = "") -> Account:
    """The tax-payable account of a tax code, created on demand (see ``services``)."""
    return services.tax_payable_account(entity_id, tax_code, actor=actor)
