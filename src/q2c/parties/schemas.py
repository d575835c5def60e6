"""API shapes of parties (django-ninja schemas).

Inputs are plain strings and numbers: the services check them and answer with parties' own error
codes (``parties.invalid_iban`` …), so the API and the pages report the same errors. ``examples``
document each field in the OpenAPI schema (and let generated tests build a valid body).
"""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

# --------------------------------------------------------------------------- bank accounts


class SellerBankAccountIn(Schema):
    iban: str = Field(..., max_length=64, examples=["DE89370400440532013000"])
    bic: str = Field("", max_length=20, examples=["COBADEFFXXX"])
    currency: str | None = Field(
        None, max_length=3, examples=["EUR"], description="default: the entity's base currency"
    )
    label: str = Field("", max_length=100, examples=["Main account"])
    bank_name: str = Field("", max_length=200, examples=["Commerzbank"])
    is_default: bool = Field(False, description="the account printed on invoices")


class SellerBankAccountOut(Schema):
    id: int
    iban: str
    bic: str
    currency: str
    label: str
    bank_name: str
    is_default: bool


# --------------------------------------------------------------------------- legal entities


class _LegalEntityFields(Schema):
    address_line1: str = Field("", max_length=200, examples=["Friedrichstraße 1"])
    address_line2: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=20, examples=["10117"])
    city: str = Field("", max_length=100, examples=["Berlin"])
    region: str = Field("", max_length=100)
    time_zone: str = Field("UTC", max_length=64, examples=["Europe/Berlin"])
    tax_id: str = Field("", max_length=40, examples=["DE136457858"])
    registration: str = Field("", max_length=100, examples=["HRB 12345, Amtsgericht Berlin"])
    sepa_creditor_id: str = Field("", max_length=40, examples=["DE98ZZZ09999999999"])
    email: str = Field("", max_length=254, examples=["billing@acme.example"])
    quote_prefix: str = Field("Q", max_length=10)
    contract_prefix: str = Field("CON", max_length=10)
    order_prefix: str = Field("ORD", max_length=10)
    invoice_prefix: str = Field("INV", max_length=10)
    credit_note_prefix: str = Field("CN", max_length=10)
    payment_terms_days: int = Field(30, examples=[30])
    rounding_mode: str = Field("half_up", examples=["half_up"], description="half_up or half_even")
    tax_rounding: str = Field("per_rate", examples=["per_rate"], description="per_rate or per_line")
    invoice_note: str = Field("", max_length=2000)


class LegalEntityIn(_LegalEntityFields):
    name: str = Field(..., max_length=200, examples=["Acme Cloud GmbH"])
    country: str = Field(..., max_length=2, examples=["DE"], description="ISO 3166-1 alpha-2")
    base_currency: str = Field(..., max_length=3, examples=["EUR"], description="ISO 4217")


class LegalEntityPatch(Schema):
    """Only the fields sent are changed."""

    name: str | None = Field(None, max_length=200)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    postal_code: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2)
    base_currency: str | None = Field(None, max_length=3)
    time_zone: str | None = Field(None, max_length=64)
    tax_id: str | None = Field(None, max_length=40)
    registration: str | None = Field(None, max_length=100)
    sepa_creditor_id: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    quote_prefix: str | None = Field(None, max_length=10)
    contract_prefix: str | None = Field(None, max_length=10)
    order_prefix: str | None = Field(None, max_length=10)
    invoice_prefix: str | None = Field(None, max_length=10)
    credit_note_prefix: str | None = Field(None, max_length=10)
    payment_terms_days: int | None = None
    rounding_mode: str | None = None
    tax_rounding: str | None = None
    invoice_note: str | None = Field(None, max_length=2000)


class LegalEntityOut(_LegalEntityFields):
    id: int
    name: str
    country: str
    base_currency: str
    bank_accounts: list[SellerBankAccountOut] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_bank_accounts(obj: object) -> list[object]:
        return list(obj.bank_accounts.all())  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- accounts


class _CustomerFields(Schema):
    kind: str = Field("business", examples=["business"], description="business or consumer")
    billing_line1: str = Field("", max_length=200, examples=["Jungfernstieg 1"])
    billing_line2: str = Field("", max_length=200)
    billing_postal_code: str = Field("", max_length=20, examples=["20354"])
    billing_city: str = Field("", max_length=100, examples=["Hamburg"])
    billing_region: str = Field("", max_length=100)
    shipping_line1: str = Field("", max_length=200)
    shipping_line2: str = Field("", max_length=200)
    shipping_postal_code: str = Field("", max_length=20)
    shipping_city: str = Field("", max_length=100)
    shipping_region: str = Field("", max_length=100)
    shipping_country: str = Field("", max_length=2, description="empty: ships to the billing address")
    tax_id: str = Field("", max_length=40, examples=["DE812651301"])
    payment_terms_days: int | None = Field(None, description="empty: the legal entity's default")
    locale: str = Field("en", max_length=20, examples=["de-DE"])
    invoice_email: str = Field("", max_length=254, examples=["ap@northwind.example"])
    parent_id: int | None = None
    owner_id: int | None = None


class CustomerIn(_CustomerFields):
    name: str = Field(..., max_length=200, examples=["Northwind Handels GmbH"])
    country: str = Field(..., max_length=2, examples=["DE"], description="ISO 3166-1 alpha-2")
    currency: str | None = Field(None, max_length=3, examples=["EUR"], description="default: the entity's")
    entity_id: int | None = Field(
        None, description="the selling legal entity; may be left out when there is one"
    )


class CustomerPatch(Schema):
    """Only the fields sent are changed; the legal entity of an account does not change."""

    name: str | None = Field(None, max_length=200)
    kind: str | None = None
    billing_line1: str | None = Field(None, max_length=200)
    billing_line2: str | None = Field(None, max_length=200)
    billing_postal_code: str | None = Field(None, max_length=20)
    billing_city: str | None = Field(None, max_length=100)
    billing_region: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2)
    shipping_line1: str | None = Field(None, max_length=200)
    shipping_line2: str | None = Field(None, max_length=200)
    shipping_postal_code: str | None = Field(None, max_length=20)
    shipping_city: str | None = Field(None, max_length=100)
    shipping_region: str | None = Field(None, max_length=100)
    shipping_country: str | None = Field(None, max_length=2)
    currency: str | None = Field(None, max_length=3)
    tax_id: str | None = Field(None, max_length=40)
    payment_terms_days: int | None = None
    locale: str | None = Field(None, max_length=20)
    invoice_email: str | None = Field(None, max_length=254)
    parent_id: int | None = None
    owner_id: int | None = None


class CustomerOut(_CustomerFields):
    id: int
    entity_id: int
    name: str
    country: str
    currency: str
    created_at: datetime
    updated_at: datetime


class CustomerFilter(Schema):
    q: str = Field("", max_length=200, description="search in name, tax id, invoice e-mail, city")
    kind: str = Field("", description="business or consumer")
    country: str = Field("", max_length=2)
    currency: str = Field("", max_length=3)
    entity_id: int | None = None
    parent_id: int | None = None
    sort: str = Field("name", description="name, country, kind, created; prefix - for descending")


# --------------------------------------------------------------------------- contacts


class CustomerContactIn(Schema):
    name: str = Field(..., max_length=200, examples=["Nora Nordmann"])
    email: str = Field("", max_length=254, examples=["nora@northwind.example"])
    phone: str = Field("", max_length=40, examples=["+49 40 123456"])
    title: str = Field("", max_length=100, examples=["Head of Purchasing"])
    is_billing: bool = False
    is_primary: bool = False


class CustomerContactPatch(Schema):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    title: str | None = Field(None, max_length=100)
    is_billing: bool | None = None
    is_primary: bool | None = None


class CustomerContactOut(Schema):
    id: int
    account_id: int
    name: str
    email: str
    phone: str
    title: str
    is_billing: bool
    is_primary: bool
