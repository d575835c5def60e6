"""Storing bank files (``q2c.payments.cash.services.importing`` and ``q2c bank import``): statements
and lines stored once, re-imports reported as duplicates with nothing written, refusals with
nothing half-imported (hostile XML, truncated, wrong encoding, too many decimals, unknown
account, wrong currency), CSV read with the account's saved mapping, balance gaps against what q2c
holds.

Files are those of ``tests/payments/fixtures`` (the Northwind camt.053 of northwind.md step 8; a
Sparkasse CSV export in cp1252).
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from q2c.core.errors import DomainError
from q2c.parties import services as parties
from q2c.parties.models import BankAccount
from q2c.payments.cash.models import BankLine, CashAccount, Statement, StatementFile
from q2c.payments.cash.services import accounts, importing
from tests.billing.world import at, seller
from tests.payments.support import FIXTURES, camt, entry, fixture_bytes

pytestmark = pytest.mark.django_db

SPARKASSE = "DE38500502010123456789"


def counts() -> tuple[int, int, int]:
    return StatementFile.objects.count(), Statement.objects.count(), BankLine.objects.count()


@pytest.fixture
def acme():
    from datetime import date

    at(date(2027, 4, 26))
    return seller()


def test_the_northwind_file_is_stored_once_and_a_second_import_writes_nothing(acme):
    first = importing.import_file(fixture_bytes("camt053_northwind.xml"), file_name="nw.xml", actor="test")
    # northwind.md step 8: four bookings, one statement each, 16,311.61 EUR in.
    assert (first["saved_statements"], first["saved_lines"], first["duplicates"]) == (4, 4, 0)
    assert first["totals"] == {"EUR": {"credits": "16311.61", "debits": "0.00"}}
    assert counts() == (1, 4, 4)
    amounts = sorted(BankLine.objects.values_list("amount_minor", flat=True))
    assert amounts == [151725, 258211, 474500, 746725]
    assert set(BankLine.objects.values_list("state", flat=True)) == {"new"}

    again = importing.import_file(fixture_bytes("camt053_northwind.xml"), file_name="nw.xml", actor="test")
    assert (again["saved_statements"], again["saved_lines"], again["duplicates"], again["file_id"]) == (
        0,
        0,
        4,
        None,
    )
    # The previous closing balance is the one before the file: no false gap on a re-import.
    assert again["warnings"] == []
    assert counts() == (1, 4, 4)


def test_lines_written_in_bulk_name_every_column_and_read_back_as_the_model_expects(acme):
    # The bulk write lists the columns itself: every concrete column but the id, once.
    columns = {f.column for f in BankLine._meta.concrete_fields if not f.primary_key}
    assert sorted(importing.LINE_COLUMNS) == sorted(columns)
    details = (
        "<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RmtInf><Ustrd>Rechnung Müller</Ustrd>"
        "<Strd><CdtrRefInf><Ref>RF18 5390 0754 7034</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>"
    )
    importing.import_file(camt(entry("12.34", details=details) + entry("5.00", "DBIT")), actor="test")
    credit, debit = BankLine.objects.order_by("-amount_minor")
    # Values as written in the file above: 12.34 EUR in, 5.00 EUR out, booked, nothing matched yet.
    assert (credit.amount_minor, credit.currency, credit.state, credit.end_to_end_id) == (
        1234,
        "EUR",
        "new",
        "E2E-1",
    )
    assert (credit.remittance, credit.references) == ("Rechnung Müller", ["RF18539007547034"])
    assert (credit.reasons, credit.proposal, credit.alternatives) == ([], None, [])
    assert (credit.unapplied_minor, credit.confidence, credit.customer_id, credit.match_run_id) == (
        0,
        None,
        None,
        None,
    )
    assert str(credit.booking_date) == "2027-03-01" and credit.reversal is False and credit.resolved_by == ""
    assert credit.created_at is not None
    assert (debit.amount_minor, debit.state, debit.references) == (-500, "new", [])


def test_a_later_file_repeating_some_lines_stores_only_the_new_ones(acme):
    one = camt(entry("10.00") + entry("20.00"))
    importing.import_file(one, actor="test")
    both = camt(entry("10.00") + entry("20.00") + entry("30.00"))
    report = importing.import_file(both, actor="test")
    # The statement differs (a third entry), the first two lines are known.
    assert (report["saved_lines"], report["duplicates"]) == (1, 2)
    assert sorted(BankLine.objects.values_list("amount_minor", flat=True)) == [1000, 2000, 3000]


def test_two_identical_payments_in_one_file_stay_two_lines(acme):
    report = importing.import_file(camt(entry("10.00") + entry("10.00")), actor="test")
    assert report["saved_lines"] == 2
    assert BankLine.objects.count() == 2


def test_the_dry_run_writes_nothing_and_counts_what_is_held_as_duplicates(acme):
    importing.import_file(camt(entry("10.00")), actor="test")
    report = importing.import_file(camt(entry("10.00") + entry("5.00")), dry_run=True)
    assert (report["saved"], report["duplicates"], report["transaction_details"]) == (False, 1, 2)
    assert counts() == (1, 1, 1)


BAD_FILES = {
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        b"<Id>&lol2;</Id></Stmt></BkToCstmrStmt></Document>",
        "payments.bank.xml_forbidden",
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        b"<Id>&x;</Id></Stmt></BkToCstmrStmt></Document>",
        "payments.bank.xml_forbidden",
    ),
    "cut off": (fixture_bytes("camt053_northwind.xml")[:3000], "payments.bank.truncated"),
    "three decimals": (camt(entry("10.005")), "payments.bank.too_many_decimals"),
    "two currencies": (camt(entry("10.00") + entry("5.00", ccy="USD")), "payments.bank.mixed_currencies"),
    "latin-1 bytes declared UTF-8": (
        camt(entry("10.00")).replace(b"<Id>S1</Id>", b"<Id>S\xe91</Id>"),
        "payments.bank.encoding",
    ),
    "empty": (b"   \n", "payments.bank.empty"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_refused_file_writes_nothing(acme, name):
    data, code = BAD_FILES[name]
    with pytest.raises(DomainError) as error:
        importing.import_file(data, actor="test")
    assert error.value.code == code
    assert error.value.status == 422
    assert counts() == (0, 0, 0)


def test_a_statement_for_an_account_q2c_does_not_hold_is_refused_when_saving(acme):
    data = camt(entry("10.00")).replace(b"DE89370400440532013000", b"DE02120300000000202051")
    with pytest.raises(DomainError) as error:
        importing.import_file(data, actor="test")
    assert (error.value.code, error.value.field) == ("payments_cash.unknown_account", "file")
    assert counts() == (0, 0, 0)
    # The dry run reads it, with the warning.
    report = importing.import_file(data, dry_run=True)
    assert [w["code"] for w in report["warnings"]] == ["payments.bank.unknown_account"]


def test_a_statement_in_another_currency_than_the_account_is_refused(acme):
    data = camt(entry("10.00", ccy="USD")).replace(b"<Ccy>EUR</Ccy>", b"<Ccy>USD</Ccy>")
    with pytest.raises(DomainError) as error:
        importing.import_file(data, actor="test")
    assert error.value.code == "payments_cash.wrong_currency"
    assert counts() == (0, 0, 0)


def test_a_gap_to_the_last_closing_balance_q2c_holds_is_a_warning(acme):
    # Closing 110.00 held; the next statement opens at 100.00 on a later day.
    importing.import_file(camt(entry("10.00"), opening="100.00", closing="110.00"), actor="test")
    later = camt(entry("1.00"), opening="100.00", closing="101.00").replace(b"<Id>S1</Id>", b"<Id>S2</Id>")
    report = importing.import_file(later.replace(b"2027-03-01", b"2027-03-02"), actor="test")
    assert [w["code"] for w in report["warnings"]] == ["payments.bank.balance_gap"]
    assert report["saved_lines"] == 1


def sparkasse(entity):
    parties.add_bank_account(entity.pk, actor="test", iban=SPARKASSE, currency="EUR")
    return BankAccount.objects.get(iban=SPARKASSE)


def test_a_csv_export_is_read_with_the_accounts_saved_mapping(acme):
    bank = sparkasse(acme)
    data = fixture_bytes("csv_sparkasse_cp1252.csv")
    with pytest.raises(DomainError) as error:
        importing.import_file(data, bank_account_id=bank.pk, actor="test")
    assert error.value.code == "payments.bank.csv_mapping_required"
    mapping = json.loads((FIXTURES / "csv_sparkasse_cp1252.mapping.json").read_text())
    accounts.update_settings(bank.pk, csv_mapping=mapping, actor="test")
    report = importing.import_file(data, bank_account_id=bank.pk, actor="test")
    assert report["format"] == "csv"
    assert report["saved_lines"] == report["transaction_details"] > 0
    line = BankLine.objects.filter(bank_account=bank).order_by("id").first()
    assert (line.amount_minor, line.remittance, line.payer_name) == (
        474500,
        "NORTHWIND INV 2027 0000O2",
        "NORTHWIND HANDELS GMBH",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fee_tolerance": "-1"}, "fee_tolerance"),
        ({"fee_tolerance": "20.001"}, "fee_tolerance"),
        ({"fee_tolerance": "1e9"}, "fee_tolerance"),
        ({"fee_tolerance": "abc"}, "fee_tolerance"),
        ({"auto_threshold": 20}, "auto_threshold"),
        (
            {"csv_mapping": {"account": "X", "currency": "USD", "date_column": "D", "amount_column": "A"}},
            "csv_mapping",
        ),
        ({"csv_mapping": {"acount": "X"}}, "csv_mapping"),
    ],
)
def test_bad_cash_settings_are_refused_naming_the_field(acme, change, field):
    bank = BankAccount.objects.get(entity=acme)
    with pytest.raises(DomainError) as error:
        accounts.update_settings(bank.pk, actor="test", **change)
    assert (error.value.status, error.value.field) == (422, field)
    assert not CashAccount.objects.exists()


def run(*args: str) -> str:
    out = StringIO()
    call_command("bank", *args, stdout=out)
    return out.getvalue()


def test_the_command_saves_then_reports_duplicates(acme):
    path = str(FIXTURES / "camt053_northwind.xml")
    first = json.loads(run("import", path, "--json", "--no-match"))
    assert (first["saved_lines"], first["duplicates"]) == (4, 0)
    second = json.loads(run("import", path, "--json"))
    assert (second["saved_lines"], second["duplicates"]) == (0, 4)
    text = run("import", path)
    assert "4 duplicates" in text and "0 statements and 0 lines stored" in text


def test_the_command_refuses_hostile_xml_with_its_code_and_writes_nothing(acme, tmp_path):
    bad = tmp_path / "laughs.xml"
    bad.write_bytes(BAD_FILES["billion laughs"][0])
    with pytest.raises(CommandError) as error:
        run("import", str(bad))
    assert error.value.returncode == 2
    assert "payments.bank.xml_forbidden" in str(error.value)
    assert counts() == (0, 0, 0)


def test_the_command_sets_an_accounts_fee_tolerance(acme):
    out = json.loads(run("account", "DE89370400440532013000", "--fee-tolerance", "20.00", "--json"))
    assert (out["fee_tolerance"], out["auto_threshold"], out["currency"]) == ("20.00", 90, "EUR")
    with pytest.raises(CommandError):
        run("account", "DE02120300000000202051", "--fee-tolerance", "1.00")


def test_an_mt940_file_naming_the_account_by_bank_code_and_number_is_stored_with_signs_kept(acme):
    # :25:37040044/0532013000 is the BBAN of Acme's DE89 3704 0044 0532 0130 00. The file books
    # +7,467.25, then −12.50 (charges), RC 7,467.25 (reversal of a credit: money out) and RD 12.50.
    report = importing.import_file(fixture_bytes("mt940_commerzbank.sta"), actor="test")
    assert (report["format"], report["saved_statements"], report["saved_lines"]) == ("mt940", 2, 4)
    rows = list(BankLine.objects.order_by("id").values_list("amount_minor", "reversal"))
    assert rows == [(746725, False), (-1250, False), (-746725, True), (1250, True)]
    again = importing.import_file(fixture_bytes("mt940_commerzbank.sta"), actor="test")
    assert (again["saved_lines"], again["duplicates"]) == (0, 4)


def test_an_ing_mt940_account_with_a_currency_suffix_is_the_accounts_iban(acme):
    parties.add_bank_account(acme.pk, actor="test", iban="NL20INGB0001234567", currency="EUR")
    report = importing.import_file(fixture_bytes("mt940_ing_envelope.sta"), actor="test")
    # 2,415.70 + 480.00 in, 35.00 out.
    assert report["totals"] == {"EUR": {"credits": "2895.70", "debits": "35.00"}}
    assert report["saved_lines"] == 3
    assert set(BankLine.objects.values_list("bank_account__iban", flat=True)) == {"NL20INGB0001234567"}
