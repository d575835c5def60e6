"""Invoice documents: plain data in, bytes out.

- :mod:`.model` — :class:`InvoiceDocument` and its parts (frozen dataclasses, Money amounts),
  :func:`missing_data`, :func:`creditor_reference`.
- :mod:`.ubl` — ``to_ubl(doc) -> bytes``: UBL 2.1 Invoice / CreditNote (EN 16931, Peppol BIS 3.0).
- :mod:`.cii` — ``to_cii(doc) -> bytes``: CII for Factur-X EN 16931.
- :mod:`.facturx` — ``facturx_pdf(doc) -> bytes``: PDF/A-3 with the CII embedded.
- :mod:`.pdf` — ``invoice_pdf(doc) -> bytes``: the localized PDF from overridable templates.
- :mod:`.validation` — XSD + official EN 16931 schematron, offline (``validate(xml, "ubl"|"cii")``).
- :mod:`.render` — ``render_documents(doc, formats)``: complete-check, render, validate, SHA-256;
  ``rerender(doc, fmt, sha256)`` refuses when bytes changed.

Only the model is re-exported here, so that importing the pure writers needs no Django.
Must not import the ORM or any q2c app above ``core``, ``platform`` and ``tax``.
"""

from q2c.invoicing.documents.model import (
    Address,
    AllowanceCharge,
    Buyer,
    DocumentKind,
    ElectronicAddress,
    InvoiceDocument,
    InvoiceLine,
    MissingItem,
    PaymentMeans,
    PaymentMeansKind,
    PrecedingInvoice,
    Seller,
    TaxSubtotal,
    Totals,
    UsageTier,
    VatRate,
    creditor_reference,
    missing_data,
)

__all__ = [
    "Address",
    "AllowanceCharge",
    "Buyer",
    "DocumentKind",
    "ElectronicAddress",
    "InvoiceDocument",
    "InvoiceLine",
    "MissingItem",
    "PaymentMeans",
    "PaymentMeansKind",
    "PrecedingInvoice",
    "Seller",
    "TaxSubtotal",
    "Totals",
    "UsageTier",
    "VatRate",
    "creditor_reference",
    "missing_data",
]
