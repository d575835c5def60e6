"""The bill run: ``q2c bill-run --as-of YYYY-MM-DD [--workers N]`` and the daily job.

**Steps.**

1. *Checks* (nothing written on failure): an as-of date before the last completed run
   (``billing.as_of_before_last_run``), a run of another date still going
   (``billing.run_in_progress``), an entity without a ledger book (``billing.no_book``) or whose
   ledger period of the as-of date is closed (``billing.period_closed``), a missing exchange rate
   for any currency billed (``invoicing.rate_missing``).
2. *Claim*: one ``BillRun`` row per date; a rerun of the date (after a crash, or a second run)
   takes it over (``attempts`` + 1) once its holder is gone.
3. *Shards* price in parallel: each worker (a forked process with ``--workers N``) loads its
   accounts (``account_id % N``) in bulk, computes the due items with the billing engine and
   prices the invoices with the tax engine (pure, in memory); an account whose data is wrong (a
   line without a price, data the law requires missing, a tax rule missing) is reported and
   billed not at all; then it writes *batches* of invoices, each one transaction: invoice numbers
   taken as a block, invoices and lines, their posting (one ledger entry per batch), the billed
   items (unique per schedule and period) and the schedules' billed-through marks.
4. *Summary*: invoices, totals per currency and the per-account errors, stored on the run.

**Crash safety.** Every batch is all or nothing; what a batch bills is keyed by unique
``BilledItem`` rows and numbers are taken inside it, so a run killed at any point leaves
complete batches or nothing of a batch, and a rerun of the same date bills exactly what is left,
with no gap in the numbers. Tests kill real ``q2c bill-run`` processes with SIGKILL at the points
named by ``Q2C_BILLRUN_CRASH_AT=point:n`` (read only here): ``start``, ``before_first_invoice``,
``numbered`` (numbers taken, nothing written), ``posted`` (written and posted, not committed),
``batch`` (after the n-th batch committed), ``summary`` (before the summary is stored).

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Mod

from q2c.billing import errors, plan, usage
from q2c.billing import events as ev
from q2c.billing.models import (
    Adjustment,
    BilledItem,
    BillingSettings,
    BillRun,
    BillRunShard,
    Charge,
    Milestone,
    Schedule,
    ScheduleFact,
)
from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money, Rounding
from q2c.invoicing import calc, fx, partydata
from q2c.invoicing import services as invoicing
from q2c.invoicing import tasks as invoicing_tasks
from q2c.invoicing.domain import PaymentTerms, TermsBasis
from q2c.invoicing.models import AccountInvoicing, InvoicingSettings
from q2c.invoicing.services.common import adapt, db_date, db_datetime, write_rows
from q2c.invoicing.services.common import formats_of as common_formats
from q2c.invoicing.services.issue import refuse_missing
from q2c.ledger.models import Book
from q2c.ledger.models import Period as LedgerPeriod
from q2c.parties.models import Account, Contact, LegalEntity
from q2c.platform import events
from q2c.platform.events import DomainEvent

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
Progress = Callable[[int, int], None]


# --- crash points (tests only) ------------------------------------------------------------------

_crash_counts: dict[str, int] = defaultdict(int)


def crash_point(point: str) -> None:
    """Kill this process with SIGKILL at the n-th pass of ``point`` if ``Q2C_BILLRUN_CRASH_AT``
    says ``point:n`` — how the crash tests stop a real run where they want."""
    wanted = os.environ.get("Q2C_BILLRUN_CRASH_AT", "")
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    _crash_counts[point] += 1
    if _crash_counts[point] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)


# --- checks and claim ---------------------------------------------------------------------------


def _due_schedules(as_of: date) -> QuerySet[Schedule]:
    # Usage schedules are rated by the usage close (``billing.usage``), which leaves charges.
    return (
        Schedule.objects.filter(status=Schedule.Status.ACTIVE, start__lte=as_of)
        .exclude(kind=Schedule.Kind.USAGE)
        .filter(
            ~Q(kind=Schedule.Kind.RECURRING) | Q(billed_through__isnull=True) | Q(billed_through__lte=as_of)
        )
    )


def _due_adjustments(as_of: date) -> QuerySet[Adjustment]:
    return Adjustment.objects.filter(billed=False, bill_date__lte=as_of)


def _due_charges(as_of: date) -> QuerySet[Charge]:
    return Charge.objects.filter(invoice_id__isnull=True, bill_on__lte=as_of)


def check(as_of: date) -> None:
    """Everything that refuses a run before it writes anything (see the module docstring)."""
    later = (
        BillRun.objects.filter(status=BillRun.Status.COMPLETED, as_of__gt=as_of).order_by("-as_of").first()
    )
    if later is not None:
        raise errors.BillRunRefused(
            f"a bill run for {later.as_of} has completed; a run for the earlier date {as_of} would bill out of order",
            code=errors.BEFORE_LAST_RUN,
            field="as_of",
        )
    pairs = set(_due_schedules(as_of).values_list("entity_id", "currency").distinct())
    pairs |= set(_due_adjustments(as_of).values_list("schedule__entity_id", "currency").distinct())
    pairs |= set(_due_charges(as_of).values_list("entity_id", "currency").distinct())
    pairs |= usage.pending_currencies(as_of)
    if not pairs:
        return
    entity_ids = sorted({e for e, _ in pairs})
    entities = {e.pk: e for e in LegalEntity.objects.filter(pk__in=entity_ids)}
    books = set(Book.objects.filter(entity_id__in=entity_ids).values_list("entity_id", flat=True))
    for e in entity_ids:
        if e not in books:
            raise errors.BillRunRefused(
                f"{entities[e].name} has no ledger book: open one before billing",
                code=errors.NO_BOOK,
                field="entity_id",
            )
    month = as_of.replace(day=1)
    closed = LedgerPeriod.objects.filter(entity_id__in=entity_ids, start=month, status="closed").values_list(
        "entity_id", flat=True
    )
    for e in closed:
        raise errors.BillRunRefused(
            f"the ledger period {month:%Y-%m} of {entities[e].name} is closed: invoices dated {as_of} cannot be posted",
            code=errors.PERIOD_CLOSED,
            field="as_of",
        )
    settings = {s.entity_id: s for s in InvoicingSettings.objects.filter(entity_id__in=entity_ids)}
    for e in entity_ids:
        wanted = [(cur, entities[e].base_currency) for ent, cur in pairs if ent == e]
        age = settings[e].fx_max_age_days if e in settings else 7
        fx.rates_for(wanted, as_of, max_age_days=age)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(holder: str, heartbeat: Any) -> bool:
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return heartbeat is not None and clock.now() - heartbeat < LEASE


def claim(as_of: date, workers: int, actor: str) -> BillRun:
    """The run of ``as_of``, created or taken over. Errors: ``billing.run_in_progress`` (409)."""
    with transaction.atomic():
        busy = BillRun.objects.filter(status=BillRun.Status.RUNNING).exclude(as_of=as_of)
        for other in busy:
            if _alive(other.holder, other.heartbeat_at):
                raise errors.BillRunConflict(
                    f"the bill run for {other.as_of} is still running ({other.holder})", field="as_of"
                )
        query = BillRun.objects.filter(as_of=as_of)
        if connection.features.has_select_for_update:
            query = query.select_for_update()
        run = query.first()
        now = clock.now()
        if run is None:
            run = BillRun.objects.create(
                as_of=as_of, workers=workers, holder=_me(), heartbeat_at=now, started_at=now, actor=actor
            )
        else:
            if (
                run.status == BillRun.Status.RUNNING
                and _alive(run.holder, run.heartbeat_at)
                and run.holder != _me()
            ):
                raise errors.BillRunConflict(
                    f"the bill run for {as_of} is already running ({run.holder})", field="as_of"
                )
            run.attempts += 1
            run.status = BillRun.Status.RUNNING
            run.workers = workers
            run.holder, run.heartbeat_at, run.last_error = _me(), now, ""
            run.save(update_fields=["attempts", "status", "workers", "holder", "heartbeat_at", "last_error"])
        BillRunShard.objects.filter(run=run).delete()
        events.record(DomainEvent(ev.RUN_STARTED, "billing.run", run.pk,
                                  {"as_of": as_of, "attempt": run.attempts, "workers": workers}, actor=actor))  # fmt: skip
    return run


# --- one shard ----------------------------------------------------------------------------------


@dataclass
class ShardResult:
    invoices: int = 0
    accounts: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Seconds per phase (load, reference, plan, price, write), for the benchmark and the logs.
    timings: dict[str, float] = field(default_factory=dict)


def _shard(qs: QuerySet[Any], column: str, shard: int, shards: int) -> QuerySet[Any]:
    if shards <= 1:
        return qs
    return qs.annotate(_shard=Mod(F(column), shards)).filter(_shard=shard)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _load(as_of: date, shard: int, shards: int) -> tuple[list[plan.Sched], list[plan.Adj], list[plan.Chg]]:
    """The shard's due schedules (in account order), prorations and one-off charges: one read each."""
    rows = (
        _shard(_due_schedules(as_of), "account_id", shard, shards)
        .order_by("account_id", "id")
        .values_list(*plan.FIELDS)
    )
    schedules = [plan.Sched(*r) for r in rows.iterator(chunk_size=20_000)]
    adj_rows = (
        _shard(_due_adjustments(as_of), "schedule__account_id", shard, shards)
        .order_by("id")
        .values_list(*plan.ADJ_FIELDS)
    )
    charge_rows = (
        _shard(_due_charges(as_of), "account_id", shard, shards).order_by("id").values_list(*plan.CHG_FIELDS)
    )
    return schedules, [plan.Adj(*r) for r in adj_rows], [plan.Chg(*r) for r in charge_rows]


def _error(account_id: int, name: str, exc: DomainError) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "account": name,
        "code": exc.code,
        "field": exc.field or "",
        "message": exc.message,
    }


#: Accounts planned, priced and written together: bounds a worker's memory, whatever the run's size.
SLICE = 5_000


def run_shard(
    run: BillRun, as_of: date, shard: int, shards: int, *, actor: str = "", progress: Progress | None = None
) -> ShardResult:
    """Bill the accounts of one shard (see the module docstring); returns what it did.

    Accounts are taken in slices of :data:`SLICE` (ranges of ids): each slice is loaded with a
    fixed number of reads, planned and priced in memory, then written in batches.
    """
    from q2c.tax.services import load_ruleset

    started = clock.now()
    if connection.vendor == "sqlite":
        # A bill run writes into large indexes (invoices, lines, billed items); SQLite's default
        # 2 MB page cache would send most of those inserts to the file system. 256 MB for this
        # connection; checkpoint the write-ahead log every 64 MB instead of every 4 MB (index
        # pages written again by consecutive batches are copied into the database file once).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
            cursor.execute("PRAGMA wal_autocheckpoint = 16384")
    shard_row, _ = BillRunShard.objects.update_or_create(
        run=run, shard=shard, shards=shards,
        defaults={"status": "running", "started_at": started, "accounts_done": 0, "invoices": 0, "errors": []},
    )  # fmt: skip
    timings: dict[str, float] = defaultdict(float)
    tick = time.perf_counter()
    schedules, adjustments, charges = _load(as_of, shard, shards)
    per_account_rows: dict[int, list[plan.Sched]] = defaultdict(list)
    for sched in schedules:
        per_account_rows[sched.account_id].append(sched)
    adjustments_of: dict[int, list[plan.Adj]] = defaultdict(list)
    for adj in adjustments:
        adjustments_of[adj.account_id].append(adj)
    charges_of: dict[int, list[plan.Chg]] = defaultdict(list)
    for chg in charges:
        charges_of[chg.account_id].append(chg)
    account_ids = sorted(set(per_account_rows) | set(adjustments_of) | set(charges_of))
    del schedules, adjustments, charges
    result = ShardResult(accounts=len(account_ids))
    BillRunShard.objects.filter(pk=shard_row.pk).update(accounts_total=len(account_ids))
    if progress:
        progress(0, len(account_ids))
    timings["load"] += time.perf_counter() - tick
    if not account_ids:
        BillRunShard.objects.filter(pk=shard_row.pk).update(status="done", finished_at=clock.now())
        return result

    ctx = _RunContext(run, as_of, shard, actor, load_ruleset(as_of))
    done = 0
    first = True
    for slice_ids in _chunks(account_ids, SLICE):
        lo, hi = slice_ids[0], slice_ids[-1]
        slice_schedules = [x for a in slice_ids for x in per_account_rows.pop(a, ())]
        slice_adjustments = [x for a in slice_ids for x in adjustments_of.pop(a, ())]
        slice_charges = [x for a in slice_ids for x in charges_of.pop(a, ())]
        ready = ctx.plan_and_price(
            slice_schedules, slice_adjustments, shard, shards, lo, hi, timings, result, slice_charges
        )
        if first:
            crash_point("before_first_invoice")
            first = False
        tick = time.perf_counter()
        for batch in _chunks(ready, ctx.batch_size):
            result.invoices += ctx.write_batch(batch, shard_row.pk, result.invoices)
        done += len(slice_ids)
        BillRunShard.objects.filter(pk=shard_row.pk).update(accounts_done=done)
        _end_untouched(slice_schedules)
        timings["write"] += time.perf_counter() - tick
        if progress:
            progress(done, len(account_ids))
    BillRunShard.objects.filter(pk=shard_row.pk).update(
        status="done", accounts_done=len(account_ids), errors=result.errors, finished_at=clock.now()
    )
    result.timings = {k: round(v, 3) for k, v in timings.items()}
    log.info("bill run %s shard %s/%s: %s", as_of, shard, shards, result.timings)
    return result


class _RunContext:
    """What a shard keeps across its slices: entities, settings, tax rules and memos, counters."""

    def __init__(self, run: BillRun, as_of: date, shard: int, actor: str, rules: Any) -> None:
        self.run, self.as_of, self.shard, self.actor, self.rules = run, as_of, shard, actor, rules
        self.entities: dict[int, LegalEntity] = {}
        self.sellers: dict[int, dict[str, Any]] = {}
        self.inv_settings: dict[int, InvoicingSettings] = {}
        self.bill_settings: dict[int, BillingSettings] = {}
        self.rates: dict[tuple[str, str], tuple[Decimal, date]] = {}
        self.memo = calc.TaxMemo()
        self.legal_memo: dict[Any, Any] = {}
        # Customers alike for the tax engine (country, region, kind, VAT id valid or not,
        # ship-to) share one context; payment terms are shared per (days, basis).
        self.contexts: dict[tuple[Any, ...], calc.TaxContext] = {}
        self.terms_of: dict[tuple[int, str], PaymentTerms] = {}
        self.batch_no = 0
        self.batch_size = 1000

    def _entity(self, entity_id: int) -> None:
        if entity_id in self.entities:
            return
        entity = LegalEntity.objects.get(pk=entity_id)
        self.entities[entity_id] = entity
        self.sellers[entity_id] = partydata.seller_data(
            entity, partydata.default_banks([entity_id]).get(entity_id)
        )
        self.inv_settings[entity_id] = InvoicingSettings.objects.filter(
            entity_id=entity_id
        ).first() or InvoicingSettings(entity_id=entity_id)
        self.bill_settings[entity_id] = BillingSettings.objects.filter(
            entity_id=entity_id
        ).first() or BillingSettings(entity_id=entity_id)
        self.batch_size = max(1, min(s.batch_size for s in self.bill_settings.values()))

    def _rate(self, currency: str, entity: LegalEntity) -> tuple[Decimal, date]:
        pair = (currency, entity.base_currency)
        if pair not in self.rates:
            age = self.inv_settings[entity.pk].fx_max_age_days
            self.rates.update(fx.rates_for([pair], self.as_of, max_age_days=age))
        return self.rates[pair]

    def plan_and_price(
        self, schedules: list[plan.Sched], adjustments: list[plan.Adj], shard: int, shards: int, lo: int, hi: int,
        timings: dict[str, float], result: ShardResult, charges: Sequence[plan.Chg] = (),
    ) -> list[tuple[plan.Group, invoicing.BulkInvoice]]:  # fmt: skip
        """The slice's invoices, priced and checked; accounts with an error are reported, not billed."""
        tick = time.perf_counter()
        as_of = self.as_of
        for e in (
            {s.entity_id for s in schedules}
            | {a.entity_id for a in adjustments}
            | {c.entity_id for c in charges}
        ):
            self._entity(e)
        accounts = {
            r["id"]: r
            for r in _shard(Account.objects.filter(id__gte=lo, id__lte=hi), "id", shard, shards).values(
                *partydata.ACCOUNT_FIELDS
            )
        }
        emails: dict[int, str] = {}
        for account_id, email in (
            _shard(
                Contact.objects.filter(account_id__gte=lo, account_id__lte=hi, is_billing=True),
                "account_id",
                shard,
                shards,
            )
            .exclude(email="")
            .order_by("account_id", "-is_primary", "id")
            .values_list("account_id", "email")
        ):
            emails.setdefault(account_id, email)
        overrides = {
            a.account_id: a
            for a in _shard(
                AccountInvoicing.objects.filter(account_id__gte=lo, account_id__lte=hi),
                "account_id",
                shard,
                shards,
            )
        }
        one_time_ids = [s.id for s in schedules if s.kind != "recurring"]
        facts: dict[int, list[tuple[str, date, Decimal]]] = defaultdict(list)
        milestones: dict[int, list[tuple[str, Decimal, date | None]]] = defaultdict(list)
        billed: set[tuple[int, date, int]] = set()
        for chunk in _chunks(one_time_ids, 900):
            for sid, kind, day, qty in (
                ScheduleFact.objects.filter(schedule_id__in=chunk)
                .order_by("day", "id")
                .values_list("schedule_id", "kind", "day", "quantity")
            ):
                facts[sid].append((kind, day, qty))
            for sid, name, pct, done in (
                Milestone.objects.filter(schedule_id__in=chunk)
                .order_by("position")
                .values_list("schedule_id", "name", "percent", "done_on")
            ):
                milestones[sid].append((name, pct, done))
            billed.update(
                BilledItem.objects.filter(schedule_id__in=chunk).values_list(
                    "schedule_id", "period_start", "part"
                )
            )
        for chunk in _chunks(sorted({a.schedule_id for a in adjustments}), 900):
            billed.update(
                BilledItem.objects.filter(schedule_id__in=chunk, part__gt=0).values_list(
                    "schedule_id", "period_start", "part"
                )
            )
        timings["reference"] += time.perf_counter() - tick

        tick = time.perf_counter()
        per_account: dict[int, list[tuple[plan.Sched | plan.Adj | plan.Chg, plan.Item]]] = defaultdict(list)
        bad: dict[int, DomainError] = {}
        for s in schedules:
            if s.account_id in bad:
                continue
            rounding: Rounding = (
                "half_even" if self.entities[s.entity_id].rounding_mode == "half_even" else "half_up"
            )
            try:
                for item in plan.items_of(
                    s,
                    as_of,
                    facts=facts.get(s.id, ()),
                    milestones=milestones.get(s.id, ()),
                    billed=billed,
                    rounding=rounding,
                ):
                    per_account[s.account_id].append((s, item))
            except DomainError as exc:
                bad[s.account_id] = exc
        for a in adjustments:
            if a.account_id not in bad and (a.schedule_id, a.effective, a.part) not in billed:
                per_account[a.account_id].append((a, plan.adjustment_item(a)))
        for c in charges:
            if c.account_id in bad:
                continue
            # On the account's invoice of this run (the latest bill date of its other items in the
            # currency — and contract, when the entity invoices per contract), else on its own.
            per_contract = not self.bill_settings[c.entity_id].consolidate
            dates = [
                it.bill_date
                for src, it in per_account[c.account_id]
                if src.entity_id == c.entity_id and src.currency == c.currency
                and (not per_contract or src.contract_id == c.contract_id)
            ]  # fmt: skip
            per_account[c.account_id].append((c, plan.charge_item(c, max(dates) if dates else as_of)))
        for account_id in bad:
            per_account.pop(account_id, None)
        groups = plan.group(
            per_account, consolidate={e: s.consolidate for e, s in self.bill_settings.items()}
        )
        timings["plan"] += time.perf_counter() - tick

        tick = time.perf_counter()
        ready: list[tuple[plan.Group, invoicing.BulkInvoice]] = []
        for g in groups:
            if g.account_id in bad:
                continue
            entity = self.entities[g.entity_id]
            account = accounts[g.account_id]
            try:
                buyer = partydata.buyer_data(account, emails.get(g.account_id, ""))
                profile = partydata.tax_buyer(buyer)
                key = (
                    g.entity_id,
                    profile.country,
                    profile.region,
                    profile.kind,
                    profile.vat_id_valid,
                    buyer["ship_country"],
                )
                ctx = self.contexts.get(key)
                if ctx is None:
                    ctx = self.contexts[key] = invoicing.tax_context(
                        entity, self.sellers[g.entity_id], buyer, as_of
                    )
                priced = calc.price(
                    [i.line for i in g.items],
                    g.currency,
                    ctx,
                    self.rules,
                    rounding=ctx.rounding,
                    memo=self.memo,
                )
                if priced.total_minor < 0:
                    _refuse_credit_only(g)
                override = overrides.get(g.account_id)
                days = g.terms_days if g.terms_days is not None else account["payment_terms_days"]
                basis = (
                    override.terms_basis if override and override.terms_basis else ""
                ) or self.inv_settings[g.entity_id].terms_basis
                term_key = (int(days if days is not None else entity.payment_terms_days), basis or "net")
                terms = self.terms_of.get(term_key)
                if terms is None:
                    terms = self.terms_of[term_key] = PaymentTerms(term_key[0], TermsBasis(term_key[1]))
                rate, rate_day = self._rate(g.currency, entity)
                contracts = sorted({i.line.contract_number for i in g.items if i.line.contract_number})
                bulk = invoicing.BulkInvoice(
                    g.entity_id, g.account_id, g.currency, as_of, priced, terms, self.sellers[g.entity_id], buyer,
                    entity.base_currency, rate, rate_day, entity.invoice_prefix or "INV", ctx.method.value, ctx.rounding,
                    ", ".join(contracts)[:100], override.buyer_reference if override else "",
                )  # fmt: skip
                problems = invoicing.legal_problems(bulk, self.legal_memo)
                if problems:
                    refuse_missing(problems)
                ready.append((g, bulk))
            except DomainError as exc:
                bad[g.account_id] = exc
        for account_id, problem in sorted(bad.items()):
            name = accounts.get(account_id, {}).get("name", str(account_id))
            result.errors.append(_error(account_id, name, problem))
        timings["price"] += time.perf_counter() - tick
        return [(g, it) for g, it in ready if g.account_id not in bad]

    def write_batch(
        self, batch: Sequence[tuple[plan.Group, invoicing.BulkInvoice]], shard_row_id: int, so_far: int
    ) -> int:
        """One batch, one transaction; returns the invoices issued."""
        run, k = self.run, self.batch_no
        self.batch_no += 1
        # Everything but the numbers is built before the transaction, so it holds the counter briefly.
        prep = invoicing.prepare_bulk(
            [it for _, it in batch], actor=self.actor or "billing", bill_run_id=run.pk, checked=True
        )
        with _WRITE_LOCK or contextlib.nullcontext(), transaction.atomic():
            # Lines, billed items and schedule marks first; the numbers last, held to the commit.
            _record_billed(run.pk, batch, invoicing.write_lines(prep), self.as_of)
            issued = invoicing.write_prepared(
                prep, batch=f"r{run.pk}a{run.attempts}s{self.shard}b{k}", hook=crash_point
            )
            BillRunShard.objects.filter(pk=shard_row_id).update(invoices=so_far + len(issued))
            rendering = [r for r in issued if self.inv_settings[r.entity_id].render_in_bill_run]
            if rendering:
                from q2c.invoicing.models import Invoice

                for ref in rendering:
                    formats = common_formats(self.inv_settings[ref.entity_id].formats)
                    invoicing_tasks.render_invoice(Invoice.objects.get(pk=ref.invoice_id), formats)
            invoicing_tasks.queue_rendering(
                [r.invoice_id for r in issued if not self.inv_settings[r.entity_id].render_in_bill_run]
            )
        crash_point("batch")
        return len(issued)


def _refuse_credit_only(g: plan.Group) -> None:
    """An invoice cannot be negative: credits alone (a cancellation, a reduction billed on its own)
    are corrected with a credit note against the invoice that billed the period."""
    from q2c.invoicing.models import Invoice

    billed_in: set[str] = set()
    for item in g.items:
        if item.amount_minor < 0:
            ids = BilledItem.objects.filter(
                schedule_id=item.schedule_id,
                part=0,
                period_start__lte=item.period_start,
                period_end__gt=item.period_start,
            ).values_list("invoice_id", flat=True)
            billed_in.update(Invoice.objects.filter(pk__in=list(ids)).values_list("number", flat=True))
    where = f" (the period was invoiced on {', '.join(sorted(billed_in))})" if billed_in else ""
    raise errors.BillRunRefused(
        f"the items due on {g.bill_date} only credit the customer; issue a credit note instead{where}",
        code=errors.CREDIT_ONLY,
        field="amount",
    )


def _record_billed(
    run_id: int, batch: Sequence[tuple[plan.Group, Any]], invoice_ids: Sequence[int], billed_on: date
) -> None:
    """The billed items, the schedules' billed-through marks and the prorations billed."""
    rows: list[tuple[Any, ...]] = []
    marks: dict[int, date] = {}
    ended: set[int] = set()
    adjusted: list[int] = []
    charged: dict[int, list[int]] = defaultdict(list)
    for (g, _), invoice_id in zip(batch, invoice_ids, strict=True):
        for item in g.items:
            if item.charge_id is not None:
                charged[invoice_id].append(item.charge_id)
                continue
            rows.append((item.schedule_id, db_date(item.period_start), item.part, db_date(item.period_end),
                         db_date(item.bill_date), g.account_id, item.amount_minor, g.currency, invoice_id,
                         run_id))  # fmt: skip
            if item.adjustment_id is not None:
                adjusted.append(item.adjustment_id)
            elif item.part == 0 and item.line.service_start is not None:
                marks[item.schedule_id] = max(marks.get(item.schedule_id, item.period_end), item.period_end)
            if item.ends_schedule:
                ended.add(item.schedule_id)
    write_rows(
        BilledItem._meta.db_table,
        (
            "schedule_id",
            "period_start",
            "part",
            "period_end",
            "bill_date",
            "account_id",
            "amount_minor",
            "currency",
            "invoice_id",
            "bill_run_id",
        ),
        rows,
        ready=True,
    )
    now = clock.now()
    stamp = db_datetime(now)
    _update_many(
        Schedule._meta.db_table,
        ("billed_through", "status", "updated_at"),
        [(db_date(marks[sid]), "ended" if sid in ended else "active", stamp, sid) for sid in marks],
        ready=True,
    )
    one_time_ended = [sid for sid in ended if sid not in marks]
    if one_time_ended:
        Schedule.objects.filter(pk__in=one_time_ended).update(status=Schedule.Status.ENDED, updated_at=now)
    if adjusted:
        Adjustment.objects.filter(pk__in=adjusted).update(billed=True)
    for invoice_id, charge_ids in charged.items():
        done = Charge.objects.filter(pk__in=charge_ids, invoice_id__isnull=True).update(
            invoice_id=invoice_id, bill_run_id=run_id, billed_on=billed_on
        )
        if done != len(charge_ids):  # another run billed one of them meanwhile: this batch must not
            raise errors.BillRunConflict("a one-off charge of this batch was billed by another run")


def _update_many(
    table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], *, ready: bool = False
) -> None:
    """``UPDATE table SET columns… WHERE id = …`` for many rows: one statement on PostgreSQL
    (``UPDATE … FROM (VALUES …)``), one ``executemany`` on SQLite."""
    if not rows:
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for chunk in _chunks(rows, 5_000):
                values = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(chunk))
                sets = ", ".join(f"{qn(c)} = v.{qn(c)}" for c in columns)
                names = ", ".join(qn(c) for c in (*columns, "id"))
                casts = {"billed_through": "date", "status": "varchar", "updated_at": "timestamptz"}
                typed = ", ".join(f"{qn(c)}::{casts.get(c, 'text')}" for c in columns)
                sql = (
                    f"UPDATE {qn(table)} AS t SET {sets} FROM (SELECT {typed}, {qn('id')}::bigint AS id FROM "  # noqa: S608
                    f"(VALUES {values}) AS raw ({names})) AS v WHERE t.id = v.id"
                )
                cursor.execute(sql, [x for row in chunk for x in row])
            return
        sets = ", ".join(f"{qn(c)} = %s" for c in columns)
        sql = f"UPDATE {qn(table)} SET {sets} WHERE id = %s"  # noqa: S608 (names are constants, values parameters)
        cursor.executemany(sql, rows if ready else [tuple(adapt(v) for v in row) for row in rows])


def _end_untouched(schedules: Sequence[plan.Sched]) -> None:
    """Recurring schedules whose term is over and fully billed leave the bill run's load."""
    over = [
        s.id
        for s in schedules
        if s.kind == "recurring"
        and s.end is not None
        and s.billed_through is not None
        and s.billed_through >= s.end
    ]
    if over:
        Schedule.objects.filter(pk__in=over).update(status=Schedule.Status.ENDED)


# --- the whole run ------------------------------------------------------------------------------


@dataclass
class RunResult:
    run_id: int
    as_of: date
    invoices: int
    totals: dict[str, str]
    errors: list[dict[str, Any]]
    attempts: int
    created: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "invoices": self.invoices,
                "created": self.created, "totals": self.totals, "errors": self.errors, "attempts": self.attempts,
                "seconds": round(self.seconds, 3), "timings": self.timings}  # fmt: skip


def _die_with_parent() -> None:
    """A forked worker dies with its coordinator (Linux), so a killed run leaves no orphan writer."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - not Linux
        pass


#: SQLite admits one writer at a time and its busy handler sleeps while it waits (up to 100 ms a
#: try): forked workers take turns through this lock instead, so the database never idles.
_WRITE_LOCK: Any = None


def _parallel(run: BillRun, as_of: date, workers: int, actor: str, progress: Progress | None) -> None:
    global _WRITE_LOCK
    connections.close_all()
    if connection.vendor == "sqlite":
        import multiprocessing

        _WRITE_LOCK = multiprocessing.get_context("fork").Lock()
    pids: dict[int, int] = {}
    for i in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker
            _die_with_parent()
            code = 0
            try:
                run_shard(run, as_of, i, workers, actor=actor)
            except BaseException:
                log.exception("bill run shard %s/%s failed", i, workers)
                code = 1
            finally:
                connections.close_all()
                os._exit(code)
        pids[pid] = i
    _WRITE_LOCK = None
    failed: list[str] = []
    while pids:
        time.sleep(0.2)
        for pid in list(pids):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                i = pids.pop(pid)
                if os.WIFSIGNALED(status):
                    failed.append(f"worker {i} was killed (signal {os.WTERMSIG(status)})")
                elif os.WEXITSTATUS(status):
                    failed.append(f"worker {i} failed (exit {os.WEXITSTATUS(status)})")
        if progress:
            agg = BillRunShard.objects.filter(run=run).aggregate(
                d=Sum("accounts_done"), t=Sum("accounts_total")
            )
            progress(int(agg["d"] or 0), int(agg["t"] or 0))
        BillRun.objects.filter(pk=run.pk).update(heartbeat_at=clock.now())
    if failed:
        raise errors.BillRunRefused(
            "; ".join(failed) + " — run it again: it resumes where it stopped", code=errors.RUN_FAILED
        )


def finish(run: BillRun) -> RunResult:
    crash_point("summary")
    per_currency = {}
    invoices = 0
    from q2c.invoicing.models import Invoice

    for row in (
        Invoice.objects.filter(bill_run_id=run.pk)
        .values("currency")
        .annotate(t=Sum("total_minor"), n=Count("id"))
        .order_by("currency")
    ):
        per_currency[row["currency"]] = str(Money.from_minor(int(row["t"] or 0), row["currency"]).amount)
        invoices += int(row["n"] or 0)
    shard_errors = [e for s in BillRunShard.objects.filter(run=run).order_by("shard") for e in s.errors]
    shard_sums = BillRunShard.objects.filter(run=run).aggregate(t=Sum("accounts_total"), n=Sum("invoices"))
    accounts, created = int(shard_sums["t"] or 0), int(shard_sums["n"] or 0)
    now = clock.now()
    with transaction.atomic():
        BillRun.objects.filter(pk=run.pk).update(
            status=BillRun.Status.COMPLETED, finished_at=now, invoices=invoices, totals=per_currency, errors=shard_errors,
            accounts_total=accounts, accounts_done=accounts, heartbeat_at=now,
            summary={"invoices": invoices, "created_last_attempt": created, "totals": per_currency,
                     "errors": len(shard_errors), "attempts": run.attempts},
        )  # fmt: skip
        events.record(DomainEvent(ev.RUN_COMPLETED, "billing.run", run.pk,
                                  {"as_of": run.as_of, "invoices": invoices, "totals": per_currency,
                                   "errors": len(shard_errors), "attempt": run.attempts}, actor=run.actor))  # fmt: skip
    return RunResult(run.pk, run.as_of, invoices, per_currency, shard_errors, run.attempts, created)


def bill_run(
    as_of: date, *, workers: int = 1, actor: str = "", progress: Progress | None = None
) -> RunResult:
    """Run (or resume) the bill run of ``as_of``; see the module docstring.

    Errors (nothing written): ``billing.as_of_before_last_run``, ``billing.run_in_progress``
    (409), ``billing.no_book``, ``billing.period_closed``, ``invoicing.rate_missing``,
    ``billing.invalid_workers``; ``billing.run_failed`` when a worker died (complete batches
    stay; run it again to finish).
    """
    if not isinstance(workers, int) or not 1 <= workers <= 64:
        raise errors.BillRunRefused("workers is 1 to 64", code=errors.INVALID_WORKERS, field="workers")
    started = time.perf_counter()
    check(as_of)
    # Usage of the months ended by the date becomes charges first (each month in a transaction of
    # its own); the run then bills them with everything else due.
    closed = usage.close_usage(as_of, actor=actor)
    run = claim(as_of, workers, actor)
    crash_point("start")
    try:
        timings: dict[str, float] = {}
        if workers == 1:
            timings = run_shard(run, as_of, 0, 1, actor=actor, progress=progress).timings
        else:
            _parallel(run, as_of, workers, actor, progress)
    except BaseException as exc:
        connections.close_all()
        BillRun.objects.filter(pk=run.pk).update(
            status=BillRun.Status.FAILED, last_error=str(exc)[:4000], holder=""
        )
        events.record(
            DomainEvent(
                ev.RUN_FAILED, "billing.run", run.pk, {"as_of": as_of, "error": str(exc)[:500]}, actor=actor
            )
        )
        raise
    result = finish(run)
    if closed.errors:  # subscriptions whose usage could not be rated (a price missing): reported
        result.errors = [*result.errors, *closed.errors]
        BillRun.objects.filter(pk=run.pk).update(errors=result.errors)
    result.seconds = time.perf_counter() - started
    result.timings = timings
    return result


def anything_due(as_of: date) -> bool:
    """Whether a run of ``as_of`` could bill anything: one statement of indexed existence checks,
    so the daily job costs next to nothing on the days (most of them) when nothing is due.

    Due: an active schedule started by ``as_of`` that is recurring and not billed past it, or
    one-time on its start (trigger ``""``, ``contract_start``, ``date``), or one-time with a fact
    (delivery, activation …) by ``as_of``, or a milestone done by it; an unbilled proration or
    one-off charge dated by ``as_of``; usage of a month before ``as_of``'s month not rated yet.
    """
    from q2c.billing.models import UsagePending

    qn = connection.ops.quote_name
    s, f, m = qn(Schedule._meta.db_table), qn(ScheduleFact._meta.db_table), qn(Milestone._meta.db_table)
    a, c, p = qn(Adjustment._meta.db_table), qn(Charge._meta.db_table), qn(UsagePending._meta.db_table)
    day = db_date(as_of)
    active = f"s.{qn('status')} = %s AND s.{qn('start')} <= %s AND s.{qn('kind')} = %s"
    sql = (
        "SELECT CASE WHEN "  # noqa: S608 (table and column names are the models', values are bound)
        f"EXISTS (SELECT 1 FROM {s} s WHERE {active} "
        f"AND (s.{qn('billed_through')} IS NULL OR s.{qn('billed_through')} <= %s)) "
        f"OR EXISTS (SELECT 1 FROM {s} s WHERE {active} AND s.{qn('trigger')} IN (%s, %s, %s)) "
        f"OR EXISTS (SELECT 1 FROM {s} s JOIN {f} x ON x.{qn('schedule_id')} = s.{qn('id')} "
        f"WHERE {active} AND x.{qn('day')} <= %s) "
        f"OR EXISTS (SELECT 1 FROM {s} s JOIN {m} x ON x.{qn('schedule_id')} = s.{qn('id')} "
        f"WHERE {active} AND x.{qn('done_on')} <= %s) "
        f"OR EXISTS (SELECT 1 FROM {a} WHERE {qn('billed')} = %s AND {qn('bill_date')} <= %s) "
        f"OR EXISTS (SELECT 1 FROM {c} WHERE {qn('invoice_id')} IS NULL AND {qn('bill_on')} <= %s) "
        f"OR EXISTS (SELECT 1 FROM {p} WHERE {qn('period_start')} < %s) "
        "THEN 1 ELSE 0 END"
    )
    on = Schedule.Status.ACTIVE.value
    params = [
        on, day, Schedule.Kind.RECURRING.value, day,
        on, day, Schedule.Kind.ONE_TIME.value, "", "contract_start", "date",
        on, day, Schedule.Kind.ONE_TIME.value, day,
        on, day, Schedule.Kind.MILESTONE.value, day,
        False, day,
        day,
        db_date(as_of.replace(day=1)),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row and row[0])


def daily(business_date: date) -> dict[str, Any]:
    """The daily job (``billing.bill_run``): the run of the business date, summarised — or, when
    nothing can be due (:func:`anything_due`), a summary saying so, without a run."""
    if not anything_due(business_date):
        return {"as_of": business_date.isoformat(), "invoices": 0, "skipped": "nothing due"}
    return bill_run(business_date, actor="schedule").as_dict()
