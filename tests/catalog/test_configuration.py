"""Bundle configuration and rules: every violation with its rule id and a message a rep reads;
rule cycles and contradictions found when the catalog is saved."""

from __future__ import annotations

from decimal import Decimal as D

from q2c.catalog.pricing import (
    Bundle,
    BundleOption,
    OptionGroup,
    Rule,
    check_rules,
    find_cycles,
    price,
)
from q2c.catalog.pricing.types import AttributeOperator, OptionSelection, RuleAction, RuleKind

from .builders import monthly, one_time, per_unit, product, request, snapshot


def catalog(rules=()):
    suite = product("SUITE", monthly(per_unit("100.00")), is_bundle=True, name="Platform Suite")
    seats = product("SEATS", monthly(per_unit("10.00")), name="Seats")
    onb = product("ONB", one_time(per_unit("1000.00")), name="Onboarding")
    sso = product("SSO", monthly(per_unit("50.00")), name="Single sign-on")
    ldap = product("LDAP", monthly(per_unit("40.00")), name="LDAP sync")
    support = product("SUPPORT", monthly(per_unit("20.00")), name="Support pack")
    residency = product("RESIDENCY", monthly(per_unit("99.00")), name="EU data residency")
    groups = (
        OptionGroup(
            1,
            "CORE",
            "Core",
            (
                BundleOption(101, "SEATS", OptionSelection.REQUIRED, min_qty=D(5), max_qty=D(500)),
                BundleOption(102, "ONB", OptionSelection.DEFAULT, qty_tied_to_parent=True),
            ),
        ),
        OptionGroup(
            2,
            "AUTH",
            "Authentication",
            (BundleOption(201, "SSO"), BundleOption(202, "LDAP")),
            min_options=0,
            max_options=1,
        ),
    )
    return snapshot(
        suite,
        seats,
        onb,
        sso,
        ldap,
        support,
        residency,
        bundles={"SUITE": Bundle("SUITE", groups)},
        rules=tuple(rules),
    )


def violations(snap, lines, **extra):
    result = price(snap, request({"lines": lines, **extra}))
    return [(v.rule_id, v.code, v.message, v.lines) for v in result.violations]


def test_a_valid_bundle_has_no_violations():
    lines = [{"key": "b", "sku": "SUITE", "quantity": 1}, {"sku": "SEATS", "quantity": 10, "parent": "b"}]
    result = price(catalog(), request({"lines": lines}))
    assert result.violations == ()
    assert result.valid


def test_a_missing_required_option_is_named():
    assert violations(catalog(), [{"key": "b", "sku": "SUITE", "quantity": 1}]) == [
        (
            "option:101",
            "bundle.option_required",
            "Platform Suite (SUITE) needs Seats (SEATS) (a required option): add it to the bundle.",
            ("b",),
        )
    ]


def test_an_option_quantity_outside_its_range_is_named():
    lines = [
        {"key": "b", "sku": "SUITE", "quantity": 1},
        {"key": "s", "sku": "SEATS", "quantity": 3, "parent": "b"},
    ]
    assert violations(catalog(), lines) == [
        (
            "option:101",
            "bundle.option_quantity",
            "Seats (SEATS) in Platform Suite (SUITE): quantity 3 is outside the allowed 5–500.",
            ("s",),
        )
    ]


def test_a_tied_option_must_follow_the_bundle_quantity():
    lines = [
        {"key": "b", "sku": "SUITE", "quantity": 2},
        {"sku": "SEATS", "quantity": 10, "parent": "b"},
        {"key": "o", "sku": "ONB", "quantity": 1, "parent": "b"},
    ]
    assert violations(catalog(), lines) == [
        (
            "option:102",
            "bundle.option_tied_quantity",
            "Onboarding (ONB) follows the quantity of Platform Suite (SUITE): it must be 2, not 1.",
            ("o",),
        )
    ]


def test_too_many_options_in_a_group_is_named():
    lines = [
        {"key": "b", "sku": "SUITE", "quantity": 1},
        {"sku": "SEATS", "quantity": 10, "parent": "b"},
        {"key": "x", "sku": "SSO", "quantity": 1, "parent": "b"},
        {"key": "y", "sku": "LDAP", "quantity": 1, "parent": "b"},
    ]
    assert violations(catalog(), lines) == [
        (
            "group:2",
            "bundle.group_count",
            "Platform Suite (SUITE): choose between 0 and 1 options in 'Authentication' (2 chosen).",
            ("x", "y"),
        )
    ]


def test_a_product_that_is_not_an_option_is_named():
    lines = [
        {"key": "b", "sku": "SUITE", "quantity": 1},
        {"sku": "SEATS", "quantity": 10, "parent": "b"},
        {"key": "r", "sku": "RESIDENCY", "quantity": 1, "parent": "b"},
    ]
    [(rule_id, code, message, keys)] = violations(catalog(), lines)
    assert (rule_id, code, keys) == ("bundle:SUITE", "bundle.not_an_option", ("r",))
    assert message.startswith("EU data residency (RESIDENCY) is not an option of Platform Suite (SUITE)")


def test_requires_excludes_ratio_and_attribute_rules_each_report_their_violation():
    rules = [
        Rule(1, "SSO-NEEDS-SUPPORT", "SSO needs support", RuleKind.REQUIRES, "SUPPORT", source_sku="SSO"),
        Rule(2, "NO-SSO-AND-LDAP", "One directory", RuleKind.EXCLUDES, "LDAP", source_sku="SSO"),
        Rule(
            3,
            "SUPPORT-PER-10",
            "Support per seats",
            RuleKind.QUANTITY_RATIO,
            "SUPPORT",
            source_sku="SEATS",
            per_quantity=D(10),
        ),
        Rule(
            4,
            "EU-RESIDENCY",
            "EU residency",
            RuleKind.ATTRIBUTE,
            "RESIDENCY",
            attribute="region",
            values=("EU",),
        ),
    ]
    lines = [
        {"key": "1", "sku": "SSO", "quantity": 1},
        {"key": "2", "sku": "LDAP", "quantity": 1},
        {"key": "3", "sku": "SEATS", "quantity": 25},
    ]
    found = violations(catalog(rules), lines, attributes={"region": "EU"})
    assert found == [
        (
            "rule:SSO-NEEDS-SUPPORT",
            "rule.requires",
            "Single sign-on (SSO) requires Support pack (SUPPORT): add Support pack (SUPPORT) to the quote.",
            ("1",),
        ),
        (
            "rule:NO-SSO-AND-LDAP",
            "rule.excludes",
            "Single sign-on (SSO) cannot be sold together with LDAP sync (LDAP): remove one of them.",
            ("1", "2"),
        ),
        # 25 seats need ceil(25 ÷ 10) = 3 support packs
        (
            "rule:SUPPORT-PER-10",
            "rule.quantity_ratio",
            "25 × Seats (SEATS) need at least 3 × Support pack (SUPPORT) (1 per 10); the quote has 0.",
            ("3",),
        ),
        (
            "rule:EU-RESIDENCY",
            "rule.attribute_requires",
            "region = EU requires EU data residency (RESIDENCY): add it to the quote.",
            (),
        ),
    ]


def test_a_satisfied_ratio_rule_is_quiet():
    rules = [
        Rule(
            3,
            "SUPPORT-PER-10",
            "Support per seats",
            RuleKind.QUANTITY_RATIO,
            "SUPPORT",
            source_sku="SEATS",
            per_quantity=D(10),
        )
    ]
    lines = [{"sku": "SEATS", "quantity": 25}, {"sku": "SUPPORT", "quantity": 3}]
    assert violations(catalog(rules), lines) == []


def test_an_attribute_condition_that_does_not_match_is_quiet():
    rules = [
        Rule(
            4,
            "EU-RESIDENCY",
            "EU residency",
            RuleKind.ATTRIBUTE,
            "RESIDENCY",
            attribute="region",
            values=("EU",),
        )
    ]
    assert violations(catalog(rules), [{"sku": "SEATS", "quantity": 1}], attributes={"region": "US"}) == []


def test_an_attribute_can_exclude_a_product_and_a_rule_can_say_it_in_its_own_words():
    rules = [
        Rule(
            5,
            "NO-RESIDENCY-US",
            "No EU residency in the US",
            RuleKind.ATTRIBUTE,
            "RESIDENCY",
            attribute="region",
            operator=AttributeOperator.IN,
            values=("US", "CA"),
            action=RuleAction.EXCLUDES,
            message="EU data residency is sold to European customers only.",
        )
    ]
    found = violations(
        catalog(rules), [{"key": "9", "sku": "RESIDENCY", "quantity": 1}], attributes={"region": "CA"}
    )
    assert found == [
        (
            "rule:NO-RESIDENCY-US",
            "rule.attribute_excludes",
            "EU data residency is sold to European customers only.",
            ("9",),
        )
    ]


def test_a_rule_scoped_to_a_bundle_is_checked_in_each_instance():
    rules = [
        Rule(
            6,
            "SUITE-SSO-SUPPORT",
            "In the suite SSO needs support",
            RuleKind.REQUIRES,
            "SUPPORT",
            source_sku="SSO",
            bundle_sku="SUITE",
        )
    ]
    lines = [
        {"key": "a", "sku": "SUITE", "quantity": 1},
        {"sku": "SEATS", "quantity": 10, "parent": "a"},
        {"key": "a-sso", "sku": "SSO", "quantity": 1, "parent": "a"},
        {"key": "b", "sku": "SUITE", "quantity": 1},
        {"sku": "SEATS", "quantity": 10, "parent": "b"},
        {"sku": "SUPPORT", "quantity": 1},  # outside both bundles: does not satisfy the scoped rule
    ]
    found = violations(catalog(rules), lines)
    assert [(r, keys) for r, _, _, keys in found if r.startswith("rule:")] == [
        ("rule:SUITE-SSO-SUPPORT", ("a-sso",))
    ]
    assert "to the bundle Platform Suite (SUITE) (line a)" in found[-1][2]


def test_every_violation_is_reported_not_only_the_first():
    rules = [
        Rule(1, "SSO-NEEDS-SUPPORT", "SSO needs support", RuleKind.REQUIRES, "SUPPORT", source_sku="SSO")
    ]
    lines = [{"key": "b", "sku": "SUITE", "quantity": 1}, {"sku": "SSO", "quantity": 1}]
    assert [v[0] for v in violations(catalog(rules), lines)] == ["option:101", "rule:SSO-NEEDS-SUPPORT"]


# --- saving rules --------------------------------------------------------------------------


def test_a_requires_cycle_is_found_with_its_path():
    rules = [
        Rule(1, "A-B", "", RuleKind.REQUIRES, "B", source_sku="A"),
        Rule(2, "B-C", "", RuleKind.QUANTITY_RATIO, "C", source_sku="B"),
        Rule(3, "C-A", "", RuleKind.REQUIRES, "A", source_sku="C"),
        Rule(4, "C-D", "", RuleKind.REQUIRES, "D", source_sku="C"),
    ]
    assert find_cycles(rules) == [(["A", "B", "C", "A"], ["A-B", "B-C", "C-A"])]
    [problem] = check_rules(rules)
    assert problem.code == "catalog.rule_cycle"
    assert problem.message == "the rules A-B, B-C, C-A form a cycle: A → B → C → A"


def test_a_product_requiring_itself_is_a_cycle():
    assert find_cycles([Rule(1, "SELF", "", RuleKind.REQUIRES, "A", source_sku="A")]) == [
        (["A", "A"], ["SELF"])
    ]


def test_a_chain_without_a_loop_is_no_cycle():
    rules = [
        Rule(1, "A-B", "", RuleKind.REQUIRES, "B", source_sku="A"),
        Rule(2, "A-C", "", RuleKind.REQUIRES, "C", source_sku="A"),
        Rule(3, "B-C", "", RuleKind.REQUIRES, "C", source_sku="B"),
    ]
    assert check_rules(rules) == []


def test_requiring_two_products_that_exclude_each_other_is_a_conflict():
    rules = [
        Rule(1, "A-B", "", RuleKind.REQUIRES, "B", source_sku="A"),
        Rule(2, "A-C", "", RuleKind.REQUIRES, "C", source_sku="A"),
        Rule(3, "B-NOT-C", "", RuleKind.EXCLUDES, "C", source_sku="B"),
    ]
    [problem] = check_rules(rules)
    assert problem.code == "catalog.rule_conflict"
    assert problem.rules == ("B-NOT-C",)
    assert problem.message.startswith("A can never be sold")
