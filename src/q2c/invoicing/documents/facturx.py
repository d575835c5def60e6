"""Factur-X / ZUGFeRD: the invoice PDF as PDF/A-3 with its CII XML embedded (EN 16931 profile).

The PDF is rendered by :mod:`.pdf` as PDF/A-3b and the XML (:mod:`.cii`) is embedded by the
``factur-x`` package (``generate_from_binary``), which also writes the PDF/A and Factur-X XMP
metadata. Its schema check runs offline (the XSD ships in the package); its schematron check
is left off because it posts to a Saxon server — the EN 16931 rules are run by
:mod:`.validation` instead.

factur-x stamps the metadata and the attachment with ``datetime.now()``. To keep output
reproducible, the call runs under a lock with that module's clock pinned to the document's issue
date (factur-x has no parameter for it); nothing else in q2c calls factur-x.

Must not import the ORM or any q2c app above ``core``, ``platform`` and ``tax``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from q2c.invoicing.documents.cii import to_cii
from q2c.invoicing.documents.model import InvoiceDocument
from q2c.invoicing.documents.pdf import invoice_pdf

FILENAME = "factur-x.xml"

_lock = threading.Lock()


@contextmanager
def _pinned_clock(day: date) -> Iterator[None]:
    from facturx import facturx as module

    moment = datetime.combine(day, time(0, 0), tzinfo=UTC)

    class _Pinned(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    original = module.datetime
    module.datetime = _Pinned  # type: ignore[misc]
    try:
        yield
    finally:
        module.datetime = original  # type: ignore[misc]


def facturx_pdf(doc: InvoiceDocument, *, xml: bytes | None = None, pdf: bytes | None = None) -> bytes:
    """The Factur-X PDF/A-3 of ``doc``: its PDF with the CII XML embedded as ``factur-x.xml``.

    ``xml`` and ``pdf`` may be passed when already rendered (the PDF must be PDF/A-3);
    otherwise both are rendered here. Raises ``ValueError``/lxml errors if the XML fails the
    Factur-X schema.
    """
    from facturx import generate_from_binary

    xml = xml if xml is not None else to_cii(doc)
    pdf = pdf if pdf is not None else invoice_pdf(doc, pdf_variant="pdf/a-3b")
    kind = "Credit note" if doc.is_credit_note else "Invoice"
    metadata = {
        "author": doc.seller.name,
        "keywords": "Factur-X, EN 16931, invoice",
        "title": f"{doc.seller.name}: {kind} {doc.number}",
        "subject": f"Factur-X {kind.lower()} {doc.number} dated {doc.issue_date.isoformat()} issued by {doc.seller.name}",
    }
    with _lock, _pinned_clock(doc.issue_date):
        result: bytes = generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            check_schematron=False,
            pdf_metadata=metadata,
            lang=doc.buyer.locale.replace("_", "-"),
        )
    return result


def embedded_xml(pdf: bytes) -> bytes:
    """The Factur-X XML embedded in a PDF (to check what was sent)."""
    from io import BytesIO

    from facturx import get_xml_from_pdf

    _filename, xml = get_xml_from_pdf(BytesIO(pdf), check_xsd=False)
    if not xml:
        raise ValueError("the PDF carries no Factur-X XML")
    return bytes(xml)
