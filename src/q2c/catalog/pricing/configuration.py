"""Bundle configuration: which combinations of products may be sold together.

:func:`validate_configuration` checks a quote's lines against the bundles' option groups and the
configuration rules and answers **every** violation, each with the id of the rule or option it
breaks and a message a sales rep understands. Violations do not stop pricing: the preview shows
them beside the prices and the quotes app refuses to submit a quote that has any.

:func:`check_rules` runs when the catalog is saved, not at quote time: it finds cycles among
"requires" and "quantity ratio" rules (A needs B needs A) and contradictions (a product that
requires two products excluding each other, or requires what it excludes).

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.catalog.pricing``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from q2c.catalog.pricing.result import Violation
from q2c.catalog.pricing.types import (
    ZERO,
    AttributeOperator,
    Bundle,
    CatalogSnapshot,
    OptionSelection,
    Rule,
    RuleAction,
    RuleKind,
)


class ConfiguredLine(NamedTuple):
    """What configuration needs to know of a quote line."""

    key: str
    sku: str
    quantity: Decimal
    parent: str = ""


def _fmt(q: Decimal) -> str:
    text = format(q.normalize(), "f")
    return text


def _name(snapshot: CatalogSnapshot, sku: str) -> str:
    product = snapshot.products.get(sku)
    return f"{product.name} ({sku})" if product is not None else sku


def _check_bundle(
    snapshot: CatalogSnapshot,
    bundle: Bundle,
    parent: ConfiguredLine,
    children: Sequence[ConfiguredLine],
    out: list[Violation],
) -> None:
    bundle_name = _name(snapshot, bundle.sku)
    have: dict[str, Decimal] = defaultdict(lambda: ZERO)
    keys: dict[str, list[str]] = defaultdict(list)
    for child in children:
        if bundle.option_for(child.sku) is None:
            out.append(
                Violation(
                    f"bundle:{bundle.sku}",
                    "bundle.not_an_option",
                    f"{_name(snapshot, child.sku)} is not an option of {bundle_name}: remove it from the bundle "
                    "or add it as a separate line.",
                    (child.key,),
                )
            )
            continue
        have[child.sku] += child.quantity
        keys[child.sku].append(child.key)
    for group in bundle.groups:
        chosen = [o for o in group.options if have.get(o.sku, ZERO) > 0]
        count = len(chosen)
        too_few = count < group.min_options
        too_many = group.max_options is not None and count > group.max_options
        if too_few or too_many:
            upper = "any number" if group.max_options is None else str(group.max_options)
            out.append(
                Violation(
                    f"group:{group.id}",
                    "bundle.group_count",
                    f"{bundle_name}: choose between {group.min_options} and {upper} options in "
                    f"'{group.name}' ({count} chosen).",
                    tuple(k for o in chosen for k in keys[o.sku]) or (parent.key,),
                )
            )
        for option in group.options:
            qty = have.get(option.sku, ZERO)
            option_name = _name(snapshot, option.sku)
            if qty <= 0:
                if option.selection is OptionSelection.REQUIRED:
                    out.append(
                        Violation(
                            f"option:{option.id}",
                            "bundle.option_required",
                            f"{bundle_name} needs {option_name} (a required option): add it to the bundle.",
                            (parent.key,),
                        )
                    )
                continue
            lines = tuple(keys[option.sku])
            if option.qty_tied_to_parent:
                expected = parent.quantity * option.qty_ratio
                if qty != expected:
                    out.append(
                        Violation(
                            f"option:{option.id}",
                            "bundle.option_tied_quantity",
                            f"{option_name} follows the quantity of {bundle_name}: it must be {_fmt(expected)}, "
                            f"not {_fmt(qty)}.",
                            lines,
                        )
                    )
                    continue
            low, high = option.min_qty, option.max_qty
            if (low is not None and qty < low) or (high is not None and qty > high):
                span = f"{_fmt(low) if low is not None else '0'}–{_fmt(high) if high is not None else 'any'}"
                out.append(
                    Violation(
                        f"option:{option.id}",
                        "bundle.option_quantity",
                        f"{option_name} in {bundle_name}: quantity {_fmt(qty)} is outside the allowed {span}.",
                        lines,
                    )
                )


def _attribute_matches(rule: Rule, attributes: Mapping[str, str]) -> bool:
    value = attributes.get(rule.attribute, "")
    if rule.operator is AttributeOperator.EQ:
        return bool(rule.values) and value == rule.values[0]
    if rule.operator is AttributeOperator.NE:
        return bool(rule.values) and value != rule.values[0]
    return value in rule.values


def _check_rule(
    snapshot: CatalogSnapshot,
    rule: Rule,
    present: Mapping[str, Decimal],
    keys: Mapping[str, list[str]],
    attributes: Mapping[str, str],
    where: str,
    out: list[Violation],
) -> None:
    target = rule.target_sku
    target_qty = present.get(target, ZERO)
    target_name = _name(snapshot, target)
    kind = rule.kind
    if kind is RuleKind.ATTRIBUTE:
        if not _attribute_matches(rule, attributes):
            return
        shown = attributes.get(rule.attribute, "") or "(none)"
        if rule.action is RuleAction.REQUIRES and target_qty <= 0:
            message = rule.message or f"{rule.attribute} = {shown} requires {target_name}: add it to {where}."
            out.append(Violation(rule.rule_id, "rule.attribute_requires", message, ()))
        elif rule.action is RuleAction.EXCLUDES and target_qty > 0:
            message = (
                rule.message or f"{target_name} is not available when {rule.attribute} = {shown}: remove it."
            )
            out.append(
                Violation(rule.rule_id, "rule.attribute_excludes", message, tuple(keys.get(target, ())))
            )
        return
    source = rule.source_sku
    source_qty = present.get(source, ZERO)
    if source_qty <= 0:
        return
    source_name = _name(snapshot, source)
    source_keys = tuple(keys.get(source, ()))
    if kind is RuleKind.REQUIRES:
        if target_qty <= 0:
            message = rule.message or f"{source_name} requires {target_name}: add {target_name} to {where}."
            out.append(Violation(rule.rule_id, "rule.requires", message, source_keys))
    elif kind is RuleKind.EXCLUDES:
        if target_qty > 0:
            message = (
                rule.message
                or f"{source_name} cannot be sold together with {target_name}: remove one of them."
            )
            out.append(
                Violation(rule.rule_id, "rule.excludes", message, source_keys + tuple(keys.get(target, ())))
            )
    elif kind is RuleKind.QUANTITY_RATIO:
        needed = (source_qty / rule.per_quantity).to_integral_value(
            rounding=ROUND_CEILING
        ) * rule.target_quantity
        if target_qty < needed:
            message = rule.message or (
                f"{_fmt(source_qty)} × {source_name} need at least {_fmt(needed)} × {target_name} "
                f"({_fmt(rule.target_quantity)} per {_fmt(rule.per_quantity)}); {where} has {_fmt(target_qty)}."
            )
            out.append(
                Violation(
                    rule.rule_id, "rule.quantity_ratio", message, source_keys + tuple(keys.get(target, ()))
                )
            )


def validate_configuration(
    snapshot: CatalogSnapshot, lines: Sequence[ConfiguredLine], attributes: Mapping[str, str]
) -> list[Violation]:
    """Every violated bundle constraint and configuration rule of a quote, in a stable order.

    Lines with a ``parent`` are options of the bundle on the parent line. Rules scoped to a bundle
    are checked once per instance of it (the parent line and its options); other rules against
    the whole quote.
    """
    out: list[Violation] = []
    present: dict[str, Decimal] = defaultdict(lambda: ZERO)
    keys: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[ConfiguredLine]] = defaultdict(list)
    for line in lines:
        present[line.sku] += line.quantity if line.quantity > 0 else Decimal(1)
        keys[line.sku].append(line.key)
        if line.parent:
            children[line.parent].append(line)
    instances: dict[str, list[ConfiguredLine]] = defaultdict(list)
    for line in lines:
        bundle = snapshot.bundles.get(line.sku)
        if bundle is None:
            continue
        instances[line.sku].append(line)
        _check_bundle(snapshot, bundle, line, children.get(line.key, ()), out)
    for rule in snapshot.rules:
        if not rule.bundle_sku:
            _check_rule(snapshot, rule, present, keys, attributes, "the quote", out)
            continue
        for parent in instances.get(rule.bundle_sku, ()):
            local: dict[str, Decimal] = defaultdict(lambda: ZERO)
            local_keys: dict[str, list[str]] = defaultdict(list)
            for member in (parent, *children.get(parent.key, ())):
                local[member.sku] += member.quantity if member.quantity > 0 else Decimal(1)
                local_keys[member.sku].append(member.key)
            where = f"the bundle {_name(snapshot, rule.bundle_sku)} (line {parent.key})"
            _check_rule(snapshot, rule, local, local_keys, attributes, where, out)
    return out


# --- checks when the catalog is saved ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleProblem:
    code: str  # catalog.rule_cycle, catalog.rule_conflict
    message: str
    rules: tuple[str, ...]  # rule codes involved


def find_cycles(rules: Iterable[Rule]) -> list[tuple[list[str], list[str]]]:
    """Cycles among requires and quantity-ratio rules: ``[(skus along the cycle, rule codes)]``."""
    edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rule in rules:
        if rule.kind in (RuleKind.REQUIRES, RuleKind.QUANTITY_RATIO) and rule.source_sku:
            edges[rule.source_sku].append((rule.target_sku, rule.code))
    for node in edges:
        edges[node].sort()
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = defaultdict(int)
    cycles: list[tuple[list[str], list[str]]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(edges):
        if colour[start] != white:
            continue
        # Iterative depth-first search keeping the path, so a long rule chain cannot overflow.
        path: list[str] = [start]
        via: list[str] = []
        stack = [iter(edges.get(start, ()))]
        colour[start] = grey
        while stack:
            step = next(stack[-1], None)
            if step is None:
                colour[path[-1]] = black
                stack.pop()
                path.pop()
                if via:
                    via.pop()
                continue
            target, code = step
            if colour[target] == grey:
                at = path.index(target)
                cycle_nodes = [*path[at:], target]
                cycle_rules = [*via[at:], code]
                signature = frozenset(cycle_rules)
                if signature not in seen:
                    seen.add(signature)
                    cycles.append((cycle_nodes, cycle_rules))
            elif colour[target] == white:
                colour[target] = grey
                path.append(target)
                via.append(code)
                stack.append(iter(edges.get(target, ())))
    return cycles


def check_rules(rules: Sequence[Rule]) -> list[RuleProblem]:
    """Cycles and contradictions among configuration rules (empty list: the rule set is usable)."""
    problems: list[RuleProblem] = []
    for nodes, codes in find_cycles(rules):
        problems.append(
            RuleProblem(
                "catalog.rule_cycle",
                f"the rules {', '.join(codes)} form a cycle: {' → '.join(nodes)}",
                tuple(codes),
            )
        )
    requires: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        if rule.kind in (RuleKind.REQUIRES, RuleKind.QUANTITY_RATIO) and rule.source_sku:
            requires[rule.source_sku].add(rule.target_sku)

    def closure(sku: str) -> set[str]:
        found = {sku}
        todo = [sku]
        while todo:
            for nxt in requires.get(todo.pop(), ()):
                if nxt not in found:
                    found.add(nxt)
                    todo.append(nxt)
        return found

    excludes = [r for r in rules if r.kind is RuleKind.EXCLUDES and r.source_sku]
    if excludes:
        for sku in sorted(requires):
            needed = closure(sku)
            for rule in excludes:
                if rule.source_sku in needed and rule.target_sku in needed:
                    problems.append(
                        RuleProblem(
                            "catalog.rule_conflict",
                            f"{sku} can never be sold: it needs both {rule.source_sku} and {rule.target_sku}, "
                            f"which rule {rule.code} excludes from being sold together",
                            (rule.code,),
                        )
                    )
    return problems
