"""The read side of analytics: gathers plain records from the other apps' tables in bulk, one
function per source, and hands them to the pure metrics (``q2c.analytics.metrics``).

Each gatherer reads one source with a few bulk queries (``values_list``, never an ORM call per
row) and returns plain records; a source whose app has no tables yet reports itself unavailable
instead of inventing numbers (``Gathered.sources``). Every gatherer takes the same scope: an
optional legal entity (``None`` = every entity) and the day of the range's close, past which
nothing is read.

Sources and where they come from:

- opportunities, quotes — ``quotes`` (opportunities and every quote version; acceptances);
- receivables — ``invoicing`` (issued invoices, credit notes, write-offs);
- payments — the payments app's applications of payments to invoices, plus cash applied in
  invoicing by hand (the events ``invoicing.invoice.payment_applied`` not made by the payments app);
- disputes — the payments app's disputes (chargebacks and contested invoices);
- MRR — ``billing`` schedules (recurring run rate, see docs/metrics.md);
- revenue — the ledger's revenue and deferred-revenue accounts: invoicing posts billings there
  and the revenue app's monthly recognition run posts what it recognises (Dr deferred revenue,
  Cr revenue), so the book of record holds contract and non-contract revenue alike, once;
- exchange rates — ``invoicing`` exchange rates into the reporting currency.

Reads any app; writes nothing. Must not import ``q2c.simulation`` or the composition root.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps

from q2c.analytics.metrics import (
    CreditNote,
    Dispute,
    Invoice,
    KpiInputs,
    KpiReport,
    MrrRow,
    Opportunity,
    Payment,
    Quote,
    RateTable,
    Receivables,
    RevenueEntry,
    RevenueKind,
    Stage,
    WriteOff,
    kpi_report,
)
from q2c.analytics.metrics.conversion import Deal
from q2c.analytics.metrics.types import MetricsError, NoRate
from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency
from q2c.core.periods import add_months

APPLIED = "invoicing.invoice.payment_applied"
REVERSED = "invoicing.invoice.payment_reversed"

#: The longest range a report covers (a longer one is almost always a typing mistake).
MAX_RANGE_YEARS = 10


class UnknownEntity(ValidationError):
    default_code = "analytics.unknown_entity"


class UnknownCurrency(ValidationError):
    default_code = "analytics.unknown_currency"


class RangeTooLong(ValidationError):
    default_code = "analytics.range_too_long"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers: ``[start, end)`` (``to`` is the last day), one entity or all, and the
    reporting currency; ``owner_ids`` narrows the sales records (opportunities, quotes, deals) to
    those owned by these users (a rep's own, a manager's team's); None: everyone's."""

    start: date
    end: date
    entity_id: int | None
    currency: str
    owner_ids: frozenset[int] | None = None

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


def _entity_rows() -> dict[int, tuple[str, str]]:
    from q2c.parties.models import LegalEntity

    return {
        pk: (cur, tz or "UTC")
        for pk, cur, tz in LegalEntity.objects.values_list("pk", "base_currency", "time_zone")
    }


def scope_from(
    *,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    entity: str | int | None = None,
    currency: str | None = None,
) -> Scope:
    """Check the caller's input and build a ``Scope``; every refusal names its field.

    ``date_to`` is the last day included (default: today, by the business clock); ``date_from``
    defaults to 12 months before ``date_to`` (the day after the same day a year earlier), so the
    default range is the last 12 months to today. ``currency`` defaults to the entity's base
    currency (every entity's, when they share one; EUR without entities). Without an entity and a
    currency, when the entities keep books in different currencies, the report is the first
    entity's, in its currency.
    Errors: ``date.invalid``, ``analytics.date_out_of_range`` (from/to: before 1900 or after
    2999), ``analytics.range_reversed`` (to),
    ``analytics.range_too_long`` (from), ``analytics.unknown_entity`` (entity),
    ``analytics.unknown_currency`` (currency).
    """
    last = _day(date_to, "to") if date_to is not None and date_to != "" else clock.today()
    first = (
        _day(date_from, "from")
        if date_from is not None and date_from != ""
        else add_months(last, -12) + timedelta(days=1)
    )
    if last < first:
        raise MetricsError(
            f"the range ends ({last}) before it starts ({first})", code="analytics.range_reversed", field="to"
        )
    if add_months(first, 12 * MAX_RANGE_YEARS) <= last:
        raise RangeTooLong(f"a report covers at most {MAX_RANGE_YEARS} years", field="from")
    entities = _entity_rows()
    entity_id: int | None = None
    if entity not in (None, ""):
        try:
            entity_id = int(str(entity))
        except ValueError:
            raise UnknownEntity(f"'{entity}' is not an entity id", field="entity") from None
        if entity_id not in entities:
            raise UnknownEntity(f"no legal entity {entity_id}", field="entity")
    if currency in (None, ""):
        bases = sorted({c for c, _tz in entities.values()})
        if entity_id is None and len(bases) > 1:
            # Entities keep books in several currencies and no currency was asked for: report the
            # first entity in its own, rather than fail for want of cross rates nobody entered.
            entity_id = min(entities)
        fallback = bases[0] if bases else "EUR"
        cur = entities[entity_id][0] if entity_id is not None else fallback
    else:
        try:
            cur = check_currency(str(currency).strip().upper())
        except ValidationError:
            raise UnknownCurrency(
                f"'{currency}' is not an ISO 4217 currency code", field="currency"
            ) from None
    known = {c for c, _tz in entities.values()}
    if cur not in known and not _has_rates_into(cur):
        raise NoRate(
            f"no exchange rate into {cur} is stored; report in {', '.join(sorted(known)) or 'EUR'} "
            "or enter rates (POST /api/v1/invoicing/rates)",
            field="currency",
        )
    return Scope(first, last + timedelta(days=1), entity_id, cur)


def _has_rates_into(currency: str) -> bool:
    from q2c.invoicing.models import ExchangeRate

    return ExchangeRate.objects.filter(quote=currency).exists()


#: Business dates a report may name (outside: a typing mistake, and beyond the calendar's edges).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def _day(value: str | date, field_name: str) -> date:
    day = value if isinstance(value, date) else clock.parse_date(str(value), field=field_name)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            f"{day} is outside {FIRST_DAY} … {LAST_DAY}", code="analytics.date_out_of_range", field=field_name
        )
    return day


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


# --------------------------------------------------------------------------- sources


def rate_table(currency: str) -> RateTable:
    """Stored rates into ``currency``: every ``invoicing`` rate row whose quote currency it is
    (1 base = rate reporting units). Inverse rows are not used (1 ÷ rate is rarely exact)."""
    from q2c.invoicing.models import ExchangeRate

    history: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for base, day, rate in ExchangeRate.objects.filter(quote=currency).values_list("base", "day", "rate"):
        if base != currency:
            history[base].append((day, Decimal(rate)))
    return RateTable(currency, dict(history))


def opportunities(
    entity_id: int | None, last: date, owner_ids: frozenset[int] | None = None
) -> list[Opportunity]:
    """Every opportunity created by ``last``: won/lost with their close date, open ones with the
    amount of their primary quote (TCV) and their stage's probability. ``owner_ids``: only those
    owned by these users."""
    from q2c.quotes.models import Opportunity as Row

    rows = Row.objects.all() if entity_id is None else Row.objects.filter(entity_id=entity_id)
    if owner_ids is not None:
        rows = rows.filter(owner_id__in=owner_ids)
    out = []
    for pk, account_id, stage, prob, cur, minor, created, closed, updated in rows.values_list(
        "pk", "account_id", "stage", "probability", "currency", "amount_minor", "created_at",
        "closed_on", "updated_at",
    ):  # fmt: skip
        created_on = _utc_day(created)
        if created_on > last:
            continue
        kind = {"closed_won": Stage.WON, "closed_lost": Stage.LOST}.get(stage, Stage.OPEN)
        close = None if kind is Stage.OPEN else (closed or _utc_day(updated))
        out.append(
            Opportunity(
                id=pk,
                account_id=account_id,
                amount=Money.from_minor(int(minor or 0), cur),
                probability=Decimal(prob) / 100,
                stage=kind,
                created_on=created_on,
                closed_on=close,
            )
        )
    return out


def quotes(entity_id: int | None, last: date, owner_ids: frozenset[int] | None = None) -> list[Quote]:
    """Every quote version created by ``last`` with its list total (before discounts), its net
    total (after discounts, before tax; both TCV) and its created, sent and accepted timestamps.
    ``owner_ids``: only those owned by these users."""
    from q2c.quotes.models import Acceptance
    from q2c.quotes.models import Quote as Row

    rows = Row.objects.all() if entity_id is None else Row.objects.filter(entity_id=entity_id)
    if owner_ids is not None:
        rows = rows.filter(owner_id__in=owner_ids)
    accepted = dict(
        Acceptance.objects.filter(outcome="accepted", quote__in=rows).values_list("quote_id", "decided_at")
    )
    out = []
    for pk, cur, list_minor, net_minor, created, sent in rows.values_list(
        "pk", "currency", "list_tcv_minor", "tcv_minor", "created_at", "sent_at"
    ):
        if _utc_day(created) > last:
            continue
        taken = accepted.get(pk)
        out.append(
            Quote(
                id=pk,
                created_at=created,
                list_total=Money.from_minor(int(list_minor), cur),
                net_total=Money.from_minor(int(net_minor), cur),
                sent_at=sent,
                accepted_at=taken if sent is not None else None,
            )
        )
    return out


def receivables(entity_id: int | None, last: date) -> Receivables:
    """Issued invoices (not void, total > 0), their credit notes and write-offs, dated by
    ``last``; payments come from :func:`payments`."""
    from q2c.invoicing.models import CreditNote as NoteRow
    from q2c.invoicing.models import Invoice as Row

    rows = Row.objects.filter(issue_date__isnull=False, issue_date__lte=last).exclude(
        status__in=("draft", "void")
    )
    if entity_id is not None:
        rows = rows.filter(entity_id=entity_id)
    invoices, write_offs = [], []
    for pk, account_id, issued, due, cur, total, off, off_on in rows.values_list(
        "pk", "account_id", "issue_date", "due_date", "currency", "total_minor", "written_off_minor",
        "written_off_on",
    ):  # fmt: skip
        if total <= 0 or issued is None:
            continue
        invoices.append(Invoice(pk, account_id, issued, due or issued, Money.from_minor(int(total), cur)))
        if off and off_on is not None and off_on <= last:
            write_offs.append(WriteOff(pk, off_on, Money.from_minor(int(off), cur)))
    ids = {i.id for i in invoices}
    notes = NoteRow.objects.filter(issue_date__lte=last)
    if entity_id is not None:
        notes = notes.filter(entity_id=entity_id)
    credit_notes = [
        CreditNote(pk, inv, day, Money.from_minor(int(total), cur))
        for pk, inv, day, cur, total in notes.values_list(
            "pk", "invoice_id", "issue_date", "currency", "total_minor"
        )
        if inv in ids and total > 0
    ]
    return Receivables(invoices=invoices, credit_notes=credit_notes, write_offs=write_offs)


def _model(app_label: str, name: str) -> Any:
    """The model of another app when it is installed and has it, else ``None``."""
    try:
        return django_apps.get_model(app_label, name)
    except LookupError:
        return None


def payments(entity_id: int | None, last: date) -> tuple[list[Payment], str]:
    """Cash applied to invoices by ``last``: ``(payments, source)``.

    The payments app's applications (not reversed), each on its ``applied_on`` day in the invoice's
    currency; plus cash applied by hand in invoicing alone: each ``invoicing.invoice.payment_applied``
    event whose reference is not a payments-app payment number, dated by the business clock in the
    entity's time zone. A reversed application no longer counts (the payments app reopens the
    invoice)."""
    from q2c.platform.models import Event

    out: list[Payment] = []
    numbers: set[str] = set()
    application = _model("payments", "Application")
    sources = []
    if application is not None:
        rows = application.objects.filter(applied_on__lte=last)
        if entity_id is not None:
            rows = rows.filter(entity_id=entity_id)
        for invoice_id, day, cur, minor, reversed_ in rows.values_list(
            "invoice_id", "applied_on", "invoice_currency", "invoice_amount_minor", "reversed"
        ):
            if not reversed_ and minor > 0:
                out.append(Payment(int(invoice_id), day, Money.from_minor(int(minor), cur)))
        payment = _model("payments", "Payment")
        numbers = set(payment.objects.values_list("number", flat=True)) if payment is not None else set()
        sources.append("payments applications")
    zones = {pk: ZoneInfo(tz) for pk, (_cur, tz) in _entity_rows().items()}
    events = Event.objects.filter(type__in=(APPLIED, REVERSED))
    if entity_id is not None:
        events = events.filter(entity_id=entity_id)
    by_invoice: dict[int, list[Payment]] = defaultdict(list)
    reversals: list[tuple[int, Money]] = []
    for kind, ent, occurred, payload in events.order_by("seq").values_list(
        "type", "entity_id", "occurred_at", "payload"
    ):
        if payload.get("reference") and payload["reference"] in numbers:
            continue  # the payments app's own application, read above with its date
        day = occurred.astimezone(zones.get(ent, UTC) if ent is not None else UTC).date()
        amount = payload.get("amount") or {}
        if day > last or not amount:
            continue
        money = Money(Decimal(str(amount["amount"])), str(amount["currency"]))
        if money.amount <= 0:
            continue
        if kind == APPLIED:
            by_invoice[int(payload["invoice_id"])].append(Payment(int(payload["invoice_id"]), day, money))
        else:
            reversals.append((int(payload["invoice_id"]), money))
    # A payment taken back (returned, charged back) no longer counts, as the payments app treats
    # its reversed applications: it comes off the invoice's latest payments.
    for invoice_id, money in reversals:
        paid = by_invoice[invoice_id]
        while money.amount > 0 and paid:
            latest = paid.pop()
            if latest.amount.amount > money.amount:
                paid.append(Payment(invoice_id, latest.paid_on, latest.amount - money))
                break
            money = money - latest.amount
    out.extend(p for paid in by_invoice.values() for p in paid)
    sources.append("invoicing payment events")
    return out, " + ".join(sources)


def disputes(entity_id: int | None, last: date) -> tuple[list[Dispute], str | None]:
    """Disputes opened by ``last`` (the payments app's: chargebacks and contested invoices), with
    the day they closed; ``None`` as source while the payments app has no dispute table."""
    model = _model("payments", "Dispute")
    if model is None:
        return [], None
    rows = model.objects.filter(opened_on__lte=last)
    if entity_id is not None:
        rows = rows.filter(entity_id=entity_id)
    out = [
        Dispute(pk, int(invoice_id or 0), opened, Money.from_minor(int(minor), cur), closed)
        for pk, invoice_id, opened, closed, cur, minor in rows.values_list(
            "pk", "invoice_id", "opened_on", "closed_on", "currency", "amount_minor"
        )
        if minor > 0
    ]
    return out, "payments disputes"


def mrr(entity_id: int | None, last: date) -> list[MrrRow]:
    """MRR per account and calendar month from the recurring billing schedules, from the first
    schedule's month to the month of ``last``.

    A schedule's monthly amount is quantity × unit price ÷ months per price period (the contracted
    run rate, discounts included, usage excluded); it counts in every month at whose last day it
    runs (``start ≤ last day < end``). An account's month is the sum of its schedules (amendments
    that reduce a line are negative schedules); a negative sum counts as 0."""
    from q2c.billing.models import Schedule

    rows = Schedule.objects.filter(kind="recurring", price_months__gt=0)
    if entity_id is not None:
        rows = rows.filter(entity_id=entity_id)
    closing = last.replace(day=1)
    cells: dict[tuple[int, date, str], Decimal] = defaultdict(Decimal)
    for account_id, cur, qty, price, per, start, end in rows.values_list(
        "account_id", "currency", "quantity", "unit_price", "price_months", "start", "end"
    ):
        if price is None:
            continue
        monthly = Decimal(qty) * Decimal(price) / per
        month = start.replace(day=1)
        while month <= closing:
            month_end = add_months(month, 1) - timedelta(days=1)
            if end is not None and end <= month_end:
                break
            if start <= month_end:
                cells[(account_id, month, cur)] += monthly
            month = add_months(month, 1)
    return [
        MrrRow(account, month, Money(max(amount, Decimal(0)), cur))
        for (account, month, cur), amount in sorted(cells.items())
    ]


def revenue(entity_id: int | None, last: date) -> tuple[list[RevenueEntry], str]:
    """Revenue positions by ``last``: ``(entries, source)``, from the ledger.

    Each line on a revenue account is revenue recognised on its date (with an equal "billed"
    entry under the same key, so it moves no deferral); each line on the deferred-revenue account
    moves the entity's deferred balance (credit − debit). The revenue app's recognition runs and
    its contract-asset split reach the metrics through these postings; reading its schedules as
    well would count them twice."""
    from q2c.ledger.models import JournalLine

    lines = JournalLine.objects.filter(entry__date__lte=last).filter(
        account__key__startswith="revenue."
    ) | JournalLine.objects.filter(entry__date__lte=last, account__key="deferred_revenue")
    if entity_id is not None:
        lines = lines.filter(entity_id=entity_id)
    out: list[RevenueEntry] = []
    for ent, day, key, cur, debit, credit in lines.values_list(
        "entity_id", "entry__date", "account__key", "currency", "debit_minor", "credit_minor"
    ):
        amount = Money.from_minor(int(credit) - int(debit), cur)
        if key == "deferred_revenue":
            out.append(RevenueEntry(int(ent), day, RevenueKind.BILLED, amount))
        else:
            out.append(RevenueEntry(-int(ent), day, RevenueKind.BILLED, amount))
            out.append(RevenueEntry(-int(ent), day, RevenueKind.RECOGNISED, amount))
    return out, "ledger (revenue and deferred-revenue accounts)"


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Gathered:
    scope: Scope
    inputs: KpiInputs
    rates: RateTable
    sources: dict[str, str | None] = field(default_factory=dict)


def gather(scope: Scope) -> Gathered:
    """Every source read for ``scope`` (records up to its close), in one bundle."""
    last = scope.last
    ar = receivables(scope.entity_id, last)
    paid, paid_source = payments(scope.entity_id, last)
    opened, dispute_source = disputes(scope.entity_id, last)
    entries, revenue_source = revenue(scope.entity_id, last)
    inputs = KpiInputs(
        opportunities=opportunities(scope.entity_id, last, scope.owner_ids),
        quotes=quotes(scope.entity_id, last, scope.owner_ids),
        receivables=Receivables(ar.invoices, paid, ar.credit_notes, ar.write_offs),
        disputes=opened,
        mrr=mrr(scope.entity_id, last),
        revenue=entries,
    )
    sources: dict[str, str | None] = {
        "opportunities": "quotes",
        "quotes": "quotes",
        "receivables": "invoicing",
        "payments": paid_source,
        "disputes": dispute_source,
        "mrr": "billing schedules",
        "revenue": revenue_source,
        "rates": "invoicing exchange rates",
    }
    return Gathered(scope, inputs, rate_table(scope.currency), sources)


def report(scope: Scope) -> tuple[KpiReport, Gathered]:
    data = gather(scope)
    return kpi_report(data.inputs, scope.start, scope.end, data.rates), data


def kpis_json(scope: Scope) -> dict[str, Any]:
    """The object ``q2c kpis --json`` and ``GET /api/v1/analytics/kpis`` print: the report's keys
    (docs/metrics.md), ``to`` as the last day included, the entity, and where each source came
    from (``null``: not available yet, its metrics count nothing)."""
    result, data = report(scope)
    out = result.as_json()
    out["to"] = scope.last.isoformat()
    out["entity"] = scope.entity_id
    out["sources"] = data.sources
    return out


def months_back(scope: Scope, count: int) -> Sequence[Scope]:
    """``count`` monthly scopes ending with the month of ``scope``'s last day (for trend lines)."""
    first = scope.last.replace(day=1)
    out = []
    for i in range(count - 1, -1, -1):
        start = add_months(first, -i)
        out.append(Scope(start, add_months(start, 1), scope.entity_id, scope.currency, scope.owner_ids))
    return out


def deals(entity_id: int | None, last: date, owner_ids: frozenset[int] | None = None) -> list[Deal]:
    """Every sent quote version followed to cash (``metrics.conversion``): its acceptance, the
    first invoice issued for the contract made from it, and the day that invoice was paid in
    full; a version declined, expired, withdrawn or superseded is dropped on that day."""
    from q2c.contracts.models import Contract
    from q2c.invoicing.models import InvoiceLine
    from q2c.platform.models import Event
    from q2c.quotes.models import Acceptance
    from q2c.quotes.models import Quote as Row

    rows = Row.objects.filter(sent_at__isnull=False)
    if entity_id is not None:
        rows = rows.filter(entity_id=entity_id)
    if owner_ids is not None:
        rows = rows.filter(owner_id__in=owner_ids)
    accepted = dict(
        Acceptance.objects.filter(outcome="accepted", quote__in=rows).values_list("quote_id", "decided_at")
    )
    contract_of = dict(
        Contract.objects.filter(source_quote_id__in=list(accepted)).values_list("source_quote_id", "pk")
    )
    first_invoice: dict[int, tuple[date, int]] = {}
    for contract_id, invoice_id, issued in (
        InvoiceLine.objects.filter(contract_id__in=list(contract_of.values()), invoice__issue_date__lte=last)
        .exclude(invoice__status__in=("draft", "void"))
        .values_list("contract_id", "invoice_id", "invoice__issue_date")
    ):
        if contract_id is None or issued is None:
            continue
        seen = first_invoice.get(contract_id)
        if seen is None or (issued, invoice_id) < seen:
            first_invoice[contract_id] = (issued, invoice_id)
    wanted = {str(inv) for _day, inv in first_invoice.values()}
    paid_on: dict[int, date] = {}
    for aggregate_id, occurred, payload in Event.objects.filter(
        type="invoicing.invoice.payment_applied", aggregate_id__in=wanted
    ).values_list("aggregate_id", "occurred_at", "payload"):
        if payload.get("status") == "paid":
            paid_on[int(aggregate_id)] = _utc_day(occurred)
    # Payments applied in bulk (bank runs of the cash application) log one event per batch.
    for occurred, payload in Event.objects.filter(type="invoicing.invoices.payments_applied").values_list(
        "occurred_at", "payload"
    ):
        for item in payload.get("items", []):
            key = str(item.get("invoice_id"))
            if key in wanted and item.get("status") == "paid":
                paid_on.setdefault(int(key), _utc_day(occurred))
    out = []
    for pk, number, version, status, cur, tcv, sent, decided, superseded in rows.values_list(
        "pk", "number", "version", "status", "currency", "tcv_minor", "sent_at", "decided_at", "superseded_at"
    ):
        if sent is None:
            continue
        sent_on = _utc_day(sent)
        if sent_on > last:
            continue
        taken = accepted.get(pk)
        invoice = first_invoice.get(contract_of.get(pk, -1))
        dropped = None
        if superseded is not None:
            dropped = _utc_day(superseded)
        elif status in ("rejected", "expired", "withdrawn"):
            dropped = _utc_day(decided) if decided is not None else last
        out.append(
            Deal(
                quote_id=pk,
                label=f"{number} v{version}",
                amount=Money.from_minor(int(tcv), cur),
                sent_on=sent_on,
                accepted_on=None if taken is None else _utc_day(taken),
                invoiced_on=None if taken is None or invoice is None else invoice[0],
                paid_on=None if taken is None or invoice is None else paid_on.get(invoice[1]),
                dropped_on=dropped if taken is None else None,
            )
        )
    return out
