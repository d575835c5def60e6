"""Catalog errors with stable codes.

``catalog.*`` codes come from saving the catalog (validation, conflicts, rule cycles, imports);
``pricing.*`` codes come from pricing a request (see ``q2c.catalog.pricing.request``).

May import ``q2c.core`` only.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, ValidationError


class CatalogInvalid(ValidationError):
    """A catalog record does not hold together (API 422); ``details`` names each field."""

    default_code = "catalog.invalid"


class CatalogNotFound(NotFound):
    default_code = "catalog.not_found"


class CatalogConflict(Conflict):
    """Duplicate key, record in use, overlapping validity (API 409)."""

    default_code = "catalog.conflict"


class RuleCycle(CatalogInvalid):
    default_code = "catalog.rule_cycle"


class ImportRejected(CatalogInvalid):
    """A file had invalid rows; nothing was imported. ``details`` lists row, field, message."""

    default_code = "catalog.import_rejected"
