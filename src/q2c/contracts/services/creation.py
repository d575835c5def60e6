"""Creating a contract: from plain input (:class:`NewContract`) and from an accepted quote.

:func:`create_contract` checks everything first, then in one transaction takes the gapless number
(``CON-2027-000001``, the entity's contract prefix and the year of the business date), writes the
contract, version 1 (the library clauses, the assembled document, every line) and records
``contracts.contract.created``. Given signature evidence (the customer's signed acceptance of the
quote, when the entity's settings say that acceptance is the signature), it also records the
signature and activates the contract in the same transaction (``contracts.contract.activated``).

Called inside another use case's transaction (the QuoteAccepted handler runs in the acceptance
transaction), its ``atomic`` block is a savepoint: any error aborts the acceptance too.

Errors: ``ContractInvalid`` (422, naming the field; lines as ``lines[i].field``),
``ContractConflict`` (409) when the quote already has a contract.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.db import transaction

from q2c.contracts import domain
from q2c.contracts import events as ev
from q2c.contracts.domain import BillingFrequency, ChargeKind, ContractStatus, Line, SaleContext, VersionKind
from q2c.contracts.errors import ContractConflict, ContractInvalid
from q2c.contracts.models import Contract, Signature
from q2c.contracts.services import common
from q2c.core.errors import ValidationError
from q2c.core.money import check_currency, to_decimal
from q2c.parties.models import Account, LegalEntity
from q2c.platform import numbering

NUMBER_KIND = "contract"
MAX_LINES = 500
MAX_TERM_MONTHS = 600


@dataclass(frozen=True)
class NewContractLine:
    """One line of a new contract. ``unit_price`` is the net price per unit and per price period
    (``period_months`` months); usage lines have none and carry a ``rate_card``. The service
    period defaults to the contract's term."""

    sku: str
    charge: str
    charge_kind: str
    quantity: Decimal
    unit_price: Decimal | None = None
    period_months: int = 0
    key: str = ""
    name: str = ""
    product_id: int | None = None
    charge_id: int | None = None
    unit: str = ""
    billing_period: str = ""
    timing: str = ""
    revenue_rule: str = ""
    revenue_category: str = ""
    tax_category: str = ""
    ssp_unit: Decimal | None = None
    usage_metric: str = ""
    rate_card: tuple[dict[str, Any], ...] = ()
    parent_key: str = ""
    quote_line_key: str = ""
    service_start: date | None = None
    service_end: date | None = None


@dataclass(frozen=True)
class SignatureEvidence:
    """Who signed what, when and from where."""

    signer_name: str
    signed_at: datetime
    document_sha256: str
    signer_title: str = ""
    signer_email: str = ""
    ip_address: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class NewContract:
    entity_id: int
    account_id: int
    currency: str
    start_date: date
    term_months: int
    lines: Sequence[NewContractLine]
    auto_renew: bool = False
    renewal_uplift_percent: Decimal | None = None
    notice_days: int | None = None
    payment_terms_days: int | None = None
    billing_frequency: str = BillingFrequency.MONTH
    billing_day: int | None = None
    billing_settings: dict[str, Any] = field(default_factory=dict)
    non_cancellable: bool | None = None
    governing_law: str | None = None
    title: str = ""
    sale_context: str = SaleContext.NEW
    source_quote_id: int | None = None
    source_quote_number: str = ""
    source_quote_version: int | None = None
    opportunity_id: int | None = None
    owner_id: int | None = None
    accepted_document_sha256: str = ""
    previous_contract_id: int | None = None
    signature: SignatureEvidence | None = None
    #: Activate without a signature: a renewal the signed terms provide for (auto-renew).
    activate_unsigned: bool = False


def _fail(message: str, code: str, field_name: str) -> ContractInvalid:
    return ContractInvalid(message, code=code, field=field_name)


def _int(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(f"{name} must be a whole number from {low} to {high}", "contracts.invalid_number", name)
    return value


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return to_decimal(value, field=name)
    except (TypeError, ValidationError):
        raise _fail(f"{name}: '{value}' is not a number", "contracts.invalid_number", name) from None


def clean_lines(
    raw: Sequence[NewContractLine], *, start: date, end: date, billing_frequency: str
) -> list[Line]:
    if not raw:
        raise _fail("a contract has at least one line", "contracts.no_lines", "lines")
    if len(raw) > MAX_LINES:
        raise _fail(f"a contract has at most {MAX_LINES} lines", "contracts.too_many_lines", "lines")
    out: list[Line] = []
    keys: set[str] = set()
    for i, item in enumerate(raw):
        where = f"lines[{i}]"
        key = (item.key or str(i + 1)).strip()
        if not key or len(key) > 40 or (key.startswith("A") and common.amendment_of(key) is not None):
            raise _fail(f"{where}: '{key}' is not a usable line key", "contracts.invalid_key", f"{where}.key")
        if key in keys:
            raise _fail(f"{where}: key '{key}' is used twice", "contracts.duplicate_key", f"{where}.key")
        keys.add(key)
        if not item.sku or not item.charge:
            raise _fail(f"{where}: sku and charge are required", "contracts.required", f"{where}.sku")
        try:
            kind = ChargeKind(item.charge_kind)
        except ValueError:
            raise _fail(
                f"{where}: charge_kind is one of {', '.join(ChargeKind)}",
                "contracts.invalid_choice",
                f"{where}.charge_kind",
            ) from None
        quantity = _decimal(item.quantity, f"{where}.quantity")
        if quantity < 0 or (quantity == 0 and kind is not ChargeKind.USAGE):
            raise _fail(
                f"{where}: the quantity must be above zero", "contracts.invalid_quantity", f"{where}.quantity"
            )
        price = None if item.unit_price is None else _decimal(item.unit_price, f"{where}.unit_price")
        if price is not None and price < 0:
            raise _fail(f"{where}: a price is not negative", "contracts.invalid_price", f"{where}.unit_price")
        if price is None and kind is not ChargeKind.USAGE:
            raise _fail(f"{where}: a unit price is required", "contracts.required", f"{where}.unit_price")
        months = item.period_months or (1 if kind is ChargeKind.RECURRING else 0)
        _int(months, f"{where}.period_months", 0, 120)
        s_start = item.service_start or start
        s_end = item.service_end or end
        if not start <= s_start < s_end <= end:
            raise _fail(
                f"{where}: the service period must lie inside the term [{start}, {end})",
                "contracts.invalid_service_period",
                f"{where}.service_start",
            )
        out.append(
            Line(
                key=key,
                sku=item.sku,
                charge=item.charge,
                charge_kind=kind,
                quantity=quantity,
                unit_price=price,
                service_start=s_start,
                service_end=s_end,
                period_months=months,
                sale_context=SaleContext.NEW,
                extra=MappingProxyType(
                    {
                        "product_id": item.product_id,
                        "name": item.name,
                        "charge_id": item.charge_id,
                        "unit": item.unit,
                        "billing_period": item.billing_period,
                        "timing": item.timing,
                        "billing_frequency": billing_frequency if kind is ChargeKind.RECURRING else "",
                        "revenue_rule": item.revenue_rule,
                        "revenue_category": item.revenue_category,
                        "tax_category": item.tax_category,
                        "ssp_unit": item.ssp_unit,
                        "usage_metric": item.usage_metric,
                        "rate_card": list(item.rate_card),
                        "parent_key": item.parent_key,
                        "quote_line_key": item.quote_line_key,
                    }
                ),
            )
        )
    return out


def _with_context(lines: list[Line], context: SaleContext, quote_id: int | None, sha: str) -> list[Line]:
    from dataclasses import replace

    out = []
    for line in lines:
        extra = dict(line.extra)
        extra["quote_id"] = quote_id
        extra["document_sha256"] = sha
        out.append(replace(line, sale_context=context, extra=MappingProxyType(extra)))
    return out


def create_contract(new: NewContract, *, actor: Any) -> Contract:
    """Create a contract (version 1) from ``new``; activate it at once when signature evidence is
    given. Returns the saved contract."""
    entity = LegalEntity.objects.filter(pk=new.entity_id).first()
    if entity is None:
        raise _fail(f"no legal entity {new.entity_id}", "contracts.invalid_entity", "entity_id")
    account = Account.objects.filter(pk=new.account_id).first()
    if account is None or account.entity_id != entity.pk:
        raise _fail(
            f"no account {new.account_id} of this legal entity", "contracts.invalid_account", "account_id"
        )
    try:
        currency = check_currency(new.currency)
    except ValidationError:
        raise _fail(
            f"'{new.currency}' is not an ISO 4217 currency code", "contracts.invalid_currency", "currency"
        ) from None
    term = _int(new.term_months, "term_months", 1, MAX_TERM_MONTHS)
    if not isinstance(new.start_date, date):
        raise _fail("start_date is a date", "contracts.invalid_date", "start_date")
    end = domain.term_end(new.start_date, term)
    if new.billing_frequency not in domain.FREQUENCY_MONTHS:
        raise _fail(
            f"billing_frequency is one of {', '.join(domain.FREQUENCY_MONTHS)}",
            "contracts.invalid_choice",
            "billing_frequency",
        )
    try:
        context = SaleContext(new.sale_context)
    except ValueError:
        raise _fail(
            "sale_context is new, add_on or renewal", "contracts.invalid_choice", "sale_context"
        ) from None
    defaults = common.settings_for(entity.pk)
    uplift = _decimal(
        new.renewal_uplift_percent
        if new.renewal_uplift_percent is not None
        else defaults.renewal_uplift_percent,
        "renewal_uplift_percent",
    )
    if not Decimal(-100) < uplift <= Decimal(1000):
        raise _fail(
            "renewal_uplift_percent must be above -100 and at most 1000",
            "contracts.invalid_percent",
            "renewal_uplift_percent",
        )
    notice = _int(
        new.notice_days if new.notice_days is not None else defaults.notice_days, "notice_days", 0, 3650
    )
    terms = _int(
        new.payment_terms_days
        if new.payment_terms_days is not None
        else account.effective_payment_terms_days,
        "payment_terms_days",
        0,
        365,
    )
    billing_day = _int(
        new.billing_day if new.billing_day is not None else new.start_date.day, "billing_day", 1, 31
    )
    law = (new.governing_law if new.governing_law is not None else defaults.governing_law) or _law_of(entity)
    if len(law) > 200 or len(new.title) > 200:
        raise _fail("text longer than 200 characters", "contracts.invalid_text", "governing_law")
    non_cancellable = new.non_cancellable if new.non_cancellable is not None else defaults.non_cancellable
    lines = clean_lines(new.lines, start=new.start_date, end=end, billing_frequency=new.billing_frequency)
    lines = _with_context(lines, context, new.source_quote_id, new.accepted_document_sha256)
    if (
        new.source_quote_id is not None
        and Contract.objects.filter(source_quote_id=new.source_quote_id).exists()
    ):
        raise ContractConflict(
            f"quote {new.source_quote_number or new.source_quote_id} has a contract already",
            code="contracts.quote_has_contract",
            field="source_quote_id",
        )
    previous = None
    if new.previous_contract_id is not None:
        previous = Contract.objects.filter(pk=new.previous_contract_id, account=account).first()
        if previous is None:
            raise _fail(
                "the previous contract is not one of this account's",
                "contracts.invalid_previous",
                "previous_contract_id",
            )
    moment = common.now()
    day = common.today(entity.time_zone)
    with transaction.atomic():
        seq = numbering.take(entity.pk, NUMBER_KIND, year=day.year)
        number = numbering.NumberFormat(entity.contract_prefix or "CON").format(seq, day.year)
        contract = Contract(
            entity=entity,
            account=account,
            number=number,
            status=ContractStatus.DRAFT,
            currency=currency,
            start_date=new.start_date,
            end_date=end,
            term_months=term,
            auto_renew=bool(new.auto_renew),
            renewal_uplift_percent=str(uplift),
            notice_days=notice,
            payment_terms_days=terms,
            billing_frequency=new.billing_frequency,
            billing_day=billing_day,
            billing_settings=dict(new.billing_settings),
            non_cancellable=bool(non_cancellable),
            governing_law=law,
            sale_context=context,
            title=new.title,
            source_quote_id=new.source_quote_id,
            source_quote_number=new.source_quote_number,
            source_quote_version=new.source_quote_version,
            opportunity_id=new.opportunity_id,
            owner_id=new.owner_id,
            accepted_document_sha256=new.accepted_document_sha256,
            previous=previous,
            created_at=moment,
            updated_at=moment,
            created_by=common.actor_name(actor),
        )
        contract.save()
        version = common.write_version(
            contract,
            number=1,
            kind=VersionKind.ORIGINAL,
            lines=lines,
            states=common.library_clauses(),
            effective=new.start_date,
            actor=actor,
        )
        contract.save()
        common.record(
            ev.CONTRACT_CREATED,
            contract,
            actor=actor,
            account_id=account.pk,
            currency=currency,
            start_date=contract.start_date,
            end_date=contract.end_date,
            source_quote_id=new.source_quote_id,
            previous_contract_id=contract.previous_id,
            value=contract.value,
            lines=len(lines),
        )
        if new.signature is not None:
            sign_version(
                contract, version, new.signature, method=Signature.Method.QUOTE_ACCEPTANCE, actor=actor
            )
        elif new.activate_unsigned:
            contract.status = domain.move(
                domain.move(contract.status, ContractStatus.PENDING_SIGNATURE), ContractStatus.ACTIVE
            )
            contract.activated_at = moment
            common.bump(contract)
            activate(contract, version, actor=actor)
    return contract


def _law_of(entity: LegalEntity) -> str:
    try:
        import pycountry

        country = pycountry.countries.get(alpha_2=entity.country)
    except (ImportError, LookupError):  # pragma: no cover - pycountry ships with the app
        country = None
    return f"the laws of {country.name}" if country is not None else ""


def sign_version(
    contract: Contract, version: Any, evidence: SignatureEvidence, *, method: str, actor: Any
) -> Signature:
    """Record the customer's signature of ``version`` and activate the contract (inside the
    caller's transaction; the contract is locked or new). Draft contracts pass through
    pending_signature, as the table asks."""
    status = ContractStatus(contract.status)
    if status is ContractStatus.DRAFT:
        status = domain.move(status, ContractStatus.PENDING_SIGNATURE)
    domain.move(status, ContractStatus.ACTIVE)
    signature = Signature.objects.create(
        contract=contract,
        version=version,
        method=method,
        signer_name=evidence.signer_name,
        signer_title=evidence.signer_title,
        signer_email=evidence.signer_email,
        signed_at=evidence.signed_at,
        ip_address=evidence.ip_address,
        user_agent=evidence.user_agent,
        document_sha256=evidence.document_sha256,
    )
    contract.status = ContractStatus.ACTIVE
    contract.signed_at = evidence.signed_at
    contract.activated_at = common.now()
    common.bump(contract)
    common.record(
        ev.SIGNED,
        contract,
        actor=actor,
        version=version.number,
        method=method,
        signer_name=evidence.signer_name,
        signer_title=evidence.signer_title,
        signed_at=evidence.signed_at,
        ip_address=evidence.ip_address,
        user_agent=evidence.user_agent,
        document_sha256=evidence.document_sha256,
    )
    activate(contract, version, actor=actor)
    return signature


def activate(contract: Contract, version: Any, *, actor: Any) -> None:
    """Record ContractActivated with the whole contract (caller's transaction)."""
    lines = common.lines_of(version)
    common.record(
        ev.CONTRACT_ACTIVATED, contract, actor=actor, **common.contract_payload(contract, version, lines)
    )
