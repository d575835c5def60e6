"""The catalog's section of docs/permissions.md lists exactly the catalog's routes (pages and API),
and a sample of them refuses the anonymous and the wrong roles. The whole matrix — every route
with every role — is checked by tests/access."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
PREFIXES = ("/catalog/", "/api/v1/catalog/", "/api/v1/pricing/")


def matrix() -> set[tuple[str, str]]:
    section = DOC.read_text().split("\n## catalog", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        m = re.match(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (\S+) \| ([^|]+) \|$", line.strip())
        if m:
            rows.add((m[1], m[2]))
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
    return {r for r in found if r.startswith("/catalog/")}


def api_routes() -> set[tuple[str, str]]:
    from q2c.api import api

    paths = api.get_openapi_schema()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() if p.startswith(PREFIXES) for m in ops}


def test_the_catalog_section_lists_every_catalog_route_and_nothing_else():
    rows = matrix()
    assert {r for _, r in rows if not r.startswith("/api/")} == page_routes()
    assert {(m, r) for m, r in rows if r.startswith("/api/")} == api_routes()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/catalog/products"),
        ("post", "/api/v1/pricing/preview"),
        ("get", "/api/v1/catalog/export/products"),
    ],
)
def test_the_api_refuses_the_anonymous(client, method, url):
    response = getattr(client, method)(url, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.django_db
def test_pages_send_the_anonymous_to_the_login_page(client):
    response = client.get("/catalog/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_a_viewer_reads_but_does_not_price_or_import(api_as):
    viewer = api_as("viewer", "v")
    assert viewer.get("/api/v1/catalog/products").status_code == 200
    assert viewer.post("/api/v1/pricing/preview", data={}, content_type="application/json").status_code == 403
    assert viewer.post("/api/v1/catalog/import", data={}).status_code == 403
