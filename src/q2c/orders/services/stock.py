"""Use cases of stock: locations, receipts (which release back-orders at once, oldest first) and
adjustments after a count.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.orders import domain, events, locks
from q2c.orders.domain import MoveKind
from q2c.orders.errors import DuplicateLocation, ProductNotFound, WrongKind
from q2c.orders.models import Location, StockLevel, StockMove
from q2c.orders.services import common

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,19}$")


def create_location(code: str, name: str, *, is_default: bool = False, actor: Any = None) -> Location:
    """A new stock location; ``is_default`` makes it the one new orders use.

    Errors: ``ValidationError`` (422) for a bad code or name; ``DuplicateLocation`` (409).
    """
    code = common.text(code, field="code", max_length=20, required=True)
    if not CODE_RE.match(code):
        raise ValidationError(
            "code is letters, digits, '.', '_' or '-' (up to 20)", code="orders.invalid_code", field="code"
        )
    name = common.text(name, field="name", max_length=200, required=True)
    with transaction.atomic():
        if Location.objects.filter(code=code).exists():
            raise DuplicateLocation(f"a location '{code}' exists already", field="code")
        if is_default:
            Location.objects.filter(is_default=True).update(is_default=False)
        try:
            with transaction.atomic():
                row = Location.objects.create(
                    code=code, name=name, is_default=is_default, created_at=clock.now()
                )
        except IntegrityError:
            raise DuplicateLocation(f"a location '{code}' exists already", field="code") from None
        common.record(
            [
                common.DomainEvent(
                    type=events.LOCATION_CREATED,
                    aggregate_type="orders.location",
                    aggregate_id=row.pk,
                    payload={"location_id": row.pk, "code": code, "name": name, "is_default": is_default},
                    actor=common.actor_name(actor),
                )
            ]
        )
        return row


def _good(sku: str) -> dict[str, Any]:
    sku = common.text(sku, field="sku", max_length=64, required=True)
    info = common.product_by_sku(sku)
    if info is None:
        raise ProductNotFound(f"no catalog product '{sku}'", field="sku")
    if info["type"] != domain.LineKind.GOOD:
        raise WrongKind(f"{sku} is a {info['type']}: only goods are kept in stock", field="sku")
    return info


def receive_stock(
    sku: str,
    quantity: Any,
    *,
    location: str = "",
    received_on: date | None = None,
    reference: str = "",
    note: str = "",
    actor: Any = None,
) -> StockMove:
    """Put ``quantity`` units of a good on hand at ``location`` (default: the default location),
    then release back-orders for it, oldest first, as far as the units go.

    Errors: ``ProductNotFound``/``LocationNotFound`` (404); ``WrongKind`` (422) for a product that
    is not a good; ``ValidationError`` (422) for a quantity that is not positive, too precise or
    fractional for an indivisible unit; ``InvalidDate`` (422) for a date in the future.
    """
    info = _good(sku)
    q = domain.quantity(quantity, divisible=info["divisible"])
    reference = common.text(reference, field="reference", max_length=100)
    note = common.text(note, field="note", max_length=500)
    with transaction.atomic():
        place = common.location_by_code(location)
        day = common.business_date(received_on, order=None, field="received_on")
        level = locks.level(place, info["id"], info["sku"])
        moved = common.adjust(
            level, q, kind=MoveKind.RECEIPT, on=day, actor=actor, reference=reference, note=note
        )
        moved.save()
        out = [
            common.stock_event(
                events.STOCK_RECEIVED,
                level,
                actor,
                quantity=q,
                received_on=day,
                reference=reference,
                move_id=moved.pk,
            )
        ]
        out += common.release_backorders(level, on=day, actor=actor)
        common.record(out)
        return moved


def adjust_stock(
    sku: str,
    delta: Any,
    *,
    location: str = "",
    reference: str = "",
    note: str = "",
    actor: Any = None,
) -> StockMove:
    """Correct what is on hand by ``delta`` (positive or negative) after a count; a reason is
    required. An increase releases back-orders like a receipt.

    Errors: ``NegativeStock`` (409) when on hand would fall below zero; ``StockReserved`` (409)
    when it would fall below what orders have reserved; ``ValidationError`` (422) for a zero or
    malformed delta or a missing reason; ``ProductNotFound``/``LocationNotFound`` (404).
    """
    info = _good(sku)
    q = domain.quantity(delta, field="delta", divisible=info["divisible"], positive=False)
    note = common.text(note, field="note", max_length=500, required=True)
    reference = common.text(reference, field="reference", max_length=100)
    with transaction.atomic():
        place = common.location_by_code(location)
        day = common.today()
        level = locks.level(place, info["id"], info["sku"])
        moved = common.adjust(
            level, q, kind=MoveKind.ADJUSTMENT, on=day, actor=actor, reference=reference, note=note
        )
        moved.save()
        out = [
            common.stock_event(
                events.STOCK_ADJUSTED, level, actor, delta=q, reference=reference, note=note, move_id=moved.pk
            )
        ]
        if q > 0:
            out += common.release_backorders(level, on=day, actor=actor)
        common.record(out)
        return moved


def level_of(sku: str, location: str = "") -> StockLevel | None:
    info = common.product_by_sku(sku)
    if info is None:
        return None
    place = common.location_by_code(location)
    return StockLevel.objects.filter(location=place, product_id=info["id"]).first()
