"""Reactions of orders to the contracts app's lifecycle events, registered in ``q2c.wiring``. Each
runs synchronously inside the contract's transaction, so it must not fail on data it can cope
with: a line whose product the catalog no longer knows still becomes an order line (its kind
then follows its charge).

- ``contracts.contract.activated`` → :func:`on_contract_activated`: an order of type ``new`` (or
  ``renewal`` when the contract continues a previous one) with every line of the contract;
- ``contracts.contract.amended`` → :func:`on_contract_amended`: an order of type ``amendment``
  with the amendment's delta lines (negative lines are reductions: a deactivation task);
- ``contracts.contract.cancelled`` → :func:`on_contract_cancelled`: an order of type
  ``cancellation`` with the negative lines of what stops;
- ``contracts.contract.renewed`` → :func:`on_contract_renewed`: makes sure the next-term contract
  has its renewal order (it normally has one already, made when it was activated).

Each order carries a ``source_key`` naming the event that made it, so a replayed event finds its
order instead of making a second one. Provisioning is automatic (done by the daily job on the
planned date) where no person needs to act: subscriptions and usage of renewals and amendments,
and every reduction. A new customer's subscriptions are provisioned by a person.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from q2c.orders import domain
from q2c.orders.domain import LineKind, NewOrder, NewOrderLine, OrderType
from q2c.orders.models import Order
from q2c.orders.services import common, create_order
from q2c.platform.events import DomainEvent

ACTIVATED = "contracts.contract.activated"
AMENDED = "contracts.contract.amended"
RENEWED = "contracts.contract.renewed"
CANCELLED = "contracts.contract.cancelled"

#: Amendments that change no physical fact: their delta lines are bookkeeping (a price change is a
#: stop at the old price and a start at the new one on the same day) and run by themselves.
SELF_RUNNING_AMENDMENTS = frozenset({"change_price", "extend_term"})


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _lines(
    raw: Iterable[Mapping[str, Any]], *, automatic_for: frozenset[LineKind], all_automatic: bool = False
) -> list[NewOrderLine]:
    raw = list(raw)
    info = common.product_info(int(r["product_id"]) for r in raw if r.get("product_id") is not None)
    # A contract line made without the catalog's id still names its SKU.
    by_sku = common.products_by_sku(str(r.get("sku") or "") for r in raw if r.get("product_id") is None)
    out = []
    for r in raw:
        pid = int(r["product_id"]) if r.get("product_id") is not None else None
        product = info.get(pid) if pid is not None else by_sku.get(str(r.get("sku") or ""))
        if product is not None and pid is None:
            pid = int(product["id"])
        kind = domain.kind_for(product["type"] if product else None, r.get("charge_kind"))
        qty = Decimal(str(r.get("quantity") or 0))
        if qty == 0 and kind is not LineKind.USAGE:
            continue  # nothing to deliver (usage lines carry no quantity: they are used, then billed)
        out.append(
            NewOrderLine(
                sku=str(r.get("sku") or ""),
                kind=kind,
                quantity=qty,
                product_id=pid if product else None,
                name=str(r.get("name") or (product or {}).get("name") or ""),
                unit=str(r.get("unit") or (product or {}).get("unit") or ""),
                # The contract decides what was sold: a fraction of a unit the catalog calls
                # indivisible is still delivered as written rather than failing the contract.
                divisible=(bool(product["divisible"]) if product else kind is LineKind.USAGE)
                or qty != qty.to_integral_value(),
                contract_line_key=str(r.get("key") or ""),
                contract_line_id=int(r["line_id"]) if r.get("line_id") is not None else None,
                planned_date=_date(r.get("service_start")),
                service_end=_date(r.get("service_end")),
                # Reductions always switch off by themselves on their date.
                automatic=all_automatic or qty < 0 or kind in automatic_for,
            )
        )
    return out


def _order(
    event: DomainEvent, type_: OrderType, source_key: str, lines: list[NewOrderLine], version: Any
) -> Order:
    p = event.payload
    new = NewOrder(
        entity_id=int(p["entity_id"]),
        account_id=int(p["account_id"]),
        type=type_,
        lines=lines,
        contract_id=int(p["contract_id"]),
        contract_number=str(p.get("number") or ""),
        contract_version=int(version) if version is not None else None,
        source_key=source_key,
    )
    return create_order(new, actor=event.actor or "system", allow_empty=True)


def on_contract_activated(event: DomainEvent) -> Order:
    p = event.payload
    renewal = bool(p.get("previous_contract_id")) or p.get("sale_context") == "renewal"
    type_ = OrderType.RENEWAL if renewal else OrderType.NEW
    lines = _lines(
        p.get("lines") or [],
        # A renewal continues what runs: nobody needs to switch it on.
        automatic_for=frozenset({LineKind.SUBSCRIPTION, LineKind.USAGE}) if renewal else frozenset(),
    )
    return _order(event, type_, f"contract:{p['contract_id']}:activated", lines, p.get("version"))


def on_contract_amended(event: DomainEvent) -> Order:
    p = event.payload
    lines = _lines(
        p.get("delta_lines") or [],
        automatic_for=frozenset({LineKind.SUBSCRIPTION, LineKind.USAGE}),
        all_automatic=str(p.get("kind") or "") in SELF_RUNNING_AMENDMENTS,
    )
    key = f"contract:{p['contract_id']}:amendment:{p.get('amendment_number') or p.get('version')}"
    return _order(event, OrderType.AMENDMENT, key, lines, p.get("version"))


def on_contract_cancelled(event: DomainEvent) -> Order:
    p = event.payload
    lines = _lines(p.get("delta_lines") or [], automatic_for=frozenset(), all_automatic=True)
    key = f"contract:{p['contract_id']}:cancellation:{p.get('amendment_number') or p.get('version')}"
    return _order(event, OrderType.CANCELLATION, key, lines, p.get("version"))


def on_contract_renewed(event: DomainEvent) -> Order | None:
    """The next term's renewal order, made from its ContractActivated event if it has none."""
    from q2c.platform.models import Event

    new_id = event.payload.get("new_contract_id")
    if new_id is None:
        return None
    existing = Order.objects.filter(source_key=f"contract:{new_id}:activated").first()
    if existing is not None:
        return existing
    activated = (
        Event.objects.filter(type=ACTIVATED, aggregate_type="contracts.contract", aggregate_id=str(new_id))
        .order_by("-seq")
        .first()
    )
    if activated is None:
        return None  # not active yet: its activation will make the order
    return on_contract_activated(
        DomainEvent(
            type=ACTIVATED,
            aggregate_type=activated.aggregate_type,
            aggregate_id=activated.aggregate_id,
            payload={**activated.payload, "sale_context": "renewal"},
            entity_id=activated.entity_id,
            actor=event.actor,
        )
    )
