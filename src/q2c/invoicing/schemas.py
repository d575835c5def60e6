"""Request and response shapes of the invoicing API. Amounts travel as decimal text ("1275.00")
with their currency; quantities, prices and rates as decimal text or integers — floats are refused
(they are not exact). Dates are ``YYYY-MM-DD``.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

from q2c.core.money import Money
from q2c.platform.schemas import minor_amount

Num = StrictStr | StrictInt


def money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else str(Money.from_minor(int(minor), currency).amount)


class InvoiceFilterIn(Schema):
    status: str | None = Field(
        None, description="draft, issued, partially_paid, paid, void, uncollectible, or open"
    )
    account_id: int | None = None
    entity_id: int | None = None
    currency: str | None = Field(None, max_length=3)
    issued_from: date | None = None
    issued_to: date | None = None
    overdue: bool = False
    bill_run_id: int | None = None
    q: str | None = Field(None, max_length=100, description="invoice number or customer name")


class InvoiceSummaryOut(Schema):
    id: int
    number: str
    status: str
    account_id: int
    account_name: str
    currency: str
    issue_date: date | None
    due_date: date | None
    net: str
    tax: str
    total: str
    open: str
    bill_run_id: int | None

    @staticmethod
    def resolve_account_name(obj: Any) -> str:
        return str(obj.account.name)

    resolve_net = minor_amount("net")
    resolve_tax = minor_amount("tax")
    resolve_total = minor_amount("total")
    resolve_open = minor_amount("open")


class TotalsOut(Schema):
    count: int
    total: dict[str, str]
    open: dict[str, str]
    aging: dict[str, dict[str, str]]


class InvoiceLineIn(Schema):
    description: str = Field(..., max_length=300, examples=["Consulting day"])
    quantity: Num = Field("1", examples=["2"])
    unit_price: Num = Field(..., examples=["950.00"])
    tax_category: str = Field(
        ..., description="standard, service, digital_service, goods, …", examples=["service"]
    )
    supply_type: str = Field(
        "",
        max_length=10,
        description="goods or services, where the tax category does not say (reduced, exempt …)",
    )
    discount: Num = Field("0", description="an amount off the line", examples=["0"])
    item_id: str = Field("", max_length=64)
    unit_code: str = Field("C62", max_length=5)
    service_start: date | None = None
    service_end: date | None = Field(None, description="exclusive")
    revenue_category: str = Field("other", max_length=30, examples=["services"])
    contract_id: int | None = None
    posting: str | None = Field(
        None, description="deferred, unbilled or revenue (default: revenue; deferred with a contract)"
    )


class DraftIn(Schema):
    account_id: int = Field(..., examples=[1])
    currency: str | None = Field(None, max_length=3, description="default: the customer's")
    lines: list[InvoiceLineIn] = Field(..., min_length=1, max_length=500)
    notes: str = Field("", max_length=4000)
    buyer_reference: str = Field("", max_length=100)
    terms_days: int | None = Field(None, ge=0, le=365)


class LinesIn(Schema):
    lines: list[InvoiceLineIn] = Field(..., min_length=1, max_length=500)


class InvoiceLineOut(Schema):
    id: int
    position: int
    description: str
    item_id: str
    quantity: str
    unit_price: str
    print_unit_price: str | None
    share: str
    gross: str
    discount: str
    net: str
    tax: str
    credited: str
    vat_category: str
    tax_percent: str | None
    tax_mention: str
    service_start: date | None
    service_end: date | None
    source_type: str
    source_id: str
    contract_id: int | None
    contract_number: str
    contract_line_key: str
    schedule_id: int | None
    posting: str

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str:
        return str(obj.unit_price)

    @staticmethod
    def resolve_print_unit_price(obj: Any) -> str | None:
        return None if obj.print_unit_price is None else str(obj.print_unit_price)

    @staticmethod
    def resolve_share(obj: Any) -> str:
        return f"{obj.share_num}/{obj.share_den}"

    resolve_gross = minor_amount("gross")
    resolve_discount = minor_amount("discount")
    resolve_net = minor_amount("net")
    resolve_tax = minor_amount("tax")
    resolve_credited = minor_amount("credited")

    @staticmethod
    def resolve_tax_percent(obj: Any) -> str | None:
        return None if obj.tax_percent is None else str(obj.tax_percent)


class DocumentOut(Schema):
    format: str
    filename: str
    content_type: str
    sha256: str
    created_at: datetime


class DeliveryOut(Schema):
    id: int
    to: str
    status: str
    attempts: int
    last_error: str
    queued_at: datetime
    sent_at: datetime | None
    attachments: str = ""
    requested_by: str = ""


class InvoicingResendIn(Schema):
    to: str = Field("", max_length=254, description="another address; empty: the customer's invoice address")


class CreditNoteSummaryOut(Schema):
    id: int
    number: str
    invoice_id: int
    reason_code: str
    issue_date: date
    currency: str
    total: str
    applied: str
    to_balance: str

    resolve_total = minor_amount("total")
    resolve_applied = minor_amount("applied")
    resolve_to_balance = minor_amount("to_balance")


class InvoiceOut(InvoiceSummaryOut):
    entity_id: int
    tax_date: date | None
    delivery_date: date | None
    service_start: date | None
    service_end: date | None
    payment_terms: str
    paid: str
    credited: str
    written_off: str
    base_currency: str
    rate: str | None
    rate_date: date | None
    total_base: str
    tax_summary: list[dict[str, Any]]
    content_sha256: str
    contract_reference: str
    buyer_reference: str
    notes: str
    origin: str
    replaces_id: int | None
    void_reason: str
    lines: list[InvoiceLineOut] = []
    credit_notes: list[CreditNoteSummaryOut] = []
    documents: list[DocumentOut] = []
    deliveries: list[DeliveryOut] = []

    resolve_paid = minor_amount("paid")
    resolve_credited = minor_amount("credited")
    resolve_written_off = minor_amount("written_off")

    @staticmethod
    def resolve_rate(obj: Any) -> str | None:
        return None if obj.rate is None else str(obj.rate)

    @staticmethod
    def resolve_total_base(obj: Any) -> str:
        return money(obj.total_base_minor, obj.base_currency or obj.currency) or "0"


class ReasonIn(Schema):
    reason: str = Field("", max_length=2000)


class InvoicingPaymentIn(Schema):
    amount: Num = Field(..., examples=["100.00"])
    base_amount: Num | None = Field(
        None, description="in the entity currency (default: at the invoice's rate)"
    )
    reference: str = Field("", max_length=200)


class CreditLineIn(Schema):
    line_id: int
    quantity: Num | None = None
    amount: Num | None = Field(None, description="net amount to credit", examples=["100.00"])


class CreditIn(Schema):
    reason_code: str = Field(
        ...,
        examples=["product_unsatisfactory"],
        description="duplicate, fraudulent, order_change, product_unsatisfactory, pricing_error, service_cancelled, reissue, other",
    )
    reason: str = Field("", max_length=2000)
    full: bool = False
    lines: list[CreditLineIn] = Field(default_factory=list, max_length=500)


class CreditNoteLineOut(Schema):
    position: int
    description: str
    quantity: str
    unit_price: str
    net: str
    tax: str
    vat_category: str
    invoice_line_id: int

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str:
        return str(obj.unit_price)

    resolve_net = minor_amount("net")
    resolve_tax = minor_amount("tax")


class CreditNoteOut(CreditNoteSummaryOut):
    invoice_number: str
    reason: str
    net: str
    tax: str
    tax_summary: list[dict[str, Any]]
    content_sha256: str
    lines: list[CreditNoteLineOut] = []
    documents: list[DocumentOut] = []

    @staticmethod
    def resolve_invoice_number(obj: Any) -> str:
        return str(obj.invoice.number)

    resolve_net = minor_amount("net")
    resolve_tax = minor_amount("tax")


class ReissueOut(Schema):
    credit_note: CreditNoteSummaryOut
    draft: InvoiceSummaryOut


class RateIn(Schema):
    base: str = Field(..., max_length=3, examples=["USD"])
    quote: str = Field(..., max_length=3, examples=["EUR"])
    day: date = Field(..., examples=["2027-03-01"])
    rate: Num = Field(..., examples=["0.9137"])
    source: str = Field("manual", max_length=60)


class RateOut(Schema):
    id: int
    base: str
    quote: str
    day: date
    rate: str
    source: str

    @staticmethod
    def resolve_rate(obj: Any) -> str:
        return str(obj.rate)


class RatesImportIn(Schema):
    csv: str = Field(..., max_length=2_000_000, examples=["base,quote,day,rate\nUSD,EUR,2027-03-01,0.9137\n"])
    source: str = Field("import", max_length=60)


class ImportedOut(Schema):
    rows: int


class SettingsIn(Schema):
    terms_basis: str | None = Field(None, examples=["net"], description="net or end_of_month")
    formats: str | None = Field(None, examples=["pdf,ubl"])
    send_email: bool | None = None
    email_xml: bool | None = Field(None, description="attach the e-invoice XML to the e-mail beside the PDF")
    fx_max_age_days: int | None = Field(None, ge=0, le=366)
    render_in_bill_run: bool | None = None


class InvoicingSettingsOut(Schema):
    entity_id: int
    terms_basis: str
    formats: str
    send_email: bool
    email_xml: bool
    fx_max_age_days: int
    render_in_bill_run: bool


def decimal_of(value: Any) -> Decimal:
    return Decimal(str(value))
