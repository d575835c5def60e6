"""Errors of the tax engine, each with a stable code (``tax.…``) and, where one input is at
fault, the field that names it (``seller.country``, ``lines[2].amount``).

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from q2c.core.errors import ValidationError


class TaxError(ValidationError):
    """Base of every tax-engine error (API 422, CLI exit 2)."""

    default_code = "tax.invalid"


class UnknownCountry(TaxError):
    """A country code that is not ISO 3166-1 alpha-2 (``EL`` for Greece is refused: use ``GR``)."""

    default_code = "tax.unknown_country"


class UnknownRegion(TaxError):
    """A region that is not an ISO 3166-2 subdivision of its country."""

    default_code = "tax.unknown_region"


class RegionRequired(TaxError):
    """Sales tax depends on the state: a US location needs its region (``CA``, ``NY`` …)."""

    default_code = "tax.region_required"


class RateMissing(TaxError):
    """No rate of the needed kind is in force in the jurisdiction on the date. Never a silent
    zero: a gap in the rate table stops the calculation."""

    default_code = "tax.rate_missing"


class NoRule(TaxError):
    """No rule matches the supply (seller, buyer, customer kind, category, supply type, date)."""

    default_code = "tax.no_rule"


class AmbiguousRule(TaxError):
    """Two equally specific rules match one supply: the rule data must be fixed."""

    default_code = "tax.rule_ambiguous"


class OverlappingData(TaxError):
    """Two rates (or rules) for the same key are in force on the same day."""

    default_code = "tax.data_overlap"


class NotSplittable(TaxError):
    """A tax-inclusive amount has no net amount, at the currency's precision, whose tax adds
    back up to it (see ``docs/tax.md``, "Inclusive prices")."""

    default_code = "tax.inclusive_not_splittable"


class DeliveryRequired(TaxError):
    """An intra-Community supply of goods needs the deliver-to country and the delivery date
    (EN 16931 BR-IC-11, BR-IC-12)."""

    default_code = "tax.delivery_required"


class SupplyTypeError(TaxError):
    """A line's supply type is missing where its category does not imply it, or contradicts it."""

    default_code = "tax.supply_type"
