"""Identifier checks of parties (pure: no database).

Valid examples are published ones: the IBAN DE89 3704 0044 0532 0130 00 with BIC COBADEFFXXX
(the standard German IBAN example), the Bundesbank's test SEPA creditor id DE98ZZZ09999999999,
the EPC's example ES23ZZZ47690558N, the VAT numbers of the Northwind scenario
(/work/shared/scenarios/northwind.md) and python-stdnum's documented examples for GR, GB and CH.
Each invalid value changes one character of a valid one, so only the check digits are wrong.
"""

from __future__ import annotations

import pytest

from q2c.core.errors import ValidationError
from q2c.parties import validation


def _code(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.code


class TestCountries:
    def test_a_lower_case_iso_code_is_accepted_and_upper_cased(self):
        assert validation.country(" de ") == "DE"

    @pytest.mark.parametrize("value", ["XX", "DEU", "Germany", "", "D", "ZZ"])
    def test_anything_that_is_not_an_iso_3166_alpha_2_code_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.country(value)
        assert _code(exc) == "parties.invalid_country"
        assert exc.value.field == "country"

    def test_an_optional_country_may_be_empty(self):
        assert validation.country("", required=False) == ""


class TestCurrenciesZonesLocales:
    def test_a_currency_is_an_iso_4217_code(self):
        assert validation.currency("eur") == "EUR"
        with pytest.raises(ValidationError) as exc:
            validation.currency("EURO")
        assert _code(exc) == "parties.invalid_currency"

    def test_a_time_zone_is_an_iana_name(self):
        assert validation.time_zone("Europe/Berlin") == "Europe/Berlin"
        with pytest.raises(ValidationError) as exc:
            validation.time_zone("Mars/Olympus_Mons")
        assert _code(exc) == "parties.invalid_time_zone"

    def test_a_locale_is_normalised_to_a_bcp47_tag(self):
        assert validation.locale("de_de") == "de-DE"
        assert validation.locale("en") == "en"

    @pytest.mark.parametrize("value", ["xx-YY", "", "<script>", "de--DE"])
    def test_an_unknown_locale_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.locale(value)
        assert _code(exc) == "parties.invalid_locale"


class TestTaxIds:
    @pytest.mark.parametrize(
        ("value", "country", "expected"),
        [
            ("DE136457858", "DE", "DE136457858"),  # Acme Cloud GmbH, scenario
            ("DE 812 651 301", "DE", "DE812651301"),  # Northwind, typed with spaces
            ("812651301", "DE", "DE812651301"),  # typed without the prefix
            ("FR40303265045", "FR", "FR40303265045"),  # Fabrikam SARL, scenario variant
            ("EL 094259216", "GR", "EL094259216"),  # Greece is EL in VIES (stdnum example)
            ("094259216", "GR", "EL094259216"),
            ("ATU57194903", "DE", "ATU57194903"),  # a German customer with an Austrian number
        ],
    )
    def test_eu_vat_numbers_are_checked_and_kept_with_their_vies_prefix(self, value, country, expected):
        assert validation.tax_id(value, country) == expected

    @pytest.mark.parametrize(
        ("value", "country"),
        [
            ("DE136457859", "DE"),  # last digit changed
            ("FR40303265046", "FR"),
            ("EL 123456781", "GR"),  # stdnum's documented invalid example
            ("DE12345", "DE"),  # too short
        ],
    )
    def test_eu_vat_numbers_with_wrong_check_digits_or_length_are_refused(self, value, country):
        with pytest.raises(ValidationError) as exc:
            validation.tax_id(value, country)
        assert _code(exc) == "parties.invalid_tax_id"
        assert exc.value.field == "tax_id"

    def test_other_countries_use_python_stdnum_where_it_has_a_vat_validator(self):
        assert validation.tax_id("GB 980 7806 84", "GB") == "980780684"
        assert validation.tax_id("CHE-107.787.577 IVA", "CH") == "CHE107787577IVA"
        with pytest.raises(ValidationError):
            validation.tax_id("802311781", "GB")  # stdnum's documented invalid example
        with pytest.raises(ValidationError):
            validation.tax_id("CHE-107.787.578 IVA", "CH")

    def test_countries_without_a_validator_keep_the_number_as_typed(self):
        assert validation.tax_id(" 12-3456789 ", "US") == "12-3456789"

    def test_an_empty_tax_id_means_none(self):
        assert validation.tax_id("  ", "DE") == ""

    def test_control_characters_and_overlong_values_are_refused_everywhere(self):
        with pytest.raises(ValidationError):
            validation.tax_id("12\x00345", "US")
        with pytest.raises(ValidationError):
            validation.tax_id("1" * 41, "US")


class TestBankIdentifiers:
    def test_a_valid_iban_is_returned_compact(self):
        assert validation.iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"

    @pytest.mark.parametrize(
        "value",
        [
            "DE89370400440532013001",  # check digits do not match
            "DE8937040044053201300",  # one digit short for Germany
            "XX89370400440532013000",  # no such country
            "",
            "not an iban",
        ],
    )
    def test_an_invalid_iban_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.iban(value)
        assert _code(exc) == "parties.invalid_iban"

    def test_a_valid_bic_is_returned_compact_and_an_empty_one_is_allowed(self):
        assert validation.bic("COBADEFFXXX") == "COBADEFFXXX"
        assert validation.bic("cobadeff") == "COBADEFF"
        assert validation.bic("") == ""

    @pytest.mark.parametrize("value", ["COBADEFFX", "COBAQQFFXXX", "CO"])
    def test_an_invalid_bic_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.bic(value)
        assert _code(exc) == "parties.invalid_bic"


class TestSepaCreditorIdentifiers:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("DE98ZZZ09999999999", "DE98ZZZ09999999999"),  # Deutsche Bundesbank's test id
            ("ES 23 ZZZ 47690558N", "ES23ZZZ47690558N"),  # EPC example, printed with spaces
        ],
    )
    def test_a_valid_creditor_id_is_returned_compact(self, value, expected):
        assert validation.creditor_id(value) == expected

    @pytest.mark.parametrize(
        "value",
        [
            "DE99ZZZ09999999999",  # check digits changed
            "DE98ZZZ09999999998",  # identifier changed
            "QQ98ZZZ09999999999",  # no such country
            "DEXXZZZ09999999999",  # check digits are not digits
            "DE98",  # too short
        ],
    )
    def test_an_invalid_creditor_id_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.creditor_id(value)
        assert _code(exc) == "parties.invalid_creditor_id"


class TestOtherFields:
    def test_a_name_keeps_html_as_text_and_collapses_whitespace(self):
        assert validation.name("  <b>Acme</b>   GmbH ") == "<b>Acme</b> GmbH"

    @pytest.mark.parametrize("value", ["", "   ", "a\x00b", "x" * 201, 42])
    def test_an_empty_overlong_or_control_character_name_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.name(value)
        assert _code(exc) == "parties.invalid_name"

    @pytest.mark.parametrize("value", ["inv", "Q", "CN2"])
    def test_number_prefixes_are_short_upper_case_words(self, value):
        assert validation.number_prefix(value, field="invoice_prefix") == value.upper()

    @pytest.mark.parametrize("value", ["", "INV-", "1INV", "TOOLONGPREFIX", "IN V"])
    def test_a_malformed_prefix_is_refused(self, value):
        with pytest.raises(ValidationError) as exc:
            validation.number_prefix(value, field="invoice_prefix")
        assert _code(exc) == "parties.invalid_prefix"

    @pytest.mark.parametrize("value", [-1, 366, "thirty", True, 1.5])
    def test_payment_terms_are_whole_days_from_0_to_365(self, value):
        with pytest.raises(ValidationError):
            validation.payment_terms(value)
        assert validation.payment_terms("30") == 30
