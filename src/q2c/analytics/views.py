"""Analytics pages (``/analytics/``): the dashboards of each role and their downloads.

Thin: every view signs in, checks the role before reading anything, turns the query string
(``from``, ``to``, ``entity``, ``currency``) into a scope through ``queries.scope_from`` and renders
``dashboards.build``. ``?format=csv|xlsx&table=NAME`` downloads one table of the page through
``q2c.analytics.export`` (formula injection neutralised). Bad input renders the error page with
its status (422) naming the field; nothing is written anywhere.

Must not import ``q2c.simulation`` or the composition root.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from q2c.analytics import dashboards, export, queries
from q2c.core.errors import DomainError, ValidationError
from q2c.core.money import Money
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of
from q2c.quotes import access

#: Who opens which dashboard (docs/permissions.md, analytics). The sales, finance and executive
#: pages show every rep's deals and, on the finance side, invoices: not for sales reps. "mine" is
#: the sales dashboard over the caller's own deals (a manager's: their teams' too) for sellers.
ROLES: dict[str, tuple[Role, ...]] = {
    "sales": (Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER),
    "finance": (Role.FINANCE, Role.VIEWER),
    "executive": (Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER),
    "mine": (Role.SALES_REP, Role.SALES_MANAGER),
}
INDEX_ROLES = (Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; a domain error raised inside becomes the error page with its status."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            context = {"status": exc.status, "message": exc.message, "code": exc.code, "field": exc.field}
            return render(request, "platform/error.html", context, status=exc.status)

    return login_required(wrapper)


def _scope(request: HttpRequest) -> queries.Scope:
    q = request.GET
    return queries.scope_from(
        date_from=q.get("from"), date_to=q.get("to"), entity=q.get("entity"), currency=q.get("currency")
    )


def _visible(request: HttpRequest) -> list[str]:
    have = roles_of(request.user)
    if Role.ADMIN in have:
        return list(dashboards.DASHBOARDS)
    return [name for name in dashboards.DASHBOARDS if have & {str(r) for r in ROLES[name]}]


def _owners(request: HttpRequest) -> frozenset[int]:
    """The owners whose deals the sellers' view counts: the caller, and the members of every team
    they manage (``q2c.quotes.access``, the same rule as the quotes lists)."""
    return frozenset({int(request.user.pk or 0)} | access.team_member_ids(request.user))


@require_GET
@page
def index(request: HttpRequest) -> HttpResponse:
    require(request, *INDEX_ROLES)
    scope = _scope(request)
    return render(
        request,
        "analytics/index.html",
        {"scope": scope, "visible": _visible(request), "query": request.GET.urlencode()},
    )


def _download(board: dashboards.Dashboard, request: HttpRequest, fmt: str) -> HttpResponse:
    name = request.GET.get("table", "kpis")
    table = board.table(name)
    if table is None:
        raise ValidationError(
            f"'{name}' is not a table of this page", code="analytics.unknown_table", field="table"
        )
    stem = f"{board.name}-{table.name}-{board.scope.start.isoformat()}-{board.scope.last.isoformat()}"
    if fmt == "csv":
        response = HttpResponse(
            export.to_csv(table.headers, table.rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            export.to_xlsx(table.headers, table.rows, title=table.name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    raise ValidationError("format is csv or xlsx", code="analytics.invalid_format", field="format")


def _show(cell: Any) -> str:
    """A cell as the page prints it: ISO dates, amounts with their currency, '—' for nothing."""
    if cell is None:
        return "—"
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, Money):
        return f"{format(cell.amount, 'f')} {cell.currency}"
    return str(cell)


def _shown(table: dashboards.Table) -> tuple[dashboards.Table, list[list[tuple[str, str]]]]:
    """Rows of (text, link) cells: the table's link sits on its link column."""
    links = list(table.links) or [""] * len(table.rows)
    return table, [
        [(_show(cell), link if i == table.link_column else "") for i, cell in enumerate(row)]
        for row, link in zip(table.rows, links, strict=True)
    ]


def _dashboard(name: str) -> Callable[[HttpRequest], HttpResponse]:
    @require_GET
    @page
    def view(request: HttpRequest) -> HttpResponse:
        require(request, *ROLES[name])
        scope = _scope(request)
        if name == "mine":
            scope = replace(scope, owner_ids=_owners(request))
        board = dashboards.build(name, scope)
        fmt = request.GET.get("format")
        if fmt:
            return _download(board, request, fmt)
        base = request.GET.copy()
        base.pop("format", None)
        base.pop("table", None)
        return render(
            request,
            "analytics/dashboard.html",
            {
                "board": board,
                "scope": scope,
                # Every SVG is built by q2c.analytics.charts, which escapes each text and link.
                "charts": [(heading, mark_safe(svg)) for heading, svg in board.charts],
                "tables": [_shown(t) for t in board.tables],
                "query": base.urlencode(),
                "visible": _visible(request),
            },
        )

    view.__name__ = f"{name}_dashboard"
    return view


sales = _dashboard("sales")
finance = _dashboard("finance")
executive = _dashboard("executive")
mine = _dashboard("mine")
