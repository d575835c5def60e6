"""``Idempotency-Key`` for every POST under ``/api/v1`` (docs/api.md).

A client that may retry a POST (a timeout, a dropped connection) sends a key of its choosing.
Keys are scoped to the caller (the authenticated user) and the route (method and path):

- the first request with a key runs and its response is stored for 24 hours;
- the same key with the same body replays the stored response (status, body, ``Location``) with
  ``Idempotent-Replayed: true``; the endpoint does not run again;
- the same key with a different body answers 422 ``idempotency.key_reused``;
- while the first request is still running, the same key answers 409 ``idempotency.in_progress``
  (with ``Retry-After``).

The claim is a row inserted under a unique constraint in its own short transaction before the
endpoint runs, so two racing requests cannot both run: the database decides (on PostgreSQL the
second insert waits for the first to commit, then fails). Responses that say nothing final about
the request — 401, 403, 409, 429 and 5xx — are not stored; the claim is released and a retry
runs again. A claim whose request died without finishing is taken over after ``LEASE`` (the
request may or may not have written; the same holds for a client that gives up and uses a new
key). Expired rows are removed lazily on reuse and by :func:`purge_expired` (a daily job).

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from q2c.platform.api import problem
from q2c.platform.auth import principal_id

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
TTL = timedelta(hours=24)
#: A claim older than this whose request never finished is considered abandoned.
LEASE = timedelta(minutes=5)
API_PREFIX = "/api/v1/"
MAX_KEY_LENGTH = 255
#: Statuses that are not a final answer to the request: not stored, a retry runs again.
NOT_STORED = frozenset({401, 403, 408, 409, 425, 429})
_REPLAYED_HEADERS = ("Content-Type", "Location", "Content-Language")


class IdempotencyRecord(models.Model):
    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    user_id = models.BigIntegerField()
    route = models.CharField(max_length=255, help_text="method and path, e.g. POST /api/v1/parties/accounts")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the request (path, query, body)")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    locked_until = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(null=True, blank=True)

    class Meta:
        db_table = "platform_idempotency_record"
        app_label = "platform"
        constraints = [
            models.UniqueConstraint(fields=["user_id", "route", "key"], name="platform_idempotency_once"),
        ]

    def __str__(self) -> str:
        return f"{self.route} key={self.key} ({self.state})"


@dataclass
class Claim:
    pk: int


def fingerprint(request: HttpRequest) -> str:
    """What makes two requests "the same": path, query string and body.

    A JSON body is compared by meaning (key order and whitespace do not matter); anything else
    byte for byte.
    """
    body = request.body
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (
        request.path.encode(),
        b"?",
        request.META.get("QUERY_STRING", "").encode(),
        b"\n",
        canonical,
    ):
        digest.update(part)
    return digest.hexdigest()


def _route(request: HttpRequest) -> str:
    route = f"{request.method} {request.path}"
    if len(route) > 255:
        # A path this long is still scoped exactly: the fingerprint holds the full path.
        route = route[:190] + "…" + hashlib.sha256(route.encode()).hexdigest()
    return route


def _replay(row: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(row.response_body or b""), status=row.status_code or 200)
    for name, value in (row.response_headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _in_progress() -> HttpResponse:
    response = problem(
        409,
        "idempotency.in_progress",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
    response["Retry-After"] = "1"
    return response


def _key_reused() -> HttpResponse:
    return problem(
        422,
        "idempotency.key_reused",
        "this Idempotency-Key was used for a different request; use a new key for a new request",
        errors=[
            {"field": HEADER, "code": "idempotency.key_reused", "message": "key reused with another body"}
        ],
    )


def begin(request: HttpRequest, user_id: int, key: str) -> Claim | HttpResponse:
    """Claim ``key`` for this request, or answer at once (replay, 409, 422)."""
    route = _route(request)
    print_ = fingerprint(request)
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                row = IdempotencyRecord.objects.create(
                    user_id=user_id,
                    route=route,
                    key=key,
                    fingerprint=print_,
                    locked_until=now + LEASE,
                    expires_at=now + TTL,
                )
            return Claim(row.pk)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user_id=user_id, route=route, key=key).first()
        if existing is None:
            continue  # released or purged between our insert and our read: try again
        if existing.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != print_:
            return _key_reused()
        if existing.state == IdempotencyRecord.State.DONE:
            return _replay(existing)
        if existing.locked_until <= now:
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, state=IdempotencyRecord.State.RUNNING, locked_until__lte=now
            ).update(locked_until=now + LEASE, expires_at=now + TTL)
            if taken:
                return Claim(existing.pk)
        return _in_progress()
    return _in_progress()


def finish(claim: Claim, response: HttpResponse) -> None:
    """Store a final response for replay, or release the claim so a retry runs again."""
    status = response.status_code
    final = status < 500 and status not in NOT_STORED and not getattr(response, "streaming", False)
    if not final:
        IdempotencyRecord.objects.filter(pk=claim.pk).delete()
        return
    headers = {name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=claim.pk).update(
        state=IdempotencyRecord.State.DONE,
        status_code=status,
        response_headers=headers,
        response_body=bytes(response.content),
    )


def purge_expired(*_args: Any) -> dict[str, int]:
    """Delete records past their 24 hours (registered as a daily job)."""
    deleted, _per_model = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return {"deleted": deleted}


class IdempotencyMiddleware:
    """Applies to POST under /api/v1/ carrying an ``Idempotency-Key`` from a known caller.

    Must come after :class:`q2c.platform.middleware.BodyLimitMiddleware` (it reads the body).
    Requests without credentials pass through untouched (the endpoint answers 401).
    """

    _ATTR = "_q2c_idempotency_claim"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        claim = getattr(request, self._ATTR, None)
        if claim is not None:
            finish(claim, response)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST" or not request.path.startswith(API_PREFIX):
            return None
        key = request.META.get(META_KEY)
        if key is None:
            return None
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            return problem(
                422,
                "idempotency.invalid_key",
                f"{HEADER} must be 1–{MAX_KEY_LENGTH} printable ASCII characters",
                errors=[{"field": HEADER, "code": "idempotency.invalid_key", "message": "invalid key"}],
            )
        user_id = principal_id(request)
        if user_id is None:
            return None
        outcome = begin(request, user_id, key)
        if isinstance(outcome, Claim):
            setattr(request, self._ATTR, outcome)
            return None
        return outcome
