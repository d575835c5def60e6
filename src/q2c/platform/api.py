"""API conventions: one NinjaAPI with problem+json errors (RFC 9457).

Every error answer has ``type``, ``title``, ``status``, ``code`` (stable), ``detail`` and, for
validation failures, ``errors`` naming each field. Domain errors map by kind: validation 422,
not found 404, conflict or invalid transition 409, permission 403; no or bad credentials 401
(with ``WWW-Authenticate: Bearer``), a body that is not JSON 400, a body over the endpoint's limit
413 (:func:`body_limit`).

What every router gets for free (see docs/api.md): authentication (``q2c.platform.auth``),
``Idempotency-Key`` on POST (``q2c.platform.idempotency``), body limits
(``q2c.platform.middleware``), pagination helpers (``q2c.platform.pagination``).

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation, PathView

from q2c.core.errors import DomainError

PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    429: "Too many requests",
}

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute :func:`body_limit` sets on a view or endpoint function.
BODY_LIMIT_ATTR = "q2c_body_limit"


def problem(status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    """An RFC 9457 problem response with q2c's stable ``code``."""
    body = {
        "type": f"about:blank#{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Allow request bodies up to ``max_bytes`` on this endpoint (default: Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 2.5 MB); larger bodies are refused with 413 before the view
    runs. Put it under the router decorator so it marks the endpoint function itself::

        @router.post("/usage/batch", operation_id="billing_ingest_usage")
        @body_limit(50 * 1024 * 1024)
        def ingest(request, payload: UsageBatch): ...

    Works on plain Django views too. The function is returned unchanged (no wrapper), so
    django-ninja still reads its signature.
    """
    if max_bytes < 0:
        raise ValueError("a body limit is a number of bytes ≥ 0")

    def mark(func: F) -> F:
        setattr(func, BODY_LIMIT_ATTR, int(max_bytes))
        return func

    return mark


def default_body_limit() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)


def path_view_of(view_func: Any) -> PathView | None:
    """The django-ninja PathView behind a resolved URL's view function, or None for other views.

    django-ninja routes every method of one path through a small wrapper closing over its
    PathView; the closure is the public way in (``inspect.getclosurevars``).
    """
    func = getattr(view_func, "__wrapped__", view_func)
    if not inspect.isfunction(func) or not func.__closure__:
        return None
    found = inspect.getclosurevars(func).nonlocals.get("self")
    return found if isinstance(found, PathView) else None


def operation_for(view_func: Any, method: str) -> Operation | None:
    """The django-ninja operation that will answer ``method`` on a resolved view, if any."""
    path_view = path_view_of(view_func)
    if path_view is None:
        return None
    for operation in path_view.operations:
        if method.upper() in operation.methods:
            return operation
    return None


def body_limit_for(view_func: Any, method: str) -> int:
    """The body limit that applies to ``method`` on a resolved view (see :func:`body_limit`)."""
    operation = operation_for(view_func, method)
    target = operation.view_func if operation is not None else view_func
    limit = getattr(target, BODY_LIMIT_ATTR, None)
    return int(limit) if limit is not None else default_body_limit()


def _field_of(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload", "header", "cookie")]
    return ".".join(parts)


def unauthenticated_response(
    code: str = "auth.unauthenticated", detail: str = "authentication required"
) -> HttpResponse:
    response = problem(401, code, detail)
    # RFC 9110 §11.6.1: a 401 names the scheme that would work.
    response["WWW-Authenticate"] = 'Bearer realm="q2c"'
    return response


def build_api(routers: list[tuple[str, Router]], *, urls_namespace: str = "api") -> NinjaAPI:
    """The q2c API with its error conventions; ``urls_namespace`` only for a second API in tests."""
    api = NinjaAPI(
        title="q2c API",
        version="1",
        urls_namespace=urls_namespace,
        docs_url="/docs",
        # The schema and the docs page are read-only: other methods get 405 like every page.
        docs_decorator=require_GET,
        description="Quote-to-cash. Conventions (auth, errors, pagination, idempotency, limits): docs/api.md.",
    )

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        extra: dict[str, Any] = {}
        if exc.field:
            extra["errors"] = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        if exc.details:
            extra["errors"] = exc.details
        if exc.status == 401:
            response = unauthenticated_response(exc.code, exc.message)
            return response
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
        code = getattr(exc, "code", "auth.unauthenticated")
        detail = getattr(exc, "detail", "authentication required")
        return unauthenticated_response(code, detail)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = str(exc)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            return problem(400, "request.malformed_json", "the request body is not valid JSON")
        return problem(exc.status_code, f"http.{exc.status_code}", message)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404, "not_found", str(exc) or "not found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem(413, "request.too_large", "the request body is larger than this endpoint accepts")

    for prefix, router in routers:
        api.add_router(prefix, router)
    return api
