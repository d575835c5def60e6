"""Use cases for bundles (option groups and options) and configuration rules.

Rules are checked as a whole when one is saved: the pure engine's ``check_rules`` finds cycles
among requires / quantity-ratio rules and contradictions with excludes rules, so a broken rule set
is refused at the catalog — never discovered while a rep is quoting.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.catalog.errors import CatalogConflict, CatalogInvalid, RuleCycle
from q2c.catalog.models import BundleOption, ConfigurationRule, OptionGroup
from q2c.catalog.pricing.configuration import check_rules
from q2c.catalog.pricing.types import AttributeOperator, OptionSelection, RuleAction, RuleKind
from q2c.catalog.services.common import Cleaner, join_list, merged, record, split_list, touch
from q2c.catalog.services.lookups import Lookups
from q2c.catalog.services.products import _delete, _get
from q2c.catalog.services.snapshot import rule_snap

ZERO = Decimal(0)

# --- option groups -------------------------------------------------------------------------


def clean_option_group(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: OptionGroup | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("bundle", required=True, max_len=64)
    c.text("code", required=True, max_len=40, code=True)
    c.text("name", required=True, max_len=200)
    c.integer("min_options", minimum=0, maximum=100, default=0)
    c.integer("max_options", minimum=0, maximum=100)
    c.integer("sequence", minimum=0, maximum=1000, default=0)
    if "bundle" in c.out:
        product = lookups.product(c.out["bundle"])
        if product is None:
            c.problem("bundle", "catalog.unknown_sku", f"there is no product with SKU '{c.out['bundle']}'")
        elif not product.is_bundle:
            c.problem(
                "bundle", "catalog.not_a_bundle", f"{product.sku} is not a bundle (set is_bundle first)"
            )
        c.out["bundle"] = product
    low, high = merged(c, existing, "min_options"), merged(c, existing, "max_options")
    if low is not None and high is not None and high < low:
        c.problem("max_options", "catalog.invalid_range", "max_options is below min_options")
    return c


def create_option_group(data: Mapping[str, Any], *, actor: Any = None) -> OptionGroup:
    c = clean_option_group(data)
    c.raise_if_any()
    with transaction.atomic():
        if OptionGroup.objects.filter(bundle=c.out["bundle"], code=c.out["code"]).exists():
            raise CatalogConflict(
                "the bundle has a group with this code already", code="catalog.duplicate", field="code"
            )
        group = OptionGroup.objects.create(**c.out)
        touch()
        record(
            "option_group_created", "option_group", group.pk, actor, bundle=group.bundle.sku, code=group.code
        )
    return group


def update_option_group(group_id: int, data: Mapping[str, Any], *, actor: Any = None) -> OptionGroup:
    with transaction.atomic():
        group = _get(
            OptionGroup.objects.select_for_update(of=("self",)).select_related("bundle"), group_id, "option_group"
        )
        c = clean_option_group(data, partial=True, existing=group)
        c.raise_if_any()
        if "bundle" in c.out and c.out["bundle"].pk != group.bundle_id:
            raise CatalogInvalid(
                "a group cannot move to another bundle", code="catalog.immutable", field="bundle"
            )
        for key, value in c.out.items():
            setattr(group, key, value)
        group.save()
        touch()
        record("option_group_updated", "option_group", group.pk, actor, fields=sorted(c.out))
    return group


def delete_option_group(group_id: int, *, actor: Any = None) -> None:
    _delete(OptionGroup, group_id, "option_group", "option_group_deleted", actor)


# --- options -------------------------------------------------------------------------------


def clean_option(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: BundleOption | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.integer("group_id", required=True, minimum=1)
    c.text("sku", required=True, max_len=64)
    c.choice("selection", OptionSelection, default=OptionSelection.OPTIONAL)
    c.decimal("min_qty", minimum=ZERO)
    c.decimal("max_qty", minimum=ZERO)
    c.boolean("qty_tied_to_parent")
    c.decimal("qty_ratio", positive=True, default=Decimal(1))
    c.boolean("included_in_price")
    c.integer("sequence", minimum=0, maximum=1000, default=0)
    group = existing.group if existing is not None else None
    if "group_id" in c.out:
        group = OptionGroup.objects.select_related("bundle").filter(pk=c.out.pop("group_id")).first()
        if group is None:
            c.problem("group_id", "catalog.unknown_group", "there is no such option group")
        c.out["group"] = group
    if "sku" in c.out:
        product = lookups.product(c.out.pop("sku"))
        if product is None:
            c.problem("sku", "catalog.unknown_sku", f"there is no product with SKU '{raw.get('sku')}'")
        elif product.is_bundle:
            c.problem("sku", "catalog.nested_bundle", "a bundle cannot be an option of another bundle")
        elif group is not None and product.pk == group.bundle_id:
            c.problem("sku", "catalog.invalid", "a bundle cannot be its own option")
        c.out["product"] = product
    low, high = merged(c, existing, "min_qty"), merged(c, existing, "max_qty")
    if low is not None and high is not None and high < low:
        c.problem("max_qty", "catalog.invalid_range", "max_qty is below min_qty")
    return c


def create_option(data: Mapping[str, Any], *, actor: Any = None) -> BundleOption:
    c = clean_option(data)
    c.raise_if_any()
    with transaction.atomic():
        if BundleOption.objects.filter(group=c.out["group"], product=c.out["product"]).exists():
            raise CatalogConflict(
                "the product is an option of this group already", code="catalog.duplicate", field="sku"
            )
        option = BundleOption.objects.create(**c.out)
        touch()
        record(
            "option_created", "bundle_option", option.pk, actor, group=option.group_id, sku=option.product.sku
        )
    return option


def update_option(option_id: int, data: Mapping[str, Any], *, actor: Any = None) -> BundleOption:
    with transaction.atomic():
        option = _get(
            BundleOption.objects.select_for_update(of=("self",)).select_related("group", "product"),
            option_id,
            "bundle_option",
        )
        c = clean_option(data, partial=True, existing=option)
        c.raise_if_any()
        for key, value in c.out.items():
            setattr(option, key, value)
        option.save()
        touch()
        record("option_updated", "bundle_option", option.pk, actor, fields=sorted(c.out))
    return option


def delete_option(option_id: int, *, actor: Any = None) -> None:
    _delete(BundleOption, option_id, "bundle_option", "option_deleted", actor)


# --- configuration rules -------------------------------------------------------------------


def clean_rule(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: ConfigurationRule | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("code", required=True, max_len=40, code=True)
    c.text("name", required=True, max_len=200)
    c.choice("kind", RuleKind, required=True)
    c.text("bundle", max_len=64)
    c.text("source", max_len=64)
    c.text("target", required=True, max_len=64)
    c.decimal("per_quantity", positive=True, default=Decimal(1))
    c.decimal("target_quantity", positive=True, default=Decimal(1))
    c.text("attribute", max_len=60)
    c.choice("operator", AttributeOperator, default=AttributeOperator.EQ)
    c.strings("values")
    c.choice("action", RuleAction, default=RuleAction.REQUIRES)
    c.text("message", max_len=500)
    c.boolean("is_active", default=True)
    for name in ("bundle", "source", "target"):
        if name not in c.out:
            continue
        sku = c.out[name]
        if not sku:
            c.out[name] = None
            continue
        product = lookups.product(sku)
        if product is None:
            c.problem(name, "catalog.unknown_sku", f"there is no product with SKU '{sku}'")
        elif name == "bundle" and not product.is_bundle:
            c.problem(name, "catalog.not_a_bundle", f"{sku} is not a bundle")
        c.out[name] = product
    if "values" in c.out:
        c.out["values"] = join_list(c.out["values"])
    kind = merged(c, existing, "kind")
    source = merged(c, existing, "source")
    if kind == RuleKind.ATTRIBUTE:
        if not merged(c, existing, "attribute"):
            c.problem("attribute", "catalog.required", "an attribute condition names the attribute")
        values = merged(c, existing, "values")
        if not split_list(values):
            c.problem("values", "catalog.required", "an attribute condition needs a value to compare with")
    elif kind is not None and source is None:
        c.problem("source", "catalog.required", f"a {kind} rule needs a source product")
    return c


def _check_rule_set(candidate: ConfigurationRule | None, removed: int | None = None) -> None:
    rows = list(ConfigurationRule.objects.filter(is_active=True).select_related("bundle", "source", "target"))
    rules = [rule_snap(r) for r in rows if r.pk != removed and (candidate is None or r.pk != candidate.pk)]
    if candidate is not None and candidate.is_active:
        rules.append(rule_snap(candidate))
    problems = check_rules(rules)
    if problems:
        first = problems[0]
        details = [
            {"field": "source", "code": p.code, "message": p.message, "rules": list(p.rules)}
            for p in problems
        ]
        raise RuleCycle(first.message, code=first.code, field="source", details=details)


def create_rule(data: Mapping[str, Any], *, actor: Any = None) -> ConfigurationRule:
    """Add a configuration rule. 422 ``catalog.rule_cycle`` / ``catalog.rule_conflict`` when the
    active rules with this one would form a cycle or contradict each other."""
    c = clean_rule(data)
    c.raise_if_any()
    with transaction.atomic():
        if ConfigurationRule.objects.filter(code=c.out["code"]).exists():
            raise CatalogConflict(
                f"rule '{c.out['code']}' exists already", code="catalog.duplicate", field="code"
            )
        rule = ConfigurationRule(**c.out)
        _check_rule_set(rule)
        rule.save()
        touch()
        record("rule_created", "rule", rule.pk, actor, code=rule.code, kind=rule.kind)
    return rule


def update_rule(rule_id: int, data: Mapping[str, Any], *, actor: Any = None) -> ConfigurationRule:
    with transaction.atomic():
        rule = _get(
            ConfigurationRule.objects.select_for_update(of=("self",)).select_related("bundle", "source", "target"),
            rule_id,
            "rule",
        )
        c = clean_rule(data, partial=True, existing=rule)
        c.raise_if_any()
        if "code" in c.out and c.out["code"] != rule.code:
            raise CatalogInvalid("a rule's code cannot change", code="catalog.immutable", field="code")
        for key, value in c.out.items():
            setattr(rule, key, value)
        _check_rule_set(rule)
        rule.save()
        touch()
        record("rule_updated", "rule", rule.pk, actor, fields=sorted(c.out))
    return rule


def delete_rule(rule_id: int, *, actor: Any = None) -> None:
    _delete(ConfigurationRule, rule_id, "rule", "rule_deleted", actor)


def check_saved_rules() -> list[str]:
    """Problems of the stored rule set (for the admin and ``q2c catalog check``)."""
    rows = ConfigurationRule.objects.filter(is_active=True).select_related("bundle", "source", "target")
    return [p.message for p in check_rules([rule_snap(r) for r in rows])]
