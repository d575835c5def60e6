"""Read side of parties: searching, filtering and sorting accounts, shared by pages and the API.

Must not import any q2c app above ``platform``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from q2c.core.errors import ValidationError
from q2c.parties.models import Account, AccountKind, Contact, LegalEntity

#: Sort keys offered to users → ORDER BY (always ending in a unique key, so pages are stable).
ACCOUNT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "country": ("country", "name", "id"),
    "-country": ("-country", "name", "id"),
    "kind": ("kind", "name", "id"),
    "-kind": ("-kind", "name", "id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def search_accounts(
    *,
    q: str = "",
    kind: str = "",
    country: str = "",
    currency: str = "",
    entity_id: int | None = None,
    parent_id: int | None = None,
    sort: str = "name",
) -> QuerySet[Account]:
    """Accounts matching a free-text search (name, tax id, invoice e-mail, city) and filters."""
    if sort not in ACCOUNT_SORTS:
        raise ValidationError(
            f"sort must be one of: {', '.join(ACCOUNT_SORTS)}", code="parties.invalid_sort", field="sort"
        )
    if kind and kind not in AccountKind.values:
        raise ValidationError(
            f"kind must be one of: {', '.join(AccountKind.values)}",
            code="parties.invalid_choice",
            field="kind",
        )
    rows = Account.objects.select_related("entity")
    text = " ".join(q.split())
    if text:
        rows = rows.filter(
            Q(name__icontains=text)
            | Q(tax_id__icontains=text.replace(" ", ""))
            | Q(invoice_email__icontains=text)
            | Q(billing_city__icontains=text)
        )
    if kind:
        rows = rows.filter(kind=kind)
    if country:
        rows = rows.filter(country=country.strip().upper())
    if currency:
        rows = rows.filter(currency=currency.strip().upper())
    if entity_id is not None:
        rows = rows.filter(entity_id=entity_id)
    if parent_id is not None:
        rows = rows.filter(parent_id=parent_id)
    return rows.order_by(*ACCOUNT_SORTS[sort])


def entities() -> QuerySet[LegalEntity]:
    return LegalEntity.objects.order_by("name", "id")


def contacts_of(account_id: int) -> QuerySet[Contact]:
    return Contact.objects.filter(account_id=account_id).order_by("-is_primary", "name", "id")


def account_countries() -> list[str]:
    """Countries that accounts are in, for the list filter."""
    return list(Account.objects.order_by("country").values_list("country", flat=True).distinct())
