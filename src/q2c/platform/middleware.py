"""Request-level conventions every app gets without asking.

- :class:`BodyLimitMiddleware` answers 413 when a request body is larger than the endpoint allows
  (``q2c.platform.api.body_limit``; default Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``). It runs
  before CSRF and idempotency, which both read the body; Django on its own would answer 400.
- :class:`DomainErrorMiddleware` turns a ``q2c.core.errors.DomainError`` raised in a page view
  (``require`` → 403, a missing row → 404, a conflict → 409) into an error page with that status.
  The API has its own problem+json handlers; this one only serves pages.

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from q2c.core.errors import DomainError
from q2c.platform.api import body_limit_for, default_body_limit, problem

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except (TypeError, ValueError):
        return 0


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    detail = f"the request body is larger than this endpoint accepts ({limit} bytes)"
    if is_api(request):
        return problem(413, "request.too_large", detail, limit=limit)
    return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        length = _content_length(request)
        if length == 0:
            return None
        limit = body_limit_for(view_func, request.method or "GET")
        if length > limit:
            return too_large(request, limit)
        if length > default_body_limit():
            # This endpoint allows more than Django's global limit, which ``request.body`` would
            # enforce: read the body here (bounded by Content-Length through WSGI's limited stream)
            # and leave it where Django looks for it.
            body = request.read()
            request._body = body  # type: ignore[attr-defined]
            request._stream = io.BytesIO(body)  # type: ignore[attr-defined]
        return None


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, DomainError) or is_api(request):
            return None
        return render(
            request,
            "platform/error.html",
            {"status": exc.status, "code": exc.code, "message": exc.message},
            status=exc.status,
        )
