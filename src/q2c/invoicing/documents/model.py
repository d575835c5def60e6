"""The plain invoice document: everything an invoice or credit note says, as frozen dataclasses.

This is the single input of every renderer (PDF, UBL 2.1, CII / Factur-X). It is built by the
invoicing use case from its records at issue time; renderers only format it, they never
compute amounts. Each field names the EN 16931 business term (BT-…/BG-…) it carries, so the
mapping to UBL and CII can be checked field by field.

Conventions:
- Amounts are :class:`~q2c.core.money.Money` in the document currency and already rounded
  (the invoicing pipeline rounds once per documented step); unit prices may carry more decimals.
- A credit note states positive amounts: what is credited (EN 16931 type code 381).
- Rates are percentages (``Decimal("19")`` is 19 %).
- Service periods are half-open ``[start, end)`` (q2c's convention); writers turn them into the
  inclusive end date EN 16931 expects.

:func:`creditor_reference` (ISO 11649 ``RF…`` for a document number) is the parties app's, re-exported
here for the builders of documents.

:func:`missing_data` lists what the law (EN 16931 and the VAT Directive's invoice contents)
needs and the document lacks, so that an invoice is refused at issue with a clear message.

Must not import Django, the ORM or any q2c app above ``core``, ``parties.references`` and ``tax``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from stdnum import iso11649

from q2c.core.money import Money
from q2c.core.periods import Period
from q2c.parties.references import creditor_reference as creditor_reference
from q2c.tax.categories import VatCategoryCode


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def type_code(self) -> str:
        """UNTDID 1001 document type code (BT-3)."""
        return "380" if self is DocumentKind.INVOICE else "381"


class PaymentMeansKind(StrEnum):
    CREDIT_TRANSFER = "credit_transfer"
    DIRECT_DEBIT = "direct_debit"

    @property
    def code(self) -> str:
        """UNTDID 4461 payment means code (BT-81): 58 SEPA credit transfer, 59 SEPA direct debit."""
        return "58" if self is PaymentMeansKind.CREDIT_TRANSFER else "59"


#: VAT categories that carry no tax and need an exemption reason (BR-E-10, BR-AE-10, BR-IC-10,
#: BR-G-10, BR-O-10).
EXEMPT_CATEGORIES = frozenset(
    {
        VatCategoryCode.EXEMPT,
        VatCategoryCode.REVERSE_CHARGE,
        VatCategoryCode.INTRA_COMMUNITY,
        VatCategoryCode.EXPORT,
        VatCategoryCode.OUTSIDE_SCOPE,
    }
)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address (BG-5 seller, BG-8 buyer). ``country`` is ISO 3166-1 alpha-2."""

    street: str = ""  # BT-35 / BT-50
    additional: str = ""  # BT-36 / BT-51
    city: str = ""  # BT-37 / BT-52
    postal_code: str = ""  # BT-38 / BT-53
    country: str = ""  # BT-40 / BT-55
    subdivision: str = ""  # BT-39 / BT-54


@dataclass(frozen=True, slots=True)
class ElectronicAddress:
    """An electronic address (BT-34 / BT-49) with its EAS scheme (``EM`` e-mail, ``9930`` DE VAT…)."""

    value: str
    scheme: str


@dataclass(frozen=True, slots=True)
class Seller:
    name: str  # BT-27
    address: Address  # BG-5
    vat_id: str = ""  # BT-31
    tax_number: str = ""  # BT-32 (national tax registration, e.g. the German Steuernummer)
    legal_registration: str = ""  # BT-30 (e.g. commercial register number)
    legal_info: str = ""  # BT-33 (additional legal information: register court, managing directors)
    trading_name: str = ""  # BT-28
    email: str = ""  # BT-43
    phone: str = ""  # BT-42
    contact_name: str = ""  # BT-41
    iban: str = ""  # BT-84 default payee account
    bic: str = ""  # BT-86
    account_name: str = ""  # BT-85
    creditor_id: str = ""  # BT-90 SEPA creditor identifier
    endpoint: ElectronicAddress | None = None  # BT-34; defaults to the e-mail address
    logo: str = ""  # path of the logo among the app's static files ("q2c/logo.png")
    slug: str = ""  # the entity's slug: PDF templates may be overridden per entity
    identifier: str = ""  # BT-29 seller identifier (no scheme)

    @property
    def electronic_address(self) -> ElectronicAddress | None:
        if self.endpoint:
            return self.endpoint
        return ElectronicAddress(self.email, "EM") if self.email else None


@dataclass(frozen=True, slots=True)
class Buyer:
    name: str  # BT-44
    address: Address  # BG-8
    vat_id: str = ""  # BT-48
    email: str = ""  # BT-58 contact e-mail; also the default electronic address (BT-49)
    customer_number: str = ""  # BT-46
    contact_name: str = ""  # BT-56
    deliver_to_country: str = ""  # BT-80 (country the goods go to, for intra-Community supplies)
    endpoint: ElectronicAddress | None = None  # BT-49
    locale: str = "en_US"  # language and formats of the PDF for this customer

    @property
    def electronic_address(self) -> ElectronicAddress | None:
        if self.endpoint:
            return self.endpoint
        return ElectronicAddress(self.email, "EM") if self.email else None


@dataclass(frozen=True, slots=True)
class VatRate:
    """A VAT category (UNCL5305, BT-151/BT-118) and its rate in percent (BT-152/BT-119)."""

    category: VatCategoryCode
    rate: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal):
            raise TypeError("VAT rates are Decimal percentages")


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """An allowance (discount) or a charge, on a line (BG-27/28) or on the document (BG-20/21).

    Document-level ones name the VAT rate they fall under (``vat``); line-level ones follow
    their line's rate. ``reason_code`` is UNCL5189 for allowances, UNCL7161 for charges.
    """

    amount: Money  # BT-92 / BT-99 / BT-136 / BT-141
    reason: str  # BT-97 / BT-104 / BT-139 / BT-144
    is_charge: bool = False
    reason_code: str = ""  # BT-98 / BT-105 / BT-140 / BT-145
    base_amount: Money | None = None  # BT-93 / BT-100 / BT-137 / BT-142
    percent: Decimal | None = None  # BT-94 / BT-101 / BT-138 / BT-143
    vat: VatRate | None = None  # BT-95/96 and BT-102/103 (document level only)


@dataclass(frozen=True, slots=True)
class UsageTier:
    """One tier of a graduated usage charge, shown under its line (BT-160/161 in the XML)."""

    lower: Decimal  # first unit of the tier (inclusive)
    upper: Decimal | None  # last unit (inclusive); None: no upper bound
    quantity: Decimal  # units charged in this tier
    unit_price: Money
    amount: Money


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    id: str  # BT-126
    description: str  # BT-153 item name
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130 (UN/ECE Rec 20/21: C62 one, MON month, HUR hour, LS lump sum…)
    unit_price: Money  # BT-146 item net price (may have more decimals than the currency)
    net_amount: Money  # BT-131
    vat: VatRate  # BT-151 / BT-152
    price_base_quantity: Decimal = Decimal(1)  # BT-149
    service_period: Period | None = None  # BG-26, half-open
    detail: str = ""  # BT-154 item description (longer text)
    item_id: str = ""  # BT-155 seller's item identifier (product code)
    note: str = ""  # BT-127
    tiers: tuple[UsageTier, ...] = ()
    allowances_charges: tuple[AllowanceCharge, ...] = ()


@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    """One row of the VAT breakdown (BG-23): per category and rate."""

    vat: VatRate  # BT-118 / BT-119
    taxable_amount: Money  # BT-116
    tax_amount: Money  # BT-117
    exemption_reason: str = ""  # BT-120: the legal mention printed on the invoice
    exemption_reason_code: str = ""  # BT-121 (VATEX code list, e.g. VATEX-EU-AE)


@dataclass(frozen=True, slots=True)
class Totals:
    """Document totals (BG-22). ``line_net − allowances + charges = net``; ``net + tax = total``;
    ``total − prepaid + rounding = payable``."""

    line_net: Money  # BT-106
    net: Money  # BT-109
    tax: Money  # BT-110
    total: Money  # BT-112
    payable: Money  # BT-115
    allowances: Money | None = None  # BT-107
    charges: Money | None = None  # BT-108
    prepaid: Money | None = None  # BT-113
    rounding: Money | None = None  # BT-114


@dataclass(frozen=True, slots=True)
class PaymentMeans:
    """How the buyer pays (BG-16). The payee account defaults to the seller's (``Seller.iban``)."""

    kind: PaymentMeansKind
    reference: str = ""  # BT-83 remittance information: the structured RF creditor reference
    iban: str = ""  # BT-84
    bic: str = ""  # BT-86
    account_name: str = ""  # BT-85
    mandate_id: str = ""  # BT-89 (direct debit)
    debtor_iban: str = ""  # BT-91 (direct debit)


@dataclass(frozen=True, slots=True)
class PrecedingInvoice:
    number: str  # BT-25
    issue_date: date | None = None  # BT-26


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    kind: DocumentKind
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5
    seller: Seller
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    tax_summary: tuple[TaxSubtotal, ...]
    totals: Totals
    due_date: date | None = None  # BT-9
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-20 / BG-21
    payment_terms: str = ""  # BT-20
    payment_means: PaymentMeans | None = None  # BG-16
    preceding_invoice: PrecedingInvoice | None = None  # BG-3 (credit notes)
    delivery_date: date | None = None  # BT-72
    invoice_period: Period | None = None  # BG-14, half-open
    order_reference: str = ""  # BT-13
    contract_reference: str = ""  # BT-12
    buyer_reference: str = ""  # BT-10
    notes: tuple[str, ...] = field(default=())  # BT-22

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE

    @property
    def locale(self) -> str:
        return self.buyer.locale

    def document_allowances(self) -> tuple[AllowanceCharge, ...]:
        return tuple(a for a in self.allowances_charges if not a.is_charge)

    def document_charges(self) -> tuple[AllowanceCharge, ...]:
        return tuple(a for a in self.allowances_charges if a.is_charge)


@dataclass(frozen=True, slots=True)
class MissingItem:
    """One piece of data the law needs and the document lacks: ``field`` path and a sentence."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "detail": self.message}


def missing_data(doc: InvoiceDocument) -> list[MissingItem]:
    """What the invoice must state and does not (empty when it can be issued).

    Checks the contents that EN 16931 and Art. 226 of the VAT Directive (2006/112/EC) require
    and that only the caller can supply: names, addresses, VAT identifiers where the tax
    category needs them, the exemption mentions, the payee account and the preceding invoice of
    a credit note. Arithmetic and code lists are left to the EN 16931 rules
    (:mod:`q2c.invoicing.documents.validation`).
    """
    out: list[MissingItem] = []

    def need(ok: object, path: str, message: str) -> None:
        if not ok:
            out.append(MissingItem(path, message))

    need(doc.number.strip(), "number", "the invoice number")
    need(doc.lines, "lines", "at least one invoice line")
    for role, party in (("seller", doc.seller), ("buyer", doc.buyer)):
        need(party.name.strip(), f"{role}.name", f"the {role}'s name")
        need(party.address.street.strip(), f"{role}.address.street", f"the {role}'s street address")
        need(party.address.city.strip(), f"{role}.address.city", f"the {role}'s city")
        need(party.address.postal_code.strip(), f"{role}.address.postal_code", f"the {role}'s postal code")
        need(
            len(party.address.country) == 2 and party.address.country.isupper(),
            f"{role}.address.country",
            f"the {role}'s country (ISO 3166 two-letter code)",
        )
    need(
        doc.seller.vat_id or doc.seller.tax_number,
        "seller.vat_id",
        "the seller's VAT identifier or tax number",
    )
    categories = {t.vat.category for t in doc.tax_summary} | {line.vat.category for line in doc.lines}
    if categories & {VatCategoryCode.REVERSE_CHARGE, VatCategoryCode.INTRA_COMMUNITY}:
        need(
            doc.seller.vat_id,
            "seller.vat_id",
            "the seller's VAT identifier (reverse charge / intra-Community)",
        )
        need(
            doc.buyer.vat_id, "buyer.vat_id", "the buyer's VAT identifier (reverse charge / intra-Community)"
        )
    if categories & {VatCategoryCode.EXPORT, VatCategoryCode.STANDARD, VatCategoryCode.EXEMPT}:
        need(doc.seller.vat_id or doc.seller.tax_number, "seller.vat_id", "the seller's VAT identifier")
    if VatCategoryCode.INTRA_COMMUNITY in categories:
        need(
            doc.buyer.deliver_to_country,
            "buyer.deliver_to_country",
            "the country the goods are delivered to (intra-Community supply)",
        )
        need(
            doc.delivery_date or doc.invoice_period,
            "delivery_date",
            "the delivery date or invoicing period (intra-Community supply)",
        )
    for i, sub in enumerate(doc.tax_summary):
        if sub.vat.category in EXEMPT_CATEGORIES:
            need(
                sub.exemption_reason or sub.exemption_reason_code,
                f"tax_summary[{i}].exemption_reason",
                f"the legal mention for VAT category {sub.vat.category.value}",
            )
    for i, ac in enumerate(doc.allowances_charges):
        need(ac.vat, f"allowances_charges[{i}].vat", "the VAT rate of a document allowance or charge")
    if doc.totals.payable.amount > 0 and not doc.is_credit_note:
        need(doc.due_date or doc.payment_terms, "due_date", "the due date or the payment terms")
    pm = doc.payment_means
    if pm and pm.kind is PaymentMeansKind.CREDIT_TRANSFER:
        need(pm.iban or doc.seller.iban, "seller.iban", "the payee's IBAN for the credit transfer")
    if pm and pm.kind is PaymentMeansKind.DIRECT_DEBIT:
        need(pm.mandate_id, "payment_means.mandate_id", "the direct-debit mandate reference")
        need(doc.seller.creditor_id, "seller.creditor_id", "the seller's SEPA creditor identifier")
    if pm and pm.reference and pm.reference.upper().startswith("RF"):
        need(
            iso11649.is_valid(pm.reference),
            "payment_means.reference",
            "a valid RF creditor reference (ISO 11649)",
        )
    if doc.is_credit_note:
        need(doc.preceding_invoice, "preceding_invoice", "the invoice this credit note corrects")
    return out
