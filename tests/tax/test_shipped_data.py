"""The data shipped in q2c/tax/data/: it parses cleanly, holds no overlaps, covers every member
state, the UK and every US state, stays within the VAT Directive's bounds, and spot values match
the European Commission's list "VAT rates applied in the Member States" (2025 edition) and the
member states' published changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c.tax.csvio import read_shipped
from q2c.tax.engine import (
    Buyer,
    CustomerKind,
    Location,
    RateKind,
    Seller,
    TaxCategory,
    VatCategoryCode,
    compute,
)
from q2c.tax.engine.territory import eu_member_states
from tests.tax.builders import document, eur, line

D2027 = date(2027, 1, 1)


def test_every_shipped_file_parses_without_a_single_row_error():
    for name, parsed in read_shipped():
        assert parsed.errors == [], name
        assert parsed.count > 0, name


def test_every_member_state_and_the_uk_have_a_standard_rate_in_2026_and_2027(rules):
    for day in (date(2026, 1, 1), date(2026, 12, 31), D2027):
        for country in [*sorted(eu_member_states(day)), "GB"]:
            assert rules.rate(country, RateKind.STANDARD, day).percent > 0


def test_every_us_state_and_dc_has_a_state_rate(rules):
    import pycountry

    states = [
        s.code for s in pycountry.subdivisions.get(country_code="US") if s.type in ("State", "District")
    ]
    assert len(states) == 51
    for code in states:
        rules.rate(code, RateKind.STANDARD, date(2026, 6, 1))


def test_standard_rates_are_at_least_15_percent_as_the_directive_requires(rules):
    # Art. 97 Directive 2006/112/EC: the standard rate may not be lower than 15 %.
    eu = eu_member_states(D2027) | {"GB"}
    standard = [r for r in rules.rates if r.kind is RateKind.STANDARD and r.jurisdiction in eu]
    assert standard
    assert all(r.percent >= 15 for r in standard)


@pytest.mark.parametrize(
    ("country", "kind", "day", "percent"),
    [
        ("DE", RateKind.STANDARD, D2027, "19"),
        ("DE", RateKind.REDUCED, D2027, "7"),
        ("FR", RateKind.STANDARD, D2027, "20"),
        ("FR", RateKind.REDUCED, D2027, "10"),
        ("FR", RateKind.REDUCED_2, D2027, "5.5"),
        ("FR", RateKind.SUPER_REDUCED, D2027, "2.1"),
        ("IT", RateKind.STANDARD, D2027, "22"),
        ("ES", RateKind.STANDARD, D2027, "21"),
        ("NL", RateKind.REDUCED, D2027, "9"),
        ("HU", RateKind.STANDARD, D2027, "27"),
        ("DK", RateKind.STANDARD, D2027, "25"),
        ("IE", RateKind.STANDARD, D2027, "23"),
        ("IE", RateKind.SUPER_REDUCED, D2027, "4.8"),
        ("LU", RateKind.STANDARD, date(2023, 6, 1), "16"),  # the 2023 temporary cut
        ("LU", RateKind.STANDARD, D2027, "17"),
        ("FI", RateKind.STANDARD, date(2024, 8, 31), "24"),
        ("FI", RateKind.STANDARD, date(2024, 9, 1), "25.5"),
        ("EE", RateKind.STANDARD, date(2025, 7, 1), "24"),
        ("RO", RateKind.STANDARD, date(2025, 7, 31), "19"),
        ("RO", RateKind.STANDARD, date(2025, 8, 1), "21"),
        ("SK", RateKind.STANDARD, date(2025, 1, 1), "23"),
        ("CZ", RateKind.REDUCED, date(2024, 1, 1), "12"),
        ("GB", RateKind.STANDARD, D2027, "20"),
        ("GB", RateKind.REDUCED, D2027, "5"),
        ("US-CA", RateKind.STANDARD, D2027, "7.25"),
        ("US-LA", RateKind.STANDARD, D2027, "5"),
        ("ES-CN", RateKind.STANDARD, D2027, "7"),
    ],
)
def test_spot_rates(rules, country, kind, day, percent):
    assert rules.rate(country, kind, day).percent == Decimal(percent)


def test_the_shipped_rules_decide_every_supply_between_member_states_and_to_third_countries(rules):
    # No seller in the EU meets "no rule" for any buyer, customer kind or kind of supply.
    buyers = [*sorted(eu_member_states(D2027)), "CH", "NO", "JP"]
    for seller in sorted(eu_member_states(D2027)):
        for country in buyers:
            for kind in CustomerKind:
                buyer = Buyer(country, kind=kind, vat_id_valid=True)
                doc = document(
                    line("g", eur("10.00"), TaxCategory.GOODS),
                    line("s", eur("10.00"), TaxCategory.SERVICE),
                    line("d", eur("10.00"), TaxCategory.DIGITAL_SERVICE),
                    seller=Seller(seller),
                    buyer=buyer,
                    ship_to=Location(country),
                    delivery_date=D2027,
                    on=D2027,
                )
                result = compute(doc, rules)
                codes = {x.line_id: x.category for x in result.lines}
                if country == seller:
                    assert set(codes.values()) == {VatCategoryCode.STANDARD}
                elif country in ("CH", "NO", "JP"):
                    assert codes["g"] is VatCategoryCode.EXPORT
                    assert codes["s"] is codes["d"] is VatCategoryCode.OUTSIDE_SCOPE
                elif kind is CustomerKind.BUSINESS:
                    assert codes == {
                        "g": VatCategoryCode.INTRA_COMMUNITY,
                        "s": VatCategoryCode.REVERSE_CHARGE,
                        "d": VatCategoryCode.REVERSE_CHARGE,
                    }
                else:
                    # Consumer in another member state: goods and digital services at the
                    # buyer's rate (Art. 33, 58), other services at the seller's (Art. 45).
                    lines = {x.line_id: x for x in result.lines}
                    assert lines["g"].jurisdiction == lines["d"].jurisdiction == country
                    assert lines["s"].jurisdiction == seller
