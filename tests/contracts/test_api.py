"""The contracts API at /api/v1/contracts/: reading contracts, versions, redlines and events;
amending, cancelling, negotiating and signing; problem+json for bad input with nothing written."""

from __future__ import annotations

import json
from datetime import date

import pytest

from q2c.contracts import services
from q2c.contracts.models import Amendment, Contract, ContractVersion
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db

BASE = "/api/v1/contracts"


def post(client, path, body, **extra):
    return client.post(f"{BASE}{path}", data=json.dumps(body), content_type="application/json", **extra)


def assert_problem(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])]
    return body


def test_a_viewer_reads_the_contract_with_its_lines_and_renewal_status(contract, api_as):
    body = api_as("viewer").get(f"{BASE}/contracts/{contract.pk}").json()
    assert (body["number"], body["status"], body["start_date"], body["end_date"]) == (
        "CON-2027-000001",
        "active",
        "2027-02-01",
        "2028-02-01",
    )
    assert (body["mrr"], body["value"]) == (
        {"amount": "1275.00", "currency": "EUR"},
        {"amount": "24300.00", "currency": "EUR"},
    )
    assert [(x["sku"], x["quantity"], x["net_unit_price"]) for x in body["lines"]] == [
        ("SEAT", "50", "25.50"),
        ("ONB", "1", "5000.00"),
        ("EDGE", "2", "2000.00"),
        ("API", "0", None),
    ]
    assert body["renewal"]["state"] == "expires"
    assert body["renewal"]["notice_deadline"] == "2028-01-02"
    listed = api_as("viewer").get(f"{BASE}/contracts?status=active").json()
    assert [c["number"] for c in listed["items"]] == ["CON-2027-000001"]


def test_an_amendment_through_the_api_answers_201_with_its_delta_lines(world, contract, api_as, on_day):
    on_day(date(2027, 3, 15))
    rita = api_as(None, user=world["rita"])
    response = post(
        rita,
        f"/contracts/{contract.pk}/amendments",
        {
            "lock_version": contract.lock_version,
            "kind": "add_quantity",
            "effective_date": "2027-03-15",
            "sku": "SEAT",
            "quantity": "10",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/contracts/{contract.pk}/amendments/1")
    assert (body["status"], body["sale_context"], body["version"], body["delta_value"]["amount"]) == (
        "applied",
        "add_on",
        2,
        "2689.84",
    )
    (line,) = body["delta_lines"]
    assert (line["key"], line["quantity"], line["service_start"], line["service_end"]) == (
        "A1.1",
        "10",
        "2027-03-15",
        "2028-02-01",
    )
    # The earlier version is still readable as it was.
    v1 = rita.get(f"{BASE}/contracts/{contract.pk}/versions/1").json()
    assert [x["key"] for x in v1["lines"]] == ["1", "2", "3", "4"]
    versions = rita.get(f"{BASE}/contracts/{contract.pk}/versions").json()
    assert [(v["number"], v["kind"], v["amendment_number"]) for v in versions] == [
        (1, "original", None),
        (2, "amendment", 1),
    ]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"effective_date": "2027-01-15"}, 422, "contracts.effective_before_start", "effective_date"),
        ({"effective_date": "2028-03-01"}, 422, "contracts.effective_after_end", "effective_date"),
        ({"quantity": "-3"}, 422, "contracts.invalid_quantity", "quantity"),
        ({"kind": "remove_quantity", "quantity": "60"}, 422, "contracts.below_zero", "quantity"),
        ({"lock_version": 99}, 409, "contracts.stale", "lock_version"),
        ({"effective_date": "not a date"}, 422, "validation", "effective_date"),
    ],
)
def test_bad_amendments_answer_problem_json_and_write_nothing(
    world, contract, api_as, on_day, body, status, code, field
):
    on_day(date(2027, 3, 15))
    request = {
        "lock_version": contract.lock_version,
        "kind": "add_quantity",
        "effective_date": "2027-03-15",
        "sku": "SEAT",
        "quantity": "10",
        **body,
    }
    events = Event.objects.count()
    response = post(api_as(None, user=world["rita"]), f"/contracts/{contract.pk}/amendments", request)
    assert_problem(response, status, code, field)
    assert (
        Amendment.objects.count() == 0
        and ContractVersion.objects.count() == 1
        and Event.objects.count() == events
    )


def test_cancelling_inside_the_notice_period_needs_a_managers_override(world, api_as, on_day):
    on_day(date(2027, 1, 20))
    contract = builders.active_contract(
        world["entity"], world["account"], non_cancellable=False, owner_id=world["rita"].pk
    )
    on_day(date(2027, 6, 20))
    body = {
        "lock_version": contract.lock_version,
        "effective_date": "2027-07-01",
        "reason": "moving to a competitor",
    }
    assert_problem(
        post(api_as("finance"), f"/contracts/{contract.pk}/cancel", body),
        409,
        "contracts.notice_period",
        "effective_date",
    )
    assert_problem(
        post(api_as("finance"), f"/contracts/{contract.pk}/cancel", {**body, "override": True}),
        403,
        "contracts.override_role",
    )
    assert Contract.objects.get(pk=contract.pk).status == "active"
    response = post(
        api_as(None, user=world["max"]), f"/contracts/{contract.pk}/cancel", {**body, "override": True}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["kind"], Contract.objects.get(pk=contract.pk).status) == ("cancel", "cancelled")


def test_negotiation_redline_approval_and_signature_through_the_api(world, api_as, on_day):
    on_day(date(2027, 1, 20))
    draft = services.create_contract(
        builders.new_contract(world["entity"], world["account"], owner_id=world["rita"].pk), actor="test"
    )
    rita = api_as(None, user=world["rita"])
    response = post(
        rita,
        f"/contracts/{draft.pk}/versions",
        {
            "lock_version": draft.lock_version,
            "clauses": {"payment-terms": "Invoices are payable within 45 days."},
        },
    )
    assert response.status_code == 201, response.content
    assert (response.json()["number"], response.json()["approval"]) == (2, "pending")
    red = rita.get(f"{BASE}/contracts/{draft.pk}/redline?a=1&b=2").json()
    assert red["inserted_words"] >= 1 and "<ins>45</ins>" in red["html"]
    draft.refresh_from_db()
    assert_problem(
        post(rita, f"/contracts/{draft.pk}/send-for-signature", {"lock_version": draft.lock_version}),
        409,
        "contracts.needs_approval",
    )
    assert (
        post(
            api_as(None, user=world["max"]), f"/contracts/{draft.pk}/versions/2/decision", {"approve": True}
        ).status_code
        == 200
    )
    draft.refresh_from_db()
    sent = post(
        rita, f"/contracts/{draft.pk}/send-for-signature", {"lock_version": draft.lock_version}
    ).json()
    assert sent["status"] == "pending_signature" and sent["url"].startswith("/contracts/sign/")
    from django.test import Client

    signed = Client().post(
        f"{BASE}/signatures/{sent['token']}",
        data=json.dumps({"signer_name": "Nora North", "signer_title": "CFO", "agree": True}),
        content_type="application/json",
        HTTP_USER_AGENT="Firefox/130",
        REMOTE_ADDR="198.51.100.4",
    )
    assert signed.status_code == 200, signed.content
    assert (signed.json()["status"], signed.json()["document_sha256"]) == ("active", sent["document_sha256"])
    assert_problem(
        Client().post(
            f"{BASE}/signatures/{sent['token']}x",
            data=json.dumps({"signer_name": "X", "agree": True}),
            content_type="application/json",
        ),
        403,
        "links.tampered",
    )


def test_the_event_timeline_keeps_every_lifecycle_event(world, contract, api_as, on_day):
    on_day(date(2027, 3, 15))
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )
    types = [e["type"] for e in api_as("viewer").get(f"{BASE}/contracts/{contract.pk}/events").json()]
    assert types == [
        "contracts.contract.created",
        "contracts.contract.activated",
        "contracts.contract.amended",
    ]


def test_the_clause_library_lists_its_clauses_and_versions(world, api_as):
    manager = api_as(None, user=world["max"])
    response = post(
        manager,
        "/clauses",
        {"key": "sla", "title": "Service levels", "body": "Uptime of 99.9 % for {{ customer_name }}."},
    )
    assert response.status_code == 201, response.content
    assert response.json()["variables"] == ["customer_name"]
    keys = [c["key"] for c in manager.get(f"{BASE}/clauses").json()]
    assert "sla" in keys and keys[0] == "term-and-renewal"
    assert_problem(
        post(manager, "/clauses", {"key": "sla", "title": "x", "body": "{{ nope }}"}),
        422,
        "contracts.unknown_variable",
        "body",
    )
    assert [v["version"] for v in manager.get(f"{BASE}/clauses/sla/versions").json()] == [1]


def test_a_missing_contract_is_a_404(api_as, world):
    assert_problem(api_as("viewer").get(f"{BASE}/contracts/999999"), 404, "contracts.not_found")
