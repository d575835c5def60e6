"""API shapes of the quotes app. Amounts, percentages and quantities travel as decimal strings
(or integers for quantities), never as JSON floats; a float where a number is expected is a 422.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt, StrictStr

Number = StrictStr | StrictInt


class QuoteLineIn(Schema):
    key: StrictStr | None = Field(None, max_length=60, description="stable key; default L1, L2, …")
    sku: StrictStr = Field(..., max_length=64)
    quantity: Number | None = None
    parent_key: StrictStr | None = Field(
        None, max_length=60, description="the bundle line this option belongs to"
    )
    discount: dict[str, Number] | None = Field(
        None, description='one of {"percent": "15"}, {"amount": "2.50"}, {"target_price": "25.50"}'
    )
    estimated_quantity: Number | None = None
    description: StrictStr | None = Field(None, max_length=500)


class QuoteHeaderIn(Schema):
    title: StrictStr | None = None
    introduction: StrictStr | None = None
    terms: StrictStr | None = Field(None, description="non-standard terms; empty: the standard terms")
    currency: StrictStr | None = None
    price_book: StrictStr | None = None
    sale_context: StrictStr | None = None
    promotion_codes: list[StrictStr] | None = None
    start_date: date | None = None
    term_months: StrictInt | None = None
    billing_frequency: StrictStr | None = None
    payment_terms_days: StrictInt | None = None
    auto_renew: StrictBool | None = None
    valid_until: date | None = None
    contact_name: StrictStr | None = None
    contact_email: StrictStr | None = None

    def header(self) -> dict[str, Any]:
        """The fields the caller set (explicit nulls of optional text fields clear them)."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k in HEADER_KEYS}


HEADER_KEYS = frozenset(QuoteHeaderIn.model_fields)


class QuoteCreate(QuoteHeaderIn):
    opportunity_id: StrictInt
    primary: StrictBool | None = None
    lines: list[QuoteLineIn] = Field(default_factory=list)


class QuoteUpdate(QuoteHeaderIn):
    lock_version: StrictInt = Field(..., description="the lock_version you read; a newer one answers 409")
    lines: list[QuoteLineIn] | None = Field(None, description="replaces all lines when given")


class QuotePreviewIn(QuoteHeaderIn):
    lines: list[QuoteLineIn] = Field(default_factory=list)


class QuoteLockIn(Schema):
    lock_version: StrictInt | None = None


class QuoteWithdrawIn(QuoteLockIn):
    reason: StrictStr = ""


class QuoteSendIn(QuoteLockIn):
    to: StrictStr = Field("", description="recipient e-mail; default the quote's contact")
    message: StrictStr = ""


class QuoteLineOut(Schema):
    key: str
    sku: str
    quantity: str | None
    parent_key: str
    discount: dict[str, str] | None
    estimated_quantity: str | None
    description: str


class QuoteTotalsOut(Schema):
    currency: str
    one_time: str
    mrr: str
    arr: str
    tcv: str
    list_tcv: str
    discount: str
    discount_percent: str
    margin_percent: str | None


class QuoteSummary(Schema):
    id: int
    number: str
    version: int
    label: str
    status: str
    is_primary: bool
    opportunity_id: int
    account_id: int
    account_name: str
    owner: str
    currency: str
    tcv: str
    valid_until: date
    lock_version: int


class QuoteOut(QuoteSummary):
    entity_id: int
    title: str
    introduction: str
    terms: str
    price_book: str
    sale_context: str
    promotion_codes: list[str]
    start_date: date
    term_months: int
    billing_frequency: str
    payment_terms_days: int
    auto_renew: bool
    contact_name: str
    contact_email: str
    lines: list[QuoteLineOut]
    totals: QuoteTotalsOut
    pricing: dict[str, Any]
    valid_configuration: bool
    approval_required: bool
    approval_reasons: list[dict[str, Any]]
    superseded: bool
    revised_from_id: int | None
    created_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    sent_at: datetime | None
    decided_at: datetime | None


class QuoteSentOut(Schema):
    quote: QuoteOut
    document_id: int
    sha256: str
    acceptance_url: str
    link_expires_at: datetime


class QuotePreviewOut(Schema):
    pricing: dict[str, Any] | None
    valid: bool
    approval: dict[str, Any]


class OpportunityIn(Schema):
    account_id: StrictInt
    name: StrictStr
    owner_id: StrictInt | None = None
    stage: StrictStr = "prospecting"
    expected_close_date: date | None = None
    next_step: StrictStr = ""


class OpportunityUpdate(Schema):
    lock_version: StrictInt
    name: StrictStr | None = None
    expected_close_date: date | None = None
    next_step: StrictStr | None = None
    owner_id: StrictInt | None = None


class OpportunityStageIn(Schema):
    stage: StrictStr
    loss_reason: StrictStr = ""
    note: StrictStr = ""
    lock_version: StrictInt | None = None


class OpportunityOut(Schema):
    id: int
    name: str
    account_id: int
    account_name: str
    entity_id: int
    owner: str
    owner_id: int
    stage: str
    probability: str
    currency: str
    amount: str | None
    expected_close_date: date | None
    next_step: str
    loss_reason: str
    closed_on: date | None
    created_at: datetime
    lock_version: int


class OpportunityStageChangeOut(Schema):
    from_stage: str
    to_stage: str
    probability: str
    changed_at: datetime
    actor: str
    note: str


class OpportunityPipelineColumn(Schema):
    stage: str
    open: bool
    count: int
    totals: list[dict[str, str]]
    weighted: list[dict[str, str]]
    opportunities: list[OpportunityOut]


class QuotesStageSettingIn(Schema):
    probability: Number


class QuotesStageSettingOut(Schema):
    stage: str
    probability: str


class ApprovalStepIn(Schema):
    sequence: StrictInt = 1
    role: StrictStr | None = None
    user_id: StrictInt | None = None
    mode: StrictStr = "any"


class ApprovalRuleIn(Schema):
    name: StrictStr
    kind: StrictStr
    threshold: Number | None = None
    currency: StrictStr = ""
    is_active: StrictBool = True
    description: StrictStr = ""
    steps: list[ApprovalStepIn]


class ApprovalRuleOut(Schema):
    id: int
    name: str
    kind: str
    threshold: str | None
    currency: str
    is_active: bool
    description: str
    steps: list[dict[str, Any]]


class SalesTeamIn(Schema):
    name: StrictStr
    manager_id: StrictInt
    member_ids: list[StrictInt] = Field(default_factory=list)


class SalesTeamOut(Schema):
    id: int
    name: str
    manager_id: int
    member_ids: list[int]


class ApprovalDecisionIn(Schema):
    decision: StrictStr = Field(..., description="approve or reject")
    comment: StrictStr = ""


class ApprovalStepOut(Schema):
    id: int
    request_id: int
    quote_id: int
    quote_label: str
    account_name: str
    owner: str
    sequence: int
    role: str | None
    user_id: int | None
    mode: str
    status: str
    approver_ids: list[int]
    reasons: list[dict[str, Any]]
    tcv: str
    currency: str
    decisions: list[dict[str, Any]]


class ApprovalRequestOut(Schema):
    id: int
    status: str
    reasons: list[dict[str, Any]]
    requested_by: str
    created_at: datetime
    decided_at: datetime | None
    steps: list[ApprovalStepOut]


class QuoteEventOut(Schema):
    seq: int
    type: str
    actor: str
    occurred_at: datetime
    payload: dict[str, Any]


class QuoteProductOut(Schema):
    sku: str
    name: str
    type: str
    unit: str
    is_bundle: bool
    options: list[dict[str, Any]]


class PublicQuoteOut(Schema):
    label: str
    status: str
    open_for_decision: bool
    document_sha256: str
    link_expires_at: datetime
    document: dict[str, Any]
    decision: dict[str, Any] | None


class QuoteAcceptIn(Schema):
    signer_name: StrictStr
    signer_title: StrictStr
    agree: StrictBool


class QuoteRejectIn(Schema):
    reason: StrictStr
    signer_name: StrictStr = ""


class QuoteDecisionOut(Schema):
    outcome: str
    signer_name: str
    signer_title: str
    reason: str
    decided_at: datetime
    document_sha256: str
