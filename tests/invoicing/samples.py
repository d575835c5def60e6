"""Invoice documents for the tests, every amount written out by hand.

Sources: the Northwind scenario (shared/scenarios/northwind.md, table 4 and the EU-customer
variant) and hand-worked examples for the other kinds; the arithmetic is in the comments. The
code under test computes nothing of this: the writers only format what the document states.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from q2c.core.money import Money
from q2c.core.periods import Period
from q2c.invoicing.documents.model import (
    Address,
    AllowanceCharge,
    Buyer,
    DocumentKind,
    InvoiceDocument,
    InvoiceLine,
    PaymentMeans,
    PaymentMeansKind,
    PrecedingInvoice,
    Seller,
    TaxSubtotal,
    Totals,
    UsageTier,
    VatRate,
)
from q2c.tax.categories import VatCategoryCode as V


def eur(value: str) -> Money:
    return Money(D(value), "EUR")


S19 = VatRate(V.STANDARD, D("19"))
S7 = VatRate(V.STANDARD, D("7"))
AE = VatRate(V.REVERSE_CHARGE, D("0"))
K = VatRate(V.INTRA_COMMUNITY, D("0"))
E = VatRate(V.EXEMPT, D("0"))
G = VatRate(V.EXPORT, D("0"))

REVERSE_CHARGE_MENTION = (
    "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
)
INTRA_COMMUNITY_MENTION = "Intra-Community supply — exempt (Art. 138 Directive 2006/112/EC)"
EXEMPT_MENTION = "Exempt from VAT: vocational training (Art. 132(1)(i) Directive 2006/112/EC)"
EXPORT_MENTION = "Export outside the EU — exempt (Art. 146 Directive 2006/112/EC)"

ACME = Seller(
    name="Acme Cloud GmbH",
    address=Address(street="Friedrichstraße 100", city="Berlin", postal_code="10117", country="DE"),
    vat_id="DE136457858",
    legal_registration="HRB 123456 B",
    legal_info="Amtsgericht Charlottenburg · Geschäftsführer: A. Example",
    email="billing@acme.example",
    phone="+49 30 1234567",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    creditor_id="DE98ZZZ09999999999",
    slug="acme",
)

NORTHWIND = Buyer(
    name="Northwind Handels GmbH",
    address=Address(street="Am Sandtorkai 50", city="Hamburg", postal_code="20457", country="DE"),
    vat_id="DE812651301",
    email="ap@northwind.example",
    customer_number="C-1001",
    locale="de_DE",
)

FABRIKAM = Buyer(
    name="Fabrikam SARL",
    address=Address(street="12 rue de la République", city="Lyon", postal_code="69002", country="FR"),
    vat_id="FR40303265045",
    email="compta@fabrikam.example",
    customer_number="C-2001",
    locale="fr_FR",
)

CONTOSO_US = Buyer(
    name="Contoso Inc.",
    address=Address(
        street="500 Fifth Avenue", city="New York", postal_code="10110", country="US", subdivision="NY"
    ),
    email="ap@contoso.example",
    locale="en_US",
)

FEB = Period(date(2027, 2, 1), date(2027, 3, 1))
MAR = Period(date(2027, 3, 1), date(2027, 4, 1))
APR = Period(date(2027, 4, 1), date(2027, 5, 1))


def transfer(reference: str) -> PaymentMeans:
    return PaymentMeans(PaymentMeansKind.CREDIT_TRANSFER, reference=reference)


def _doc(
    number: str,
    issue: date,
    due: date,
    buyer: Buyer,
    lines: tuple[InvoiceLine, ...],
    tax: tuple[TaxSubtotal, ...],
    totals: Totals,
    *,
    reference: str,
    delivery: date | None = None,
) -> InvoiceDocument:
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number=number,
        issue_date=issue,
        currency="EUR",
        seller=ACME,
        buyer=buyer,
        lines=lines,
        tax_summary=tax,
        totals=totals,
        due_date=due,
        payment_terms="Net 30 days",
        payment_means=transfer(reference),
        delivery_date=delivery,
        contract_reference="CON-2027-000001",
        buyer_reference="PO-NW-4711",
    )


def _totals(net: str, tax: str, total: str) -> Totals:
    return Totals(line_net=eur(net), net=eur(net), tax=eur(tax), total=eur(total), payable=eur(total))


def seat(line_id: str, quantity: int, amount: str, period: Period, contract: str = "C-1") -> InvoiceLine:
    return InvoiceLine(
        id=line_id,
        description="SEAT — Platform seat",
        quantity=D(quantity),
        unit_code="MON",
        unit_price=eur("25.50"),
        net_amount=eur(amount),
        vat=S19,
        service_period=period,
        item_id="SEAT",
        note=f"Contract {contract}",
    )


# RF references: ISO 11649 over the number's letters and digits; the check digits come from
# python-stdnum's mod 97-10 (an independent implementation), and test_document_model checks
# each with stdnum.iso11649.
RF = {
    "INV-2027-000001": "RF44INV2027000001",
    "INV-2027-000002": "RF17INV2027000002",
    "INV-2027-000003": "RF87INV2027000003",
    "INV-2027-000004": "RF60INV2027000004",
    "INV-2027-000005": "RF33INV2027000005",
}


def northwind_invoices() -> list[InvoiceDocument]:
    """INV-2027-000001 … 000005 of the Northwind story (northwind.md, table 4): DE, 19 %."""
    onb = InvoiceLine(
        "2", "ONB — Onboarding", D(1), "C62", eur("5000.00"), eur("5000.00"), S19, item_id="ONB"
    )
    edge = InvoiceLine(
        "1", "EDGE — Edge appliance", D(2), "C62", eur("2000.00"), eur("4000.00"), S19, item_id="EDGE"
    )
    # Amendment: 10 × 25.50 × 17/31 = 139.8387… → 139.84; the unit price per seat for the
    # prorated period is 139.84 / 10 = 13.984 exactly, so quantity × price = the line amount.
    prorated = InvoiceLine(
        "1",
        "SEAT — Platform seat (amendment, prorated 17/31 of a month)",
        D(10),
        "C62",
        eur("13.984"),
        eur("139.84"),
        S19,
        service_period=Period(date(2027, 3, 15), date(2027, 4, 1)),
        item_id="SEAT",
        note="Contract C-1A, 10 × 25.50 × 17/31",
    )
    # March usage: 350,000 calls = 100,000 × 0.00 + 250,000 × 0.002 = 500.00. The average price
    # is not a finite decimal, so the price is stated per 350,000 calls (price base quantity).
    api = InvoiceLine(
        "3",
        "API — API calls",
        D(350000),
        "C62",
        eur("500.00"),
        eur("500.00"),
        S19,
        price_base_quantity=D(350000),
        service_period=MAR,
        item_id="API",
        tiers=(
            UsageTier(D(1), D(100000), D(100000), eur("0.00"), eur("0.00")),
            UsageTier(D(100001), D(1000000), D(250000), eur("0.002"), eur("500.00")),
        ),
    )
    return [
        # 1,275.00 + 5,000.00 = 6,275.00; × 19 % = 1,192.25; total 7,467.25; due 2027-03-03.
        _doc(
            "INV-2027-000001",
            date(2027, 2, 1),
            date(2027, 3, 3),
            NORTHWIND,
            (seat("1", 50, "1275.00", FEB), onb),
            (TaxSubtotal(S19, eur("6275.00"), eur("1192.25")),),
            _totals("6275.00", "1192.25", "7467.25"),
            reference=RF["INV-2027-000001"],
        ),
        # 2 × 2,000.00 = 4,000.00; × 19 % = 760.00; total 4,760.00; delivered 2027-02-10.
        _doc(
            "INV-2027-000002",
            date(2027, 2, 10),
            date(2027, 3, 12),
            NORTHWIND,
            (edge,),
            (TaxSubtotal(S19, eur("4000.00"), eur("760.00")),),
            _totals("4000.00", "760.00", "4760.00"),
            reference=RF["INV-2027-000002"],
            delivery=date(2027, 2, 10),
        ),
        # 1,275.00 × 19 % = 242.25; total 1,517.25.
        _doc(
            "INV-2027-000003",
            date(2027, 3, 1),
            date(2027, 3, 31),
            NORTHWIND,
            (seat("1", 50, "1275.00", MAR),),
            (TaxSubtotal(S19, eur("1275.00"), eur("242.25")),),
            _totals("1275.00", "242.25", "1517.25"),
            reference=RF["INV-2027-000003"],
        ),
        # 139.84 × 19 % = 26.5696 → 26.57; total 166.41.
        _doc(
            "INV-2027-000004",
            date(2027, 3, 15),
            date(2027, 4, 14),
            NORTHWIND,
            (prorated,),
            (TaxSubtotal(S19, eur("139.84"), eur("26.57")),),
            _totals("139.84", "26.57", "166.41"),
            reference=RF["INV-2027-000004"],
        ),
        # 1,275.00 + 255.00 + 500.00 = 2,030.00; × 19 % = 385.70; total 2,415.70.
        _doc(
            "INV-2027-000005",
            date(2027, 4, 1),
            date(2027, 5, 1),
            NORTHWIND,
            (seat("1", 50, "1275.00", APR), seat("2", 10, "255.00", APR, contract="C-1A"), api),
            (TaxSubtotal(S19, eur("2030.00"), eur("385.70")),),
            _totals("2030.00", "385.70", "2415.70"),
            reference=RF["INV-2027-000005"],
        ),
    ]


def fabrikam_invoices() -> list[InvoiceDocument]:
    """The EU-customer variant: Fabrikam SARL, Lyon. Services AE 0 %, the appliances K 0 %;
    totals equal the net amounts (6,275.00; 4,000.00; 1,275.00; 139.84; 2,030.00)."""
    out = []
    for doc in northwind_invoices():
        goods = doc.number == "INV-2027-000002"
        vat = K if goods else AE
        mention = INTRA_COMMUNITY_MENTION if goods else REVERSE_CHARGE_MENTION
        code = "VATEX-EU-IC" if goods else "VATEX-EU-AE"
        lines = tuple(replace(line, vat=vat) for line in doc.lines)
        net = doc.totals.net
        out.append(
            replace(
                doc,
                buyer=replace(FABRIKAM, deliver_to_country="FR") if goods else FABRIKAM,
                lines=lines,
                tax_summary=(TaxSubtotal(vat, net, eur("0.00"), mention, code),),
                totals=Totals(line_net=net, net=net, tax=eur("0.00"), total=net, payable=net),
                buyer_reference="FAB-PO-77",
            )
        )
    return out


def exempt_invoice() -> InvoiceDocument:
    """Exempt training (E), paid by SEPA direct debit: 2 days × 900.00 = 1,800.00, no VAT."""
    line = InvoiceLine(
        "1",
        "Administrator training (2 days)",
        D(2),
        "DAY",
        eur("900.00"),
        eur("1800.00"),
        E,
        service_period=Period(date(2027, 5, 10), date(2027, 5, 12)),
    )
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="INV-2027-000101",
        issue_date=date(2027, 5, 12),
        currency="EUR",
        seller=ACME,
        buyer=NORTHWIND,
        lines=(line,),
        tax_summary=(TaxSubtotal(E, eur("1800.00"), eur("0.00"), EXEMPT_MENTION, "VATEX-EU-132-1I"),),
        totals=Totals(
            line_net=eur("1800.00"),
            net=eur("1800.00"),
            tax=eur("0.00"),
            total=eur("1800.00"),
            payable=eur("1800.00"),
        ),
        due_date=date(2027, 5, 26),
        payment_terms="Collected by SEPA direct debit 14 days after the invoice date",
        payment_means=PaymentMeans(
            PaymentMeansKind.DIRECT_DEBIT,
            reference="RF60INV2027000101",
            mandate_id="MNDT-2027-0042",
            debtor_iban="DE02120300000000202051",
        ),
    )


def export_invoice() -> InvoiceDocument:
    """Goods exported to the US (G): 3 EDGE × 2,000.00 = 6,000.00, no VAT, shipped 2027-06-01."""
    line = InvoiceLine(
        "1", "EDGE — Edge appliance", D(3), "C62", eur("2000.00"), eur("6000.00"), G, item_id="EDGE"
    )
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="INV-2027-000102",
        issue_date=date(2027, 6, 1),
        currency="EUR",
        seller=ACME,
        buyer=CONTOSO_US,
        lines=(line,),
        tax_summary=(TaxSubtotal(G, eur("6000.00"), eur("0.00"), EXPORT_MENTION, "VATEX-EU-G"),),
        totals=Totals(
            line_net=eur("6000.00"),
            net=eur("6000.00"),
            tax=eur("0.00"),
            total=eur("6000.00"),
            payable=eur("6000.00"),
        ),
        due_date=date(2027, 7, 1),
        payment_terms="Net 30 days",
        payment_means=transfer("RF33INV2027000102"),
        delivery_date=date(2027, 6, 1),
        order_reference="CONTOSO-PO-9001",
    )


def credit_note() -> InvoiceDocument:
    """Credit note for half the onboarding of INV-2027-000001: 2,500.00 + 19 % 475.00 = 2,975.00."""
    line = InvoiceLine(
        "1",
        "ONB — Onboarding (partial credit, scope reduced)",
        D(1),
        "C62",
        eur("2500.00"),
        eur("2500.00"),
        S19,
        item_id="ONB",
    )
    return InvoiceDocument(
        kind=DocumentKind.CREDIT_NOTE,
        number="CN-2027-000001",
        issue_date=date(2027, 3, 10),
        currency="EUR",
        seller=ACME,
        buyer=NORTHWIND,
        lines=(line,),
        tax_summary=(TaxSubtotal(S19, eur("2500.00"), eur("475.00")),),
        totals=Totals(
            line_net=eur("2500.00"),
            net=eur("2500.00"),
            tax=eur("475.00"),
            total=eur("2975.00"),
            payable=eur("2975.00"),
        ),
        preceding_invoice=PrecedingInvoice("INV-2027-000001", date(2027, 2, 1)),
        payment_means=transfer("RF20CN2027000001"),
    )


def multi_rate_invoice() -> InvoiceDocument:
    """19 % and 7 % with a line allowance, a document allowance, a charge and a prepayment.

    Line 1: 10 SEAT × 30.00 = 300.00 − 10 % (30.00) = 270.00 (19 %)
    Line 2: 4 handbooks × 24.90 = 99.60 (7 %)
    Line 3: 1 training day × 800.00 = 800.00 (19 %)
    Lines: 270.00 + 99.60 + 800.00 = 1,169.60
    Document allowance: 5 % of the 19 % lines (270.00 + 800.00 = 1,070.00) = 53.50 (19 %)
    Document charge: shipping of the books 9.90 (7 %)
    Net: 1,169.60 − 53.50 + 9.90 = 1,126.00
    19 %: (1,070.00 − 53.50) = 1,016.50 × 0.19 = 193.135 → 193.14
    7 %: (99.60 + 9.90) = 109.50 × 0.07 = 7.665 → 7.67
    VAT 200.81; total 1,326.81; prepaid 100.00; due 1,226.81.
    """
    lines = (
        InvoiceLine(
            "1",
            "SEAT — Platform seat",
            D(10),
            "MON",
            eur("30.00"),
            eur("270.00"),
            S19,
            service_period=Period(date(2027, 6, 1), date(2027, 7, 1)),
            allowances_charges=(
                AllowanceCharge(
                    eur("30.00"),
                    "Launch discount",
                    reason_code="95",
                    base_amount=eur("300.00"),
                    percent=D("10"),
                ),
            ),
        ),
        InvoiceLine("2", "Admin handbook (printed)", D(4), "C62", eur("24.90"), eur("99.60"), S7),
        InvoiceLine("3", "Training day", D(1), "DAY", eur("800.00"), eur("800.00"), S19),
    )
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="INV-2027-000103",
        issue_date=date(2027, 6, 1),
        currency="EUR",
        seller=ACME,
        buyer=replace(NORTHWIND, locale="en_US"),
        lines=lines,
        tax_summary=(
            TaxSubtotal(S19, eur("1016.50"), eur("193.14")),
            TaxSubtotal(S7, eur("109.50"), eur("7.67")),
        ),
        totals=Totals(
            line_net=eur("1169.60"),
            allowances=eur("53.50"),
            charges=eur("9.90"),
            net=eur("1126.00"),
            tax=eur("200.81"),
            total=eur("1326.81"),
            prepaid=eur("100.00"),
            payable=eur("1226.81"),
        ),
        allowances_charges=(
            AllowanceCharge(
                eur("53.50"),
                "Loyalty discount",
                reason_code="95",
                base_amount=eur("1070.00"),
                percent=D("5"),
                vat=S19,
            ),
            AllowanceCharge(eur("9.90"), "Shipping", is_charge=True, reason_code="FC", vat=S7),
        ),
        due_date=date(2027, 7, 1),
        payment_terms="Net 30 days",
        payment_means=transfer("RF06INV2027000103"),
        order_reference="PO-NW-5000",
        notes=("Thank you for your business.",),
    )


def every_kind() -> dict[str, InvoiceDocument]:
    """One document of every kind q2c issues, by name."""
    northwind = northwind_invoices()
    fabrikam = fabrikam_invoices()
    return {
        "domestic DE 19 %": northwind[0],
        "reverse charge (AE)": fabrikam[0],
        "intra-Community supply (K)": fabrikam[1],
        "exempt (E)": exempt_invoice(),
        "export (G)": export_invoice(),
        "credit note": credit_note(),
        "multi-rate with allowances": multi_rate_invoice(),
    }
