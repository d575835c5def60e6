"""Template tags of the UI shell: ``{% load q2c_ui %}``.

- ``{% panels "slot.name" %}`` renders every panel later apps registered for that slot
  (``q2c.platform.ui.add_panel``); nothing when there are none.
- ``{% sort_link "name" "Name" %}`` a column header that sorts a list by that key (toggling
  direction), keeping the other query parameters; marks the current sort with ``aria-sort``.
- ``{% query_with page=2 %}`` the current query string with some parameters replaced.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from q2c.platform import ui

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context: template.Context, slot: str) -> SafeString:
    request: HttpRequest | None = context.get("request")
    if request is None:
        return SafeString("")
    return ui.render_panels(slot, request, {str(k): v for k, v in context.flatten().items()})


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **params: Any) -> str:
    request: HttpRequest | None = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        return ""
    for key, value in params.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, key: str, label: str, param: str = "sort") -> SafeString:
    request: HttpRequest | None = context.get("request")
    current = request.GET.get(param, "") if request is not None else ""
    ascending_now = current == key
    descending_now = current == f"-{key}"
    target = f"-{key}" if ascending_now else key
    query = query_with(context, **{param: target, "page": None})
    marker = " ▲" if ascending_now else " ▼" if descending_now else ""
    return format_html('<a href="{}">{}{}</a>', query, label, marker)


@register.simple_tag(takes_context=True)
def aria_sort(context: template.Context, key: str, param: str = "sort") -> str:
    request: HttpRequest | None = context.get("request")
    current = request.GET.get(param, "") if request is not None else ""
    if current == key:
        return "ascending"
    if current == f"-{key}":
        return "descending"
    return "none"
