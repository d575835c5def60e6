"""Request and response shapes of the billing API. Dates are ``YYYY-MM-DD``; quantities and
prices decimal text.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

Num = StrictStr | StrictInt


class RunIn(Schema):
    as_of: date = Field(..., examples=["2027-03-01"])
    workers: int = Field(1, ge=1, le=64)


class ShardOut(Schema):
    shard: int
    shards: int
    status: str
    accounts_total: int
    accounts_done: int
    invoices: int
    errors: list[dict[str, Any]]


class RunOut(Schema):
    id: int
    as_of: date
    status: str
    workers: int
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    accounts_total: int
    accounts_done: int
    invoices: int
    totals: dict[str, str]
    errors: list[dict[str, Any]]
    last_error: str
    shards: list[ShardOut] = []


class RunQueuedOut(Schema):
    as_of: date
    status: str
    detail: str


class ScheduleFilterIn(Schema):
    account_id: int | None = None
    contract_id: int | None = None
    status: str | None = Field(None, description="active or ended")
    kind: str | None = Field(None, description="recurring, one_time or milestone")


class ScheduleOut(Schema):
    id: int
    entity_id: int
    account_id: int
    contract_id: int
    contract_number: str
    line_key: str
    kind: str
    status: str
    sku: str
    description: str
    currency: str
    quantity: str
    unit_price: str | None
    price_months: int
    every_months: int
    anchor_day: int | None
    timing: str
    start: date
    end: date | None
    trigger: str
    billed_through: date | None

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str | None:
        return None if obj.unit_price is None else str(obj.unit_price)


class BilledItemOut(Schema):
    period_start: date
    period_end: date
    part: int
    bill_date: date
    amount_minor: int
    currency: str
    invoice_id: int
    bill_run_id: int | None


class AdjustmentOut(Schema):
    id: int
    effective: date
    part: int
    kind: str
    bill_date: date
    service_start: date
    service_end: date
    quantity: str
    unit_price: str
    numerator: int
    denominator: int
    amount_minor: int
    currency: str
    description: str
    billed: bool

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str:
        return str(obj.unit_price)


class MilestoneOut(Schema):
    position: int
    name: str
    percent: str
    done_on: date | None

    @staticmethod
    def resolve_percent(obj: Any) -> str:
        return str(obj.percent)


class ScheduleDetailOut(ScheduleOut):
    items: list[BilledItemOut] = []
    adjustments: list[AdjustmentOut] = []
    milestones: list[MilestoneOut] = []


class MilestoneIn(Schema):
    name: str = Field(..., max_length=200, examples=["Kick-off"])
    percent: Num = Field(..., examples=["30"])


class MilestonesIn(Schema):
    milestones: list[MilestoneIn] = Field(..., min_length=1, max_length=50)


class MilestoneDoneIn(Schema):
    done_on: date = Field(..., examples=["2027-03-01"])


class BillingSettingsIn(Schema):
    amendment_style: str | None = Field(None, examples=["delta"], description="delta or credit_and_charge")
    proration_timing: str | None = Field(
        None, examples=["immediately"], description="immediately or next_invoice"
    )
    proration_mode: str | None = Field(None, examples=["days"], description="days or seconds")
    consolidate: bool | None = None
    stub_basis: str | None = Field(None, examples=["billing_period"])
    batch_size: int | None = Field(None, ge=1, le=10_000)


class BillingSettingsOut(Schema):
    entity_id: int
    amendment_style: str
    proration_timing: str
    proration_mode: str
    consolidate: bool
    stub_basis: str
    batch_size: int


class ChargeRuleIn(Schema):
    entity_id: int = Field(..., examples=[1])
    sku: str = Field(..., max_length=64, examples=["EDGE"])
    charge: str = Field("", max_length=40)
    trigger: str = Field(
        ...,
        examples=["delivery"],
        description="contract_start, activation, delivery, completion, date, milestones",
    )


class ChargeRuleOut(Schema):
    id: int
    entity_id: int
    sku: str
    charge: str
    trigger: str


class UsageEventErrorOut(Schema):
    index: int
    id: str | None
    code: str
    field: str | None
    detail: str


class UsageIngestOut(Schema):
    received: int
    accepted: int
    duplicates: int
    rejected: int
    errors: list[UsageEventErrorOut]


class UsageLineOut(Schema):
    charge_id: int
    kind: str
    description: str
    dimension: str
    quantity: str
    amount: str
    currency: str
    bill_on: date
    invoice_id: int | None
    invoice_number: str
    tiers: list[dict[str, Any]]


class UsageTermsOut(Schema):
    """A usage subscription's terms from a month on (``effective_from`` null: the subscription's
    own, from its start)."""

    effective_from: date | None
    included: str | None
    minimum: str | None
    price_book: str
    prices: list[dict[str, Any]]


class UsageMonthOut(Schema):
    period_start: date
    period_end: date
    label: str
    events: int
    unrated_events: int
    late_events: int
    aggregates: list[dict[str, Any]]
    rated: str | None
    true_up: str | None
    billed: str
    lines: list[UsageLineOut]
    problem: str
    terms: UsageTermsOut


class UsageSubscriptionOut(Schema):
    id: int
    account_id: int
    account: str
    contract_number: str
    sku: str
    metric: str
    aggregation: str
    currency: str
    included: str
    minimum: str | None
    start: date
    end: date | None
    months: list[UsageMonthOut]
    terms: list[UsageTermsOut]


class UsageUnbilledOut(Schema):
    entity_id: int
    account_id: int
    subscription_id: int
    contract_number: str
    sku: str
    metric: str
    revenue_category: str
    period_start: date
    period_end: date
    quantity: str
    currency: str
    occurred: str
    invoiced: str
    amount: str

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_currency(obj: Any) -> str:
        return str(obj.amount.currency)

    @staticmethod
    def resolve_occurred(obj: Any) -> str:
        return str(obj.occurred.amount)

    @staticmethod
    def resolve_invoiced(obj: Any) -> str:
        return str(obj.invoiced.amount)

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return str(obj.amount.amount)
