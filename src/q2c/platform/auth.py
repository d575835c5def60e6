"""Who is calling, and may they?

API callers authenticate with a session (browser, CSRF-checked by django-ninja) or a bearer token
(``Authorization: Bearer q2c_…``; tokens are stored hashed, shown once, revocable; a revoked or
unknown token answers 401 with its own code). Every endpoint
declares the roles it admits with :func:`require`; docs/permissions.md is the matrix the access
tests check every route against.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from q2c.core.errors import PermissionDenied
from q2c.platform.roles import Role, roles_of

TOKEN_PREFIX = "q2c_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="first characters, to recognise a token")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "platform_api_token"
        app_label = "platform"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: Any, name: str) -> tuple[ApiToken, str]:
        """Create a token; returns the row and the raw key, which is shown once and never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(raw), prefix=raw[:10])
        return token, raw

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class TokenRejected(AuthenticationError):
    """A bearer token was sent but does not open the door (unknown, revoked, user inactive).

    Answered 401 with its own code, so a client can tell a revoked token from a typo.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(401, detail)
        self.code = code
        self.detail = detail


#: last_used_at is written at most this often per token: a busy client should not turn every
#: read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _bearer(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
        if row is None or not row.user.is_active:
            raise TokenRejected("auth.invalid_token", "the bearer token is not valid")
        if row.revoked_at is not None:
            raise TokenRejected("auth.token_revoked", "the bearer token has been revoked")
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


def principal_id(request: HttpRequest) -> int | None:
    """The id of the user a request acts for — by bearer token first, as the API authenticates —
    without side effects (no last-used write); None when there is no valid credential."""
    token = _bearer(request)
    if token is not None:
        return (
            ApiToken.objects.filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .values_list("user_id", flat=True)
            .first()
        )
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return int(user.pk)
    return None


class SessionAuth(APIKeyCookie):
    """Django session; CSRF is checked for unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


#: The auth list every router uses: ``Router(auth=api_auth)``.
api_auth = [TokenAuth(), SessionAuth(csrf=True)]


def require(request: HttpRequest, *roles: Role | str) -> Any:
    """Refuse (403) unless the caller has one of ``roles``; admins pass everywhere.

    Call it first thing in every endpoint and view: ``require(request, Role.FINANCE)``.
    """
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    have = roles_of(user)
    if Role.ADMIN in have or have & {str(r) for r in roles}:
        return user
    raise PermissionDenied(
        f"this needs one of the roles: {', '.join(str(r) for r in roles) or 'admin'}",
        code="auth.forbidden",
    )


def signed_in(request: HttpRequest) -> Any:
    """The caller, for routes open to any signed-in user (``any`` in docs/permissions.md)."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise TokenRejected("auth.unauthenticated", "authentication required")
    return user
