"""Use cases of quotes: create, edit (optimistic locking), revise into a new version, make
primary, withdraw, and the builder's preview.

Every change reprices the lines with the catalog's engine and keeps the priced snapshot on the
quote (``Quote.pricing``): what is approved, sent and accepted is that snapshot, not whatever the
catalog says later. Editing an approved or sent quote sends it back to draft, voids its
approvals and retires its sent document (the customer's link stops working).

Errors: ``QuoteInvalid`` (422, field named), ``PricingInputError`` (422, one entry per line and
field), ``QuoteNotFound`` (404), ``QuoteForbidden`` (403), ``InvalidTransition`` and
``QuoteConflict`` (409: stale ``lock_version``, a final quote, a superseded version).

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency, to_decimal
from q2c.parties import queries as party_queries
from q2c.platform import numbering
from q2c.quotes import access
from q2c.quotes import errors as codes
from q2c.quotes import events as ev
from q2c.quotes.domain import (
    CLOSED_STAGES,
    EDITABLE,
    FINAL,
    QuoteStatus,
    RequestStatus,
    Stage,
    StepStatus,
    move_quote,
    move_request,
)
from q2c.quotes.errors import QuoteConflict, QuoteInvalid, QuoteNotFound
from q2c.quotes.models import (
    ApprovalRequest,
    ApprovalStep,
    BillingFrequency,
    Opportunity,
    Quote,
    QuoteDocument,
    QuoteLine,
    SaleContextChoice,
)
from q2c.quotes.services.common import check_version, locked, now, record, today
from q2c.quotes.services.opportunities import _date, _text
from q2c.quotes.services.pricing import Priced, price_lines

DEFAULT_VALIDITY_DAYS = 30
MAX_LINES = 500
MAX_TERM_MONTHS = 600
MAX_PAYMENT_TERMS = 365
NUMBER_KIND = "quote"
DISCOUNT_KINDS = ("percent", "amount", "target_price")

HEADER_FIELDS = (
    "title",
    "introduction",
    "terms",
    "currency",
    "price_book",
    "sale_context",
    "promotion_codes",
    "start_date",
    "term_months",
    "billing_frequency",
    "payment_terms_days",
    "auto_renew",
    "valid_until",
    "contact_name",
    "contact_email",
)


# --------------------------------------------------------------------------- input


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise QuoteInvalid(
            f"{field} must be a whole number from {low} to {high}", code="quotes.invalid_number", field=field
        )
    return value


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "on", "1", "yes", "false", "off", "0", "no", ""}:
        return value.lower() in {"true", "on", "1", "yes"}
    raise QuoteInvalid(f"{field} must be true or false", code="quotes.invalid_bool", field=field)


def _email(value: Any, field: str) -> str:
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    text = _text(value, field, max_length=254)
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise QuoteInvalid(
                f"'{text}' is not an e-mail address", code="quotes.invalid_email", field=field
            ) from None
    return text


def _choice(value: Any, field: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise QuoteInvalid(
            f"{field} is one of {', '.join(allowed)}", code="quotes.invalid_choice", field=field
        )
    return str(value)


def _codes(value: Any) -> str:
    if value is None:
        return ""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise QuoteInvalid(
            "promotion_codes is a list of codes", code="quotes.invalid_text", field="promotion_codes"
        )
    out = [_text(c, "promotion_codes", max_length=40).upper() for c in items]
    text = ",".join(dict.fromkeys(c for c in out if c))
    if len(text) > 500:
        raise QuoteInvalid("too many promotion codes", code="quotes.invalid_text", field="promotion_codes")
    return text


def clean_header(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check header fields (only those given); raise ``QuoteInvalid`` naming the field."""
    unknown = sorted(set(raw) - set(HEADER_FIELDS))
    if unknown:
        raise QuoteInvalid(f"unknown field '{unknown[0]}'", code="quotes.unknown_field", field=unknown[0])
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "title":
            out[name] = _text(value, name, max_length=200)
        elif name == "introduction":
            out[name] = _text(value, name, max_length=5000)
        elif name == "terms":
            out[name] = _text(value, name, max_length=10000)
        elif name == "currency":
            try:
                out[name] = check_currency(value)
            except ValidationError:
                raise QuoteInvalid(
                    f"'{value}' is not an ISO 4217 currency code", code="quotes.invalid_currency", field=name
                ) from None
        elif name == "price_book":
            out[name] = _text(value, name, max_length=40)
        elif name == "sale_context":
            out[name] = _choice(value, name, SaleContextChoice.values)
        elif name == "promotion_codes":
            out[name] = _codes(value)
        elif name in ("start_date", "valid_until"):
            day = _date(value, name)
            if day is None:
                raise QuoteInvalid(f"{name} is required", code="quotes.required", field=name)
            out[name] = day
        elif name == "term_months":
            out[name] = _int(value, name, 1, MAX_TERM_MONTHS)
        elif name == "billing_frequency":
            out[name] = _choice(value, name, BillingFrequency.values)
        elif name == "payment_terms_days":
            out[name] = _int(value, name, 0, MAX_PAYMENT_TERMS)
        elif name == "auto_renew":
            out[name] = _bool(value, name)
        elif name == "contact_name":
            out[name] = _text(value, name, max_length=200)
        elif name == "contact_email":
            out[name] = _email(value, name)
    return out


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_decimal(value, field=field)
    except (TypeError, ValidationError):
        raise QuoteInvalid(
            f"{field}: '{value}' is not a number", code="quotes.invalid_number", field=field
        ) from None


def clean_lines(raw: Any) -> list[dict[str, Any]]:
    """Check the builder's lines: ``key`` (default ``L<n>``), ``sku``, ``quantity``,
    ``parent_key``, ``discount`` (``{"percent": "15"}``, ``{"amount": …}`` or
    ``{"target_price": …}``), ``estimated_quantity``, ``description``. Whether the SKU exists,
    the quantity fits its unit and the bundle's rules hold is the pricing engine's to say."""
    if not isinstance(raw, list | tuple):
        raise QuoteInvalid("lines is a list", code="quotes.invalid_lines", field="lines")
    if len(raw) > MAX_LINES:
        raise QuoteInvalid(
            f"a quote has at most {MAX_LINES} lines", code="quotes.invalid_lines", field="lines"
        )
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    allowed = {"key", "sku", "quantity", "parent_key", "discount", "estimated_quantity", "description"}
    for i, item in enumerate(raw):
        where = f"lines[{i}]"
        if not isinstance(item, Mapping):
            raise QuoteInvalid(f"{where} is an object", code="quotes.invalid_lines", field=where)
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise QuoteInvalid(
                f"{where}: unknown field '{unknown[0]}'",
                code="quotes.unknown_field",
                field=f"{where}.{unknown[0]}",
            )
        key = _text(item.get("key"), f"{where}.key", max_length=60) or f"L{i + 1}"
        if key in keys:
            raise QuoteInvalid(
                f"{where}: key '{key}' is used twice", code="quotes.duplicate_key", field=f"{where}.key"
            )
        keys.add(key)
        sku = _text(item.get("sku"), f"{where}.sku", required=True, max_length=64)
        discount = item.get("discount")
        kind, value = "", None
        if discount not in (None, {}, ""):
            if not isinstance(discount, Mapping) or len(discount) != 1:
                raise QuoteInvalid(
                    f"{where}.discount: give one of percent, amount or target_price",
                    code="quotes.invalid_discount",
                    field=f"{where}.discount",
                )
            ((kind, raw_value),) = discount.items()
            if kind not in DISCOUNT_KINDS:
                raise QuoteInvalid(
                    f"{where}.discount: '{kind}' is not percent, amount or target_price",
                    code="quotes.invalid_discount",
                    field=f"{where}.discount",
                )
            value = _decimal(raw_value, f"{where}.discount.{kind}")
            if value is None:
                kind = ""
        out.append(
            {
                "key": key,
                "sku": sku,
                "quantity": _decimal(item.get("quantity"), f"{where}.quantity"),
                "parent_key": _text(item.get("parent_key"), f"{where}.parent_key", max_length=60),
                "discount_kind": kind,
                "discount_value": value,
                "estimated_quantity": _decimal(item.get("estimated_quantity"), f"{where}.estimated_quantity"),
                "description": _text(item.get("description"), f"{where}.description", max_length=500),
            }
        )
    for i, line in enumerate(out):
        if line["parent_key"] and line["parent_key"] not in keys:
            raise QuoteInvalid(
                f"lines[{i}]: no line with the key '{line['parent_key']}' to belong to",
                code="quotes.unknown_parent",
                field=f"lines[{i}].parent_key",
            )
    return out


def lines_of(quote: Quote) -> list[dict[str, Any]]:
    return [
        {
            "key": line.key,
            "sku": line.sku,
            "quantity": line.quantity,
            "parent_key": line.parent_key,
            "discount_kind": line.discount_kind,
            "discount_value": line.discount_value,
            "estimated_quantity": line.estimated_quantity,
            "description": line.description,
        }
        for line in quote.lines.all()
    ]


def header_of(quote: Quote) -> dict[str, Any]:
    data = {name: getattr(quote, name) for name in HEADER_FIELDS}
    data["account_id"] = quote.account_id
    return data


# --------------------------------------------------------------------------- reading


def get_quote(quote_id: int, user: Any) -> Quote:
    """One quote version the user may read (404 otherwise)."""
    row = (
        access.visible_quotes(user, Quote.objects.select_related("opportunity", "account", "entity", "owner"))
        .filter(pk=quote_id)
        .first()
    )
    if row is None:
        raise QuoteNotFound(f"no quote {quote_id}", code="quotes.quote_not_found", field="quote_id")
    return row


# --------------------------------------------------------------------------- writing helpers


def _price(quote: Quote, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> Priced | None:
    if not lines:
        return None
    return price_lines(header, lines, owner=quote.owner, as_of=today(quote.entity.time_zone))


def _store_pricing(quote: Quote, priced: Priced | None) -> None:
    currency = quote.currency
    if priced is None:
        quote.pricing = {}
        quote.approval_matches = []
        quote.valid_configuration = True
        zero = Money.zero(currency)
        for name in ("one_time", "mrr", "arr", "tcv", "list_tcv", "discount"):
            setattr(quote, name, zero)
        quote.discount_percent = Decimal(0)
        quote.margin_percent = None
        quote.priced_on = today(quote.entity.time_zone)
        return
    totals = priced.result.totals
    quote.pricing = priced.snapshot
    quote.priced_on = priced.result.as_of
    quote.valid_configuration = priced.result.valid
    quote.approval_matches = [m.as_dict() for m in priced.matches]
    quote.one_time = totals.one_time
    quote.mrr = totals.mrr
    quote.arr = totals.arr
    quote.tcv = totals.tcv
    quote.list_tcv = totals.list_tcv
    quote.discount = totals.discount
    quote.discount_percent = totals.discount_percent
    quote.margin_percent = totals.margin_percent


def _write_lines(quote: Quote, lines: Sequence[Mapping[str, Any]]) -> None:
    QuoteLine.objects.filter(quote=quote).delete()
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(
                quote=quote,
                position=i,
                key=line["key"],
                sku=line["sku"],
                parent_key=line.get("parent_key") or "",
                quantity=line.get("quantity"),
                discount_kind=line.get("discount_kind") or "",
                discount_value=line.get("discount_value"),
                estimated_quantity=line.get("estimated_quantity"),
                description=line.get("description") or "",
            )
            for i, line in enumerate(lines)
        ]
    )


def sync_opportunity(quote: Quote) -> None:
    """The opportunity's amount is its primary quote's TCV."""
    if quote.is_primary:
        opp = Opportunity.objects.get(pk=quote.opportunity_id)
        if opp.stage not in CLOSED_STAGES or opp.amount is None:
            opp.currency = quote.currency
            opp.amount = quote.tcv
            opp.save(update_fields=["currency", "amount_minor"])


def void_approvals(quote: Quote, *, actor: Any, why: str) -> int:
    """Void the quote's pending or approved requests (inside the caller's transaction)."""
    moment = now()
    count = 0
    for request in ApprovalRequest.objects.filter(
        quote=quote, status__in=[RequestStatus.PENDING, RequestStatus.APPROVED]
    ):
        move_request(RequestStatus(request.status), RequestStatus.VOID)
        request.status = RequestStatus.VOID
        request.decided_at = moment
        request.save(update_fields=["status", "decided_at"])
        ApprovalStep.objects.filter(
            request=request, status__in=[StepStatus.WAITING, StepStatus.PENDING]
        ).update(status=StepStatus.SKIPPED, decided_at=moment)
        record(
            ev.APPROVAL_COMPLETED,
            "approval",
            request.pk,
            entity_id=quote.entity_id,
            actor=actor,
            quote_id=quote.pk,
            outcome=str(RequestStatus.VOID),
            reason=why,
        )
        count += 1
    return count


def retire_documents(quote: Quote) -> int:
    """The sent document stops being the one a link can accept."""
    return QuoteDocument.objects.filter(quote=quote, is_current=True).update(is_current=False)


def back_to_draft(quote: Quote, *, actor: Any, why: str) -> bool:
    """Move an in-review, approved or sent quote back to draft (locked, caller's transaction)."""
    status = QuoteStatus(quote.status)
    if status is QuoteStatus.DRAFT:
        return False
    move_quote(status, QuoteStatus.DRAFT)
    void_approvals(quote, actor=actor, why=why)
    retire_documents(quote)
    quote.status = QuoteStatus.DRAFT
    quote.approved_at = None
    record(
        ev.QUOTE_RETURNED_TO_DRAFT,
        "quote",
        quote.pk,
        entity_id=quote.entity_id,
        actor=actor,
        number=quote.number,
        version=quote.version,
        from_status=str(status),
        reason=why,
    )
    return True


def _refuse_final(quote: Quote) -> None:
    if QuoteStatus(quote.status) in FINAL:
        raise QuoteConflict(
            f"quote {quote.label} is {quote.status}: it cannot change any more; revise it into a new version",
            code=codes.NOT_EDITABLE,
            field="status",
        )


# --------------------------------------------------------------------------- use cases


def create_quote(
    *,
    actor: Any,
    opportunity_id: int,
    lines: Sequence[Mapping[str, Any]] = (),
    primary: bool | None = None,
    **header: Any,
) -> Quote:
    """Create a quote (version 1) for an opportunity, priced, in draft.

    Defaults: currency of the opportunity, start date today, term 12 months, monthly billing,
    payment terms of the account (or its entity), validity 30 days, the account's primary
    contact. The first quote of an opportunity is its primary; later ones only with
    ``primary=True``. The number is taken from the entity's gapless ``quote`` sequence
    (``Q-2027-000001``, with the entity's quote prefix).
    """
    from q2c.quotes.services.opportunities import get_opportunity

    opp = get_opportunity(opportunity_id, actor)
    access.check_edit(actor, opp.owner_id, "opportunity")
    if opp.stage in CLOSED_STAGES:
        raise QuoteConflict(
            f"opportunity {opp.pk} is closed", code="quotes.opportunity_closed", field="opportunity_id"
        )
    fields = clean_header(header)
    clean = clean_lines(list(lines))
    account, entity = opp.account, opp.entity
    day = today(entity.time_zone)
    contacts = list(party_queries.contacts_of(account.pk)[:1])
    contact = contacts[0] if contacts else None
    values: dict[str, Any] = {
        "title": "",
        "introduction": "",
        "terms": "",
        "currency": opp.currency,
        "price_book": "",
        "sale_context": "new",
        "promotion_codes": "",
        "start_date": day,
        "term_months": 12,
        "billing_frequency": BillingFrequency.MONTH,
        "payment_terms_days": account.effective_payment_terms_days,
        "auto_renew": False,
        "valid_until": day + timedelta(days=DEFAULT_VALIDITY_DAYS),
        "contact_name": contact.name if contact else "",
        "contact_email": (contact.email if contact and contact.email else account.invoice_email),
    }
    values.update(fields)
    if values["valid_until"] < day:
        raise QuoteInvalid("the validity date is in the past", code=codes.PAST_VALIDITY, field="valid_until")
    moment = now()
    with transaction.atomic():
        opp = locked(Opportunity.objects.select_related("entity", "account"), opp.pk, "opportunity")
        has_primary = Quote.objects.filter(opportunity=opp, is_primary=True).exists()
        make_primary_now = (not has_primary) if primary is None else bool(primary)
        if make_primary_now and has_primary:
            Quote.objects.filter(opportunity=opp, is_primary=True).update(is_primary=False)
        year = day.year
        seq = numbering.take(entity.pk, NUMBER_KIND, year=year)
        number = numbering.NumberFormat(entity.quote_prefix or "Q").format(seq, year)
        quote = Quote(
            opportunity=opp,
            entity=entity,
            account=account,
            owner=opp.owner,
            number=number,
            version=1,
            is_primary=make_primary_now,
            status=QuoteStatus.DRAFT,
            created_at=moment,
            updated_at=moment,
            **values,
        )
        _store_pricing(quote, _price(quote, header_of(quote), clean))
        quote.save()
        _write_lines(quote, clean)
        sync_opportunity(quote)
        record(
            ev.QUOTE_CREATED,
            "quote",
            quote.pk,
            entity_id=entity.pk,
            actor=actor,
            number=number,
            version=1,
            opportunity_id=opp.pk,
            account_id=account.pk,
            currency=quote.currency,
            primary=make_primary_now,
            tcv=quote.tcv,
            lines=len(clean),
        )
    return quote


def update_quote(
    quote_id: int,
    *,
    actor: Any,
    lock_version: int | None,
    changes: Mapping[str, Any] | None = None,
    lines: Sequence[Mapping[str, Any]] | None = None,
) -> Quote:
    """Change a quote's header fields and/or replace its lines, then reprice.

    ``lock_version`` is the version the caller read; a different current version answers 409
    ``quotes.stale`` and nothing is written (pass None only from trusted internal callers). An
    in-review, approved or sent quote goes back to draft: its approvals are void and its sent
    link stops working.
    """
    get_quote(quote_id, actor)
    fields = clean_header(dict(changes or {}))
    clean = clean_lines(list(lines)) if lines is not None else None
    with transaction.atomic():
        quote = locked(Quote.objects.select_related("entity", "account", "owner"), quote_id, "quote")
        access.check_edit(actor, quote.owner_id)
        check_version(quote, lock_version, "quote")
        _refuse_final(quote)
        if quote.superseded_at is not None:
            raise QuoteConflict(
                f"quote {quote.label} has a newer version", code=codes.SUPERSEDED, field="quote_id"
            )
        assert QuoteStatus(quote.status) in EDITABLE
        if "valid_until" in fields and fields["valid_until"] < today(quote.entity.time_zone):
            raise QuoteInvalid(
                "the validity date is in the past", code=codes.PAST_VALIDITY, field="valid_until"
            )
        if "currency" in fields and fields["currency"] != quote.currency:
            # Amounts of the old currency go; the repricing below fills them in the new one.
            quote.currency = fields["currency"]
            for name in ("one_time", "mrr", "arr", "tcv", "list_tcv", "discount"):
                quote.__dict__[f"{name}_minor"] = 0
        for name, value in fields.items():
            setattr(quote, name, value)
        current_lines = clean if clean is not None else lines_of(quote)
        priced = _price(quote, header_of(quote), current_lines)
        back_to_draft(quote, actor=actor, why="edited")
        _store_pricing(quote, priced)
        quote.updated_at = now()
        quote.lock_version += 1
        quote.save()
        if clean is not None:
            _write_lines(quote, clean)
        sync_opportunity(quote)
        record(
            ev.QUOTE_UPDATED,
            "quote",
            quote.pk,
            entity_id=quote.entity_id,
            actor=actor,
            number=quote.number,
            version=quote.version,
            fields=sorted(fields),
            lines_replaced=clean is not None,
            tcv=quote.tcv,
            lock_version=quote.lock_version,
        )
    return quote


def preview(
    *,
    actor: Any,
    quote_id: int,
    changes: Mapping[str, Any] | None = None,
    lines: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Price a quote's header (with ``changes``) and ``lines`` without saving: the builder's
    waterfall, totals, configuration violations and approval reasons."""
    quote = get_quote(quote_id, actor)
    fields = clean_header(dict(changes or {}))
    clean = clean_lines(list(lines))
    header = header_of(quote)
    header.update(fields)
    if not clean:
        return {"pricing": None, "approval": {"required": False, "reasons": [], "steps": []}, "valid": True}
    priced = price_lines(header, clean, owner=quote.owner, as_of=today(quote.entity.time_zone))
    return {
        "pricing": priced.snapshot,
        "valid": priced.result.valid,
        "approval": {
            "required": priced.needs_approval,
            "reasons": [m.as_dict() for m in priced.matches],
            "steps": [
                {"sequence": s.sequence, "role": s.role or None, "user_id": s.user_id, "mode": str(s.mode)}
                for s in priced.steps
            ],
        },
    }


def revise_quote(quote_id: int, *, actor: Any) -> Quote:
    """Clone a quote version into the next version (same number, draft, repriced today).

    The source stops being acceptable: it is marked superseded and, unless already final, is
    withdrawn. The new version becomes primary when the source was. An accepted version is not
    revised (409): changes after acceptance are the contract's amendments.
    """
    get_quote(quote_id, actor)
    with transaction.atomic():
        source = locked(
            Quote.objects.select_related("entity", "account", "owner", "opportunity"), quote_id, "quote"
        )
        access.check_edit(actor, source.owner_id)
        if source.status == QuoteStatus.ACCEPTED:
            raise QuoteConflict(f"quote {source.label} is accepted", code=codes.NOT_EDITABLE, field="status")
        if source.superseded_at is not None:
            raise QuoteConflict(
                f"quote {source.label} has a newer version already", code=codes.SUPERSEDED, field="quote_id"
            )
        opp = locked(Opportunity.objects.all(), source.opportunity_id, "opportunity")
        if opp.stage in CLOSED_STAGES:
            raise QuoteConflict(
                f"opportunity {opp.pk} is closed", code="quotes.opportunity_closed", field="opportunity_id"
            )
        moment = now()
        if QuoteStatus(source.status) not in FINAL:
            _withdraw(source, actor=actor, reason="revised into a new version")
        was_primary = source.is_primary
        source.superseded_at = moment
        source.is_primary = False
        source.lock_version += 1
        source.save()
        last = (
            Quote.objects.filter(entity=source.entity, number=source.number).aggregate(v=Max("version"))["v"]
            or 1
        )
        lines = lines_of(source)
        clone = Quote(
            opportunity_id=source.opportunity_id,
            entity=source.entity,
            account=source.account,
            owner=source.owner,
            number=source.number,
            version=last + 1,
            is_primary=was_primary,
            status=QuoteStatus.DRAFT,
            revised_from=source,
            created_at=moment,
            updated_at=moment,
            **{name: getattr(source, name) for name in HEADER_FIELDS},
        )
        day = today(source.entity.time_zone)
        if clone.valid_until < day:
            clone.valid_until = day + timedelta(days=DEFAULT_VALIDITY_DAYS)
        _store_pricing(clone, _price(clone, header_of(clone), lines))
        clone.save()
        _write_lines(clone, lines)
        sync_opportunity(clone)
        record(
            ev.QUOTE_REVISED,
            "quote",
            clone.pk,
            entity_id=clone.entity_id,
            actor=actor,
            number=clone.number,
            version=clone.version,
            source_id=source.pk,
            source_version=source.version,
            primary=clone.is_primary,
            tcv=clone.tcv,
        )
    return clone


def make_primary(quote_id: int, *, actor: Any) -> Quote:
    """Make this version the opportunity's primary quote (the others stop being primary)."""
    get_quote(quote_id, actor)
    with transaction.atomic():
        quote = locked(Quote.objects.select_related("entity"), quote_id, "quote")
        access.check_edit(actor, quote.owner_id)
        opp = locked(Opportunity.objects.all(), quote.opportunity_id, "opportunity")
        if opp.stage in CLOSED_STAGES:
            raise QuoteConflict(
                f"opportunity {opp.pk} is closed", code="quotes.opportunity_closed", field="opportunity_id"
            )
        if quote.is_primary:
            raise QuoteConflict(
                f"quote {quote.label} is the primary quote already",
                code="quotes.already_primary",
                field="quote_id",
            )
        if quote.superseded_at is not None or QuoteStatus(quote.status) in FINAL:
            raise QuoteConflict(
                f"quote {quote.label} is {quote.status}", code=codes.NOT_EDITABLE, field="status"
            )
        previous = list(Quote.objects.filter(opportunity=opp, is_primary=True).values_list("pk", flat=True))
        Quote.objects.filter(opportunity=opp, is_primary=True).update(is_primary=False)
        quote.is_primary = True
        quote.lock_version += 1
        quote.updated_at = now()
        quote.save()
        sync_opportunity(quote)
        record(
            ev.QUOTE_PRIMARY_CHANGED,
            "quote",
            quote.pk,
            entity_id=quote.entity_id,
            actor=actor,
            opportunity_id=opp.pk,
            previous_ids=previous,
            tcv=quote.tcv,
        )
    return quote


def _withdraw(quote: Quote, *, actor: Any, reason: str) -> None:
    status = QuoteStatus(quote.status)
    move_quote(status, QuoteStatus.WITHDRAWN)
    void_approvals(quote, actor=actor, why="withdrawn")
    retire_documents(quote)
    quote.status = QuoteStatus.WITHDRAWN
    quote.decided_at = now()
    quote.updated_at = quote.decided_at
    record(
        ev.QUOTE_WITHDRAWN,
        "quote",
        quote.pk,
        entity_id=quote.entity_id,
        actor=actor,
        number=quote.number,
        version=quote.version,
        from_status=str(status),
        reason=reason,
    )


def withdraw_quote(quote_id: int, *, actor: Any, reason: str = "", lock_version: int | None = None) -> Quote:
    """Withdraw a quote that is not final (its approvals are void, its link stops working)."""
    get_quote(quote_id, actor)
    why = _text(reason, "reason", max_length=2000)
    with transaction.atomic():
        quote = locked(Quote.objects.select_related("entity"), quote_id, "quote")
        access.check_edit(actor, quote.owner_id)
        check_version(quote, lock_version, "quote")
        _withdraw(quote, actor=actor, reason=why)
        quote.lock_version += 1
        quote.save()
    return quote


def opportunity_is_open(opp: Opportunity) -> bool:
    return Stage(opp.stage) not in CLOSED_STAGES


def valid_on(quote: Quote, day: date) -> bool:
    return quote.valid_until >= day
