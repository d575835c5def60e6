"""Errors of invoice document rendering, with stable codes.

Must not import Django or any q2c app above ``core``.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, ValidationError


class MissingInvoiceData(ValidationError):
    """The invoice lacks data the law requires; ``details`` lists each missing field."""

    default_code = "invoicing.missing_data"


class EInvoiceInvalid(ValidationError):
    """The e-invoice fails the EN 16931 rules; ``details`` lists the failed rules."""

    default_code = "invoicing.einvoice_invalid"


class DocumentNotReproducible(Conflict):
    """Re-rendering an issued document gave other bytes than the stored ones (API 409)."""

    default_code = "invoicing.document_not_reproducible"
