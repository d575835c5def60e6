"""Rule resolution and territories: the most specific rule in force wins; places are checked
against ISO 3166 and mapped to VAT territories (Directive 2006/112/EC Art. 5-7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from q2c.tax.engine import (
    ANY,
    EU,
    Buyer,
    CustomerKind,
    Rate,
    RateKind,
    Relation,
    Rule,
    RuleSet,
    Seller,
    TaxCategory,
    Treatment,
    compute,
)
from q2c.tax.engine.ruleset import relation
from q2c.tax.engine.territory import eu_member_states, in_eu, place
from tests.tax.builders import document, line, money

D = date(2027, 1, 1)


def test_there_are_27_member_states_in_2027_and_28_in_2020():
    assert len(eu_member_states(D)) == 27
    assert len(eu_member_states(date(2020, 6, 1))) == 28
    assert not in_eu("GB", D)


def test_places_map_to_vat_territories():
    assert place("ES", "CN").territory == "ES-CN"  # Canary Islands: outside (Art. 6)
    assert place("ES", "ES-TF").territory == "ES-CN"  # a province of the Canaries
    assert place("ES", "CE").territory == "ES-CE"  # Ceuta
    assert place("ES", "MD").territory == "ES"  # Madrid
    assert place("MC").territory == "FR"  # Monaco (Art. 7)
    assert place("IM").territory == "GB"  # Isle of Man
    assert place("US", "CA").jurisdiction() == "US-CA"
    assert place("DE").jurisdiction() == "DE"


def test_relations_between_territories():
    assert relation("DE", "DE", D) is Relation.DOMESTIC
    assert relation("DE", "FR", D) is Relation.EU
    assert relation("DE", "ES-CN", D) is Relation.THIRD
    assert relation("DE", "CH", D) is Relation.THIRD
    assert relation("DE", "GB", date(2020, 12, 31)) is Relation.EU


def _rules(*rules: Rule) -> RuleSet:
    rates = [
        Rate(j, RateKind.STANDARD, Decimal("10"), date(2000, 1, 1))
        for j in ("DE", "FR", "IT", "US-CA", "US-NY")
    ]
    return RuleSet(rates, rules)


def _treatment(
    rules: RuleSet, buyer: Buyer, seller: Seller = Seller("DE"), category=TaxCategory.SERVICE
) -> Treatment:
    doc = document(line("1", money("1.00", "EUR"), category), seller=seller, buyer=buyer, on=D)
    return compute(doc, rules).lines[0].treatment


def test_a_sellers_own_country_beats_the_eu_group_which_beats_any():
    rules = _rules(
        Rule(ANY, ANY, Treatment.OUTSIDE_SCOPE),
        Rule(EU, ANY, Treatment.EXEMPT),
        Rule("DE", ANY, Treatment.DOMESTIC),
    )
    assert _treatment(rules, Buyer("FR")) is Treatment.DOMESTIC
    assert _treatment(rules, Buyer("DE"), seller=Seller("FR")) is Treatment.EXEMPT
    assert _treatment(rules, Buyer("DE"), seller=Seller("US", "CA")) is Treatment.OUTSIDE_SCOPE


def test_a_named_buyer_beats_eu_which_beats_a_relation_which_beats_any():
    rules = _rules(
        Rule("DE", ANY, Treatment.OUTSIDE_SCOPE),
        Rule("DE", "eu", Treatment.EXEMPT),
        Rule("DE", EU, Treatment.DESTINATION),
        Rule("DE", "FR", Treatment.DOMESTIC),
    )
    assert _treatment(rules, Buyer("FR")) is Treatment.DOMESTIC
    assert _treatment(rules, Buyer("IT")) is Treatment.DESTINATION  # ("EU" matches IT) beats "eu"
    assert _treatment(rules, Buyer("CH")) is Treatment.OUTSIDE_SCOPE


def test_a_us_state_beats_the_us():
    rules = _rules(Rule("US", "US", Treatment.DESTINATION), Rule("US", "US-NY", Treatment.EXEMPT))
    seller = Seller("US", "CA")
    assert _treatment(rules, Buyer("US", "CA"), seller) is Treatment.DESTINATION
    assert _treatment(rules, Buyer("US", "NY"), seller) is Treatment.EXEMPT


def test_after_the_buyer_category_then_supply_type_then_customer_kind_decide():
    rules = _rules(
        Rule("DE", ANY, Treatment.DOMESTIC, customer_kind="consumer"),
        Rule("DE", ANY, Treatment.DESTINATION, supply_type="services"),
        Rule("DE", ANY, Treatment.EXEMPT, tax_category="digital_service"),
    )
    consumer = Buyer("FR", kind=CustomerKind.CONSUMER)
    assert _treatment(rules, consumer, category=TaxCategory.DIGITAL_SERVICE) is Treatment.EXEMPT
    assert _treatment(rules, consumer, category=TaxCategory.SERVICE) is Treatment.DESTINATION
    assert _treatment(rules, consumer, category=TaxCategory.GOODS) is Treatment.DOMESTIC


def test_rules_apply_only_in_their_period():
    rules = _rules(
        Rule("DE", ANY, Treatment.DOMESTIC, valid_from=date(2000, 1, 1), valid_to=D),
        Rule("DE", ANY, Treatment.DESTINATION, valid_from=D),
    )
    doc = document(line("1", money("1.00", "EUR")), buyer=Buyer("FR"), on=date(2026, 12, 31))
    assert compute(doc, rules).lines[0].treatment is Treatment.DOMESTIC
    assert _treatment(rules, Buyer("FR")) is Treatment.DESTINATION
