"""Signed, expiring public links (quote acceptance, contract signature, customer portal).

A link token carries its purpose, the object it opens and an expiry, signed with the secret key
(``django.core.signing``, HMAC-SHA256) and a per-purpose salt, so a token for one purpose or object
never opens another. Tampered tokens answer ``links.tampered``, expired ones ``links.expired``.
Replays are the domain's business: deciding a quote version twice is an invalid transition (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing

from q2c.core import clock
from q2c.core.errors import ValidationError


class LinkError(ValidationError):
    status = 403
    default_code = "links.tampered"


@dataclass(frozen=True)
class LinkClaims:
    purpose: str
    object_id: str
    expires_at: datetime


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=f"q2c.links.{purpose}", algorithm="sha256")


def make_token(purpose: str, object_id: str | int, expires_at: datetime) -> str:
    """A URL-safe token that opens ``object_id`` for ``purpose`` until ``expires_at``."""
    payload = {"p": purpose, "o": str(object_id), "e": int(expires_at.timestamp())}
    return _signer(purpose).sign_object(payload, compress=False)


def read_token(token: str, purpose: str) -> LinkClaims:
    """Verify a token for ``purpose``; raise ``LinkError`` when tampered with or expired."""
    try:
        data = _signer(purpose).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkError("this link is not valid", code="links.tampered", field="token") from None
    if not isinstance(data, dict) or data.get("p") != purpose:
        raise LinkError("this link is not valid", code="links.tampered", field="token")
    expires = datetime.fromtimestamp(int(data["e"]), tz=clock.now().tzinfo)
    if clock.now() >= expires:
        raise LinkError("this link has expired", code="links.expired", field="token")
    return LinkClaims(purpose=purpose, object_id=str(data["o"]), expires_at=expires)
