"""API shapes of the tax app (django-ninja schemas).

Amounts travel as decimal strings (``"139.84"``), never JSON numbers, so no float ever touches
them; rates as percent strings (``"19"``). ``examples`` document each field in the OpenAPI
schema and let generated tests build a valid body (the Northwind rounding check). Every class
is prefixed ``Tax``: OpenAPI components are named by class, and other apps have their own
``LineIn``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Field, Schema

from q2c.tax.categories import TaxCategory
from q2c.tax.engine import CustomerKind, RoundingMethod, SupplyType

AMOUNT_PATTERN = r"^-?\d{1,15}(\.\d{1,6})?$"


class TaxLocationIn(Schema):
    country: str = Field(..., min_length=2, max_length=2, examples=["DE"], description="ISO 3166-1 alpha-2")
    region: str = Field(
        "", max_length=10, examples=[""], description="ISO 3166-2 subdivision (US state: CA), if it matters"
    )


class TaxSellerIn(TaxLocationIn):
    vat_id: str = Field("", max_length=40, examples=["DE136457858"])


class TaxBuyerIn(TaxLocationIn):
    kind: CustomerKind = Field(
        ..., examples=["business"], description="business (a taxable person) or consumer"
    )
    vat_id: str = Field("", max_length=40, examples=["DE812651301"])
    vat_id_valid: bool | None = Field(
        None,
        description="omit to check vat_id's format and check digits offline; true/false when the caller knows",
    )


class TaxExemptionIn(Schema):
    certificate_ref: str = Field(..., min_length=1, max_length=100, examples=["CA-RESALE-12345"])
    reason: str = Field("", max_length=300)
    jurisdictions: list[str] = Field(default_factory=list, max_length=100, examples=[["US-CA"]])
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="exclusive")


class TaxLineIn(Schema):
    id: str = Field(..., min_length=1, max_length=64, examples=["1"])
    amount: str = Field(
        ...,
        pattern=AMOUNT_PATTERN,
        examples=["139.84"],
        description="line total after discounts, net of tax (or including it when prices_include_tax)",
    )
    tax_category: TaxCategory | None = Field(None, examples=["service"], description="or give tax_code")
    tax_code: str | None = Field(
        None, max_length=40, description="a tax code (sets category and supply type)"
    )
    supply_type: SupplyType | None = Field(None, description="goods or services; implied by some categories")
    supply_date: date | None = Field(None, description="date of supply; default: the document's tax_date")
    ship_from: TaxLocationIn | None = None
    ship_to: TaxLocationIn | None = None
    exemption_reason: str = Field("", max_length=300, description="mention for an exempt product")


class TaxPreviewIn(Schema):
    currency: str = Field(..., min_length=3, max_length=3, examples=["EUR"])
    seller: TaxSellerIn
    buyer: TaxBuyerIn
    tax_date: date | None = Field(
        None, examples=["2027-03-15"], description="default: today (business clock)"
    )
    prices_include_tax: bool = False
    rounding_method: RoundingMethod = Field(
        RoundingMethod.PER_RATE, description="per_rate (EN 16931 BR-CO-17, default) or per_line"
    )
    rounding: Literal["half_up", "half_even"] = "half_up"
    ship_from: TaxLocationIn | None = None
    ship_to: TaxLocationIn | None = Field(None, description="deliver-to place (BT-80); needed for K")
    delivery_date: date | None = Field(None, description="actual delivery date (BT-72); needed for K")
    account_id: int | None = Field(None, description="the customer: its exemption certificate applies")
    exemption: TaxExemptionIn | None = Field(None, description="an exemption certificate to apply (what-if)")
    lines: list[TaxLineIn] = Field(..., min_length=1, max_length=1000)


class TaxLineOut(Schema):
    id: str
    net: str
    tax: str
    gross: str
    percent: str
    category: str
    jurisdiction: str
    treatment: str
    rule: str
    mention: str
    reason_code: str
    tax_date: date


class TaxSummaryOut(Schema):
    jurisdiction: str
    category: str
    percent: str
    taxable: str
    tax: str
    mention: str
    reason_code: str
    line_ids: list[str]
    deliver_to_country: str
    delivery_date: date | None


class TaxWarningOut(Schema):
    code: str
    message: str
    line_id: str | None


class TaxPreviewOut(Schema):
    currency: str
    rounding_method: str
    prices_include_tax: bool
    net_total: str
    tax_total: str
    gross_total: str
    lines: list[TaxLineOut]
    summary: list[TaxSummaryOut]
    mentions: list[str]
    warnings: list[TaxWarningOut]
