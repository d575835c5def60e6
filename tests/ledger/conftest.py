"""Ledger test helpers: an entity's book opened on the default chart, and short draft builders."""

from __future__ import annotations

from datetime import date

import pytest

from q2c.core import clock
from q2c.core.money import Money
from q2c.ledger import services
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef

ENTITY = 1


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def draft(
    lines: list[DraftLine],
    *,
    day: date = date(2027, 3, 1),
    source: SourceRef | None = None,
    purpose: str = "post",
    entity_id: int = ENTITY,
    description: str = "test entry",
) -> EntryDraft:
    return EntryDraft(
        entity_id=entity_id,
        date=day,
        description=description,
        source=source if source is not None else SourceRef("tests", "doc", "1"),
        lines=tuple(lines),
        purpose=purpose,
    )


def sale(amount: str, *, doc: str = "1", day: date = date(2027, 3, 1), **kw) -> EntryDraft:
    """Dr AR / Cr Revenue — subscriptions, for one test document."""
    return draft(
        [DraftLine.dr("ar", eur(amount)), DraftLine.cr("revenue.subscriptions", eur(amount))],
        day=day,
        source=SourceRef("tests", "doc", doc),
        **kw,
    )


@pytest.fixture
def book(db):
    return services.open_book(ENTITY, "EUR", name="Acme Cloud GmbH")


@pytest.fixture
def at():
    """Set the business clock: ``at(date(2027, 4, 1))``."""

    def _set(day: date) -> None:
        clock.install(clock.SimulationClock(day))

    return _set


@pytest.fixture
def make_user(db):
    """``make_user("finance")``: a user holding the given roles (groups seeded by migration)."""
    from django.contrib.auth.models import Group, User

    def _make(*roles: str, name: str | None = None) -> User:
        # No password: hashing one (PBKDF2) per user would dominate the access tests.
        user = User.objects.create_user(name or "-".join(roles) or "nobody", password=None)
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return _make
