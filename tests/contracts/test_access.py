"""The contracts section of docs/permissions.md is the access matrix: every contracts route (URL
resolver and OpenAPI) is listed, each is refused to the anonymous (401 / login redirect) and to
every role not listed (403), and admitted for the roles listed; ``public`` routes (the customer's
signing link) are open to all."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from q2c.catalog.models import Product
from q2c.contracts import services
from q2c.platform.roles import Role
from tests.contracts import builders

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLES = [r.value for r in Role]


def matrix() -> list[tuple[str, str, frozenset[str]]]:
    section = DOC.read_text().split("## contracts", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        m = re.match(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (\S+) \| ([^|]+) \|$", line.strip())
        if m:
            rows.append((m[1], m[2], frozenset(r.strip() for r in m[3].split(","))))
    return rows


def page_routes() -> set[str]:
    found = set()

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.add("/" + prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    return {r for r in found if r.startswith("/contracts/")}


def api_routes() -> set[tuple[str, str]]:
    from q2c.api import api

    paths = api.get_openapi_schema()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() if p.startswith("/api/v1/contracts/") for m in ops}


def test_every_contracts_route_is_in_the_matrix_and_every_row_is_a_route():
    rows = matrix()
    pages = {(m, r) for m, r, _ in rows if not r.startswith("/api/")}
    assert {r for _, r in pages} == page_routes()
    assert {(m, r) for m, r, _ in rows if r.startswith("/api/")} == api_routes()


def build_place(world: dict, on_day, route: str) -> dict:
    """Contracts in the states the route needs, on 2027-03-15 (the costly ones only when needed)."""
    on_day(date(2027, 1, 20))
    entity, account = world["entity"], world["account"]
    place: dict = {"world": world, "product": Product.objects.get(sku="SEAT").pk, "token": "none"}
    # The sales rep owns the contracts and is in the sales manager's team: both may read them
    # (tests/contracts/test_row_access.py covers the owner and team rule itself).
    place["users"] = users = {role: builders.user(f"who_{role}", role) for role in ROLES}
    from q2c.quotes import services as quotes

    quotes.save_team(
        name="Access", manager_id=users["sales_manager"].pk, member_ids=[users["sales_rep"].pk], actor="test"
    )
    owner = users["sales_rep"].pk
    place["active"] = builders.active_contract(entity, account, owner_id=owner)
    place["draft"] = services.create_contract(
        builders.new_contract(entity, account, owner_id=owner), actor="test"
    )
    if "decide" in route or "decision" in route:
        deviating = services.create_contract(
            builders.new_contract(entity, account, owner_id=owner), actor="test"
        )
        services.revise_document(
            deviating.pk,
            actor="rita",
            lock_version=deviating.lock_version,
            clause_texts={"payment-terms": "Net 45."},
        )
        place["deviating"] = deviating
    on_day(date(2027, 3, 15))
    active = place["active"]
    services.amend(
        active.pk,
        actor=world["rita"],
        lock_version=active.lock_version,
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )
    if "withdraw" in route or "rebase" in route:
        proposed = builders.active_contract(entity, account, owner_id=owner)
        services.amend(
            proposed.pk,
            actor=world["rita"],
            lock_version=proposed.lock_version,
            kind="change_price",
            effective_date="2027-04-01",
            line_key="1",
            unit_price="24.00",
        )
        place["proposed"] = proposed
    if "sign" in route:
        sent = services.create_contract(builders.new_contract(entity, account, owner_id=owner), actor="test")
        _, place["token"] = services.send_for_signature(sent.pk, actor="rita", lock_version=sent.lock_version)
        place["sent"] = sent
    for name in ("active", "proposed", "draft", "deviating", "sent"):
        if name in place:
            place[name].refresh_from_db()
    return place


def target(route: str) -> str:
    """Which contract a route acts on."""
    if "withdraw" in route or "rebase" in route:
        return "proposed"
    if (
        "negotiate" in route
        or "send" in route
        or (route.endswith("/versions") and not route.startswith("/contracts/"))
    ):
        return "draft"
    if "decide" in route or "decision" in route:
        return "deviating"
    return "active"


def concrete(method: str, route: str, place: dict) -> str:
    kind = target(route) if not (method == "GET" and route.endswith("/versions")) else "active"
    if method == "POST" and route.endswith("/versions"):
        kind = "draft"
    contract = place[kind]
    values = {
        "contract_id": contract.pk,
        "number": 2 if kind == "deviating" else 1,
        "token": place["token"],
        "key": "payment-terms",
        "entity_id": place["world"]["entity"].pk,
        "product_id": place["product"],
    }
    out = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), route)
    out = re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), out)
    return out + ("?a=1&b=2" if out.endswith("/redline") else "")


def api_body(route: str, place: dict) -> dict:
    world = place["world"]
    if route.endswith("/contracts/contracts"):
        return {
            "entity_id": world["entity"].pk,
            "account_id": world["account"].pk,
            "currency": "EUR",
            "start_date": "2027-04-01",
            "term_months": 12,
            "lines": [
                {
                    "sku": "SEAT",
                    "charge": "SUB",
                    "charge_kind": "recurring",
                    "quantity": "5",
                    "unit_price": "30.00",
                }
            ],
        }
    if route.endswith("/versions"):
        return {"lock_version": place["draft"].lock_version, "clauses": {"payment-terms": "Net 60."}}
    if route.endswith("/decision"):
        return {"approve": True}
    if route.endswith("/rebase"):
        return {"lock_version": place["proposed"].lock_version}
    if route.endswith("/send-for-signature"):
        return {"lock_version": place["draft"].lock_version}
    if "/signatures/" in route:
        return {"signer_name": "Nora North", "agree": True}
    if route.endswith("/amendments"):
        return {
            "lock_version": place["active"].lock_version,
            "kind": "add_quantity",
            "effective_date": "2027-03-15",
            "sku": "SEAT",
            "quantity": "1",
        }
    if route.endswith("/cancel"):
        return {
            "lock_version": place["active"].lock_version,
            "effective_date": "2028-02-01",
            "reason": "not renewing",
        }
    if route.endswith("/clauses"):
        return {"key": "sla", "title": "SLA", "body": "Uptime 99.9 %."}
    if "/settings/" in route:
        return {"notice_days": 45}
    if "/product-policies/" in route:
        return {"reduction": "at_renewal"}
    return {}


def page_form(route: str, place: dict) -> dict:
    if route.endswith("/rebase/"):
        return {"lock_version": place["proposed"].lock_version}
    if route.endswith("/amend/"):
        return {
            "lock_version": place["active"].lock_version,
            "kind": "add_quantity",
            "effective_date": "2027-03-15",
            "sku": "SEAT",
            "quantity": "1",
        }
    if route.endswith("/cancel/"):
        return {
            "lock_version": place["active"].lock_version,
            "effective_date": "2028-02-01",
            "reason": "not renewing",
        }
    if route.endswith("/negotiate/"):
        return {"lock_version": place["draft"].lock_version, "clause-payment-terms": "Net 60."}
    if route.endswith("/send/"):
        return {"lock_version": place["draft"].lock_version}
    if route.endswith("/decide/"):
        return {"decision": "approve"}
    if "/sign/" in route:
        return {"signer_name": "Nora North", "agree": "on"}
    if route.endswith("/clauses/"):
        return {"key": "sla", "title": "SLA", "body": "Uptime 99.9 %."}
    return {}


def call(client: Client, method: str, route: str, place: dict):
    url = concrete(method, route, place)
    if route.startswith("/api/"):
        if method == "GET":
            return client.get(url)
        body = json.dumps(api_body(route, place))
        return client.generic(method, url, data=body, content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.post(url, data=page_form(route, place))


ROUTES = matrix()


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "route", "allowed"), ROUTES, ids=[f"{m} {r}" for m, r, _ in ROUTES])
def test_access_follows_the_matrix(world, on_day, method, route, allowed):
    from django.db import transaction

    place = build_place(world, on_day, route)
    wrong = []
    for who in ["anonymous", *ROLES]:
        client = Client()
        if who != "anonymous":
            client.force_login(place["users"][who])
        # Each caller acts on the same state: what one call writes is rolled back before the next.
        with transaction.atomic():
            response = call(client, method, route, place)
            transaction.set_rollback(True)
        status = response.status_code
        if "public" in allowed or (who != "anonymous" and (who in allowed or who == Role.ADMIN)):
            ok = status < 400
        elif who == "anonymous":
            ok = (
                status == 401
                if route.startswith("/api/")
                else status == 302 and response["Location"].startswith("/login/")
            )
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{who}: {status} {response.content[:200]!r}")
    assert not wrong, "\n".join(wrong)
