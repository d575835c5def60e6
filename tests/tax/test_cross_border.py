"""Where a supply is taxed, case by case, with the shipped rules and rates. Each test names the
rule it checks and works the expected amount out by hand in a comment."""

from __future__ import annotations

from datetime import date

from q2c.tax.engine import (
    MENTION_EXPORT,
    MENTION_OUTSIDE_SCOPE,
    MENTION_REVERSE_CHARGE,
    Buyer,
    CustomerKind,
    Exemption,
    Location,
    Seller,
    TaxCategory,
    Treatment,
    VatCategoryCode,
    compute,
)
from tests.tax.builders import FABRIKAM, document, eur, line, money

FR_CONSUMER = Buyer("FR", kind=CustomerKind.CONSUMER)
SAAS = TaxCategory.DIGITAL_SERVICE
SERVICE = TaxCategory.SERVICE
GOODS = TaxCategory.GOODS


def only_row(result):
    (row,) = result.summary
    return row


# --- domestic ----------------------------------------------------------------------------------


def test_a_domestic_supply_is_taxed_at_the_sellers_rate_even_to_a_consumer(rules):
    # DE → DE consumer, 2027: Art. 45 / Art. 31, German standard rate 19 %: 100.00 × 0.19 = 19.00.
    result = compute(document(line("1", eur("100.00")), buyer=Buyer("DE")), rules)
    row = only_row(result)
    assert (row.jurisdiction, row.category, row.tax) == ("DE", VatCategoryCode.STANDARD, eur("19.00"))


def test_a_reduced_rate_product_takes_the_reduced_rate_of_the_country(rules):
    # FR seller, FR buyer, 2027: reduced (higher) 10 %, reduced_2 5.5 %, super-reduced 2.1 %
    # (CGI art. 278 ff.). 200.00 × 0.10 = 20.00; 200.00 × 0.055 = 11.00; 200.00 × 0.021 = 4.20.
    doc = document(
        line("r", eur("200.00"), TaxCategory.REDUCED, supply_type="goods"),
        line("r2", eur("200.00"), TaxCategory.REDUCED_2, supply_type="goods"),
        line("sr", eur("200.00"), TaxCategory.SUPER_REDUCED, supply_type="goods"),
        seller=Seller("FR"),
        buyer=Buyer("FR"),
    )
    result = compute(doc, rules)
    assert [(str(r.percent), r.tax) for r in result.summary] == [
        ("10", eur("20.00")),
        ("5.5", eur("11.00")),
        ("2.1", eur("4.20")),
    ]


def test_the_rate_in_force_on_the_date_of_supply_is_used(rules):
    # Germany cut its rates from 2020-07-01 to 2020-12-31 (UStG § 28: 16 % and 5 %), 19 % / 7 %
    # either side. 100.00 on 2020-06-30 → 19.00; on 2020-07-01 → 16.00; on 2021-01-01 → 19.00.
    def vat(day, category=SERVICE, **kw):
        return compute(document(line("1", eur("100.00"), category, **kw), on=day), rules).tax_total

    assert vat(date(2020, 6, 30)) == eur("19.00")
    assert vat(date(2020, 7, 1)) == eur("16.00")
    assert vat(date(2020, 12, 31)) == eur("16.00")
    assert vat(date(2021, 1, 1)) == eur("19.00")
    assert vat(date(2020, 8, 1), TaxCategory.REDUCED, supply_type="goods") == eur("5.00")


def test_a_line_with_its_own_supply_date_takes_that_dates_rate(rules):
    # An invoice dated 2021-01-05 billing a December 2020 service: that line at 16 % (16.00),
    # the January line at 19 % (19.00) — two rows of the VAT breakdown.
    doc = document(
        line("dec", eur("100.00"), supply_date=date(2020, 12, 15)),
        line("jan", eur("100.00")),
        on=date(2021, 1, 5),
    )
    result = compute(doc, rules)
    assert [(str(r.percent), r.tax) for r in result.summary] == [("16", eur("16.00")), ("19", eur("19.00"))]


def test_an_exempt_product_is_category_e_with_its_reason(rules):
    # Art. 135(1) exemptions (financial services): E, 0 %, the reason printed (EN 16931 BR-E-10).
    doc = document(
        line(
            "fin",
            eur("500.00"),
            TaxCategory.EXEMPT,
            supply_type="services",
            exemption_reason="Exempt — Art. 135(1)(d)",
        )
    )
    row = only_row(compute(doc, rules))
    assert (row.category, row.tax, row.mention) == (
        VatCategoryCode.EXEMPT,
        eur("0.00"),
        "Exempt — Art. 135(1)(d)",
    )


def test_a_zero_rated_product_is_category_z_where_the_country_has_a_zero_rate(rules):
    # UK zero rate (VAT Act 1994 s. 30): books sold in the UK, Z at 0 %.
    doc = document(
        line("book", money("25.00", "GBP"), TaxCategory.ZERO, supply_type="goods"),
        seller=Seller("GB"),
        buyer=Buyer("GB"),
        currency="GBP",
        on=date(2027, 1, 4),
    )
    row = only_row(compute(doc, rules))
    assert (row.category, row.percent, row.tax) == (VatCategoryCode.ZERO, 0, money("0.00", "GBP"))


# --- reverse charge and intra-Community supplies ------------------------------------------------


def test_b2b_services_to_another_member_state_are_reverse_charged(rules):
    # Art. 44 + Art. 196: AE, 0 %, the mention; 1,000.00 net, 0.00 VAT.
    row = only_row(compute(document(line("1", eur("1000.00")), buyer=FABRIKAM), rules))
    assert (row.category, row.tax, row.mention) == (
        VatCategoryCode.REVERSE_CHARGE,
        eur("0.00"),
        MENTION_REVERSE_CHARGE,
    )


def test_goods_shipped_to_a_business_in_another_member_state_are_an_intra_community_supply(rules):
    # Art. 138(1): K, 0 %; deliver-to FR and delivery date 2027-02-10 (BR-IC-11, BR-IC-12).
    doc = document(
        line("edge", eur("2000.00"), GOODS),
        buyer=FABRIKAM,
        ship_to=Location("FR"),
        delivery_date=date(2027, 2, 10),
    )
    row = only_row(compute(doc, rules))
    assert (row.category, row.deliver_to_country, row.delivery_date) == (
        VatCategoryCode.INTRA_COMMUNITY,
        "FR",
        date(2027, 2, 10),
    )


def test_goods_stay_domestic_when_they_never_leave_the_country(rules):
    # A French business buying goods that are delivered within Germany: the goods do not move
    # between member states, so Art. 138 does not apply; DE VAT 19 %: 1,000.00 → 190.00.
    doc = document(line("edge", eur("1000.00"), GOODS), buyer=FABRIKAM, ship_to=Location("DE"))
    row = only_row(compute(doc, rules))
    assert (row.jurisdiction, row.category, row.tax) == ("DE", VatCategoryCode.STANDARD, eur("190.00"))


def test_a_member_states_joining_and_leaving_the_eu_is_dated(rules):
    # Croatia joined on 2013-07-01; the UK left the EU VAT territory at the end of 2020.
    hr = Buyer("HR", kind=CustomerKind.BUSINESS, vat_id_valid=True)
    gb = Buyer("GB", kind=CustomerKind.BUSINESS, vat_id_valid=True)
    cat = (
        compute(document(line("1", eur("100.00")), buyer=hr, on=date(2013, 6, 30)), rules).summary[0].category
    )
    assert cat is VatCategoryCode.OUTSIDE_SCOPE  # a third country then (Art. 44)
    cat = (
        compute(document(line("1", eur("100.00")), buyer=hr, on=date(2013, 7, 1)), rules).summary[0].category
    )
    assert cat is VatCategoryCode.REVERSE_CHARGE
    # On 2020-12-31 GB was still a member state: reverse charge; from 2021-01-01 a third country.
    cat = (
        compute(document(line("1", eur("100.00")), buyer=gb, on=date(2020, 12, 31)), rules)
        .summary[0]
        .category
    )
    assert cat is VatCategoryCode.REVERSE_CHARGE
    cat = (
        compute(document(line("1", eur("100.00")), buyer=gb, on=date(2021, 1, 1)), rules).summary[0].category
    )
    assert cat is VatCategoryCode.OUTSIDE_SCOPE


# --- B2C in the EU ----------------------------------------------------------------------------


def test_b2c_digital_services_in_the_eu_are_taxed_at_the_buyers_rate(rules):
    # Art. 58 (since 2015-01-01): SaaS to a French consumer → French standard rate 20 %:
    # 100.00 × 0.20 = 20.00, category S, jurisdiction FR (declared through the OSS).
    row = only_row(compute(document(line("saas", eur("100.00"), SAAS), buyer=FR_CONSUMER), rules))
    assert (row.jurisdiction, row.category, str(row.percent), row.tax) == (
        "FR",
        VatCategoryCode.STANDARD,
        "20",
        eur("20.00"),
    )


def test_b2c_digital_services_were_taxed_at_the_sellers_rate_before_2015(rules):
    # Before Directive 2008/8/EC's 2015 stage, Art. 45 applied: German VAT, 19 % → 19.00.
    row = only_row(
        compute(document(line("saas", eur("100.00"), SAAS), buyer=FR_CONSUMER, on=date(2014, 6, 1)), rules)
    )
    assert (row.jurisdiction, row.tax) == ("DE", eur("19.00"))


def test_other_b2c_services_to_another_member_state_stay_at_the_sellers_rate(rules):
    # Art. 45: consulting for a French consumer from Germany → DE 19 %: 300.00 → 57.00.
    row = only_row(compute(document(line("onb", eur("300.00"), SERVICE), buyer=FR_CONSUMER), rules))
    assert (row.jurisdiction, row.tax) == ("DE", eur("57.00"))


def test_b2c_distance_sales_of_goods_are_taxed_where_they_arrive_since_july_2021(rules):
    # Art. 33(a) (Directive 2017/2455, from 2021-07-01): an appliance shipped DE → FR to a
    # consumer → FR 20 %: 2,000.00 × 0.20 = 400.00. Before that: at origin, DE 19 % → 380.00.
    doc = document(line("edge", eur("2000.00"), GOODS), buyer=FR_CONSUMER)
    assert only_row(compute(doc, rules)).tax == eur("400.00")
    assert only_row(
        compute(document(line("edge", eur("2000.00"), GOODS), buyer=FR_CONSUMER, on=date(2021, 6, 30)), rules)
    ).tax == eur("380.00")


# --- outside the EU -------------------------------------------------------------------------------


def test_goods_exported_outside_the_eu_are_category_g(rules):
    # Art. 146(1)(a): goods dispatched to Switzerland — G, 0 %, the export mention.
    doc = document(line("edge", eur("2000.00"), GOODS), buyer=Buyer("CH", kind=CustomerKind.BUSINESS))
    row = only_row(compute(doc, rules))
    assert (row.category, row.tax, row.mention, row.reason_code) == (
        VatCategoryCode.EXPORT,
        eur("0.00"),
        MENTION_EXPORT,
        "VATEX-EU-G",
    )


def test_services_to_a_customer_outside_the_eu_are_outside_the_scope(rules):
    # Art. 44 (business) and Art. 59 (consumer, electronically supplied services): O, 0 %.
    for buyer in (Buyer("CH", kind=CustomerKind.BUSINESS), Buyer("US", "NY")):
        row = only_row(compute(document(line("saas", eur("100.00"), SAAS), buyer=buyer), rules))
        assert (row.category, row.mention, row.reason_code) == (
            VatCategoryCode.OUTSIDE_SCOPE,
            MENTION_OUTSIDE_SCOPE,
            "VATEX-EU-O",
        )


def test_the_canary_islands_are_outside_the_eu_vat_territory(rules):
    # Art. 6(2)(b): goods from mainland Spain to the Canary Islands are exported (G); B2B
    # services to a Canarian business are outside the scope (O).
    canary = Buyer("ES", "CN", kind=CustomerKind.BUSINESS, vat_id_valid=True)
    seller = Seller("ES")
    goods = compute(document(line("g", eur("100.00"), GOODS), seller=seller, buyer=canary), rules)
    services = compute(document(line("s", eur("100.00"), SERVICE), seller=seller, buyer=canary), rules)
    assert only_row(goods).category is VatCategoryCode.EXPORT
    assert only_row(services).category is VatCategoryCode.OUTSIDE_SCOPE
    # A province of the Canaries (Las Palmas, ES-GC) belongs to them too.
    province = Buyer("ES", "GC", kind=CustomerKind.BUSINESS, vat_id_valid=True)
    assert (
        only_row(
            compute(document(line("g", eur("1.00"), GOODS), seller=seller, buyer=province), rules)
        ).category
        is VatCategoryCode.EXPORT
    )


def test_a_canarian_seller_charges_igic_category_l(rules):
    # Ley 20/1991 as amended by Ley 4/2012: IGIC general rate 7 % → 100.00 × 0.07 = 7.00, code L.
    doc = document(line("s", eur("100.00")), seller=Seller("ES", "CN"), buyer=Buyer("ES", "TF"))
    row = only_row(compute(doc, rules))
    assert (row.jurisdiction, row.category, row.tax) == ("ES-CN", VatCategoryCode.CANARY_ISLANDS, eur("7.00"))


def test_monaco_is_treated_as_france(rules):
    # Art. 7(1): Monaco is part of France for VAT. A French seller's sale there is domestic: 20 %.
    doc = document(line("s", eur("10.00")), seller=Seller("FR"), buyer=Buyer("MC"))
    row = only_row(compute(doc, rules))
    assert (row.jurisdiction, row.tax) == ("FR", eur("2.00"))


# --- the UK --------------------------------------------------------------------------------------


def test_uk_domestic_supplies_are_taxed_at_20_percent(rules):
    # VAT Act 1994 s. 2: 20 % since 2011-01-04. 1,000.00 × 0.20 = 200.00; in 2010, 17.5 % → 175.00.
    def vat(day):
        doc = document(
            line("1", money("1000.00", "GBP")), seller=Seller("GB"), buyer=Buyer("GB"), currency="GBP", on=day
        )
        return compute(doc, rules).tax_total

    assert vat(date(2027, 1, 4)) == money("200.00", "GBP")
    assert vat(date(2011, 1, 3)) == money("175.00", "GBP")


def test_a_uk_seller_reverse_charges_services_to_an_eu_business_and_exports_goods(rules):
    gb = Seller("GB")
    services = compute(
        document(line("s", money("100.00", "GBP")), seller=gb, buyer=FABRIKAM, currency="GBP"), rules
    )
    goods = compute(
        document(line("g", money("100.00", "GBP"), GOODS), seller=gb, buyer=FABRIKAM, currency="GBP"), rules
    )
    assert only_row(services).category is VatCategoryCode.REVERSE_CHARGE
    row = only_row(goods)
    assert (row.category, row.mention) == (
        VatCategoryCode.EXPORT,
        "Zero-rated export of goods (VAT Act 1994 s. 30(6))",
    )


def test_an_eu_seller_charges_uk_vat_on_digital_services_to_uk_consumers(rules):
    # VAT Act 1994 Sch. 4A para. 15-16: taxed in the UK, 20 %: 50.00 × 0.20 = 10.00.
    row = only_row(compute(document(line("saas", eur("50.00"), SAAS), buyer=Buyer("GB")), rules))
    assert (row.jurisdiction, row.tax) == ("GB", eur("10.00"))


# --- US sales tax ----------------------------------------------------------------------------------


def test_us_sales_tax_is_the_rate_of_the_state_the_goods_go_to(rules):
    # Destination principle (South Dakota v. Wayfair): shipped from California to Texas → TX
    # state rate 6.25 %: 100.00 × 0.0625 = 6.25.
    doc = document(
        line("g", money("100.00", "USD"), GOODS),
        seller=Seller("US", "CA"),
        buyer=Buyer("US", "TX"),
        currency="USD",
        on=date(2026, 5, 1),
    )
    row = only_row(compute(doc, rules))
    assert (row.jurisdiction, row.category, row.tax) == (
        "US-TX",
        VatCategoryCode.STANDARD,
        money("6.25", "USD"),
    )


def test_us_ship_to_overrides_the_buyers_billing_state(rules):
    # Billed to New York, shipped to Minnesota: MN 6.875 % → 1,000.00 × 0.06875 = 68.75.
    doc = document(
        line("g", money("1000.00", "USD"), GOODS),
        seller=Seller("US", "CA"),
        buyer=Buyer("US", "NY"),
        ship_to=Location("US", "MN"),
        currency="USD",
        on=date(2026, 5, 1),
    )
    assert compute(doc, rules).tax_total == money("68.75", "USD")


def test_us_state_rate_changes_are_dated(rules):
    # New Mexico gross receipts tax: 5 % until 2023-06-30, 4.875 % from 2023-07-01.
    # 1,000.00 × 0.05 = 50.00; × 0.04875 = 48.75.
    def vat(day):
        doc = document(
            line("g", money("1000.00", "USD"), GOODS),
            seller=Seller("US", "TX"),
            buyer=Buyer("US", "NM"),
            currency="USD",
            on=day,
        )
        return compute(doc, rules).tax_total

    assert vat(date(2023, 6, 30)) == money("50.00", "USD")
    assert vat(date(2023, 7, 1)) == money("48.75", "USD")


def test_a_state_without_sales_tax_says_so_instead_of_charging_a_silent_zero(rules):
    doc = document(
        line("g", money("100.00", "USD"), GOODS),
        seller=Seller("US", "CA"),
        buyer=Buyer("US", "OR"),
        currency="USD",
    )
    row = only_row(compute(doc, rules))
    assert (row.category, row.tax, row.mention) == (
        VatCategoryCode.OUTSIDE_SCOPE,
        money("0.00", "USD"),
        "Not subject to tax in US-OR",
    )


def test_an_exemption_certificate_exempts_the_lines_it_covers(rules):
    # A California resale certificate: the CA line is E with the certificate reference; a line
    # shipped to Nevada is not covered — taxed at NV 6.85 % (100.00 → 6.85) with a warning.
    cert = Exemption("CA-RESALE-123", reason="resale", jurisdictions=frozenset({"US-CA"}))
    doc = document(
        line("ca", money("100.00", "USD"), GOODS),
        line("nv", money("100.00", "USD"), GOODS, ship_to=Location("US", "NV")),
        seller=Seller("US", "TX"),
        buyer=Buyer("US", "CA", kind=CustomerKind.BUSINESS),
        currency="USD",
        exemption=cert,
    )
    result = compute(doc, rules)
    ca, nv = result.lines
    assert (ca.category, ca.tax, ca.mention) == (
        VatCategoryCode.EXEMPT,
        money("0.00", "USD"),
        "Tax exempt — customer exemption certificate CA-RESALE-123: resale",
    )
    assert (nv.category, nv.tax) == (VatCategoryCode.STANDARD, money("6.85", "USD"))
    assert [w.code for w in result.warnings] == ["tax.exemption_not_applicable"]


def test_an_expired_exemption_certificate_is_not_applied(rules):
    cert = Exemption("EX-1", valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1))
    doc = document(
        line("g", money("100.00", "USD"), GOODS),
        seller=Seller("US", "CA"),
        buyer=Buyer("US", "CA"),
        currency="USD",
        on=date(2026, 1, 1),
        exemption=cert,
    )
    result = compute(doc, rules)
    # valid_to is exclusive: on 2026-01-01 the certificate has lapsed → CA 7.25 % = 7.25.
    assert result.tax_total == money("7.25", "USD")
    assert result.warnings[0].code == "tax.exemption_not_applicable"


def test_each_line_reports_the_rule_that_decided_it(rules):
    result = compute(document(line("1", eur("1.00")), buyer=FABRIKAM), rules)
    assert result.lines[0].treatment is Treatment.REVERSE_CHARGE
    assert result.lines[0].rule == "EU→eu business */services"
