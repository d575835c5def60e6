"""Amendments: add quantity, add a product, remove quantity, change a price, extend the term,
cancel — each with an effective date inside the term.

Each applied amendment writes a new contract version holding every earlier line plus the
amendment's delta lines (``domain``): new lines are co-termed to the contract end; a reduction
takes effect at once with a credit, or at the renewal, as the product's policy says
(:class:`~q2c.contracts.models.ProductPolicy`, default at renewal). Every amendment records its
sale context (``add_on``) so revenue recognition can decide whether it is a separate contract.
``contracts.contract.amended`` carries the delta lines with amounts and dates.

**Amendments that set a price** (add a product, add quantity at a price other than the line's,
change a price) go through quote → approval → acceptance: :func:`amend` records the amendment as
``proposed`` and creates an amendment quote (sale context ``add_on``, starting on the effective
date) in the quotes app; when the customer accepts that quote, the QuoteAccepted handler calls
:func:`apply_quoted_amendment`, which applies the accepted prices. Until then the contract is
unchanged.

**Several proposed amendments at once**: each is based on the contract's current version when it
is proposed (``based_on_version``). Applying any amendment makes the proposals based on an older
version *stale*. A stale proposal whose acceptance would still mean what its quote said — no
amendment applied since changed the term or a line of the same product — is applied on the
current version when its quote is accepted (it is re-based on acceptance). One that conflicts is
refused at acceptance with 409 ``contracts.amendment_stale`` naming the amendments in the way,
and nothing changes (the customer's acceptance is rolled back); :func:`rebase_amendment` re-checks
it against the current version and replaces its quote with one priced on that version.

**Optimistic locking**: every change of a contract raises its ``lock_version``; callers pass the
version they read, and a stale one answers 409 ``contracts.stale`` with nothing written — of two
amendments made at once, one wins.

Errors: ``AmendmentInvalid``/``ContractInvalid`` (422, naming the field: effective date before the
start or after the end, reducing below zero, unknown line …), ``ContractConflict`` (409: stale,
not active, another amendment pending), ``ContractNotFound`` (404).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.db import transaction
from django.db.models import Max

from q2c.contracts import domain
from q2c.contracts import events as ev
from q2c.contracts.domain import (
    AmendmentKind,
    AmendmentStatus,
    ChargeKind,
    ContractStatus,
    Line,
    ReductionTiming,
    SaleContext,
    VersionKind,
)
from q2c.contracts.errors import (
    AMENDMENT_STALE,
    NEXT_TERM_EXISTS,
    NOT_ACTIVE,
    NOT_PROPOSED,
    ContractConflict,
    ContractInvalid,
    ContractNotFound,
)
from q2c.contracts.models import Amendment, Contract, ContractVersion, ProductPolicy
from q2c.contracts.services import common
from q2c.core.errors import DomainError, ValidationError
from q2c.core.money import to_decimal

#: Kinds that set a price, and so go through an amendment quote.
QUOTED_KINDS = frozenset({AmendmentKind.ADD_PRODUCT, AmendmentKind.CHANGE_PRICE})


def _decimal(value: Any, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_decimal(value, field=name)
    except (TypeError, ValidationError):
        raise ContractInvalid(
            f"{name}: '{value}' is not a number", code="contracts.invalid_number", field=name
        ) from None


def _date(value: Any, name: str, *, required: bool = True) -> date | None:
    if value is None or value == "":
        if required:
            raise ContractInvalid(f"{name} is required", code="contracts.required", field=name)
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ContractInvalid(
        f"{name} is not a date in the form YYYY-MM-DD", code="contracts.invalid_date", field=name
    )


def _kind(value: Any) -> AmendmentKind:
    try:
        return AmendmentKind(value)
    except ValueError:
        raise ContractInvalid(
            f"kind is one of {', '.join(AmendmentKind)}", code="contracts.invalid_choice", field="kind"
        ) from None


def require_active(contract: Contract) -> None:
    if contract.status != ContractStatus.ACTIVE:
        raise ContractConflict(
            f"contract {contract.number} is {contract.status}: only an active contract is amended",
            code=NOT_ACTIVE,
            field="status",
        )


def _next_number(contract: Contract) -> int:
    return int(Amendment.objects.filter(contract=contract).aggregate(n=Max("number"))["n"] or 0) + 1


def reduction_timing(product_id: int | None, sku: str = "") -> ReductionTiming:
    """The product's reduction policy (contracts-owned; default: at renewal). Lines made without
    catalog ids are matched by SKU."""
    row = None
    if product_id is not None:
        row = ProductPolicy.objects.filter(product_id=product_id).first()
    if row is None and sku:
        row = ProductPolicy.objects.filter(sku=sku).first()
    return ReductionTiming(row.reduction) if row is not None else ReductionTiming.AT_RENEWAL


def _running_line(lines: list[Line], *, line_key: str, sku: str, effective: date) -> Line:
    if line_key:
        for line in domain.base_lines(lines):
            if line.key == line_key:
                return line
        raise ContractInvalid(
            f"the contract has no line '{line_key}'", code="contracts.unknown_line", field="line_key"
        )
    if sku:
        found = domain.lines_of_sku(lines, sku, effective=effective)
        if found:
            return found[0]
        raise ContractInvalid(
            f"the contract has no running line of {sku} on {effective}",
            code="contracts.unknown_line",
            field="sku",
        )
    raise ContractInvalid(
        "name the line (line_key) or the product (sku)", code="contracts.required", field="line_key"
    )


def add_on_facts(
    contract: Contract, line: Line, *, quantity: Decimal, unit_price: Decimal | None, effective: date
) -> dict[str, Any]:
    """The catalog's facts for more of ``line`` sold as an add-on: the add-on SSP in particular
    (the catalog keeps SSP per sale context). Priced with the catalog's engine, saving nothing;
    when the catalog cannot price it (say the product is no longer sold) the line's own facts
    stay and the SSP is left empty for revenue to estimate."""
    from q2c.catalog.services import price_quote

    extra = dict(line.extra)
    months = max(
        1, (contract.end_date.year - effective.year) * 12 + contract.end_date.month - effective.month
    )
    request: dict[str, Any] = {
        "currency": contract.currency,
        "as_of": effective.isoformat(),
        "start_date": effective.isoformat(),
        "term_months": months,
        "sale_context": str(SaleContext.ADD_ON),
        "account_id": contract.account_id,
        "lines": [{"key": "1", "sku": line.sku, "quantity": str(quantity)}],
    }
    if unit_price is not None:
        request["lines"][0]["discount"] = {"target_price": str(unit_price)}
    try:
        result = price_quote(request, None, limit=None)
    except DomainError:
        extra["ssp_unit"] = None
        return extra
    priced = next((p for p in result.lines if p.charge == line.charge), None)
    extra["ssp_unit"] = priced.ssp_unit if priced is not None else None
    return extra


def _write(
    contract: Contract,
    amendment: Amendment,
    *,
    base: ContractVersion,
    delta: list[Line],
    effective: date,
    actor: Any,
) -> ContractVersion:
    if not delta and amendment.kind != AmendmentKind.CANCEL:
        raise ContractInvalid("the amendment changes nothing", code="contracts.no_change", field="kind")
    lines = common.lines_of(base) + delta
    version = common.write_version(
        contract,
        number=contract.current_version + 1,
        kind=VersionKind.AMENDMENT,
        lines=lines,
        states=common.clause_states(base),
        effective=effective,
        actor=actor,
        amendment=amendment,
        note=amendment.reason,
    )
    amendment.delta_value = common.money_sum_lines(contract, delta)
    amendment.status = AmendmentStatus.APPLIED
    amendment.applied_at = common.now()
    amendment.save()
    return version


def amended_payload(
    contract: Contract, amendment: Amendment, version: ContractVersion, delta: list[Line]
) -> dict[str, Any]:
    anchor, day = contract.start_date, contract.billing_day
    ids = common.line_ids(version)
    return {
        "amendment_id": amendment.pk,
        "amendment_number": amendment.number,
        "kind": amendment.kind,
        "effective_date": amendment.effective_date,
        "sale_context": amendment.sale_context,
        "version": version.number,
        "previous_version": amendment.based_on_version,
        "quote_id": amendment.quote_id,
        "entity_id": contract.entity_id,
        "account_id": contract.account_id,
        "currency": contract.currency,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "billing_frequency": contract.billing_frequency,
        "billing_day": contract.billing_day,
        "delta_value": amendment.delta_value,
        "mrr": contract.mrr,
        "value": contract.value,
        # What changes in this term; reductions that wait for the renewal change nothing now and
        # are listed apart (the renewal applies them).
        "delta_lines": [
            common.line_payload(
                line, currency=contract.currency, anchor=anchor, anchor_day=day, line_id=ids.get(line.key)
            )
            for line in delta
            if not line.at_renewal
        ],
        "at_renewal_lines": [
            common.line_payload(
                line, currency=contract.currency, anchor=anchor, anchor_day=day, line_id=ids.get(line.key)
            )
            for line in delta
            if line.at_renewal
        ],
    }


def amend(
    contract_id: int,
    *,
    actor: Any,
    lock_version: int | None,
    kind: str,
    effective_date: Any,
    line_key: str = "",
    sku: str = "",
    quantity: Any = None,
    unit_price: Any = None,
    new_end_date: Any = None,
    reason: str = "",
    override: bool = False,
) -> Amendment:
    """Amend an active contract. Returns the amendment: ``applied`` (a new version holds it) or
    ``proposed`` (its quote, ``amendment.quote_id``, waits for approval and acceptance)."""
    what = _kind(kind)
    effective = _date(effective_date, "effective_date")
    assert effective is not None
    if what is AmendmentKind.CANCEL:
        from q2c.contracts.services.lifecycle import cancel

        return cancel(
            contract_id,
            actor=actor,
            lock_version=lock_version,
            effective_date=effective,
            reason=reason,
            override=override,
        )
    qty = _decimal(quantity, "quantity")
    price = _decimal(unit_price, "unit_price")
    if price is not None and price < 0:
        raise ContractInvalid("a price is not negative", code="contracts.invalid_price", field="unit_price")
    end_to = _date(new_end_date, "new_end_date", required=what is AmendmentKind.EXTEND_TERM)
    why = (reason or "").strip()
    if len(why) > 2000:
        raise ContractInvalid(
            "reason is longer than 2000 characters", code="contracts.invalid_text", field="reason"
        )
    if (
        what in (AmendmentKind.ADD_QUANTITY, AmendmentKind.REMOVE_QUANTITY, AmendmentKind.ADD_PRODUCT)
        and qty is None
    ):
        raise ContractInvalid("quantity is required", code="contracts.required", field="quantity")
    if what is AmendmentKind.CHANGE_PRICE and price is None:
        raise ContractInvalid("unit_price is required", code="contracts.required", field="unit_price")
    if what is AmendmentKind.ADD_PRODUCT and not sku:
        raise ContractInvalid("sku is required", code="contracts.required", field="sku")
    with transaction.atomic():
        contract = common.locked(contract_id)
        common.check_version(contract, lock_version)
        require_active(contract)
        domain.check_effective_date(contract.start_date, contract.end_date, effective, what)
        base = common.current_version(contract)
        lines = common.lines_of(base)
        number = _next_number(contract)
        request = {
            "line_key": line_key,
            "sku": sku,
            "quantity": None if qty is None else str(qty),
            "unit_price": None if price is None else str(price),
            "new_end_date": None if end_to is None else end_to.isoformat(),
        }
        amendment = Amendment(
            contract=contract,
            number=number,
            kind=what,
            effective_date=effective,
            sale_context=SaleContext.ADD_ON,
            request=request,
            reason=why,
            based_on_version=base.number,
            currency=contract.currency,
            created_at=common.now(),
            created_by=common.actor_name(actor),
        )
        delta: list[Line]
        quoted = what in QUOTED_KINDS
        if what is AmendmentKind.ADD_QUANTITY:
            target = _running_line(lines, line_key=line_key, sku=sku, effective=effective)
            request["line_key"] = target.key
            if target.charge_kind is ChargeKind.USAGE:
                raise ContractInvalid(
                    "usage is not bought by quantity", code="contracts.usage_quantity", field="line_key"
                )
            quoted = price is not None and price != target.unit_price
            if not quoted:
                assert qty is not None
                extra = add_on_facts(
                    contract, target, quantity=qty, unit_price=target.unit_price, effective=effective
                )
                delta = domain.plan_add_quantity(
                    lines,
                    line_key=target.key,
                    quantity=qty,
                    effective=effective,
                    end=contract.end_date,
                    amendment_number=number,
                    extra=extra,
                )
        elif what is AmendmentKind.REMOVE_QUANTITY:
            assert qty is not None
            targets = [_running_line(lines, line_key=line_key, sku=sku, effective=effective)]
            timing = reduction_timing(targets[0].extra.get("product_id"), targets[0].sku)
            delta = domain.plan_reduction(
                lines,
                quantity=qty,
                effective=effective,
                end=contract.end_date,
                amendment_number=number,
                timing=timing,
                line_key=line_key,
                sku=sku if not line_key else "",
            )
            request["reduction"] = str(timing)
        elif what is AmendmentKind.EXTEND_TERM:
            assert end_to is not None
            following = next_term(contract)
            if following is not None:
                raise ContractConflict(
                    f"contract {contract.number} is renewed already: {following.number} starts on "
                    f"{following.start_date}; amend that one instead of extending this term",
                    code=NEXT_TERM_EXISTS,
                    field="new_end_date",
                )
            delta = domain.plan_extension(
                lines, old_end=contract.end_date, new_end=end_to, amendment_number=number
            )
        elif what is AmendmentKind.CHANGE_PRICE:
            target = _running_line(lines, line_key=line_key, sku=sku, effective=effective)
            request["line_key"] = target.key
            assert price is not None
            # Check now (same price, one-time, nothing left) so a bad request makes no quote.
            domain.plan_price_change(
                lines,
                line_key=target.key,
                unit_price=price,
                effective=effective,
                end=contract.end_date,
                amendment_number=number,
            )
        else:  # add_product
            assert qty is not None
            if qty <= 0:
                raise ContractInvalid(
                    "the quantity must be above zero", code="contracts.invalid_quantity", field="quantity"
                )
        if quoted:
            amendment.status = AmendmentStatus.PROPOSED
            request["product_sku"] = sku if what is AmendmentKind.ADD_PRODUCT else target.sku
            amendment.request = request
            amendment.save()
            quote = _amendment_quote(contract, amendment, lines, actor=actor)
            amendment.quote_id = quote["id"]
            amendment.quote_number = quote["number"]
            amendment.save(update_fields=["quote_id", "quote_number"])
            common.bump(contract)
            common.record(
                ev.AMENDMENT_PROPOSED,
                contract,
                actor=actor,
                amendment_id=amendment.pk,
                amendment_number=number,
                kind=str(what),
                effective_date=effective,
                quote_id=amendment.quote_id,
                quote_number=amendment.quote_number,
                request=request,
            )
            return amendment
        amendment.request = request
        amendment.save()
        if what is AmendmentKind.EXTEND_TERM:
            assert end_to is not None
            contract.end_date = end_to
            contract.term_months = _months_between(contract.start_date, end_to)
        version = _write(contract, amendment, base=base, delta=delta, effective=effective, actor=actor)
        common.bump(contract)
        common.record(
            ev.CONTRACT_AMENDED, contract, actor=actor, **amended_payload(contract, amendment, version, delta)
        )
        carry_into_next_term(contract, amendment, before=lines, after=lines + delta, actor=actor)
        refresh_renewal_quote(contract, amendment, before=lines, after=lines + delta)
    return amendment


def _months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end``, a part month counting as one."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if domain.term_end(start, months) < end:
        months += 1
    return max(1, months)


def quote_lines(amendment: Amendment, lines: list[Line]) -> list[dict[str, Any]]:
    """The lines of the quote that carries ``amendment``, priced on the contract ``lines``.
    Raises ``ContractInvalid`` when the line it changes is no longer there."""
    request = amendment.request
    if amendment.kind in (AmendmentKind.CHANGE_PRICE, AmendmentKind.ADD_QUANTITY):
        target = next((line for line in lines if line.key == request["line_key"]), None)
        if target is None:
            raise ContractInvalid(
                f"the contract has no line '{request['line_key']}'",
                code="contracts.unknown_line",
                field="line_key",
            )
        if amendment.kind == AmendmentKind.CHANGE_PRICE:
            left = domain.remaining_quantity(lines, target.key)
            quantity = str(left if target.charge_kind is ChargeKind.RECURRING else target.quantity)
        else:
            quantity = request["quantity"]
        return [
            {
                "key": "1",
                "sku": target.sku,
                "quantity": quantity,
                "discount": {"target_price": request["unit_price"]},
            }
        ]
    line: dict[str, Any] = {"key": "1", "sku": request["sku"], "quantity": request["quantity"]}
    if request.get("unit_price") is not None:
        line["discount"] = {"target_price": request["unit_price"]}
    return [line]


def _amendment_quote(
    contract: Contract, amendment: Amendment, lines: list[Line], *, actor: Any
) -> dict[str, Any]:
    """Create the quote that carries a price-setting amendment through approval and acceptance.
    What it was priced on (its lines and the contract end) is kept in the amendment's request, so
    its acceptance can tell whether the contract still says the same."""
    from q2c.contracts.services import quoting

    priced_on = quote_lines(amendment, lines)
    amendment.request = {
        **amendment.request,
        "quote_lines": priced_on,
        "quote_end_date": contract.end_date.isoformat(),
    }
    amendment.save(update_fields=["request"])
    return quoting.create_quote_for(
        contract,
        actor=actor,
        name=f"Amendment {amendment.label}",
        start_date=amendment.effective_date,
        end_date=contract.end_date,
        sale_context=str(SaleContext.ADD_ON),
        lines=priced_on,
    )


def apply_quoted_amendment(
    amendment_id: int, *, priced_lines: list[dict[str, Any]], document_sha256: str, actor: Any
) -> Amendment:
    """Apply a proposed amendment with the prices of its accepted quote (called by the
    QuoteAccepted handler inside the acceptance transaction). ``priced_lines`` are the quote's
    priced lines (``Quote.pricing["lines"]``: sku, charge, charge_kind, quantity, net_unit_price,
    period_months, product and charge ids, revenue facts, SSP)."""
    with transaction.atomic():
        row = Amendment.objects.filter(pk=amendment_id).first()
        if row is None:
            raise ContractNotFound(
                f"no amendment {amendment_id}", code="contracts.no_amendment", field="amendment_id"
            )
        contract = common.locked(row.contract_id)
        amendment = Amendment.objects.get(pk=amendment_id)  # re-read under the contract's lock
        domain.move_amendment(amendment.status, AmendmentStatus.APPLIED)
        require_active(contract)
        if amendment.based_on_version != contract.current_version:
            current_lines = common.lines_of(common.current_version(contract))
            if not still_holds(contract, amendment, current_lines):
                raise ContractConflict(
                    stale_message(contract, amendment, conflicts(contract, amendment)),
                    code=AMENDMENT_STALE,
                    field="quote_id",
                )
            # What was applied since leaves its quote as it was: it applies on the current version.
            amendment.request = {**amendment.request, "proposed_on_version": amendment.based_on_version}
            amendment.based_on_version = contract.current_version
        domain.check_effective_date(
            contract.start_date, contract.end_date, amendment.effective_date, AmendmentKind(amendment.kind)
        )
        base = common.current_version(contract)
        lines = common.lines_of(base)
        effective, end = amendment.effective_date, contract.end_date
        delta: list[Line] = []
        if amendment.kind == AmendmentKind.CHANGE_PRICE:
            target = next(line for line in lines if line.key == amendment.request["line_key"])
            priced = next(
                (p for p in priced_lines if p.get("sku") == target.sku and p.get("charge") == target.charge),
                None,
            )
            if priced is None or priced.get("net_unit_price") is None:
                raise ContractInvalid(
                    "the accepted quote has no price for the line",
                    code="contracts.quote_mismatch",
                    field="quote_id",
                )
            extra = _extra_from_priced(priced, target.extra, amendment.quote_id, document_sha256)
            delta = domain.plan_price_change(
                lines,
                line_key=target.key,
                unit_price=Decimal(str(priced["net_unit_price"])),
                effective=effective,
                end=end,
                amendment_number=amendment.number,
                extra=extra,
            )
        else:
            base_extra: dict[str, Any] = {}
            if amendment.kind == AmendmentKind.ADD_QUANTITY:
                target = next(line for line in lines if line.key == amendment.request["line_key"])
                base_extra = dict(target.extra)
            for i, priced in enumerate(priced_lines, start=1):
                kind = ChargeKind(str(priced.get("charge_kind") or "one_time"))
                extra = _extra_from_priced(priced, base_extra, amendment.quote_id, document_sha256)
                price = priced.get("net_unit_price")
                delta.append(
                    domain.plan_new_line(
                        sku=str(priced["sku"]),
                        charge=str(priced["charge"]),
                        charge_kind=kind,
                        quantity=Decimal(str(priced.get("quantity") or "0")),
                        unit_price=None if price is None or kind is ChargeKind.USAGE else Decimal(str(price)),
                        period_months=int(
                            priced.get("period_months") or (1 if kind is ChargeKind.RECURRING else 0)
                        ),
                        effective=effective,
                        end=end,
                        key=domain.new_key(amendment.number, i),
                        extra=extra,
                    )
                )
        version = _write(contract, amendment, base=base, delta=delta, effective=effective, actor=actor)
        common.bump(contract)
        common.record(
            ev.CONTRACT_AMENDED, contract, actor=actor, **amended_payload(contract, amendment, version, delta)
        )
        carry_into_next_term(contract, amendment, before=lines, after=lines + delta, actor=actor)
        refresh_renewal_quote(contract, amendment, before=lines, after=lines + delta)
        return amendment


def _extra_from_priced(
    priced: dict[str, Any], fallback: Any, quote_id: int | None, sha: str
) -> MappingProxyType[str, Any]:
    extra = dict(fallback or {})
    for name in (
        "product_id",
        "name",
        "charge_id",
        "unit",
        "billing_period",
        "timing",
        "revenue_rule",
        "revenue_category",
        "tax_category",
        "usage_metric",
    ):
        if priced.get(name) not in (None, ""):
            extra[name] = priced[name]
    extra["ssp_unit"] = None if priced.get("ssp_unit") in (None, "") else Decimal(str(priced["ssp_unit"]))
    extra["rate_card"] = list(priced.get("rate_card") or extra.get("rate_card") or [])
    extra["quote_id"] = quote_id
    extra["quote_line_key"] = str(priced.get("key") or "")
    extra["document_sha256"] = sha
    return MappingProxyType(extra)


# --------------------------------------------------------------------------- the next term

#: A next term amendments are carried into: made (its renewal quote accepted), not yet ended.
CARRY_INTO = (ContractStatus.DRAFT, ContractStatus.PENDING_SIGNATURE, ContractStatus.ACTIVE)


def next_term(contract: Contract) -> Contract | None:
    """The contract's next term when one was made and still runs or is to run."""
    return Contract.objects.filter(previous=contract, status__in=CARRY_INTO).first()


def carried_delta(
    before: list[Line],
    after: list[Line],
    nxt: list[Line],
    *,
    old_end: date,
    new_start: date,
    new_end: date,
    uplift_percent: Decimal,
    currency: str,
    amendment_number: int,
) -> list[Line]:
    """What an amendment of this term changes in the next one, as delta lines of the next term.

    The next term was made from what runs at this term's end (``domain.renewal_lines``: reductions
    applied, merged per product, charge and price, uplifted). The amendment's effect on the next
    term is the difference between those lines after and before it, per product and charge and
    price: more units are added over the whole next term — at the next term's own price for the
    product when the amendment changed only quantities (the renewal quote may have been
    negotiated), at the uplifted price otherwise (a new product, a new price); fewer units are
    taken off the next term's lines of the product at once from its start (newest first). Usage
    rates and one-time charges carry nothing (usage has no quantity; one-time charges do not
    renew)."""

    def plan(lines: list[Line]) -> dict[tuple[str, str], dict[Decimal | None, tuple[Decimal, Line]]]:
        out: dict[tuple[str, str], dict[Decimal | None, tuple[Decimal, Line]]] = {}
        for line in domain.renewal_lines(
            lines,
            old_end=old_end,
            new_start=new_start,
            new_end=new_end,
            uplift_percent=uplift_percent,
            currency=currency,
        ):
            if line.charge_kind is not ChargeKind.RECURRING:
                continue
            group = out.setdefault((line.sku, line.charge), {})
            qty, first = group.get(line.unit_price, (Decimal(0), line))
            group[line.unit_price] = (qty + line.quantity, first)
        return out

    was, now = plan(before), plan(after)
    delta: list[Line] = []
    running = [x for x in nxt if not x.adjusts and x.service_end == new_end]
    for group in sorted(set(was) | set(now)):
        old_prices, new_prices = was.get(group, {}), now.get(group, {})
        own_price = next(
            (x.unit_price for x in running if (x.sku, x.charge) == group and x.unit_price is not None), None
        )
        quantity_only = set(old_prices) == set(new_prices)
        for price in sorted(set(old_prices) | set(new_prices), key=lambda p: (p is None, p or 0)):
            old_qty = old_prices[price][0] if price in old_prices else Decimal(0)
            new_qty, model = new_prices[price] if price in new_prices else (Decimal(0), None)
            change = new_qty - old_qty
            if change > 0:
                assert model is not None
                delta.append(
                    replace(
                        model,
                        key="",
                        quantity=change,
                        unit_price=own_price if quantity_only and own_price is not None else price,
                        service_start=new_start,
                        service_end=new_end,
                        sale_context=SaleContext.ADD_ON,
                    )
                )
            elif change < 0:
                # The next term's lines of the product, with what this carry took off them already.
                taken = [x for x in delta if x.adjusts and (x.sku, x.charge) == group]
                delta.extend(
                    domain.plan_reduction(
                        [x for x in nxt if (x.sku, x.charge) == group] + taken,
                        quantity=-change,
                        effective=new_start,
                        end=new_end,
                        amendment_number=amendment_number,
                        timing=ReductionTiming.IMMEDIATE_WITH_CREDIT,
                        sku=group[0],
                    )
                )
    return [replace(x, key=domain.new_key(amendment_number, i)) for i, x in enumerate(delta, start=1)]


def refresh_renewal_quote(contract: Contract, amendment: Amendment, *, before: list[Line], after: list[Line]) -> bool:
    """An amendment of a term whose renewal quote is still open: the quote's lines follow the
    change to what renews (``domain.renewal_lines`` before and after, compared per product and
    uplifted price). A line the rep left as made gets the new quantity; a new product or price is
    added; lines whose units all stop are dropped; whatever else the rep changed (discounts, other
    lines) is kept. The quote is repriced in its owner's name and, if it was in review, approved
    or sent, goes back to draft (``contracts.contract.renewal_quote_refreshed`` says so). False
    when there is nothing to refresh."""
    from q2c.contracts.services import quoting

    if contract.renewal_quote_id is None or next_term(contract) is not None:
        return False
    new_end = domain.term_end(contract.end_date, contract.term_months)

    def plan(lines: list[Line]) -> dict[tuple[str, Decimal | None], Decimal | None]:
        out: dict[tuple[str, Decimal | None], Decimal | None] = {}
        for x in domain.renewal_lines(
            lines, old_end=contract.end_date, new_start=contract.end_date, new_end=new_end,
            uplift_percent=Decimal(str(contract.renewal_uplift_percent or 0)), currency=contract.currency,
        ):  # fmt: skip
            key = (x.sku, None if x.charge_kind is ChargeKind.USAGE else x.unit_price)
            out[key] = None if x.charge_kind is ChargeKind.USAGE else (out.get(key) or Decimal(0)) + x.quantity
        return out

    old, new = plan(before), plan(after)
    if old == new:
        return False
    found = quoting.open_quote_lines(contract.renewal_quote_id)
    if found is None:
        return False
    status, lines = found

    def matches(item: dict[str, Any], key: tuple[str, Decimal | None]) -> bool:
        price = (item.get("discount") or {}).get("target_price")
        return item["sku"] == key[0] and (key[1] is None or (price is not None and Decimal(price) == key[1]))

    for key in list(old) + [k for k in new if k not in old]:
        was, now = old.get(key), new.get(key)
        if key in old and key in new and was == now:
            continue
        item = next((x for x in lines if matches(x, key)), None)
        if key not in new:
            if item is not None:
                lines.remove(item)
        elif item is None:
            added: dict[str, Any] = {"key": f"A{amendment.number}.{len(lines) + 1}", "sku": key[0]}
            if key[1] is not None:
                added.update(quantity=str(now), discount={"target_price": str(key[1])})
            lines.append(added)
        elif now is not None:
            item["quantity"] = str(Decimal(item.get("quantity") or 0) + now - (was or Decimal(0)))
    seller = quoting.owner_of(contract)
    if seller is None or not lines:
        return False
    quote = quoting.replace_quote_lines(contract.renewal_quote_id, actor=seller, lines=lines)
    common.record(
        ev.RENEWAL_QUOTE_REFRESHED, contract, actor=seller, quote_id=quote["id"], quote_number=quote["number"],
        amendment_number=amendment.number, from_status=status, status=quote["status"],
    )  # fmt: skip
    return True


def carry_into_next_term(
    contract: Contract, amendment: Amendment, *, before: list[Line], after: list[Line], actor: Any
) -> Amendment | None:
    """Carry an applied amendment into the next term already made (its renewal quote accepted
    before the amendment): an amendment of the next term, effective on its start, with the delta
    lines :func:`carried_delta` works out; recorded as ``contracts.contract.amended`` of the next
    term. Nothing when there is no next term or the change does not reach it."""
    nxt_contract = next_term(contract)
    if nxt_contract is None:
        return None
    nxt_contract = common.locked(nxt_contract.pk)
    base = common.current_version(nxt_contract)
    nxt_lines = common.lines_of(base)
    number = _next_number(nxt_contract)
    delta = carried_delta(
        before,
        after,
        nxt_lines,
        old_end=contract.end_date,
        new_start=nxt_contract.start_date,
        new_end=nxt_contract.end_date,
        uplift_percent=Decimal(str(contract.renewal_uplift_percent or 0)),
        currency=contract.currency,
        amendment_number=number,
    )
    if not delta:
        return None
    carried = Amendment(
        contract=nxt_contract,
        number=number,
        kind=amendment.kind,
        effective_date=nxt_contract.start_date,
        sale_context=SaleContext.ADD_ON,
        request={
            "carried_from": {
                "contract_id": contract.pk,
                "number": contract.number,
                "amendment_number": amendment.number,
            }
        },
        reason=f"carried from {contract.number}/A{amendment.number}",
        based_on_version=base.number,
        currency=nxt_contract.currency,
        quote_id=amendment.quote_id,
        quote_number=amendment.quote_number,
        created_at=common.now(),
        created_by=common.actor_name(actor),
    )
    carried.save()
    version = _write(
        nxt_contract, carried, base=base, delta=delta, effective=nxt_contract.start_date, actor=actor
    )
    common.bump(nxt_contract)
    common.record(
        ev.CONTRACT_AMENDED,
        nxt_contract,
        actor=actor,
        carried_from_contract_id=contract.pk,
        carried_from_amendment_number=amendment.number,
        **amended_payload(nxt_contract, carried, version, delta),
    )
    return carried


#: Kinds that change the term: every proposal made before them is in their way.
TERM_KINDS = frozenset({AmendmentKind.EXTEND_TERM, AmendmentKind.CANCEL})


def proposal_sku(contract: Contract, amendment: Amendment) -> str:
    """The product a proposed amendment changes."""
    request = amendment.request
    if request.get("product_sku"):
        return str(request["product_sku"])
    if request.get("sku") and amendment.kind == AmendmentKind.ADD_PRODUCT:
        return str(request["sku"])
    key = request.get("line_key") or ""
    line = next((x for x in common.lines_of(common.current_version(contract)) if x.key == key), None)
    return line.sku if line is not None else str(request.get("sku") or "")


def still_holds(contract: Contract, amendment: Amendment, lines: list[Line]) -> bool:
    """Whether the contract ``lines`` still give ``amendment``'s quote the lines and end date it
    was priced on (a proposal made before these were kept has nothing to compare: it does not)."""
    request = amendment.request
    if "quote_lines" not in request or request.get("quote_end_date") != contract.end_date.isoformat():
        return False
    try:
        return quote_lines(amendment, lines) == request["quote_lines"]
    except ContractInvalid:
        return False


def conflicts(contract: Contract, amendment: Amendment) -> list[Amendment]:
    """The amendments applied after ``amendment``'s base version that are in its way: those that
    changed the term (an extension or a cancellation) or a line of the same product. Called when
    the current version no longer gives its quote what it was priced on."""
    sku = proposal_sku(contract, amendment)
    later = list(
        Amendment.objects.filter(
            contract=contract,
            status=AmendmentStatus.APPLIED,
            version__number__gt=amendment.based_on_version,
        )
        .exclude(pk=amendment.pk)
        .select_related("version")
        .order_by("number")
    )
    found = [
        other
        for other in later
        if AmendmentKind(other.kind) in TERM_KINDS or any(x.sku == sku for x in delta_lines(other))
    ]
    return found or later


def stale_message(contract: Contract, amendment: Amendment, in_the_way: list[Amendment]) -> str:
    names = ", ".join(
        f"{contract.number}/A{x.number} ({str(x.kind).replace('_', ' ')}, version {x.version.number})"
        for x in in_the_way
    )
    return (
        f"amendment {contract.number}/A{amendment.number} was priced on version "
        f"{amendment.based_on_version}, and {names} has changed it since; re-base the amendment on "
        f"version {contract.current_version} for a new quote"
    )


def rebase_amendment(contract_id: int, number: int, *, actor: Any, lock_version: int | None) -> Amendment:
    """Base a proposed amendment on the contract's current version: check it again against the
    current lines (the line still runs, nothing goes below zero, the date is inside the term) and
    replace its quote with one priced on them; the old quote is withdrawn. A proposal already on
    the current version is answered as it is."""
    with transaction.atomic():
        contract = common.locked(contract_id)
        common.check_version(contract, lock_version)
        require_active(contract)
        amendment = Amendment.objects.filter(contract=contract, number=number).first()
        if amendment is None:
            raise ContractNotFound(
                f"contract {contract.number} has no amendment {number}",
                code="contracts.no_amendment",
                field="amendment",
            )
        if amendment.status != AmendmentStatus.PROPOSED:
            raise ContractConflict(
                f"amendment {amendment.label} is {amendment.status}: only a proposed one is re-based",
                code=NOT_PROPOSED,
                field="status",
            )
        if amendment.based_on_version == contract.current_version:
            return amendment
        what = AmendmentKind(amendment.kind)
        effective = amendment.effective_date
        domain.check_effective_date(contract.start_date, contract.end_date, effective, what)
        lines = common.lines_of(common.current_version(contract))
        request = dict(amendment.request)
        if request.get("line_key"):
            target = _running_line(lines, line_key=request["line_key"], sku="", effective=effective)
            if what is AmendmentKind.CHANGE_PRICE:  # something left to re-price, not the same price
                domain.plan_price_change(
                    lines,
                    line_key=target.key,
                    unit_price=Decimal(request["unit_price"]),
                    effective=effective,
                    end=contract.end_date,
                    amendment_number=amendment.number,
                )
        old_quote, old_version = amendment.quote_id, amendment.based_on_version
        request["rebased_from_version"] = old_version
        amendment.request = request
        amendment.based_on_version = contract.current_version
        quote = _amendment_quote(contract, amendment, lines, actor=actor)
        amendment.quote_id = quote["id"]
        amendment.quote_number = quote["number"]
        amendment.save(update_fields=["request", "based_on_version", "quote_id", "quote_number"])
        # Re-linked first, so the old quote's closing does not withdraw the amendment.
        if old_quote is not None:
            from q2c.contracts.services import quoting

            quoting.withdraw_quote(
                old_quote,
                actor=actor,
                reason=f"replaced: {amendment.label} re-based on version {contract.current_version}",
            )
        common.bump(contract)
        common.record(
            ev.AMENDMENT_REBASED,
            contract,
            actor=actor,
            amendment_id=amendment.pk,
            amendment_number=amendment.number,
            from_version=old_version,
            version=contract.current_version,
            old_quote_id=old_quote,
            quote_id=amendment.quote_id,
            quote_number=amendment.quote_number,
        )
    return amendment


def withdraw_amendment(amendment_id: int, *, actor: Any, reason: str = "") -> Amendment:
    """Drop a proposed amendment (its quote was withdrawn, rejected or expired, or sales gave up)."""
    with transaction.atomic():
        row = Amendment.objects.filter(pk=amendment_id).first()
        if row is None:
            raise ContractNotFound(
                f"no amendment {amendment_id}", code="contracts.no_amendment", field="amendment_id"
            )
        contract = common.locked(row.contract_id)
        amendment = Amendment.objects.get(pk=amendment_id)
        amendment.status = domain.move_amendment(amendment.status, AmendmentStatus.WITHDRAWN)
        amendment.withdrawn_at = common.now()
        amendment.save(update_fields=["status", "withdrawn_at"])
        common.bump(contract)
        common.record(
            ev.AMENDMENT_WITHDRAWN,
            contract,
            actor=actor,
            amendment_id=amendment.pk,
            amendment_number=amendment.number,
            quote_id=amendment.quote_id,
            reason=(reason or "")[:2000],
        )
    return amendment


def delta_lines(amendment: Amendment) -> list[Line]:
    """The lines an applied amendment added, from the version it wrote."""
    version = ContractVersion.objects.filter(amendment=amendment).first()
    if version is None:
        return []
    prefix = f"A{amendment.number}."
    return [line for line in common.lines_of(version) if line.key.startswith(prefix)]
