"""The pure pricing engine of the catalog: price models, waterfalls, totals, configuration.

Public surface (import from here):

- :func:`price` — ``price(snapshot, request) -> PricingResult``;
- :func:`parse_request` — a JSON-like mapping → :class:`PriceRequest` (422 errors naming fields);
- :func:`rate` — ``rate(model, quantity, base=None) -> Rating(amount, breakdown)``, the price
  models as reusable functions (the usage-rating engine calls them too), with :func:`clamp`,
  :func:`check_tiers` and :func:`validate_model`;
- :func:`validate_configuration` and :func:`check_rules` — bundle rules at quote time and rule
  cycles at catalog-save time;
- the snapshot dataclasses in :mod:`q2c.catalog.pricing.types`.

Plain Python over frozen dataclasses and Decimals. Must not import Django, the ORM, or any q2c
package other than ``q2c.core`` (import-linter checks this).
"""

from q2c.catalog.pricing.configuration import (
    ConfiguredLine,
    RuleProblem,
    check_rules,
    find_cycles,
    validate_configuration,
)
from q2c.catalog.pricing.engine import price
from q2c.catalog.pricing.price_models import (
    Rating,
    TierCharge,
    TierProblem,
    blocks,
    check_model,
    check_tiers,
    clamp,
    list_unit_price,
    rate,
    validate_model,
)
from q2c.catalog.pricing.request import (
    LineRequest,
    ManualDiscount,
    PriceRequest,
    PricingInputError,
    parse_request,
)
from q2c.catalog.pricing.result import ApprovalFlag, PricedLine, PricingResult, Step, Totals, Violation
from q2c.catalog.pricing.rounding import MinorUnits
from q2c.catalog.pricing.types import (
    Bundle,
    BundleOption,
    CatalogSnapshot,
    Charge,
    ContractedPrice,
    DiscountSchedule,
    OptionGroup,
    PriceModel,
    PriceModelKind,
    Product,
    Promotion,
    Rule,
    Ssp,
    Tier,
)

__all__ = [
    "ApprovalFlag",
    "Bundle",
    "BundleOption",
    "CatalogSnapshot",
    "Charge",
    "ConfiguredLine",
    "ContractedPrice",
    "DiscountSchedule",
    "LineRequest",
    "ManualDiscount",
    "MinorUnits",
    "OptionGroup",
    "PriceModel",
    "PriceModelKind",
    "PriceRequest",
    "PricedLine",
    "PricingInputError",
    "PricingResult",
    "Product",
    "Promotion",
    "Rating",
    "Rule",
    "RuleProblem",
    "Ssp",
    "Step",
    "Tier",
    "TierCharge",
    "TierProblem",
    "Totals",
    "Violation",
    "blocks",
    "check_model",
    "check_rules",
    "check_tiers",
    "clamp",
    "find_cycles",
    "list_unit_price",
    "parse_request",
    "price",
    "rate",
    "validate_configuration",
    "validate_model",
]
