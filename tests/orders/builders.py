"""Small builders shared by the orders tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core import clock
from q2c.orders.domain import LineKind, NewOrderLine


def line(sku: str, kind: str, quantity: str, **extra: Any) -> NewOrderLine:
    return NewOrderLine(sku=sku, kind=LineKind(kind), quantity=Decimal(quantity), **extra)


def at(day: date) -> clock.SimulationClock:
    """Install a business clock standing on ``day`` (advance it with ``.set``)."""
    sim = clock.SimulationClock(day)
    clock.install(sim)
    return sim


def northwind_contract(
    entity: Any, account: Any, *, signed_on: date = date(2027, 1, 20), **overrides: Any
) -> Any:
    """Contract C-1 of ../shared/scenarios/northwind.md through the contracts app's public service:
    50 SEAT at 25.50 a month, 1 ONB at 5,000.00, 2 EDGE at 2,000.00, API usage, starting
    2027-02-01 for 12 months, signed (and so active) on ``signed_on``."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from q2c.contracts import services as contracts
    from q2c.contracts.services import NewContract, NewContractLine, SignatureEvidence

    lines = [
        NewContractLine(
            key="1",
            sku="SEAT",
            charge="SUB",
            charge_kind="recurring",
            quantity=Decimal(50),
            unit_price=Decimal("25.50"),
            period_months=1,
            name="Platform seat",
        ),
        NewContractLine(
            key="2",
            sku="ONB",
            charge="FEE",
            charge_kind="one_time",
            quantity=Decimal(1),
            unit_price=Decimal("5000.00"),
            name="Onboarding",
        ),
        NewContractLine(
            key="3",
            sku="EDGE",
            charge="UNIT",
            charge_kind="one_time",
            quantity=Decimal(2),
            unit_price=Decimal("2000.00"),
            name="Edge appliance",
        ),
        NewContractLine(
            key="4", sku="API", charge="CALLS", charge_kind="usage", quantity=Decimal(0), name="API calls"
        ),
    ]
    values: dict[str, Any] = {
        "entity_id": entity.pk,
        "account_id": account.pk,
        "currency": "EUR",
        "start_date": date(2027, 2, 1),
        "term_months": 12,
        "lines": lines,
        "billing_day": 1,
        "signature": SignatureEvidence(
            signer_name="Nora North",
            signer_title="CFO",
            signed_at=datetime.combine(signed_on, time(10, 0), tzinfo=ZoneInfo("Europe/Berlin")),
            document_sha256="0" * 64,
        ),
    }
    values.update(overrides)
    return contracts.create_contract(NewContract(**values), actor="test")
