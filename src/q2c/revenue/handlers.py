"""Revenue's reactions to contracts' and orders' events (registered in ``q2c.wiring``): thin
adapters from the event payloads (docs/contracts.md, docs/orders.md) to ``revenue.services``.

- ``contracts.contract.activated`` → obligations, SSPs and the allocation;
- ``contracts.contract.amended`` → a contract modification (ASC 606-10-25-12/13);
- ``contracts.contract.cancelled`` → a modification ending what stops;
- ``contracts.contract.renewed`` → the old term ends (the new contract's activation follows);
- ``orders.line.delivered`` (fully delivered) / ``orders.line.completed`` → a point-in-time
  obligation is satisfied on that day; ``orders.line.delivered`` with only some units → those
  units are recognised (unit by unit, of the ordered quantity).

They run inside the writer's transaction. Must not import any q2c app above ``revenue``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.platform.events import DomainEvent
from q2c.revenue import services


def _payload(event: DomainEvent) -> dict[str, Any]:
    p = dict(event.payload)
    p.setdefault("contract_id", event.aggregate_id)
    return p


def on_contract_activated(event: DomainEvent) -> None:
    services.identify(_payload(event), actor=event.actor)


def on_contract_amended(event: DomainEvent) -> None:
    services.modify(_payload(event), actor=event.actor)


def on_contract_cancelled(event: DomainEvent) -> None:
    services.modify(_payload(event), cancel=True, actor=event.actor)


def on_contract_renewed(event: DomainEvent) -> None:
    services.renewed(_payload(event), actor=event.actor)


def _satisfied(event: DomainEvent, day_key: str) -> None:
    p = event.payload
    if not p.get("contract_id") or not p.get("contract_line_key") or not p.get(day_key):
        return
    services.satisfy(int(p["contract_id"]), str(p["contract_line_key"]), date.fromisoformat(str(p[day_key])),
                     actor=event.actor)  # fmt: skip


def on_line_delivered(event: DomainEvent) -> None:
    p = event.payload
    if p.get("fully_delivered", True):
        _satisfied(event, "delivered_on")
        return
    if not p.get("contract_id") or not p.get("contract_line_key") or not p.get("delivered_on"):
        return
    if p.get("delivered_total") is None or not p.get("ordered_quantity"):
        return
    services.deliver_part(
        int(p["contract_id"]),
        str(p["contract_line_key"]),
        date.fromisoformat(str(p["delivered_on"])),
        Decimal(str(p["delivered_total"])),
        Decimal(str(p["ordered_quantity"])),
        actor=event.actor,
    )


def on_line_completed(event: DomainEvent) -> None:
    _satisfied(event, "completed_on")
