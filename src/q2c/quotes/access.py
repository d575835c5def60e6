"""Who may see and change which opportunities and quotes.

- ``admin``, ``finance`` and ``viewer`` read everything; ``finance`` and ``viewer`` change nothing.
- A ``sales_rep`` reads and edits their own opportunities and quotes.
- A ``sales_manager`` reads and edits their own and their teams' (the members of every
  :class:`~q2c.quotes.models.SalesTeam` they manage).
- An approver named on a quote's approval step reads that quote.

A record the caller may not read answers 404 (its existence is not revealed); one they may read
but not change answers 403. The route-level role check (``require``) comes first, in the API and
the views; these functions are the row-level rule, applied by services and queries alike.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from q2c.platform.roles import Role, roles_of
from q2c.quotes.errors import QuoteForbidden
from q2c.quotes.models import ApprovalStep, SalesTeam

READ_ALL = frozenset({Role.ADMIN, Role.FINANCE, Role.VIEWER})
SELLERS = frozenset({Role.SALES_REP, Role.SALES_MANAGER})


def _roles(user: Any) -> set[str]:
    return roles_of(user)


def is_admin(user: Any) -> bool:
    return Role.ADMIN in _roles(user)


def team_member_ids(user: Any) -> set[int]:
    """Ids of the members of every team ``user`` manages."""
    if Role.SALES_MANAGER not in _roles(user):
        return set()
    return set(
        SalesTeam.members.through.objects.filter(salesteam__manager_id=user.pk).values_list(
            "user_id", flat=True
        )
    )


def managers_of(owner_id: int) -> list[int]:
    """Ids of the managers of the teams ``owner_id`` belongs to."""
    return sorted(set(SalesTeam.objects.filter(members__id=owner_id).values_list("manager_id", flat=True)))


def _owner_ids(user: Any) -> set[int] | None:
    """Owners whose records ``user`` reads; None means all."""
    roles = _roles(user)
    if roles & READ_ALL:
        return None
    if not roles & SELLERS:
        return set()
    return {int(user.pk)} | team_member_ids(user)


def visible_quotes(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    owners = _owner_ids(user)
    if owners is None:
        return queryset
    approving = ApprovalStep.approvers.through.objects.filter(user_id=user.pk).values(
        "approvalstep__request__quote_id"
    )
    return queryset.filter(Q(owner_id__in=owners) | Q(pk__in=approving))


def visible_opportunities(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    owners = _owner_ids(user)
    if owners is None:
        return queryset
    approving = ApprovalStep.approvers.through.objects.filter(user_id=user.pk).values(
        "approvalstep__request__quote__opportunity_id"
    )
    return queryset.filter(Q(owner_id__in=owners) | Q(pk__in=approving))


def is_seller(user: Any) -> bool:
    """May create opportunities and quotes (a rep, a manager or an admin)."""
    roles = _roles(user)
    return Role.ADMIN in roles or bool(roles & SELLERS)


def can_edit_owned(user: Any, owner_id: int) -> bool:
    roles = _roles(user)
    if Role.ADMIN in roles:
        return True
    if not roles & SELLERS:
        return False
    return owner_id == user.pk or owner_id in team_member_ids(user)


def check_edit(user: Any, owner_id: int, what: str = "quote") -> None:
    """Raise 403 unless ``user`` may change a record owned by ``owner_id``."""
    if not can_edit_owned(user, owner_id):
        raise QuoteForbidden(
            f"you may read this {what} but not change it",
            code="quotes.forbidden",
        )


def may_assign_owner(user: Any, owner_id: int) -> bool:
    """A rep creates records for themselves; a manager for their team; an admin for anyone."""
    return can_edit_owned(user, owner_id)
