"""Use cases of the parties app: the only code that writes its tables.

Every function validates all of its input first (collecting one error per field, so a form can
show them together), then writes inside one ``transaction.atomic()`` and records a domain event.
Nothing is written when any field is wrong. Values come back in their normal form (upper-case
country codes, compact IBANs and VAT numbers).

Errors (``q2c.core.errors``): ``ValidationError`` (422) with ``details`` listing each field at
fault; ``PartyNotFound`` (404); ``PartyInUse`` (409) when a party that others refer to is deleted;
``DuplicateBankAccount`` (409).

Must not import any q2c app above ``platform``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from q2c.core.errors import ValidationError
from q2c.parties import errors, validation
from q2c.parties.errors import DuplicateBankAccount, PartyInUse, PartyNotFound
from q2c.parties.models import (
    Account,
    AccountKind,
    BankAccount,
    Contact,
    LegalEntity,
    RoundingMode,
    TaxRounding,
)
from q2c.platform.events import DomainEvent, record

Cleaner = Callable[[Any, dict[str, Any], str], Any]
"""A field check: (raw value, the fields cleaned so far, field name) → normal form, or raise."""

_MISSING = object()


# --------------------------------------------------------------------------- field checks


def _text(max_length: int) -> Cleaner:
    def clean(value: Any, _: dict[str, Any], field: str) -> str:
        return validation.name(value, field=field, required=False, max_length=max_length)

    return clean


def _multiline(max_length: int) -> Cleaner:
    def clean(value: Any, _: dict[str, Any], field: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValidationError(f"{field} must be text", code=errors.INVALID_NAME)
        lines = [
            validation.name(line, field=field, required=False, max_length=max_length)
            for line in value.splitlines()
        ]
        text = "\n".join(lines).strip()
        if len(text) > max_length:
            raise ValidationError(f"{field} is longer than {max_length} characters", code=errors.INVALID_NAME)
        return text

    return clean


def _required_name(value: Any, _: dict[str, Any], field: str) -> str:
    return validation.name(value, field=field)


def _email(value: Any, _: dict[str, Any], field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return ""
    try:
        validate_email(text)
    except DjangoValidationError:
        raise ValidationError(f"'{text}' is not an e-mail address", code=errors.INVALID_EMAIL) from None
    return text


def _country(value: Any, _: dict[str, Any], field: str) -> str:
    return validation.country(value, field=field)


def _optional_country(value: Any, _: dict[str, Any], field: str) -> str:
    return validation.country(value, field=field, required=False)


def _currency(value: Any, _: dict[str, Any], field: str) -> str:
    return validation.currency(value, field=field)


def _choice(allowed: list[str]) -> Cleaner:
    def clean(value: Any, _: dict[str, Any], field: str) -> str:
        return validation.choice(value, allowed, field=field)

    return clean


def _prefix(value: Any, _: dict[str, Any], field: str) -> str:
    return validation.number_prefix(value, field=field)


def _terms(value: Any, _: dict[str, Any], field: str) -> int:
    return validation.payment_terms(value, field=field)


def _optional_terms(value: Any, _: dict[str, Any], field: str) -> int | None:
    if value is None or value == "":
        return None
    return validation.payment_terms(value, field=field)


def _bool(value: Any, _: dict[str, Any], field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(f"{field} must be true or false", code=errors.INVALID_CHOICE)


def _optional_id(value: Any, _: dict[str, Any], field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"{field} must be an id", code=errors.INVALID_CHOICE)
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{field} must be an id", code=errors.INVALID_CHOICE) from None


def _run(
    cleaners: Mapping[str, Cleaner], values: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """Clean every field; raise one ValidationError listing every field at fault.

    Fields are cleaned in the order ``cleaners`` lists them, so a check may use a field cleaned
    before it (the tax id looks at the country).
    """
    unknown = sorted(set(values) - set(cleaners))
    problems: list[dict[str, str]] = [
        {"field": f, "code": errors.UNKNOWN_FIELD, "message": f"unknown field '{f}'"} for f in unknown
    ]
    merged = {**defaults, **{k: v for k, v in values.items() if k in cleaners}}
    cleaned: dict[str, Any] = {}
    for field, cleaner in cleaners.items():
        raw = merged.get(field, _MISSING)
        if raw is _MISSING:
            continue
        try:
            cleaned[field] = cleaner(raw, cleaned, field)
        except ValidationError as exc:
            problems.append({"field": field, "code": exc.code, "message": exc.message})
    if problems:
        first = problems[0]
        raise ValidationError(
            first["message"]
            if len(problems) == 1
            else f"{len(problems)} fields are not valid; first: {first['message']}",
            code=first["code"],
            field=first["field"],
            details=problems,
        )
    return cleaned


def _fail(field: str, code: str, message: str) -> ValidationError:
    return ValidationError(
        message, code=code, field=field, details=[{"field": field, "code": code, "message": message}]
    )


def _event(
    change: str, aggregate: str, row_id: int, entity_id: int | None, actor: str, **payload: Any
) -> None:
    record(
        DomainEvent(
            type=f"parties.{aggregate}.{change}",
            aggregate_type=f"parties.{aggregate}",
            aggregate_id=row_id,
            entity_id=entity_id,
            actor=actor,
            payload=payload,
        )
    )


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(k for k, v in after.items() if before.get(k) != v)


# --------------------------------------------------------------------------- legal entities

ENTITY_FIELDS: dict[str, Cleaner] = {
    "name": _required_name,
    "address_line1": _text(200),
    "address_line2": _text(200),
    "postal_code": _text(20),
    "city": _text(100),
    "region": _text(100),
    "country": _country,
    "base_currency": _currency,
    "time_zone": lambda v, _, field: validation.time_zone(v, field=field),
    "tax_id": lambda v, cleaned, field: validation.tax_id(v, cleaned.get("country", ""), field=field),
    "registration": _text(100),
    "sepa_creditor_id": lambda v, _, field: validation.creditor_id(v, field=field),
    "email": _email,
    "quote_prefix": _prefix,
    "contract_prefix": _prefix,
    "order_prefix": _prefix,
    "invoice_prefix": _prefix,
    "credit_note_prefix": _prefix,
    "payment_terms_days": _terms,
    "rounding_mode": _choice(list(RoundingMode.values)),
    "tax_rounding": _choice(list(TaxRounding.values)),
    "invoice_note": _multiline(2000),
}

_ENTITY_DEFAULTS: dict[str, Any] = {
    "time_zone": "UTC",
    "quote_prefix": "Q",
    "contract_prefix": "CON",
    "order_prefix": "ORD",
    "invoice_prefix": "INV",
    "credit_note_prefix": "CN",
    "payment_terms_days": 30,
    "rounding_mode": RoundingMode.HALF_UP.value,
    "tax_rounding": TaxRounding.PER_RATE.value,
}


def _entity_values(entity: LegalEntity) -> dict[str, Any]:
    return {f: getattr(entity, f) for f in ENTITY_FIELDS}


def _check_prefixes(values: Mapping[str, Any]) -> None:
    fields = ["quote_prefix", "contract_prefix", "order_prefix", "invoice_prefix", "credit_note_prefix"]
    seen: dict[str, str] = {}
    for field in fields:
        prefix = values.get(field)
        if prefix in seen:
            # Distinct prefixes keep a document number unambiguous in a bank statement line.
            raise _fail(field, errors.INVALID_PREFIX, f"{field} '{prefix}' is already used by {seen[prefix]}")
        if prefix:
            seen[prefix] = field


def create_entity(*, actor: str = "", **fields: Any) -> LegalEntity:
    """Create a legal entity (the seller). Required: ``name``, ``country``, ``base_currency``."""
    cleaned = _run(ENTITY_FIELDS, fields, _ENTITY_DEFAULTS)
    for required in ("country", "base_currency"):
        if required not in cleaned:
            raise _fail(
                required,
                errors.INVALID_COUNTRY if required == "country" else errors.INVALID_CURRENCY,
                f"{required} is required",
            )
    if "name" not in cleaned:
        raise _fail("name", errors.INVALID_NAME, "name is required")
    _check_prefixes(cleaned)
    with transaction.atomic():
        entity = LegalEntity.objects.create(**cleaned)
        _event("created", "entity", entity.pk, entity.pk, actor, name=entity.name)
    return entity


def get_entity(entity_id: int) -> LegalEntity:
    try:
        return LegalEntity.objects.get(pk=entity_id)
    except LegalEntity.DoesNotExist:
        raise PartyNotFound(f"no legal entity {entity_id}", field="entity_id") from None


def update_entity(entity_id: int, changes: Mapping[str, Any], *, actor: str = "") -> LegalEntity:
    """Change some fields of a legal entity; the whole result is validated again."""
    with transaction.atomic():
        entity = _lock(LegalEntity, entity_id, "legal entity")
        before = _entity_values(entity)
        cleaned = _run(ENTITY_FIELDS, changes, before)
        _check_prefixes(cleaned)
        changed = _changed(before, cleaned)
        if changed:
            for field in changed:
                setattr(entity, field, cleaned[field])
            entity.save()
            _event("updated", "entity", entity.pk, entity.pk, actor, fields=changed)
    return entity


def delete_entity(entity_id: int, *, actor: str = "") -> None:
    """Delete a legal entity that has no customers (and nothing else refers to)."""
    with transaction.atomic():
        entity = _lock(LegalEntity, entity_id, "legal entity")
        if entity.accounts.exists():
            raise PartyInUse(f"legal entity {entity_id} has customer accounts", field="entity_id")
        try:
            with transaction.atomic():
                entity.delete()
        except ProtectedError:
            raise PartyInUse(
                f"legal entity {entity_id} is referred to by documents", field="entity_id"
            ) from None
        _event("deleted", "entity", entity_id, entity_id, actor)


# --------------------------------------------------------------------------- bank accounts

BANK_FIELDS: dict[str, Cleaner] = {
    "iban": lambda v, _, field: validation.iban(v, field=field),
    "bic": lambda v, _, field: validation.bic(v, field=field),
    "currency": _currency,
    "label": _text(100),
    "bank_name": _text(200),
    "is_default": _bool,
}


def add_bank_account(entity_id: int, *, actor: str = "", **fields: Any) -> BankAccount:
    """Add a bank account (IBAN required, BIC optional; currency defaults to the entity's)."""
    entity = get_entity(entity_id)
    cleaned = _run(BANK_FIELDS, fields, {"currency": entity.base_currency, "is_default": False})
    if "iban" not in cleaned:
        raise _fail("iban", errors.INVALID_IBAN, "the IBAN is required")
    with transaction.atomic():
        entity = _lock(LegalEntity, entity_id, "legal entity")
        if not entity.bank_accounts.exists():
            cleaned["is_default"] = True
        elif cleaned.get("is_default"):
            entity.bank_accounts.update(is_default=False)
        try:
            with transaction.atomic():
                row = BankAccount.objects.create(entity=entity, **cleaned)
        except IntegrityError:
            raise DuplicateBankAccount(
                f"IBAN {cleaned['iban']} is already an account of this entity", field="iban"
            ) from None
        _event("added", "bank_account", row.pk, entity.pk, actor, iban_last4=row.iban[-4:])
    return row


def update_bank_account(
    entity_id: int, bank_account_id: int, changes: Mapping[str, Any], *, actor: str = ""
) -> BankAccount:
    """Change a bank account's details (making it the default unsets the others)."""
    with transaction.atomic():
        entity = _lock(LegalEntity, entity_id, "legal entity")
        row = entity.bank_accounts.filter(pk=bank_account_id).first()
        if row is None:
            raise PartyNotFound(
                f"no bank account {bank_account_id} at entity {entity_id}", field="bank_account_id"
            )
        before = {f: getattr(row, f) for f in BANK_FIELDS}
        cleaned = _run(BANK_FIELDS, changes, before)
        changed = _changed(before, cleaned)
        if changed:
            if cleaned.get("is_default") and not before["is_default"]:
                entity.bank_accounts.exclude(pk=row.pk).update(is_default=False)
            for field in changed:
                setattr(row, field, cleaned[field])
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                raise DuplicateBankAccount(
                    f"IBAN {cleaned['iban']} is already an account of this entity", field="iban"
                ) from None
            _event("updated", "bank_account", row.pk, entity.pk, actor, fields=changed)
    return row


def remove_bank_account(entity_id: int, bank_account_id: int, *, actor: str = "") -> None:
    with transaction.atomic():
        entity = _lock(LegalEntity, entity_id, "legal entity")
        row = entity.bank_accounts.filter(pk=bank_account_id).first()
        if row is None:
            raise PartyNotFound(
                f"no bank account {bank_account_id} at entity {entity_id}", field="bank_account_id"
            )
        was_default = row.is_default
        row.delete()
        if was_default:
            successor = entity.bank_accounts.order_by("id").first()
            if successor is not None:
                BankAccount.objects.filter(pk=successor.pk).update(is_default=True)
        _event("removed", "bank_account", bank_account_id, entity.pk, actor)


# --------------------------------------------------------------------------- customer accounts


def _tax_id_for_account(value: Any, cleaned: dict[str, Any], field: str) -> str:
    return validation.tax_id(value, cleaned.get("country", ""), field=field)


def _locale(value: Any, _: dict[str, Any], field: str) -> str:
    return validation.locale(value, field=field)


ACCOUNT_FIELDS: dict[str, Cleaner] = {
    "entity_id": _optional_id,
    "name": _required_name,
    "kind": _choice(list(AccountKind.values)),
    "billing_line1": _text(200),
    "billing_line2": _text(200),
    "billing_postal_code": _text(20),
    "billing_city": _text(100),
    "billing_region": _text(100),
    "country": _country,
    "shipping_line1": _text(200),
    "shipping_line2": _text(200),
    "shipping_postal_code": _text(20),
    "shipping_city": _text(100),
    "shipping_region": _text(100),
    "shipping_country": _optional_country,
    "currency": _currency,
    "tax_id": _tax_id_for_account,
    "payment_terms_days": _optional_terms,
    "locale": _locale,
    "invoice_email": _email,
    "parent_id": _optional_id,
    "owner_id": _optional_id,
}


def _account_values(account: Account) -> dict[str, Any]:
    return {f: getattr(account, f) for f in ACCOUNT_FIELDS}


def _check_owner(owner_id: int | None) -> None:
    if owner_id is None:
        return
    if not get_user_model().objects.filter(pk=owner_id, is_active=True).exists():
        raise _fail("owner_id", errors.INVALID_OWNER, f"no active user {owner_id}")


def _check_parent(account_id: int | None, parent_id: int | None, entity_id: int) -> None:
    if parent_id is None:
        return
    if parent_id == account_id:
        raise _fail("parent_id", errors.INVALID_PARENT, "an account cannot be its own parent")
    parent = Account.objects.filter(pk=parent_id).values("entity_id", "parent_id").first()
    if parent is None:
        raise _fail("parent_id", errors.INVALID_PARENT, f"no account {parent_id}")
    if parent["entity_id"] != entity_id:
        raise _fail("parent_id", errors.INVALID_PARENT, "the parent account belongs to another legal entity")
    # Walk up from the new parent: meeting this account again would close a loop.
    seen = {parent_id}
    step: int | None = parent["parent_id"]
    while step is not None:
        if step == account_id or step in seen:
            raise _fail("parent_id", errors.INVALID_PARENT, "that parent would make the hierarchy a loop")
        seen.add(step)
        step = Account.objects.filter(pk=step).values_list("parent_id", flat=True).first()


def _resolve_entity(entity_id: int | None) -> LegalEntity:
    if entity_id is not None:
        entity = LegalEntity.objects.filter(pk=entity_id).first()
        if entity is None:
            raise _fail("entity_id", errors.ENTITY_REQUIRED, f"no legal entity {entity_id}")
        return entity
    # With a single seller there is nothing to choose; with several the caller must say which.
    entities = list(LegalEntity.objects.order_by("id")[:2])
    if len(entities) != 1:
        raise _fail(
            "entity_id",
            errors.ENTITY_REQUIRED,
            "create a legal entity first"
            if not entities
            else "say which legal entity sells to this customer",
        )
    return entities[0]


def create_account(*, actor: str = "", **fields: Any) -> Account:
    """Create a customer account.

    Required: ``name`` and ``country``. ``entity_id`` may be left out when exactly one legal
    entity exists; ``currency`` defaults to the entity's base currency; ``kind`` to business;
    ``locale`` to ``en``. The tax id is checked for the account's country (see
    :func:`q2c.parties.validation.tax_id`).
    """
    cleaned = _run(ACCOUNT_FIELDS, fields, {"kind": AccountKind.BUSINESS.value, "locale": "en"})
    if "name" not in cleaned:
        raise _fail("name", errors.INVALID_NAME, "name is required")
    if "country" not in cleaned:
        raise _fail("country", errors.INVALID_COUNTRY, "country is required (ISO 3166 code, e.g. DE)")
    entity = _resolve_entity(cleaned.pop("entity_id", None))
    cleaned.setdefault("currency", entity.base_currency)
    _check_parent(None, cleaned.get("parent_id"), entity.pk)
    _check_owner(cleaned.get("owner_id"))
    with transaction.atomic():
        account = Account.objects.create(entity=entity, **cleaned)
        _event("created", "account", account.pk, entity.pk, actor, name=account.name, kind=account.kind)
    return account


def get_account(account_id: int) -> Account:
    try:
        return Account.objects.select_related("entity", "parent").get(pk=account_id)
    except Account.DoesNotExist:
        raise PartyNotFound(f"no account {account_id}", field="account_id") from None


def update_account(account_id: int, changes: Mapping[str, Any], *, actor: str = "") -> Account:
    """Change some fields of an account. The legal entity of an account does not change."""
    if "entity_id" in changes:
        current = Account.objects.filter(pk=account_id).values_list("entity_id", flat=True).first()
        if current is not None and changes["entity_id"] not in (current, str(current)):
            raise _fail("entity_id", errors.ENTITY_REQUIRED, "an account stays with its legal entity")
    with transaction.atomic():
        account = _lock(Account, account_id, "account")
        before = _account_values(account)
        cleaned = _run(ACCOUNT_FIELDS, changes, before)
        _check_parent(account.pk, cleaned.get("parent_id"), account.entity_id)
        if cleaned.get("owner_id") != before["owner_id"]:
            _check_owner(cleaned.get("owner_id"))
        changed = _changed(before, cleaned)
        if changed:
            for field in changed:
                setattr(account, field, cleaned[field])
            account.save()
            _event("updated", "account", account.pk, account.entity_id, actor, fields=changed)
    return account


def delete_account(account_id: int, *, actor: str = "") -> None:
    """Delete an account with no child accounts and no documents referring to it."""
    with transaction.atomic():
        account = _lock(Account, account_id, "account")
        if account.children.exists():
            raise PartyInUse(f"account {account_id} is the parent of other accounts", field="account_id")
        entity_id = account.entity_id
        try:
            with transaction.atomic():
                account.delete()
        except ProtectedError:
            raise PartyInUse(
                f"account {account_id} is referred to by documents", field="account_id"
            ) from None
        _event("deleted", "account", account_id, entity_id, actor)


# --------------------------------------------------------------------------- contacts

CONTACT_FIELDS: dict[str, Cleaner] = {
    "name": _required_name,
    "email": _email,
    "phone": _text(40),
    "title": _text(100),
    "is_billing": _bool,
    "is_primary": _bool,
}


def create_contact(account_id: int, *, actor: str = "", **fields: Any) -> Contact:
    """Add a person to an account. Required: ``name``. Only one contact is primary."""
    cleaned = _run(CONTACT_FIELDS, fields, {"is_billing": False, "is_primary": False})
    if "name" not in cleaned:
        raise _fail("name", errors.INVALID_NAME, "name is required")
    with transaction.atomic():
        account = _lock(Account, account_id, "account")
        if cleaned["is_primary"]:
            account.contacts.update(is_primary=False)
        contact = Contact.objects.create(account=account, **cleaned)
        _event("created", "contact", contact.pk, account.entity_id, actor, account_id=account.pk)
    return contact


def get_contact(contact_id: int) -> Contact:
    try:
        return Contact.objects.select_related("account").get(pk=contact_id)
    except Contact.DoesNotExist:
        raise PartyNotFound(f"no contact {contact_id}", field="contact_id") from None


def update_contact(contact_id: int, changes: Mapping[str, Any], *, actor: str = "") -> Contact:
    with transaction.atomic():
        contact = _lock(Contact, contact_id, "contact")
        before = {f: getattr(contact, f) for f in CONTACT_FIELDS}
        cleaned = _run(CONTACT_FIELDS, changes, before)
        changed = _changed(before, cleaned)
        if changed:
            if cleaned.get("is_primary") and not before["is_primary"]:
                Contact.objects.filter(account_id=contact.account_id).exclude(pk=contact.pk).update(
                    is_primary=False
                )
            for field in changed:
                setattr(contact, field, cleaned[field])
            contact.save()
            entity_id = (
                Account.objects.filter(pk=contact.account_id).values_list("entity_id", flat=True).first()
            )
            _event("updated", "contact", contact.pk, entity_id, actor, fields=changed)
    return contact


def delete_contact(contact_id: int, *, actor: str = "") -> None:
    with transaction.atomic():
        contact = _lock(Contact, contact_id, "contact")
        entity_id = Account.objects.filter(pk=contact.account_id).values_list("entity_id", flat=True).first()
        contact.delete()
        _event("deleted", "contact", contact_id, entity_id, actor)


# --------------------------------------------------------------------------- checks without writing


def check_fields(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check some fields of a party without writing (for forms that show errors before saving).

    ``kind`` is ``entity``, ``bank_account``, ``account`` or ``contact``; returns the values in
    normal form or raises ``ValidationError`` listing every field at fault.
    """
    cleaners = {
        "entity": ENTITY_FIELDS,
        "bank_account": BANK_FIELDS,
        "account": ACCOUNT_FIELDS,
        "contact": CONTACT_FIELDS,
    }[kind]
    return _run(cleaners, values, {})


# --------------------------------------------------------------------------- helpers


def _lock(model: Any, pk: Any, what: str) -> Any:
    """Fetch a row for update (row lock on PostgreSQL; SQLite writers are serialised anyway)."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise PartyNotFound(f"no {what} {pk}") from None
    row = model.objects.select_for_update().filter(pk=key).first()
    if row is None:
        raise PartyNotFound(f"no {what} {pk}", field=f"{what.replace(' ', '_')}_id")
    return row
