"""The approval-rule engine: which rules a quote matches, and the approval steps that follow.

Plain data in, plain data out. The quotes service gathers the facts of a priced quote
(:class:`QuoteFacts`) and the active rules (:class:`RuleSpec`), calls :func:`evaluate` for the
matches (each with a message a rep understands) and :func:`plan` for the steps of the approval
request: every matching rule contributes its steps; identical steps are merged; steps with the
same ``sequence`` run in parallel, a higher ``sequence`` waits for the lower ones (sequential).

Rule kinds and what ``threshold`` means for each:

=================================  =============================================================
``line_discount_over_role_limit``  a line's manual discount % is above the quote owner's role
                                   limit (the catalog's manual-discount-per-role table); no
                                   threshold
``line_discount_above``            a line's manual discount % is above ``threshold`` %
``net_below_floor``                a line's net price is below its floor price (the pricing
                                   engine's ``price.below_floor`` flag); no threshold
``deal_size_above``                the quote's TCV is above ``threshold`` (in ``currency``; a rule
                                   in another currency does not apply)
``payment_terms_over``             payment terms longer than ``threshold`` days
``nonstandard_terms``              the quote carries its own terms text; no threshold
``margin_below``                   the margin % (lines whose cost is known) is below
                                   ``threshold`` %; a quote without any known cost does not match
=================================  =============================================================

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.quotes.domain``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from q2c.core.errors import ValidationError
from q2c.quotes.domain import StepMode


class RuleKind(StrEnum):
    LINE_DISCOUNT_OVER_ROLE_LIMIT = "line_discount_over_role_limit"
    LINE_DISCOUNT_ABOVE = "line_discount_above"
    NET_BELOW_FLOOR = "net_below_floor"
    DEAL_SIZE_ABOVE = "deal_size_above"
    PAYMENT_TERMS_OVER = "payment_terms_over"
    NONSTANDARD_TERMS = "nonstandard_terms"
    MARGIN_BELOW = "margin_below"


#: Kinds that need a threshold, and those evaluated per line.
NEEDS_THRESHOLD = frozenset(
    {
        RuleKind.LINE_DISCOUNT_ABOVE,
        RuleKind.DEAL_SIZE_ABOVE,
        RuleKind.PAYMENT_TERMS_OVER,
        RuleKind.MARGIN_BELOW,
    }
)
PER_LINE = frozenset(
    {RuleKind.LINE_DISCOUNT_OVER_ROLE_LIMIT, RuleKind.LINE_DISCOUNT_ABOVE, RuleKind.NET_BELOW_FLOOR}
)


@dataclass(frozen=True, slots=True, order=True)
class StepSpec:
    """One approval step: approvers by ``role`` or by ``user_id`` (exactly one), ``mode`` any/all."""

    sequence: int
    role: str = ""
    user_id: int | None = None
    mode: StepMode = StepMode.ANY

    def __post_init__(self) -> None:
        if bool(self.role) == (self.user_id is not None):
            raise ValidationError(
                "an approval step names either a role or a user", code="quotes.invalid_step", field="role"
            )
        if self.sequence < 1:
            raise ValidationError(
                "a step's sequence starts at 1", code="quotes.invalid_step", field="sequence"
            )


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: int
    name: str
    kind: RuleKind
    steps: tuple[StepSpec, ...]
    threshold: Decimal | None = None
    currency: str = ""

    def __post_init__(self) -> None:
        if self.kind in NEEDS_THRESHOLD and self.threshold is None:
            raise ValidationError(
                f"a {self.kind} rule needs a threshold", code="quotes.rule_threshold", field="threshold"
            )
        if self.kind is RuleKind.DEAL_SIZE_ABOVE and not self.currency:
            raise ValidationError(
                "a deal-size rule needs a currency", code="quotes.rule_currency", field="currency"
            )


@dataclass(frozen=True, slots=True)
class LineFacts:
    """One priced line (one charge of one quote line)."""

    key: str
    sku: str
    manual_discount_percent: Decimal = Decimal(0)
    below_floor: bool = False
    net: Decimal = Decimal(0)
    floor: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuoteFacts:
    currency: str
    tcv: Decimal
    payment_terms_days: int
    terms_text: str = ""
    margin_percent: Decimal | None = None
    #: the quote owner's manual discount limit in percent (None: no limit)
    discount_limit: Decimal | None = None
    lines: tuple[LineFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    rule_id: int
    rule_name: str
    kind: RuleKind
    message: str
    line_key: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "rule": self.rule_name,
            "kind": str(self.kind),
            "message": self.message,
            "line": self.line_key or None,
        }


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _line_matches(rule: RuleSpec, facts: QuoteFacts) -> list[Match]:
    found: list[Match] = []
    seen: set[str] = set()
    for line in facts.lines:
        if line.key in seen:
            continue  # one match per quote line, however many charges it has
        message = ""
        if rule.kind is RuleKind.LINE_DISCOUNT_OVER_ROLE_LIMIT:
            limit = facts.discount_limit
            if limit is not None and line.manual_discount_percent > limit:
                message = (
                    f"{line.sku}: discount {_pct(line.manual_discount_percent)} % is above the "
                    f"owner's limit of {_pct(limit)} %"
                )
        elif rule.kind is RuleKind.LINE_DISCOUNT_ABOVE:
            assert rule.threshold is not None
            if line.manual_discount_percent > rule.threshold:
                message = (
                    f"{line.sku}: discount {_pct(line.manual_discount_percent)} % is above "
                    f"{_pct(rule.threshold)} %"
                )
        elif rule.kind is RuleKind.NET_BELOW_FLOOR and line.below_floor:
            floor = f" {line.floor}" if line.floor is not None else ""
            message = f"{line.sku}: net price {line.net} is below the floor price{floor}"
        if message:
            seen.add(line.key)
            found.append(Match(rule.id, rule.name, rule.kind, message, line.key))
    return found


def _quote_match(rule: RuleSpec, facts: QuoteFacts) -> Match | None:
    threshold = rule.threshold
    message = ""
    if rule.kind is RuleKind.DEAL_SIZE_ABOVE:
        assert threshold is not None
        if rule.currency == facts.currency and facts.tcv > threshold:
            message = f"deal size {facts.tcv} {facts.currency} is above {threshold} {rule.currency}"
    elif rule.kind is RuleKind.PAYMENT_TERMS_OVER:
        assert threshold is not None
        if Decimal(facts.payment_terms_days) > threshold:
            message = (
                f"payment terms of {facts.payment_terms_days} days are longer than {_pct(threshold)} days"
            )
    elif rule.kind is RuleKind.NONSTANDARD_TERMS:
        if facts.terms_text.strip():
            message = "the quote carries non-standard terms"
    elif rule.kind is RuleKind.MARGIN_BELOW:
        assert threshold is not None
        if facts.margin_percent is not None and facts.margin_percent < threshold:
            message = f"margin {_pct(facts.margin_percent)} % is below {_pct(threshold)} %"
    return Match(rule.id, rule.name, rule.kind, message) if message else None


def evaluate(rules: Iterable[RuleSpec], facts: QuoteFacts) -> tuple[Match, ...]:
    """Every match of every rule, in rule id order (lines in quote order within a rule)."""
    matches: list[Match] = []
    for rule in sorted(rules, key=lambda r: r.id):
        if rule.kind in PER_LINE:
            matches.extend(_line_matches(rule, facts))
        else:
            found = _quote_match(rule, facts)
            if found is not None:
                matches.append(found)
    return tuple(matches)


def plan(rules: Iterable[RuleSpec], matches: Iterable[Match]) -> tuple[StepSpec, ...]:
    """The approval steps for ``matches``: the union of the matching rules' steps, identical steps
    merged, in order of sequence (equal sequences are parallel steps)."""
    matched = {m.rule_id for m in matches}
    steps: set[StepSpec] = set()
    for rule in rules:
        if rule.id in matched:
            steps.update(rule.steps)
    return tuple(sorted(steps, key=lambda s: (s.sequence, s.role, s.user_id or 0, str(s.mode))))
