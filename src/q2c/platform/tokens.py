"""API tokens of the signed-in user: create (the key is shown once), list, revoke.

Services here are used by the token page (``platform.views``) and by the API router below
(mounted at ``/api/v1/platform/``). Keys are stored as SHA-256 hashes (``platform.auth.ApiToken``);
the raw key exists only in the response that creates it. A user manages only their own tokens;
admins revoke anyone's in the Django admin.

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.responses import Status

from q2c.core.errors import Conflict, NotFound, ValidationError
from q2c.platform.auth import ApiToken, api_auth, signed_in
from q2c.platform.events import DomainEvent, record
from q2c.platform.roles import roles_of

#: Active tokens per user; more is a sign of a leak or a script gone wrong.
MAX_ACTIVE_TOKENS = 50


def _clean_name(name: object) -> str:
    text = " ".join(name.split()) if isinstance(name, str) else ""
    if not text or len(text) > 100 or not text.isprintable():
        raise ValidationError(
            "a token needs a name of 1–100 printable characters (e.g. 'billing export')",
            code="tokens.invalid_name",
            field="name",
        )
    return text


def create_token(user: Any, name: object) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the raw key (show it once, never store it)."""
    clean = _clean_name(name)
    with transaction.atomic():
        active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        if active.count() >= MAX_ACTIVE_TOKENS:
            raise Conflict(
                f"you have {MAX_ACTIVE_TOKENS} active tokens; revoke one first", code="tokens.too_many"
            )
        token, raw = ApiToken.issue(user, clean)
        record(
            DomainEvent(
                type="platform.token.created",
                aggregate_type="platform.api_token",
                aggregate_id=token.pk,
                actor=user.get_username(),
                payload={"name": clean, "prefix": token.prefix},
            )
        )
    return token, raw


def tokens_of(user: Any) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def revoke_token(user: Any, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens. Revoking twice is a no-op, not an error."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound(f"no token {token_id} of yours", code="tokens.not_found", field="token_id")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(
                DomainEvent(
                    type="platform.token.revoked",
                    aggregate_type="platform.api_token",
                    aggregate_id=token.pk,
                    actor=user.get_username(),
                    payload={"prefix": token.prefix},
                )
            )
    return token


# --------------------------------------------------------------------------- API

router = Router(auth=api_auth, tags=["platform"])


class ApiTokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, examples=["billing export"])


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="first characters of the key, to recognise it")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenOut):
    key: str = Field(..., description="the secret; shown in this response only")


class CurrentUser(Schema):
    id: int
    username: str
    roles: list[str]


@router.get("/me", response=CurrentUser, operation_id="platform_get_me", summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = signed_in(request)
    return {"id": user.pk, "username": user.get_username(), "roles": sorted(roles_of(user))}


@router.get(
    "/tokens", response=list[ApiTokenOut], operation_id="platform_list_tokens", summary="My API tokens"
)
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    user = signed_in(request)
    return tokens_of(user)


@router.post(
    "/tokens",
    response={201: ApiTokenCreated},
    operation_id="platform_create_token",
    summary="Create an API token",
)
def create_token_endpoint(request: HttpRequest, payload: ApiTokenIn) -> Status[dict[str, Any]]:
    user = signed_in(request)
    token, raw = create_token(user, payload.name)
    return Status(201, {**ApiTokenOut.from_orm(token).model_dump(), "key": raw})


@router.delete(
    "/tokens/{token_id}",
    response={204: None},
    operation_id="platform_revoke_token",
    summary="Revoke an API token",
)
def revoke_token_endpoint(request: HttpRequest, token_id: int) -> Status[None]:
    user = signed_in(request)
    revoke_token(user, token_id)
    return Status(204, None)
