"""Revenue use cases: the only code that writes revenue's tables (with ``q2c.revenue.run``).

- :func:`identify` — a contract activated: its obligations, SSPs and allocation (step 1–4);
- :func:`modify` — an amendment or a cancellation: a modification decided by ASC 606-10-25-12/13;
- :func:`satisfy` — a point-in-time obligation delivered or completed (orders' events);
  :func:`deliver_part` — some of its units delivered (recognised unit by unit);
- :func:`record_progress`, :func:`set_milestones`, :func:`reach_milestone` — measures of progress
  entered by finance;
- :func:`override` — finance forces a modification's treatment, with a note;
- :func:`close_period`, :func:`reopen_period` — the month lock (recognition, checks, ledger).

Each contract's revenue is its ``document`` in the preview format; every change edits the document
and re-runs the pure engine (:func:`q2c.revenue.engine.compute`), storing each obligation's
allocation and cumulative schedule. One ``transaction.atomic()`` per use case; handlers run inside
the contract's own transaction. Errors are :mod:`q2c.revenue.errors` kinds with stable codes.

Must not import any q2c app above ``revenue``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from q2c.core.money import Money
from q2c.core.periods import add_months
from q2c.platform import events
from q2c.platform.events import DomainEvent
from q2c.platform.roles import Role, roles_of
from q2c.revenue import documents
from q2c.revenue.engine import compute
from q2c.revenue.engine import preview as engine_preview
from q2c.revenue.engine.errors import RevenueInputError
from q2c.revenue.engine.ratable import month_end_ordinal
from q2c.revenue.models import Decision, Obligation, RevenueContract, RevenuePeriod

TREATMENTS = ("separate_contract", "terminate_and_create", "cumulative_catch_up")


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _event(kind: str, rc: RevenueContract, payload: dict[str, Any], actor: str) -> None:
    events.record(
        DomainEvent(
            f"revenue.{kind}",
            "revenue.contract",
            rc.contract_id,
            {"contract_id": rc.contract_id, "number": rc.number, **payload},
            entity_id=rc.entity_id,
            actor=actor,
        )
    )


# --- the engine on a stored document -------------------------------------------------------------
def evaluate(document: dict[str, Any]) -> Any:
    """Validate and compute a document (raises RevenueInputError naming the field)."""
    engine_preview.validate(document)
    try:
        return compute(engine_preview.parse(document))
    except RevenueInputError:
        raise
    except ValidationError as exc:
        raise RevenueInputError(exc.message, code=exc.code, field=exc.field, details=exc.details) from None


#: What :func:`_store` sets on an obligation from the engine's result.
_OBLIGATION_FIELDS = [
    "label", "description", "category", "pattern", "currency", "sku", "ssp_minor", "ssp_basis",
    "allocated_minor", "schedule",
]  # fmt: skip


def _store(rc: RevenueContract, *, strict: bool) -> None:
    """Re-run the engine on ``rc.document`` and store obligations and decisions.

    ``strict``: an engine error is raised (finance's input: nothing is written); otherwise (a
    contract event, which must not be refused because its revenue cannot be computed) the
    contract is marked ``error`` with the reason and its obligations are left as they were.
    """
    try:
        result = evaluate(rc.document)
    except RevenueInputError as exc:
        if strict:
            raise
        rc.status, rc.error = "error", f"{exc.message} [{exc.code}{' at ' + exc.field if exc.field else ''}]"
        rc.save(update_fields=["status", "error", "document", "facts", "updated_at"])
        return
    if rc.status == "error":
        rc.status = "active"
    rc.error = ""
    rc.save()
    existing = {o.key: o for o in Obligation.objects.filter(contract=rc)}
    sources = rc.facts.get("ssp_sources", {})
    # Written in bulk: one UPDATE for the obligations the contract had, one INSERT for new ones.
    changed: list[Obligation] = []
    added: list[Obligation] = []
    for ob in result.obligations:
        row = existing.get(ob.id)
        if row is None:
            row = Obligation(contract=rc, entity_id=rc.entity_id, key=ob.id)
            added.append(row)
        else:
            changed.append(row)
        cumulative = []
        for line in ob.lines:
            d = line.recognised_on
            cumulative.append([month_end_ordinal(d.year, d.month), line.cumulative_minor])
        row.label = ob.contract
        row.description = ob.description[:300]
        row.category = ob.category or "other"
        row.pattern = ob.pattern
        row.currency = rc.currency
        row.sku = str(rc.facts.get("lines", {}).get(ob.id, {}).get("sku", ""))
        row.ssp_minor = ob.ssp.minor_units() if ob.ssp is not None else None
        row.ssp_basis = (
            ob.ssp_basis + (" (observed price)" if sources.get(ob.id) == "observed price" else "")
        )[:30]
        row.allocated_minor = ob.allocated.minor_units()
        row.schedule = cumulative
    Obligation.objects.bulk_update(changed, _OBLIGATION_FIELDS)
    # Usage obligations the contract does not have yet, in the same INSERT.
    engine_keys = {row.key for row in added}
    added.extend(
        Obligation(
            contract=rc,
            key=key,
            entity_id=rc.entity_id,
            label=usage["label"],
            sku=usage.get("sku", ""),
            description=usage.get("description", "")[:300],
            category=usage.get("category") or "usage",
            pattern=documents.USAGE,
            currency=rc.currency,
        )
        for key, usage in rc.facts.get("usage", {}).items()
        if key not in existing and key not in engine_keys
    )
    Obligation.objects.bulk_create(added)
    Decision.objects.filter(contract=rc).delete()
    mods = rc.document.get("modifications", [])
    Decision.objects.bulk_create(
        Decision(
            contract=rc,
            index=d.index,
            on=d.on,
            source=str(mods[d.index].get("description", "")) if d.index < len(mods) else "",
            treatment=d.treatment,
            decided_by=d.decided_by,
            reason=d.reason,
            note=d.note,
            new_contract=d.new_contract or "",
            consideration_minor=d.consideration.minor_units(),
        )
        for d in result.decisions
    )


def _get(contract_id: int, *, lock: bool = True) -> RevenueContract:
    qs = RevenueContract.objects.filter(contract_id=contract_id)
    if lock:
        qs = qs.select_for_update()
    rc = qs.first()
    if rc is None:
        raise NotFound(
            f"contract {contract_id} has no revenue record",
            code="revenue.contract_not_found",
            field="contract_id",
        )
    return rc


def _refuse_closed(entity_id: int, day: date, field: str) -> None:
    if RevenuePeriod.objects.filter(entity_id=entity_id, start=day.replace(day=1), status="closed").exists():
        raise InvalidTransition(
            f"revenue period {day:%Y-%m} is closed", code="revenue.period_closed", field=field
        )


# --- contract events -------------------------------------------------------------------------------
def identify(payload: Mapping[str, Any], *, actor: str = "") -> RevenueContract:
    """A contract was activated: its obligations and allocation. Idempotent per contract."""
    contract_id = int(payload["contract_id"])
    with transaction.atomic():
        rc = RevenueContract.objects.filter(contract_id=contract_id).first()
        if rc is not None:
            return rc
        document, facts = documents.initial(payload, list(payload.get("lines", ())))
        now = clock.now()
        rc = RevenueContract.objects.create(
            entity_id=int(payload["entity_id"]),
            contract_id=contract_id,
            account_id=int(payload["account_id"]),
            number=str(payload.get("number") or contract_id),
            currency=str(payload["currency"]),
            start_date=_day(payload["start_date"]),
            end_date=_day(payload["end_date"]),
            document=document,
            facts=facts,
            previous_contract_id=payload.get("previous_contract_id"),
            created_at=now,
            updated_at=now,
        )
        _store(rc, strict=False)
        _event(
            "contract.identified",
            rc,
            {
                "obligations": len(document["obligations"]),
                "transaction_price": document["transaction_price"]["fixed"],
                "status": rc.status,
            },
            actor,
        )
    return rc


def modify(payload: Mapping[str, Any], *, cancel: bool = False, actor: str = "") -> RevenueContract | None:
    """An amendment applied (or the contract cancelled): a modification of the document.
    Idempotent per amendment number."""
    contract_id = int(payload["contract_id"])
    with transaction.atomic():
        rc = RevenueContract.objects.select_for_update().filter(contract_id=contract_id).first()
        if rc is None:
            return None
        number = int(payload.get("amendment_number") or 0)
        if number and number in rc.facts.get("amendments", []):
            return rc
        effective = _day(payload["effective_date"])
        document, facts = copy.deepcopy(rc.document), copy.deepcopy(rc.facts)
        mod = documents.amendment(
            document, facts, number=number, effective=effective,
            delta_lines=list(payload.get("delta_lines", ())), cancel=cancel,
            unrecognised=_unrecognised(rc, effective) if cancel else None,
        )  # fmt: skip
        if cancel:
            rc.status = "cancelled"
        if mod is None:
            if number:
                facts.setdefault("amendments", []).append(number)
            rc.facts = facts
            rc.updated_at = clock.now()
            rc.save()
            return rc
        rc.document, rc.facts, rc.updated_at = document, facts, clock.now()
        _store(rc, strict=False)
        decision = Decision.objects.filter(contract=rc).order_by("-index").first()
        _event(
            "contract.modified",
            rc,
            {
                "amendment_number": number,
                "effective_date": effective,
                "cancel": cancel,
                "treatment": decision.treatment if decision else "",
                "reason": decision.reason if decision else rc.error,
            },
            actor,
        )
    return rc


def _unrecognised(rc: RevenueContract, effective: date) -> dict[str, Decimal]:
    """Each obligation's allocation not yet recognised at the start of ``effective``: ratable by
    the cumulative day method to the day before, others from the schedule's month ends."""
    from q2c.revenue.engine.ratable import ratable_to_date

    before = effective - timedelta(days=1)
    out: dict[str, Decimal] = {}
    for ob in Obligation.objects.filter(contract=rc).exclude(pattern=documents.USAGE):
        spec = documents.find_obligation(rc.document, ob.key) or {}
        if (
            ob.pattern == documents.RATABLE
            and "start" in spec
            and len(rc.document.get("modifications", [])) == 0
        ):
            done = ratable_to_date(ob.allocated_minor, date.fromisoformat(spec["start"]),
                                   date.fromisoformat(spec["end"]), before)  # fmt: skip
        else:
            done = 0
            for ordinal, cumulative in ob.schedule:
                if ordinal <= before.toordinal():
                    done = cumulative
        out[ob.key] = Money.from_minor(ob.allocated_minor - done, rc.currency).amount
    return out


def renewed(payload: Mapping[str, Any], *, actor: str = "") -> None:
    """The term handed over to a new contract (whose own activation brings its obligations)."""
    with transaction.atomic():
        RevenueContract.objects.filter(contract_id=int(payload["contract_id"])).update(
            status="ended", updated_at=clock.now()
        )


def satisfy(contract_id: int, line_key: str, day: date, *, actor: str = "") -> bool:
    """A point-in-time obligation passed to the customer on ``day`` (delivered, completed or
    accepted). Returns False when the line is no such obligation. Idempotent."""
    return _delivered(contract_id, line_key, day, None, None, actor)


def deliver_part(
    contract_id: int, line_key: str, day: date, delivered: Decimal, units: Decimal, *, actor: str = ""
) -> bool:
    """Some units of a point-in-time obligation passed on ``day``: ``delivered`` units in all (the
    cumulative count) of its ``units``; it is recognised unit by unit (docs/revenue.md). Returns
    False when the line is no such obligation or already holds this delivery. Idempotent: a
    delivery no larger than one already recorded changes nothing."""
    return _delivered(contract_id, line_key, day, delivered, units, actor)


def _delivered(
    contract_id: int, line_key: str, day: date, delivered: Decimal | None, units: Decimal | None, actor: str
) -> bool:
    with transaction.atomic():
        rc = RevenueContract.objects.select_for_update().filter(contract_id=contract_id).first()
        if rc is None:
            return False
        document = copy.deepcopy(rc.document)
        ob = documents.find_obligation(document, str(line_key))
        if ob is None or ob["pattern"] != documents.POINT_IN_TIME or ob.get("delivered_on"):
            return False
        _refuse_closed(rc.entity_id, day, "delivered_on")
        payload: dict[str, Any] = {"obligation": str(line_key), "on": day}
        if delivered is None or units is None or delivered >= units:
            ob["delivered_on"] = day.isoformat()
            kind = "obligation.satisfied"
        else:
            parts: list[dict[str, str]] = ob.setdefault("deliveries", [])
            if parts and Decimal(parts[-1]["delivered"]) >= delivered:
                return False
            if parts and parts[-1]["on"] >= day.isoformat():
                parts.pop()  # the same day (or a late report): one cumulative figure per day
            parts.append({"on": day.isoformat(), "delivered": str(delivered)})
            ob["units"] = str(units)
            payload.update(delivered=str(delivered), units=str(units))
            kind = "obligation.delivered_in_part"
        rc.document, rc.updated_at = document, clock.now()
        _store(rc, strict=False)
        _event(kind, rc, payload, actor)
    return True


# --- finance's input -------------------------------------------------------------------------------
def _edit(contract_id: int, actor: str, what: str, change: Any, details: dict[str, Any]) -> RevenueContract:
    with transaction.atomic():
        rc = _get(contract_id)
        document = copy.deepcopy(rc.document)
        change(document)
        rc.document, rc.updated_at = document, clock.now()
        _store(rc, strict=True)
        _event(what, rc, details, actor)
    return rc


def _obligation(document: dict[str, Any], oid: str, pattern: str | None = None) -> dict[str, Any]:
    ob = documents.find_obligation(document, oid)
    if ob is None:
        raise NotFound(f"no obligation '{oid}'", code="revenue.obligation_not_found", field="obligation")
    if pattern is not None and ob["pattern"] != pattern:
        raise ValidationError(
            f"obligation '{oid}' is recognised {ob['pattern']}, not by {pattern}",
            code="revenue.wrong_pattern",
            field="obligation",
        )
    return ob


def _percent(value: Any, field: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{field} must be a number", code="revenue.invalid", field=field) from None
    if not d.is_finite() or d < 0 or d > 100:
        raise ValidationError(
            f"{field} must be between 0 and 100 %", code="revenue.progress_above_100", field=field
        )
    return d


def record_progress(
    contract_id: int, obligation: str, month: str, percent_complete: Any, *, actor: str = ""
) -> RevenueContract:
    """Measured progress of an obligation at the end of ``month`` (YYYY-MM), cumulative percent
    (hours or cost incurred against the estimate). Above 100 % or into a closed month: refused."""
    pct = _percent(percent_complete, "percent_complete")
    try:
        first = date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise ValidationError("month must be YYYY-MM", code="revenue.invalid_period", field="month") from None

    def change(document: dict[str, Any]) -> None:
        rc = RevenueContract.objects.get(contract_id=contract_id)
        _refuse_closed(rc.entity_id, first, "month")
        ob = _obligation(document, obligation, documents.PROGRESS)
        points = [p for p in ob.get("progress", []) if p.get("month") != month]
        points.append({"month": month, "percent_complete": format(pct, "f")})
        ob["progress"] = sorted(points, key=lambda p: p["month"])

    return _edit(
        contract_id,
        actor,
        "obligation.progress",
        change,
        {"obligation": obligation, "month": month, "percent_complete": format(pct, "f")},
    )


def set_milestones(
    contract_id: int, obligation: str, milestones: list[dict[str, Any]], *, actor: str = ""
) -> RevenueContract:
    """Recognise an obligation by milestones (``[{"id", "percent"}]``, adding up to 100)."""

    def change(document: dict[str, Any]) -> None:
        ob = _obligation(document, obligation)
        if ob["pattern"] not in (documents.POINT_IN_TIME, documents.PROGRESS, documents.MILESTONES):
            raise ValidationError(
                f"obligation '{obligation}' is {ob['pattern']}",
                code="revenue.wrong_pattern",
                field="obligation",
            )
        for name in ("delivered_on", "deliveries", "units", "progress"):
            ob.pop(name, None)
        ob["pattern"] = documents.MILESTONES
        ob["milestones"] = [{"id": str(m["id"]), "percent": str(m["percent"])} for m in milestones]

    return _edit(
        contract_id,
        actor,
        "obligation.milestones",
        change,
        {"obligation": obligation, "milestones": milestones},
    )


def reach_milestone(
    contract_id: int, obligation: str, milestone: str, day: date, *, actor: str = ""
) -> RevenueContract:
    def change(document: dict[str, Any]) -> None:
        rc = RevenueContract.objects.get(contract_id=contract_id)
        _refuse_closed(rc.entity_id, day, "achieved_on")
        ob = _obligation(document, obligation, documents.MILESTONES)
        for m in ob["milestones"]:
            if m["id"] == milestone:
                m["achieved_on"] = day.isoformat()
                return
        raise NotFound(f"no milestone '{milestone}'", code="revenue.milestone_not_found", field="milestone")

    return _edit(
        contract_id,
        actor,
        "obligation.milestone_reached",
        change,
        {"obligation": obligation, "milestone": milestone, "on": day},
    )


def set_terms(
    contract_id: int,
    *,
    variable: list[dict[str, Any]] | None = None,
    financing: dict[str, Any] | None = None,
    discount_allocation: list[dict[str, Any]] | None = None,
    actor: str = "",
) -> RevenueContract:
    """Transaction-price terms in the preview format (docs/revenue-preview.md): variable
    consideration (estimates, constraint, re-estimates), the financing component (rate, transfer
    date, payments; ``{}`` removes it) and a discount allocated to some obligations on the
    contract's evidence (``[]`` removes it). Those not given are left as they are; the engine
    re-runs and a wrong term is refused naming its field, with nothing written."""

    def change(document: dict[str, Any]) -> None:
        tp = document["transaction_price"]
        if variable is not None:
            if variable:
                tp["variable"] = variable
            else:
                tp.pop("variable", None)
        if financing is not None:
            if financing:
                tp["financing"] = financing
            else:
                tp.pop("financing", None)
        if discount_allocation is not None:
            if discount_allocation:
                document["discount_allocation"] = discount_allocation
            else:
                document.pop("discount_allocation", None)

    details = {"variable": variable, "financing": financing, "discount_allocation": discount_allocation}
    return _edit(
        contract_id,
        actor,
        "contract.terms_changed",
        change,
        {k: v for k, v in details.items() if v is not None},
    )


def set_variable(contract_id: int, variable: list[dict[str, Any]], *, actor: str = "") -> RevenueContract:
    """Variable consideration in the preview format (estimates, constraint, re-estimates)."""
    return set_terms(contract_id, variable=variable, actor=actor)


def override(contract_id: int, index: int, treatment: str, note: str, *, actor: str = "") -> RevenueContract:
    """Finance forces how modification ``index`` is accounted for; a note is required."""
    if treatment not in (*TREATMENTS, "automatic"):
        raise ValidationError(
            f"treatment must be one of {', '.join(TREATMENTS)} or automatic",
            code="revenue.invalid_treatment",
            field="treatment",
        )
    if treatment != "automatic" and not note.strip():
        raise ValidationError("a forced treatment needs a note", code="revenue.note_required", field="note")

    def change(document: dict[str, Any]) -> None:
        mods = document.get("modifications", [])
        if not 0 <= index < len(mods):
            raise NotFound(f"no modification {index}", code="revenue.modification_not_found", field="index")
        mods[index]["treatment"] = treatment
        mods[index]["note"] = note.strip()[:1000]
        if treatment == "automatic":
            mods[index].pop("note", None)

    return _edit(
        contract_id,
        actor,
        "modification.overridden",
        change,
        {"index": index, "treatment": treatment, "note": note[:1000]},
    )


# --- periods -----------------------------------------------------------------------------------------
def month_of(value: str | date) -> date:
    if isinstance(value, date):
        return value.replace(day=1)
    try:
        first = date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        raise ValidationError(
            f"'{value}' is not a month (YYYY-MM)", code="revenue.invalid_period", field="period"
        ) from None
    return first


def is_closed(entity_id: int, month: date) -> bool:
    return RevenuePeriod.objects.filter(
        entity_id=entity_id, start=month.replace(day=1), status="closed"
    ).exists()


_ENTITY = re.compile(r"\bentity (\d+)\b")


def _concerns(problem: str, entity_id: int) -> bool:
    """Whether a check's problem concerns entity ``entity_id``: the checks run over every book
    and name the entity in their problems ("entity 2: …", "… (entity 2) …"); a problem naming
    other entities only is theirs, one naming none cannot be placed and counts for every entity."""
    named = {int(n) for n in _ENTITY.findall(problem)}
    return not named or entity_id in named


def close_period(entity_id: int, month: str | date, *, actor: str = "") -> dict[str, Any]:
    """Close a month: recognise to its last day and post, check that nothing is left unposted and
    that the ledger checks pass for this entity, then lock the revenue period and the ledger period.

    The registered checks run over every book with ``as_of=None`` — the books must tie now, with
    everything posted (a check as of the month end would compare the ledger at that date with
    documents as they are today, e.g. invoices paid after the month end) — and only problems
    naming this entity (or naming none) refuse the close: another entity's books do not block it.
    The ledger's own checks run scoped to this entity (``q2c.ledger.checks.AT_CLOSE``): closed
    periods are compared by line count and sealed digest, not rehashed — that is
    ``q2c ledger check``'s (docs/ledger.md).

    Errors: ``revenue.invalid_period`` (422), ``revenue.period_not_ended`` (422: the month has
    not reached its last day), ``revenue.checks_failed`` (409, with the problems), the ledger's
    ``ledger.period_invalid_transition`` (409: already closed).
    """
    from q2c.ledger import checks as ledger_checks
    from q2c.ledger import services as ledger_services
    from q2c.platform.registry import checks
    from q2c.revenue import run as revenue_run

    first = month_of(month)
    last = add_months(first, 1) - timedelta(days=1)
    if clock.today() < last:
        raise ValidationError(
            f"period {first:%Y-%m} has not reached its last day yet",
            code="revenue.period_not_ended",
            field="period",
        )
    with transaction.atomic():
        if is_closed(entity_id, first):
            raise InvalidTransition(
                f"revenue period {first:%Y-%m} is already closed",
                code="revenue.period_invalid_transition",
                field="period",
            )
        result = revenue_run.recognise(entity_id, first, actor=actor)
        left = revenue_run.unposted(entity_id, last)
        problems = [f"{n} obligation(s) left unposted through {last}" for n in [left] if n]
        for name, check in checks.items():
            scoped = ledger_checks.AT_CLOSE.get(name)
            found = scoped(entity_id) if scoped else check.run(None)
            problems += [f"{name}: {p}" for p in found if _concerns(p, entity_id)]
        if problems:
            raise InvalidTransition(
                "the period cannot be closed: " + "; ".join(problems[:10]),
                code="revenue.checks_failed",
                field="period",
                details=[{"detail": p} for p in problems[:50]],
            )
        period, _ = RevenuePeriod.objects.get_or_create(entity_id=entity_id, start=first)
        period.status, period.closed_at, period.closed_by = "closed", clock.now(), actor[:150]
        period.save()
        ledger_services.close_period(entity_id, first, actor=actor)
        events.record(
            DomainEvent(
                "revenue.period.closed",
                "revenue.period",
                period.pk,
                {"period": f"{first:%Y-%m}", "recognised": result["recognised"]},
                entity_id=entity_id,
                actor=actor,
            )
        )
    return {"period": f"{first:%Y-%m}", "status": "closed", **result}


def reopen_period(entity_id: int, month: str | date, *, user: Any, reason: str = "") -> dict[str, Any]:
    """Reopen a closed month (revenue and ledger). Admin only; logged with the reason."""
    from q2c.ledger import services as ledger_services

    if Role.ADMIN not in roles_of(user):
        raise PermissionDenied(
            "reopening a closed period needs the admin role", code="revenue.admin_required"
        )
    first = month_of(month)
    with transaction.atomic():
        period = RevenuePeriod.objects.select_for_update().filter(entity_id=entity_id, start=first).first()
        if period is None or period.status != "closed":
            raise InvalidTransition(
                f"revenue period {first:%Y-%m} is not closed",
                code="revenue.period_invalid_transition",
                field="period",
            )
        period.status = "open"
        period.reopen_count += 1
        period.save()
        ledger_services.reopen_period(entity_id, first, user=user, reason=reason)
        events.record(
            DomainEvent(
                "revenue.period.reopened",
                "revenue.period",
                period.pk,
                {"period": f"{first:%Y-%m}", "reason": reason[:500]},
                entity_id=entity_id,
                actor=user.get_username(),
            )
        )
    return {"period": f"{first:%Y-%m}", "status": "open"}
