"""Every route q2c serves, from the URL resolver (pages) and the OpenAPI schema (API), and the
permission matrix parsed from docs/permissions.md — the two sides the access tests compare.

Nothing here reads the code's own role declarations: routes come from the resolver and the
schema, expected roles from the documentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from q2c.platform.api import path_view_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLES = ("admin", "sales_rep", "sales_manager", "finance", "viewer")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_ROW = re.compile(r"^\|\s*([A-Z]+)\s*\|\s*(\S+)\s*\|\s*([^|]+?)\s*\|\s*$")


def normalise(route: str) -> str:
    """One spelling for a route: ``<int:account_id>`` and ``{account_id}`` are the same thing."""
    route = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", route.strip())
    return route if route.startswith("/") else "/" + route


@dataclass(frozen=True)
class Rule:
    method: str  # an HTTP method or ANY
    route: str  # normalised; ends in * for a prefix
    roles: frozenset[str]  # role names, or {"any"} / {"public"}
    section: str
    line: int

    @property
    def wildcard(self) -> bool:
        return self.route.endswith("*")

    def matches(self, method: str, route: str) -> bool:
        if self.method not in ("ANY", method):
            return False
        return route.startswith(self.route[:-1]) if self.wildcard else route == self.route


@lru_cache(maxsize=1)
def matrix() -> tuple[Rule, ...]:
    """The rows of every table in docs/permissions.md (``| method | route | roles |``)."""
    rules = []
    section = ""
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("## "):
            section = line[3:].strip()
        match = _ROW.match(line)
        if not match or match.group(1) == "method":
            continue
        method, route, roles = match.groups()
        names = frozenset(r.strip() for r in roles.split(",") if r.strip())
        unknown = names - set(ROLES) - {"any", "public"}
        if unknown:
            raise ValueError(f"docs/permissions.md:{number}: unknown role(s) {sorted(unknown)}")
        if method not in (*METHODS, "ANY"):
            raise ValueError(f"docs/permissions.md:{number}: unknown method {method}")
        rules.append(Rule(method, normalise(route.strip("`")), names, section, number))
    return tuple(rules)


def rule_for(method: str, route: str) -> Rule | None:
    """The row that governs ``method route``: an exact row wins over a wildcard."""
    exact = [r for r in matrix() if not r.wildcard and r.matches(method, route)]
    if exact:
        return exact[0]
    prefixes = sorted(
        (r for r in matrix() if r.wildcard and r.matches(method, route)), key=lambda r: -len(r.route)
    )
    return prefixes[0] if prefixes else None


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    kind: str  # "api" or "page"
    route: str  # normalised pattern
    method: str
    path: str  # a concrete path that resolves to the pattern
    operation: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


_SAMPLES = {
    "int": "999999",
    "str": "x",
    "slug": "x",
    "path": "999999",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _sample_route(route: str) -> str:
    def fill(m: re.Match[str]) -> str:
        converter = m.group(1) or "str"
        return _SAMPLES.get(converter, "x")

    return re.sub(r"<(?:([^:>]+):)?[^>]+>", fill, route)


def _sample_regex(regex: str) -> str:
    """A path matching a resolver regex such as the admin's ``^(?P<app_label>auth|parties)/$``."""

    def group(m: re.Match[str]) -> str:
        body = m.group(2)
        words = body.split("|")
        if all(re.fullmatch(r"[\w-]+", w) for w in words):
            return words[0]
        return "999999" if "\\d" in body else "x"

    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, regex)
    return text.lstrip("^").rstrip("$").replace("\\", "")


def _display_regex(regex: str) -> str:
    return (
        re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", regex)
        .lstrip("^")
        .rstrip("$")
        .replace("\\", "")
    )


def _walk(patterns: list[Any], route: str, path: str) -> list[tuple[str, str, URLPattern]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern.pattern, RoutePattern):
            part_route = str(pattern.pattern)
            part_path = _sample_route(part_route)
        elif isinstance(pattern.pattern, RegexPattern):
            part_route = _display_regex(pattern.pattern._regex)
            part_path = _sample_regex(pattern.pattern._regex)
        else:  # pragma: no cover - LocalePrefixPattern and friends are not used
            continue
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, route + part_route, path + part_path)
        else:
            found.append((route + part_route, path + part_path, pattern))
    return found


@lru_cache(maxsize=1)
def resolver_routes() -> tuple[tuple[str, str], ...]:
    """(normalised route, concrete path) of every reachable resolver route that is not a
    django-ninja operation (those come from the OpenAPI schema, with their methods)."""
    found = []
    for route, path, pattern in _walk(get_resolver().url_patterns, "", ""):
        if path_view_of(pattern.callback) is not None:
            continue
        concrete = "/" + path
        if resolve(concrete).func is not pattern.callback:
            continue  # shadowed by an earlier pattern: not reachable, nothing to protect
        found.append((normalise(route), concrete))
    return tuple(found)


def listed_methods(route: str) -> list[str]:
    """The methods the matrix lists for a page route by exact row."""
    return sorted({r.method for r in matrix() if not r.wildcard and r.route == route})


@lru_cache(maxsize=1)
def page_routes() -> tuple[Route, ...]:
    """Page routes with each method the matrix lists for them; a route covered only by a
    wildcard row (the Django admin) is tried with GET and POST."""
    routes = []
    for route, concrete in resolver_routes():
        methods = listed_methods(route)
        if "ANY" in methods or (not methods and rule_for("GET", route) is not None):
            methods = ["GET", "POST"]
        routes += [Route("page", route, m, concrete) for m in methods]
    return tuple(routes)


@lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    from q2c.api import api

    return api.get_openapi_schema(path_prefix=_api_prefix())


def _api_prefix() -> str:
    from django.urls import reverse

    return reverse("api:openapi-json").rsplit("openapi.json", 1)[0]


@lru_cache(maxsize=1)
def api_routes() -> tuple[Route, ...]:
    routes = []
    for route, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
            path = re.sub(
                r"\{(\w+)\}",
                lambda m: str(sample(params.get(m.group(1), {}).get("schema", {}), path=True)),
                route,
            )
            routes.append(Route("api", normalise(route), method.upper(), path, operation))
    return tuple(routes)


def all_routes() -> tuple[Route, ...]:
    return page_routes() + api_routes()


def login_url() -> str:
    return str(settings.LOGIN_URL)


# --------------------------------------------------------------------------- request bodies


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = openapi()["components"]["schemas"][name]
    return schema


def sample(schema: dict[str, Any], *, path: bool = False, depth: int = 0) -> Any:
    """A value the schema accepts: its documented example when it has one, else the simplest
    value of its type. Endpoints whose bodies cannot be built this way should document an
    ``examples`` value on the field (which also helps every reader of the API docs)."""
    schema = _resolve(schema)
    if depth > 8:
        return None
    for key in ("examples",):
        if schema.get(key):
            return schema[key][0]
    if "example" in schema:
        return schema["example"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and not path:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o).get("type") != "null"] or schema[key]
            return sample(options[0], path=path, depth=depth + 1)
    if "allOf" in schema:
        return sample(schema["allOf"][0], path=path, depth=depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: sample(props[name], depth=depth + 1) for name in schema.get("required", []) if name in props
        }
    if kind == "array":
        return [sample(schema.get("items", {}), depth=depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        if path:
            return 999999
        return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
    if kind == "number":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    formats = {
        "date": "2027-01-01",
        "date-time": "2027-01-01T09:00:00Z",
        "email": "someone@example.com",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "uri": "https://example.com/",
        "decimal": "1",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    text = "x" * max(int(schema.get("minLength", 1)), 1)
    return text[: int(schema.get("maxLength", len(text)))]


def request_body(operation: dict[str, Any]) -> tuple[str, Any] | None:
    """(content type, body) for an operation that takes one."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return "application/json", sample(content["application/json"].get("schema", {}))
    if "multipart/form-data" in content:
        from django.core.files.uploadedfile import SimpleUploadedFile

        schema = _resolve(content["multipart/form-data"].get("schema", {}))
        data: dict[str, Any] = {}
        for name in schema.get("required", []):
            prop = _resolve(schema.get("properties", {}).get(name, {}))
            if prop.get("format") == "binary" or (
                prop.get("type") == "string" and prop.get("format") == "binary"
            ):
                data[name] = SimpleUploadedFile("sample.csv", b"x\n", content_type="text/csv")
            else:
                data[name] = sample(prop)
        return "multipart/form-data", data
    return None


def query_params(operation: dict[str, Any]) -> dict[str, Any]:
    return {
        p["name"]: sample(p.get("schema", {}))
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
