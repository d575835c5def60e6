"""The roles q2c knows. Each is a Django group seeded by a migration; docs/permissions.md holds the
matrix of which role may do what."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SALES_REP = "sales_rep"
    SALES_MANAGER = "sales_manager"
    FINANCE = "finance"
    VIEWER = "viewer"


ALL_ROLES = frozenset(Role)


def roles_of(user: object) -> set[str]:
    """The role names of a user; superusers are admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    if getattr(user, "is_superuser", False):
        names.add(Role.ADMIN)
    return names & {str(r) for r in Role}
