"""Billing use cases other than the bill run: schedules from contract lines, amendments and
cancellations (with their prorations), the facts one-time charges wait for, milestones, settings.

**Schedules from contract lines** (:func:`create_schedules`). Each active contract line becomes
one schedule:

- recurring lines bill ``quantity × unit price`` per billing period (the contract's or the line's
  billing frequency: monthly, quarterly, half-yearly, yearly; a price per month billed yearly is
  12 × the monthly price), in advance or in arrears, on the contract's billing day (anchored to the
  calendar: ``anchor_day`` = billing day, phased from the contract's start month), over the line's
  service period — a start between billing days gives a prorated first period;
- one-time lines bill once, on the contract start, activation, delivery (per delivery, the
  quantity delivered), completion, a date, or in milestones — per product (``ChargeRule``);
  default: delivery for goods (hardware), contract start for the rest;
- usage lines become usage schedules, rated per calendar month in arrears by ``billing.usage``;
  reductions deferred to renewal are not billed at all.

**Amendments** (:func:`amend_schedules`): new delta lines get schedules of their own. For a line
billed in advance whose current period is cut by the amendment, the billing engine's ``amend``
prorates the change for the rest of the period — one delta line, or a credit for the old terms and
a charge for the new (Stripe) — billed on the amendment date or with the next invoice (settings);
the new schedules then bill from the next period. Lines in arrears need no proration: each
schedule bills its prorated part at the period end.

**Cancellations** (:func:`end_schedules`): schedules end on the effective date; a period billed in
advance beyond it is credited for the unused part.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from q2c.billing import engine, errors
from q2c.billing import events as ev
from q2c.billing.models import Adjustment, BillingSettings, ChargeRule, Milestone, Schedule, ScheduleFact
from q2c.core import clock
from q2c.core.money import currency_exponent, to_decimal
from q2c.core.periods import Period
from q2c.parties.models import LegalEntity
from q2c.platform import events
from q2c.platform.events import DomainEvent

FREQUENCY_MONTHS = {
    "month": 1,
    "monthly": 1,
    "quarter": 3,
    "quarterly": 3,
    "half_year": 6,
    "half_yearly": 6,
    "year": 12,
    "yearly": 12,
}
TRIGGERS = {c.value for c in ChargeRule.Trigger}


@dataclass(frozen=True)
class ContractHead:
    """What billing needs of a contract (from ContractActivated / ContractAmended payloads)."""

    contract_id: int
    number: str
    entity_id: int
    account_id: int
    currency: str
    start: date
    end: date
    billing_frequency: str = "month"
    billing_day: int = 1
    payment_terms_days: int | None = None
    billing_settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineIn:
    """One contract line as billing reads it."""

    key: str
    sku: str
    charge_kind: str
    quantity: Decimal
    unit_price: Decimal | None
    service_start: date
    service_end: date
    name: str = ""
    charge: str = ""
    period_months: int = 0
    timing: str = ""
    billing_frequency: str = ""
    unit: str = ""
    tax_category: str = ""
    revenue_category: str = ""
    adjusts: str = ""
    at_renewal: bool = False
    credit: bool = False
    amendment_number: int | None = None


def _actor(actor: Any) -> str:
    if actor is None:
        return ""
    getter = getattr(actor, "get_username", None)
    return str(getter() if getter else actor)[:150]


def settings_for(entity_id: int) -> BillingSettings:
    return BillingSettings.objects.filter(entity_id=entity_id).first() or BillingSettings(entity_id=entity_id)


def proration_settings(
    settings: BillingSettings, overrides: Mapping[str, Any] | None = None
) -> engine.ProrationSettings:
    o = overrides or {}
    entity = LegalEntity.objects.filter(pk=settings.entity_id).values_list("rounding_mode", flat=True).first()
    return engine.ProrationSettings(
        mode=engine.ProrationMode(o.get("proration_mode") or settings.proration_mode),
        style=engine.AmendmentStyle(o.get("amendment_style") or settings.amendment_style),
        timing=engine.InvoiceTiming(o.get("proration_timing") or settings.proration_timing),
        rounding="half_even" if entity == "half_even" else "half_up",
    )


def _trigger(entity_id: int, line: LineIn, rules: Mapping[tuple[str, str], str]) -> str:
    found = rules.get((line.sku, line.charge)) or rules.get((line.sku, ""))
    if found:
        return found
    if line.revenue_category == "hardware" or line.tax_category == "goods":
        return ChargeRule.Trigger.DELIVERY
    return ChargeRule.Trigger.CONTRACT_START


def _unit_code(unit: str) -> str:
    text = (unit or "").strip().upper()
    return text if 2 <= len(text) <= 3 and text.isalnum() else "C62"


def _tax_category(line: LineIn) -> str:
    if line.tax_category:
        return line.tax_category
    return "goods" if line.revenue_category == "hardware" else "service"


def spec_for(head: ContractHead, line: LineIn, rules: Mapping[tuple[str, str], str]) -> dict[str, Any] | None:
    """The schedule fields of one contract line, or None when billing does not bill it here."""
    kind = line.charge_kind
    if line.at_renewal:
        return None
    description = f"{line.sku} — {line.name}" if line.name else line.sku
    common: dict[str, Any] = {
        "entity_id": head.entity_id,
        "account_id": head.account_id,
        "contract_id": head.contract_id,
        "contract_number": head.number,
        "line_key": line.key,
        "amendment_number": line.amendment_number,
        "sku": line.sku,
        "description": description[:300],
        "charge": line.charge,
        "unit_code": _unit_code(line.unit),
        "tax_category": _tax_category(line),
        "revenue_category": line.revenue_category or "other",
        "currency": head.currency,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "start": line.service_start,
        "terms_days": head.payment_terms_days,
    }
    if kind == "recurring":
        every = FREQUENCY_MONTHS.get(line.billing_frequency or head.billing_frequency, 1)
        anchor_start = head.billing_settings.get("anchor") == "contract_start"
        return {
            **common,
            "kind": Schedule.Kind.RECURRING,
            "price_months": line.period_months or every,
            "every_months": every,
            # Anchored to the contract's billing day (calendar), phased from its start month; or,
            # with ``billing_settings["anchor"] = "contract_start"``, to the line's own start.
            "anchor_day": None if anchor_start else head.billing_day or head.start.day,
            "anchor_month": None if anchor_start else head.start.month,
            "timing": line.timing if line.timing in ("in_advance", "in_arrears") else "in_advance",
            "end": line.service_end,
        }
    if kind == "usage":
        # Metered: rated per calendar month in arrears by ``billing.usage`` (no unit price here;
        # the catalog's price model of the charge prices it) — or, with
        # ``billing_settings["usage_periods"] = "anniversary"``, per month from the line's start day.
        anniversary = head.billing_settings.get("usage_periods") == "anniversary"
        return {
            **common,
            "description": (f"{line.sku} — {line.name}" if line.name else line.sku)[:300],
            "kind": Schedule.Kind.USAGE,
            "quantity": Decimal(0),
            "unit_price": None,
            "price_months": 0,
            "every_months": 1,
            "anchor_day": line.service_start.day if anniversary else 1,
            "timing": "in_arrears",
            "end": line.service_end,
            "metric": usage_metric_for(line.sku, line.charge),
        }
    if kind == "one_time":
        trigger = _trigger(head.entity_id, line, rules)
        return {
            **common,
            "kind": Schedule.Kind.MILESTONE
            if trigger == ChargeRule.Trigger.MILESTONES
            else Schedule.Kind.ONE_TIME,
            "price_months": 0,
            "every_months": 0,
            "trigger": trigger,
            "trigger_on": line.service_start if trigger == ChargeRule.Trigger.DATE else None,
            "end": line.service_end,
        }
    raise errors.BillingInvalid(f"line {line.key} has an unknown charge kind '{kind}'", field="charge_kind")


def usage_metric_for(sku: str, charge: str) -> str:
    """The metric a usage line meters: its catalog charge's ``usage_metric``, else the SKU in
    lower case. The metric is defined (``UsageMetric``, the charge's aggregation, sum by default)
    when first used."""
    from q2c.billing.models import UsageMetric
    from q2c.catalog.models import Charge as CatalogCharge

    row: Mapping[str, Any] | None = (
        CatalogCharge.objects.filter(product__sku=sku, code=charge)
        .values("usage_metric", "usage_aggregation")
        .first()
        if charge
        else None
    )
    code = ((row or {}).get("usage_metric") or sku.lower())[:60]
    aggregation = (row or {}).get("usage_aggregation") or "sum"
    if aggregation not in {"sum", "max", "count", "unique_count", "last"}:
        aggregation = "sum"
    UsageMetric.objects.get_or_create(
        code=code, defaults={"name": code, "aggregation": aggregation, "created_at": clock.now()}
    )
    return code


def charge_rules(entity_id: int) -> dict[tuple[str, str], str]:
    return {(r.sku, r.charge): r.trigger for r in ChargeRule.objects.filter(entity_id=entity_id)}


def create_schedules(head: ContractHead, lines: Sequence[LineIn], *, actor: Any = None) -> list[Schedule]:
    """Schedules for the billable lines of a contract; lines that already have one are skipped
    (a repeated event creates nothing). Returns the schedules created."""
    rules = charge_rules(head.entity_id)
    now = clock.now()
    with transaction.atomic():
        have = set(Schedule.objects.filter(contract_id=head.contract_id).values_list("line_key", flat=True))
        rows = []
        for line in lines:
            if line.key in have:
                continue
            spec = spec_for(head, line, rules)
            if spec is not None:
                rows.append(Schedule(**spec, created_at=now, updated_at=now))
        if not rows:
            return []
        Schedule.objects.bulk_create(rows)
        created = list(
            Schedule.objects.filter(contract_id=head.contract_id, line_key__in=[r.line_key for r in rows])
        )
        events.record(
            DomainEvent(
                ev.SCHEDULES_CREATED,
                "billing.contract",
                head.contract_id,
                {"contract_id": head.contract_id, "number": head.number,
                 "schedules": [{"id": s.pk, "line_key": s.line_key, "kind": s.kind, "sku": s.sku} for s in created]},
                entity_id=head.entity_id,
                actor=_actor(actor),
            )
        )  # fmt: skip
    return created


def recurring_charge(s: Any) -> engine.RecurringCharge:
    """The billing engine's view of a recurring schedule (a row or anything with its fields)."""
    return engine.RecurringCharge(
        s.id if hasattr(s, "id") else s.pk,
        s.start,
        s.end,
        every_months=int(s.every_months),
        timing=engine.Timing(s.timing),
        anchor_day=s.anchor_day,
        anchor_month=s.anchor_month,
        prorate_partial=bool(s.prorate_partial),
        stub_basis=engine.StubBasis(s.stub_basis),
    )


def period_unit_price(unit_price: Decimal, every_months: int, price_months: int) -> Decimal:
    """The unit price of one billing period (a monthly price billed quarterly is 3 × it)."""
    if not price_months or price_months == every_months:
        return unit_price
    return unit_price * Decimal(every_months) / Decimal(price_months)


def _terms(rows: Iterable[Schedule]) -> engine.LineTerms | None:
    rows = list(rows)
    if not rows:
        return None
    prices = {period_unit_price(Decimal(r.unit_price or 0), r.every_months, r.price_months) for r in rows}
    if len(prices) == 1:
        return engine.LineTerms(sum((Decimal(r.quantity) for r in rows), Decimal(0)), prices.pop())
    total = sum(
        (
            Decimal(r.quantity)
            * period_unit_price(Decimal(r.unit_price or 0), r.every_months, r.price_months)
            for r in rows
        ),
        Decimal(0),
    )
    return engine.LineTerms(Decimal(1), total)


def _span(period: Period, effective: date, tz: str) -> tuple[engine.TimeSpan, datetime]:
    zone = ZoneInfo(tz)

    def at(day: date) -> datetime:
        return datetime.combine(day, time(0, 0), tzinfo=zone)

    return engine.TimeSpan(at(period.start), at(period.end)), at(effective)


def _adjustments(
    schedule: Schedule,
    base: Schedule,
    effective: date,
    old: engine.LineTerms | None,
    new: engine.LineTerms | None,
    settings: engine.ProrationSettings,
    description: str,
    amendment_number: int | None,
) -> tuple[list[Adjustment], Period | None]:
    """Proration lines for changing ``base``'s billed period at ``effective`` (none for a
    boundary, a period in arrears or one not yet billed in advance)."""
    if base.timing != "in_advance":
        return [], None
    charge = recurring_charge(base)
    period, basis = engine.billing_period_at(charge, effective)
    if effective == period.start:
        return [], period
    tz = LegalEntity.objects.filter(pk=base.entity_id).values_list("time_zone", flat=True).first() or "UTC"
    if settings.mode is engine.ProrationMode.SECONDS:
        # Stripe prorates to the second between local midnights; a prorated first period is
        # priced against its whole billing period (``basis`` days).
        span, moment = _span(period, effective, tz)
        result = engine.amend(schedule_id=schedule.pk, currency=base.currency, period=span, effective=moment,
                              old=old, new=new, settings=settings,
                              basis=None if basis == period.days else basis * 86_400)  # fmt: skip
    else:
        result = engine.amend(schedule_id=schedule.pk, currency=base.currency, period=period, effective=effective,
                              old=old, new=new, settings=settings, basis=basis)  # fmt: skip
    exp = currency_exponent(base.currency)
    now = clock.now()
    out = []
    for line in result.lines:
        label = {
            "credit": "credit for the unused period",
            "charge": "charge for the rest of the period",
            "delta": "prorated",
        }[line.kind.value]
        out.append(
            Adjustment(
                schedule=schedule,
                effective=effective,
                part=line.key.part,
                kind=line.kind.value,
                bill_date=result.bill_date,
                service_start=effective,
                service_end=period.end,
                quantity=line.quantity,
                unit_price=line.unit_price,
                numerator=line.numerator,
                denominator=line.denominator,
                amount_minor=int(line.amount.amount.scaleb(exp)),
                currency=base.currency,
                description=f"{description} ({label} {line.numerator}/{line.denominator})"[:300],
                amendment_number=amendment_number,
                created_at=now,
            )
        )
    return out, period


def amend_schedules(
    head: ContractHead,
    effective: date,
    delta: Sequence[LineIn],
    *,
    amendment_number: int | None = None,
    actor: Any = None,
) -> tuple[list[Schedule], list[Adjustment]]:
    """Schedules for an amendment's delta lines and the prorations of the current period."""
    settings = proration_settings(settings_for(head.entity_id), head.billing_settings)
    with transaction.atomic():
        before = {
            s.pk: s
            for s in Schedule.objects.filter(
                contract_id=head.contract_id, kind=Schedule.Kind.RECURRING, status=Schedule.Status.ACTIVE
            )
        }
        created = create_schedules(head, delta, actor=actor)
        groups: dict[tuple[str, str], list[Schedule]] = defaultdict(list)
        for s in created:
            if s.kind == Schedule.Kind.RECURRING:
                groups[(s.sku, s.charge)].append(s)
        adjustments: list[Adjustment] = []
        for (sku, charge), news in groups.items():
            running = [
                s for s in before.values()
                if s.sku == sku and s.charge == charge and s.start <= effective and (s.end is None or effective < s.end)
            ]  # fmt: skip
            if not running:
                continue
            base = min(running, key=lambda s: (s.start, s.pk))
            old = _terms(running)
            new = _terms([*running, *news])
            lines, period = _adjustments(
                news[0], base, effective, old, new, settings, news[0].description, amendment_number
            )
            if period is None or effective == period.start:
                continue
            adjustments.extend(lines)
            # The rest of the current period is billed by the proration; the new schedules bill
            # from the next period on.
            Schedule.objects.filter(pk__in=[s.pk for s in news]).update(
                billed_through=period.end, updated_at=clock.now()
            )
        if adjustments:
            Adjustment.objects.bulk_create(adjustments)
            _record_adjustments(head, adjustments, actor, amendment_number)
    return created, adjustments


def _record_adjustments(
    head: ContractHead, rows: Sequence[Adjustment], actor: Any, amendment_number: int | None
) -> None:
    events.record(
        DomainEvent(
            ev.ADJUSTMENTS_CREATED,
            "billing.contract",
            head.contract_id,
            {"contract_id": head.contract_id, "amendment_number": amendment_number,
             "lines": [{"schedule_id": a.schedule_id, "kind": a.kind, "bill_date": a.bill_date, "amount_minor": a.amount_minor,
                        "currency": a.currency, "numerator": a.numerator, "denominator": a.denominator} for a in rows]},
            entity_id=head.entity_id,
            actor=_actor(actor),
        )
    )  # fmt: skip


def end_schedules(head: ContractHead, effective: date, *, actor: Any = None) -> list[Adjustment]:
    """End a contract's schedules on ``effective``; credit periods billed in advance beyond it."""
    settings = proration_settings(settings_for(head.entity_id), head.billing_settings)
    out: list[Adjustment] = []
    with transaction.atomic():
        rows = list(
            Schedule.objects.select_for_update().filter(
                contract_id=head.contract_id, status=Schedule.Status.ACTIVE
            )
        )
        ended = []
        for s in rows:
            if s.kind == Schedule.Kind.USAGE:
                # Usage up to the effective date is still rated (late events included).
                if s.end is None or s.end > effective:
                    s.end = effective
                    ended.append(s)
                continue
            if s.kind != Schedule.Kind.RECURRING:
                if s.start >= effective:
                    s.status = Schedule.Status.ENDED
                    ended.append(s)
                continue
            if s.end is not None and s.end <= effective:
                continue
            if s.start >= effective:
                s.status = Schedule.Status.ENDED
                ended.append(s)
                continue
            if s.billed_through and s.billed_through > effective and s.timing == "in_advance":
                price = period_unit_price(Decimal(s.unit_price or 0), s.every_months, s.price_months)
                lines, _ = _adjustments(s, s, effective, engine.LineTerms(Decimal(s.quantity), price), None, settings,
                                        s.description, None)  # fmt: skip
                out.extend(lines)
            s.end = effective
            ended.append(s)
        for s in ended:
            s.updated_at = clock.now()
        Schedule.objects.bulk_update(ended, ["status", "end", "updated_at"])
        if out:
            Adjustment.objects.bulk_create(out)
            _record_adjustments(head, out, actor, None)
        events.record(
            DomainEvent(ev.SCHEDULES_ENDED, "billing.contract", head.contract_id,
                        {"contract_id": head.contract_id, "effective": effective, "schedules": [s.pk for s in ended]},
                        entity_id=head.entity_id, actor=_actor(actor))
        )  # fmt: skip
    return out


def record_fact(
    contract_id: int,
    line_key: str,
    kind: str,
    day: date,
    *,
    quantity: Decimal | None = None,
    ref: str,
    actor: Any = None,
) -> ScheduleFact | None:
    """A delivery, activation or completion of a contract line (None: billing has no schedule for it)."""
    if kind not in ("delivered", "activated", "completed"):
        raise errors.BillingInvalid(f"unknown fact '{kind}'", field="kind")
    schedule = Schedule.objects.filter(contract_id=contract_id, line_key=line_key).first()
    if schedule is None:
        return None
    try:
        with transaction.atomic():
            fact = ScheduleFact.objects.create(
                schedule=schedule, kind=kind, day=day, quantity=quantity or Decimal(0), ref=ref[:60]
            )
            events.record(
                DomainEvent(ev.FACT_RECORDED, "billing.schedule", schedule.pk,
                            {"schedule_id": schedule.pk, "kind": kind, "day": day, "quantity": quantity or Decimal(0), "ref": ref},
                            entity_id=schedule.entity_id, actor=_actor(actor))
            )  # fmt: skip
    except IntegrityError:
        return ScheduleFact.objects.filter(schedule=schedule, ref=ref[:60]).first()
    return fact


def set_milestones(
    schedule_id: int, milestones: Sequence[tuple[str, Decimal]], *, actor: Any = None
) -> list[Milestone]:
    """Bill a one-time line in parts: ``[(name, percent), …]`` adding up to at most 100 %."""
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise errors.BillingNotFound(f"no schedule {schedule_id}", field="schedule_id")
    if schedule.kind == Schedule.Kind.RECURRING:
        raise errors.BillingInvalid(
            "only one-time lines are billed in milestones", code=errors.INVALID_MILESTONE, field="schedule_id"
        )
    parts = [engine.Milestone(str(n), to_decimal(p, field="percent")) for n, p in milestones]
    engine.MilestoneCharge(schedule_id, tuple(parts))  # validates (positive, at most 100 %)
    with transaction.atomic():
        if Milestone.objects.filter(schedule=schedule, done_on__isnull=False).exists():
            raise errors.BillingInvalid(
                "milestones already done cannot be redefined",
                code=errors.INVALID_MILESTONE,
                field="milestones",
            )
        Milestone.objects.filter(schedule=schedule).delete()
        rows = Milestone.objects.bulk_create(
            [
                Milestone(schedule=schedule, position=i + 1, name=m.name[:200], percent=m.percent)
                for i, m in enumerate(parts)
            ]
        )
        Schedule.objects.filter(pk=schedule.pk).update(
            kind=Schedule.Kind.MILESTONE, trigger=ChargeRule.Trigger.MILESTONES
        )
    return rows


def mark_milestone_done(schedule_id: int, position: int, day: date, *, actor: Any = None) -> Milestone:
    with transaction.atomic():
        row = Milestone.objects.select_for_update().filter(schedule_id=schedule_id, position=position).first()
        if row is None:
            raise errors.BillingNotFound(
                f"schedule {schedule_id} has no milestone {position}", field="position"
            )
        if row.done_on is not None:
            raise errors.BillingInvalid(
                f"milestone '{row.name}' was done on {row.done_on}",
                code=errors.INVALID_MILESTONE,
                field="position",
            )
        row.done_on = day
        row.save(update_fields=["done_on"])
        events.record(DomainEvent(ev.MILESTONE_DONE, "billing.schedule", schedule_id,
                                  {"schedule_id": schedule_id, "position": position, "name": row.name, "day": day},
                                  actor=_actor(actor)))  # fmt: skip
    return row


def save_settings(entity_id: int, *, actor: Any = None, **changes: Any) -> BillingSettings:
    """Change an entity's billing settings (``amendment_style``, ``proration_timing``,
    ``proration_mode``, ``consolidate``, ``stub_basis``, ``batch_size``). Errors: ``billing.invalid_settings``."""
    allowed = {
        "amendment_style": set(BillingSettings.Style.values),
        "proration_timing": set(BillingSettings.Timing.values),
        "proration_mode": set(BillingSettings.Mode.values),
        "stub_basis": {"billing_period", "forward_interval"},
    }
    for key, value in changes.items():
        if key in allowed:
            if value not in allowed[key]:
                raise errors.BillingInvalid(
                    f"{key} is one of {', '.join(sorted(allowed[key]))}",
                    code=errors.INVALID_SETTINGS,
                    field=key,
                )
        elif key == "consolidate":
            if not isinstance(value, bool):
                raise errors.BillingInvalid(
                    "consolidate is true or false", code=errors.INVALID_SETTINGS, field=key
                )
        elif key == "batch_size":
            if not isinstance(value, int) or not 1 <= value <= 10_000:
                raise errors.BillingInvalid(
                    "batch_size is 1 to 10,000", code=errors.INVALID_SETTINGS, field=key
                )
        else:
            raise errors.BillingInvalid(f"unknown setting '{key}'", code=errors.INVALID_SETTINGS, field=key)
    if not LegalEntity.objects.filter(pk=entity_id).exists():
        raise errors.BillingNotFound(f"no legal entity {entity_id}", field="entity_id")
    with transaction.atomic():
        row, _ = BillingSettings.objects.update_or_create(entity_id=entity_id, defaults=changes)
        events.record(DomainEvent(ev.SETTINGS_CHANGED, "billing.settings", entity_id, {"changes": changes},
                                  entity_id=entity_id, actor=_actor(actor)))  # fmt: skip
    return row


def set_charge_rule(
    entity_id: int, sku: str, trigger: str, *, charge: str = "", actor: Any = None
) -> ChargeRule:
    """When one-time charges of ``sku`` are invoiced (for contracts activated afterwards)."""
    if trigger not in TRIGGERS:
        raise errors.BillingInvalid(
            f"trigger is one of {', '.join(sorted(TRIGGERS))}", code=errors.INVALID_SETTINGS, field="trigger"
        )
    if not sku or len(sku) > 64:
        raise errors.BillingInvalid("a SKU of 1 to 64 characters", code=errors.INVALID_SETTINGS, field="sku")
    with transaction.atomic():
        row, _ = ChargeRule.objects.update_or_create(
            entity_id=entity_id, sku=sku, charge=charge, defaults={"trigger": trigger}
        )
    return row


# One-off charges (late fees, usage adjustments) live in their own module; their public entry points:
from q2c.billing.charges import add_charge as add_charge  # noqa: E402
from q2c.billing.charges import cancel_charge as cancel_charge  # noqa: E402
