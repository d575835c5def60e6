"""Bad input and missing data: a clear error with a stable code and the field at fault, or the
documented fallback with a warning — never a silent zero rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from q2c.core.money import Money
from q2c.tax.engine import (
    ANY,
    Buyer,
    DeliveryRequired,
    Location,
    NoRule,
    OverlappingData,
    Rate,
    RateKind,
    RateMissing,
    RegionRequired,
    Rule,
    RuleSet,
    Seller,
    SupplyTypeError,
    TaxCategory,
    TaxError,
    Treatment,
    UnknownCountry,
    UnknownRegion,
    VatCategoryCode,
    compute,
)
from tests.tax.builders import FABRIKAM, document, eur, line, money


def test_an_invalid_vat_id_claiming_reverse_charge_falls_back_to_domestic_tax_with_a_warning(rules):
    # Art. 196 and Art. 214 Directive 2006/112/EC: reverse charge needs the customer's valid VAT
    # number. Documented fallback (docs/tax.md): tax it as a domestic supply of the seller —
    # DE 19 %: 1,000.00 → 190.00 — and warn, rather than zero-rate without the conditions.
    buyer = replace(FABRIKAM, vat_id="FR00000000000", vat_id_valid=False)
    result = compute(document(line("seat", eur("1000.00")), buyer=buyer), rules)
    (row,) = result.summary
    assert (row.jurisdiction, row.category, row.tax) == ("DE", VatCategoryCode.STANDARD, eur("190.00"))
    assert [(w.code, w.line_id) for w in result.warnings] == [("tax.vat_id_invalid", "seat")]
    assert "Art. 196" in result.warnings[0].message
    assert result.lines[0].rule.endswith("(fallback: domestic)")


def test_an_intra_community_supply_without_a_valid_vat_id_falls_back_the_same_way(rules):
    # Art. 138(1)(b) as amended by Directive (EU) 2018/1910: the customer's VAT number is a
    # condition of the exemption. DE 19 % on 2,000.00 = 380.00, with a warning.
    buyer = replace(FABRIKAM, vat_id_valid=False)
    doc = document(
        line("edge", eur("2000.00"), TaxCategory.GOODS),
        buyer=buyer,
        ship_to=Location("FR"),
        delivery_date=date(2027, 2, 10),
    )
    result = compute(doc, rules)
    assert result.tax_total == eur("380.00")
    assert "Art. 138(1)(b)" in result.warnings[0].message


def test_a_rate_missing_for_the_date_is_an_error_not_a_zero(rules):
    # The shipped German table starts its reduced rate in 1983 but its zero rate (photovoltaic,
    # UStG § 12(3)) only on 2023-01-01: a zero-rated line dated 2022 has no rate.
    doc = document(line("pv", eur("100.00"), TaxCategory.ZERO, supply_type="goods"), on=date(2022, 12, 31))
    with pytest.raises(RateMissing) as err:
        compute(doc, rules)
    assert err.value.code == "tax.rate_missing"
    assert err.value.field == "lines[0].tax_category"
    assert "no zero rate for DE on 2022-12-31" in err.value.message


def test_a_rate_kind_the_country_does_not_have_is_an_error(rules):
    # Denmark has no reduced rate (only 25 % and zero).
    doc = document(
        line("x", money("100.00", "DKK"), TaxCategory.REDUCED, supply_type="goods"),
        seller=Seller("DK"),
        buyer=Buyer("DK"),
        currency="DKK",
    )
    with pytest.raises(RateMissing, match="no reduced rate for DK"):
        compute(doc, rules)


def test_a_date_before_the_tables_coverage_is_an_error(rules):
    # The shipped Spanish reduced rate starts with the 8 % → 10 % change of 2012-09-01; the rules
    # start in 2010 (the VAT package), so 2011 finds a rule but no rate, and 1990 not even a rule.
    spain = {"seller": Seller("ES"), "buyer": Buyer("ES")}
    with pytest.raises(RateMissing):
        compute(
            document(
                line("1", eur("1.00"), TaxCategory.REDUCED, supply_type="goods"), on=date(2011, 1, 1), **spain
            ),
            rules,
        )
    with pytest.raises(NoRule):
        compute(document(line("1", eur("1.00")), on=date(1990, 1, 1)), rules)


@pytest.mark.parametrize(
    ("seller", "buyer", "field"),
    [
        (Seller("XX"), Buyer("DE"), "seller.country"),
        (Seller("DE"), Buyer("EL"), "buyer.country"),  # Greece is GR; EL is only a VAT prefix
        (Seller("DE"), Buyer("de"), "buyer.country"),
        (Seller("DE"), Buyer(""), "buyer.country"),
    ],
)
def test_unknown_countries_are_refused(rules, seller, buyer, field):
    # ISO 3166-1 alpha-2 codes only (EN 16931 BT-40/BT-55 use ISO 3166-1 too).
    with pytest.raises(UnknownCountry) as err:
        compute(document(line("1", eur("1.00")), seller=seller, buyer=buyer), rules)
    assert (err.value.code, err.value.field) == ("tax.unknown_country", field)


def test_an_unknown_ship_to_country_names_its_field(rules):
    with pytest.raises(UnknownCountry) as err:
        compute(document(line("1", eur("1.00"), TaxCategory.GOODS, ship_to=Location("ZZ"))), rules)
    assert err.value.field == "lines[0].ship_to.country"


def test_unknown_regions_are_refused(rules):
    with pytest.raises(UnknownRegion) as err:
        compute(document(line("1", eur("1.00")), buyer=Buyer("US", "XY")), rules)
    assert (err.value.code, err.value.field) == ("tax.unknown_region", "buyer.region")


def test_us_sales_tax_needs_the_buyers_state(rules):
    doc = document(
        line("g", money("1.00", "USD"), TaxCategory.GOODS),
        seller=Seller("US", "CA"),
        buyer=Buyer("US"),
        currency="USD",
    )
    with pytest.raises(RegionRequired) as err:
        compute(doc, rules)
    assert (err.value.code, err.value.field) == ("tax.region_required", "buyer.region")


def test_a_seller_no_rule_covers_is_an_error(rules):
    # The shipped rules cover EU, UK, US and Canary sellers; a Japanese seller has none.
    with pytest.raises(NoRule) as err:
        compute(
            document(line("1", money("100", "JPY")), seller=Seller("JP"), buyer=Buyer("JP"), currency="JPY"),
            rules,
        )
    assert err.value.code == "tax.no_rule"


def test_an_intra_community_supply_needs_the_deliver_to_country(rules):
    # EN 16931 BR-IC-12: the deliver-to country code (BT-80) must be given for K.
    doc = document(
        line("edge", eur("1.00"), TaxCategory.GOODS), buyer=FABRIKAM, delivery_date=date(2027, 2, 10)
    )
    with pytest.raises(DeliveryRequired) as err:
        compute(doc, rules)
    assert (err.value.code, err.value.field) == ("tax.delivery_required", "ship_to")


def test_an_intra_community_supply_needs_the_delivery_date(rules):
    # EN 16931 BR-IC-11: the actual delivery date (BT-72) must be given for K.
    doc = document(line("edge", eur("1.00"), TaxCategory.GOODS), buyer=FABRIKAM, ship_to=Location("FR"))
    with pytest.raises(DeliveryRequired) as err:
        compute(doc, rules)
    assert err.value.field == "delivery_date"


def test_a_supply_type_is_required_where_the_category_does_not_imply_it(rules):
    with pytest.raises(SupplyTypeError) as err:
        compute(document(line("1", eur("1.00"), TaxCategory.STANDARD)), rules)
    assert (err.value.code, err.value.field) == ("tax.supply_type", "lines[0].supply_type")


def test_a_supply_type_that_contradicts_the_category_is_refused(rules):
    with pytest.raises(SupplyTypeError):
        compute(document(line("1", eur("1.00"), TaxCategory.DIGITAL_SERVICE, supply_type="goods")), rules)
    with pytest.raises(SupplyTypeError):
        compute(document(line("1", eur("1.00"), TaxCategory.STANDARD, supply_type="software")), rules)


def test_line_amounts_must_be_rounded_to_minor_units(rules):
    with pytest.raises(TaxError) as err:
        compute(document(line("1", eur("10.005"))), rules)
    assert (err.value.code, err.value.field) == ("tax.amount_not_rounded", "lines[0].amount")


def test_line_amounts_must_be_in_the_documents_currency(rules):
    with pytest.raises(TaxError) as err:
        compute(document(line("1", Money("1.00", "USD"))), rules)
    assert err.value.code == "tax.currency_mismatch"


def test_line_ids_must_be_unique(rules):
    with pytest.raises(TaxError) as err:
        compute(document(line("1", eur("1.00")), line("1", eur("2.00"))), rules)
    assert err.value.field == "lines[1].id"


def test_an_exemption_needs_its_certificate_reference(rules):
    from q2c.tax.engine import Exemption

    with pytest.raises(TaxError) as err:
        compute(document(line("1", eur("1.00")), exemption=Exemption(" ")), rules)
    assert err.value.field == "exemption.certificate_ref"


def test_an_empty_document_has_no_tax(rules):
    result = compute(document(), rules)
    assert (result.net_total, result.tax_total, result.summary) == (eur("0"), eur("0"), ())


def test_two_rates_of_one_kind_in_force_on_the_same_day_are_refused_when_the_set_is_built():
    # A rate table must give one answer per day: DE standard 19 % open-ended and 16 % from
    # 2020-07-01 overlap.
    with pytest.raises(OverlappingData) as err:
        RuleSet(
            [
                Rate("DE", RateKind.STANDARD, Decimal("19"), date(2007, 1, 1)),
                Rate("DE", RateKind.STANDARD, Decimal("16"), date(2020, 7, 1), date(2021, 1, 1)),
            ]
        )
    assert err.value.code == "tax.data_overlap"


def test_two_rules_with_one_key_in_force_on_the_same_day_are_refused():
    with pytest.raises(OverlappingData):
        RuleSet(
            [],
            [
                Rule("DE", ANY, Treatment.DOMESTIC, valid_from=date(2020, 1, 1)),
                Rule("DE", ANY, Treatment.EXEMPT, valid_from=date(2024, 1, 1)),
            ],
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"percent": Decimal("100")}, "rate"),
        ({"percent": Decimal("-1")}, "rate"),
        ({"jurisdiction": "XX"}, "jurisdiction"),
        ({"valid_to": date(2019, 1, 1)}, "valid_to"),
        ({"percent": Decimal("0"), "category": VatCategoryCode.STANDARD}, "category"),
        ({"category": VatCategoryCode.REVERSE_CHARGE}, "category"),
    ],
)
def test_a_rate_that_makes_no_sense_is_refused(kwargs, field):
    values = {
        "jurisdiction": "DE",
        "kind": RateKind.STANDARD,
        "percent": Decimal("19"),
        "valid_from": date(2020, 1, 1),
    }
    with pytest.raises(TaxError) as err:
        Rate(**{**values, **kwargs})
    assert err.value.field == field


def test_a_rule_that_makes_no_sense_is_refused():
    with pytest.raises(TaxError) as err:
        Rule("EU", "eu", Treatment.INTRA_COMMUNITY, supply_type="services")
    assert "Art. 138" in err.value.message
    with pytest.raises(TaxError):
        Rule("EU", "mars", Treatment.DOMESTIC)
    with pytest.raises(TaxError):
        Rule("EU", "eu", Treatment.DOMESTIC, customer_kind="robot")


def test_the_fallback_warning_comes_back_every_time_the_document_is_computed(rules):
    # Decisions are memoised per rule set, but only those made without a warning: a repeated
    # preview must warn again.
    buyer = replace(FABRIKAM, vat_id_valid=False)
    doc = document(line("seat", eur("100.00")), buyer=buyer)
    first, again = compute(doc, rules), compute(doc, rules)
    assert [w.code for w in first.warnings] == [w.code for w in again.warnings] == ["tax.vat_id_invalid"]
    # …and a valid VAT id afterwards is not served the memoised fallback.
    assert compute(replace(doc, buyer=FABRIKAM), rules).lines[0].category is VatCategoryCode.REVERSE_CHARGE
