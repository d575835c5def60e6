"""The payments API end to end with bearer tokens: a payment recorded and applied, a refund, a
dispute lost, a write-off waiting for approval, receivables and aging; problem+json for bad
input with nothing written; a viewer reads but cannot write.

Northwind's invoice: 1,900.00 + 19 % VAT = 2,261.00, issued 2027-03-01, due 2027-03-31.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from q2c.payments.models import Payment
from q2c.platform.auth import ApiToken
from tests.payments.world import at, customer, invoice, seller, user

pytestmark = pytest.mark.django_db


def client(role: str, name: str | None = None) -> Client:
    _, raw = ApiToken.issue(user(role, name or f"pay_{role}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def post(c: Client, url: str, body: dict[str, Any]) -> Any:
    return c.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def world():
    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    return clk, acme, northwind, invoice(northwind)


def test_finance_records_applies_and_refunds_a_payment(world):
    _clk, _acme, northwind, inv = world
    finance = client("finance")
    made = post(finance, "/api/v1/payments/payments", {
        "account_id": northwind.pk, "amount": "2300.00", "currency": "EUR", "reference": "INV-2027-000001",
        "allocations": [{"invoice_id": inv.pk}],
    })  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["number"], body["applied"], body["unapplied"]) == ("PAY-2027-000001", "2261.00", "39.00")
    assert [(a["invoice_number"], a["amount"]) for a in body["applications"]] == [("INV-2027-000001", "2261.00")]
    credit = finance.get(f"/api/v1/payments/accounts/{northwind.pk}/credit").json()
    assert credit["credit"] == {"EUR": "39.00"}
    refunded = post(finance, f"/api/v1/payments/payments/{body['id']}/refunds", {"amount": "39.00", "method": "transfer"})
    assert refunded.status_code == 201, refunded.content
    assert finance.get(f"/api/v1/payments/payments/{body['id']}").json()["unapplied"] == "0.00"


def test_receivables_and_aging_show_the_open_invoice_in_its_bucket(world):
    clk, _acme, northwind, _inv = world
    clk.set(date(2027, 5, 15))  # 45 days after the due date 2027-03-31
    viewer = client("viewer")
    items = viewer.get(f"/api/v1/payments/receivables?account_id={northwind.pk}").json()
    assert [(i["number"], i["open"], i["days_overdue"], i["bucket"]) for i in items] == [
        ("INV-2027-000001", "2261.00", 45, "31-60")
    ]
    aging = viewer.get("/api/v1/payments/aging").json()
    assert aging == [{"account_id": northwind.pk, "account_name": "Northwind Handels GmbH", "currency": "EUR",
                      "buckets": {"current": "0", "1-30": "0", "31-60": "2261.00", "61-90": "0", "90+": "0", "total": "2261.00"}}]  # fmt: skip


def test_a_write_off_above_the_limit_needs_another_finance_user(world):
    _, _, _, inv = world
    anna, ben = client("finance", "anna"), client("finance", "ben")
    asked = post(anna, "/api/v1/payments/write-offs", {"invoice_id": inv.pk, "reason": "insolvent"})
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    wid = asked.json()["id"]
    same = post(anna, f"/api/v1/payments/write-offs/{wid}/approve", {})
    assert same.status_code == 403 and same.json()["code"] == "payments.same_approver"
    ok = post(ben, f"/api/v1/payments/write-offs/{wid}/approve", {})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"amount": "-1.00"}, 422, "amount"),
        ({"amount": "1.001"}, 422, "amount"),
        ({"amount": "99999999999999999999999"}, 422, "amount"),
        ({"amount": 1.5}, 422, None),
        ({"currency": "XXQ"}, 422, None),
        ({"method": "<script>"}, 422, "method"),
        ({"allocations": [{"invoice_id": 999999}]}, 404, None),
        ({"allocations": [{"invoice_id": "x"}]}, 422, None),
    ],
)
def test_bad_payments_are_refused_with_problem_json_and_nothing_is_written(world, body, status, field):
    _, _, northwind, _ = world
    answer = post(client("finance"), "/api/v1/payments/payments", {
        "account_id": northwind.pk, "amount": "10.00", "currency": "EUR", **body,
    })  # fmt: skip
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"].startswith("application/problem+json")
    if field:
        assert field in json.dumps(answer.json())
    assert not Payment.objects.exists()


def test_over_applying_through_the_api_is_a_conflict(world):
    _, _, northwind, inv = world
    finance = client("finance")
    pid = post(finance, "/api/v1/payments/payments", {"account_id": northwind.pk, "amount": "3000.00", "currency": "EUR"}).json()["id"]
    answer = post(finance, f"/api/v1/payments/payments/{pid}/applications", {"allocations": [{"invoice_id": inv.pk, "amount": "2261.01"}]})
    assert answer.status_code == 409 and answer.json()["code"] == "payments.over_applied"


def test_a_viewer_cannot_record_payments(world):
    _, _, northwind, _ = world
    answer = post(client("viewer"), "/api/v1/payments/payments", {"account_id": northwind.pk, "amount": "1.00", "currency": "EUR"})
    assert answer.status_code == 403


def test_the_webhook_endpoint_checks_the_signature_and_answers_replays_harmlessly(world):
    from q2c.payments import services

    clk, _acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    clk.set(date(2027, 3, 3))
    body, sig = services.sandbox_event(charge, "charge.settled", status="settled")
    anonymous = Client()
    bad = anonymous.post("/api/v1/payments/webhooks/sandbox", body, content_type="application/json", headers={"Q2C-Signature": "t=1,v1=00"})
    assert bad.status_code == 422 and bad.json()["code"] == "payments.invalid_signature"
    ok = anonymous.post("/api/v1/payments/webhooks/sandbox", body, content_type="application/json", headers={"Q2C-Signature": sig})
    assert (ok.status_code, ok.json()) == (200, {"outcome": "applied"})
    again = anonymous.post("/api/v1/payments/webhooks/sandbox", body, content_type="application/json", headers={"Q2C-Signature": sig})
    assert again.json() == {"outcome": "duplicate"}


def test_finance_pays_an_invoice_by_card_with_3d_secure(world):
    _, _, northwind, inv = world
    finance = client("finance")
    made = post(finance, "/api/v1/payments/card/charges", {"account_id": northwind.pk, "invoice_ids": [inv.pk], "card_number": "4000000000003220"})
    assert made.status_code == 201 and made.json()["status"] == "requires_action"
    done = post(finance, f"/api/v1/payments/card/charges/{made.json()['id']}/confirm", {"passed": True})
    assert (done.json()["status"], done.json()["amount"]) == ("captured", "2261.00")
    again = post(finance, "/api/v1/payments/card/charges", {"account_id": northwind.pk, "invoice_ids": [inv.pk], "card_number": "4242424242424242"})
    assert again.status_code == 409 and again.json()["code"] == "payments.already_paid"


def test_finance_records_a_mandate_collects_downloads_and_records_a_return(world):
    _clk, acme, northwind, _inv = world
    finance = client("finance")
    bad = post(finance, "/api/v1/payments/mandates", {"account_id": northwind.pk, "iban": "DE89370400440532013001",
                                                      "debtor_name": "Northwind", "signed_on": "2027-02-01"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "payments.invalid_iban"
    made = post(finance, "/api/v1/payments/mandates", {"account_id": northwind.pk, "iban": "DE89370400440532013000",
                                                       "debtor_name": "Northwind", "signed_on": "2027-02-01"})  # fmt: skip
    assert made.status_code == 201 and made.json()["bic"] == "COBADEFFXXX"
    coll = post(finance, "/api/v1/payments/collections", {"entity_id": acme.pk, "collection_date": "2027-03-31"})
    assert coll.status_code == 201 and coll.json()["total"] == "2261.00"
    xml = finance.get(f"/api/v1/payments/collections/{coll.json()['id']}/file")
    assert xml["Content-Type"] == "application/xml" and b"pain.008.001.08" in xml.content
    returned = post(finance, "/api/v1/payments/returns", {"end_to_end_id": "PAY-2027-000001", "reason_code": "MD01"})
    assert (returned.json()["status"], returned.json()["failure_code"]) == ("failed", "MD01")
