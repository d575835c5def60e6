"""Northwind buys from Acme Cloud — steps 1 and 2 of /work/shared/scenarios/northwind.md.

Through the public services (set-up: parties, catalog), the quotes API (the story) and the
business clock only; every expected value is a literal from the scenario file:

1. 2027-01-10 Rita creates the opportunity and quote Q-2027-000001: 50 SEAT at 15 % discount
   (net 25.50 per seat per month), 1 ONB, 2 EDGE, API usage; start 2027-02-01, 12 months.
   One-time 9,000.00; recurring 1,275.00/month (MRR 1,275.00, ARR 15,300.00); TCV excluding
   usage 24,300.00; list TCV 27,000.00 → discount 10.00 % of list. The 15 % line discount
   exceeds Rita's 10 % → approval required.
2. 2027-01-11 Max approves. 2027-01-12 sent. 2027-01-20 Northwind accepts via the public link
   (the contract that follows, C-1 [2027-02-01, 2028-02-01), is the contracts app's story).

Setting used: approval rules evaluate each line's discount against the owner's role limit
(q2c's default rule; Rita is a sales_rep, whose limit is 10 %).
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from q2c.catalog import services as catalog
from q2c.core import clock
from q2c.parties import services as parties
from q2c.platform.auth import ApiToken

pytestmark = pytest.mark.django_db
API = "/api/v1/quotes"


def person(name: str, role: str) -> Client:
    user = get_user_model().objects.create_user(name, email=f"{name}@acme.example")
    user.groups.add(Group.objects.get(name=role))
    _, raw = ApiToken.issue(user, "scenario")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    client.user = user  # type: ignore[attr-defined]
    return client


def call(client: Client, method: str, path: str, body: dict | None = None):
    response = client.generic(
        method, API + path, data=json.dumps(body or {}), content_type="application/json"
    )
    assert response.status_code < 300, response.content
    return response.json()


def set_up_acme() -> int:
    parties.create_entity(
        actor="setup",
        name="Acme Cloud GmbH",
        city="Berlin",
        country="DE",
        time_zone="Europe/Berlin",
        base_currency="EUR",
        tax_id="DE136457858",
        sepa_creditor_id="DE98ZZZ09999999999",
        payment_terms_days=30,
    )
    account = parties.create_account(
        actor="setup",
        name="Northwind Handels GmbH",
        billing_city="Hamburg",
        country="DE",
        currency="EUR",
        tax_id="DE812651301",
        kind="business",
    )
    parties.create_contact(
        account.pk, actor="setup", name="Nora North", email="nora@northwind.example", is_primary=True
    )
    catalog.clear_cache()
    catalog.create_price_book({"code": "EUR-LIST", "name": "List EUR", "currency": "EUR"})
    for sku, name, kind, unit, charge, price in (
        (
            "SEAT",
            "Platform seat",
            "subscription",
            "seat",
            {"code": "SUB", "kind": "recurring", "billing_period": "month"},
            "30.00",
        ),
        ("ONB", "Onboarding", "service", "each", {"code": "FEE", "kind": "one_time"}, "5000.00"),
        ("EDGE", "Edge appliance", "good", "each", {"code": "UNIT", "kind": "one_time"}, "2000.00"),
    ):
        catalog.create_product({"sku": sku, "name": name, "type": kind, "unit": unit})
        catalog.create_charge({"sku": sku, **charge})
        catalog.create_price_entry(
            {
                "price_book": "EUR-LIST",
                "sku": sku,
                "charge": charge["code"],
                "model": "per_unit",
                "price": price,
            }
        )
    catalog.create_product({"sku": "API", "name": "API calls", "type": "usage", "unit": "call"})
    catalog.create_charge(
        {
            "sku": "API",
            "code": "CALLS",
            "kind": "usage",
            "billing_period": "month",
            "timing": "in_arrears",
            "usage_metric": "api_calls",
            "usage_aggregation": "sum",
        }
    )
    catalog.create_price_entry(
        {
            "price_book": "EUR-LIST",
            "sku": "API",
            "charge": "CALLS",
            "model": "tiered",
            "tiers": [
                {"lower": "0", "upper": "100000", "unit_price": "0.00"},
                {"lower": "100000", "upper": "1000000", "unit_price": "0.002"},
                {"lower": "1000000", "unit_price": "0.001"},
            ],
        }
    )
    return account.pk


def test_northwind_steps_1_and_2_quote_approval_sending_and_acceptance(
    django_capture_on_commit_callbacks, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    business = clock.SimulationClock(date(2027, 1, 10), default_tz="Europe/Berlin")
    clock.install(business)
    account_id = set_up_acme()
    rita = person("rita", "sales_rep")
    max_ = person("max", "sales_manager")
    admin = person("root", "admin")
    call(admin, "POST", "/teams", {"name": "DACH", "manager_id": max_.user.pk, "member_ids": [rita.user.pk]})

    # 1. 2027-01-10 — Rita creates the opportunity and quote Q-2027-000001.
    opp = call(rita, "POST", "/opportunities", {"account_id": account_id, "name": "Northwind platform"})
    quote = call(
        rita,
        "POST",
        "/quotes",
        {
            "opportunity_id": opp["id"],
            "start_date": "2027-02-01",
            "term_months": 12,
            "lines": [
                {"sku": "SEAT", "quantity": 50, "discount": {"percent": "15"}},
                {"sku": "ONB", "quantity": 1},
                {"sku": "EDGE", "quantity": 2},
                {"sku": "API"},
            ],
        },
    )
    assert quote["number"] == "Q-2027-000001"
    seat = next(line for line in quote["pricing"]["lines"] if line["sku"] == "SEAT")
    assert seat["net_unit_price"] == "25.50"
    totals = quote["totals"]
    assert totals["one_time"] == "9000.00"
    assert quote["pricing"]["totals"]["recurring"] == {"month": "1275.00"}
    assert (totals["mrr"], totals["arr"]) == ("1275.00", "15300.00")
    assert totals["tcv"] == "24300.00"
    assert totals["list_tcv"] == "27000.00"
    assert totals["discount_percent"] == "10.00"
    assert quote["approval_required"] is True
    submitted = call(rita, "POST", f"/quotes/{quote['id']}/submit", {"lock_version": quote["lock_version"]})
    assert submitted["status"] == "in_review"

    # 2. 2027-01-11 — Max approves.
    business.set(date(2027, 1, 11))
    (step,) = call(max_, "GET", "/approvals/inbox")
    assert step["reasons"][0]["message"] == "SEAT: discount 15 % is above the owner's limit of 10 %"
    call(
        max_,
        "POST",
        f"/approvals/steps/{step['id']}/decision",
        {"decision": "approve", "comment": "approved"},
    )
    approved = call(rita, "GET", f"/quotes/{quote['id']}")
    assert approved["status"] == "approved"

    # 2027-01-12 — sent; Northwind receives a link by e-mail.
    business.set(date(2027, 1, 12))
    with django_capture_on_commit_callbacks(execute=True):
        sent = call(rita, "POST", f"/quotes/{quote['id']}/send", {"lock_version": approved["lock_version"]})
    (email,) = [m for m in mail.outbox if m.to == ["nora@northwind.example"]]
    link = re.search(r"http://testserver/quotes/accept/(\S+)/", email.body)
    assert link is not None
    token = link.group(1)

    # 2027-01-20 — Northwind accepts via the public link (no login).
    business.set(date(2027, 1, 20))
    customer = Client()
    shown = customer.get(f"{API}/public/{token}").json()
    assert shown["document"]["totals"]["tcv"] == "€24,300.00"
    assert shown["document_sha256"] == sent["sha256"]
    decision = customer.post(
        f"{API}/public/{token}/accept",
        data=json.dumps({"signer_name": "Nora North", "signer_title": "Managing Director", "agree": True}),
        content_type="application/json",
    )
    assert decision.status_code == 200, decision.content
    assert decision.json()["decided_at"].startswith("2027-01-20")
    assert decision.json()["document_sha256"] == sent["sha256"]

    accepted = call(rita, "GET", f"/quotes/{quote['id']}")
    assert accepted["status"] == "accepted"
    won = call(rita, "GET", f"/opportunities/{opp['id']}")
    assert (won["stage"], won["closed_on"]) == ("closed_won", "2027-01-20")
    events = call(rita, "GET", f"/quotes/{quote['id']}/events")
    moments = {e["type"]: e["occurred_at"][:10] for e in events}
    assert moments["quotes.quote.created"] == "2027-01-10"
    assert moments["quotes.quote.approved"] == "2027-01-11"
    assert moments["quotes.quote.sent"] == "2027-01-12"
    assert moments["quotes.quote.accepted"] == "2027-01-20"
    payload = next(e["payload"] for e in events if e["type"] == "quotes.quote.accepted")
    assert (payload["start_date"], payload["end_date"]) == ("2027-02-01", "2028-02-01")
