"""Ledger pages: the reports render what the ledger computes, download as CSV/XLSX, escape what
people typed, and the writing forms go through the same services (errors shown, nothing written)."""

import csv
import io
from datetime import date

import pytest
from django.test import Client
from openpyxl import load_workbook

from q2c.core import clock
from q2c.core.money import Money
from q2c.ledger import accounts, services
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from q2c.ledger.models import Account, JournalEntry, Period
from tests.ledger.northwind import post_northwind

pytestmark = pytest.mark.django_db
ENTITY = 3
BASE = f"/ledger/{ENTITY}"


@pytest.fixture
def northwind(db):
    post_northwind(ENTITY)
    clock.install(clock.SimulationClock(date(2027, 5, 2)))


@pytest.fixture
def finance(make_user):
    client = Client()
    client.force_login(make_user("finance"))
    return client


def test_the_ledger_entry_is_in_the_navigation_for_finance_and_viewers_only(northwind, finance, make_user):
    assert b'href="/ledger/"' in finance.get("/").content
    rep = Client()
    rep.force_login(make_user("sales_rep"))
    assert b'href="/ledger/"' not in rep.get("/").content


def test_with_one_book_the_ledger_opens_on_its_trial_balance(northwind, finance):
    response = finance.get("/ledger/")
    assert (response.status_code, response["Location"]) == (302, f"{BASE}/trial-balance/")
    services.open_book(4, "USD", name="Acme Inc.")
    page = finance.get("/ledger/").content.decode()
    assert "Acme Cloud GmbH" in page and "Acme Inc." in page


def test_the_trial_balance_page_shows_the_storys_figures(northwind, finance):
    page = finance.get(f"{BASE}/trial-balance/", {"as_of": "2027-03-31"}).content.decode()
    for figure in ("12,212.25", "1,683.66", "2,221.07", "1,353.73", "14,412.64"):
        assert figure in page
    assert "Debits and credits differ" not in page


def test_the_trial_balance_downloads_as_csv_and_xlsx(northwind, finance):
    response = finance.get(f"{BASE}/trial-balance/", {"as_of": "2027-03-31", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="trial-balance-3-2027-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["1000", "Bank", "asset", "12212.25", "0.00", "12212.25", ""]
    assert rows[-1] == ["", "Total", "", "", "", "14412.64", "14412.64"]
    xlsx = finance.get(f"{BASE}/trial-balance/", {"as_of": "2027-03-31", "format": "xlsx"})
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in ws[2]][:2] == ["1000", "Bank"]
    assert float(ws.cell(row=ws.max_row, column=6).value) == 14412.64
    assert finance.get(f"{BASE}/trial-balance/", {"format": "pdf"}).status_code == 422


def test_the_general_ledger_page_and_its_download(northwind, finance):
    bank = accounts.by_key(ENTITY, "bank").pk
    q = {"date_from": "2027-03-01", "date_to": "2027-04-30"}
    page = finance.get(f"{BASE}/accounts/{bank}/", q).content.decode()
    assert "7,467.25" in page and "16,311.61" in page
    rows = list(
        csv.reader(
            io.StringIO(finance.get(f"{BASE}/accounts/{bank}/", q | {"format": "csv"}).content.decode())
        )
    )
    assert rows[1][:3] == ["2027-03-01", "", "Opening balance"] and rows[1][6] == "7467.25"
    assert rows[-1][6] == "16311.61"
    assert finance.get(f"{BASE}/accounts/999999/").status_code == 404


def test_the_journal_page_filters_and_escapes_what_people_typed(northwind, finance):
    services.post(
        EntryDraft(
            ENTITY, date(2027, 5, 2), "<script>alert(1)</script>", SourceRef("ledger", "manual", "X1"),
            (DraftLine.dr("bank_fees", Money("1.00", "EUR")), DraftLine.cr("bank", Money("1.00", "EUR"))),
        )
    )  # fmt: skip
    page = finance.get(f"{BASE}/journal/", {"source_app": "ledger"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "1 entry" in page
    march = finance.get(f"{BASE}/journal/", {"period": "2027-03"}).content.decode()
    assert "JE-2027-000005" in march and "JE-2027-000010" not in march
    assert finance.get(f"{BASE}/journal/", {"period": "2027-3"}).status_code == 422
    csv_text = finance.get(f"{BASE}/journal/", {"source_app": "ledger", "format": "csv"}).content.decode()
    assert "'<script>" not in csv_text and "<script>alert(1)</script>" in csv_text


def test_an_entry_page_reverses_it_once(northwind, finance):
    entry = JournalEntry.objects.get(source_type="payment", source_id="3")
    page = finance.get(f"{BASE}/entries/{entry.pk}/").content.decode()
    assert "Post reversal" in page and entry.number in page
    response = finance.post(f"{BASE}/entries/{entry.pk}/reverse/", {"on": "2027-05-02"})
    reversal = JournalEntry.objects.get(reverses=entry)
    assert response["Location"] == f"{BASE}/entries/{reversal.pk}/"
    again = finance.post(f"{BASE}/entries/{entry.pk}/reverse/", {})
    assert again.status_code == 409 and b"already reversed" in again.content
    assert "Post reversal" not in finance.get(f"{BASE}/entries/{entry.pk}/").content.decode()


def test_a_viewer_reads_but_sees_no_writing_forms(northwind, make_user):
    viewer = Client()
    viewer.force_login(make_user("viewer"))
    entry = JournalEntry.objects.first()
    assert "Post reversal" not in viewer.get(f"{BASE}/entries/{entry.pk}/").content.decode()
    assert "Add an account" not in viewer.get(f"{BASE}/accounts/").content.decode()
    assert viewer.post(f"{BASE}/entries/{entry.pk}/reverse/").status_code == 403
    assert not JournalEntry.objects.filter(reverses=entry).exists()


def test_adding_an_account_from_the_chart_page(northwind, finance):
    response = finance.post(f"{BASE}/accounts/", {"code": "6500", "name": "Marketing", "type": "expense"})
    assert response.status_code == 302
    assert Account.objects.get(entity_id=ENTITY, code="6500").name == "Marketing"
    bad = finance.post(f"{BASE}/accounts/", {"code": "1000", "name": "Another bank", "type": "asset"})
    assert bad.status_code == 409 and b"already has an account with code 1000" in bad.content
    assert Account.objects.filter(entity_id=ENTITY, code="1000").count() == 1


def test_closing_and_reopening_periods_from_the_periods_page(northwind, finance, make_user):
    assert finance.post(f"{BASE}/periods/2027-04/close/").status_code == 302
    assert Period.objects.get(entity_id=ENTITY, start=date(2027, 4, 1)).status == "closed"
    page = finance.get(f"{BASE}/periods/").content.decode()
    assert "Close 2027-03" in page and "Reopen 2027-04" not in page  # finance cannot reopen
    assert finance.post(f"{BASE}/periods/2027-04/reopen/", {"reason": "x"}).status_code == 403
    admin = Client()
    admin.force_login(make_user("admin"))
    assert "Reopen 2027-04" in admin.get(f"{BASE}/periods/").content.decode()
    assert admin.post(f"{BASE}/periods/2027-04/reopen/", {"reason": ""}).status_code == 422
    assert admin.post(f"{BASE}/periods/2027-04/reopen/", {"reason": "late invoice"}).status_code == 302
    assert Period.objects.get(entity_id=ENTITY, start=date(2027, 4, 1)).status == "open"


def test_pages_of_an_entity_without_a_book_are_not_found(finance):
    assert finance.get("/ledger/42/trial-balance/").status_code == 404


def test_the_admin_shows_entries_read_only(northwind):
    from django.contrib.auth.models import User

    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password=None))
    entry = JournalEntry.objects.first()
    assert admin.get("/admin/ledger/journalentry/").status_code == 200
    page = admin.get(f"/admin/ledger/journalentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="description"' not in page.content
    assert admin.get("/admin/ledger/journalentry/add/").status_code == 403
