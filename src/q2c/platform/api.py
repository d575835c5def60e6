"""API conventions: one NinjaAPI with problem+json errors (RFC 9457).

Every error answer has ``type``, ``title``, ``status``, ``code`` (stable), ``detail`` and, for
validation failures, ``errors`` naming each field. Domain errors map by kind: validation 422,
not found 404, conflict or invalid transition 409, permission 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from q2c.core.errors import DomainError

PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable content",
}


def problem(status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    import json

    body = {
        "type": f"about:blank#{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)


def _field_of(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload")]
    return ".".join(parts)


def build_api(routers: list[tuple[str, Router]]) -> NinjaAPI:
    api = NinjaAPI(title="q2c API", version="1", urls_namespace="api", docs_url="/docs")

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        extra: dict[str, Any] = {}
        if exc.field:
            extra["errors"] = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        if exc.details:
            extra["errors"] = exc.details
        return problem(exc.status, exc.code, exc.message, **extra)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {
                "field": _field_of(e.get("loc", ())),
                "code": e.get("type", "invalid"),
                "message": e.get("msg", "invalid"),
            }
            for e in exc.errors
        ]
        first = errors[0]["field"] if errors else ""
        return problem(422, "validation", f"invalid input{': ' + first if first else ''}", errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(401, "auth.unauthenticated", "authentication required")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, f"http.{exc.status_code}", str(exc))

    for prefix, router in routers:
        api.add_router(prefix, router)
    return api
