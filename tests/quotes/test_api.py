"""The quotes API end to end (bearer tokens, as a client would call it) and its refusals.

Figures are Northwind's (/work/shared/scenarios/northwind.md, steps 1–2).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from q2c.platform.auth import ApiToken
from q2c.quotes.models import Acceptance, Quote
from tests.quotes import builders

pytestmark = pytest.mark.django_db
BASE = "/api/v1/quotes"


def client_for(user: Any) -> Client:
    _, raw = ApiToken.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def post(client: Client, path: str, body: Any, **headers: Any):
    return client.post(BASE + path, data=json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Client, path: str, body: Any):
    return client.patch(BASE + path, data=json.dumps(body), content_type="application/json")


LINES = [
    {"key": "L1", "sku": "SEAT", "quantity": 50, "discount": {"percent": "15"}},
    {"key": "L2", "sku": "ONB", "quantity": 1},
    {"key": "L3", "sku": "EDGE", "quantity": 2},
    {"key": "L4", "sku": "API"},
]


@pytest.fixture
def rita(world):
    return client_for(world["rita"])


@pytest.fixture
def max_(world):
    return client_for(world["max"])


def create_quote(rita: Client, world: Any) -> dict[str, Any]:
    opp = post(rita, "/opportunities", {"account_id": world["account"].pk, "name": "Northwind platform"})
    assert opp.status_code == 201, opp.content
    created = post(
        rita,
        "/quotes",
        {"opportunity_id": opp.json()["id"], "start_date": "2027-02-01", "term_months": 12, "lines": LINES},
    )
    assert created.status_code == 201, created.content
    return created.json()


def test_the_whole_flow_runs_through_the_api(world, rita, max_):
    quote = create_quote(rita, world)
    assert quote["number"] == "Q-2027-000001"
    assert quote["totals"] == {
        "currency": "EUR",
        "one_time": "9000.00",
        "mrr": "1275.00",
        "arr": "15300.00",
        "tcv": "24300.00",
        "list_tcv": "27000.00",
        "discount": "2700.00",
        "discount_percent": "10.00",
        "margin_percent": None,
    }
    assert quote["approval_required"] is True

    submitted = post(rita, f"/quotes/{quote['id']}/submit", {"lock_version": quote["lock_version"]})
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"

    inbox = max_.get(f"{BASE}/approvals/inbox").json()
    assert [s["quote_label"] for s in inbox] == ["Q-2027-000001 v1"]
    decided = post(
        max_, f"/approvals/steps/{inbox[0]['id']}/decision", {"decision": "approve", "comment": "ok"}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"

    approved = rita.get(f"{BASE}/quotes/{quote['id']}").json()
    assert approved["status"] == "approved"
    sent = post(rita, f"/quotes/{quote['id']}/send", {"lock_version": approved["lock_version"]})
    assert sent.status_code == 200, sent.content
    url = sent.json()["acceptance_url"]
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert url == f"http://testserver/quotes/accept/{token}/"

    anonymous = Client()
    public = anonymous.get(f"{BASE}/public/{token}")
    assert public.status_code == 200
    assert public.json()["open_for_decision"] is True
    assert public.json()["document_sha256"] == sent.json()["sha256"]
    pdf = anonymous.get(f"{BASE}/public/{token}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    accepted = anonymous.post(
        f"{BASE}/public/{token}/accept",
        data=json.dumps({"signer_name": "Nora North", "signer_title": "CEO", "agree": True}),
        content_type="application/json",
        HTTP_USER_AGENT="Firefox/128",
        REMOTE_ADDR="198.51.100.4",
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["outcome"] == "accepted"
    evidence = Acceptance.objects.get()
    assert (evidence.ip_address, evidence.user_agent) == ("198.51.100.4", "Firefox/128")

    replay = anonymous.post(
        f"{BASE}/public/{token}/accept",
        data=json.dumps({"signer_name": "Mallory", "signer_title": "CEO", "agree": True}),
        content_type="application/json",
    )
    assert replay.status_code == 409
    assert replay.json()["code"] == "quotes.already_decided"
    assert rita.get(f"{BASE}/opportunities/{quote['opportunity_id']}").json()["stage"] == "closed_won"
    events = [e["type"] for e in rita.get(f"{BASE}/quotes/{quote['id']}/events").json()]
    assert events[0] == "quotes.quote.created" and events[-1] == "quotes.quote.accepted"
    assert "quotes.approval.requested" in events and "quotes.quote.sent" in events


def test_a_tampered_public_link_answers_404_problem_json(world):
    response = Client().post(
        f"{BASE}/public/bad:token/accept",
        data=json.dumps({"signer_name": "A", "signer_title": "B", "agree": True}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "links.tampered"


def test_without_credentials_the_api_answers_401(db):
    assert Client().get(f"{BASE}/quotes").status_code == 401
    assert Client().post(f"{BASE}/quotes", data="{}", content_type="application/json").status_code == 401


def test_a_second_save_with_the_old_lock_version_answers_409(world, rita, max_):
    quote = create_quote(rita, world)
    first = patch(rita, f"/quotes/{quote['id']}", {"lock_version": quote["lock_version"], "title": "A"})
    assert first.status_code == 200
    second = patch(max_, f"/quotes/{quote['id']}", {"lock_version": quote["lock_version"], "title": "B"})
    assert second.status_code == 409
    assert second.json()["code"] == "quotes.stale"
    assert Quote.objects.get(pk=quote["id"]).title == "A"


def test_floats_are_refused_where_numbers_are_expected(world, rita):
    quote = create_quote(rita, world)
    response = patch(
        rita,
        f"/quotes/{quote['id']}",
        {"lock_version": quote["lock_version"], "lines": [{"sku": "SEAT", "quantity": 1.5}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("lines.0.quantity")


def test_line_errors_name_the_line_and_field(world, rita):
    quote = create_quote(rita, world)
    response = post(
        rita, f"/quotes/{quote['id']}/preview", {"lines": [{"key": "X", "sku": "SEAT", "quantity": "0"}]}
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["line"], error["field"], error["code"]) == (
        "X",
        "lines[0].quantity",
        "pricing.quantity_not_positive",
    )


def test_the_preview_prices_without_saving_and_shows_the_approval_reasons(world, rita):
    quote = create_quote(rita, world)
    response = post(rita, f"/quotes/{quote['id']}/preview", {"term_months": 24, "lines": LINES[:1]})
    body = response.json()
    assert body["pricing"]["totals"]["tcv"] == "30600.00"  # 1,275.00 × 24
    assert body["approval"]["required"] is True
    assert body["approval"]["steps"] == [
        {"sequence": 1, "role": "sales_manager", "user_id": None, "mode": "any"}
    ]
    assert Quote.objects.get(pk=quote["id"]).term_months == 12


def test_submitting_with_configuration_errors_answers_422_listing_them(world, rita):
    from q2c.catalog import services as catalog

    catalog.create_rule(
        {"code": "R1", "name": "EDGE needs ONB", "kind": "requires", "source": "EDGE", "target": "ONB"}
    )
    quote = create_quote(rita, world)
    patch(
        rita,
        f"/quotes/{quote['id']}",
        {"lock_version": 1, "lines": [{"key": "E", "sku": "EDGE", "quantity": 1}]},
    )
    response = post(rita, f"/quotes/{quote['id']}/submit", {})
    assert response.status_code == 422
    assert response.json()["code"] == "quotes.configuration_errors"
    assert response.json()["errors"][0]["lines"] == ["E"]


def test_approving_ones_own_quote_answers_403(world):
    manager = builders.user("mona", "sales_manager")
    api = client_for(manager)
    opp = post(api, "/opportunities", {"account_id": world["account"].pk, "name": "Mona's"}).json()
    # 30 % is above even a manager's own limit (25 %): the quote needs approval.
    quote = post(
        api,
        "/quotes",
        {
            "opportunity_id": opp["id"],
            "lines": [{"sku": "SEAT", "quantity": 5, "discount": {"percent": "30"}}],
        },
    ).json()
    post(api, f"/quotes/{quote['id']}/submit", {})
    step_id = api.get(f"{BASE}/quotes/{quote['id']}/approvals").json()[0]["steps"][0]["id"]
    response = post(api, f"/approvals/steps/{step_id}/decision", {"decision": "approve"})
    assert response.status_code == 403
    assert response.json()["code"] == "quotes.own_quote"


@pytest.mark.parametrize(
    ("role", "method", "path_of", "status"),
    [
        ("finance", "get", lambda q: f"/quotes/{q['id']}", 200),
        ("viewer", "get", lambda q: f"/quotes/{q['id']}", 200),
        ("finance", "patch", lambda q: f"/quotes/{q['id']}", 403),
        ("viewer", "post", lambda q: f"/quotes/{q['id']}/submit", 403),
        ("sales_rep", "get", lambda q: f"/quotes/{q['id']}", 404),
        ("sales_rep", "patch", lambda q: f"/quotes/{q['id']}", 404),
        ("sales_manager", "get", lambda q: f"/quotes/{q['id']}", 404),
        ("sales_rep", "get", lambda q: "/approvals/inbox", 403),
        ("sales_manager", "post", lambda q: "/approval-rules", 403),
    ],
)
def test_who_may_do_what(world, rita, role, method, path_of, status):
    quote = create_quote(rita, world)
    api = client_for(builders.user(f"someone_{role}", role))
    body = {"lock_version": quote["lock_version"], "title": "x"}
    if path_of(quote) == "/approval-rules":
        body = {"name": "x", "kind": "nonstandard_terms", "steps": [{"role": "finance"}]}
    if method == "get":
        response = api.get(BASE + path_of(quote))
    elif method == "patch":
        response = patch(api, path_of(quote), body)
    else:
        response = post(api, path_of(quote), body)
    assert response.status_code == status, response.content


def test_a_rep_lists_only_their_own_quotes(world, rita):
    create_quote(rita, world)
    olga = client_for(builders.user("olga", "sales_rep"))
    assert olga.get(f"{BASE}/quotes").json()["total"] == 0
    assert rita.get(f"{BASE}/quotes").json()["total"] == 1


def test_a_retried_create_with_the_same_idempotency_key_makes_one_quote(world, rita):
    opp = post(rita, "/opportunities", {"account_id": world["account"].pk, "name": "x"}).json()
    body = {"opportunity_id": opp["id"], "lines": LINES[:1]}
    first = post(rita, "/quotes", body, **{"Idempotency-Key": "k-1"})
    again = post(rita, "/quotes", body, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert Quote.objects.count() == 1


def test_rules_and_teams_are_managed_by_admins(world):
    admin = client_for(builders.user("root", "admin"))
    created = post(
        admin,
        "/approval-rules",
        {
            "name": "Big deals",
            "kind": "deal_size_above",
            "threshold": "100000",
            "currency": "EUR",
            "steps": [{"sequence": 1, "role": "finance", "mode": "any"}],
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["steps"] == [{"sequence": 1, "role": "finance", "user_id": None, "mode": "any"}]
    bad = post(
        admin, "/approval-rules", {"name": "x", "kind": "margin_below", "steps": [{"role": "finance"}]}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "threshold"
    team = post(admin, "/teams", {"name": "Nordics", "manager_id": world["max"].pk, "member_ids": []})
    assert team.status_code == 201
    assert admin.delete(f"{BASE}/approval-rules/{created.json()['id']}").status_code == 204


def test_the_pipeline_board_and_stage_moves(world, rita):
    quote = create_quote(rita, world)
    moved = post(rita, f"/opportunities/{quote['opportunity_id']}/stage", {"stage": "negotiation"})
    assert moved.json()["probability"] == "75"
    board = {c["stage"]: c for c in rita.get(f"{BASE}/pipeline").json()}
    assert board["negotiation"]["totals"] == [{"amount": "24300.00", "currency": "EUR"}]
    assert board["negotiation"]["weighted"] == [{"amount": "18225.00", "currency": "EUR"}]  # 24,300 × 75 %
    history = rita.get(f"{BASE}/opportunities/{quote['opportunity_id']}/history").json()
    assert [h["to_stage"] for h in history] == ["prospecting", "negotiation"]
    lost = post(rita, f"/opportunities/{quote['opportunity_id']}/stage", {"stage": "closed_lost"})
    assert lost.status_code == 422 and lost.json()["code"] == "quotes.loss_reason_required"


def test_product_search_finds_by_sku_or_name(world, rita):
    found = rita.get(f"{BASE}/products", {"q": "seat", "currency": "EUR"}).json()
    assert [p["sku"] for p in found] == ["SEAT"]
    assert [p["sku"] for p in rita.get(f"{BASE}/products", {"q": "", "currency": "EUR"}).json()] == [
        "API",
        "EDGE",
        "ONB",
        "SEAT",
    ]
