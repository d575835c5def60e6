"""UBL 2.1 Invoice and CreditNote from an :class:`InvoiceDocument` (EN 16931, Peppol BIS 3.0).

The element order follows the UBL 2.1 schemas (checked by XSD in the tests) and the mapping
follows the EN 16931 UBL syntax binding (EN 16931-3-2); each element notes the business term it
carries. The customization id is Peppol BIS Billing 3.0's, which is EN 16931 compliant; the CEN
EN 16931 rules are what the tests run (the Peppol-specific rules are not shipped offline).

Output is deterministic: the same document gives the same bytes (no timestamps, no UUIDs).

Must not import Django or any q2c app above ``core`` and ``tax``.
"""

from __future__ import annotations

from lxml import etree

from q2c.core.money import Money
from q2c.invoicing.documents import _xmltext as tx
from q2c.invoicing.documents.model import (
    Address,
    AllowanceCharge,
    Buyer,
    DocumentKind,
    ElectronicAddress,
    InvoiceDocument,
    InvoiceLine,
    PaymentMeansKind,
    Seller,
    VatRate,
)
from q2c.tax.categories import VatCategoryCode

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

_PREFIX = {"cac": NS_CAC, "cbc": NS_CBC}


_ELEMENTS = tx.Elements(_PREFIX)
_q = _ELEMENTS.q
_add = _ELEMENTS.add


def _money(parent: etree._Element, tag: str, money: Money) -> etree._Element:
    return _add(parent, tag, tx.amount(money), currencyID=money.currency)


def to_ubl(doc: InvoiceDocument) -> bytes:
    """The UBL 2.1 XML (UTF-8, with declaration) of an invoice or credit note."""
    credit = doc.kind is DocumentKind.CREDIT_NOTE
    root_ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    root = etree.Element(
        f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}",
        nsmap={None: root_ns, "cac": NS_CAC, "cbc": NS_CBC},
    )
    _add(root, "cbc:CustomizationID", CUSTOMIZATION_ID)  # BT-24
    _add(root, "cbc:ProfileID", PROFILE_ID)  # BT-23
    _add(root, "cbc:ID", doc.number)  # BT-1
    _add(root, "cbc:IssueDate", tx.iso_date(doc.issue_date))  # BT-2
    if doc.due_date and not credit:
        _add(root, "cbc:DueDate", tx.iso_date(doc.due_date))  # BT-9
    _add(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", doc.kind.type_code)  # BT-3
    for note in doc.notes:
        _add(root, "cbc:Note", note)  # BT-22
    _add(root, "cbc:DocumentCurrencyCode", doc.currency)  # BT-5
    if doc.buyer_reference:
        _add(root, "cbc:BuyerReference", doc.buyer_reference)  # BT-10
    if doc.invoice_period:
        period = _add(root, "cac:InvoicePeriod")  # BG-14
        _add(period, "cbc:StartDate", tx.iso_date(doc.invoice_period.start))
        _add(period, "cbc:EndDate", tx.iso_date(tx.inclusive_end(doc.invoice_period)))
    if doc.order_reference:
        _add(_add(root, "cac:OrderReference"), "cbc:ID", doc.order_reference)  # BT-13
    if doc.preceding_invoice:
        ref = _add(_add(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")  # BG-3
        _add(ref, "cbc:ID", doc.preceding_invoice.number)  # BT-25
        if doc.preceding_invoice.issue_date:
            _add(ref, "cbc:IssueDate", tx.iso_date(doc.preceding_invoice.issue_date))  # BT-26
    if doc.contract_reference:
        _add(_add(root, "cac:ContractDocumentReference"), "cbc:ID", doc.contract_reference)  # BT-12
    _seller(_add(root, "cac:AccountingSupplierParty"), doc.seller)
    _buyer(_add(root, "cac:AccountingCustomerParty"), doc.buyer)
    if doc.delivery_date or doc.buyer.deliver_to_country:
        delivery = _add(root, "cac:Delivery")  # BG-13
        if doc.delivery_date:
            _add(delivery, "cbc:ActualDeliveryDate", tx.iso_date(doc.delivery_date))  # BT-72
        if doc.buyer.deliver_to_country:
            address = _add(_add(delivery, "cac:DeliveryLocation"), "cac:Address")  # BG-15
            _add(
                _add(address, "cac:Country"), "cbc:IdentificationCode", doc.buyer.deliver_to_country
            )  # BT-80
    _payment_means(root, doc, credit)
    if doc.payment_terms:
        _add(_add(root, "cac:PaymentTerms"), "cbc:Note", doc.payment_terms)  # BT-20
    for ac in doc.allowances_charges:
        _allowance_charge(root, ac, with_vat=True)
    tax_total = _add(root, "cac:TaxTotal")
    _money(tax_total, "cbc:TaxAmount", doc.totals.tax)  # BT-110
    for sub in doc.tax_summary:
        subtotal = _add(tax_total, "cac:TaxSubtotal")  # BG-23
        _money(subtotal, "cbc:TaxableAmount", sub.taxable_amount)  # BT-116
        _money(subtotal, "cbc:TaxAmount", sub.tax_amount)  # BT-117
        _tax_category(
            subtotal,
            "cac:TaxCategory",
            sub.vat,
            reason_code=sub.exemption_reason_code,
            reason=sub.exemption_reason,
        )
    _monetary_total(root, doc)
    for line in doc.lines:
        _line(root, line, credit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _address(parent: etree._Element, address: Address) -> None:
    postal = _add(parent, "cac:PostalAddress")
    if address.street:
        _add(postal, "cbc:StreetName", address.street)
    if address.additional:
        _add(postal, "cbc:AdditionalStreetName", address.additional)
    if address.city:
        _add(postal, "cbc:CityName", address.city)
    if address.postal_code:
        _add(postal, "cbc:PostalZone", address.postal_code)
    if address.subdivision:
        _add(postal, "cbc:CountrySubentity", address.subdivision)
    _add(_add(postal, "cac:Country"), "cbc:IdentificationCode", address.country)


def _endpoint(party: etree._Element, endpoint: ElectronicAddress | None) -> None:
    if endpoint:
        _add(party, "cbc:EndpointID", endpoint.value, schemeID=endpoint.scheme)


def _tax_scheme(parent: etree._Element, company_id: str, scheme: str) -> None:
    pts = _add(parent, "cac:PartyTaxScheme")
    _add(pts, "cbc:CompanyID", company_id)
    _add(_add(pts, "cac:TaxScheme"), "cbc:ID", scheme)


def _seller(parent: etree._Element, seller: Seller) -> None:
    party = _add(parent, "cac:Party")
    _endpoint(party, seller.electronic_address)  # BT-34
    if seller.identifier:
        _add(_add(party, "cac:PartyIdentification"), "cbc:ID", seller.identifier)  # BT-29
    if seller.creditor_id:
        # BT-90 travels as a seller identifier with scheme "SEPA" in the UBL binding.
        _add(_add(party, "cac:PartyIdentification"), "cbc:ID", seller.creditor_id, schemeID="SEPA")
    if seller.trading_name:
        _add(_add(party, "cac:PartyName"), "cbc:Name", seller.trading_name)  # BT-28
    _address(party, seller.address)  # BG-5
    if seller.vat_id:
        _tax_scheme(party, seller.vat_id, "VAT")  # BT-31
    if seller.tax_number:
        _tax_scheme(party, seller.tax_number, "FC")  # BT-32 (any scheme other than VAT)
    legal = _add(party, "cac:PartyLegalEntity")
    _add(legal, "cbc:RegistrationName", seller.name)  # BT-27
    if seller.legal_registration:
        _add(legal, "cbc:CompanyID", seller.legal_registration)  # BT-30
    if seller.legal_info:
        _add(legal, "cbc:CompanyLegalForm", seller.legal_info)  # BT-33
    if seller.contact_name or seller.phone or seller.email:
        contact = _add(party, "cac:Contact")  # BG-6
        if seller.contact_name:
            _add(contact, "cbc:Name", seller.contact_name)
        if seller.phone:
            _add(contact, "cbc:Telephone", seller.phone)
        if seller.email:
            _add(contact, "cbc:ElectronicMail", seller.email)


def _buyer(parent: etree._Element, buyer: Buyer) -> None:
    party = _add(parent, "cac:Party")
    _endpoint(party, buyer.electronic_address)  # BT-49
    if buyer.customer_number:
        _add(_add(party, "cac:PartyIdentification"), "cbc:ID", buyer.customer_number)  # BT-46
    _address(party, buyer.address)  # BG-8
    if buyer.vat_id:
        _tax_scheme(party, buyer.vat_id, "VAT")  # BT-48
    _add(_add(party, "cac:PartyLegalEntity"), "cbc:RegistrationName", buyer.name)  # BT-44
    if buyer.contact_name or buyer.email:
        contact = _add(party, "cac:Contact")  # BG-9
        if buyer.contact_name:
            _add(contact, "cbc:Name", buyer.contact_name)
        if buyer.email:
            _add(contact, "cbc:ElectronicMail", buyer.email)


def _payment_means(root: etree._Element, doc: InvoiceDocument, credit: bool) -> None:
    pm = doc.payment_means
    if pm is None:
        # A UBL credit note carries its due date (BT-9) only inside PaymentMeans: without payment
        # means there is nowhere to put it, and it is left out.
        return
    means = _add(root, "cac:PaymentMeans")  # BG-16
    _add(means, "cbc:PaymentMeansCode", pm.kind.code)  # BT-81
    if credit and doc.due_date:
        _add(means, "cbc:PaymentDueDate", tx.iso_date(doc.due_date))  # BT-9 for credit notes
    if pm.reference:
        _add(means, "cbc:PaymentID", pm.reference)  # BT-83
    if pm.kind is PaymentMeansKind.CREDIT_TRANSFER:
        iban = pm.iban or doc.seller.iban
        if iban:
            account = _add(means, "cac:PayeeFinancialAccount")  # BG-17
            _add(account, "cbc:ID", iban)  # BT-84
            name = pm.account_name or doc.seller.account_name
            if name:
                _add(account, "cbc:Name", name)  # BT-85
            bic = pm.bic or doc.seller.bic
            if bic:
                _add(_add(account, "cac:FinancialInstitutionBranch"), "cbc:ID", bic)  # BT-86
    else:
        mandate = _add(means, "cac:PaymentMandate")  # BG-19
        _add(mandate, "cbc:ID", pm.mandate_id)  # BT-89
        if pm.debtor_iban:
            _add(_add(mandate, "cac:PayerFinancialAccount"), "cbc:ID", pm.debtor_iban)  # BT-91


def _tax_category(
    parent: etree._Element, tag: str, vat: VatRate, *, reason_code: str = "", reason: str = ""
) -> None:
    category = _add(parent, tag)
    _add(category, "cbc:ID", vat.category.value)
    if vat.category is not VatCategoryCode.OUTSIDE_SCOPE:
        # BR-O-*: "not subject to VAT" carries no rate at all.
        _add(category, "cbc:Percent", tx.decimal(vat.rate))
    if reason_code:
        _add(category, "cbc:TaxExemptionReasonCode", reason_code)  # BT-121
    if reason:
        _add(category, "cbc:TaxExemptionReason", reason)  # BT-120
    _add(_add(category, "cac:TaxScheme"), "cbc:ID", "VAT")


def _allowance_charge(parent: etree._Element, ac: AllowanceCharge, *, with_vat: bool) -> None:
    el = _add(parent, "cac:AllowanceCharge")
    _add(el, "cbc:ChargeIndicator", "true" if ac.is_charge else "false")
    if ac.reason_code:
        _add(el, "cbc:AllowanceChargeReasonCode", ac.reason_code)
    if ac.reason:
        _add(el, "cbc:AllowanceChargeReason", ac.reason)
    if ac.percent is not None:
        _add(el, "cbc:MultiplierFactorNumeric", tx.decimal(ac.percent))
    _money(el, "cbc:Amount", ac.amount)
    if ac.base_amount is not None:
        _money(el, "cbc:BaseAmount", ac.base_amount)
    if with_vat:
        if ac.vat is None:
            raise tx.DocumentDataError(f"document allowance/charge '{ac.reason}' has no VAT rate")
        _tax_category(el, "cac:TaxCategory", ac.vat)


def _monetary_total(root: etree._Element, doc: InvoiceDocument) -> None:
    t = doc.totals
    total = _add(root, "cac:LegalMonetaryTotal")
    _money(total, "cbc:LineExtensionAmount", t.line_net)  # BT-106
    _money(total, "cbc:TaxExclusiveAmount", t.net)  # BT-109
    _money(total, "cbc:TaxInclusiveAmount", t.total)  # BT-112
    if t.allowances is not None and doc.document_allowances():
        _money(total, "cbc:AllowanceTotalAmount", t.allowances)  # BT-107
    if t.charges is not None and doc.document_charges():
        _money(total, "cbc:ChargeTotalAmount", t.charges)  # BT-108
    if t.prepaid:
        _money(total, "cbc:PrepaidAmount", t.prepaid)  # BT-113
    if t.rounding:
        _money(total, "cbc:PayableRoundingAmount", t.rounding)  # BT-114
    _money(total, "cbc:PayableAmount", t.payable)  # BT-115


def _line(root: etree._Element, line: InvoiceLine, credit: bool) -> None:
    el = _add(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")  # BG-25
    _add(el, "cbc:ID", line.id)  # BT-126
    if line.note:
        _add(el, "cbc:Note", line.note)  # BT-127
    _add(
        el,
        "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity",
        tx.decimal(line.quantity),
        unitCode=line.unit_code,
    )  # BT-129 / BT-130
    _money(el, "cbc:LineExtensionAmount", line.net_amount)  # BT-131
    if line.service_period:
        period = _add(el, "cac:InvoicePeriod")  # BG-26
        _add(period, "cbc:StartDate", tx.iso_date(line.service_period.start))  # BT-134
        _add(period, "cbc:EndDate", tx.iso_date(tx.inclusive_end(line.service_period)))  # BT-135
    for ac in line.allowances_charges:
        _allowance_charge(el, ac, with_vat=False)
    item = _add(el, "cac:Item")
    if line.detail:
        _add(item, "cbc:Description", line.detail)  # BT-154
    _add(item, "cbc:Name", line.description)  # BT-153
    if line.item_id:
        _add(_add(item, "cac:SellersItemIdentification"), "cbc:ID", line.item_id)  # BT-155
    _tax_category(item, "cac:ClassifiedTaxCategory", line.vat)  # BT-151 / BT-152
    for n, tier in enumerate(line.tiers, start=1):
        prop = _add(item, "cac:AdditionalItemProperty")  # BG-32
        _add(prop, "cbc:Name", f"Tier {n} ({tx.tier_label(tier.lower, tier.upper)})")  # BT-160
        _add(
            prop,
            "cbc:Value",
            f"{tx.decimal(tier.quantity)} x {tx.price(tier.unit_price)} = {tx.amount(tier.amount)} "
            f"{tier.amount.currency}",
        )  # BT-161
    price = _add(el, "cac:Price")
    _add(price, "cbc:PriceAmount", tx.price(line.unit_price), currencyID=line.unit_price.currency)  # BT-146
    if line.price_base_quantity != 1:
        _add(
            price, "cbc:BaseQuantity", tx.decimal(line.price_base_quantity), unitCode=line.unit_code
        )  # BT-149
