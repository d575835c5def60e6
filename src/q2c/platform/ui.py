"""UI shell: navigation and extension points.

**Navigation.** ``add_nav(label, url, roles)`` adds a top-level entry, shown only to users holding
one of ``roles`` (None: everyone signed in; admins see everything). The shell seeds placeholder
entries for the parts of q2c that are not built yet (``add_section``, pages at
``/sections/<slug>/``); when an app registers a real entry with the same label, it takes the
placeholder's place, whatever the order of the calls. Between two real entries the first wins.

**Panels.** A later app can add a panel to an earlier app's page without the earlier app
importing it: the page declares a slot (``{% load q2c_ui %}{% panels "quotes.builder" %}``) and
the later app registers a panel for that slot from ``q2c/wiring.py`` with :func:`add_panel`. A
panel is ``panel(request, context) -> str``; ``context`` is the page's template context (a plain
dict). Return HTML built with ``render_to_string`` or ``format_html`` (safe); a plain ``str`` is
escaped, so a panel cannot inject markup by accident. Return ``""`` to show nothing (e.g. for a
role that may not see it).

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from q2c.platform.roles import Role, roles_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    roles: frozenset[str] | None = None  # None: everyone signed in
    placeholder: bool = False


@dataclass(frozen=True)
class Section:
    slug: str
    label: str
    roles: frozenset[str] | None
    description: str


NAV: list[NavItem] = []
SECTIONS: dict[str, Section] = {}


def add_nav(label: str, url: str, roles: set[str] | None = None, *, placeholder: bool = False) -> None:
    """Add a navigation entry (see the module docstring for how duplicates are resolved)."""
    item = NavItem(label, url, frozenset(roles) if roles else None, placeholder)
    for i, existing in enumerate(NAV):
        if existing.label == label:
            if existing.placeholder and not placeholder:
                NAV[i] = replace(item, placeholder=False)
            return
    NAV.append(item)


def add_section(slug: str, label: str, roles: set[str] | None = None, description: str = "") -> None:
    """A placeholder for a part of q2c that is not built yet: a nav entry and a page saying so."""
    SECTIONS[slug] = Section(slug, label, frozenset(roles) if roles else None, description)
    add_nav(label, f"/sections/{slug}/", roles, placeholder=True)


def may_see(user_roles: set[str], roles: frozenset[str] | None) -> bool:
    return roles is None or Role.ADMIN in user_roles or bool(user_roles & roles)


def nav_for(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    have = roles_of(user)
    return [i for i in NAV if may_see(have, i.roles)]


Panel = Callable[[HttpRequest, dict[str, Any]], str]
_panels: dict[str, list[Panel]] = defaultdict(list)


def add_panel(slot: str, panel: Panel) -> None:
    """Register a panel (a callable returning HTML) for a named slot on a page."""
    if panel not in _panels[slot]:
        _panels[slot].append(panel)


def remove_panel(slot: str, panel: Panel) -> None:
    """Unregister a panel (tests, or an app switched off)."""
    if panel in _panels.get(slot, []):
        _panels[slot].remove(panel)


def panels(slot: str) -> list[Panel]:
    return list(_panels.get(slot, ()))


def render_panels(slot: str, request: HttpRequest, context: dict[str, Any]) -> SafeString:
    """The HTML of every panel registered for ``slot``, in registration order.

    A panel that raises is logged and replaced by a short notice, so one app's bug does not take
    another app's page down; under DEBUG it raises, to be seen at once.
    """
    parts: list[str] = []
    for panel in panels(slot):
        try:
            html = panel(request, context)
        except Exception:
            if settings.DEBUG:
                raise
            log.exception("panel %r for slot %s failed", panel, slot)
            html = mark_safe('<p class="errors" role="status">This panel could not be shown.</p>')
        if html:
            parts.append(str(conditional_escape(html)))
    if not parts:
        return mark_safe("")
    body = "".join(parts)
    return format_html('<div class="panels" data-slot="{}">{}</div>', slot, mark_safe(body))


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the navigation the signed-in user may see."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = nav_for(request)
    path = request.path
    # The entry whose URL is the longest prefix of this page is the current one.
    current = max(
        (i for i in items if i.url != "/" and path.startswith(i.url)), key=lambda i: len(i.url), default=None
    )
    if current is None and path == "/":
        current = next((i for i in items if i.url == "/"), None)
    return {"nav": items, "nav_current": current.url if current else "", "user_roles": sorted(roles_of(user))}
