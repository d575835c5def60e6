"""The ledger's section of docs/permissions.md is the access matrix: every ledger route (URL
resolver and OpenAPI) is listed, and each is refused to the anonymous (401 / login redirect) and
to every role not listed (403), and admitted for the roles listed."""

import json
import re
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from q2c.core import clock
from q2c.ledger import accounts, services
from q2c.platform.roles import Role
from tests.ledger.conftest import ENTITY, sale

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLES = [r.value for r in Role]


def matrix() -> list[tuple[str, str, frozenset[str]]]:
    text = DOC.read_text()
    section = text.split("## ledger", 1)[1].split("\n## ", 1)[0]
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
    return {r for r in found if r.startswith("/ledger/")}


def api_routes() -> set[tuple[str, str]]:
    from q2c.api import api

    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith("/api/v1/ledger/")
        for method in ops
    }


def test_every_ledger_route_is_in_the_matrix_and_every_row_is_a_route():
    rows = matrix()
    documented_pages = {route for _, route, _ in rows if not route.startswith("/api/")}
    documented_api = {(method, route) for method, route, _ in rows if route.startswith("/api/")}
    assert documented_pages == page_routes()
    assert documented_api == api_routes()


PAGE_FORMS = {
    "/ledger/<int:entity_id>/accounts/": {"code": "6500", "name": "Marketing", "type": "expense"},
    "/ledger/<int:entity_id>/periods/<str:period>/reopen/": {"reason": "late invoice"},
}
API_BODIES = {
    "/api/v1/ledger/books": {"entity_id": 2, "currency": "USD"},
    "/api/v1/ledger/{entity_id}/accounts": {"code": "6500", "name": "Marketing", "type": "expense"},
    "/api/v1/ledger/{entity_id}/entries": {
        "date": "2027-04-01",
        "description": "Cash count difference",
        "reference": "V-1",
        "lines": [{"account": "bank", "debit": "1.00"}, {"account": "bank_fees", "credit": "1.00"}],
    },
    "/api/v1/ledger/{entity_id}/entries/{entry_id}/reverse": {},
    "/api/v1/ledger/{entity_id}/periods/{period}/reopen": {"reason": "late invoice"},
}


@pytest.fixture
def world(db, make_user):
    services.open_book(ENTITY, "EUR")
    entry = services.post(sale("10.00", day=date(2027, 3, 10)))
    clock.install(clock.SimulationClock(date(2027, 4, 1)))
    services.close_period(ENTITY, "2027-03")
    users = {role: make_user(role) for role in ROLES}
    return {"entry": entry, "account": accounts.by_key(ENTITY, "bank").pk, "users": users}


def concrete(route: str, world: dict) -> str:
    # Closing acts on an open month (February); reopening on the closed one (March).
    period = "2027-03" if route.endswith("reopen/") or route.endswith("reopen") else "2027-02"
    values = {
        "entity_id": ENTITY,
        "account_id": world["account"],
        "entry_id": world["entry"].pk,
        "period": period,
    }
    out = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), route)
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), out)


def call(client: Client, method: str, route: str, world: dict):
    url = concrete(route, world)
    if route.startswith("/api/"):
        if method == "GET":
            return client.get(url)
        return client.post(url, data=json.dumps(API_BODIES.get(route, {})), content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.post(url, data=PAGE_FORMS.get(route, {}))


CASES = [(m, r, allowed, who) for m, r, allowed in matrix() for who in ["anonymous", *ROLES]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "route", "allowed", "who"), CASES, ids=[f"{c[0]} {c[1]} as {c[3]}" for c in CASES]
)
def test_access_follows_the_matrix(world, method, route, allowed, who):
    client = Client()
    if who != "anonymous":
        client.force_login(world["users"][who])
    response = call(client, method, route, world)
    if who == "anonymous":
        if route.startswith("/api/"):
            assert response.status_code == 401
        else:
            assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif who in allowed or who == Role.ADMIN:
        assert response.status_code not in (401, 403), response.content[:300]
        assert response.status_code < 400, response.content[:300]
    else:
        assert response.status_code == 403
