"""How orders read to people: a sentence for each event of an order's timeline.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from typing import Any

from q2c.orders import events


def _line(p: dict[str, Any]) -> str:
    return f"line {p.get('position', '?')} {p.get('sku', '')}".strip()


def describe(event_type: str, p: dict[str, Any]) -> str:
    """One sentence saying what an order event means."""
    text = _describe(event_type, p)
    return text[:1].upper() + text[1:]


def _describe(event_type: str, p: dict[str, Any]) -> str:
    if event_type == events.ORDER_CREATED:
        where = f" from contract {p['contract_number']}" if p.get("contract_number") else ""
        return f"{str(p.get('order_type', '')).capitalize()} order created{where} with {len(p.get('lines', []))} line(s)"
    if event_type == events.ORDER_STATUS_CHANGED:
        return f"Order {str(p.get('status_from', '')).replace('_', ' ')} → {str(p.get('status_to', '')).replace('_', ' ')}"
    if event_type == events.ORDER_CANCELLED:
        return f"Order cancelled{': ' + p['reason'] if p.get('reason') else ''}"
    if event_type == events.ORDER_CLOSED:
        return "Order closed"
    if event_type == events.LINE_RESERVED:
        how = " (released from back-order)" if p.get("released_from_backorder") else ""
        return f"{p.get('quantity')} reserved in stock for {_line(p)}{how}"
    if event_type == events.LINE_BACKORDERED:
        return f"{p.get('quantity')} back-ordered for {_line(p)} (available: {p.get('available')})"
    if event_type == events.LINE_CANCELLED:
        return f"{p.get('quantity')} cancelled on {_line(p)}{': ' + p['reason'] if p.get('reason') else ''}"
    if event_type == events.SHIPMENT_PICKED:
        items = ", ".join(f"{ln.get('quantity')} {ln.get('sku')}" for ln in p.get("lines", []))
        return f"Shipment {p.get('shipment_number')} picked: {items}"
    if event_type == events.SHIPMENT_CANCELLED:
        return f"Shipment {p.get('shipment_number')} put back"
    if event_type == events.LINE_SHIPPED:
        tracking = f", tracking {p['tracking_number']}" if p.get("tracking_number") else ""
        return (
            f"{p.get('quantity')} of {_line(p)} shipped on {p.get('shipped_on')} "
            f"with {p.get('carrier')}{tracking} ({p.get('shipment_number')})"
        )
    if event_type == events.LINE_DELIVERED:
        return f"{p.get('quantity')} of {_line(p)} delivered on {p.get('delivered_on')} ({p.get('shipment_number')})"
    if event_type == events.LINE_ACTIVATED:
        return f"{_line(p)} activated on {p.get('activated_on')}"
    if event_type == events.LINE_COMPLETED:
        return f"{_line(p)} completed on {p.get('completed_on')}"
    if event_type == events.LINE_DEACTIVATED:
        return f"{_line(p)} deactivated on {p.get('deactivated_on')}"
    return event_type
