"""Cancellations, renewals and the end of a term.

**Cancelling** (:func:`cancel`) takes effect on a date inside the term (or on its end: notice of
non-renewal). The contract's notice period asks for at least ``notice_days`` days between today
and the effective date; a later notice — and any mid-term cancellation of a non-cancellable
contract — needs ``override=True`` from a holder of an override role (sales manager or admin):
without it 409 ``contracts.notice_period`` / ``contracts.non_cancellable``, with it but without the
role 403 ``contracts.override_role``; nothing is written. A cancellation is recorded as an
amendment of kind ``cancel`` whose delta lines stop every recurring line from the effective date
(``contracts.contract.cancelled``).

**Renewals** (:func:`run_daily`, the daily job ``contracts.renewals``): ``renewal_lead_days``
(entity setting, default 60) before the end, an active contract gets a renewal quote — sale context
``renewal``, its running lines merged per product and price, prices raised by the contract's
uplift — made in the contract owner's name. Accepting that quote creates the next-term contract
linked to this one (``previous``). On the end date a contract whose renewal was accepted becomes
``renewed``; an auto-renew contract renews by itself into a new contract on the same terms with
the uplift (``contracts.contract.renewed`` on the old, ``contracts.contract.activated`` on the new);
any other becomes ``expired``. Each step is idempotent for a date.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from q2c.contracts import domain
from q2c.contracts import events as ev
from q2c.contracts.domain import AmendmentKind, AmendmentStatus, ContractStatus, SaleContext, VersionKind
from q2c.contracts.errors import (
    NON_CANCELLABLE,
    NOTICE_PERIOD,
    OVERRIDE_ROLE,
    ContractConflict,
    ContractForbidden,
    ContractInvalid,
)
from q2c.contracts.models import Amendment, Contract, ContractSettings
from q2c.contracts.services import common
from q2c.contracts.services.amendments import _next_number, amended_payload
from q2c.contracts.services.creation import NewContract, NewContractLine, create_contract
from q2c.platform.roles import Role, roles_of

#: Who may cancel inside the notice period or cancel a non-cancellable contract mid-term.
OVERRIDE_ROLES = frozenset({Role.SALES_MANAGER, Role.ADMIN})


def may_override(actor: Any) -> bool:
    return bool(roles_of(actor) & {str(r) for r in OVERRIDE_ROLES})


def cancel(
    contract_id: int,
    *,
    actor: Any,
    lock_version: int | None,
    effective_date: date,
    reason: str,
    override: bool = False,
) -> Amendment:
    """Cancel a contract from ``effective_date``. Returns the ``cancel`` amendment."""
    why = (reason or "").strip()
    if not why:
        raise ContractInvalid("say why the contract is cancelled", code="contracts.required", field="reason")
    if len(why) > 2000:
        raise ContractInvalid(
            "reason is longer than 2000 characters", code="contracts.invalid_text", field="reason"
        )
    if not isinstance(effective_date, date):
        raise ContractInvalid(
            "effective_date is a date", code="contracts.invalid_date", field="effective_date"
        )
    with transaction.atomic():
        contract = common.locked(contract_id)
        common.check_version(contract, lock_version)
        status = ContractStatus(contract.status)
        target = domain.move(status, ContractStatus.CANCELLED)  # 409 when expired, renewed, cancelled
        base = common.current_version(contract)
        number = _next_number(contract)
        if status is not ContractStatus.ACTIVE:
            # Never signed: the deal fell through; nothing ran, nothing to stop.
            effective = effective_date
            delta: list[domain.Line] = []
        else:
            effective = effective_date
            domain.check_effective_date(
                contract.start_date, contract.end_date, effective, AmendmentKind.CANCEL
            )
            day = common.today(contract)
            needs: list[tuple[str, str]] = []
            if domain.inside_notice_period(today=day, effective=effective, notice_days=contract.notice_days):
                needs.append(
                    (
                        NOTICE_PERIOD,
                        f"the notice period is {contract.notice_days} days: a cancellation given on {day} "
                        f"takes effect on {day + timedelta(days=contract.notice_days)} at the earliest",
                    )
                )
            if contract.non_cancellable and effective < contract.end_date:
                needs.append(
                    (
                        NON_CANCELLABLE,
                        f"contract {contract.number} may not be cancelled before its end ({contract.end_date})",
                    )
                )
            if needs and not override:
                code, message = needs[0]
                raise ContractConflict(
                    message + "; a sales manager may override", code=code, field="effective_date"
                )
            if needs and not may_override(actor):
                raise ContractForbidden(
                    "overriding the notice period or the non-cancellable term needs the role sales_manager",
                    code=OVERRIDE_ROLE,
                    field="override",
                )
            delta = domain.plan_cancellation(
                common.lines_of(base), effective=effective, end=contract.end_date, amendment_number=number
            )
        amendment = _cancelled(
            contract, status, target, base, number, delta, effective=effective, why=why, actor=actor,
            request={"effective_date": effective.isoformat(), "override": bool(override)},
        )  # fmt: skip
        _carry_cancellation(contract, amendment, why=why, actor=actor)
    return amendment


def _carry_cancellation(contract: Contract, amendment: Amendment, *, why: str, actor: Any) -> None:
    """A term cancelled after its renewal was accepted: the next term never starts — it is cancelled
    from its start, in the same transaction, whatever its own notice or non-cancellable term (the
    decision, and any override it needed, was this term's)."""
    from q2c.contracts.services.amendments import next_term

    nxt = next_term(contract)
    if nxt is None:
        return
    nxt = common.locked(nxt.pk)
    status = ContractStatus(nxt.status)
    target = domain.move(status, ContractStatus.CANCELLED)
    base = common.current_version(nxt)
    number = _next_number(nxt)
    delta: list[domain.Line] = []
    if status is ContractStatus.ACTIVE:
        delta = domain.plan_cancellation(
            common.lines_of(base), effective=nxt.start_date, end=nxt.end_date, amendment_number=number
        )
    carried_from = {"contract_id": contract.pk, "number": contract.number, "amendment_number": amendment.number}
    _cancelled(
        nxt, status, target, base, number, delta, effective=nxt.start_date, actor=actor,
        why=f"carried from {contract.number}/A{amendment.number}: {why}"[:2000],
        request={"effective_date": nxt.start_date.isoformat(), "override": False, "carried_from": carried_from},
    )  # fmt: skip


def _cancelled(
    contract: Contract,
    status: ContractStatus,
    target: ContractStatus,
    base: Any,
    number: int,
    delta: list[domain.Line],
    *,
    effective: date,
    why: str,
    actor: Any,
    request: dict[str, Any],
) -> Amendment:
    """Write a cancellation decided and checked by the caller: the amendment, the version, the
    status and ``contracts.contract.cancelled``."""
    override = bool(request.get("override"))
    amendment = Amendment.objects.create(
        contract=contract,
        number=number,
        kind=AmendmentKind.CANCEL,
        status=AmendmentStatus.APPLIED,
        effective_date=effective,
        sale_context=SaleContext.ADD_ON,
        request=request,
        reason=why,
        based_on_version=base.number,
        currency=contract.currency,
        created_at=common.now(),
        created_by=common.actor_name(actor),
    )
    version = common.write_version(
        contract,
        number=contract.current_version + 1,
        kind=VersionKind.AMENDMENT,
        lines=common.lines_of(base) + delta,
        states=common.clause_states(base),
        effective=min(max(effective, contract.start_date), contract.end_date),
        actor=actor,
        amendment=amendment,
        note=why,
    )
    amendment.delta_value = common.money_sum_lines(contract, delta)
    amendment.applied_at = common.now()
    amendment.save()
    contract.status = target
    contract.cancel_effective_date = effective
    contract.cancel_reason = why
    contract.ended_on = common.today(contract)
    common.bump(contract)
    payload = amended_payload(contract, amendment, version, delta)
    payload["reason"] = why
    payload["override"] = override
    payload["from_status"] = str(status)
    if "carried_from" in request:
        payload["carried_from_contract_id"] = request["carried_from"]["contract_id"]
        payload["carried_from_amendment_number"] = request["carried_from"]["amendment_number"]
    common.record(ev.CONTRACT_CANCELLED, contract, actor=actor, **payload)
    return amendment


# --------------------------------------------------------------------------- renewals


def renewal_plan(contract: Contract) -> list[domain.Line]:
    """The next term's lines: what runs at the end, reductions at renewal applied, uplifted."""
    new_start = contract.end_date
    new_end = domain.term_end(new_start, contract.term_months)
    return domain.renewal_lines(
        common.lines_of(common.current_version(contract)),
        old_end=contract.end_date,
        new_start=new_start,
        new_end=new_end,
        uplift_percent=contract.renewal_uplift_percent,
        currency=contract.currency,
    )


def create_renewal_quote(contract_id: int, *, actor: Any = None) -> Contract:
    """Create the renewal quote of an active contract now (the daily job does it on time).
    ``actor`` defaults to the contract's owner. 409 when it has one already or is not active."""
    from q2c.contracts.services import quoting

    with transaction.atomic():
        contract = common.locked(contract_id)
        if contract.status != ContractStatus.ACTIVE:
            raise ContractConflict(
                f"contract {contract.number} is {contract.status}",
                code="contracts.not_active",
                field="status",
            )
        if contract.renewal_quote_id is not None or has_next_term(contract):
            raise ContractConflict(
                f"contract {contract.number} has a renewal already",
                code="contracts.renewal_exists",
                field="renewal_quote_id",
            )
        seller = actor if actor is not None and not isinstance(actor, str) else quoting.owner_of(contract)
        if seller is None:
            raise ContractConflict(
                f"contract {contract.number} has no active owner to make the renewal quote",
                code="contracts.no_owner",
                field="owner_id",
            )
        lines = renewal_plan(contract)
        if not lines:
            raise ContractConflict(
                f"nothing of contract {contract.number} runs to its end",
                code="contracts.nothing_to_renew",
                field="lines",
            )
        quote_lines = []
        for i, line in enumerate(lines, start=1):
            item: dict[str, Any] = {"key": str(i), "sku": line.sku}
            if line.charge_kind is not domain.ChargeKind.USAGE:
                item["quantity"] = str(line.quantity)
                item["discount"] = {"target_price": str(line.unit_price)}
            quote_lines.append(item)
        quote = quoting.create_quote_for(
            contract,
            actor=seller,
            name=f"Renewal of {contract.number}",
            start_date=contract.end_date,
            end_date=domain.term_end(contract.end_date, contract.term_months),
            sale_context=str(SaleContext.RENEWAL),
            lines=quote_lines,
            term_months=contract.term_months,
        )
        contract.renewal_quote_id = quote["id"]
        contract.renewal_quote_number = quote["number"]
        contract.renewal_quoted_on = common.today(contract)
        common.bump(contract)
        common.record(
            ev.RENEWAL_QUOTED,
            contract,
            actor=seller,
            quote_id=quote["id"],
            quote_number=quote["number"],
            start_date=contract.end_date,
            uplift_percent=contract.renewal_uplift_percent,
            lines=[
                common.line_payload(
                    x, currency=contract.currency, anchor=x.service_start, anchor_day=contract.billing_day
                )
                for x in lines
            ],
        )
    return contract


def has_next_term(contract: Contract) -> bool:
    return Contract.objects.filter(previous=contract).exists()


def _renewal_payload(old: Contract, new: Contract, how: str) -> dict[str, Any]:
    return {
        "new_contract_id": new.pk,
        "new_number": new.number,
        "how": how,
        "end_date": old.end_date,
        "new_start_date": new.start_date,
        "new_end_date": new.end_date,
        "uplift_percent": old.renewal_uplift_percent,
        "currency": old.currency,
        "new_value": new.value,
        "new_mrr": new.mrr,
    }


def _auto_renew(contract: Contract, *, actor: Any) -> Contract:
    """Renew by the contract's own terms into a new contract (caller's transaction, locked)."""
    lines = renewal_plan(contract)
    new = create_contract(
        NewContract(
            entity_id=contract.entity_id,
            account_id=contract.account_id,
            currency=contract.currency,
            start_date=contract.end_date,
            term_months=contract.term_months,
            lines=[
                NewContractLine(
                    key=line.key,
                    sku=line.sku,
                    charge=line.charge,
                    charge_kind=str(line.charge_kind),
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    period_months=line.period_months,
                    **{k: v for k, v in dict(line.extra).items() if k in _LINE_EXTRA},
                )
                for line in lines
            ],
            auto_renew=True,
            renewal_uplift_percent=contract.renewal_uplift_percent,
            notice_days=contract.notice_days,
            payment_terms_days=contract.payment_terms_days,
            billing_frequency=contract.billing_frequency,
            billing_day=contract.billing_day,
            billing_settings=dict(contract.billing_settings or {}),
            non_cancellable=contract.non_cancellable,
            governing_law=contract.governing_law,
            title=contract.title,
            sale_context=SaleContext.RENEWAL,
            owner_id=contract.owner_id,
            previous_contract_id=contract.pk,
            activate_unsigned=True,
        ),
        actor=actor,
    )
    return new


_LINE_EXTRA = frozenset(
    {
        "name",
        "product_id",
        "charge_id",
        "unit",
        "billing_period",
        "timing",
        "revenue_rule",
        "revenue_category",
        "tax_category",
        "ssp_unit",
        "usage_metric",
        "parent_key",
    }
)


def end_term(contract_id: int, *, day: date, actor: Any = "system") -> Contract | None:
    """The end of an active contract's term on or before ``day``: renewed (by an accepted
    renewal or automatically) or expired. Returns the next-term contract, if any."""
    from q2c.contracts.services import quoting

    with transaction.atomic():
        contract = common.locked(contract_id)
        if contract.status != ContractStatus.ACTIVE or contract.end_date > day:
            return None  # changed since it was listed
        successor = Contract.objects.filter(previous=contract).first()
        how = "accepted_renewal"
        if successor is None and contract.auto_renew:
            successor = _auto_renew(contract, actor=actor)
            how = "auto_renew"
            if contract.renewal_quote_id is not None:
                owner = quoting.owner_of(contract)
                if owner is not None:
                    quoting.withdraw_quote(
                        contract.renewal_quote_id,
                        actor=owner,
                        reason=f"{contract.number} renewed automatically",
                    )
        if successor is not None:
            contract.status = domain.move(contract.status, ContractStatus.RENEWED)
            contract.ended_on = contract.end_date
            common.bump(contract)
            common.record(
                ev.CONTRACT_RENEWED, contract, actor=actor, **_renewal_payload(contract, successor, how)
            )
            return successor
        contract.status = domain.move(contract.status, ContractStatus.EXPIRED)
        contract.ended_on = contract.end_date
        common.bump(contract)
        common.record(ev.CONTRACT_EXPIRED, contract, actor=actor, end_date=contract.end_date)
    return None


def run_daily(day: date) -> dict[str, Any]:
    """The daily job: renewal quotes due by ``day``, then terms that ended by ``day``."""
    from q2c.core.errors import DomainError

    quoted: list[str] = []
    skipped: list[str] = []
    open_terms = Contract.objects.filter(
        status=ContractStatus.ACTIVE, renewal_quote_id__isnull=True, end_date__gt=day
    )
    # Only contracts inside their entity's renewal lead window and without a next term are read
    # (one query for the entities' settings, one for the candidates' ids and numbers).
    entity_ids = sorted(open_terms.values_list("entity_id", flat=True).distinct().order_by())
    saved = {row.entity_id: row for row in ContractSettings.objects.filter(entity_id__in=entity_ids)}
    window = Q(pk__in=[])
    for entity_id in entity_ids:
        lead = int(saved.get(entity_id, ContractSettings(entity_id=entity_id)).renewal_lead_days)
        window |= Q(entity_id=entity_id, end_date__lte=day + timedelta(days=lead))
    candidates = (
        open_terms.filter(window)
        .exclude(Exists(Contract.objects.filter(previous=OuterRef("pk"))))
        .order_by("end_date", "id")
        .values_list("pk", "number")
    )
    for pk, number in candidates:
        try:
            create_renewal_quote(pk)
            quoted.append(number)
        except DomainError as exc:
            skipped.append(f"{number}: {exc.code}")
    renewed: list[str] = []
    expired: list[str] = []
    ending = list(
        Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lte=day)
        .order_by("end_date", "id")
        .values_list("pk", "number")
    )
    for pk, number in ending:
        successor = end_term(pk, day=day)
        (renewed if successor is not None else expired).append(number)
    return {"renewal_quotes": quoted, "skipped": skipped, "renewed": renewed, "expired": expired}
