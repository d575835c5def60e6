"""Access is proven for every route against the documented matrix (docs/permissions.md).

The routes come from the URL resolver and the OpenAPI schema — so routes added later are tested
without anyone writing a test — and the expected roles come from the documentation, never from
the code's own declarations. For each route and method:

- without credentials: API → 401 problem+json; page → redirect to the login page;
- with each role the matrix does not list: API → 403 problem+json; page → 403;
- with each role it lists (and with admin, who passes every check): neither refused nor sent to
  log in (a 404 for the made-up ids used here is fine: the role check comes first);
- on a ``public`` route nobody is asked to sign in (401 or a login redirect); the route may still
  refuse what it is given — a signed link with a made-up token answers 403.

A route missing from the matrix, or a row naming a route that does not exist, fails the suite.
Pages answer 405 to a method the matrix does not list for them. The Django admin (the ``/admin/*``
row) is protected by Django's own staff check, which redirects a refused caller to the admin
login instead of answering 403; its routes are tried with every role on its index and with
nobody, a non-staff role and an admin everywhere else (the staff check is the same wrapper on
every admin route).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from . import routes
from .conftest import ANONYMOUS

pytestmark = pytest.mark.django_db

ADMIN_PREFIX = "/admin/"
ADMIN_LOGIN = "/admin/login/"


def _principals(route: routes.Route) -> list[str]:
    if route.route.startswith(ADMIN_PREFIX) and route.route != ADMIN_PREFIX:
        return [ANONYMOUS, "viewer", "admin"] if route.method == "GET" else [ANONYMOUS]
    return [ANONYMOUS, *routes.ROLES]


CASES = [
    pytest.param(route, principal, id=f"{route.id} as {principal}")
    for route in routes.all_routes()
    if routes.rule_for(route.method, route.route) is not None
    for principal in _principals(route)
]


def _call(client: Client, route: routes.Route) -> Any:
    if route.kind == "page":
        return getattr(client, route.method.lower())(route.path)
    path = route.path
    query = routes.query_params(route.operation)
    if query:
        path = f"{path}?{urlencode(query, doseq=True)}"
    body = routes.request_body(route.operation)
    if body is None:
        return client.generic(route.method, path)
    content_type, data = body
    if content_type == "application/json":
        return client.generic(route.method, path, data=json.dumps(data), content_type=content_type)
    return getattr(client, route.method.lower())(path, data=data)  # multipart form with files


def _allowed(rule: routes.Rule, principal: str) -> bool:
    if "public" in rule.roles:
        return True
    if principal == ANONYMOUS:
        return False
    return principal == "admin" or "any" in rule.roles or principal in rule.roles


def _to_login(response: Any, login: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(login)


@pytest.mark.parametrize(("route", "principal"), CASES)
def test_access_follows_the_matrix(caller, route: routes.Route, principal: str) -> None:
    rule = routes.rule_for(route.method, route.route)
    assert rule is not None
    client = caller(principal, api=route.kind == "api")
    response = _call(client, route)
    where = (
        f"{route.id} (docs/permissions.md:{rule.line}, roles: {', '.join(sorted(rule.roles))}) as {principal}"
    )
    in_admin = route.route.startswith(ADMIN_PREFIX) and rule.wildcard
    login = ADMIN_LOGIN if in_admin else f"{routes.login_url()}?next="

    if _allowed(rule, principal):
        # Inside the Django admin a ModelAdmin may switch an action off (no "add" for axes'
        # access log) with a 403 that has nothing to do with roles; the staff check shows as a
        # redirect to the admin login, tested below.
        # A public route may still refuse what it is given (a signed link with a bad signature
        # answers 403): what public means is that nobody is asked to sign in.
        refusals = (401,) if in_admin or "public" in rule.roles else (401, 403)
        assert response.status_code not in refusals, f"{where}: refused with {response.status_code}"
        assert not _to_login(response, login), f"{where}: sent to log in"
        assert response.status_code < 500, f"{where}: server error {response.status_code}"
        return
    if route.kind == "api":
        expected = 401 if principal == ANONYMOUS else 403
        if response.status_code == 422 and response.json().get("code") == "validation":
            pytest.fail(
                f"{where}: expected {expected}, but the body was refused before the role was checked: "
                f"{response.json().get('errors')}. Give the schema fields `examples` a valid body can be "
                "built from (and check that its component name is unique in the OpenAPI schema)."
            )
        assert response.status_code == expected, f"{where}: expected {expected}, got {response.status_code}"
        assert response["Content-Type"] == "application/problem+json", where
        assert response.json()["code"].startswith("auth."), where
    elif principal == ANONYMOUS or in_admin:
        assert _to_login(response, login), (
            f"{where}: expected a redirect to {login}, got {response.status_code}"
        )
    else:
        assert response.status_code == 403, f"{where}: expected 403, got {response.status_code}"


def test_every_route_and_method_is_in_the_matrix() -> None:
    missing = [
        f"| {r.method} | {r.route} | ? |"
        for r in routes.api_routes()
        if routes.rule_for(r.method, r.route) is None
    ]
    missing += [
        f"| GET | {route} | ? |  (and each other method it answers)"
        for route, _ in routes.resolver_routes()
        if not routes.listed_methods(route) and routes.rule_for("GET", route) is None
    ]
    assert not missing, "routes missing from docs/permissions.md:\n" + "\n".join(missing)


def test_every_row_of_the_matrix_names_a_route_that_exists() -> None:
    api = {(r.method, r.route) for r in routes.api_routes()}
    pages = {route for route, _ in routes.resolver_routes()}
    stale = [
        f"docs/permissions.md:{rule.line}: {rule.method} {rule.route}"
        for rule in routes.matrix()
        if not rule.wildcard and (rule.method, rule.route) not in api and rule.route not in pages
    ]
    assert not stale, "rows for routes that do not exist:\n" + "\n".join(stale)


def test_the_matrix_parser_reads_the_documented_format() -> None:
    rule = routes.rule_for("GET", "/healthz")
    assert rule is not None and rule.roles == frozenset({"public"}) and rule.section == "platform"
    assert routes.normalise("/ledger/<int:entity_id>/journal/") == routes.normalise(
        "/ledger/{entity_id}/journal/"
    )
    admin_rule = routes.rule_for("GET", "/admin/parties/account/")
    assert admin_rule is not None and admin_rule.wildcard and admin_rule.roles == frozenset({"admin"})
    assert routes.rule_for("GET", "/admin/login/").roles == frozenset({"public"})  # exact beats wildcard


PAGE_METHOD_CASES = [
    pytest.param(route, method, id=f"{method} {route}")
    for route, _ in routes.resolver_routes()
    if routes.listed_methods(route) and "ANY" not in routes.listed_methods(route)
    for method in ("GET", "POST")
    if method not in routes.listed_methods(route)
]


@pytest.mark.parametrize(("route", "method"), PAGE_METHOD_CASES)
def test_pages_refuse_methods_the_matrix_does_not_list(caller, route: str, method: str) -> None:
    path = dict(routes.resolver_routes())[route]
    client = caller("admin", api=False)
    response = getattr(client, method.lower())(path)
    assert response.status_code == 405, (
        f"{method} {route} answered {response.status_code}; list it or refuse it (require_http_methods)"
    )
