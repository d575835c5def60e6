"""API shapes of the catalog (django-ninja / pydantic), for validation and the OpenAPI document.

Prices, rates, percentages and quantities travel as decimal text ("30.00") or integers; JSON
floats are refused so no binary fraction reaches a price. The services re-check every value and
name the field at fault. ``*Patch`` shapes make every field optional (PATCH changes only what it
names).

May import ``q2c.platform`` and ninja/pydantic.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Schema
from pydantic import StrictInt, StrictStr, create_model

from q2c.platform.pagination import PageParams

#: A decimal as text ("0.002") or an integer; floats are refused.
Dec = StrictStr | StrictInt


def patch_of(schema: type[Schema], name: str) -> type[Schema]:
    """The same fields as ``schema``, all optional (for PATCH)."""
    fields: dict[str, Any] = {
        field: (info.annotation | None, None)  # type: ignore[operator]
        for field, info in schema.model_fields.items()
    }
    return create_model(name, __base__=Schema, **fields)  # type: ignore[call-overload, no-any-return]


class CatalogPaging(PageParams):
    """Page number and size (``q2c.platform.pagination``) plus each list's own filters."""


# --- units ---------------------------------------------------------------------------------


class CatalogUnitIn(Schema):
    code: str
    name: str
    divisible: bool = False


class CatalogUnitOut(CatalogUnitIn):
    id: int


class CatalogUnitFilters(CatalogPaging):
    pass


# --- products ------------------------------------------------------------------------------


class CatalogSspIn(Schema):
    context: str = "new"
    method: str
    currency: str | None = None
    amount: Dec | None = None
    percent: Dec | None = None
    low: Dec | None = None
    high: Dec | None = None


class CatalogProductIn(Schema):
    sku: str
    name: str
    description: str = ""
    family: str = ""
    type: str
    unit: str
    tax_category: str = "standard"
    revenue_category: str = "other"
    revenue_rule: str = "point_in_time"
    is_bundle: bool = False
    cost: Dec | None = None
    cost_currency: str | None = None
    floor_price: Dec | None = None
    floor_currency: str | None = None
    floor_enforcement: str = "approval"
    active_from: date | None = None
    active_to: date | None = None
    ssp: list[CatalogSspIn] = []


class CatalogSspOut(Schema):
    context: str
    method: str
    currency: str
    amount: str | None
    percent: str | None
    low: str | None
    high: str | None


class CatalogChargeRef(Schema):
    id: int
    code: str
    kind: str


class CatalogProductOut(Schema):
    id: int
    sku: str
    name: str
    description: str
    family: str
    type: str
    unit: str
    divisible: bool
    tax_category: str
    revenue_category: str
    revenue_rule: str
    is_bundle: bool
    cost: str | None
    cost_currency: str
    floor_price: str | None
    floor_currency: str
    floor_enforcement: str
    active_from: date | None
    active_to: date | None
    ssp: list[CatalogSspOut]
    charges: list[CatalogChargeRef]


class CatalogProductFilters(CatalogPaging):
    q: str | None = None
    family: str | None = None
    type: str | None = None
    is_bundle: bool | None = None
    active_on: date | None = None


# --- charges -------------------------------------------------------------------------------


class CatalogChargeIn(Schema):
    sku: str
    code: str
    name: str = ""
    kind: str
    billing_period: str | None = None
    period_months: int | None = None
    timing: str | None = None
    usage_metric: str | None = None
    usage_aggregation: str | None = None
    sequence: int = 0


class CatalogChargeOut(Schema):
    id: int
    product_id: int
    sku: str
    code: str
    name: str
    kind: str
    billing_period: str | None
    period_months: int
    timing: str | None
    usage_metric: str
    usage_aggregation: str | None
    sequence: int


class CatalogChargeFilters(CatalogPaging):
    sku: str | None = None
    kind: str | None = None


# --- price books ---------------------------------------------------------------------------


class CatalogPriceBookIn(Schema):
    code: str
    name: str
    currency: str
    segment: str = ""
    region: str = ""
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    is_active: bool = True


class CatalogPriceBookOut(Schema):
    id: int
    code: str
    name: str
    currency: str
    segment: str
    region: str
    parent: str | None
    valid_from: date | None
    valid_to: date | None
    is_active: bool


class CatalogPriceBookFilters(CatalogPaging):
    currency: str | None = None


# --- price entries -------------------------------------------------------------------------


class CatalogTierIn(Schema):
    lower: Dec
    upper: Dec | None = None
    unit_price: Dec
    flat_fee: Dec | None = None


class CatalogTierOut(Schema):
    lower: str
    upper: str | None
    unit_price: str
    flat_fee: str


class CatalogPriceEntryIn(Schema):
    price_book: str
    sku: str
    charge: str
    model: str
    price: Dec | None = None
    list_unit_price: Dec | None = None
    block_size: Dec | None = None
    percent: Dec | None = None
    percent_of_skus: list[str] = []
    percent_of_families: list[str] = []
    minimum: Dec | None = None
    maximum: Dec | None = None
    floor_price: Dec | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    tiers: list[CatalogTierIn] = []


class CatalogPriceEntryOut(Schema):
    id: int
    price_book: str
    currency: str
    sku: str
    charge: str
    model: str
    price: str | None
    list_unit_price: str | None
    block_size: str | None
    percent: str | None
    percent_of_skus: list[str]
    percent_of_families: list[str]
    minimum: str | None
    maximum: str | None
    floor_price: str | None
    valid_from: date | None
    valid_to: date | None
    tiers: list[CatalogTierOut]


class CatalogPriceEntryFilters(CatalogPaging):
    price_book: str | None = None
    sku: str | None = None


# --- contracted prices ---------------------------------------------------------------------


class CatalogContractedPriceIn(Schema):
    account_id: int
    sku: str
    charge: str
    currency: str
    unit_price: Dec | None = None
    discount_percent: Dec | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class CatalogContractedPriceOut(Schema):
    id: int
    account_id: int
    sku: str
    charge: str
    currency: str
    unit_price: str | None
    discount_percent: str | None
    valid_from: date | None
    valid_to: date | None


class CatalogContractedPriceFilters(CatalogPaging):
    account_id: int | None = None
    sku: str | None = None


# --- discount schedules --------------------------------------------------------------------


class CatalogScheduleTierIn(Schema):
    threshold: Dec
    percent: Dec


class CatalogScheduleTierOut(Schema):
    threshold: str
    percent: str


class CatalogScheduleIn(Schema):
    code: str
    name: str
    kind: str
    products: list[str] = []
    families: list[str] = []
    is_active: bool = True
    tiers: list[CatalogScheduleTierIn]


class CatalogScheduleOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    products: list[str]
    families: list[str]
    is_active: bool
    tiers: list[CatalogScheduleTierOut]


class CatalogScheduleFilters(CatalogPaging):
    pass


# --- promotions ----------------------------------------------------------------------------


class CatalogPromotionIn(Schema):
    code: str
    name: str
    percent: Dec | None = None
    amount: Dec | None = None
    currency: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    automatic: bool = False
    min_quantity: Dec | None = None
    products: list[str] = []
    families: list[str] = []
    sale_contexts: list[str] = []
    is_active: bool = True


class CatalogPromotionOut(Schema):
    id: int
    code: str
    name: str
    percent: str | None
    amount: str | None
    currency: str
    valid_from: date | None
    valid_to: date | None
    automatic: bool
    min_quantity: str | None
    products: list[str]
    families: list[str]
    sale_contexts: list[str]
    is_active: bool


class CatalogPromotionFilters(CatalogPaging):
    code: str | None = None


# --- bundles -------------------------------------------------------------------------------


class CatalogOptionIn(Schema):
    group_id: int
    sku: str
    selection: str = "optional"
    min_qty: Dec | None = None
    max_qty: Dec | None = None
    qty_tied_to_parent: bool = False
    qty_ratio: Dec | None = None
    included_in_price: bool = False
    sequence: int = 0


class CatalogOptionOut(Schema):
    id: int
    group_id: int
    sku: str
    selection: str
    min_qty: str | None
    max_qty: str | None
    qty_tied_to_parent: bool
    qty_ratio: str | None
    included_in_price: bool
    sequence: int


class CatalogOptionFilters(CatalogPaging):
    group_id: int | None = None


class CatalogOptionGroupIn(Schema):
    bundle: str
    code: str
    name: str
    min_options: int = 0
    max_options: int | None = None
    sequence: int = 0


class CatalogOptionGroupOut(Schema):
    id: int
    bundle: str
    code: str
    name: str
    min_options: int
    max_options: int | None
    sequence: int
    options: list[CatalogOptionOut]


class CatalogOptionGroupFilters(CatalogPaging):
    bundle: str | None = None


class CatalogRuleIn(Schema):
    code: str
    name: str
    kind: str
    bundle: str | None = None
    source: str | None = None
    target: str
    per_quantity: Dec | None = None
    target_quantity: Dec | None = None
    attribute: str = ""
    operator: str = "eq"
    values: list[str] = []
    action: str = "requires"
    message: str = ""
    is_active: bool = True


class CatalogRuleOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    bundle: str | None
    source: str | None
    target: str
    per_quantity: str | None
    target_quantity: str | None
    attribute: str
    operator: str
    values: list[str]
    action: str
    message: str
    is_active: bool


class CatalogRuleFilters(CatalogPaging):
    bundle: str | None = None


# --- discount limits, import -----------------------------------------------------------------


class CatalogLimitIn(Schema):
    max_percent: Dec


class CatalogLimitOut(Schema):
    role: str
    max_percent: str


class CatalogImportOut(Schema):
    kind: str
    rows: int
    created: int
    updated: int
    dry_run: bool


#: The documented body of POST /api/v1/pricing/preview (the service checks it, naming fields).
PREVIEW_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["currency", "lines"],
    "properties": {
        "currency": {"type": "string", "example": "EUR"},
        "price_book": {"type": "string", "description": "price book code; default: the best book in force"},
        "as_of": {"type": "string", "format": "date"},
        "start_date": {"type": "string", "format": "date"},
        "term_months": {"type": "integer", "default": 12},
        "sale_context": {"type": "string", "enum": ["new", "add_on", "renewal"]},
        "account_id": {"type": "integer", "description": "for contracted prices"},
        "segment": {"type": "string"},
        "region": {"type": "string"},
        "promotion_codes": {"type": "array", "items": {"type": "string"}},
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        "rounding": {"type": "string", "enum": ["half_up", "half_even"]},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "sku": {"type": "string"},
                    "charge": {"type": "string"},
                    "quantity": {"type": "string", "example": "50"},
                    "parent": {"type": "string", "description": "key of the bundle line"},
                    "discount": {
                        "type": "object",
                        "description": "exactly one of percent, amount, target_price",
                        "properties": {
                            "percent": {"type": "string"},
                            "amount": {"type": "string"},
                            "target_price": {"type": "string"},
                        },
                    },
                    "estimated_quantity": {"type": "string"},
                    "credit": {"type": "string", "description": "a negative one-time amount (credit line)"},
                    "description": {"type": "string"},
                },
            },
        },
    },
}
