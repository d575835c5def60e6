"""Render an invoice's documents in one call: the seam the issuing use case and exports use.

:func:`render_documents` checks that the law's required data is present, renders the requested
formats, validates every e-invoice against the EN 16931 rules and returns the files with their
SHA-256, ready to be stored with the issued invoice. It refuses (raises) rather than return an
invalid document, so an invoice cannot be issued with one. :func:`rerender` renders a stored
document again and refuses when the bytes differ from the stored hash.

Must not import the ORM or any q2c app above ``core``, ``platform`` and ``tax``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from q2c.invoicing.documents import validation
from q2c.invoicing.documents.cii import to_cii
from q2c.invoicing.documents.errors import DocumentNotReproducible, EInvoiceInvalid, MissingInvoiceData
from q2c.invoicing.documents.facturx import facturx_pdf
from q2c.invoicing.documents.model import InvoiceDocument, missing_data
from q2c.invoicing.documents.pdf import invoice_pdf
from q2c.invoicing.documents.ubl import to_ubl


class DocumentFormat(StrEnum):
    PDF = "pdf"  # the plain PDF
    UBL = "ubl"  # UBL 2.1 XML (Peppol BIS Billing 3.0)
    CII = "cii"  # CII XML (Factur-X EN 16931), standalone
    FACTURX = "facturx"  # PDF/A-3 with the CII XML embedded


_CONTENT_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.UBL: "application/xml",
    DocumentFormat.CII: "application/xml",
    DocumentFormat.FACTURX: "application/pdf",
}
_SUFFIXES = {
    DocumentFormat.PDF: ".pdf",
    DocumentFormat.UBL: ".ubl.xml",
    DocumentFormat.CII: ".cii.xml",
    DocumentFormat.FACTURX: ".facturx.pdf",
}


@dataclass(frozen=True, slots=True)
class RenderedFile:
    format: DocumentFormat
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def filename(doc: InvoiceDocument, fmt: DocumentFormat) -> str:
    """A safe file name for the document (``INV-2027-000001.ubl.xml``)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", doc.number).strip("._") or "document"
    return stem + _SUFFIXES[fmt]


def require_complete(doc: InvoiceDocument) -> None:
    """Raise :class:`MissingInvoiceData` naming everything the invoice still lacks."""
    missing = missing_data(doc)
    if missing:
        listed = "; ".join(m.message for m in missing)
        raise MissingInvoiceData(
            f"the invoice cannot be issued until it states: {listed}",
            field=missing[0].field,
            details=[m.as_dict() for m in missing],
        )


def _check(xml: bytes, syntax: validation.Syntax, doc: InvoiceDocument) -> None:
    failures = validation.fatal(validation.validate(xml, syntax))
    if failures:
        rules = ", ".join(sorted({f.rule for f in failures}))
        raise EInvoiceInvalid(
            f"{doc.number}: the {syntax.upper()} e-invoice fails EN 16931 rules {rules}",
            details=[f.as_dict() for f in failures],
        )


def render(doc: InvoiceDocument, fmt: DocumentFormat, *, validate: bool = True) -> RenderedFile:
    """One format of the document; e-invoices are validated unless ``validate`` is False."""
    if fmt is DocumentFormat.PDF:
        content = invoice_pdf(doc)
    elif fmt is DocumentFormat.UBL:
        content = to_ubl(doc)
        if validate:
            _check(content, "ubl", doc)
    else:
        xml = to_cii(doc)
        if validate:
            _check(xml, "cii", doc)
        content = xml if fmt is DocumentFormat.CII else facturx_pdf(doc, xml=xml)
    return RenderedFile(fmt, filename(doc, fmt), _CONTENT_TYPES[fmt], content)


def render_documents(
    doc: InvoiceDocument,
    formats: Iterable[DocumentFormat | str] = (DocumentFormat.PDF, DocumentFormat.UBL),
    *,
    validate: bool = True,
) -> dict[DocumentFormat, RenderedFile]:
    """Check the document is complete, then render (and validate) each requested format.

    Raises :class:`MissingInvoiceData` (what is missing, per field), :class:`EInvoiceInvalid`
    (failed EN 16931 rules) or ``validation.ValidatorUnavailable`` (the rules could not run).
    """
    require_complete(doc)
    wanted = [DocumentFormat(f) for f in formats]
    return {fmt: render(doc, fmt, validate=validate) for fmt in dict.fromkeys(wanted)}


def rerender(doc: InvoiceDocument, fmt: DocumentFormat | str, stored_sha256: str) -> RenderedFile:
    """Render an issued document again; refuse if it no longer matches the stored SHA-256."""
    rendered = render(doc, DocumentFormat(fmt), validate=False)
    if rendered.sha256 != stored_sha256.lower():
        raise DocumentNotReproducible(
            f"re-rendering {doc.number} ({rendered.format.value}) does not reproduce the issued document; "
            "serve the stored copy instead",
            field="format",
        )
    return rendered
