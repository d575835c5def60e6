"""The usage API and pages: ingestion batches over HTTP (counts, re-sent events, per-event errors,
a body too large, malformed bodies, a batch with nothing valid), the usage explorer and the
month-end unbilled usage; the explorer page escapes what it shows. Amounts by hand from
Northwind's API tiers: 350,000 calls = 250,000 × 0.002 = 500.00.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from q2c.billing import usage
from q2c.billing.models import UsageEvent
from q2c.billing.run import bill_run
from q2c.platform.auth import ApiToken
from tests.billing.usage_world import at_berlin, catalog, event, usage_contract
from tests.billing.world import at, customer, seller, user

pytestmark = pytest.mark.django_db
URL = "/api/v1/billing/usage/events"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def client(role: str) -> Client:
    _, raw = ApiToken.issue(user(role, f"usage_{role}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def world():
    clk = at(date(2027, 4, 1))
    acme = seller()
    northwind = customer(acme, name="Northwind <script>alert(1)</script>")
    catalog()
    return clk, acme, northwind, usage_contract(acme, northwind)


def post(c: Client, body: Any) -> Any:
    return c.post(
        URL, body if isinstance(body, bytes | str) else json.dumps(body), content_type="application/json"
    )


def test_finance_sends_a_batch_and_a_resent_batch_is_stored_once(world):
    _, _, _, sub = world
    finance = client("finance")
    batch = {"events": [event(f"e{i}", sub.pk, "50000", at_berlin(date(2027, 3, 1 + i))) for i in range(7)]}
    first = post(finance, batch)
    assert first.status_code == 200, first.content
    assert first.json() == {"received": 7, "accepted": 7, "duplicates": 0, "rejected": 0, "errors": []}
    again = post(finance, batch)
    assert (again.status_code, again.json()["accepted"], again.json()["duplicates"]) == (200, 0, 7)
    assert UsageEvent.objects.count() == 7


def test_bad_events_come_back_with_their_index_and_the_good_ones_are_kept(world):
    _, _, _, sub = world
    body = post(client("finance"), {"events": [
        event("good", sub.pk, 1, at_berlin(date(2027, 3, 3))),
        event("bad", sub.pk, "-3", at_berlin(date(2027, 3, 3))),
    ]}).json()  # fmt: skip
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"] == [
        {"index": 1, "id": "bad", "code": "usage.negative_quantity", "field": "quantity",
         "detail": "quantity must not be negative"}
    ]  # fmt: skip


def test_a_batch_with_nothing_valid_is_refused_and_nothing_is_written(world):
    _, _, _, sub = world
    r = post(client("finance"), {"events": [event("x", sub.pk, 1.5, at_berlin(date(2027, 3, 3)))]})
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "usage.invalid_quantity"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("events[0].quantity", "usage.invalid_quantity")
    ]
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{not json", "usage.malformed_batch"), ({"events": "x"}, "usage.malformed_batch"),
     ({"events": []}, "usage.empty_batch")],
)  # fmt: skip
def test_malformed_bodies_are_refused_with_problem_json(world, body, code):
    r = post(client("finance"), body)
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_a_body_over_the_limit_is_refused_with_413_before_anything_is_read(world):
    r = post(client("finance"), b'{"events": ["' + b"x" * usage.MAX_BODY_BYTES + b'"]}')
    assert r.status_code == 413


def test_a_viewer_may_not_send_usage(world):
    _, _, _, sub = world
    assert (
        post(client("viewer"), {"events": [event("v", sub.pk, 1, at_berlin(date(2027, 3, 3)))]}).status_code
        == 403
    )
    assert not UsageEvent.objects.exists()


def test_the_explorer_and_the_unbilled_usage_show_march(world):
    clk, _, _, sub = world
    finance = client("finance")
    post(finance, {"events": [event("m", sub.pk, 350_000, at_berlin(date(2027, 3, 9)))]})
    unbilled = finance.get("/api/v1/billing/usage/unbilled?as_of=2027-03-31").json()
    assert [(r["period_start"], r["quantity"], r["amount"], r["currency"]) for r in unbilled] == [
        ("2027-03-01", "350000", "500.00", "EUR")
    ]
    bill_run(date(2027, 4, 1), actor="test")
    clk.set(date(2027, 4, 2))
    post(finance, {"events": [event("late", sub.pk, 10_000, at_berlin(date(2027, 3, 30)))]})
    body = client("viewer").get(f"/api/v1/billing/usage/subscriptions/{sub.pk}").json()
    (march,) = body["months"]
    assert (march["events"], march["unrated_events"], march["rated"], march["billed"]) == (
        2,
        1,
        "520.00",
        "500.00",
    )
    assert [(ln["kind"], ln["amount"], ln["invoice_number"]) for ln in march["lines"]] == [
        ("usage", "500.00", "INV-2027-000001")
    ]
    page = Client()
    page.force_login(user("viewer", "usage_page_viewer"))
    html = page.get(f"/billing/usage/{sub.pk}/").content.decode()
    assert "INV-2027-000001" in html and "520.00" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    listing = page.get(f"/billing/usage/?account={sub.account_id}").content.decode()
    assert f"/billing/usage/{sub.pk}/" in listing and "<script>alert" not in listing
    assert page.get("/billing/usage/999999/").status_code == 404
