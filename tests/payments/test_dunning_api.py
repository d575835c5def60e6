"""The dunning API and pages with bearer tokens and sessions: policies, the worklist ranked by
amount × age (figures worked by hand below), promises to pay and notes, a run for a date, the log,
and problem+json answers naming the field for bad input; pages escape what customers and
collectors typed.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from q2c.invoicing import services as invoicing
from q2c.payments.dunning import services
from q2c.payments.dunning.models import CollectionNote, DunningPolicy, PromiseToPay
from q2c.platform.auth import ApiToken
from tests.billing.world import FABRIKAM, at, customer, seller, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


_users = itertools.count()


def client(role: str) -> Client:
    _, raw = ApiToken.issue(user(role, f"dunning_{role}_{next(_users)}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def problem(answer: Any) -> tuple[int, str, str]:
    """Status, code and the field the problem+json answer names."""
    body = answer.json()
    return answer.status_code, body["code"], body["errors"][0]["field"]


def send(c: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(c, method)(url, json.dumps(body), content_type="application/json")


def issue_on(sim, account, day: date, net: str) -> Any:
    sim.set(day)
    draft = invoicing.create_draft(
        account_id=account.pk,
        lines=[{"description": "Platform seats", "quantity": D(1), "unit_price": D(net), "tax_category": "service",
                "revenue_category": "services"}],
    )  # fmt: skip
    return invoicing.issue(draft.pk, actor="finance", formats=[])


@pytest.fixture
def world():
    sim = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    fabrikam = customer(acme, FABRIKAM)
    # Northwind: 1,275.00 + 19 % = 1,517.25, due 2027-03-31.
    issue_on(sim, northwind, date(2027, 3, 1), "1275.00")
    # Fabrikam (FR, reverse charge, 0 % VAT): 3,000.00, due 2027-05-20.
    issue_on(sim, fabrikam, date(2027, 4, 20), "3000.00")
    sim.set(date(2027, 5, 30))
    return sim, acme, northwind, fabrikam


POLICY = {
    "segment": "default",
    "name": "Standard",
    "interest_rate": "0.1127",
    "steps": [
        {"key": "reminder", "offset_days": 7, "action": "reminder"},
        {"key": "second", "offset_days": 21, "action": "second_reminder", "fee": "5.00", "currency": "EUR"},
    ],
}


def test_finance_sets_a_policy_and_everyone_with_a_role_reads_it(world):
    _, acme, _, _ = world
    saved = send(client("finance"), "put", "/api/v1/dunning/policies", {**POLICY, "entity_id": acme.pk})
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert (body["segment"], body["interest_rate"], [s["key"] for s in body["steps"]]) == (
        "default", "0.1127", ["reminder", "second"],
    )  # fmt: skip
    assert body["steps"][1]["fee"] == {"amount": "5.00", "currency": "EUR"}
    listed = client("viewer").get(f"/api/v1/dunning/policies?entity_id={acme.pk}")
    assert [p["name"] for p in listed.json()] == ["Standard"]
    denied = send(client("viewer"), "put", "/api/v1/dunning/policies", {**POLICY, "entity_id": acme.pk})
    assert denied.status_code == 403


def test_a_policy_with_overlapping_steps_is_a_422_naming_the_steps(world):
    _, acme, _, _ = world
    steps = [
        {"key": "a", "offset_days": 7, "action": "reminder"},
        {"key": "b", "offset_days": 7, "action": "final_notice"},
    ]
    answer = send(
        client("finance"), "put", "/api/v1/dunning/policies", {**POLICY, "entity_id": acme.pk, "steps": steps}
    )
    assert answer["Content-Type"].startswith("application/problem+json")
    assert problem(answer) == (422, "dunning.overlapping_steps", "steps")
    assert not DunningPolicy.objects.exists()


def test_the_worklist_ranks_overdue_accounts_by_amount_times_age(world):
    _, _, northwind, fabrikam = world
    viewer = client("viewer")
    # On 2027-05-30: Northwind 1,517.25 × 60 days = 91,035.00; Fabrikam 3,000.00 × 10 days = 30,000.00.
    rows = viewer.get("/api/v1/dunning/worklist?on=2027-05-30").json()
    assert [(r["account_name"], r["overdue"]["amount"], r["days_overdue"], r["score"]) for r in rows] == [
        ("Northwind Handels GmbH", "1517.25", 60, "91035.00"),
        ("Fabrikam SARL", "3000.00", 10, "30000.00"),
    ]
    by_amount = viewer.get("/api/v1/dunning/worklist?on=2027-05-30&order=amount").json()
    assert [r["account_id"] for r in by_amount] == [fabrikam.pk, northwind.pk]
    # On 2027-05-20 Fabrikam's invoice is due, not yet overdue.
    assert [r["account_id"] for r in viewer.get("/api/v1/dunning/worklist?on=2027-05-20").json()] == [
        northwind.pk
    ]
    bad = viewer.get("/api/v1/dunning/worklist?order=loudest")
    assert problem(bad)[0::2] == (422, "order")


def test_finance_records_a_promise_to_pay_and_a_note(world):
    _, _, northwind, _ = world
    finance = client("finance")
    made = send(finance, "post", "/api/v1/dunning/promises", {
        "account_id": northwind.pk, "promised_date": "2027-06-10", "amount": "1517.25",
        "notes": "AP confirmed", "next_action": "check the bank on 06-11",
    })  # fmt: skip
    assert made.status_code == 201, made.content
    assert (made.json()["status"], made.json()["amount"]) == (
        "open",
        {"amount": "1517.25", "currency": "EUR"},
    )
    row = client("viewer").get("/api/v1/dunning/worklist?on=2027-05-30").json()[0]
    assert (row["promise_date"], row["next_action"], row["next_action_on"]) == (
        "2027-06-10", "check the bank on 06-11", "2027-06-10",
    )  # fmt: skip
    note = send(finance, "post", f"/api/v1/dunning/accounts/{northwind.pk}/notes",
                {"text": "Called <b>Jane</b>", "next_action": "call again", "next_action_on": "2027-06-01"})  # fmt: skip
    assert note.status_code == 201, note.content
    assert [n["text"] for n in finance.get(f"/api/v1/dunning/accounts/{northwind.pk}/notes").json()] == [
        "Called <b>Jane</b>", "AP confirmed",
    ]  # fmt: skip
    closed = send(
        finance, "post", f"/api/v1/dunning/promises/{made.json()['id']}/close", {"status": "cancelled"}
    )
    assert closed.json()["status"] == "cancelled"
    again = send(
        finance, "post", f"/api/v1/dunning/promises/{made.json()['id']}/close", {"status": "cancelled"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "dunning.promise_closed")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"promised_date": "2027-05-29", "amount": "10.00"}, "dunning.promise_date_past", "promised_date"),
        ({"promised_date": "2027-06-10", "amount": "0"}, "dunning.invalid_promise", "amount"),
        ({"promised_date": "2027-06-10", "amount": "1e20"}, "dunning.invalid_promise", "amount"),
        (
            {"promised_date": "2027-06-10", "amount": "10.00", "currency": "USD"},
            "dunning.invalid_promise",
            "currency",
        ),
        (
            {"promised_date": "2027-06-10", "amount": "10.00", "invoice_ids": [987654]},
            "dunning.invalid_promise",
            "invoice_ids",
        ),
    ],
)
def test_a_bad_promise_is_a_422_naming_the_field_and_writes_nothing(world, body, code, field):
    _, _, northwind, _ = world
    answer = send(client("finance"), "post", "/api/v1/dunning/promises", {"account_id": northwind.pk, **body})
    assert problem(answer) == (422, code, field), answer.content
    assert not PromiseToPay.objects.exists() and not CollectionNote.objects.exists()


def test_a_run_for_a_date_logs_reminders_and_a_future_date_is_refused(world):
    _, acme, northwind, _ = world
    finance = client("finance")
    send(finance, "put", "/api/v1/dunning/policies", {**POLICY, "entity_id": acme.pk})
    future = send(finance, "post", "/api/v1/dunning/runs", {"business_date": "2027-05-31"})
    assert problem(future) == (422, "dunning.invalid_date", "business_date")
    ran = send(finance, "post", "/api/v1/dunning/runs", {"business_date": "2027-05-30"})
    assert ran.status_code == 200, ran.content
    # Northwind 60 days overdue: the second reminder (+21) is sent, the first logged as skipped;
    # Fabrikam 10 days: the first reminder (+7).
    assert ran.json()["result"]["actions"] == 2 and ran.json()["result"]["skipped"] == 1
    log = client("viewer").get(f"/api/v1/dunning/entries?account_id={northwind.pk}").json()["items"]
    assert sorted((e["step_key"], e["status"], e["fee"]["amount"]) for e in log) == [
        ("reminder", "skipped", "0.00"), ("second", "done", "5.00"),
    ]  # fmt: skip
    assert (
        send(client("viewer"), "post", "/api/v1/dunning/runs", {"business_date": "2027-05-30"}).status_code
        == 403
    )


def test_the_pages_rank_accounts_and_escape_what_people_typed(world, client):
    _, acme, northwind, _ = world
    services.save_policy(acme.pk, "default", name="Standard", steps=POLICY["steps"])
    services.add_note(northwind.pk, text="<script>alert(1)</script>", next_action="<i>call</i>")
    client.force_login(user("viewer", "page_viewer"))
    page = client.get("/dunning/?on=2027-05-30")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Northwind Handels GmbH") < html.index("Fabrikam SARL")
    assert "&lt;i&gt;call&lt;/i&gt;" in html and "<i>call</i>" not in html
    account = client.get(f"/dunning/accounts/{northwind.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in account and "<script>alert(1)" not in account
    assert "Record promise" not in account  # viewers read only
    assert client.post(f"/dunning/accounts/{northwind.pk}/notes/", {"text": "x"}).status_code == 403


def test_finance_records_a_promise_on_the_page_and_a_past_date_shows_the_error(world, client):
    _, _, northwind, _ = world
    client.force_login(user("finance", "page_finance"))
    bad = client.post(
        f"/dunning/accounts/{northwind.pk}/promises/", {"promised_date": "2027-05-01", "amount": "10"}
    )
    assert bad.status_code == 422 and "in the past" in bad.content.decode()
    ok = client.post(
        f"/dunning/accounts/{northwind.pk}/promises/", {"promised_date": "2027-06-15", "amount": "1517.25"}
    )
    assert ok.status_code == 302
    assert PromiseToPay.objects.get().promised_date == date(2027, 6, 15)


def test_a_fee_on_a_disputed_invoice_is_a_409_and_a_bad_retry_rule_a_422(world):
    _, acme, northwind, _ = world
    from q2c.invoicing.models import Invoice
    from q2c.payments import services as payments

    finance = client("finance")
    send(finance, "put", "/api/v1/dunning/policies", {**POLICY, "entity_id": acme.pk})
    invoice = Invoice.objects.get(account=northwind)
    payments.open_dispute(invoice_id=invoice.pk, reason="wrong seat count")
    fee = send(finance, "post", f"/api/v1/dunning/invoices/{invoice.pk}/fee", {"fee": "5.00"})
    assert problem(fee) == (409, "dunning.invoice_disputed", "invoice_id")
    rule = {"entity_id": acme.pk, "method": "card", "reason": "insufficient_funds", "action": "retry"}
    bad = send(finance, "put", "/api/v1/dunning/retry-rules", {**rule, "retry_days": [7, 3]})
    assert problem(bad) == (422, "dunning.invalid_retry_rule", "retry_days")
    good = send(finance, "put", "/api/v1/dunning/retry-rules", {**rule, "retry_days": [2, 6]})
    assert (good.status_code, good.json()["retry_days"]) == (200, [2, 6])
    listed = client("viewer").get(f"/api/v1/dunning/retry-rules?entity_id={acme.pk}").json()
    assert [(r["reason"], r["retry_days"]) for r in listed] == [("insufficient_funds", [2, 6])]
