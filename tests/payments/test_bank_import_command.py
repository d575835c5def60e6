"""Format detection, the dry-run report and ``q2c bank import FILE --dry-run [--json]``."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from q2c.payments.bank import detect_format, dry_run_report, parse_file
from tests.payments.support import FIXTURES, fixture_bytes, refused


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("camt053_northwind.xml", "camt"),
        ("camt053_v08_sparkasse_batch.xml", "camt"),
        ("camt054_ing_notification.xml", "camt"),
        ("mt940_commerzbank.sta", "mt940"),
        ("mt940_ing_envelope.sta", "mt940"),
        ("mt940_lowercase_marks.sta", "mt940"),
        ("bai2_chase.bai", "bai2"),
        ("csv_us_bank.csv", "csv"),
        ("csv_sparkasse_cp1252.csv", "csv"),
    ],
)
def test_the_format_is_detected_from_the_content_not_the_name(name, kind):
    assert detect_format(fixture_bytes(name)) == kind


def test_an_empty_file_is_refused():
    refused("payments.bank.empty", parse_file, b"  \r\n")


def test_the_dry_run_report_counts_entries_and_details_apart_and_totals_per_currency():
    report = dry_run_report(parse_file(fixture_bytes("camt053_v08_sparkasse_batch.xml")))
    assert report == {
        "format": "camt.053.001.08",
        "statements": 1,
        "entries": 4,
        "transaction_details": 6,
        # credits 1,350.49 + 300.00; debits 12.50 + 49.00
        "totals": {"EUR": {"credits": "1650.49", "debits": "61.50"}},
        "duplicates": 0,
        "warnings": [],
    }


def test_lines_already_imported_count_as_duplicates_and_unknown_accounts_as_warnings():
    parsed = parse_file(fixture_bytes("camt053_northwind.xml"))
    known = {d.fingerprint for _, _, d in parsed.details()}
    report = dry_run_report(
        parse_file(fixture_bytes("camt053_northwind.xml")), known_fingerprints=known, known_accounts=set()
    )
    assert report["duplicates"] == 4
    assert [w["code"] for w in report["warnings"]] == ["payments.bank.unknown_account"]
    assert dry_run_report(parsed, known_accounts={"DE89370400440532013000"})["warnings"] == []


def run(*args: str) -> str:
    out = StringIO()
    call_command("bank", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_dry_run_prints_the_json_summary_of_the_northwind_file():
    output = run("import", str(FIXTURES / "camt053_northwind.xml"), "--dry-run", "--json")
    assert json.loads(output) == {
        "format": "camt.053.001.02",
        "statements": 4,
        "entries": 4,
        "transaction_details": 4,
        # 7,467.25 + 4,745.00 + 1,517.25 + 2,582.11 (northwind.md step 8)
        "totals": {"EUR": {"credits": "16311.61", "debits": "0.00"}},
        "duplicates": 0,
        "warnings": [
            {
                "code": "payments.bank.unknown_account",
                "message": "q2c knows no bank account DE89370400440532013000; its statements are read but cannot be saved",
                "where": "account DE89370400440532013000",
            }
        ],
    }


@pytest.mark.django_db
def test_the_dry_run_reads_a_csv_file_with_its_mapping_and_prints_people_readable_text():
    output = run(
        "import",
        str(FIXTURES / "csv_us_bank.csv"),
        "--dry-run",
        "--mapping",
        str(FIXTURES / "csv_us_bank.mapping.json"),
    )
    assert "3 entries, 3 transaction details, 0 duplicates" in output
    assert "USD: credits 7500.00, debits 749.25" in output


@pytest.mark.django_db
def test_a_bad_file_ends_the_command_with_its_code_and_nothing_printed(tmp_path):
    bad = tmp_path / "cut.xml"
    bad.write_bytes(fixture_bytes("camt053_northwind.xml")[:2000])
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("bank", "import", str(bad), "--dry-run", "--json", stdout=out)
    assert "payments.bank.truncated" in str(error.value)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="cannot read"):
        run("import", str(tmp_path / "missing.xml"), "--dry-run")
