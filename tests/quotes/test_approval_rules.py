"""The pure approval-rule engine: which rules match a quote and which steps follow.

Expected values are worked by hand from the rule definitions in q2c.quotes.approval_rules and
the Northwind scenario (/work/shared/scenarios/northwind.md: Rita's limit 10 %, 15 % on SEAT).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.core.errors import ValidationError
from q2c.quotes.approval_rules import (
    LineFacts,
    QuoteFacts,
    RuleKind,
    RuleSpec,
    StepSpec,
    evaluate,
    plan,
)
from q2c.quotes.domain import StepMode

MANAGER = StepSpec(sequence=1, role="sales_manager")
FINANCE = StepSpec(sequence=2, role="finance")
CFO = StepSpec(sequence=2, user_id=7, mode=StepMode.ALL)


def facts(**kw) -> QuoteFacts:
    kw.setdefault("currency", "EUR")
    kw.setdefault("tcv", D("24300.00"))
    kw.setdefault("payment_terms_days", 30)
    kw.setdefault("discount_limit", D("10"))
    kw.setdefault(
        "lines",
        (
            LineFacts("L1", "SEAT", D("15"), net=D("1275.00")),
            LineFacts("L2", "ONB", D("0"), net=D("5000.00")),
        ),
    )
    return QuoteFacts(**kw)


def test_northwind_seat_discount_above_ritas_limit_needs_the_managers_approval():
    rule = RuleSpec(1, "discount", RuleKind.LINE_DISCOUNT_OVER_ROLE_LIMIT, (MANAGER,))
    matches = evaluate([rule], facts())
    assert [(m.rule_id, m.line_key) for m in matches] == [(1, "L1")]
    assert matches[0].message == "SEAT: discount 15 % is above the owner's limit of 10 %"
    assert plan([rule], matches) == (MANAGER,)


def test_a_discount_at_the_limit_needs_no_approval_and_no_limit_means_none_ever():
    rule = RuleSpec(1, "discount", RuleKind.LINE_DISCOUNT_OVER_ROLE_LIMIT, (MANAGER,))
    at_limit = facts(lines=(LineFacts("L1", "SEAT", D("10")),))
    assert evaluate([rule], at_limit) == ()
    assert evaluate([rule], facts(discount_limit=None)) == ()


def test_a_fixed_discount_threshold_matches_each_line_above_it_once():
    rule = RuleSpec(2, "over 12 %", RuleKind.LINE_DISCOUNT_ABOVE, (MANAGER,), threshold=D("12"))
    lines = (
        LineFacts("L1", "SEAT", D("15")),
        LineFacts("L1", "SEAT", D("15")),  # a second charge of the same line
        LineFacts("L2", "ONB", D("12")),
        LineFacts("L3", "EDGE", D("12.01")),
    )
    assert [m.line_key for m in evaluate([rule], facts(lines=lines))] == ["L1", "L3"]


def test_a_line_below_its_floor_matches_the_floor_rule():
    rule = RuleSpec(3, "floor", RuleKind.NET_BELOW_FLOOR, (MANAGER,))
    lines = (LineFacts("L1", "SEAT", below_floor=True, net=D("1000.00"), floor=D("1250.00")),)
    (match,) = evaluate([rule], facts(lines=lines))
    assert match.message == "SEAT: net price 1000.00 is below the floor price 1250.00"


def test_deal_size_compares_the_tcv_in_the_rules_own_currency_only():
    big = RuleSpec(4, "big deal", RuleKind.DEAL_SIZE_ABOVE, (FINANCE,), threshold=D("20000"), currency="EUR")
    usd = RuleSpec(5, "big USD deal", RuleKind.DEAL_SIZE_ABOVE, (FINANCE,), threshold=D("1"), currency="USD")
    assert [m.rule_id for m in evaluate([big, usd], facts())] == [4]
    assert evaluate([big], facts(tcv=D("20000.00"))) == ()  # "above" is strict


def test_payment_terms_longer_than_the_threshold_match():
    rule = RuleSpec(6, "long terms", RuleKind.PAYMENT_TERMS_OVER, (FINANCE,), threshold=D("45"))
    assert evaluate([rule], facts(payment_terms_days=45)) == ()
    (match,) = evaluate([rule], facts(payment_terms_days=60))
    assert match.message == "payment terms of 60 days are longer than 45 days"


def test_any_own_terms_text_is_non_standard():
    rule = RuleSpec(7, "legal", RuleKind.NONSTANDARD_TERMS, (StepSpec(1, role="admin"),))
    assert evaluate([rule], facts(terms_text="   ")) == ()
    assert len(evaluate([rule], facts(terms_text="Liability capped at fees paid."))) == 1


def test_margin_below_the_threshold_matches_and_an_unknown_margin_does_not():
    rule = RuleSpec(8, "thin margin", RuleKind.MARGIN_BELOW, (FINANCE,), threshold=D("40"))
    assert len(evaluate([rule], facts(margin_percent=D("39.99")))) == 1
    assert evaluate([rule], facts(margin_percent=D("40"))) == ()
    assert evaluate([rule], facts(margin_percent=None)) == ()


def test_steps_of_all_matching_rules_are_merged_and_ordered_by_sequence():
    discount = RuleSpec(1, "discount", RuleKind.LINE_DISCOUNT_OVER_ROLE_LIMIT, (MANAGER,))
    big = RuleSpec(
        2, "big", RuleKind.DEAL_SIZE_ABOVE, (MANAGER, FINANCE, CFO), threshold=D("1000"), currency="EUR"
    )
    unmatched = RuleSpec(
        3, "terms", RuleKind.PAYMENT_TERMS_OVER, (StepSpec(1, role="admin"),), threshold=D("90")
    )
    rules = [discount, big, unmatched]
    steps = plan(rules, evaluate(rules, facts()))
    # The manager step appears once although two rules ask for it; finance and the CFO (both
    # sequence 2) run in parallel after it.
    assert steps == (MANAGER, StepSpec(2, role="", user_id=7, mode=StepMode.ALL), FINANCE)


def test_a_step_names_a_role_or_a_user_and_rules_need_their_threshold():
    with pytest.raises(ValidationError):
        StepSpec(1)
    with pytest.raises(ValidationError):
        StepSpec(1, role="finance", user_id=3)
    with pytest.raises(ValidationError):
        StepSpec(0, role="finance")
    with pytest.raises(ValidationError):
        RuleSpec(1, "x", RuleKind.DEAL_SIZE_ABOVE, (MANAGER,), threshold=D("1"))  # no currency
    with pytest.raises(ValidationError):
        RuleSpec(1, "x", RuleKind.MARGIN_BELOW, (MANAGER,))


percent = st.decimals(min_value=0, max_value=100, places=2)


@given(st.lists(percent, min_size=1, max_size=8), percent, percent)
def test_raising_a_discount_threshold_never_adds_matches(discounts, low, high):
    low, high = min(low, high), max(low, high)
    lines = tuple(LineFacts(f"L{i}", "SKU", d) for i, d in enumerate(discounts))
    strict = RuleSpec(1, "low", RuleKind.LINE_DISCOUNT_ABOVE, (MANAGER,), threshold=low)
    loose = RuleSpec(1, "high", RuleKind.LINE_DISCOUNT_ABOVE, (MANAGER,), threshold=high)
    assert {m.line_key for m in evaluate([loose], facts(lines=lines))} <= {
        m.line_key for m in evaluate([strict], facts(lines=lines))
    }


@given(st.permutations([1, 2, 3, 4]), st.decimals(min_value=0, max_value=200000, places=2))
def test_rule_order_does_not_change_the_matches_or_the_plan(order, tcv):
    rules = {
        1: RuleSpec(1, "discount", RuleKind.LINE_DISCOUNT_OVER_ROLE_LIMIT, (MANAGER,)),
        2: RuleSpec(2, "big", RuleKind.DEAL_SIZE_ABOVE, (FINANCE,), threshold=D("50000"), currency="EUR"),
        3: RuleSpec(3, "terms", RuleKind.PAYMENT_TERMS_OVER, (CFO,), threshold=D("20")),
        4: RuleSpec(4, "margin", RuleKind.MARGIN_BELOW, (FINANCE, MANAGER), threshold=D("30")),
    }
    shuffled = [rules[i] for i in order]
    sample = facts(tcv=tcv, margin_percent=D("25"))
    assert evaluate(shuffled, sample) == evaluate(list(rules.values()), sample)
    assert plan(shuffled, evaluate(shuffled, sample)) == plan(
        list(rules.values()), evaluate(list(rules.values()), sample)
    )
