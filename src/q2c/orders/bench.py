"""``q2c bench orders-receipt``: one stock receipt releasing many back-orders, writes included.

Setup (timed apart): a scratch seller, customer and good, and ``--orders`` orders of one line each
for 1–3 units, all back-ordered (written in bulk; they are the state a busy warehouse is in). The
measured step is ``services.receive_stock`` for exactly what they wait for, through the same code
path as the API: it locks the level and the orders, shares the units oldest first, reserves them
in one conditional update, writes the lines, one stock move per line and one event per line. The
SQL statements of the step are counted (they must not grow with the number of orders). The result
is checked against an independent recomputation from the generator's own quantities: every line
reserved in full, nothing back-ordered, the level's reserved equal to the sum, the stock ledger's
deltas adding up to the level. The run is rolled back, so the database is left as it was.

Registered in ``q2c/wiring.py``. Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

import random
import time
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from q2c.core import clock
from q2c.orders import services
from q2c.orders.domain import LineKind, LineStatus, OrderStatus, OrderType
from q2c.orders.models import Order, OrderLine, StockLevel, StockMove
from q2c.orders.services import common


class _Rollback(Exception):
    pass


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--orders", type=int, default=5_000, help="back-ordered orders to release (default 5,000)"
    )
    parser.add_argument("--seed", type=int, default=9)


def _scratch() -> tuple[Any, Any, str]:
    from q2c.catalog import services as catalog
    from q2c.catalog.models import UnitOfMeasure
    from q2c.parties import services as parties

    tag = uuid.uuid4().hex[:8].upper()
    entity = parties.create_entity(
        actor="bench",
        name=f"Bench seller {tag}",
        country="DE",
        base_currency="EUR",
        time_zone="Europe/Berlin",
    )
    account = parties.create_account(actor="bench", name=f"Bench customer {tag}", country="DE")
    if not UnitOfMeasure.objects.filter(code="each").exists():
        catalog.create_unit({"code": "each", "name": "Each", "divisible": False})
    sku = f"BENCH-{tag}"
    catalog.create_product({"sku": sku, "name": "Bench appliance", "type": "good", "unit": "each"})
    return entity, account, sku


def run(orders: int = 5_000, seed: int = 9, **_: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            entity, account, sku = _scratch()
            product = common.product_by_sku(sku)
            assert product is not None
            location = common.location_by_code("")
            today = clock.today()
            now = clock.now()
            made = Order.objects.bulk_create(
                [
                    Order(
                        entity=entity,
                        account=account,
                        number=f"BENCH-{i:07d}",
                        type=OrderType.NEW,
                        status=OrderStatus.OPEN,
                        location=location,
                        ordered_on=today,
                        created_at=now,
                        updated_at=now,
                    )
                    for i in range(orders)
                ]
            )
            wanted = [Decimal(rng.randint(1, 3)) for _ in range(orders)]
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=o,
                        position=1,
                        kind=LineKind.GOOD,
                        product_id=product["id"],
                        sku=sku,
                        quantity=q,
                        location=location,
                        status=LineStatus.OPEN,
                        backordered=q,
                        backordered_since=today,
                    )
                    for o, q in zip(made, wanted, strict=True)
                ],
                batch_size=1_000,
            )
            total = sum(wanted, Decimal(0))
            setup = time.perf_counter() - t0

            t1 = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                services.receive_stock(sku, total, reference="bench")
            elapsed = time.perf_counter() - t1

            # Independent recomputation from the generator's quantities.
            level = StockLevel.objects.get(product_id=product["id"], location=location)
            rows = dict(OrderLine.objects.filter(sku=sku).values_list("order_id", "reserved"))
            backordered = OrderLine.objects.filter(sku=sku, backordered__gt=0).count()
            moves = list(StockMove.objects.filter(level=level).values_list("on_hand_delta", "reserved_delta"))
            ok = (
                [rows[o.pk] for o in made] == wanted
                and backordered == 0
                and (level.on_hand, level.reserved) == (total, total)
                and sum((m[0] for m in moves), Decimal(0)) == level.on_hand
                and sum((m[1] for m in moves), Decimal(0)) == level.reserved
                and len(moves) == orders + 1  # the receipt, then one reservation per line
            )
            result = {
                "backend": connection.vendor,
                "orders": orders,
                "units": str(total),
                "setup_s": round(setup, 3),
                "receipt_s": round(elapsed, 3),
                "lines_per_s": round(orders / elapsed) if elapsed else None,
                "statements": len(captured.captured_queries),
                "checked": "ok" if ok else "MISMATCH",
            }
            raise _Rollback
    except _Rollback:
        pass
    return result
