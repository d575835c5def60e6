"""The ledger API: reports as JSON with amounts as decimal strings, manual entries, reversals and
period locks; bad input answers problem+json with the ledger's codes and posts nothing."""

import json
from datetime import date

import pytest
from django.test import Client

from q2c.core import clock
from q2c.ledger import accounts, services
from q2c.ledger.models import JournalEntry
from q2c.platform.models import Event
from tests.ledger.northwind import post_northwind

pytestmark = pytest.mark.django_db
ENTITY = 3
BASE = f"/api/v1/ledger/{ENTITY}"


@pytest.fixture
def northwind(db):
    post_northwind(ENTITY)
    clock.install(clock.SimulationClock(date(2027, 5, 2)))


@pytest.fixture
def finance(make_user):
    client = Client()
    client.force_login(make_user("finance"))
    return client


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def entry_body(**changes):
    body = {
        "date": "2027-05-02",
        "description": "Petty cash count",
        "reference": "V-2027-001",
        "lines": [{"account": "bank_fees", "debit": "12.50"}, {"account": "bank", "credit": "12.50"}],
    }
    body.update(changes)
    return body


def test_the_trial_balance_is_served_with_amounts_as_decimal_strings(northwind, finance):
    data = finance.get(f"{BASE}/trial-balance", {"as_of": "2027-03-31"}).json()
    assert data["total_debit"] == data["total_credit"] == {"amount": "14412.64", "currency": "EUR"}
    bank = next(r for r in data["rows"] if r["key"] == "bank")
    assert (bank["debit_balance"], bank["credit_balance"]) == (
        {"amount": "12212.25", "currency": "EUR"},
        None,
    )


def test_the_general_ledger_of_an_account_runs_a_balance(northwind, finance):
    bank = accounts.by_key(ENTITY, "bank").pk
    data = finance.get(
        f"{BASE}/accounts/{bank}/ledger", {"date_from": "2027-03-01", "date_to": "2027-04-30"}
    ).json()
    assert data["opening"]["amount"] == "7467.25"
    assert [ln["balance"]["amount"] for ln in data["lines"]] == ["12212.25", "13729.50", "16311.61"]
    assert data["closing"]["amount"] == "16311.61"


def test_the_journal_filters_by_source_period_and_account_and_pages(northwind, finance):
    data = finance.get(f"{BASE}/entries", {"source_app": "payments", "page_size": 2}).json()
    assert (data["total"], data["pages"], len(data["items"])) == (4, 2, 2)
    assert data["items"][0]["source"] == {"app": "payments", "type": "payment", "id": "1"}
    march = finance.get(f"{BASE}/entries", {"period": "2027-03"}).json()
    assert [e["number"] for e in march["items"]] == [f"JE-2027-0000{n:02d}" for n in range(5, 10)]
    fees = accounts.by_key(ENTITY, "bank_fees").pk
    assert [
        e["description"] for e in finance.get(f"{BASE}/entries", {"account_id": fees}).json()["items"]
    ] == ["Payment INV-2027-000002 (15.00 bank fee)"]
    assert finance.get(f"{BASE}/entries", {"period": "March"}).status_code == 422


def test_a_manual_entry_is_posted_and_shown(northwind, finance):
    response = post(finance, f"{BASE}/entries", entry_body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["number"], data["source"], data["total"]["amount"]) == (
        "JE-2027-000015",
        {"app": "ledger", "type": "manual", "id": "V-2027-001"},
        "12.50",
    )
    assert data["posted_by"] == "finance"
    assert finance.get(f"{BASE}/entries/{data['id']}").json()["lines"][0]["account_code"] == "6000"


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"lines": [{"account": "bank_fees", "debit": "12.50"}, {"account": "bank", "credit": "12.49"}]}, 422, "ledger.unbalanced"),
        ({"lines": [{"account": "nope", "debit": "1.00"}, {"account": "bank", "credit": "1.00"}]}, 422, "ledger.unknown_account"),
        ({"lines": [{"account": "bank_fees", "debit": "1.001"}, {"account": "bank", "credit": "1.001"}]}, 422, "ledger.too_many_decimals"),
        ({"lines": [{"account": "bank_fees", "debit": 1.5}, {"account": "bank", "credit": "1.50"}]}, 422, "validation"),
        ({"lines": [{"account": "bank_fees", "debit": "abc"}, {"account": "bank", "credit": "1.00"}]}, 422, "money.invalid_amount"),
        ({"lines": [{"account": "bank_fees", "debit": "1.00", "original_amount": "1.00", "original_currency": "EUR", "rate": "1"},
                    {"account": "bank", "credit": "1.00"}]}, 422, "ledger.invalid_line"),
        ({"date": "2027-03-15"}, 409, "ledger.period_closed"),
        ({"reference": ""}, 422, "validation"),
    ],
)  # fmt: skip
def test_bad_manual_entries_are_refused_with_the_ledgers_code_and_nothing_is_posted(
    northwind, finance, changes, status, code
):
    if code == "ledger.period_closed":
        services.close_period(ENTITY, "2027-03")
    before = JournalEntry.objects.count()
    response = post(finance, f"{BASE}/entries", entry_body(**changes))
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert JournalEntry.objects.count() == before


def test_the_same_manual_reference_twice_is_a_conflict(northwind, finance):
    assert post(finance, f"{BASE}/entries", entry_body()).status_code == 201
    again = post(finance, f"{BASE}/entries", entry_body())
    assert (again.status_code, again.json()["code"]) == (409, "ledger.already_posted")


def test_reversing_through_the_api_and_again_is_a_conflict(northwind, finance):
    entry = JournalEntry.objects.get(source_type="payment", source_id="1")
    first = post(finance, f"{BASE}/entries/{entry.pk}/reverse", {"on": "2027-05-02"})
    assert first.status_code == 201
    assert (first.json()["reverses_number"], first.json()["date"]) == (entry.number, "2027-05-02")
    second = post(finance, f"{BASE}/entries/{entry.pk}/reverse", {})
    assert (second.status_code, second.json()["code"]) == (409, "ledger.already_reversed")


def test_another_entitys_entry_is_not_found(northwind, finance):
    services.open_book(4, "EUR")
    entry = JournalEntry.objects.first()
    response = finance.get(f"/api/v1/ledger/4/entries/{entry.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "ledger.entry_not_found")
    assert finance.get("/api/v1/ledger/99/trial-balance").json()["code"] == "ledger.no_book"


def test_periods_close_and_only_an_admin_reopens_them_with_a_reason(northwind, finance, make_user):
    closed = finance.post(f"{BASE}/periods/2027-04/close")
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert post(finance, f"{BASE}/periods/2027-04/reopen", {"reason": "late"}).status_code == 403
    admin = Client()
    admin.force_login(make_user("admin", name="ada"))
    assert post(admin, f"{BASE}/periods/2027-04/reopen", {}).status_code == 422
    reopened = post(admin, f"{BASE}/periods/2027-04/reopen", {"reason": "late supplier invoice"})
    assert (reopened.status_code, reopened.json()["status"], reopened.json()["reopen_count"]) == (
        200,
        "open",
        1,
    )
    assert Event.objects.filter(type="ledger.period_reopened", actor="ada").count() == 1
    assert [p["key"] for p in finance.get(f"{BASE}/periods").json()] == ["2027-04", "2027-03", "2027-02"]


def test_an_account_added_through_the_api_is_in_the_chart(northwind, finance):
    response = post(finance, f"{BASE}/accounts", {"code": "6500", "name": "Marketing", "type": "expense"})
    assert (response.status_code, response.json()["normal_side"]) == (201, "debit")
    dup = post(finance, f"{BASE}/accounts", {"code": "6500", "name": "Again", "type": "expense"})
    assert (dup.status_code, dup.json()["code"]) == (409, "ledger.duplicate_account")
    assert "6500" in [a["code"] for a in finance.get(f"{BASE}/accounts").json()]


def test_an_admin_opens_a_book(make_user):
    admin = Client()
    admin.force_login(make_user("admin"))
    response = post(admin, "/api/v1/ledger/books", {"entity_id": 12, "currency": "CHF", "name": "Acme AG"})
    assert (response.status_code, response.json()["currency"]) == (201, "CHF")
    again = post(admin, "/api/v1/ledger/books", {"entity_id": 12, "currency": "EUR"})
    assert (again.status_code, again.json()["code"]) == (409, "ledger.book_exists")
