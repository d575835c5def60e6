"""camt.053 / camt.054 import: real banks' shapes, exact amounts and signs, and refusals.

Expected values are read off the fixture files by hand (tests/payments/fixtures/*.xml).
"""

from datetime import date
from decimal import Decimal

from q2c.core.money import Money
from q2c.payments.bank import parse_file
from tests.payments.support import camt, entry, fixture_bytes, refused


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def test_the_northwind_statements_are_read_line_by_line_with_references_payers_and_balances():
    parsed = parse_file(fixture_bytes("camt053_northwind.xml"))
    assert parsed.format == "camt.053.001.02"
    assert [s.statement_id for s in parsed.statements] == [
        "20270220-0532013000-038",
        "20270305-0532013000-047",
        "20270420-0532013000-078",
        "20270425-0532013000-082",
    ]
    assert {s.account for s in parsed.statements} == {"DE89370400440532013000"}
    lines = [(entry.booking_date, detail) for _, entry, detail in parsed.details()]
    assert [(day, d.amount) for day, d in lines] == [
        (date(2027, 2, 20), eur("7467.25")),
        (date(2027, 3, 5), eur("4745.00")),
        (date(2027, 4, 20), eur("1517.25")),
        (date(2027, 4, 25), eur("2582.11")),
    ]
    first, second, third, fourth = (d for _, d in lines)
    assert first.references == ("RF44INV2027000001",)
    assert (first.debtor_name, first.debtor_iban, first.end_to_end_id) == (
        "Northwind Handels GmbH",
        "DE34200505501234567890",
        "NWH-2027-0211-01",
    )
    # NOTPROVIDED is SEPA's way of saying "no end-to-end id".
    assert (second.remittance, second.end_to_end_id) == ("NORTHWIND INV 2027 0000O2", None)
    assert third.references == ("RF87INV2027000003",)
    assert fourth.remittance == "INV-2027-000004 INV-2027-000005"
    first_statement = parsed.statements[0]
    assert first_statement.opening_balance is not None and first_statement.closing_balance is not None
    assert (first_statement.opening_balance.kind, first_statement.opening_balance.amount) == (
        "PRCD",
        eur("0.00"),
    )
    assert first_statement.closing_balance.amount == eur("7467.25")
    assert parsed.warnings == ()  # balances follow on from each other and add up


def test_a_camt_053_001_08_batch_booking_keeps_one_line_per_payment_and_signs_fees_and_reversals():
    parsed = parse_file(fixture_bytes("camt053_v08_sparkasse_batch.xml"))
    assert parsed.format == "camt.053.001.08"
    (statement,) = parsed.statements
    assert statement.currency == "EUR"  # no Acct/Ccy in this file: taken from the balances
    assert len(statement.entries) == 4
    assert parsed.detail_count == 6
    batch, fee, returned, chargeback = statement.entries
    assert batch.amount == eur("1350.49")
    assert batch.booking_date == date(2027, 3, 14)  # BookgDt/DtTm 2027-03-14T09:12:44+01:00
    assert [d.amount for d in batch.details] == [eur("1000.00"), eur("250.50"), eur("99.99")]
    fabrikam, mueller, contoso = batch.details
    assert fabrikam.references == ("INV-2027-000010",)  # Strd/RfrdDocInf/Nb
    assert (fabrikam.debtor_name, fabrikam.debtor_iban) == ("Fabrikam SARL", "FR1420041010050500013M02606")
    assert mueller.references == ("RF18539007547034",)  # printed in groups of four
    assert (mueller.debtor_name, mueller.debtor_iban) == ("Müller & Söhne KG", "DE29100100100987654321")
    assert contoso.remittance == "Invoice INV-2027-000012 March seats thank you"
    assert fee.amount == eur("-12.50")
    assert fee.bank_transaction_code == "ACMT/MDOP/CHRG"
    (fee_line,) = fee.details
    assert fee_line.implicit and fee_line.remittance == "ENTGELTABSCHLUSS KONTOFUEHRUNG 02/2027"
    assert (returned.reversal, returned.amount) == (True, eur("300.00"))
    assert (chargeback.reversal, chargeback.amount) == (True, eur("-49.00"))
    assert statement.opening_balance is not None and statement.closing_balance is not None
    # 5,000.00 + 1,350.49 − 12.50 + 300.00 − 49.00 = 6,588.99
    assert statement.closing_balance.amount == eur("6588.99")
    assert parsed.warnings == ()


def test_a_camt_054_notification_takes_a_single_payments_amount_from_its_entry():
    parsed = parse_file(fixture_bytes("camt054_ing_notification.xml"))
    assert parsed.format == "camt.054.001.04"
    (notification,) = parsed.statements
    assert notification.kind == "notification"
    assert (notification.opening_balance, notification.closing_balance) == (None, None)
    amounts = [d.amount for _, _, d in parsed.details()]
    assert amounts == [eur("2415.70"), eur("480.00"), eur("250.00")]
    first = notification.entries[0].details[0]
    assert (first.implicit, first.remittance, first.debtor_name) == (False, "INV 2027 000005", "Wingtip B.V.")


def test_reading_the_same_file_twice_gives_the_same_fingerprints_and_identical_payments_stay_two_lines():
    twice = entry("50.00", details="<TxDtls><RmtInf><Ustrd>same text</Ustrd></RmtInf></TxDtls>")
    data = camt(twice + twice)
    first = [d.fingerprint for _, _, d in parse_file(data).details()]
    again = [d.fingerprint for _, _, d in parse_file(data).details()]
    assert first == again
    assert len(set(first)) == 2
    changed = camt(twice + twice.replace("same text", "same text!"))
    assert [d.fingerprint for _, _, d in parse_file(changed).details()][1] not in first


def test_a_statement_repeated_inside_one_file_is_kept_once_and_its_lines_count_as_duplicates():
    data = fixture_bytes("camt053_northwind.xml").decode()
    start = data.index("<Stmt>")
    end = data.index("</Stmt>") + len("</Stmt>")
    doubled = (data[:end] + data[start:end] + data[end:]).encode()
    parsed = parse_file(doubled)
    assert len(parsed.statements) == 4
    assert parsed.repeated_details == 1
    assert [w.code for w in parsed.warnings] == ["payments.bank.duplicate_statement"]


def test_a_batch_whose_payments_do_not_add_up_is_kept_whole_with_a_warning():
    details = (
        '<TxDtls><Amt Ccy="EUR">60.00</Amt><RmtInf><Ustrd>A</Ustrd></RmtInf></TxDtls>'
        '<TxDtls><Amt Ccy="EUR">30.00</Amt><RmtInf><Ustrd>B</Ustrd></RmtInf></TxDtls>'
    )
    parsed = parse_file(camt(entry("100.00", details=details)))
    (line,) = parsed.statements[0].entries[0].details
    assert (line.amount, line.remittance, line.implicit) == (eur("100.00"), "A B", True)
    assert [w.code for w in parsed.warnings] == ["payments.bank.batch_sum_mismatch"]


def test_an_opening_balance_that_does_not_follow_the_previous_closing_is_a_warning():
    parsed = parse_file(camt(entry("10.00"), opening="100.00", closing="110.00"))
    assert parsed.warnings == ()
    from q2c.payments.bank import Balance

    earlier = {"DE89370400440532013000": Balance(eur("90.00"), date(2027, 2, 28), "CLBD")}
    gap = parse_file(camt(entry("10.00"), opening="100.00", closing="110.00"), previous_closing=earlier)
    assert [w.code for w in gap.warnings] == ["payments.bank.balance_gap"]
    wrong = parse_file(camt(entry("10.00"), opening="100.00", closing="111.00"))
    assert [w.code for w in wrong.warnings] == ["payments.bank.balance_mismatch"]


def test_entity_expansion_and_external_entities_are_refused_before_anything_is_read():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        b"<Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"
    )
    refused("payments.bank.xml_forbidden", parse_file, laughs)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        b"<Id>&x;</Id></Stmt></BkToCstmrStmt></Document>"
    )
    refused("payments.bank.xml_forbidden", parse_file, external)


def test_a_truncated_or_malformed_xml_file_is_refused_whole():
    data = fixture_bytes("camt053_northwind.xml")
    refused("payments.bank.truncated", parse_file, data[: len(data) // 2])
    broken = data.replace(b"</AcctSvcrRef>", b"</AcctSvcrRf>", 1)
    refused("payments.bank.malformed", parse_file, broken)


def test_bytes_that_are_not_in_the_declared_encoding_are_refused_with_their_place():
    latin1 = camt(entry("1.00", details="<TxDtls><RmtInf><Ustrd>Müller</Ustrd></RmtInf></TxDtls>")).decode()
    error = refused("payments.bank.encoding", parse_file, latin1.encode("latin-1"))
    assert "0xfc" in error.message  # ü in ISO 8859-1


def test_amounts_with_more_decimals_than_the_currency_are_refused_not_rounded():
    refused("payments.bank.too_many_decimals", parse_file, camt(entry("10.005")))
    refused(
        "payments.bank.too_many_decimals",
        parse_file,
        camt(entry("10.5", ccy="JPY")).replace(b"<Ccy>EUR</Ccy>", b""),
    )
    # Trailing zeros are harmless: 10.500 EUR is 10.50 EUR.
    (detail,) = [d for _, _, d in parse_file(camt(entry("10.500"))).details()]
    assert detail.amount == eur("10.50")


def test_a_statement_holding_two_currencies_is_refused():
    refused("payments.bank.mixed_currencies", parse_file, camt(entry("10.00") + entry("5.00", ccy="USD")))


def test_what_the_importer_does_not_read_is_refused_with_a_reason():
    refused("payments.bank.unsupported_format", parse_file, camt(entry("1.00"), version="camt.052.001.02"))
    refused("payments.bank.unsupported_version", parse_file, camt(entry("1.00"), version="camt.053.001.01"))
    refused("payments.bank.malformed", parse_file, camt(entry("1.00", "CRED")))
    refused("payments.bank.bad_amount", parse_file, camt(entry("-1.00")))
    refused("payments.bank.unknown_format", parse_file, b"<html><body>statement</body></html>")
    no_account = camt(entry("1.00")).replace(b"<IBAN>DE89370400440532013000</IBAN>", b"")
    refused("payments.bank.missing_element", parse_file, no_account)


def test_a_newer_camt_version_is_read_with_a_warning():
    parsed = parse_file(camt(entry("1.00"), version="camt.053.001.10"))
    assert parsed.format == "camt.053.001.10"
    assert [w.code for w in parsed.warnings] == ["payments.bank.unverified_version"]
