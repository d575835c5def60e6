"""Small helpers for the revenue tests: run the preview on a dict, pick figures out of its output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from q2c.revenue.engine.preview import preview

CONTRACTS = Path(__file__).parent / "contracts"


def run(document: dict[str, Any]) -> dict[str, Any]:
    """The preview of a contract given as a dict (sent through JSON text, as a user would)."""
    return preview(json.dumps(document))


def load_contract(name: str) -> dict[str, Any]:
    return json.loads((CONTRACTS / name).read_text())


def allocation(out: dict[str, Any], contract: str | None = None) -> dict[str, str]:
    contracts = out["contracts"] if contract is None else [c for c in out["contracts"] if c["id"] == contract]
    return {row["obligation"]: row["allocated"] for c in contracts for row in c["allocation"]}


def obligation(out: dict[str, Any], oid: str) -> dict[str, Any]:
    return next(o for o in out["obligations"] if o["id"] == oid)


def monthly(out: dict[str, Any], oid: str) -> list[str]:
    return [line["amount"] for line in obligation(out, oid)["schedule"]]


def by_month(out: dict[str, Any], oid: str) -> dict[str, str]:
    return {line["month"]: line["amount"] for line in obligation(out, oid)["schedule"]}


def month_total(out: dict[str, Any], month: str) -> str:
    return next(m["amount"] for m in out["schedule"] if m["month"] == month)
