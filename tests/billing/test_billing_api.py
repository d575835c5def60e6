"""The invoicing and billing APIs end to end with bearer tokens: a draft issued and credited, the
invoice list with its totals and aging, rates, a bill run started and followed, schedules, and
problem+json answers for bad input. Plus the billing benchmark's self-check on a small run.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from q2c.billing import services as billing
from q2c.billing.bench import run as bench_run
from q2c.billing.services import ContractHead, LineIn
from q2c.platform.auth import ApiToken
from tests.billing.world import at, customer, seller, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def client(role: str) -> Client:
    _, raw = ApiToken.issue(user(role, f"api_{role}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def world():
    clk = at(date(2027, 3, 1))
    acme = seller()
    return clk, acme, customer(acme)


def post(c: Client, url: str, body: dict[str, Any]) -> Any:
    return c.post(url, json.dumps(body), content_type="application/json")


def test_finance_drafts_issues_lists_and_credits_an_invoice(world):
    _, _acme, northwind = world
    finance = client("finance")
    made = post(finance, "/api/v1/invoicing/invoices", {
        "account_id": northwind.pk,
        "lines": [{"description": "Consulting day", "quantity": "2", "unit_price": "950.00", "tax_category": "service"}],
    })  # fmt: skip
    assert made.status_code == 201, made.content
    invoice_id = made.json()["id"]
    issued = post(finance, f"/api/v1/invoicing/invoices/{invoice_id}/issue", {})
    assert issued.status_code == 200, issued.content
    body = issued.json()
    assert (body["number"], body["status"], body["total"], body["due_date"]) == (
        "INV-2027-000001",
        "issued",
        "2261.00",
        "2027-03-31",
    )
    assert body["lines"][0]["source_type"] == "manual" and {d["format"] for d in body["documents"]} == {
        "pdf",
        "ubl",
    }
    again = post(finance, f"/api/v1/invoicing/invoices/{invoice_id}/issue", {})
    assert again.status_code == 409 and again.json()["code"] == "invoice.invalid_transition"

    listed = finance.get("/api/v1/invoicing/invoices?status=open")
    assert [i["number"] for i in listed.json()["items"]] == ["INV-2027-000001"]
    totals = finance.get("/api/v1/invoicing/invoices/totals").json()
    assert totals["open"] == {"EUR": "2261.00"} and totals["aging"]["EUR"]["current"] == "2261.00"
    pdf = finance.get(f"/api/v1/invoicing/invoices/{invoice_id}/documents/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    line_id = body["lines"][0]["id"]
    credited = post(finance, f"/api/v1/invoicing/invoices/{invoice_id}/credit-notes",
                    {"reason_code": "pricing_error", "lines": [{"line_id": line_id, "amount": "100.00"}]})  # fmt: skip
    assert credited.status_code == 201, credited.content
    # 100.00 + 19 % = 119.00 off the open amount.
    assert (credited.json()["number"], credited.json()["total"], credited.json()["applied"]) == (
        "CN-2027-000001",
        "119.00",
        "119.00",
    )
    assert finance.get(f"/api/v1/invoicing/invoices/{invoice_id}").json()["open"] == "2142.00"


def test_readers_read_and_bad_input_answers_problem_json(world):
    _, _acme, northwind = world
    viewer = client("viewer")
    assert viewer.get("/api/v1/invoicing/invoices").status_code == 200
    refused = post(
        viewer,
        "/api/v1/invoicing/rates",
        {"base": "USD", "quote": "EUR", "day": "2027-03-01", "rate": "0.91"},
    )
    assert refused.status_code == 403
    finance = client("finance")
    bad_rate = post(
        finance, "/api/v1/invoicing/rates", {"base": "USD", "quote": "EUR", "day": "2027-03-01", "rate": "-1"}
    )
    assert bad_rate.status_code == 422 and bad_rate.json()["code"] == "invoicing.invalid_rate"
    bad_line = post(finance, "/api/v1/invoicing/invoices", {
        "account_id": northwind.pk, "lines": [{"description": "x", "unit_price": "1", "tax_category": "luxury"}]})  # fmt: skip
    assert bad_line.status_code == 422 and bad_line.json()["errors"][0]["field"] == "lines[0].tax_category"
    assert finance.get("/api/v1/invoicing/invoices/999999").status_code == 404


def test_a_bill_run_is_started_through_the_api_and_followed(world, django_capture_on_commit_callbacks):
    _clk, acme, northwind = world
    h = ContractHead(1, "CON-1", acme.pk, northwind.pk, "EUR", date(2027, 3, 1), date(2028, 3, 1))
    billing.create_schedules(h, [LineIn("1", "SEAT", "recurring", D(10), D("30.00"), date(2027, 3, 1), date(2028, 3, 1), period_months=1, tax_category="digital_service")])  # fmt: skip
    finance = client("finance")
    with django_capture_on_commit_callbacks(execute=True):  # the run goes to the worker after commit
        started = post(finance, "/api/v1/billing/runs", {"as_of": "2027-03-01"})
    assert started.status_code == 202, started.content
    (run,) = finance.get("/api/v1/billing/runs").json()["items"]
    assert (run["status"], run["invoices"], run["totals"]) == ("completed", 1, {"EUR": "357.00"})
    detail = finance.get(f"/api/v1/billing/runs/{run['id']}").json()
    assert detail["shards"][0]["invoices"] == 1
    schedule = finance.get("/api/v1/billing/schedules").json()["items"][0]
    items = finance.get(f"/api/v1/billing/schedules/{schedule['id']}").json()["items"]
    assert [(i["period_start"], i["period_end"], i["amount_minor"]) for i in items] == [
        ("2027-03-01", "2027-04-01", 30000)
    ]
    earlier = post(finance, "/api/v1/billing/runs", {"as_of": "2027-02-01"})
    assert earlier.status_code == 422 and earlier.json()["code"] == "billing.as_of_before_last_run"


def test_billing_settings_are_read_and_changed_through_the_api(world):
    _, acme, _ = world
    finance = client("finance")
    changed = finance.put(
        f"/api/v1/billing/settings/{acme.pk}",
        json.dumps({"amendment_style": "credit_and_charge"}),
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["amendment_style"] == "credit_and_charge"
    wrong = finance.put(
        f"/api/v1/billing/settings/{acme.pk}",
        json.dumps({"proration_timing": "later"}),
        content_type="application/json",
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "billing.invalid_settings"


def test_the_billing_benchmark_checks_its_own_run(db):
    at(date(2027, 2, 1))
    result = bench_run(subscriptions=60, workers=1, seed=3)
    assert result["checked"] == "ok"
    assert result["invoices"] >= 60 and result["subscriptions"] == 60
