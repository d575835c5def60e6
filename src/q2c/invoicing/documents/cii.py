"""UN/CEFACT CII (Cross Industry Invoice D16B) for Factur-X / ZUGFeRD, EN 16931 profile.

Writes the XML that :mod:`q2c.invoicing.documents.facturx` embeds into a PDF/A-3. Element order
follows the Factur-X EN 16931 schema (checked by XSD in the tests); the mapping follows the
EN 16931 CII syntax binding (EN 16931-3-3); comments name the business terms.

Output is deterministic: the same document gives the same bytes.

Must not import Django or any q2c app above ``core`` and ``tax``.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from q2c.core.money import Money
from q2c.invoicing.documents import _xmltext as tx
from q2c.invoicing.documents.model import (
    Address,
    AllowanceCharge,
    Buyer,
    ElectronicAddress,
    InvoiceDocument,
    InvoiceLine,
    PaymentMeansKind,
    Seller,
    VatRate,
)
from q2c.tax.categories import VatCategoryCode

#: BT-24 for the Factur-X EN 16931 ("Comfort") profile.
GUIDELINE_ID = "urn:cen.eu:en16931:2017"

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"

_PREFIX = {"rsm": NS_RSM, "ram": NS_RAM, "udt": NS_UDT, "qdt": NS_QDT}


_ELEMENTS = tx.Elements(_PREFIX)
_q = _ELEMENTS.q
_add = _ELEMENTS.add


def _amount(parent: etree._Element, tag: str, money: Money, *, with_currency: bool = False) -> None:
    if with_currency:
        _add(parent, tag, tx.amount(money), currencyID=money.currency)
    else:
        _add(parent, tag, tx.amount(money))


def _date(parent: etree._Element, tag: str, day: date, *, qualified: bool = False) -> None:
    holder = _add(parent, tag)
    _add(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", tx.cii_date(day), format="102")


def to_cii(doc: InvoiceDocument) -> bytes:
    """The CII XML (UTF-8, with declaration) of an invoice or credit note, Factur-X EN 16931."""
    root = etree.Element(
        _q("rsm:CrossIndustryInvoice"),
        nsmap={"rsm": NS_RSM, "ram": NS_RAM, "udt": NS_UDT, "qdt": NS_QDT},
    )
    context = _add(root, "rsm:ExchangedDocumentContext")
    _add(_add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE_ID)  # BT-24

    header = _add(root, "rsm:ExchangedDocument")
    _add(header, "ram:ID", doc.number)  # BT-1
    _add(header, "ram:TypeCode", doc.kind.type_code)  # BT-3
    _date(header, "ram:IssueDateTime", doc.issue_date)  # BT-2
    for note in doc.notes:
        _add(_add(header, "ram:IncludedNote"), "ram:Content", note)  # BT-22

    transaction = _add(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(transaction, line)

    agreement = _add(transaction, "ram:ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        _add(agreement, "ram:BuyerReference", doc.buyer_reference)  # BT-10
    _seller(agreement, doc.seller)
    _buyer(agreement, doc.buyer)
    if doc.order_reference:
        _add(_add(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", doc.order_reference)
    if doc.contract_reference:
        _add(
            _add(agreement, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID", doc.contract_reference
        )

    delivery = _add(transaction, "ram:ApplicableHeaderTradeDelivery")  # BG-13
    if doc.buyer.deliver_to_country:
        ship_to = _add(delivery, "ram:ShipToTradeParty")
        _add(_add(ship_to, "ram:PostalTradeAddress"), "ram:CountryID", doc.buyer.deliver_to_country)  # BT-80
    if doc.delivery_date:
        _date(
            _add(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", doc.delivery_date
        )

    _settlement(transaction, doc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _trade_tax(parent: etree._Element, vat: VatRate) -> None:
    tax = _add(parent, "ram:ApplicableTradeTax")
    _add(tax, "ram:TypeCode", "VAT")
    _add(tax, "ram:CategoryCode", vat.category.value)
    if vat.category is not VatCategoryCode.OUTSIDE_SCOPE:
        _add(tax, "ram:RateApplicablePercent", tx.decimal(vat.rate))


def _allowance_charge(parent: etree._Element, ac: AllowanceCharge, *, with_vat: bool) -> None:
    el = _add(parent, "ram:SpecifiedTradeAllowanceCharge")
    _add(_add(el, "ram:ChargeIndicator"), "udt:Indicator", "true" if ac.is_charge else "false")
    if ac.percent is not None:
        _add(el, "ram:CalculationPercent", tx.decimal(ac.percent))
    if ac.base_amount is not None:
        _amount(el, "ram:BasisAmount", ac.base_amount)
    _amount(el, "ram:ActualAmount", ac.amount)
    if ac.reason_code:
        _add(el, "ram:ReasonCode", ac.reason_code)
    if ac.reason:
        _add(el, "ram:Reason", ac.reason)
    if with_vat:
        if ac.vat is None:
            raise tx.DocumentDataError(f"document allowance/charge '{ac.reason}' has no VAT rate")
        tax = _add(el, "ram:CategoryTradeTax")
        _add(tax, "ram:TypeCode", "VAT")
        _add(tax, "ram:CategoryCode", ac.vat.category.value)
        if ac.vat.category is not VatCategoryCode.OUTSIDE_SCOPE:
            _add(tax, "ram:RateApplicablePercent", tx.decimal(ac.vat.rate))


def _line(transaction: etree._Element, line: InvoiceLine) -> None:
    item = _add(transaction, "ram:IncludedSupplyChainTradeLineItem")  # BG-25
    doc_line = _add(item, "ram:AssociatedDocumentLineDocument")
    _add(doc_line, "ram:LineID", line.id)  # BT-126
    if line.note:
        _add(_add(doc_line, "ram:IncludedNote"), "ram:Content", line.note)  # BT-127
    product = _add(item, "ram:SpecifiedTradeProduct")
    if line.item_id:
        _add(product, "ram:SellerAssignedID", line.item_id)  # BT-155
    _add(product, "ram:Name", line.description)  # BT-153
    if line.detail:
        _add(product, "ram:Description", line.detail)  # BT-154
    for n, tier in enumerate(line.tiers, start=1):
        characteristic = _add(product, "ram:ApplicableProductCharacteristic")  # BG-32
        _add(characteristic, "ram:Description", f"Tier {n} ({tx.tier_label(tier.lower, tier.upper)})")
        _add(
            characteristic,
            "ram:Value",
            f"{tx.decimal(tier.quantity)} x {tx.price(tier.unit_price)} = {tx.amount(tier.amount)} "
            f"{tier.amount.currency}",
        )
    agreement = _add(item, "ram:SpecifiedLineTradeAgreement")
    net_price = _add(agreement, "ram:NetPriceProductTradePrice")
    _add(net_price, "ram:ChargeAmount", tx.price(line.unit_price))  # BT-146
    if line.price_base_quantity != 1:
        _add(net_price, "ram:BasisQuantity", tx.decimal(line.price_base_quantity), unitCode=line.unit_code)
    delivery = _add(item, "ram:SpecifiedLineTradeDelivery")
    _add(delivery, "ram:BilledQuantity", tx.decimal(line.quantity), unitCode=line.unit_code)  # BT-129/130
    settlement = _add(item, "ram:SpecifiedLineTradeSettlement")
    _trade_tax(settlement, line.vat)  # BT-151 / BT-152
    if line.service_period:
        period = _add(settlement, "ram:BillingSpecifiedPeriod")  # BG-26
        _date(period, "ram:StartDateTime", line.service_period.start)
        _date(period, "ram:EndDateTime", tx.inclusive_end(line.service_period))
    for ac in line.allowances_charges:
        _allowance_charge(settlement, ac, with_vat=False)
    summation = _add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _amount(summation, "ram:LineTotalAmount", line.net_amount)  # BT-131


def _address(parent: etree._Element, address: Address) -> None:
    postal = _add(parent, "ram:PostalTradeAddress")
    if address.postal_code:
        _add(postal, "ram:PostcodeCode", address.postal_code)
    if address.street:
        _add(postal, "ram:LineOne", address.street)
    if address.additional:
        _add(postal, "ram:LineTwo", address.additional)
    if address.city:
        _add(postal, "ram:CityName", address.city)
    _add(postal, "ram:CountryID", address.country)
    if address.subdivision:
        _add(postal, "ram:CountrySubDivisionName", address.subdivision)


def _uri(parent: etree._Element, endpoint: ElectronicAddress | None) -> None:
    if endpoint:
        _add(
            _add(parent, "ram:URIUniversalCommunication"),
            "ram:URIID",
            endpoint.value,
            schemeID=endpoint.scheme,
        )


def _seller(agreement: etree._Element, seller: Seller) -> None:
    party = _add(agreement, "ram:SellerTradeParty")  # BG-4
    if seller.identifier:
        _add(party, "ram:ID", seller.identifier)  # BT-29
    _add(party, "ram:Name", seller.name)  # BT-27
    if seller.legal_info:
        _add(party, "ram:Description", seller.legal_info)  # BT-33
    if seller.legal_registration or seller.trading_name:
        legal = _add(party, "ram:SpecifiedLegalOrganization")
        if seller.legal_registration:
            _add(legal, "ram:ID", seller.legal_registration)  # BT-30
        if seller.trading_name:
            _add(legal, "ram:TradingBusinessName", seller.trading_name)  # BT-28
    if seller.contact_name or seller.phone or seller.email:
        contact = _add(party, "ram:DefinedTradeContact")  # BG-6
        if seller.contact_name:
            _add(contact, "ram:PersonName", seller.contact_name)
        if seller.phone:
            _add(_add(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", seller.phone)
        if seller.email:
            _add(_add(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", seller.email)
    _address(party, seller.address)  # BG-5
    _uri(party, seller.electronic_address)  # BT-34
    if seller.vat_id:
        _add(_add(party, "ram:SpecifiedTaxRegistration"), "ram:ID", seller.vat_id, schemeID="VA")  # BT-31
    if seller.tax_number:
        _add(_add(party, "ram:SpecifiedTaxRegistration"), "ram:ID", seller.tax_number, schemeID="FC")  # BT-32


def _buyer(agreement: etree._Element, buyer: Buyer) -> None:
    party = _add(agreement, "ram:BuyerTradeParty")  # BG-7
    if buyer.customer_number:
        _add(party, "ram:ID", buyer.customer_number)  # BT-46
    _add(party, "ram:Name", buyer.name)  # BT-44
    if buyer.contact_name or buyer.email:
        contact = _add(party, "ram:DefinedTradeContact")  # BG-9
        if buyer.contact_name:
            _add(contact, "ram:PersonName", buyer.contact_name)
        if buyer.email:
            _add(_add(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", buyer.email)
    _address(party, buyer.address)  # BG-8
    _uri(party, buyer.electronic_address)  # BT-49
    if buyer.vat_id:
        _add(_add(party, "ram:SpecifiedTaxRegistration"), "ram:ID", buyer.vat_id, schemeID="VA")  # BT-48


def _settlement(transaction: etree._Element, doc: InvoiceDocument) -> None:
    settlement = _add(transaction, "ram:ApplicableHeaderTradeSettlement")
    pm = doc.payment_means
    if pm and pm.kind is PaymentMeansKind.DIRECT_DEBIT and doc.seller.creditor_id:
        _add(settlement, "ram:CreditorReferenceID", doc.seller.creditor_id)  # BT-90
    if pm and pm.reference:
        _add(settlement, "ram:PaymentReference", pm.reference)  # BT-83
    _add(settlement, "ram:InvoiceCurrencyCode", doc.currency)  # BT-5
    if pm:
        means = _add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")  # BG-16
        _add(means, "ram:TypeCode", pm.kind.code)  # BT-81
        if pm.kind is PaymentMeansKind.CREDIT_TRANSFER:
            iban = pm.iban or doc.seller.iban
            if iban:
                account = _add(means, "ram:PayeePartyCreditorFinancialAccount")  # BG-17
                _add(account, "ram:IBANID", iban)  # BT-84
                name = pm.account_name or doc.seller.account_name
                if name:
                    _add(account, "ram:AccountName", name)  # BT-85
                bic = pm.bic or doc.seller.bic
                if bic:
                    _add(_add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", bic)
        elif pm.debtor_iban:
            _add(_add(means, "ram:PayerPartyDebtorFinancialAccount"), "ram:IBANID", pm.debtor_iban)  # BT-91
    for sub in doc.tax_summary:
        tax = _add(settlement, "ram:ApplicableTradeTax")  # BG-23
        _amount(tax, "ram:CalculatedAmount", sub.tax_amount)  # BT-117
        _add(tax, "ram:TypeCode", "VAT")
        if sub.exemption_reason:
            _add(tax, "ram:ExemptionReason", sub.exemption_reason)  # BT-120
        _amount(tax, "ram:BasisAmount", sub.taxable_amount)  # BT-116
        _add(tax, "ram:CategoryCode", sub.vat.category.value)  # BT-118
        if sub.exemption_reason_code:
            _add(tax, "ram:ExemptionReasonCode", sub.exemption_reason_code)  # BT-121
        if sub.vat.category is not VatCategoryCode.OUTSIDE_SCOPE:
            _add(tax, "ram:RateApplicablePercent", tx.decimal(sub.vat.rate))  # BT-119
    if doc.invoice_period:
        period = _add(settlement, "ram:BillingSpecifiedPeriod")  # BG-14
        _date(period, "ram:StartDateTime", doc.invoice_period.start)
        _date(period, "ram:EndDateTime", tx.inclusive_end(doc.invoice_period))
    for ac in doc.allowances_charges:
        _allowance_charge(settlement, ac, with_vat=True)
    if doc.payment_terms or doc.due_date or (pm and pm.mandate_id):
        terms = _add(settlement, "ram:SpecifiedTradePaymentTerms")
        if doc.payment_terms:
            _add(terms, "ram:Description", doc.payment_terms)  # BT-20
        if doc.due_date:
            _date(terms, "ram:DueDateDateTime", doc.due_date)  # BT-9
        if pm and pm.kind is PaymentMeansKind.DIRECT_DEBIT and pm.mandate_id:
            _add(terms, "ram:DirectDebitMandateID", pm.mandate_id)  # BT-89
    t = doc.totals
    summation = _add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")  # BG-22
    _amount(summation, "ram:LineTotalAmount", t.line_net)  # BT-106
    if t.charges is not None and doc.document_charges():
        _amount(summation, "ram:ChargeTotalAmount", t.charges)  # BT-108
    if t.allowances is not None and doc.document_allowances():
        _amount(summation, "ram:AllowanceTotalAmount", t.allowances)  # BT-107
    _amount(summation, "ram:TaxBasisTotalAmount", t.net)  # BT-109
    _amount(summation, "ram:TaxTotalAmount", t.tax, with_currency=True)  # BT-110
    if t.rounding:
        _amount(summation, "ram:RoundingAmount", t.rounding)  # BT-114
    _amount(summation, "ram:GrandTotalAmount", t.total)  # BT-112
    if t.prepaid:
        _amount(summation, "ram:TotalPrepaidAmount", t.prepaid)  # BT-113
    _amount(summation, "ram:DuePayableAmount", t.payable)  # BT-115
    if doc.preceding_invoice:
        ref = _add(settlement, "ram:InvoiceReferencedDocument")  # BG-3
        _add(ref, "ram:IssuerAssignedID", doc.preceding_invoice.number)  # BT-25
        if doc.preceding_invoice.issue_date:
            _date(
                ref, "ram:FormattedIssueDateTime", doc.preceding_invoice.issue_date, qualified=True
            )  # BT-26
