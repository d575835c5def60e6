"""Exports: a beancount ledger that bean-check accepts (its balance assertions re-add every
balance the ledger computed), a CSV journal, and CSV/XLSX tables safe from formula injection."""

import csv
import io
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from q2c.core.money import Money
from q2c.ledger import exports, services
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from q2c.ledger.models import Account, JournalEntry
from tests.ledger.northwind import post_northwind

pytestmark = pytest.mark.django_db

ENTITY = 3
BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def bean_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def realistic(at):
    """Northwind's journal (two periods of invoices, payments, recognition), plus a US customer's
    invoice in USD, an odd account a user added, a reversal, and a closed period."""
    post_northwind(ENTITY)
    odd = services.create_account(ENTITY, code="6950", name='Équipement & "co." =x', type="expense")
    # 2,000.00 USD at 0.9217 = 1,843.40 EUR; 1,000.00 USD at 0.9217 = 921.70 EUR (by hand).
    usd = EntryDraft(
        ENTITY,
        date(2027, 4, 12),
        'Invoice to "Contoso Inc." in USD',
        SourceRef("invoicing", "invoice", "6"),
        (
            DraftLine.dr("ar", Money("1843.40", "EUR"), original=Money("2000.00", "USD"), rate=Decimal("0.9217")),
            DraftLine.cr("revenue.hardware", Money("921.70", "EUR"), original=Money("1000.00", "USD"), rate=Decimal("0.9217")),
            DraftLine.cr("revenue.services", Money("921.70", "EUR"), original=Money("1000.00", "USD"), rate=Decimal("0.9217"), memo="=SUM(A1)"),
        ),
    )  # fmt: skip
    wrong = EntryDraft(
        ENTITY, date(2027, 4, 13), "=HYPERLINK(\"http://x\")", SourceRef("ledger", "manual", "V-1"),
        (DraftLine.dr(odd.pk, Money("99.00", "EUR")), DraftLine.cr("bank", Money("99.00", "EUR"))),
    )  # fmt: skip
    services.post_many([usd, wrong])
    services.reverse(JournalEntry.objects.get(source_id="V-1").pk, on=date(2027, 4, 14))
    at(date(2027, 4, 1))
    services.close_period(ENTITY, "2027-02")
    services.close_period(ENTITY, "2027-03")


def test_bean_check_accepts_the_exported_ledger(realistic, tmp_path):
    out = tmp_path / "acme.beancount"
    call_command("ledger", "export", "--format", "beancount", "-o", str(out), stdout=io.StringIO())
    result = bean_check(out)
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text()
    # northwind.md's trial balance, asserted to beancount at the start of the next day.
    assert "2027-04-01 balance Assets:1000-Bank  12212.25 EUR" in text
    assert "2027-05-01 balance Assets:1000-Bank  16311.61 EUR" in text
    assert "2027-04-01 balance Liabilities:2200-Deferred-Revenue  -1353.73 EUR" in text
    assert '    original: "2000.00 USD"' in text and '    rate: "0.9217"' in text
    assert "^je-2027-000017 ^je-2027-000016 #reversal" in text
    assert "Expenses:6950-Equipement-Co-X" in text
    assert '* "Invoice to \\"Contoso Inc.\\" in USD"' in text


def test_bean_check_fails_when_a_balance_does_not_tie(realistic, tmp_path):
    out = tmp_path / "acme.beancount"
    call_command("ledger", "export", "--out", str(out), stdout=io.StringIO())
    text = out.read_text().replace(
        "balance Assets:1000-Bank  12212.25 EUR", "balance Assets:1000-Bank  12212.26 EUR"
    )
    out.write_text(text)
    result = bean_check(out)
    assert result.returncode != 0
    assert "Balance failed for 'Assets:1000-Bank'" in result.stdout + result.stderr


def test_an_export_as_of_a_date_stops_there_and_still_checks(realistic, tmp_path):
    out = tmp_path / "march.beancount"
    call_command("ledger", "export", "-o", str(out), "--as-of", "2027-03-31", stdout=io.StringIO())
    assert bean_check(out).returncode == 0
    text = out.read_text()
    assert "2027-04-01 balance Assets:1000-Bank  12212.25 EUR" in text
    assert "2027-04-20" not in text


def test_the_csv_journal_has_one_row_per_line(realistic, tmp_path):
    out = tmp_path / "journal.csv"
    call_command("ledger", "export", "--format", "csv", "-o", str(out), stdout=io.StringIO())
    rows = list(csv.reader(out.open(newline="", encoding="utf-8")))
    assert rows[0] == exports.JOURNAL_HEADERS
    assert rows[1] == [
        "JE-2027-000001", "2027-02-01", "INV-2027-000001 Northwind", "invoicing", "invoice", "1", "post", "",
        "1", "1200", "Accounts receivable", "7467.25", "0.00", "EUR", "", "", "", "",
    ]  # fmt: skip
    usd = [r for r in rows if r[0] == "JE-2027-000015"]
    assert [r[11:18] for r in usd] == [
        ["1843.40", "0.00", "EUR", "2000.00", "USD", "0.9217", ""],
        ["0.00", "921.70", "EUR", "1000.00", "USD", "0.9217", ""],
        ["0.00", "921.70", "EUR", "1000.00", "USD", "0.9217", "'=SUM(A1)"],
    ]
    assert len(rows) - 1 == sum(1 for _ in exports.journal_table_rows(ENTITY))


def test_text_that_a_spreadsheet_would_run_is_neutralised(realistic):
    text = exports.csv_text(*exports.trial_balance_table(services_tb()))
    assert "Équipement" in text
    parsed = list(
        csv.reader(io.StringIO(exports.csv_text(exports.JOURNAL_HEADERS, exports.journal_table_rows(ENTITY))))
    )
    assert {r[2] for r in parsed if r[0] == "JE-2027-000016"} == {'\'=HYPERLINK("http://x")'}
    for raw, safe in [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
    ]:
        assert exports.safe_text(raw) == safe


def services_tb():
    from q2c.ledger import queries

    return queries.trial_balance(ENTITY, date(2027, 4, 30))


def test_an_xlsx_report_keeps_amounts_numeric_and_text_inert(realistic, tmp_path):
    headers = exports.JOURNAL_HEADERS
    data = exports.xlsx_bytes("Journal", headers, exports.journal_table_rows(ENTITY))
    path = tmp_path / "j.xlsx"
    path.write_bytes(data)
    ws = load_workbook(path).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert '\'=HYPERLINK("http://x")' in cells
    assert cells['\'=HYPERLINK("http://x")'].data_type == "s"
    amounts = [row[11].value for row in ws.iter_rows(min_row=2) if row[0].value == "JE-2027-000001"]
    assert amounts == [Decimal("7467.25"), 0, 0] or amounts == [7467.25, 0, 0]


def test_beancount_account_names_are_valid_whatever_the_name():
    acct = Account(code="a.1", name="Ærø — débit ∑ =x", type="asset")
    assert exports.beancount_account(acct) == "Assets:A-1-R-Debit-X"  # Æ and ø have no ASCII decomposition


def test_export_to_stdout(realistic, capsys):
    call_command("ledger", "export", "--format", "csv", "-o", "-")
    assert capsys.readouterr().out.startswith("entry,date,description")


def test_with_several_books_the_entity_must_be_named(realistic, tmp_path):
    services.open_book(4, "USD")
    with pytest.raises(CommandError) as err:
        call_command("ledger", "export", "-o", str(tmp_path / "x"))
    assert err.value.returncode == 2 and "--entity" in str(err.value)
    with pytest.raises(CommandError, match=r"ledger\.no_book"):
        call_command("ledger", "export", "--entity", "99", "-o", str(tmp_path / "x"))
    call_command(
        "ledger", "export", "--entity", "4", "-o", str(tmp_path / "empty.beancount"), stdout=io.StringIO()
    )
    assert bean_check(tmp_path / "empty.beancount").returncode == 0
