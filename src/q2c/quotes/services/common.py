"""Pieces shared by the quotes use cases: actors, the business clock, events, row locks, mail.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet

from q2c.core import clock
from q2c.platform import events
from q2c.platform.events import DomainEvent
from q2c.platform.tasks import send_email
from q2c.quotes.errors import STALE, QuoteConflict, QuoteNotFound


def actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor
    return str(actor.get_username())


def now() -> datetime:
    return clock.now()


def today(tz: str | None) -> date:
    """The business date in ``tz`` (the selling entity's zone)."""
    return clock.today(tz or None)


def record(
    event_type: str,
    aggregate: str,
    aggregate_id: int,
    *,
    entity_id: int | None,
    actor: Any,
    payload: Mapping[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Record one event of this app (type ``quotes.…``) in the caller's transaction; ``payload``
    and ``fields`` together make its payload (``payload`` may carry keys like ``entity_id``)."""
    events.record(
        DomainEvent(
            type=event_type,
            aggregate_type=f"quotes.{aggregate}",
            aggregate_id=aggregate_id,
            payload={**(payload or {}), **fields},
            entity_id=entity_id,
            actor=actor_name(actor),
        )
    )


def locked(queryset: QuerySet[Any], pk: Any, what: str) -> Any:
    """The row ``pk`` locked for this transaction (SELECT … FOR UPDATE where the database has it;
    SQLite's IMMEDIATE transactions serialise writers already)."""
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise QuoteNotFound(f"no {what} {pk}", code=f"quotes.{what}_not_found", field=f"{what}_id") from None


def check_version(row: Model, expected: int | None, what: str) -> None:
    """Optimistic locking: refuse (409) a change made against an older ``lock_version``."""
    if expected is None:
        return
    current = int(row.lock_version)  # type: ignore[attr-defined]
    if int(expected) != current:
        raise QuoteConflict(
            f"this {what} was changed by someone else since you opened it (version {expected}, now "
            f"{current}); reload it and apply your change again",
            code=STALE,
            field="lock_version",
        )


def mail(subject: str, body: str, to: Iterable[str]) -> None:
    """Send one email after the transaction commits (never if it rolls back)."""
    recipients = sorted({address for address in to if address})
    if recipients:
        events.enqueue_after_commit(send_email, subject, body, recipients)
