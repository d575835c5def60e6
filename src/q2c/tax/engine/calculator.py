"""The tax calculator: ``compute(document, rules) -> TaxResult``.

Pipeline, per document:

1. Check the input: currency, countries and regions, line ids, amounts already rounded to the
   currency's minor unit, supply types.
2. Per line, find where the supply comes from and goes to (services: the seller and the buyer;
   goods: ship-from and ship-to, defaulting to them), pick the rule (:mod:`.ruleset`), and turn
   its treatment into a category, a rate and a legal mention:

   - ``domestic`` / ``destination``: the rate of the line's tax category in force on the line's
     date in the origin's / destination's jurisdiction; ``S`` (or ``Z``, ``L``, ``M``, ``O`` as
     the rate says), ``E`` for an exempt product or a customer's exemption certificate;
   - ``reverse_charge`` → ``AE`` 0 %, ``intra_community`` → ``K`` 0 % (needs an explicit
     deliver-to country and a delivery date: EN 16931 BR-IC-11/12), ``export`` → ``G`` 0 %,
     ``outside_scope`` → ``O`` 0 %, ``exempt`` → ``E`` 0 %, each with its mention.

   **Fallback, documented:** reverse charge and intra-Community supplies need a business buyer
   with a valid VAT identification number (Art. 196, Art. 138(1)(b) and Art. 214 Directive
   2006/112/EC). Without one the line is taxed as a domestic supply — at the rates of the
   territory the supply comes from — and the result carries a ``tax.vat_id_invalid`` warning,
   rather than refusing the document. Charging the seller's VAT is the safe side: it can be
   credited once a valid number is shown; a zero rate without the conditions cannot.
3. Group lines into summary rows (jurisdiction, category, rate, mention) and compute amounts in
   integer minor units:

   - exclusive prices, per rate (default, EN 16931 BR-CO-17): row tax = round(Σ net × rate);
     each line's share of it is apportioned by largest remainder over the lines' exact taxes;
   - exclusive prices, per line: each line's tax = round(net × rate); the row sums them;
   - inclusive prices: the gross amount (per rate: the row's sum; per line: each line) is split
     into net + tax such that tax = round(net × rate) — the split an exclusive computation of
     that net would give. Such a net is unique when it exists; when no net at the currency's
     precision adds up to the gross (9.99 EUR at 19 %: 8.39 + 1.59 = 9.98, 8.40 + 1.60 = 10.00)
     the amount *cannot be split* and :class:`NotSplittable` names it and the nearest amounts
     that can. Per rate, the lines' nets are apportioned from the row's net by largest
     remainder and each line's tax is its gross minus its net.
4. Totals are the sums of the rows.

Pure: no Django, no database, no clock (dates come in with the document).

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax``'s pure modules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from q2c.core.errors import ValidationError
from q2c.core.money import Money, Rounding, check_currency
from q2c.tax.categories import TaxCategory, VatCategoryCode
from q2c.tax.engine.document import (
    CustomerKind,
    Location,
    RoundingMethod,
    SupplyType,
    TaxDocument,
    TaxLine,
)
from q2c.tax.engine.errors import DeliveryRequired, NotSplittable, SupplyTypeError, TaxError
from q2c.tax.engine.result import LineTax, TaxResult, TaxSummary, TaxWarning
from q2c.tax.engine.ruleset import RATE_KIND, RuleSet, Supply, Treatment
from q2c.tax.engine.territory import Place, place

MENTION_REVERSE_CHARGE = (
    "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
)
MENTION_INTRA_COMMUNITY = "Intra-Community supply — exempt (Art. 138 Directive 2006/112/EC)"
MENTION_EXPORT = "Export outside the EU — exempt (Art. 146 Directive 2006/112/EC)"
MENTION_OUTSIDE_SCOPE = (
    "Not subject to VAT in the EU — place of supply outside the EU (Art. 44 and 59 Directive 2006/112/EC)"
)
MENTION_EXEMPT = "Exempt from VAT"

#: Mention (BT-120) and VATEX code (BT-121) of each zero-tax treatment, unless the rule names its own.
_DEFAULT_MENTIONS: dict[Treatment, tuple[VatCategoryCode, str, str]] = {
    Treatment.REVERSE_CHARGE: (VatCategoryCode.REVERSE_CHARGE, MENTION_REVERSE_CHARGE, "VATEX-EU-AE"),
    Treatment.INTRA_COMMUNITY: (VatCategoryCode.INTRA_COMMUNITY, MENTION_INTRA_COMMUNITY, "VATEX-EU-IC"),
    Treatment.EXPORT: (VatCategoryCode.EXPORT, MENTION_EXPORT, "VATEX-EU-G"),
    Treatment.OUTSIDE_SCOPE: (VatCategoryCode.OUTSIDE_SCOPE, MENTION_OUTSIDE_SCOPE, "VATEX-EU-O"),
    Treatment.EXEMPT: (VatCategoryCode.EXEMPT, MENTION_EXEMPT, ""),
}

_IMPLIED_SUPPLY = {
    TaxCategory.GOODS: SupplyType.GOODS,
    TaxCategory.SERVICE: SupplyType.SERVICES,
    TaxCategory.DIGITAL_SERVICE: SupplyType.SERVICES,
}

_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _Decision:
    """How one line is taxed, before amounts."""

    index: int
    line: TaxLine
    on: date
    treatment: Treatment
    rule: str
    jurisdiction: str
    category: VatCategoryCode
    percent: Decimal
    mention: str = ""
    reason_code: str = ""
    deliver_to_country: str = ""
    delivery_date: date | None = None

    @property
    def facts(self) -> tuple[object, ...]:
        """Everything but the line: what a memoised decision replays for another line."""
        return (
            self.on,
            self.treatment,
            self.rule,
            self.jurisdiction,
            self.category,
            self.percent,
            self.mention,
            self.reason_code,
            self.deliver_to_country,
            self.delivery_date,
        )

    @property
    def group_key(self) -> tuple[object, ...]:
        return (
            self.jurisdiction,
            self.category,
            self.percent,
            self.mention,
            self.reason_code,
            self.deliver_to_country,
            self.delivery_date,
        )


def compute(document: TaxDocument, rules: RuleSet) -> TaxResult:
    """Tax for every line of ``document`` under ``rules``; see the module docstring.

    Raises a :class:`~q2c.tax.engine.errors.TaxError` subclass (stable code, field) for bad
    input or missing data; never charges a zero rate for want of data.
    """
    currency = check_currency(document.currency)
    _check_lines(document, currency)
    seller = place(document.seller.country, document.seller.region, field="seller")
    buyer = place(document.buyer.country, document.buyer.region, field="buyer")
    doc_from = _place_of(document.ship_from, "ship_from")
    doc_to = _place_of(document.ship_to, "ship_to")
    if document.exemption is not None and not document.exemption.certificate_ref.strip():
        raise TaxError("an exemption needs its certificate reference", field="exemption.certificate_ref")

    warnings: list[TaxWarning] = []
    decisions = []
    # A decision depends only on the document's parties, places, dates and exemption and on the
    # line's category, supply type, date, places and exemption reason — not on its amount or id.
    # Decisions made without a warning are memoised on the rule set (immutable), so a bill run
    # of similar invoices resolves each kind of line once.
    doc_key = (
        document.seller,
        document.buyer,
        document.ship_from,
        document.ship_to,
        document.tax_date,
        document.delivery_date,
        document.exemption,
    )
    memo = rules.memo
    for i, line in enumerate(document.lines):
        key = (
            doc_key,
            line.tax_category,
            line.supply_type,
            line.supply_date,
            line.ship_from,
            line.ship_to,
            line.exemption_reason,
        )
        facts = memo.get(key)
        if facts is not None:
            decisions.append(_Decision(i, line, *facts))  # type: ignore[misc]
            continue
        warned = len(warnings)
        decision = _decide(i, line, document, rules, seller, buyer, doc_from, doc_to, warnings)
        if len(warnings) == warned:
            if len(memo) >= rules.CACHE_LIMIT:
                memo.clear()
            memo[key] = decision.facts
        decisions.append(decision)

    groups: dict[tuple[object, ...], list[_Decision]] = {}
    for decision in decisions:
        groups.setdefault(decision.group_key, []).append(decision)

    line_amounts: dict[int, tuple[int, int]] = {}  # index -> (net minor, tax minor)
    summary: list[TaxSummary] = []
    for members in groups.values():
        first = members[0]
        amounts = [m.line.amount.minor_units() for m in members]
        if document.prices_include_tax:
            nets, taxes = _split_group(amounts, first.percent, document, members, currency)
        else:
            nets = amounts
            taxes = _tax_group(amounts, first.percent, document.rounding_method, document.rounding)
        for member, net, tax in zip(members, nets, taxes, strict=True):
            line_amounts[member.index] = (net, tax)
        summary.append(
            TaxSummary(
                jurisdiction=first.jurisdiction,
                category=first.category,
                percent=first.percent,
                taxable=Money.from_minor(sum(nets), currency),
                tax=Money.from_minor(sum(taxes), currency),
                mention=first.mention,
                reason_code=first.reason_code,
                line_ids=tuple(m.line.id for m in members),
                deliver_to_country=first.deliver_to_country,
                delivery_date=first.delivery_date,
            )
        )

    lines = []
    for decision in decisions:
        net, tax = line_amounts[decision.index]
        lines.append(
            LineTax(
                line_id=decision.line.id,
                net=Money.from_minor(net, currency),
                tax=Money.from_minor(tax, currency),
                gross=Money.from_minor(net + tax, currency),
                percent=decision.percent,
                category=decision.category,
                jurisdiction=decision.jurisdiction,
                treatment=decision.treatment,
                rule=decision.rule,
                mention=decision.mention,
                reason_code=decision.reason_code,
                tax_date=decision.on,
            )
        )
    net_total = sum((row.taxable for row in summary), Money.zero(currency))
    tax_total = sum((row.tax for row in summary), Money.zero(currency))
    return TaxResult(
        currency=currency,
        lines=tuple(lines),
        summary=tuple(summary),
        net_total=net_total,
        tax_total=tax_total,
        gross_total=net_total + tax_total,
        rounding_method=document.rounding_method,
        prices_include_tax=document.prices_include_tax,
        warnings=tuple(warnings),
    )


# --- input checks -----------------------------------------------------------------------------


def _check_lines(document: TaxDocument, currency: str) -> None:
    seen: set[str] = set()
    for i, line in enumerate(document.lines):
        if not line.id:
            raise TaxError("every line needs an id", field=f"lines[{i}].id")
        if line.id in seen:
            raise TaxError(f"line id '{line.id}' appears twice", field=f"lines[{i}].id")
        seen.add(line.id)
        if not isinstance(line.amount, Money):
            raise TypeError("line amounts are Money")
        if line.amount.currency != currency:
            raise TaxError(
                f"line '{line.id}' is in {line.amount.currency}, the document in {currency}",
                code="tax.currency_mismatch",
                field=f"lines[{i}].amount",
            )
        if not line.amount.is_rounded():
            raise TaxError(
                f"line '{line.id}': {line.amount} is not rounded to {currency} minor units; "
                "round the line total before tax",
                code="tax.amount_not_rounded",
                field=f"lines[{i}].amount",
            )
        if not isinstance(line.tax_category, TaxCategory):
            raise TaxError(f"'{line.tax_category}' is not a tax category", field=f"lines[{i}].tax_category")


def _place_of(location: Location | None, field: str) -> Place | None:
    if location is None:
        return None
    return place(location.country, location.region, field=field)


def _supply_type(i: int, line: TaxLine) -> SupplyType:
    implied = _IMPLIED_SUPPLY.get(line.tax_category)
    if line.supply_type is None:
        if implied is None:
            raise SupplyTypeError(
                f"line '{line.id}': say whether it is goods or services (category "
                f"'{line.tax_category}' does not imply it)",
                field=f"lines[{i}].supply_type",
            )
        return implied
    try:
        supply_type = SupplyType(line.supply_type)
    except ValueError:
        raise SupplyTypeError(
            f"line '{line.id}': '{line.supply_type}' is not goods or services",
            field=f"lines[{i}].supply_type",
        ) from None
    if implied is not None and supply_type != implied:
        raise SupplyTypeError(
            f"line '{line.id}': category '{line.tax_category}' is {implied}, not {supply_type}",
            field=f"lines[{i}].supply_type",
        )
    return supply_type


# --- per-line decision ------------------------------------------------------------------------


def _decide(
    i: int,
    line: TaxLine,
    document: TaxDocument,
    rules: RuleSet,
    seller: Place,
    buyer: Place,
    doc_from: Place | None,
    doc_to: Place | None,
    warnings: list[TaxWarning],
) -> _Decision:
    supply_type = _supply_type(i, line)
    on = line.supply_date or document.tax_date
    line_from = _place_of(line.ship_from, f"lines[{i}].ship_from")
    line_to = _place_of(line.ship_to, f"lines[{i}].ship_to")
    if supply_type is SupplyType.GOODS:
        origin, origin_field = (
            (line_from, f"lines[{i}].ship_from")
            if line_from
            else (doc_from, "ship_from")
            if doc_from
            else (seller, "seller")
        )
        destination, dest_field = (
            (line_to, f"lines[{i}].ship_to")
            if line_to
            else (doc_to, "ship_to")
            if doc_to
            else (buyer, "buyer")
        )
    else:
        origin, origin_field = seller, "seller"
        destination, dest_field = buyer, "buyer"

    try:
        dest_jurisdiction = destination.jurisdiction()
    except TaxError:
        dest_jurisdiction = ""  # only an error if the rule taxes at the destination
    kind = document.buyer.kind
    rule = rules.rule(
        Supply(
            seller=seller.territory,
            origin=origin.territory,
            destination=destination.territory,
            destination_jurisdiction=dest_jurisdiction,
            customer_kind=kind,
            tax_category=line.tax_category,
            supply_type=supply_type,
            on=on,
        ),
        field=f"lines[{i}]",
    )
    treatment = rule.treatment
    rule_name = rule.name
    if treatment in (Treatment.REVERSE_CHARGE, Treatment.INTRA_COMMUNITY):
        buyer_ok = kind is CustomerKind.BUSINESS and document.buyer.vat_id_valid
        if not buyer_ok:
            what, article = (
                ("reverse charge", "Art. 196")
                if treatment is Treatment.REVERSE_CHARGE
                else ("an intra-Community supply", "Art. 138(1)(b)")
            )
            warnings.append(
                TaxWarning(
                    code="tax.vat_id_invalid",
                    message=(
                        f"line '{line.id}': {what} needs a business customer with a "
                        f"valid VAT identification number ({article} Directive 2006/112/EC); the buyer's "
                        f"is {'missing or invalid' if kind is CustomerKind.BUSINESS else 'absent (consumer)'}, "
                        f"so the line is taxed as a domestic supply in {origin.territory}"
                    ),
                    line_id=line.id,
                )
            )
            treatment, rule_name = Treatment.DOMESTIC, f"{rule_name} (fallback: domestic)"

    if treatment in (Treatment.DOMESTIC, Treatment.DESTINATION):
        where, where_field = (
            (origin, origin_field) if treatment is Treatment.DOMESTIC else (destination, dest_field)
        )
        jurisdiction, category, percent, mention = _taxed(
            i, line, on, where, where_field, rules, document, warnings
        )
        return _Decision(i, line, on, treatment, rule_name, jurisdiction, category, percent, mention)

    category, default_mention, default_code = _DEFAULT_MENTIONS[treatment]
    mention, reason_code = (
        (rule.mention, rule.reason_code) if rule.mention else (default_mention, default_code)
    )
    # Reverse charge and intra-Community supplies are taxed in the customer's member state (by
    # the customer); exports, out-of-scope and exempt supplies are stated where they start.
    jurisdiction = (
        destination.territory
        if treatment in (Treatment.REVERSE_CHARGE, Treatment.INTRA_COMMUNITY)
        else origin.territory
    )
    deliver_to, delivered = "", None
    if treatment is Treatment.INTRA_COMMUNITY:
        if line_to is None and doc_to is None:
            raise DeliveryRequired(
                f"line '{line.id}' is an intra-Community supply of goods: give the deliver-to country "
                "(ship_to; EN 16931 BR-IC-12)",
                field="ship_to",
            )
        delivered = line.supply_date or document.delivery_date
        if delivered is None:
            raise DeliveryRequired(
                f"line '{line.id}' is an intra-Community supply of goods: give the delivery date "
                "(EN 16931 BR-IC-11)",
                field="delivery_date",
            )
        deliver_to = destination.country
    return _Decision(
        i,
        line,
        on,
        treatment,
        rule_name,
        jurisdiction,
        category,
        _ZERO,
        mention,
        reason_code,
        deliver_to,
        delivered,
    )


def _taxed(
    i: int,
    line: TaxLine,
    on: date,
    where: Place,
    where_field: str,
    rules: RuleSet,
    document: TaxDocument,
    warnings: list[TaxWarning],
) -> tuple[str, VatCategoryCode, Decimal, str]:
    """A line taxed at the rates of ``where``: (jurisdiction, category, rate, mention) after the
    rate lookup, exempt products and exemption certificates."""
    jurisdiction = where.jurisdiction(field=f"{where_field}.region")
    kind = RATE_KIND[line.tax_category]
    if kind is None:  # an exempt product
        return jurisdiction, VatCategoryCode.EXEMPT, _ZERO, line.exemption_reason or MENTION_EXEMPT
    rate = rules.rate(jurisdiction, kind, on, field=f"lines[{i}].tax_category")
    exemption = document.exemption
    if exemption is not None and rate.percent > 0:
        if exemption.covers(jurisdiction, on):
            reason = f": {exemption.reason}" if exemption.reason else ""
            mention = f"Tax exempt — customer exemption certificate {exemption.certificate_ref}{reason}"
            return jurisdiction, VatCategoryCode.EXEMPT, _ZERO, mention
        warnings.append(
            TaxWarning(
                code="tax.exemption_not_applicable",
                message=(
                    f"line '{line.id}': exemption certificate {exemption.certificate_ref} does not cover "
                    f"{jurisdiction} on {on.isoformat()}; tax charged"
                ),
                line_id=line.id,
            )
        )
    mention = f"Not subject to tax in {jurisdiction}" if rate.code is VatCategoryCode.OUTSIDE_SCOPE else ""
    return jurisdiction, rate.code, rate.percent, mention


# --- amounts (integer minor units) ------------------------------------------------------------


def _round_minor(value: Decimal | Fraction, rounding: Rounding) -> int:
    """Round an exact amount of minor units to an integer."""
    if isinstance(value, Fraction):
        with localcontext() as ctx:
            ctx.prec = 60
            value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(value.quantize(Decimal(1), rounding=_MODES[rounding]))


def tax_of(net_minor: int, percent: Decimal, rounding: Rounding = "half_up") -> int:
    """round(net × percent / 100) in minor units — the exclusive tax of one amount."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(net_minor) * percent / 100
        return int(exact.quantize(Decimal(1), rounding=_MODES[rounding]))


def split_inclusive(gross_minor: int, percent: Decimal, rounding: Rounding = "half_up") -> int | None:
    """The net N (minor units) with N + tax_of(N) == gross, or None when there is none.

    N is unique: tax_of is non-decreasing, so N + tax_of(N) strictly increases with N. It lies
    within half a unit of gross / (1 + rate), so two candidates around that quotient suffice
    (four are tried).
    """
    if percent == 0:
        return gross_minor
    approx = Fraction(gross_minor) * 100 / (100 + Fraction(percent))
    base = math.floor(approx)
    for candidate in (base - 1, base, base + 1, base + 2):
        if candidate + tax_of(candidate, percent, rounding) == gross_minor:
            return candidate
    return None


def _apportion(total: int, numerators: Sequence[int], denominator: int) -> list[int]:
    """Split integer ``total`` over exact shares ``numerators[k] / denominator`` whose sum rounds
    to it: floor each share, then give the units left one each to the largest remainders (ties
    to the earlier line).

    With total = round(Σ shares), the units left lie in [0, n] whatever the signs, so every
    share ends up within one unit of its exact value and a positive share never goes negative.
    Integer arithmetic throughout (floor division floors negative shares too).
    """
    floors = [n // denominator for n in numerators]
    remainders = [n - f * denominator for n, f in zip(numerators, floors, strict=True)]
    left = total - sum(floors)
    if not 0 <= left <= len(floors):  # cannot happen when total rounds the shares' sum
        raise ValidationError("internal: apportioned total is not the rounded sum", code="tax.internal")
    if left:
        order = sorted(range(len(floors)), key=lambda k: (-remainders[k], k))
        for k in order[:left]:
            floors[k] += 1
    return floors


def _tax_group(nets: list[int], percent: Decimal, method: RoundingMethod, rounding: Rounding) -> list[int]:
    if percent == 0:
        return [0] * len(nets)
    if method is RoundingMethod.PER_LINE:
        return [tax_of(n, percent, rounding) for n in nets]
    total = tax_of(sum(nets), percent, rounding)
    # Exact line tax n × percent / 100 = n × a / (100 b) with percent = a / b.
    a, b = percent.as_integer_ratio()
    return _apportion(total, [n * a for n in nets], 100 * b)


def _split_group(
    grosses: list[int],
    percent: Decimal,
    document: TaxDocument,
    members: list[_Decision],
    currency: str,
) -> tuple[list[int], list[int]]:
    rounding = document.rounding
    if percent == 0:
        return list(grosses), [0] * len(grosses)
    if document.rounding_method is RoundingMethod.PER_LINE:
        nets = []
        for gross, member in zip(grosses, members, strict=True):
            net = split_inclusive(gross, percent, rounding)
            if net is None:
                raise _not_splittable(gross, percent, rounding, currency, [member])
            nets.append(net)
        return nets, [g - n for g, n in zip(grosses, nets, strict=True)]
    total_gross = sum(grosses)
    total_net = split_inclusive(total_gross, percent, rounding)
    if total_net is None:
        raise _not_splittable(total_gross, percent, rounding, currency, members)
    # Exact line net g × 100 / (100 + percent) = g × 100 b / (100 b + a) with percent = a / b.
    a, b = percent.as_integer_ratio()
    nets = _apportion(total_net, [g * 100 * b for g in grosses], 100 * b + a)
    return nets, [g - n for g, n in zip(grosses, nets, strict=True)]


def _not_splittable(
    gross: int, percent: Decimal, rounding: Rounding, currency: str, members: Sequence[_Decision]
) -> NotSplittable:
    def money(minor: int) -> str:
        return str(Money.from_minor(minor, currency))

    # Reachable gross amounts are dense (each unit of net adds one or two units of gross below a
    # 100 % rate), so the nearest splittable neighbours are close; look a little further anyway.
    reach = 2 + math.ceil(percent / 100)
    lower = next(
        (
            g
            for g in range(gross - 1, gross - 1 - 4 * reach, -1)
            if split_inclusive(g, percent, rounding) is not None
        ),
        None,
    )
    upper = next(
        (
            g
            for g in range(gross + 1, gross + 1 + 4 * reach)
            if split_inclusive(g, percent, rounding) is not None
        ),
        None,
    )
    ids = ", ".join(f"'{m.line.id}'" for m in members)
    what = (
        f"line {ids}"
        if len(members) == 1
        else f"lines {ids} (summed, as {members[0].category} {percent} % is rounded per rate)"
    )
    near = " or ".join(money(g) for g in (lower, upper) if g is not None)
    step = Money.from_minor(1, currency).amount
    return NotSplittable(
        f"{what}: {money(gross)} including {percent} % tax cannot be split at {currency} precision "
        f"({step}): no net N gives N + round(N × {percent} %) = {money(gross)} (EN 16931 BR-CO-17); "
        f"nearest amounts that split: {near}",
        field=f"lines[{members[0].index}].amount",
        details=[
            {"field": f"lines[{m.index}].amount", "code": NotSplittable.default_code, "message": m.line.id}
            for m in members
        ],
    )


__all__ = [
    "MENTION_EXEMPT",
    "MENTION_EXPORT",
    "MENTION_INTRA_COMMUNITY",
    "MENTION_OUTSIDE_SCOPE",
    "MENTION_REVERSE_CHARGE",
    "compute",
    "split_inclusive",
    "tax_of",
]
