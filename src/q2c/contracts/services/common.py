"""Pieces shared by the contracts use cases: actors, the business clock, events, row locks and
optimistic locking, settings, the conversion between line rows and the pure ``domain.Line``, and
writing a version (header, clauses, document, full line snapshot) in one go.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from q2c.contracts import clauses as clause_text
from q2c.contracts import domain
from q2c.contracts.domain import ChargeKind, Line, SaleContext, VersionKind
from q2c.contracts.errors import STALE, ContractConflict, ContractNotFound
from q2c.contracts.models import (
    Amendment,
    Clause,
    ClauseVersion,
    Contract,
    ContractLine,
    ContractSettings,
    ContractVersion,
)
from q2c.core import clock
from q2c.core.money import Money
from q2c.platform import events
from q2c.platform.events import DomainEvent

#: Line fields that ride along in ``Line.extra`` (catalog facts and where the line came from).
EXTRA_FIELDS = (
    "product_id",
    "name",
    "charge_id",
    "unit",
    "billing_period",
    "timing",
    "billing_frequency",
    "revenue_rule",
    "revenue_category",
    "tax_category",
    "ssp_unit",
    "usage_metric",
    "rate_card",
    "parent_key",
    "quote_id",
    "quote_line_key",
    "document_sha256",
)


def actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor
    return str(actor.get_username())


def now() -> datetime:
    return clock.now()


def today(contract_or_tz: Contract | str | None = None) -> date:
    """The business date in the selling entity's zone."""
    if isinstance(contract_or_tz, Contract):
        return clock.today(contract_or_tz.entity.time_zone or None)
    return clock.today(contract_or_tz or None)


def record(event_type: str, contract: Contract, *, actor: Any, **payload: Any) -> None:
    events.record(
        DomainEvent(
            type=event_type,
            aggregate_type="contracts.contract",
            aggregate_id=contract.pk,
            payload={"contract_id": contract.pk, "number": contract.number, **payload},
            entity_id=contract.entity_id,
            actor=actor_name(actor),
        )
    )


def locked(pk: Any, queryset: QuerySet[Contract] | None = None) -> Contract:
    """The contract ``pk`` locked for this transaction (SELECT … FOR UPDATE where the database
    has it; SQLite's IMMEDIATE transactions serialise writers already)."""
    query = queryset if queryset is not None else Contract.objects.select_related("entity", "account")
    if connection.features.has_select_for_update:
        query = query.select_for_update(of=("self",))
    try:
        return query.get(pk=pk)
    except Contract.DoesNotExist:
        raise ContractNotFound(f"no contract {pk}", code="contracts.not_found", field="contract_id") from None


def get(pk: Any) -> Contract:
    row = Contract.objects.select_related("entity", "account", "previous").filter(pk=pk).first()
    if row is None:
        raise ContractNotFound(f"no contract {pk}", code="contracts.not_found", field="contract_id")
    return row


def check_version(contract: Contract, expected: int | None) -> None:
    """Optimistic locking: refuse (409) a change made against an older ``lock_version``."""
    if expected is None:
        return
    if int(expected) != int(contract.lock_version):
        raise ContractConflict(
            f"contract {contract.number} was changed since you opened it (version {expected}, now "
            f"{contract.lock_version}); reload it and apply your change again",
            code=STALE,
            field="lock_version",
        )


def settings_for(entity_id: int) -> ContractSettings:
    """The entity's contract settings (defaults when none were saved; not written)."""
    row = ContractSettings.objects.filter(entity_id=entity_id).first()
    return row if row is not None else ContractSettings(entity_id=entity_id)


# --------------------------------------------------------------------------- lines


def to_line(row: ContractLine) -> Line:
    extra = {name: getattr(row, name) for name in EXTRA_FIELDS}
    return Line(
        key=row.key,
        sku=row.sku,
        charge=row.charge,
        charge_kind=ChargeKind(row.charge_kind),
        quantity=Decimal(row.quantity),
        unit_price=None if row.net_unit_price is None else Decimal(row.net_unit_price),
        service_start=row.service_start,
        service_end=row.service_end,
        period_months=row.period_months,
        sale_context=SaleContext(row.sale_context),
        adjusts=row.adjusts,
        at_renewal=row.at_renewal,
        credit=row.credit,
        extra=MappingProxyType(extra),
    )


def lines_of(version: ContractVersion) -> list[Line]:
    return [to_line(row) for row in version.lines.order_by("position")]


def current_version(contract: Contract) -> ContractVersion:
    return ContractVersion.objects.get(contract=contract, number=contract.current_version)


_AMENDMENT_KEY = re.compile(r"^A(\d+)\.\d+$")


def _row(contract: Contract, version: ContractVersion, position: int, line: Line) -> ContractLine:
    extra = dict(line.extra)
    value = domain.line_value(
        line, currency=contract.currency, anchor=contract.start_date, anchor_day=contract.billing_day
    )
    row = ContractLine(
        contract=contract,
        version=version,
        position=position,
        key=line.key,
        product_id=extra.get("product_id"),
        sku=line.sku,
        name=str(extra.get("name") or ""),
        charge_id=extra.get("charge_id"),
        charge=line.charge,
        charge_kind=str(line.charge_kind),
        quantity=str(line.quantity),
        unit=str(extra.get("unit") or ""),
        net_unit_price=None if line.unit_price is None else str(line.unit_price),
        currency=contract.currency,
        period_months=line.period_months,
        billing_period=str(extra.get("billing_period") or ""),
        timing=str(extra.get("timing") or ""),
        billing_frequency=str(extra.get("billing_frequency") or ""),
        service_start=line.service_start,
        service_end=line.service_end,
        revenue_rule=str(extra.get("revenue_rule") or ""),
        revenue_category=str(extra.get("revenue_category") or ""),
        tax_category=str(extra.get("tax_category") or ""),
        ssp_unit=None if extra.get("ssp_unit") is None else str(extra["ssp_unit"]),
        sale_context=str(line.sale_context),
        usage_metric=str(extra.get("usage_metric") or ""),
        rate_card=list(extra.get("rate_card") or []),
        parent_key=str(extra.get("parent_key") or ""),
        adjusts=line.adjusts,
        at_renewal=line.at_renewal,
        credit=line.credit,
        quote_id=extra.get("quote_id"),
        quote_line_key=str(extra.get("quote_line_key") or ""),
        document_sha256=str(extra.get("document_sha256") or ""),
        amendment_number=amendment_of(line.key),
    )
    row.value = value
    return row


def amendment_of(key: str) -> int | None:
    """The amendment that added a line: delta lines are keyed ``A<n>.<i>``."""
    match = _AMENDMENT_KEY.match(key)
    return int(match.group(1)) if match else None


def line_ids(version: ContractVersion) -> dict[str, int]:
    """Line key → ContractLine id within ``version`` (events name the rows they describe)."""
    return dict(ContractLine.objects.filter(version=version).values_list("key", "pk"))


def line_payload(
    line: Line, *, currency: str, anchor: date, anchor_day: int, line_id: int | None = None
) -> dict[str, Any]:
    """A line as event payload: everything orders, billing and revenue need, amounts included."""
    extra = dict(line.extra)
    price = line.unit_price
    per_period = None if price is None else Money(line.quantity * price, currency).round()
    return {
        "key": line.key,
        "line_id": line_id,
        "product_id": extra.get("product_id"),
        "sku": line.sku,
        "name": extra.get("name") or "",
        "charge_id": extra.get("charge_id"),
        "charge": line.charge,
        "charge_kind": str(line.charge_kind),
        "quantity": line.quantity,
        "unit": extra.get("unit") or "",
        "net_unit_price": price,
        "amount": per_period,
        "currency": currency,
        "period_months": line.period_months,
        "billing_period": extra.get("billing_period") or None,
        "timing": extra.get("timing") or None,
        "billing_frequency": extra.get("billing_frequency") or None,
        "service_start": line.service_start,
        "service_end": line.service_end,
        "revenue_rule": extra.get("revenue_rule") or "",
        "revenue_category": extra.get("revenue_category") or "",
        "tax_category": extra.get("tax_category") or "",
        "ssp_unit": extra.get("ssp_unit"),
        "sale_context": str(line.sale_context),
        "usage_metric": extra.get("usage_metric") or "",
        "rate_card": list(extra.get("rate_card") or []),
        "parent_key": extra.get("parent_key") or "",
        "adjusts": line.adjusts or None,
        "at_renewal": line.at_renewal,
        "credit": line.credit,
        "value": domain.line_value(line, currency=currency, anchor=anchor, anchor_day=anchor_day),
        "quote_id": extra.get("quote_id"),
        "quote_line_key": extra.get("quote_line_key") or "",
        "document_sha256": extra.get("document_sha256") or "",
    }


# --------------------------------------------------------------------------- header, clauses, document


HEADER_FIELDS = (
    "start_date",
    "end_date",
    "term_months",
    "auto_renew",
    "renewal_uplift_percent",
    "notice_days",
    "payment_terms_days",
    "billing_frequency",
    "billing_day",
    "billing_settings",
    "non_cancellable",
    "governing_law",
    "currency",
)


def header_of(contract: Contract) -> dict[str, Any]:
    data = {name: getattr(contract, name) for name in HEADER_FIELDS}
    data["renewal_uplift_percent"] = str(data["renewal_uplift_percent"])
    data["start_date"] = contract.start_date.isoformat()
    data["end_date"] = contract.end_date.isoformat()
    return data


FREQUENCY_WORDS = {"month": "monthly", "quarter": "quarterly", "half_year": "half-yearly", "year": "yearly"}


def variables(contract: Contract) -> dict[str, Any]:
    return {
        "seller_name": contract.entity.name,
        "customer_name": contract.account.name,
        "contract_number": contract.number,
        "start_date": contract.start_date.isoformat(),
        "end_date": (contract.end_date - timedelta(days=1)).isoformat(),
        "term_months": contract.term_months,
        "payment_terms_days": contract.payment_terms_days,
        "billing_frequency": FREQUENCY_WORDS.get(contract.billing_frequency, contract.billing_frequency),
        "currency": contract.currency,
        "governing_law": contract.governing_law,
        "notice_days": contract.notice_days,
        "renewal_uplift_percent": str(contract.renewal_uplift_percent),
        "auto_renew": "renews automatically" if contract.auto_renew else "does not renew automatically",
        "cancellable": "may not be cancelled" if contract.non_cancellable else "may be cancelled",
    }


@dataclass(frozen=True)
class ClauseState:
    """One clause of a version: the library text it started from and the text as negotiated
    (``None``: the library text, re-rendered with the contract's terms)."""

    key: str
    title: str
    library_version: int
    body: str  # library body, with variables
    custom: str | None = None  # negotiated text (rendered, no variables)

    def library_text(self, values: Mapping[str, Any]) -> str:
        return clause_text.render(self.body, values)

    def text(self, values: Mapping[str, Any]) -> str:
        return self.custom if self.custom is not None else self.library_text(values)


def library_clauses() -> list[ClauseState]:
    """The active clauses of the library at their current versions, in order."""
    rows = list(Clause.objects.filter(is_active=True).order_by("position", "key"))
    bodies = {
        (v.clause_id, v.version): v
        for v in ClauseVersion.objects.filter(clause__in=rows).only("clause_id", "version", "body", "title")
    }
    out = []
    for clause in rows:
        version = bodies.get((clause.pk, clause.current_version))
        if version is None:
            continue
        out.append(ClauseState(clause.key, version.title, version.version, version.body))
    return out


def clause_states(version: ContractVersion) -> list[ClauseState]:
    return [
        ClauseState(
            key=c["key"],
            title=c["title"],
            library_version=int(c["library_version"]),
            body=c["body"],
            custom=c.get("custom"),
        )
        for c in version.clauses
    ]


def _money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,}"


def document(
    contract: Contract, lines: Sequence[Line], states: Sequence[ClauseState]
) -> tuple[str, list[dict[str, Any]], bool]:
    """The version's document text, its clauses as stored, and whether any departs from the library."""
    values = variables(contract)
    stored: list[dict[str, Any]] = []
    deviates = False
    doc_clauses = []
    for state in states:
        library = state.library_text(values)
        text = state.text(values)
        differs = text != library
        deviates = deviates or differs
        stored.append(
            {
                "key": state.key,
                "title": state.title,
                "library_version": state.library_version,
                "body": state.body,
                "custom": state.custom,
                "library_text": library,
                "text": text,
                "deviates": differs,
            }
        )
        doc_clauses.append(clause_text.DocumentClause(state.key, state.title, text))
    doc_lines = []
    for line in lines:
        extra = dict(line.extra)
        period = ""
        if line.charge_kind is ChargeKind.RECURRING:
            period = "per month" if line.period_months in (0, 1) else f"per {line.period_months} months"
        elif line.charge_kind is ChargeKind.USAGE:
            period = "as used"
        label = f"{line.sku} {extra.get('name') or ''}".strip()
        if line.adjusts:
            label += f" (reduces line {line.adjusts}{', at renewal' if line.at_renewal else ''})"
        doc_lines.append(
            clause_text.DocumentLine(
                description=label,
                quantity=_money_text(line.quantity) if line.charge_kind is not ChargeKind.USAGE else "—",
                unit_price=f"{_money_text(line.unit_price)} {contract.currency}"
                if line.unit_price is not None
                else "",
                period=period,
                service=f"{line.service_start.isoformat()} to {(line.service_end - timedelta(days=1)).isoformat()}"
                if line.service_end > line.service_start
                else f"from {line.service_start.isoformat()}",
            )
        )
    facts = [
        ("Contract", contract.number),
        ("Term", f"{values['start_date']} to {values['end_date']} ({contract.term_months} months)"),
        ("Currency", contract.currency),
        ("Payment terms", f"{contract.payment_terms_days} days"),
        ("Billing", str(values["billing_frequency"])),
        ("Renewal", f"{values['auto_renew']}; uplift {contract.renewal_uplift_percent} %"),
        ("Notice period", f"{contract.notice_days} days"),
        ("Cancellation", f"{values['cancellable']} during the term"),
        ("Governing law", contract.governing_law or "—"),
    ]
    text = clause_text.assemble(
        title=f"Contract {contract.number}" + (f" — {contract.title}" if contract.title else ""),
        parties=[contract.entity.name, contract.account.name],
        facts=facts,
        lines=doc_lines,
        clauses=doc_clauses,
    )
    return text, stored, deviates


def write_version(
    contract: Contract,
    *,
    number: int,
    kind: VersionKind,
    lines: Sequence[Line],
    states: Sequence[ClauseState],
    effective: date,
    actor: Any,
    amendment: Amendment | None = None,
    note: str = "",
) -> ContractVersion:
    """Write version ``number`` of ``contract`` with its full line snapshot (one bulk insert),
    mark the previous version superseded, and update the contract's current figures."""
    moment = now()
    text, stored, deviates = document(contract, lines, states)
    figures = domain.totals(
        lines,
        currency=contract.currency,
        anchor=contract.start_date,
        anchor_day=contract.billing_day,
        on=effective,
    )
    version = ContractVersion(
        contract=contract,
        number=number,
        kind=kind,
        amendment=amendment,
        effective_date=effective,
        start_date=contract.start_date,
        end_date=contract.end_date,
        header=header_of(contract),
        clauses=stored,
        document_text=text,
        document_sha256=clause_text.sha256(text),
        deviates=deviates,
        approval=domain.Approval.PENDING
        if (deviates and kind is VersionKind.NEGOTIATION)
        else domain.Approval.NOT_NEEDED,
        note=note,
        currency=contract.currency,
        created_at=moment,
        created_by=actor_name(actor),
    )
    version.one_time = figures.one_time
    version.mrr = figures.recurring_per_month
    version.value = figures.value
    version.save()
    ContractLine.objects.bulk_create([_row(contract, version, i, line) for i, line in enumerate(lines)])
    ContractVersion.objects.filter(contract=contract, superseded_at__isnull=True).exclude(
        pk=version.pk
    ).update(superseded_at=moment)
    contract.current_version = number
    contract.one_time = figures.one_time
    contract.mrr = figures.recurring_per_month
    contract.value = figures.value
    return version


def money_sum_lines(contract: Contract, lines: Sequence[Line]) -> Money:
    """The value of ``lines`` (see ``domain.line_value``) in the contract's currency."""
    total = Money.zero(contract.currency)
    for line in lines:
        total += domain.line_value(
            line, currency=contract.currency, anchor=contract.start_date, anchor_day=contract.billing_day
        )
    return total


def bump(contract: Contract) -> None:
    """Count one more change of the contract (optimistic locking) and save it."""
    contract.lock_version += 1
    contract.updated_at = now()
    contract.save()


def contract_payload(contract: Contract, version: ContractVersion, lines: Sequence[Line]) -> dict[str, Any]:
    """The contract as lifecycle event payload: header, amounts and every line."""
    anchor, day = contract.start_date, contract.billing_day
    ids = line_ids(version)
    return {
        "version": version.number,
        "entity_id": contract.entity_id,
        "account_id": contract.account_id,
        "currency": contract.currency,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "term_months": contract.term_months,
        "auto_renew": contract.auto_renew,
        "renewal_uplift_percent": Decimal(contract.renewal_uplift_percent),
        "notice_days": contract.notice_days,
        "payment_terms_days": contract.payment_terms_days,
        "billing_frequency": contract.billing_frequency,
        "billing_day": contract.billing_day,
        "billing_settings": dict(contract.billing_settings or {}),
        "non_cancellable": contract.non_cancellable,
        "sale_context": contract.sale_context,
        "source_quote_id": contract.source_quote_id,
        "source_quote_number": contract.source_quote_number,
        "accepted_document_sha256": contract.accepted_document_sha256,
        "previous_contract_id": contract.previous_id,
        "one_time": contract.one_time,
        "mrr": contract.mrr,
        "value": contract.value,
        "lines": [
            line_payload(
                line, currency=contract.currency, anchor=anchor, anchor_day=day, line_id=ids.get(line.key)
            )
            for line in lines
        ],
    }
