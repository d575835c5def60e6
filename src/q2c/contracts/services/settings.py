"""Contracts-owned settings: per legal entity (signature on acceptance, renewal lead time, default
notice period and uplift, governing law, non-cancellable default, link validity) and per catalog
product (whether a quantity reduction applies at once with a credit or at renewal — the catalog
has no such field, so contracts keeps it).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.contracts import events as ev
from q2c.contracts.domain import ReductionTiming
from q2c.contracts.errors import ContractInvalid
from q2c.contracts.models import ContractSettings, ProductPolicy
from q2c.contracts.services.common import actor_name
from q2c.core.errors import ValidationError
from q2c.core.money import to_decimal
from q2c.parties.models import LegalEntity
from q2c.platform.events import DomainEvent, record

SETTING_FIELDS: dict[str, str | tuple[int, int]] = {
    "signature_on_acceptance": "bool",
    "renewal_lead_days": (0, 3650),
    "notice_days": (0, 3650),
    "renewal_uplift_percent": "percent",
    "governing_law": "text",
    "non_cancellable": "bool",
    "signature_link_days": (1, 365),
}


def _clean(name: str, value: Any) -> Any:
    kind = SETTING_FIELDS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ContractInvalid(f"{name} is true or false", code="contracts.invalid_bool", field=name)
        return value
    if kind == "text":
        if not isinstance(value, str) or len(value.strip()) > 200:
            raise ContractInvalid(
                f"{name} is text of at most 200 characters", code="contracts.invalid_text", field=name
            )
        return value.strip()
    if kind == "percent":
        try:
            number = to_decimal(value, field=name)
        except (TypeError, ValidationError):
            raise ContractInvalid(
                f"{name} is a number", code="contracts.invalid_number", field=name
            ) from None
        if not Decimal(-100) < number <= Decimal(1000):
            raise ContractInvalid(
                f"{name} is above -100 and at most 1000", code="contracts.invalid_percent", field=name
            )
        return number
    assert isinstance(kind, tuple)
    low, high = kind
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ContractInvalid(
            f"{name} is a whole number from {low} to {high}", code="contracts.invalid_number", field=name
        )
    return value


def save_settings(entity_id: int, changes: Mapping[str, Any], *, actor: Any) -> ContractSettings:
    """Change the contract settings of a legal entity (only the fields given)."""
    unknown = sorted(set(changes) - set(SETTING_FIELDS))
    if unknown:
        raise ContractInvalid(
            f"unknown setting '{unknown[0]}'", code="contracts.unknown_field", field=unknown[0]
        )
    clean = {name: _clean(name, value) for name, value in changes.items()}
    if not LegalEntity.objects.filter(pk=entity_id).exists():
        raise ContractInvalid(
            f"no legal entity {entity_id}", code="contracts.invalid_entity", field="entity_id"
        )
    with transaction.atomic():
        row, _ = ContractSettings.objects.select_for_update().get_or_create(entity_id=entity_id)
        for name, value in clean.items():
            setattr(row, name, value)
        row.save()
        record(
            DomainEvent(
                type=ev.SETTINGS_CHANGED,
                aggregate_type="contracts.settings",
                aggregate_id=entity_id,
                payload={"entity_id": entity_id, "changes": clean},
                entity_id=entity_id,
                actor=actor_name(actor),
            )
        )
    return row


def set_product_policy(product_id: int, *, reduction: str, actor: Any) -> ProductPolicy:
    """Say whether reductions of a product apply at once (with a credit) or at renewal."""
    from q2c.catalog.models import Product

    try:
        timing = ReductionTiming(reduction)
    except ValueError:
        raise ContractInvalid(
            f"reduction is one of {', '.join(ReductionTiming)}",
            code="contracts.invalid_choice",
            field="reduction",
        ) from None
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise ContractInvalid(
            f"no product {product_id}", code="contracts.invalid_product", field="product_id"
        )
    with transaction.atomic():
        row, _ = ProductPolicy.objects.update_or_create(
            product_id=product.pk, defaults={"sku": product.sku, "reduction": timing}
        )
        record(
            DomainEvent(
                type=ev.POLICY_CHANGED,
                aggregate_type="contracts.product_policy",
                aggregate_id=product.pk,
                payload={"product_id": product.pk, "sku": product.sku, "reduction": str(timing)},
                actor=actor_name(actor),
            )
        )
    return row
