"""MT940 import: reversal and lowercase marks sign correctly; banks' :86: conventions; refusals.

Expected values are read off the fixture files by hand. SWIFT field 61 marks: C credit, D debit,
RC reversal of a credit (money out), RD reversal of a debit (money back in).
"""

from datetime import date
from decimal import Decimal

from q2c.core.money import Money
from q2c.payments.bank import parse_file
from tests.payments.support import fixture_bytes, refused


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def test_reversal_marks_rc_and_rd_sign_like_the_money_moves():
    parsed = parse_file(fixture_bytes("mt940_commerzbank.sta"))
    assert parsed.format == "mt940"
    assert [s.sequence for s in parsed.statements] == ["00038", "00039"]
    entries = [e for s in parsed.statements for e in s.entries]
    assert [(e.amount, e.reversal) for e in entries] == [
        (eur("7467.25"), False),  # CR: credit with funds code R (third letter of EUR)
        (eur("-12.50"), False),  # DR
        (eur("-7467.25"), True),  # RCR: a returned credit leaves the account
        (eur("12.50"), True),  # RDR: a refunded debit comes back
    ]
    # 7,467.25 − 12.50 − 7,467.25 + 12.50 = 0.00, the :62F: of the second statement.
    assert parsed.statements[1].closing_balance is not None
    assert parsed.statements[1].closing_balance.amount == eur("0.00")
    assert parsed.warnings == ()


def test_german_structured_details_give_payer_iban_end_to_end_id_and_purpose():
    parsed = parse_file(fixture_bytes("mt940_commerzbank.sta"))
    first = parsed.statements[0].entries[0]
    (detail,) = first.details
    assert first.booking_date == date(2027, 2, 20)
    assert first.bank_reference == "2027022000418273"
    assert (detail.debtor_name, detail.debtor_iban) == ("Northwind Handels GmbH", "DE34200505501234567890")
    assert detail.end_to_end_id == "NWH-2027-0211-01"
    assert detail.remittance == "RF44INV2027000001"


def test_lowercase_marks_sign_like_uppercase_ones():
    parsed = parse_file(fixture_bytes("mt940_lowercase_marks.sta"))
    (statement,) = parsed.statements
    assert [(e.amount, e.reversal) for e in statement.entries] == [
        (eur("100.00"), False),  # c
        (eur("-20.00"), False),  # d
        (eur("-100.00"), True),  # rc
        (eur("20.00"), True),  # rd
    ]
    assert statement.opening_balance is not None and statement.opening_balance.amount == eur(
        "250.00"
    )  # :60F:c…
    assert parsed.warnings == ()  # 250 + 100 − 20 − 100 + 20 = 250, the closing balance


def test_an_ing_file_in_a_swift_envelope_with_slash_fields():
    parsed = parse_file(fixture_bytes("mt940_ing_envelope.sta"))
    (statement,) = parsed.statements
    assert statement.account == "NL20INGB0001234567"  # ":25:NL20INGB0001234567EUR"
    wingtip, litware, charges = (e.details[0] for e in statement.entries)
    assert (wingtip.debtor_name, wingtip.debtor_iban, wingtip.remittance) == (
        "Wingtip B.V.",
        "NL44RABO0123456789",
        "INV 2027 000005",
    )
    assert wingtip.end_to_end_id is None  # /EREF/NOTPROVIDED
    assert litware.references == ("RF60INV2027000004",)  # /REMI/STRD/CUR/…
    assert (charges.amount, charges.remittance) == (eur("-35.00"), "Kosten buitenlandse betaling")
    # The statement-level :86: after :62F: does not leak into the last line.
    assert "Saldo" not in charges.remittance
    assert parsed.warnings == ()


def test_a_statement_without_closing_balance_is_a_truncated_file():
    data = fixture_bytes("mt940_lowercase_marks.sta").split(b":62F:")[0]
    refused("payments.bank.truncated", parse_file, data)


def test_a_statement_line_without_a_transaction_type_is_refused_rather_than_merged():
    # Without the 4-character type code the package folds the line into the previous one.
    data = fixture_bytes("mt940_lowercase_marks.sta").replace(b"270502d20,00NTRFNONREF", b"270502d20,00")
    refused("payments.bank.malformed", parse_file, data)


def test_yen_with_decimals_and_two_currencies_in_one_statement_are_refused():
    yen = b":20:X\n:25:JP123\n:28C:1\n:60F:C270501JPY1000,\n:61:270502C100,5NTRFNONREF\n:62F:C270502JPY1100,5\n-\n"
    refused("payments.bank.too_many_decimals", parse_file, yen)
    mixed = b":20:X\n:25:DE123\n:28C:1\n:60F:C270501EUR10,00\n:61:270502C1,00NTRFNONREF\n:62F:C270502USD11,00\n-\n"
    refused("payments.bank.mixed_currencies", parse_file, mixed)


def test_a_latin_1_file_is_read_with_a_warning_and_its_umlauts_intact():
    data = ":20:X\n:25:DE123\n:28C:1\n:60F:C270501EUR0,00\n:61:270502C1,00NTRFNONREF\n:86:Zahlung Müller\n:62F:C270502EUR1,00\n-\n"
    parsed = parse_file(data.encode("latin-1"))
    assert parsed.statements[0].entries[0].details[0].remittance == "Zahlung Müller"
    assert [w.code for w in parsed.warnings] == ["payments.bank.encoding_fallback"]
