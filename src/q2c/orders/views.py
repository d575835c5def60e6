"""Pages of orders: the order list, the fulfilment board, an order with its lines, shipments,
provisioning and timeline (and the forms that move it on), stock levels, the stock ledger, and
the forms to receive and adjust stock. Thin: role check first, then ``queries``/``services``.
Who may open what is written in docs/permissions.md (section orders).

An action that breaks a rule (picking more than is in stock, delivering before shipping …)
shows the order again with the error and the status the API would answer (409 or 422); nothing
is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.core.clock import parse_date
from q2c.core.errors import DomainError, NotFound
from q2c.orders import domain, present, queries, services
from q2c.orders.domain import LineKind, OrderStatus, OrderType, ShipmentStatus, TaskKind, TaskStatus
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
FULFILMENT = (Role.FINANCE,)
CANCELLERS = (Role.SALES_MANAGER, Role.FINANCE)
PAGE_SIZE = 25


def _can(request: HttpRequest, *roles: Role) -> bool:
    have = roles_of(request.user)
    return Role.ADMIN in have or bool(have & {str(r) for r in roles})


def _actor(request: HttpRequest) -> str:
    return str(request.user.get_username())


# --------------------------------------------------------------------------- lists


@require_GET
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    filters = {
        "q": request.GET.get("q", "")[:200],
        "status": request.GET.get("status", ""),
        "type": request.GET.get("type", ""),
        "sort": request.GET.get("sort", ""),
    }
    page = Paginator(queries.orders(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/order_list.html",
        {
            "page_obj": page,
            "orders": page.object_list,
            "filters": filters,
            "statuses": [(s.value, s.value.replace("_", " ")) for s in OrderStatus],
            "types": [(t.value, t.value) for t in OrderType],
        },
    )


@require_GET
@login_required
def board(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    return render(
        request, "orders/board.html", {"board": queries.board(), "can_fulfil": _can(request, *FULFILMENT)}
    )


# --------------------------------------------------------------------------- an order


def _detail_context(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order = queries.order(order_id)
    lines = queries.lines_of(order.pk)
    shipments = queries.shipments_of(order.pk)
    timeline = [
        {"at": e.occurred_at, "type": e.type, "actor": e.actor, "text": present.describe(e.type, e.payload)}
        for e in queries.timeline(order.pk)
    ]
    live = order.status not in (OrderStatus.CLOSED, OrderStatus.CANCELLED)
    return {
        "order": order,
        "lines": lines,
        "pickable": [ln for ln in lines if ln.kind == LineKind.GOOD and ln.reserved > 0] if live else [],
        "shipments": shipments,
        "timeline": timeline,
        "can_fulfil": _can(request, *FULFILMENT),
        "can_cancel": _can(request, *CANCELLERS),
        "can_cancel_order": order.status == OrderStatus.OPEN,
        "can_close": order.status in (OrderStatus.FULFILLED, OrderStatus.PARTIALLY_FULFILLED),
        "PICKED": ShipmentStatus.PICKED,
        "SHIPPED": ShipmentStatus.SHIPPED,
        "PENDING": TaskStatus.PENDING,
        "ACTIVE": TaskStatus.ACTIVE,
        "ACTIVATE": TaskKind.ACTIVATE,
        "SERVICE": LineKind.SERVICE,
        "GOOD": LineKind.GOOD,
        "LIVE_LINE": (domain.LineStatus.OPEN, domain.LineStatus.IN_FULFILMENT),
    }


@require_GET
@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    require(request, *READERS)
    return render(request, "orders/order_detail.html", _detail_context(request, order_id))


def _act(request: HttpRequest, order_id: int | None, action: Any, done: str) -> HttpResponse:
    """Run ``action``; on success go back to the order with a message, on a broken rule show the
    order with the error (and the API's status code)."""
    try:
        result_order_id = action()
    except NotFound:
        raise
    except DomainError as exc:
        if order_id is None:
            raise
        context = _detail_context(request, order_id)
        context["error"] = exc
        return render(request, "orders/order_detail.html", context, status=exc.status)
    messages.success(request, done)
    return redirect("orders:order_detail", order_id=result_order_id or order_id)


def _date(request: HttpRequest, name: str) -> Any:
    value = request.POST.get(name, "").strip()
    return parse_date(value, field=name) if value else None


@require_POST
@login_required
def pick(request: HttpRequest, order_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    order = queries.order(order_id)
    wanted = []
    for key in request.POST:
        value = str(request.POST.get(key, "")).strip()
        if key.startswith("qty-") and value not in ("", "0"):
            try:
                wanted.append((int(key[4:]), value))
            except ValueError:
                continue

    def act() -> int:
        shipment = services.pick(order.pk, wanted, actor=_actor(request))
        return shipment.order_id

    return _act(request, order.pk, act, "Shipment picked.")


@require_POST
@login_required
def cancel_order(request: HttpRequest, order_id: int) -> HttpResponse:
    require(request, *CANCELLERS)
    order = queries.order(order_id)
    return _act(
        request,
        order.pk,
        lambda: (
            services.cancel_order(order.pk, actor=_actor(request), reason=request.POST.get("reason", "")).pk
        ),
        "Order cancelled.",
    )


@require_POST
@login_required
def close_order(request: HttpRequest, order_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    order = queries.order(order_id)
    return _act(
        request, order.pk, lambda: services.close_order(order.pk, actor=_actor(request)).pk, "Order closed."
    )


@require_POST
@login_required
def ship(request: HttpRequest, shipment_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    shipment = queries.shipment(shipment_id)

    def act() -> int:
        services.ship(
            shipment.pk,
            carrier=request.POST.get("carrier", ""),
            tracking_number=request.POST.get("tracking_number", ""),
            shipped_on=_date(request, "shipped_on"),
            actor=_actor(request),
        )
        return shipment.order_id

    return _act(request, shipment.order_id, act, f"Shipment {shipment.number} shipped.")


@require_POST
@login_required
def deliver(request: HttpRequest, shipment_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    shipment = queries.shipment(shipment_id)

    def act() -> int:
        services.deliver(shipment.pk, delivered_on=_date(request, "delivered_on"), actor=_actor(request))
        return shipment.order_id

    return _act(request, shipment.order_id, act, f"Shipment {shipment.number} delivered.")


@require_POST
@login_required
def cancel_shipment(request: HttpRequest, shipment_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    shipment = queries.shipment(shipment_id)

    def act() -> int:
        services.cancel_shipment(shipment.pk, actor=_actor(request))
        return shipment.order_id

    return _act(request, shipment.order_id, act, f"Shipment {shipment.number} put back.")


@require_POST
@login_required
def activate(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    line = queries.line(line_id)

    def act() -> int:
        services.activate(line.pk, activated_on=_date(request, "activated_on"), actor=_actor(request))
        return line.order_id

    return _act(request, line.order_id, act, f"Line {line.position} ({line.sku}) activated.")


@require_POST
@login_required
def complete(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *FULFILMENT)
    line = queries.line(line_id)

    def act() -> int:
        services.complete(line.pk, completed_on=_date(request, "completed_on"), actor=_actor(request))
        return line.order_id

    return _act(request, line.order_id, act, f"Line {line.position} ({line.sku}) completed.")


@require_POST
@login_required
def cancel_line(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *CANCELLERS)
    line = queries.line(line_id)

    def act() -> int:
        services.cancel_line(line.pk, actor=_actor(request), reason=request.POST.get("reason", ""))
        return line.order_id

    return _act(request, line.order_id, act, f"Line {line.position} ({line.sku}) cancelled.")


# --------------------------------------------------------------------------- stock


@require_GET
@login_required
def stock(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    sku = request.GET.get("sku", "")[:64]
    return render(
        request,
        "orders/stock.html",
        {"rows": queries.stock({"sku": sku}), "sku": sku, "can_fulfil": _can(request, *FULFILMENT)},
    )


@require_GET
@login_required
def stock_moves(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    filters = {"sku": request.GET.get("sku", "")[:64], "kind": request.GET.get("kind", "")}
    if filters["kind"] not in {k.value for k in domain.MoveKind}:
        filters["kind"] = ""
    page = Paginator(queries.moves(filters), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/stock_moves.html",
        {
            "page_obj": page,
            "moves": page.object_list,
            "filters": filters,
            "kinds": [k.value for k in domain.MoveKind],
        },
    )


class ReceiptForm(forms.Form):
    sku = forms.CharField(label="Product (SKU)", max_length=64)
    quantity = forms.CharField(label="Quantity received", max_length=30)
    location = forms.ChoiceField(label="Location", required=False)
    received_on = forms.DateField(
        label="Received on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label="Reference (delivery note, PO)", max_length=100, required=False)
    note = forms.CharField(label="Note", max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(loc.code, f"{loc.code} — {loc.name}") for loc in queries.locations()]


class AdjustmentForm(forms.Form):
    sku = forms.CharField(label="Product (SKU)", max_length=64)
    delta = forms.CharField(label="Change (+ or −)", max_length=30)
    location = forms.ChoiceField(label="Location", required=False)
    reference = forms.CharField(label="Reference (count sheet)", max_length=100, required=False)
    note = forms.CharField(label="Reason", max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(loc.code, f"{loc.code} — {loc.name}") for loc in queries.locations()]


def _form_error(form: forms.Form, exc: DomainError) -> None:
    field = (exc.field or "").split(".")[0].split("[")[0]
    form.add_error(field if field in form.fields else None, f"{exc.message} [{exc.code}]")


def _stock_form(
    request: HttpRequest,
    form_class: type[forms.Form],
    title: str,
    button: str,
    write: Callable[[dict[str, Any], str], str],
) -> HttpResponse:
    """The receive/adjust page: the form (SKU prefilled from ``?sku=``); on a valid POST
    ``write(cleaned_data, actor)`` moves the stock and answers the success message."""
    require(request, *FULFILMENT)
    form = form_class(
        request.POST if request.method == "POST" else None, initial={"sku": request.GET.get("sku", "")[:64]}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                message = write(form.cleaned_data, _actor(request))
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status
            else:
                messages.success(request, message)
                return redirect("orders:stock")
        status = status if status != 200 else 422
    return render(
        request,
        "orders/stock_form.html",
        {"form": form, "title": title, "button": button},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def receive(request: HttpRequest) -> HttpResponse:
    def write(data: dict[str, Any], actor: str) -> str:
        move = services.receive_stock(
            data["sku"],
            data["quantity"],
            location=data["location"] or "",
            received_on=data["received_on"],
            reference=data["reference"],
            note=data["note"],
            actor=actor,
        )
        return f"{move.on_hand_delta} {data['sku']} received; {move.on_hand_after} on hand."

    return _stock_form(request, ReceiptForm, "Receive stock", "Receive", write)


@require_http_methods(["GET", "POST"])
@login_required
def adjust(request: HttpRequest) -> HttpResponse:
    def write(data: dict[str, Any], actor: str) -> str:
        move = services.adjust_stock(
            data["sku"],
            data["delta"],
            location=data["location"] or "",
            reference=data["reference"],
            note=data["note"],
            actor=actor,
        )
        return f"{data['sku']} adjusted by {move.on_hand_delta}; {move.on_hand_after} on hand."

    return _stock_form(request, AdjustmentForm, "Adjust stock", "Adjust", write)
