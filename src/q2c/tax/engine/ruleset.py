"""Rules and rates as data: the :class:`RuleSet` the calculator reads.

A **rate** is a percentage of one kind (standard, reduced …) in one jurisdiction, in force over a
half-open period ``[valid_from, valid_to)``. It names the EN 16931 category it produces: ``S``
for a positive VAT rate, ``Z`` for a zero rate, ``L`` for the Canary Islands' IGIC, ``M`` for
Ceuta and Melilla's IPSI, ``O`` for a US state without sales tax.

A **rule** says how a supply is treated — taxed where the seller is (``domestic``), taxed where
the buyer is (``destination``), reverse-charged, an intra-Community supply, an export, outside
the scope, exempt — given:

- ``seller``: the seller's territory (``DE``, ``ES-CN``, ``US``), ``EU`` (any member state on the
  date) or ``*``;
- ``buyer``: a territory or jurisdiction code (``CH``, ``US-CA``); ``EU`` (the supply goes to
  any member state on the date, wherever it comes from — for sellers outside the EU); where the
  supply goes relative to where it comes from — ``domestic`` (same territory), ``eu`` (another
  member state, both inside the EU VAT territory), ``third`` (anything else); or ``*``;
- ``customer_kind`` (``business``/``consumer``/``*``), ``tax_category`` (a
  :class:`~q2c.tax.categories.TaxCategory` or ``*``), ``supply_type`` (``goods``/``services``/``*``);
- a half-open validity period.

Resolution: among the rules in force on the date that match, the most specific wins, compared
field by field in this order — seller (territory > ``EU`` > ``*``), buyer (US state > territory
> ``EU`` > relation > ``*``), tax category, supply type, customer kind. Every field's values
score differently, so two matching rules can only tie if they have the same key — and two rules
(or rates) with the same key in force on the same day are refused when the set is built
(:class:`OverlappingData`). :class:`AmbiguousRule` remains as a guard.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax``'s pure modules.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from q2c.tax.categories import TaxCategory, VatCategoryCode
from q2c.tax.engine.document import CustomerKind, SupplyType
from q2c.tax.engine.errors import AmbiguousRule, NoRule, OverlappingData, RateMissing, TaxError
from q2c.tax.engine.territory import in_eu, is_territory_code

ANY = "*"
EU = "EU"


class RateKind(StrEnum):
    """Which of a jurisdiction's rates: ``reduced`` is the higher reduced rate, ``reduced_2``
    the lower one where there are two (FR 10 % / 5.5 %), ``super_reduced`` a rate under 5 %
    (FR 2.1 %, IT 4 %, ES 4 %), ``parking`` a parking rate (BE, IE, LU, AT, PT)."""

    STANDARD = "standard"
    REDUCED = "reduced"
    REDUCED_2 = "reduced_2"
    SUPER_REDUCED = "super_reduced"
    PARKING = "parking"
    ZERO = "zero"


#: The rate kind a product's tax category is taxed at; ``EXEMPT`` has none.
RATE_KIND: dict[TaxCategory, RateKind | None] = {
    TaxCategory.STANDARD: RateKind.STANDARD,
    TaxCategory.GOODS: RateKind.STANDARD,
    TaxCategory.SERVICE: RateKind.STANDARD,
    TaxCategory.DIGITAL_SERVICE: RateKind.STANDARD,
    TaxCategory.REDUCED: RateKind.REDUCED,
    TaxCategory.REDUCED_2: RateKind.REDUCED_2,
    TaxCategory.SUPER_REDUCED: RateKind.SUPER_REDUCED,
    TaxCategory.PARKING: RateKind.PARKING,
    TaxCategory.ZERO: RateKind.ZERO,
    TaxCategory.EXEMPT: None,
}


class Treatment(StrEnum):
    DOMESTIC = "domestic"  # taxed at the rates of the territory the supply comes from
    DESTINATION = "destination"  # taxed at the rates of the place it goes to
    REVERSE_CHARGE = "reverse_charge"  # AE: the recipient accounts for the VAT (Art. 196)
    INTRA_COMMUNITY = "intra_community"  # K: exempt intra-Community supply of goods (Art. 138)
    EXPORT = "export"  # G: exempt export of goods outside the EU (Art. 146)
    OUTSIDE_SCOPE = "outside_scope"  # O: place of supply outside the tax territory
    EXEMPT = "exempt"  # E: exempt by a rule (Art. 132 ff.)


class Relation(StrEnum):
    DOMESTIC = "domestic"
    EU = "eu"
    THIRD = "third"


def relation(origin: str, destination: str, on: date) -> Relation:
    """How a supply from territory ``origin`` to territory ``destination`` crosses borders."""
    if origin == destination:
        return Relation.DOMESTIC
    if in_eu(origin, on) and in_eu(destination, on):
        return Relation.EU
    return Relation.THIRD


def _covers(valid_from: date | None, valid_to: date | None, on: date) -> bool:
    return (valid_from is None or valid_from <= on) and (valid_to is None or on < valid_to)


@dataclass(frozen=True, slots=True)
class Rate:
    jurisdiction: str
    kind: RateKind
    percent: Decimal
    valid_from: date
    valid_to: date | None = None
    category: VatCategoryCode | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.percent, Decimal):
            raise TypeError("rates are Decimal percentages")
        problems = rate_problems(
            jurisdiction=self.jurisdiction,
            percent=self.percent,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            category=self.category,
        )
        if problems:
            field, message = problems[0]
            raise TaxError(f"rate {self.jurisdiction} {self.kind}: {message}", field=field)

    @property
    def code(self) -> VatCategoryCode:
        if self.category is not None:
            return self.category
        return VatCategoryCode.STANDARD if self.percent > 0 else VatCategoryCode.ZERO

    def covers(self, on: date) -> bool:
        return _covers(self.valid_from, self.valid_to, on)


def rate_problems(
    *,
    jurisdiction: str,
    percent: Decimal,
    valid_from: date,
    valid_to: date | None,
    category: VatCategoryCode | None,
) -> list[tuple[str, str]]:
    """What is wrong with a rate, as (field, message) pairs; empty when it is sound."""
    problems: list[tuple[str, str]] = []
    if not is_territory_code(jurisdiction):
        problems.append(("jurisdiction", f"'{jurisdiction}' is not a country or ISO 3166-2 code"))
    if not percent.is_finite() or not Decimal(0) <= percent < Decimal(100):
        problems.append(("rate", f"{percent} is not a percentage in [0, 100)"))
    if valid_to is not None and valid_to <= valid_from:
        problems.append(("valid_to", "valid_to must be after valid_from (periods are half-open)"))
    code = category
    if code is not None:
        if code is VatCategoryCode.STANDARD and percent == 0:
            problems.append(("category", "category S needs a rate above zero (EN 16931 BR-S-5)"))
        if code in (VatCategoryCode.ZERO, VatCategoryCode.OUTSIDE_SCOPE) and percent != 0:
            problems.append(("category", f"category {code} is a zero rate"))
        if code in (
            VatCategoryCode.REVERSE_CHARGE,
            VatCategoryCode.INTRA_COMMUNITY,
            VatCategoryCode.EXPORT,
            VatCategoryCode.EXEMPT,
        ):
            problems.append(("category", f"category {code} comes from a rule, not from a rate"))
    return problems


@dataclass(frozen=True, slots=True)
class Rule:
    seller: str
    buyer: str
    treatment: Treatment
    customer_kind: str = ANY
    tax_category: str = ANY
    supply_type: str = ANY
    valid_from: date | None = None
    valid_to: date | None = None
    mention: str = ""
    reason_code: str = ""
    legal_basis: str = ""

    def __post_init__(self) -> None:
        problems = rule_problems(
            seller=self.seller,
            buyer=self.buyer,
            treatment=self.treatment,
            customer_kind=self.customer_kind,
            tax_category=self.tax_category,
            supply_type=self.supply_type,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )
        if problems:
            field, message = problems[0]
            raise TaxError(f"rule {self.name}: {message}", field=field)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.seller, self.buyer, self.customer_kind, self.tax_category, self.supply_type)

    @property
    def name(self) -> str:
        """A readable identity: ``EU→eu business */services``."""
        return f"{self.seller}→{self.buyer} {self.customer_kind} {self.tax_category}/{self.supply_type}"

    def covers(self, on: date) -> bool:
        return _covers(self.valid_from, self.valid_to, on)


def rule_problems(
    *,
    seller: str,
    buyer: str,
    treatment: Treatment,
    customer_kind: str,
    tax_category: str,
    supply_type: str,
    valid_from: date | None,
    valid_to: date | None,
    **_: object,
) -> list[tuple[str, str]]:
    """What is wrong with a rule's fields, as (field, message) pairs; empty when it is sound."""
    problems: list[tuple[str, str]] = []
    if seller not in (ANY, EU) and not is_territory_code(seller):
        problems.append(("seller", f"'{seller}' is not a territory, EU or *"))
    if buyer not in (ANY, EU, *Relation) and not is_territory_code(buyer):
        problems.append(("buyer", f"'{buyer}' is not a territory, EU, domestic, eu, third or *"))
    if customer_kind not in (ANY, *CustomerKind):
        problems.append(("customer_kind", f"'{customer_kind}' is not business, consumer or *"))
    if tax_category not in (ANY, *TaxCategory):
        problems.append(("tax_category", f"'{tax_category}' is not a tax category or *"))
    if supply_type not in (ANY, *SupplyType):
        problems.append(("supply_type", f"'{supply_type}' is not goods, services or *"))
    if treatment is Treatment.INTRA_COMMUNITY and supply_type != SupplyType.GOODS:
        problems.append(("supply_type", "an intra-Community supply is a supply of goods (Art. 138)"))
    if valid_from and valid_to and valid_to <= valid_from:
        problems.append(("valid_to", "valid_to must be after valid_from (periods are half-open)"))
    return problems


@dataclass(frozen=True, slots=True)
class Supply:
    """The facts a rule is matched against (built by the calculator for each line)."""

    seller: str  # seller's territory
    origin: str  # territory the supply comes from
    destination: str  # territory it goes to
    destination_jurisdiction: str  # rate key of the destination ("US-CA"), or "" when unknown
    customer_kind: CustomerKind
    tax_category: TaxCategory
    supply_type: SupplyType
    on: date


def _specificity(rule: Rule, supply: Supply, rel: Relation) -> tuple[int, int, int, int, int] | None:
    """How specifically ``rule`` matches ``supply`` (higher is more specific), or None."""
    if rule.seller == supply.seller:
        s = 2
    elif rule.seller == EU and in_eu(supply.seller, supply.on):
        s = 1
    elif rule.seller == ANY:
        s = 0
    else:
        return None
    if rule.buyer == supply.destination_jurisdiction and rule.buyer != supply.destination:
        b = 4  # a US state is more specific than the US
    elif rule.buyer == supply.destination:
        b = 3
    elif rule.buyer == EU and in_eu(supply.destination, supply.on):
        b = 2
    elif rule.buyer == rel:
        b = 1
    elif rule.buyer == ANY:
        b = 0
    else:
        return None
    scores = []
    for wanted, actual in (
        (rule.tax_category, supply.tax_category),
        (rule.supply_type, supply.supply_type),
        (rule.customer_kind, supply.customer_kind),
    ):
        if wanted == actual:
            scores.append(1)
        elif wanted == ANY:
            scores.append(0)
        else:
            return None
    return (s, b, scores[0], scores[1], scores[2])


def _check_no_overlap(
    groups: dict[tuple[str, ...], list[tuple[date | None, date | None]]], what: str
) -> None:
    for key, periods in groups.items():
        ordered = sorted(periods, key=lambda p: p[0] or date.min)
        for (start_a, end_a), (start_b, _) in itertools.pairwise(ordered):
            if end_a is None or (start_b or date.min) < end_a:
                raise OverlappingData(
                    f"two {what}s for {' '.join(key)} are in force at once "
                    f"(from {start_a or 'the beginning'} and from {start_b or 'the beginning'})",
                    field=what,
                )


class RuleSet:
    """Rates and rules, indexed for lookup. Immutable once built; build one per request or
    cache it (it holds no connection to anything)."""

    __slots__ = ("_rate_cache", "_rates", "_rule_cache", "_rules", "memo", "rates", "rules")

    #: Resolved lookups are memoised per set (it is immutable); past this many entries the memo
    #: starts over, so a long-lived set cannot grow without bound.
    CACHE_LIMIT = 50_000

    def __init__(self, rates: Iterable[Rate] = (), rules: Iterable[Rule] = ()) -> None:
        self.rates: tuple[Rate, ...] = tuple(rates)
        self.rules: tuple[Rule, ...] = tuple(rules)
        by_key: dict[tuple[str, str], list[Rate]] = defaultdict(list)
        for rate in self.rates:
            by_key[(rate.jurisdiction, rate.kind)].append(rate)
        _check_no_overlap({k: [(r.valid_from, r.valid_to) for r in v] for k, v in by_key.items()}, "rate")
        rule_groups: dict[tuple[str, ...], list[tuple[date | None, date | None]]] = defaultdict(list)
        for rule in self.rules:
            rule_groups[rule.key].append((rule.valid_from, rule.valid_to))
        _check_no_overlap(rule_groups, "rule")
        self._rates = dict(by_key)
        self._rules = self.rules
        self._rate_cache: dict[tuple[str, RateKind, date], Rate] = {}
        self._rule_cache: dict[Supply, Rule] = {}
        #: The calculator's memo of line decisions under this set (keyed by everything a
        #: decision depends on); cleared past CACHE_LIMIT entries.
        self.memo: dict[object, object] = {}

    def rate(self, jurisdiction: str, kind: RateKind, on: date, *, field: str = "lines") -> Rate:
        """The rate of ``kind`` in force in ``jurisdiction`` on ``on``; :class:`RateMissing` if none."""
        key = (jurisdiction, kind, on)
        cached = self._rate_cache.get(key)
        if cached is not None:
            return cached
        for rate in self._rates.get((jurisdiction, kind), ()):
            if rate.covers(on):
                if len(self._rate_cache) >= self.CACHE_LIMIT:
                    self._rate_cache.clear()
                self._rate_cache[key] = rate
                return rate
        known = sorted(
            {
                r.kind
                for (j, _), rates in self._rates.items()
                if j == jurisdiction
                for r in rates
                if r.covers(on)
            }
        )
        hint = f" (rates in force there on that day: {', '.join(known)})" if known else ""
        raise RateMissing(
            f"no {kind} rate for {jurisdiction} on {on.isoformat()}{hint}; load it (q2c tax load) "
            "rather than charging nothing",
            field=field,
        )

    def rule(self, supply: Supply, *, field: str = "lines") -> Rule:
        """The most specific rule in force for ``supply``."""
        cached = self._rule_cache.get(supply)
        if cached is not None:
            return cached
        rel = relation(supply.origin, supply.destination, supply.on)
        best: list[tuple[tuple[int, int, int, int, int], Rule]] = []
        for rule in self._rules:
            if not rule.covers(supply.on):
                continue
            score = _specificity(rule, supply, rel)
            if score is not None:
                best.append((score, rule))
        if not best:
            raise NoRule(
                f"no tax rule for a {supply.customer_kind} supply of {supply.supply_type} "
                f"({supply.tax_category}) from {supply.seller} ({supply.origin}) to {supply.destination} "
                f"on {supply.on.isoformat()}",
                field=field,
            )
        best.sort(key=lambda item: item[0], reverse=True)
        if len(best) > 1 and best[0][0] == best[1][0]:
            raise AmbiguousRule(
                f"rules '{best[0][1].name}' and '{best[1][1].name}' match equally well",
                field=field,
            )
        if len(self._rule_cache) >= self.CACHE_LIMIT:
            self._rule_cache.clear()
        self._rule_cache[supply] = best[0][1]
        return best[0][1]
