"""Seller and buyer as invoices state them: plain dicts built from parties' ``LegalEntity`` and
``Account``, frozen into ``PartySnapshot`` rows at issue (shared by content hash, so a customer
billed every month has one snapshot until its data changes), and turned into the tax engine's
``Seller``/``Buyer`` and the document model's ``Seller``/``Buyer``.

Reads parties (a lower layer); writes only ``invoicing_party_snapshot``.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.db import connection

from q2c.invoicing.documents import model as doc
from q2c.invoicing.models import PartySnapshot
from q2c.parties.models import Account, BankAccount, Contact, LegalEntity
from q2c.tax.engine import Buyer, CustomerKind, Location, Seller

_REGION_CODE = re.compile(r"^(?:[A-Z]{2}-)?[A-Z0-9]{1,3}$")


def _region(value: str) -> str:
    """Parties keep a free-text region; the tax engine wants an ISO 3166-2 code (``CA``, ``US-CA``)."""
    text = (value or "").strip().upper()
    return text if _REGION_CODE.match(text) else ""


@lru_cache(maxsize=4096)
def _vat_valid(vat_id: str) -> bool:
    from q2c.tax.services import vat_id_is_valid

    return bool(vat_id) and vat_id_is_valid(vat_id)


def seller_data(entity: LegalEntity, bank: BankAccount | None) -> dict[str, Any]:
    return {
        "entity_id": entity.pk,
        "name": entity.name,
        "street": entity.address_line1,
        "additional": entity.address_line2,
        "city": entity.city,
        "postal_code": entity.postal_code,
        "country": entity.country,
        "region": entity.region,
        "vat_id": entity.tax_id,
        "registration": entity.registration,
        "email": entity.email,
        "iban": bank.iban if bank else "",
        "bic": bank.bic if bank else "",
        "bank_name": bank.bank_name if bank else "",
        "creditor_id": entity.sepa_creditor_id,
        "note": entity.invoice_note,
        **branding(entity.name),
    }


def branding(name: str) -> dict[str, str]:
    """The entity's slug (``Acme Cloud GmbH`` → ``acme-cloud-gmbh``), which picks its own PDF
    templates (``templates/invoicing/<slug>/invoice.html``), and its logo when the static files hold
    ``invoicing/<slug>/logo.png`` (or ``.jpg``)."""
    from django.contrib.staticfiles import finders
    from django.utils.text import slugify

    slug = slugify(name)[:50].strip("-_")
    out = {"slug": slug}
    for ext in ("png", "jpg"):
        if slug and finders.find(f"invoicing/{slug}/logo.{ext}"):
            out["logo"] = f"invoicing/{slug}/logo.{ext}"
            break
    return out


def default_banks(entity_ids: Iterable[int]) -> dict[int, BankAccount]:
    """Each entity's default bank account (the first by ``-is_default, id``)."""
    out: dict[int, BankAccount] = {}
    for bank in BankAccount.objects.filter(entity_id__in=set(entity_ids)).order_by(
        "entity_id", "-is_default", "id"
    ):
        out.setdefault(bank.entity_id, bank)
    return out


ACCOUNT_FIELDS = (
    "id", "entity_id", "name", "kind", "billing_line1", "billing_line2", "billing_postal_code", "billing_city",
    "billing_region", "country", "shipping_country", "currency", "tax_id", "payment_terms_days", "locale",
    "invoice_email",
)  # fmt: skip


def billing_emails(account_ids: Iterable[int]) -> dict[int, str]:
    """The address invoices go to: the account's invoice e-mail, else its billing contact's."""
    out: dict[int, str] = {}
    for account_id, email in (
        Contact.objects.filter(account_id__in=set(account_ids), is_billing=True)
        .exclude(email="")
        .order_by("account_id", "-is_primary", "id")
        .values_list("account_id", "email")
    ):
        out.setdefault(account_id, email)
    return out


def buyer_data(row: Mapping[str, Any], contact_email: str = "") -> dict[str, Any]:
    """A buyer from an ``Account`` as a dict of ``ACCOUNT_FIELDS`` (``values()`` rows, bulk-friendly)."""
    locale = (row.get("locale") or "en").replace("-", "_")
    if "_" not in locale:
        locale = {"en": "en_US", "de": "de_DE", "fr": "fr_FR"}.get(locale.lower(), locale)
    return {
        "account_id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "street": row["billing_line1"],
        "additional": row["billing_line2"],
        "city": row["billing_city"],
        "postal_code": row["billing_postal_code"],
        "country": row["country"],
        "region": row["billing_region"],
        "ship_country": row["shipping_country"] or row["country"],
        "vat_id": row["tax_id"],
        "email": row["invoice_email"] or contact_email,
        "customer_number": f"C-{row['id']}",
        "locale": locale,
    }


def account_row(account: Account) -> dict[str, Any]:
    return {f: getattr(account, f) for f in ACCOUNT_FIELDS}


def tax_seller(data: Mapping[str, Any]) -> Seller:
    return Seller(data["country"], _region(data.get("region", "")), data.get("vat_id", ""))


def tax_buyer(data: Mapping[str, Any]) -> Buyer:
    kind = CustomerKind.BUSINESS if data.get("kind") == "business" else CustomerKind.CONSUMER
    vat = data.get("vat_id", "") or ""
    return Buyer(data["country"], _region(data.get("region", "")), kind, vat, _vat_valid(vat))


def ship_from(data: Mapping[str, Any]) -> Location:
    return Location(data["country"], _region(data.get("region", "")))


def ship_to(data: Mapping[str, Any]) -> Location:
    country = data.get("ship_country") or data["country"]
    return Location(country, _region(data.get("region", "")) if country == data["country"] else "")


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def snapshot_rows(datas: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Store each party dict once (by SHA-256) and return ``(snapshot id, sha256)``, in order.

    Bulk, whatever the count: one ``INSERT … ON CONFLICT DO NOTHING`` (both SQLite and PostgreSQL
    know it; a concurrent writer storing the same snapshot is not an error) and one read of the ids.
    """
    texts = [canonical(d) for d in datas]
    hashes = [hashlib.sha256(t).hexdigest() for t in texts]
    unique = dict(zip(hashes, texts, strict=True))
    table = connection.ops.quote_name(PartySnapshot._meta.db_table)
    value = "(%s, %s::jsonb)" if connection.vendor == "postgresql" else "(%s, %s)"
    pairs = [(h, t.decode()) for h, t in unique.items()]
    with connection.cursor() as cursor:
        # Multi-row statements (400 rows, 800 parameters: within SQLite's limit): one round trip
        # per chunk on PostgreSQL, where a client-side executemany would make one per row.
        for i in range(0, len(pairs), 400):
            chunk = pairs[i : i + 400]
            cursor.execute(
                f"INSERT INTO {table} (sha256, data) VALUES {', '.join([value] * len(chunk))} "  # noqa: S608
                "ON CONFLICT (sha256) DO NOTHING",
                [x for pair in chunk for x in pair],
            )
        have: dict[str, int] = {}
        keys = sorted(unique)
        for i in range(0, len(keys), 900):
            hashes_chunk = keys[i : i + 900]
            cursor.execute(
                f"SELECT sha256, id FROM {table} WHERE sha256 IN ({', '.join(['%s'] * len(hashes_chunk))})",  # noqa: S608
                hashes_chunk,
            )
            have.update((h, int(pk)) for h, pk in cursor.fetchall())
    return [(have[h], h) for h in hashes]


def document_seller(data: Mapping[str, Any]) -> doc.Seller:
    return doc.Seller(
        name=data["name"],
        address=doc.Address(
            street=data.get("street", ""),
            additional=data.get("additional", ""),
            city=data.get("city", ""),
            postal_code=data.get("postal_code", ""),
            country=data.get("country", ""),
        ),
        vat_id=data.get("vat_id", ""),
        legal_registration=data.get("registration", ""),
        email=data.get("email", ""),
        iban=data.get("iban", ""),
        bic=data.get("bic", ""),
        account_name=data.get("name", "") if data.get("iban") else "",
        creditor_id=data.get("creditor_id", ""),
        logo=data.get("logo", ""),
        slug=data.get("slug", ""),
    )


def document_buyer(data: Mapping[str, Any], *, deliver_to: str = "") -> doc.Buyer:
    return doc.Buyer(
        name=data["name"],
        address=doc.Address(
            street=data.get("street", ""),
            additional=data.get("additional", ""),
            city=data.get("city", ""),
            postal_code=data.get("postal_code", ""),
            country=data.get("country", ""),
            subdivision=_region(data.get("region", "")),
        ),
        vat_id=data.get("vat_id", ""),
        email=data.get("email", ""),
        customer_number=data.get("customer_number", ""),
        deliver_to_country=deliver_to,
        locale=data.get("locale", "en_US"),
    )
