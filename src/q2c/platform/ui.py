"""UI shell: navigation and extension points.

A later app can add a panel to an earlier app's page without the earlier app importing it: the
page declares a slot (``{% panels "quotes.builder" %}``) and the later app registers a panel
for that slot from ``q2c/wiring.py`` with :func:`add_panel`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    roles: frozenset[str] | None = None  # None: everyone signed in


NAV: list[NavItem] = []


def add_nav(label: str, url: str, roles: set[str] | None = None) -> None:
    if all(item.label != label for item in NAV):
        NAV.append(NavItem(label, url, frozenset(roles) if roles else None))


Panel = Callable[[HttpRequest, dict[str, Any]], str]
_panels: dict[str, list[Panel]] = defaultdict(list)


def add_panel(slot: str, panel: Panel) -> None:
    """Register a panel (a callable returning safe HTML) for a named slot on a page."""
    if panel not in _panels[slot]:
        _panels[slot].append(panel)


def panels(slot: str) -> list[Panel]:
    return list(_panels.get(slot, ()))


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the navigation the signed-in user may see."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    roles = set(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        roles.add("admin")
    items = [i for i in NAV if i.roles is None or roles & i.roles]
    return {"nav": items, "user_roles": sorted(roles)}
