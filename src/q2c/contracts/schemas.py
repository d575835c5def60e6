"""Request and response shapes of the contracts API (pydantic via django-ninja).

Amounts are ``{"amount": "1275.00", "currency": "EUR"}``; quantities and prices are decimal
strings — never floats.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from q2c.platform.schemas import MoneyOut, money_out

money = money_out


class LineOut(Schema):
    key: str
    product_id: int | None
    sku: str
    name: str
    charge_id: int | None
    charge: str
    charge_kind: str
    quantity: str
    unit: str
    net_unit_price: str | None
    period_months: int
    billing_period: str
    timing: str
    billing_frequency: str
    service_start: date
    service_end: date
    revenue_rule: str
    revenue_category: str
    tax_category: str
    ssp_unit: str | None
    sale_context: str
    usage_metric: str
    rate_card: list[dict[str, Any]]
    adjusts: str
    at_renewal: bool
    credit: bool
    value: MoneyOut
    quote_id: int | None
    quote_line_key: str
    document_sha256: str
    amendment_number: int | None


class ContractSummary(Schema):
    id: int
    number: str
    status: str
    account_id: int
    account_name: str
    entity_id: int
    currency: str
    start_date: date
    end_date: date
    term_months: int
    auto_renew: bool
    sale_context: str
    current_version: int
    lock_version: int
    one_time: MoneyOut
    mrr: MoneyOut
    value: MoneyOut


class RenewalOut(Schema):
    state: str
    label: str
    auto_renew: bool
    uplift_percent: str
    notice_deadline: date
    inside_notice_period: bool
    renewal_quote_due: date
    renewal_quote_id: int | None
    renewal_quote_number: str
    next_contract_id: int | None
    next_contract_number: str


class ContractOut(ContractSummary):
    title: str
    renewal_uplift_percent: str
    notice_days: int
    payment_terms_days: int
    billing_frequency: str
    billing_day: int
    billing_settings: dict[str, Any]
    non_cancellable: bool
    governing_law: str
    source_quote_id: int | None
    source_quote_number: str
    source_quote_version: int | None
    opportunity_id: int | None
    owner_id: int | None
    accepted_document_sha256: str
    previous_contract_id: int | None
    created_at: datetime
    signed_at: datetime | None
    activated_at: datetime | None
    ended_on: date | None
    cancel_effective_date: date | None
    cancel_reason: str
    renewal: RenewalOut
    lines: list[LineOut]


class VersionSummary(Schema):
    number: int
    kind: str
    amendment_number: int | None
    effective_date: date
    start_date: date
    end_date: date
    deviates: bool
    approval: str
    approved_by: str
    document_sha256: str
    pdf_sha256: str
    sent_at: datetime | None
    created_at: datetime
    created_by: str
    superseded_at: datetime | None
    one_time: MoneyOut
    mrr: MoneyOut
    value: MoneyOut


class ClauseOut(Schema):
    key: str
    title: str
    library_version: int
    text: str
    library_text: str
    deviates: bool


class VersionOut(VersionSummary):
    header: dict[str, Any]
    note: str
    clauses: list[ClauseOut]
    document_text: str
    lines: list[LineOut]


class ChunkOut(Schema):
    op: str
    text: str


class RedlineOut(Schema):
    a: int
    b: int
    chunks: list[ChunkOut]
    html: str
    inserted_words: int
    deleted_words: int


class AmendmentOut(Schema):
    id: int
    number: int
    label: str
    kind: str
    status: str
    effective_date: date
    sale_context: str
    request: dict[str, Any]
    reason: str
    quote_id: int | None
    quote_number: str
    based_on_version: int
    stale: bool
    version: int | None
    delta_value: MoneyOut
    created_at: datetime
    created_by: str
    applied_at: datetime | None
    delta_lines: list[LineOut]
    contract_lock_version: int


class EventOut(Schema):
    seq: int
    type: str
    actor: str
    occurred_at: datetime
    payload: dict[str, Any]


class NewLineIn(Schema):
    sku: str = Field(..., max_length=64)
    charge: str = Field(..., max_length=40)
    charge_kind: str
    quantity: Decimal
    unit_price: Decimal | None = None
    period_months: int = Field(0, ge=0, le=120)
    key: str = Field("", max_length=40)
    name: str = Field("", max_length=200)
    product_id: int | None = None
    charge_id: int | None = None
    revenue_rule: str = Field("", max_length=30)
    tax_category: str = Field("", max_length=30)
    ssp_unit: Decimal | None = None


class ContractIn(Schema):
    entity_id: int
    account_id: int
    currency: str = Field(..., max_length=3)
    start_date: date
    term_months: int
    lines: list[NewLineIn] = Field(..., max_length=500)
    auto_renew: bool = False
    renewal_uplift_percent: Decimal | None = None
    notice_days: int | None = None
    payment_terms_days: int | None = None
    billing_frequency: str = "month"
    billing_day: int | None = None
    non_cancellable: bool | None = None
    governing_law: str | None = Field(None, max_length=200)
    title: str = Field("", max_length=200)


class RevisionIn(Schema):
    lock_version: int
    clauses: dict[str, str | None] = Field(
        ..., description="clause key → negotiated text; null: back to the library text"
    )
    note: str = Field("", max_length=2000)


class DecisionIn(Schema):
    approve: bool
    comment: str = Field("", max_length=2000)


class SendIn(Schema):
    lock_version: int
    email: str = Field("", max_length=254)


class SentOut(Schema):
    contract_id: int
    status: str
    version: int
    document_sha256: str
    token: str
    url: str
    lock_version: int


class SignIn(Schema):
    signer_name: str = Field(..., max_length=200)
    signer_title: str = Field("", max_length=200)
    signer_email: str = Field("", max_length=254)
    agree: bool


class SignatureOut(Schema):
    contract_id: int
    number: str
    status: str
    version: int
    signer_name: str
    signed_at: datetime
    document_sha256: str


class AmendmentIn(Schema):
    lock_version: int
    kind: str
    effective_date: date
    line_key: str = Field("", max_length=40)
    sku: str = Field("", max_length=64)
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    new_end_date: date | None = None
    reason: str = Field("", max_length=2000)


class ContractRebaseIn(Schema):
    lock_version: int


class CancelIn(Schema):
    lock_version: int
    effective_date: date
    reason: str = Field(..., max_length=2000)
    override: bool = False


class ClauseIn(Schema):
    key: str = Field(..., max_length=60)
    title: str = Field(..., max_length=200)
    body: str = Field(..., max_length=20000)
    position: int | None = None
    is_active: bool | None = None
    note: str = Field("", max_length=500)


class LibraryClauseOut(Schema):
    key: str
    title: str
    position: int
    is_active: bool
    current_version: int
    body: str
    variables: list[str]


class ClauseVersionOut(Schema):
    version: int
    title: str
    body: str
    note: str
    created_at: datetime
    created_by: str


class SettingsOut(Schema):
    entity_id: int
    signature_on_acceptance: bool
    renewal_lead_days: int
    notice_days: int
    renewal_uplift_percent: str
    governing_law: str
    non_cancellable: bool
    signature_link_days: int


class SettingsPatch(Schema):
    signature_on_acceptance: bool | None = None
    renewal_lead_days: int | None = None
    notice_days: int | None = None
    renewal_uplift_percent: Decimal | None = None
    governing_law: str | None = Field(None, max_length=200)
    non_cancellable: bool | None = None
    signature_link_days: int | None = None


class PolicyIn(Schema):
    reduction: str


class PolicyOut(Schema):
    product_id: int
    sku: str
    reduction: str
