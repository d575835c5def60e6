"""The pure tax engine: VAT/GST and US sales tax for a document of lines.

Public API (the same code estimates a quote's tax and computes an invoice's)::

    from q2c.tax.engine import compute, RuleSet, TaxDocument, TaxLine, Seller, Buyer, ...

    compute(document: TaxDocument, rules: RuleSet) -> TaxResult

- :class:`TaxDocument` — currency, :class:`Seller`, :class:`Buyer` (country, region,
  :class:`CustomerKind`, ``vat_id_valid``), ``tax_date``, :class:`TaxLine` s (id, ``Money``
  amount rounded to minor units, :class:`~q2c.tax.categories.TaxCategory`,
  :class:`SupplyType`, optional ``supply_date``/``ship_from``/``ship_to``),
  ``prices_include_tax``, :class:`RoundingMethod` (``per_rate`` default, EN 16931 BR-CO-17;
  ``per_line``), ``rounding`` (``half_up``/``half_even``), ``ship_from``/``ship_to``,
  ``delivery_date``, an optional :class:`Exemption` certificate.
- :class:`RuleSet` ``(rates: Iterable[Rate], rules: Iterable[Rule])`` — rates and rules as
  data. Build it from the database with ``q2c.tax.services.load_ruleset(as_of=None)``, or from
  the shipped CSV files with ``q2c.tax.csvio.shipped_ruleset()`` (no database).
- :class:`TaxResult` — ``lines`` (:class:`LineTax`: net, tax, gross, percent, EN 16931 category,
  jurisdiction, treatment, rule, mention, VATEX code), ``summary`` (:class:`TaxSummary`: the VAT
  breakdown per jurisdiction, category, rate and mention; deliver-to country and delivery date
  on ``K`` rows), ``net_total``/``tax_total``/``gross_total``, ``warnings``
  (:class:`TaxWarning`, e.g. ``tax.vat_id_invalid`` for the reverse-charge fallback),
  ``mentions``.
- Helpers: :func:`tax_of` ``(net_minor, percent, rounding) -> int`` and
  :func:`split_inclusive` ``(gross_minor, percent, rounding) -> int | None``.
- Errors (all :class:`~q2c.core.errors.ValidationError`, API 422): ``tax.unknown_country``,
  ``tax.unknown_region``, ``tax.region_required``, ``tax.rate_missing``, ``tax.no_rule``,
  ``tax.rule_ambiguous``, ``tax.data_overlap``, ``tax.inclusive_not_splittable``,
  ``tax.delivery_required``, ``tax.supply_type``, ``tax.amount_not_rounded``,
  ``tax.currency_mismatch``, ``tax.invalid``.

The rules themselves — what is domestic, reverse-charged, an intra-Community supply, taxed at
the buyer's rate, an export — and the rounding and inclusive-price definitions are written out
in ``docs/tax.md`` and in :mod:`q2c.tax.engine.calculator`.

Must not import Django, the ORM or any q2c package other than ``q2c.core`` and
``q2c.tax.categories`` (checked by import-linter).
"""

from q2c.tax.categories import TaxCategory, VatCategoryCode
from q2c.tax.engine.calculator import (
    MENTION_EXEMPT,
    MENTION_EXPORT,
    MENTION_INTRA_COMMUNITY,
    MENTION_OUTSIDE_SCOPE,
    MENTION_REVERSE_CHARGE,
    compute,
    split_inclusive,
    tax_of,
)
from q2c.tax.engine.document import (
    Buyer,
    CustomerKind,
    Exemption,
    Location,
    RoundingMethod,
    Seller,
    SupplyType,
    TaxDocument,
    TaxLine,
)
from q2c.tax.engine.errors import (
    AmbiguousRule,
    DeliveryRequired,
    NoRule,
    NotSplittable,
    OverlappingData,
    RateMissing,
    RegionRequired,
    SupplyTypeError,
    TaxError,
    UnknownCountry,
    UnknownRegion,
)
from q2c.tax.engine.result import LineTax, TaxResult, TaxSummary, TaxWarning
from q2c.tax.engine.ruleset import ANY, EU, RATE_KIND, Rate, RateKind, Relation, Rule, RuleSet, Treatment

__all__ = [
    "ANY",
    "EU",
    "MENTION_EXEMPT",
    "MENTION_EXPORT",
    "MENTION_INTRA_COMMUNITY",
    "MENTION_OUTSIDE_SCOPE",
    "MENTION_REVERSE_CHARGE",
    "RATE_KIND",
    "AmbiguousRule",
    "Buyer",
    "CustomerKind",
    "DeliveryRequired",
    "Exemption",
    "LineTax",
    "Location",
    "NoRule",
    "NotSplittable",
    "OverlappingData",
    "Rate",
    "RateKind",
    "RateMissing",
    "RegionRequired",
    "Relation",
    "RoundingMethod",
    "Rule",
    "RuleSet",
    "Seller",
    "SupplyType",
    "SupplyTypeError",
    "TaxCategory",
    "TaxDocument",
    "TaxError",
    "TaxLine",
    "TaxResult",
    "TaxSummary",
    "TaxWarning",
    "Treatment",
    "UnknownCountry",
    "UnknownRegion",
    "VatCategoryCode",
    "compute",
    "split_inclusive",
    "tax_of",
]
