"""Payments API schemas. Class names start with ``Payment`` so OpenAPI components stay unique.
Amounts travel as decimal strings (``"100.00"``), never floats."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

from q2c.core.money import Money
from q2c.platform.schemas import minor_amount

Num = StrictStr | StrictInt


def money_text(minor: int | None, currency: str) -> str:
    return "0" if minor is None else str(Money.from_minor(int(minor), currency).amount)


class PaymentAllocationIn(Schema):
    invoice_id: int
    amount: Num | None = Field(None, description="in the payment's currency; omitted: as much as open", examples=["100.00"])


class PaymentIn(Schema):
    account_id: int
    amount: Num = Field(..., examples=["100.00"])
    currency: str = Field(..., min_length=3, max_length=3, examples=["EUR"])
    method: str = Field("bank_transfer", examples=["bank_transfer"])
    received_on: date | None = None
    fees: Num | None = Field(None, examples=["0.00"])
    payer_name: str = Field("", max_length=140)
    payer_iban: str = Field("", max_length=34)
    reference: str = Field("", max_length=140)
    external_id: str = Field("", max_length=80)
    allocations: list[PaymentAllocationIn] = Field(default_factory=list)


class PaymentApplyIn(Schema):
    allocations: list[PaymentAllocationIn] = Field(..., min_length=1)
    on: date | None = None


class PaymentApplicationOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str
    amount: str
    invoice_amount: str
    invoice_currency: str
    fx: str
    applied_on: date
    reversed: bool

    resolve_amount = minor_amount("amount")

    @staticmethod
    def resolve_invoice_amount(obj: Any) -> str:
        return money_text(obj.invoice_amount_minor, obj.invoice_currency)

    @staticmethod
    def resolve_fx(obj: Any) -> str:
        return money_text(int(obj.base_minor) - int(obj.ar_base_minor), obj.base_currency)


class PaymentOut(Schema):
    id: int
    number: str
    account_id: int
    method: str
    status: str
    currency: str
    amount: str
    fees: str
    applied: str
    refunded: str
    unapplied: str
    received_on: date
    reference: str
    payer_name: str
    failure_code: str
    failure_reason: str
    applications: list[PaymentApplicationOut] = Field(default_factory=list)

    resolve_amount = minor_amount("amount")
    resolve_fees = minor_amount("fees")
    resolve_applied = minor_amount("applied")
    resolve_refunded = minor_amount("refunded")
    resolve_unapplied = minor_amount("unapplied")


class PaymentRefundIn(Schema):
    amount: Num | None = Field(None, description="omitted: all that is unapplied", examples=["10.00"])
    method: str = Field("original", examples=["original"])
    reason: str = Field("", max_length=300)


class PaymentRefundOut(Schema):
    id: int
    payment_id: int
    method: str
    currency: str
    amount: str
    refunded_on: date

    resolve_amount = minor_amount("amount")


class PaymentDisputeIn(Schema):
    payment_id: int | None = None
    invoice_id: int | None = None
    reason: str = Field("", max_length=300)
    external_id: str = Field("", max_length=80)


class PaymentResolveIn(Schema):
    won: bool
    fee: Num | None = Field(None, examples=["15.00"])


class PaymentDisputeOut(Schema):
    id: int
    payment_id: int | None
    invoice_id: int | None
    account_id: int
    status: str
    currency: str
    amount: str
    fee: str
    reason: str
    opened_on: date
    closed_on: date | None

    resolve_amount = minor_amount("amount")
    resolve_fee = minor_amount("fee")


class PaymentWriteOffIn(Schema):
    invoice_id: int
    reason: str = Field(..., min_length=1, max_length=300, examples=["short payment"])


class PaymentWriteOffOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str
    status: str
    currency: str
    amount: str
    reason: str
    requested_by: str
    decided_by: str

    resolve_amount = minor_amount("amount")


class PaymentOpenItemOut(Schema):
    invoice_id: int
    number: str
    account_id: int
    currency: str
    total: str
    open: str
    issue_date: date | None
    due_date: date | None
    days_overdue: int
    bucket: str
    disputed: bool

    @staticmethod
    def resolve_total(obj: Any) -> str:
        return str(obj.total.amount)

    @staticmethod
    def resolve_open(obj: Any) -> str:
        return str(obj.open.amount)


class PaymentAgingOut(Schema):
    account_id: int
    account_name: str
    currency: str
    buckets: dict[str, str]


class PaymentCreditOut(Schema):
    account_id: int
    credit: dict[str, str]


class PaymentCardIn(Schema):
    account_id: int
    invoice_ids: list[int] = Field(..., min_length=1)
    card_number: str = Field(..., max_length=30, examples=["4242424242424242"])


class PaymentCardConfirmIn(Schema):
    passed: bool


class PaymentChargeOut(Schema):
    id: int
    external_id: str
    status: str
    currency: str
    amount: str
    card_last4: str
    payment_id: int | None
    failure_code: str
    invoice_ids: list[int]

    resolve_amount = minor_amount("amount")


class PaymentWebhookOut(Schema):
    outcome: str


class PaymentMandateIn(Schema):
    account_id: int
    iban: str = Field(..., max_length=42, examples=["DE89370400440532013000"])
    bic: str = Field("", max_length=11)
    debtor_name: str = Field(..., max_length=70, examples=["Northwind Handels GmbH"])
    signed_on: date
    reference: str = Field("", max_length=35)


class PaymentMandateOut(Schema):
    id: int
    account_id: int
    reference: str
    debtor_name: str
    iban: str
    bic: str
    signed_on: date
    status: str
    first_used_on: date | None


class PaymentCollectionIn(Schema):
    entity_id: int
    collection_date: date
    invoice_ids: list[int] | None = None


class PaymentCollectionOut(Schema):
    id: int
    message_id: str
    collection_date: date
    count: int
    total: str
    settled: bool
    sha256: str

    resolve_total = minor_amount("total")


class PaymentReturnIn(Schema):
    end_to_end_id: str = Field(..., max_length=35, examples=["PAY-2027-000001"])
    reason_code: str = Field(..., max_length=4, examples=["AM04"])
