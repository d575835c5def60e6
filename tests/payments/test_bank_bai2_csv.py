"""BAI2 (amounts in minor units, signs from type codes, control totals) and CSV with a mapping.

Expected values are read off the fixture files by hand.
"""

import json
from datetime import date
from decimal import Decimal

import pytest

from q2c.core.money import Money
from q2c.payments.bank import BankFileError, CsvMapping, parse_file
from tests.payments.support import FIXTURES, fixture_bytes, refused


def money(text: str, currency: str) -> Money:
    return Money(Decimal(text), currency)


def mapping(name: str, **changes) -> CsvMapping:
    data = json.loads((FIXTURES / name).read_text())
    data.update(changes)
    return CsvMapping.from_dict(data)


def test_bai2_amounts_are_minor_units_signed_by_their_type_code():
    parsed = parse_file(fixture_bytes("bai2_chase.bai"))
    assert parsed.format == "bai2"
    usd, cad = parsed.statements
    assert (usd.account, usd.currency, cad.account, cad.currency) == (
        "000123456789",
        "USD",
        "000987654321",
        "CAD",
    )
    # 16,165,500000 (ACH credit) · 16,195,250000 (incoming wire) · 16,475,74925 (check paid)
    assert [e.amount for e in usd.entries] == [
        money("5000.00", "USD"),
        money("2500.00", "USD"),
        money("-749.25", "USD"),
    ]
    assert {e.booking_date for e in usd.entries} == {date(2027, 4, 19)}
    assert usd.opening_balance is not None and usd.closing_balance is not None
    assert (usd.opening_balance.amount, usd.closing_balance.amount) == (
        money("12500.00", "USD"),
        money("19250.75", "USD"),
    )
    assert cad.opening_balance is not None and cad.opening_balance.amount == money("3000.00", "CAD")
    ach, wire, check = (e.details[0] for e in usd.entries)
    assert ach.debtor_name == "CONTOSO LTD"
    assert ach.references == ("INV-2027-000021",)
    assert ach.remittance.endswith("IND ID:INV-2027-000021")  # the 88 continuation record joins the text
    assert wire.debtor_name == "FABRIKAM SARL"
    assert check.references == ("000004711",)
    # The 890 record carries information only.
    assert [w.code for w in parsed.warnings] == ["payments.bank.skipped_line"]


def test_bai2_totals_that_do_not_tie_and_a_missing_trailer_are_refused():
    data = fixture_bytes("bai2_chase.bai")
    refused("payments.bank.control_total", parse_file, data.replace(b"49,4824925,7/", b"49,4824926,7/"))
    refused("payments.bank.truncated", parse_file, data.split(b"98,")[0])


def test_a_sparkasse_csv_export_with_its_saved_mapping():
    parsed = parse_file(
        fixture_bytes("csv_sparkasse_cp1252.csv"), csv_mapping=mapping("csv_sparkasse_cp1252.mapping.json")
    )
    assert parsed.format == "csv"
    (statement,) = parsed.statements
    assert statement.account == "DE38500502010123456789"
    details = [e.details[0] for e in statement.entries]
    assert [d.amount for d in details] == [
        money("4745.00", "EUR"),  # "4.745,00"
        money("250.50", "EUR"),
        money("-12.50", "EUR"),
        money("250.50", "EUR"),
    ]
    assert statement.entries[0].booking_date == date(2027, 3, 5)  # "05.03.27"
    assert (details[0].remittance, details[0].end_to_end_id) == ("NORTHWIND INV 2027 0000O2", None)
    assert (details[1].debtor_name, details[1].debtor_iban) == ("Müller & Söhne KG", "DE29100100100987654321")
    # The same payment twice is two lines, each with its own fingerprint.
    assert details[1].fingerprint != details[3].fingerprint


def test_a_us_csv_export_with_credit_and_debit_columns_below_a_header_block():
    parsed = parse_file(fixture_bytes("csv_us_bank.csv"), csv_mapping=mapping("csv_us_bank.mapping.json"))
    entries = parsed.statements[0].entries
    assert [e.amount for e in entries] == [
        money("5000.00", "USD"),
        money("2500.00", "USD"),
        money("-749.25", "USD"),
    ]
    assert [e.bank_reference for e in entries] == ["A1001", "A1002", "A1003"]


def test_csv_values_that_do_not_fit_the_mapping_are_refused_with_their_line():
    data = fixture_bytes("csv_us_bank.csv")
    error = refused(
        "payments.bank.bad_amount",
        parse_file,
        data.replace(b'"2,500.00"', b'"2,5O0.00"'),
        csv_mapping=mapping("csv_us_bank.mapping.json"),
    )
    assert error.where == "line 7"  # 3 header lines, a blank line, the column titles, then row 2
    refused(
        "payments.bank.bad_date",
        parse_file,
        data.replace(b"04/05/2027", b"2027-04-05"),
        csv_mapping=mapping("csv_us_bank.mapping.json"),
    )
    refused(
        "payments.bank.too_many_decimals",
        parse_file,
        data.replace(b"749.25", b"749.255"),
        csv_mapping=mapping("csv_us_bank.mapping.json"),
    )
    sparkasse = fixture_bytes("csv_sparkasse_cp1252.csv")
    refused(
        "payments.bank.mixed_currencies",
        parse_file,
        sparkasse.replace(b'"-12,50";"EUR"', b'"-12,50";"USD"'),
        csv_mapping=mapping("csv_sparkasse_cp1252.mapping.json"),
    )
    refused(
        "payments.bank.encoding",
        parse_file,
        sparkasse,
        csv_mapping=mapping("csv_sparkasse_cp1252.mapping.json", encoding="utf-8"),
    )
    refused(
        "payments.bank.truncated",
        parse_file,
        data.rstrip()[:-20],
        csv_mapping=mapping("csv_us_bank.mapping.json"),
    )


def test_a_csv_file_needs_a_mapping_and_a_mapping_must_be_complete():
    refused("payments.bank.csv_mapping_required", parse_file, fixture_bytes("csv_us_bank.csv"))
    with pytest.raises(BankFileError) as typo:
        mapping("csv_us_bank.mapping.json", amout_column="Amount")
    assert typo.value.code == "payments.bank.csv_mapping"
    with pytest.raises(BankFileError):
        mapping("csv_us_bank.mapping.json", amount_column="Credit")  # both amount styles at once
    refused(
        "payments.bank.csv_mapping",
        parse_file,
        fixture_bytes("csv_us_bank.csv"),
        csv_mapping=mapping("csv_us_bank.mapping.json", date_column="Posted"),
    )
