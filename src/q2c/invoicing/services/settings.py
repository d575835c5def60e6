"""Invoicing settings of a legal entity and of a customer account.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from q2c.invoicing import errors
from q2c.invoicing import events as ev
from q2c.invoicing.domain import TermsBasis
from q2c.invoicing.models import AccountInvoicing, InvoicingSettings
from q2c.invoicing.services import common
from q2c.parties.models import Account, LegalEntity
from q2c.platform import events
from q2c.platform.events import DomainEvent

FORMATS = ("pdf", "ubl", "cii", "facturx")


def _formats(value: Any, *, allow_empty: bool) -> str:
    if not isinstance(value, str):
        raise errors.InvalidInvoice(
            "formats are a comma-separated text", code=errors.INVALID_SETTINGS, field="formats"
        )
    wanted = common.formats_of(value)
    if any(f not in FORMATS for f in wanted) or (not wanted and not allow_empty):
        raise errors.InvalidInvoice(
            f"formats are among {', '.join(FORMATS)}", code=errors.INVALID_SETTINGS, field="formats"
        )
    return ",".join(dict.fromkeys(wanted))


def _booleans(changes: dict[str, Any], keys: tuple[str, ...], *, nullable: bool) -> None:
    for key in keys:
        if key in changes and not (isinstance(changes[key], bool) or (nullable and changes[key] is None)):
            raise errors.InvalidInvoice(f"{key} is true or false", code=errors.INVALID_SETTINGS, field=key)


def save_settings(entity_id: int, *, actor: Any = None, **changes: Any) -> InvoicingSettings:
    """Change an entity's invoicing settings (``terms_basis``, ``formats``, ``send_email``,
    ``email_xml``, ``fx_max_age_days``, ``render_in_bill_run``). Errors: ``invoicing.invalid_settings``."""
    if not LegalEntity.objects.filter(pk=entity_id).exists():
        raise errors.InvoiceNotFound(f"no legal entity {entity_id}", field="entity_id")
    allowed = {"terms_basis", "formats", "send_email", "email_xml", "fx_max_age_days", "render_in_bill_run"}
    for key in changes:
        if key not in allowed:
            raise errors.InvalidInvoice(f"unknown setting '{key}'", code=errors.INVALID_SETTINGS, field=key)
    if "terms_basis" in changes and changes["terms_basis"] not in TermsBasis._value2member_map_:
        raise errors.InvalidInvoice(
            "terms basis is net or end_of_month", code=errors.INVALID_SETTINGS, field="terms_basis"
        )
    if "formats" in changes:
        changes["formats"] = _formats(changes["formats"], allow_empty=False)
    _booleans(changes, ("send_email", "email_xml", "render_in_bill_run"), nullable=False)
    if "fx_max_age_days" in changes and not (
        isinstance(changes["fx_max_age_days"], int) and 0 <= changes["fx_max_age_days"] <= 366
    ):
        raise errors.InvalidInvoice("0 to 366 days", code=errors.INVALID_SETTINGS, field="fx_max_age_days")
    with transaction.atomic():
        row, _ = InvoicingSettings.objects.update_or_create(entity_id=entity_id, defaults=changes)
        events.record(DomainEvent(ev.SETTINGS_CHANGED, "invoicing.settings", entity_id, {"changes": changes},
                                  entity_id=entity_id, actor=common.actor_name(actor)))  # fmt: skip
    return row


def save_account_settings(account_id: int, *, actor: Any = None, **changes: Any) -> AccountInvoicing:
    """A customer's overrides: ``terms_basis`` ('' = the entity's), ``buyer_reference``, ``send_email``,
    ``formats`` (rendered at issue; '' = the entity's), ``email_xml`` (attach the XML; None = the
    entity's). Errors: ``invoicing.not_found``, ``invoicing.invalid_settings``."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise errors.InvoiceNotFound(f"no customer account {account_id}", field="account_id")
    allowed = {"terms_basis", "buyer_reference", "send_email", "formats", "email_xml"}
    for key in changes:
        if key not in allowed:
            raise errors.InvalidInvoice(f"unknown setting '{key}'", code=errors.INVALID_SETTINGS, field=key)
    if changes.get("terms_basis") and changes["terms_basis"] not in TermsBasis._value2member_map_:
        raise errors.InvalidInvoice(
            "terms basis is net or end_of_month", code=errors.INVALID_SETTINGS, field="terms_basis"
        )
    if "formats" in changes:
        changes["formats"] = _formats(changes["formats"] or "", allow_empty=True)
    _booleans(changes, ("send_email", "email_xml"), nullable=True)
    with transaction.atomic():
        row, _ = AccountInvoicing.objects.update_or_create(account_id=account_id, defaults=changes)
        events.record(DomainEvent(ev.SETTINGS_CHANGED, "invoicing.account_settings", account_id, {"changes": changes},
                                  entity_id=account.entity_id, actor=common.actor_name(actor)))  # fmt: skip
    return row
