"""Contract lines → the revenue preview format (docs/revenue-preview.md), the document the engine
reads. Pure: plain dicts in (the contracts app's event payloads), plain dicts out.

- One obligation per contract line (a bundle's components are lines of their own), its pattern
  from the line's revenue rule (the product's setting) or, without one, from its kind: recurring →
  ratable over its service period, one-time → point in time (on delivery or completion), usage →
  as used (kept outside the document: usage is variable consideration allocated wholly to its
  obligation, ASC 606-10-32-40, so it does not take part in the allocation).
- SSP: the line's ``ssp_unit`` (the catalog's SSP for the sale context, per unit and price period)
  scaled like the line's value: value × ssp_unit ÷ net unit price, rounded to the minor unit
  once. Without an SSP, the observed price is used (the value) and the obligation says so.
- Amendments become modifications: added lines are added obligations; reductions change the
  reduced obligation (its remaining SSP scaled by the quantity left); the price change is the
  delta lines' value. The engine decides the treatment (ASC 606-10-25-12/13).
- Cancellations end ratable obligations on the effective date and remove undelivered ones.

Must not import Django or any q2c app above ``core``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from q2c.core.money import currency_exponent

RATABLE = "ratable"
POINT_IN_TIME = "point_in_time"
PROGRESS = "progress"
USAGE = "usage"
MILESTONES = "milestones"


def _amount(value: Any) -> Decimal:
    """A payload amount: Money as ``{"amount", "currency"}``, a string or a number."""
    if isinstance(value, Mapping):
        value = value.get("amount", "0")
    if hasattr(value, "amount") and hasattr(value, "currency"):
        value = value.amount
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _fmt(value: Decimal, currency: str) -> str:
    exp = Decimal(1).scaleb(-currency_exponent(currency))
    return format(value.quantize(exp, rounding=ROUND_HALF_UP), "f")


def pattern_of(line: Mapping[str, Any]) -> str:
    rule = str(line.get("revenue_rule") or "")
    kind = str(line.get("charge_kind") or "")
    if kind == "usage" or rule == "as_used":
        return USAGE
    if rule == "measured_progress":
        return PROGRESS
    if rule == RATABLE or (not rule and kind == "recurring"):
        return RATABLE
    if rule == POINT_IN_TIME or kind == "one_time":
        return POINT_IN_TIME
    return RATABLE


def ssp_of(line: Mapping[str, Any], currency: str) -> tuple[Decimal, str]:
    """The line's SSP over its service period and where it comes from."""
    value = _amount(line.get("value"))
    ssp_unit = _dec(line.get("ssp_unit"))
    price = _dec(line.get("net_unit_price"))
    if ssp_unit is not None and ssp_unit > 0:
        if price is not None and price > 0 and value:
            return Decimal(_fmt(value * ssp_unit / price, currency)), "catalog"
        qty = abs(_dec(line.get("quantity")) or Decimal(0))
        months = Decimal(months_between(line) if str(line.get("charge_kind")) == "recurring" else 1)
        per = Decimal(int(line.get("period_months") or 1))
        return Decimal(_fmt(ssp_unit * qty * months / per, currency)), "catalog"
    return abs(value), "observed price"


def months_between(line: Mapping[str, Any]) -> int:
    start, end = _day(line["service_start"]), _day(line["service_end"])
    return max(1, (end.year - start.year) * 12 + end.month - start.month)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def obligation_of(line: Mapping[str, Any], currency: str, oid: str) -> dict[str, Any]:
    pattern = pattern_of(line)
    ssp, _ = ssp_of(line, currency)
    qty = _dec(line.get("quantity")) or Decimal(0)
    name = str(line.get("name") or line.get("sku") or oid)
    out: dict[str, Any] = {
        "id": oid,
        "description": f"{format(qty.normalize(), 'f')} × {name}"[:200],
        "category": str(line.get("revenue_category") or "other"),
        "pattern": pattern,
    }
    if ssp > 0:
        out["ssp"] = _fmt(ssp, currency)
    start, end = _day(line["service_start"]), _day(line["service_end"])
    if pattern == RATABLE:
        out["start"], out["end"] = start.isoformat(), end.isoformat()
    elif pattern == PROGRESS:
        out["progress"] = []
    return out


def _revenue_lines(lines: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [ln for ln in lines if not ln.get("at_renewal")]


def initial(
    head: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document of a contract just activated, and the facts kept beside it."""
    currency = str(head["currency"])
    number = str(head.get("number") or f"contract-{head.get('contract_id')}")
    obligations = []
    fixed = Decimal(0)
    facts: dict[str, Any] = {"lines": {}, "usage": {}, "amendments": [], "ssp_sources": {}}
    for line in _revenue_lines(lines):
        key = str(line["key"])
        pattern = pattern_of(line)
        facts["lines"][key] = _line_fact(line, key)
        if pattern == USAGE:
            facts["usage"][key] = {
                "label": number,
                "category": str(line.get("revenue_category") or "usage"),
                "sku": str(line.get("sku") or ""),
                "description": str(line.get("name") or ""),
            }
            continue
        value = _amount(line.get("value"))
        if value <= 0 and not _dec(line.get("ssp_unit")):
            continue  # a free line without an SSP carries no revenue
        fixed += value
        obligations.append(obligation_of(line, currency, key))
        facts["ssp_sources"][key] = ssp_of(line, currency)[1]
    document: dict[str, Any] = {
        "contract": number,
        "currency": currency,
        "start": _day(head["start_date"]).isoformat(),
        "transaction_price": {"fixed": _fmt(fixed, currency)},
        "obligations": obligations,
    }
    return document, facts


def _line_fact(line: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {
        "key": key,
        "sku": str(line.get("sku") or ""),
        "quantity": str(line.get("quantity") or "0"),
        "category": str(line.get("revenue_category") or "other"),
    }


def obligation_ids(document: Mapping[str, Any]) -> set[str]:
    ids = {str(o["id"]) for o in document.get("obligations", ())}
    for m in document.get("modifications", ()):
        ids.update(str(o["id"]) for o in m.get("add", ()))
    return ids


def find_obligation(document: dict[str, Any], oid: str) -> dict[str, Any] | None:
    for o in document.get("obligations", ()):
        if str(o["id"]) == oid:
            return o  # type: ignore[no-any-return]
    for m in document.get("modifications", ()):
        for o in m.get("add", ()):
            if str(o["id"]) == oid:
                return o  # type: ignore[no-any-return]
    return None


def amendment(
    document: dict[str, Any],
    facts: dict[str, Any],
    *,
    number: int,
    effective: date,
    delta_lines: Sequence[Mapping[str, Any]],
    cancel: bool = False,
    unrecognised: Mapping[str, Decimal] | None = None,
) -> dict[str, Any] | None:
    """Add the modification of amendment ``number`` (or a cancellation) to ``document``; returns
    it, or None when it changes nothing revenue sees."""
    currency = str(document["currency"])
    label = f"{document['contract']}-A{number}"
    existing = obligation_ids(document)
    add: list[dict[str, Any]] = []
    change: list[dict[str, Any]] = []
    remove: list[str] = []
    price_change = Decimal(0)
    for line in _revenue_lines(delta_lines):
        key = str(line["key"])
        qty = _dec(line.get("quantity")) or Decimal(0)
        pattern = pattern_of(line)
        target = str(line.get("adjusts") or "")
        if pattern == USAGE:
            if qty > 0 and key not in facts["usage"]:
                facts["usage"][key] = {
                    "label": label,
                    "category": str(line.get("revenue_category") or "usage"),
                    "sku": str(line.get("sku") or ""),
                    "description": str(line.get("name") or ""),
                }
            continue
        value = _amount(line.get("value"))
        if qty > 0 and not target:
            oid = key if key not in existing else f"A{number}-{key}"
            facts["lines"][oid] = _line_fact(line, oid)
            if value <= 0 and not _dec(line.get("ssp_unit")):
                continue
            add.append(obligation_of(line, currency, oid))
            existing.add(oid)
            price_change += value
            continue
        # A reduction (or what a cancellation stops) of the obligation it adjusts.
        target = target or key
        ob = find_obligation(document, target)
        if cancel:
            # Termination: what stops is removed with the consideration not yet recognised for it
            # (no refund is assumed: a credit is a credit note, which billing posts).
            if ob is not None and target not in remove:
                remove.append(target)
                price_change -= (unrecognised or {}).get(target, Decimal(0))
            continue
        price_change += value
        if ob is None:
            continue
        if qty == 0:
            # A price change of the obligation alone. Its SSP for what remains: the line's SSP per
            # unit and period when given (the SSP may have changed), else the default (its SSP ×
            # the share not yet transferred).
            item: dict[str, Any] = {"obligation": target}
            ssp_unit = _dec(line.get("ssp_unit"))
            if ssp_unit and ob["pattern"] == RATABLE and effective < date.fromisoformat(ob["end"]):
                units = _dec(facts["lines"].get(target, {}).get("quantity")) or Decimal(1)
                months = months_between({"service_start": max(effective, date.fromisoformat(ob["start"])),
                                         "service_end": ob["end"]})  # fmt: skip
                per = Decimal(int(line.get("period_months") or 1))
                item["ssp"] = _fmt(ssp_unit * units * months / per, currency)
            change.append(item)
            continue
        before = _dec(facts["lines"].get(target, {}).get("quantity")) or Decimal(0)
        left = before + qty if qty < 0 else Decimal(0)
        facts["lines"].setdefault(target, {})["quantity"] = str(max(left, Decimal(0)))
        if ob["pattern"] == RATABLE:
            start, end = date.fromisoformat(ob["start"]), date.fromisoformat(ob["end"])
            if left <= 0:
                if effective <= start:
                    remove.append(target)
                else:
                    change.append({"obligation": target, "end": effective.isoformat()})
            elif before > 0 and "ssp" in ob and effective < end:
                old_ssp = Decimal(ob["ssp"])
                days_left = Decimal((end - max(start, effective)).days)
                remaining = old_ssp * days_left / Decimal((end - start).days) * left / before
                if remaining > 0:
                    change.append({"obligation": target, "ssp": _fmt(remaining, currency)})
        elif ob["pattern"] == POINT_IN_TIME and not ob.get("delivered_on") and not ob.get("deliveries"):
            remove.append(target)
        else:
            change.append({"obligation": target})
    if not add and not change and not remove and not price_change:
        return None
    mod: dict[str, Any] = {
        "date": effective.isoformat(),
        "price_change": _fmt(price_change, currency),
        "description": ("cancellation" if cancel else f"amendment {number}"),
    }
    if add:
        mod["add"] = add
        mod["contract"] = label
    if change:
        mod["change"] = change
    if remove:
        mod["remove"] = sorted(set(remove))
    document.setdefault("modifications", []).append(mod)
    facts.setdefault("amendments", []).append(number)
    return mod
