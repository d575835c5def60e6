"""Billing's reactions to contracts' and orders' events (registered in ``q2c.wiring``): thin
adapters from the event payloads (docs/contracts.md, docs/orders.md) to ``billing.services``.

- ``contracts.contract.activated`` → schedules for the contract's lines;
- ``contracts.contract.amended`` → schedules for the delta lines and their prorations;
- ``contracts.contract.cancelled`` → schedules end on the effective date (credits for periods
  billed ahead);
- ``orders.line.delivered`` / ``activated`` / ``completed`` → the facts one-time charges wait for.

They run inside the writer's transaction: a failure aborts the contract change, so a contract is
never active without its schedules.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from q2c.billing import services
from q2c.core.money import to_decimal
from q2c.platform.events import DomainEvent


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return to_decimal(value if not isinstance(value, float) else str(value))


def head_of(p: Mapping[str, Any], contract_id: Any) -> services.ContractHead:
    return services.ContractHead(
        contract_id=int(p.get("contract_id") or contract_id),
        number=str(p.get("number") or ""),
        entity_id=int(p["entity_id"]),
        account_id=int(p["account_id"]),
        currency=str(p["currency"]),
        start=_date(p["start_date"]),
        end=_date(p["end_date"]),
        billing_frequency=str(p.get("billing_frequency") or "month"),
        billing_day=int(p.get("billing_day") or 1),
        payment_terms_days=p.get("payment_terms_days"),
        billing_settings=dict(p.get("billing_settings") or {}),
    )


def line_of(raw: Mapping[str, Any], amendment_number: int | None = None) -> services.LineIn:
    return services.LineIn(
        key=str(raw["key"]),
        sku=str(raw["sku"]),
        charge_kind=str(raw["charge_kind"]),
        quantity=_dec(raw["quantity"]) or Decimal(0),
        unit_price=_dec(raw.get("net_unit_price")),
        service_start=_date(raw["service_start"]),
        service_end=_date(raw["service_end"]),
        name=str(raw.get("name") or ""),
        charge=str(raw.get("charge") or ""),
        period_months=int(raw.get("period_months") or 0),
        timing=str(raw.get("timing") or ""),
        billing_frequency=str(raw.get("billing_frequency") or ""),
        unit=str(raw.get("unit") or ""),
        tax_category=str(raw.get("tax_category") or ""),
        revenue_category=str(raw.get("revenue_category") or ""),
        adjusts=str(raw.get("adjusts") or ""),
        at_renewal=bool(raw.get("at_renewal")),
        credit=bool(raw.get("credit")),
        amendment_number=amendment_number,
    )


def on_contract_activated(event: DomainEvent) -> None:
    p = event.payload
    services.create_schedules(
        head_of(p, event.aggregate_id), [line_of(raw) for raw in p.get("lines", ())], actor=event.actor
    )


def on_contract_amended(event: DomainEvent) -> None:
    p = event.payload
    number = p.get("amendment_number")
    services.amend_schedules(
        head_of(p, event.aggregate_id),
        _date(p["effective_date"]),
        [line_of(raw, number) for raw in p.get("delta_lines", ())],
        amendment_number=number,
        actor=event.actor,
    )


def on_contract_cancelled(event: DomainEvent) -> None:
    p = event.payload
    services.end_schedules(head_of(p, event.aggregate_id), _date(p["effective_date"]), actor=event.actor)


def _fact(event: DomainEvent, kind: str, day_key: str) -> None:
    p = event.payload
    if not p.get("contract_id") or not p.get("contract_line_key"):
        return
    services.record_fact(
        int(p["contract_id"]),
        str(p["contract_line_key"]),
        kind,
        _date(p[day_key]),
        quantity=_dec(p.get("quantity")),
        ref=f"event:{event.seq}" if event.seq is not None else f"{kind}:{p.get('line_id')}:{p[day_key]}",
        actor=event.actor,
    )


def on_line_delivered(event: DomainEvent) -> None:
    _fact(event, "delivered", "delivered_on")


def on_line_activated(event: DomainEvent) -> None:
    _fact(event, "activated", "activated_on")


def on_line_completed(event: DomainEvent) -> None:
    _fact(event, "completed", "completed_on")
