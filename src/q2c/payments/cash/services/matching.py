"""Matching runs: unresolved bank lines against open invoices, the sure ones applied.

:func:`run_matching` loads everything the matcher needs in bulk (open invoices, customers, known
payer IBANs, the accounts' fee tolerances and thresholds — a handful of queries, none per line),
runs the pure :class:`~q2c.payments.matching.CashMatcher`, applies the ``auto`` outcomes through
:mod:`q2c.payments.cash.services.apply` (the payments app's services: one payment per line, one
application per invoice, the bank fee written off), and stores every other outcome on its line
with its confidence, reasons and alternatives for the workbench. Lines money went out on are
``not_receivable``; lines with nothing found stay ``unidentified`` (the queue) — nothing is dropped.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import orjson
from django.db import connection, transaction

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import Invoice
from q2c.parties.models import Account
from q2c.parties.models import BankAccount as SellerBankAccount
from q2c.payments.bank.common import gc_paused
from q2c.payments.cash.models import (
    BankLine,
    CashAccount,
    CashApplication,
    KnownPayer,
    LineState,
    MatchRun,
    Statement,
)
from q2c.payments.cash.services import apply as applying
from q2c.payments.cash.services.importing import actor_name
from q2c.payments.matching import (
    BankLine as MatchLine,
)
from q2c.payments.matching import (
    CashMatcher,
    Customer,
    MatchSettings,
    OpenItem,
    Outcome,
    Proposal,
    Reason,
    Status,
)
from q2c.payments.matching import (
    KnownPayer as MatchPayer,
)
from q2c.payments.matching.references import fast_creditor_reference
from q2c.payments.models import Reopened
from q2c.platform.checkpoints import background_checkpoints

OPEN = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTIALLY_PAID.value)
BATCH = 2000
# Lines whose payments commit together. A batch costs ~25 statements whatever its size, and its
# commit writes every page it touched (invoice rows and their status indexes all over a large
# table: ~4 pages a line) to the WAL and checkpoints them: larger batches share more of those pages
# (100,000 lines against 1,000,000 invoices: 10 commits instead of 50, ~7 s less CPU), while one
# batch still holds the write lock only for seconds (docs/cash-application.md).
APPLY_BATCH = 10_000

STATE_OF = {
    Status.AUTO: LineState.APPLIED,
    Status.PROPOSED: LineState.PROPOSED,
    Status.UNIDENTIFIED: LineState.UNIDENTIFIED,
    Status.NOT_RECEIVABLE: LineState.NOT_RECEIVABLE,
}


def proposal_dict(proposal: Proposal) -> dict[str, Any]:
    return {
        "applications": [
            {
                "invoice_id": a.item_id,
                "number": a.number,
                "amount_minor": a.amount_minor,
                "fee_minor": a.fee_minor,
            }
            for a in proposal.applications
        ],
        "currency": proposal.currency,
        "fee_minor": proposal.fee_minor,
        "unapplied_minor": proposal.unapplied_minor,
        "confidence": proposal.confidence,
        "customer_id": proposal.customer_id,
        "reasons": [{"code": r.code, "text": r.text} for r in proposal.reasons],
    }


def open_items(entity_id: int) -> list[OpenItem]:
    """Every open invoice of the entity as matcher input: one raw read, newest first; amounts a
    payment reversal reopened on a settled invoice (``payments.Reopened``) included.

    A million open invoices through the ORM spent most of the load in Django's per-row value
    converters; the raw cursor hands back plain tuples (dates as ISO text on SQLite, read here
    with ``date.fromisoformat``), and the open amount is worked out in SQL.
    """
    table = Invoice._meta.db_table
    # SQLite's driver would parse each date in Python (Django registers a converter for the
    # declared type); as text, date.fromisoformat reads it in C.
    due = "CAST(due_date AS TEXT)" if connection.vendor == "sqlite" else "due_date"
    sql = (
        "SELECT id, account_id, number, total_minor - paid_minor - credited_minor - written_off_minor, "  # noqa: S608
        f"currency, {due} FROM {table} WHERE entity_id = %s AND status IN (%s, %s) "
        "AND total_minor - paid_minor - credited_minor - written_off_minor > 0 "
        "AND number IS NOT NULL AND number <> '' ORDER BY id DESC"
    )
    items: list[OpenItem] = []
    append = items.append
    as_date = date.fromisoformat
    with connection.cursor() as cursor, gc_paused():
        cursor.execute(sql, [entity_id, *OPEN])
        while rows := cursor.fetchmany(50_000):
            for pk, account_id, number, open_minor, currency, due in rows:
                day = as_date(due) if type(due) is str else due
                # The RF reference printed on the invoice is its number's: the matcher works it out
                # for the items a line's reference can name (references_from_numbers). A number
                # with other than ASCII letters and digits gets its reference here.
                ref = None if number.isascii() else fast_creditor_reference(number)
                append(OpenItem(pk, account_id, number, open_minor, currency, day, ref))
    reopened = _reopened(entity_id)
    if reopened:
        items = _with_reopened(items, reopened)
    return items


def _reopened(entity_id: int) -> list[tuple[Any, ...]]:
    """Amounts a payment reversal put back on invoices the invoicing app records as settled
    (``payments.Reopened``): open again until paid again, so the matcher must see them. One read,
    nothing when none is open (the usual case)."""
    table, invoices = Reopened._meta.db_table, Invoice._meta.db_table
    due = "CAST(i.due_date AS TEXT)" if connection.vendor == "sqlite" else "i.due_date"
    # Fixed identifiers; the values are parameters. Closed invoices take no payment (the payments
    # service refuses them), so their reopened amounts are not offered.
    sql = (
        f"SELECT i.id, i.account_id, i.number, r.amount_minor, i.currency, {due}, i.status, "  # noqa: S608
        "i.total_minor - i.paid_minor - i.credited_minor - i.written_off_minor "
        f"FROM {table} r JOIN {invoices} i ON i.id = r.invoice_id "
        "WHERE r.entity_id = %s AND r.amount_minor > 0 AND i.status NOT IN (%s, %s, %s) "
        "AND i.number IS NOT NULL AND i.number <> ''"
    )
    closed = (InvoiceStatus.DRAFT.value, InvoiceStatus.VOID.value, InvoiceStatus.UNCOLLECTIBLE.value)
    with connection.cursor() as cursor:
        cursor.execute(sql, [entity_id, *closed])
        return list(cursor.fetchall())


def _with_reopened(items: list[OpenItem], reopened: list[tuple[Any, ...]]) -> list[OpenItem]:
    """The open items with each reopened amount added to its invoice's (an invoice settled in
    invoicing appears with the reopened amount alone), newest first as before."""
    extra: dict[int, tuple[Any, ...]] = {row[0]: row for row in reopened}
    out: list[OpenItem] = []
    for item in items:
        row = extra.pop(int(item.item_id), None)
        out.append(item if row is None else replace(item, open_minor=item.open_minor + int(row[3])))
    for pk, account_id, number, amount, currency, due, status, open_here in extra.values():
        # Open in invoicing too only if it is issued or partly paid (else that part is settled).
        own = int(open_here) if status in OPEN and int(open_here) > 0 else 0
        day = date.fromisoformat(due) if type(due) is str else due
        ref = None if number.isascii() else fast_creditor_reference(number)
        out.append(OpenItem(pk, account_id, number, own + int(amount), currency, day, ref))
    out.sort(key=lambda item: int(item.item_id), reverse=True)
    return out


def customers(entity_id: int) -> list[Customer]:
    """The entity's customers (one raw read in the model's order: name, id)."""
    sql = f"SELECT id, name FROM {Account._meta.db_table} WHERE entity_id = %s ORDER BY name, id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [entity_id])
        return [Customer(pk, name) for pk, name in cursor.fetchall()]


def known_payers(entity_id: int) -> list[MatchPayer]:
    """The IBANs that paid for the entity's customers (one raw read)."""
    sql = (
        f"SELECT p.account_id, p.iban, p.name FROM {KnownPayer._meta.db_table} p "  # noqa: S608
        f"JOIN {Account._meta.db_table} a ON a.id = p.account_id WHERE a.entity_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [entity_id])
        return [MatchPayer(iban, account_id, name or None) for account_id, iban, name in cursor.fetchall()]


def settings_for_entity(entity_id: int) -> tuple[MatchSettings, dict[str, int]]:
    """Fee tolerance per IBAN; the threshold of the entity's accounts (the strictest one)."""
    tolerance: dict[str, Money] = {}
    thresholds: dict[str, int] = {}
    ibans = dict(SellerBankAccount.objects.filter(entity_id=entity_id).values_list("id", "iban"))
    for row in CashAccount.objects.filter(bank_account_id__in=list(ibans)):
        iban = "".join(ibans[row.bank_account_id].split()).upper()
        if row.fee_tolerance_minor:  # type: ignore[attr-defined]
            tolerance[iban] = row.fee_tolerance
        thresholds[iban] = row.auto_threshold
    return MatchSettings(
        auto_threshold=min(thresholds.values(), default=90), fee_tolerance=tolerance
    ), thresholds


def _match_line(row: tuple[Any, ...], iban: str) -> MatchLine:
    (
        pk,
        amount_minor,
        currency,
        booking_date,
        value_date,
        remittance,
        references,
        payer_name,
        payer_iban,
        e2e,
    ) = row
    return MatchLine(
        line_id=str(pk),
        amount_minor=int(amount_minor),
        currency=currency,
        account=iban,
        booking_date=booking_date or value_date,
        remittance=remittance or "",
        references=tuple(references or ()),
        payer_name=payer_name or None,
        payer_iban=payer_iban or None,
        end_to_end_id=e2e or None,
    )


_LINE_COLUMNS = (
    "bank_account_id", "id", "amount_minor", "currency", "booking_date", "value_date", "remittance",
    "references", "payer_name", "payer_iban", "end_to_end_id",
)  # fmt: skip


def _unresolved(
    states: list[str], file_id: int | None, line_ids: Iterable[int] | None, account_ids: list[int] | None
) -> Iterable[tuple[Any, ...]]:
    """The booked lines in ``states`` (of the file, the lines, the accounts asked for) as plain
    tuples in (booking date, id) order: one raw read — a large file's 100,000 lines went through
    Django's per-row converters (two dates and a JSON column each)."""
    if line_ids is not None:  # a person's handful of lines: the ORM is fine
        query = BankLine.objects.filter(state__in=states, booking_status="BOOK", pk__in=list(line_ids))
        if file_id is not None:
            query = query.filter(statement__file_id=file_id)
        if account_ids is not None:
            query = query.filter(bank_account_id__in=account_ids)
        yield from query.order_by("booking_date", "id").values_list(*_LINE_COLUMNS)
        return
    sqlite = connection.vendor == "sqlite"
    columns = ", ".join(
        f"CAST(l.{c} AS TEXT)" if sqlite and c.endswith("_date") else f"l.{connection.ops.quote_name(c)}"
        for c in _LINE_COLUMNS
    )
    where = [f"l.state IN ({', '.join(['%s'] * len(states))})", "l.booking_status = %s"]
    params: list[Any] = [*states, "BOOK"]
    if file_id is not None:
        where.append(f"l.statement_id IN (SELECT id FROM {Statement._meta.db_table} WHERE file_id = %s)")  # noqa: S608
        params.append(file_id)
    if account_ids is not None:
        if not account_ids:
            return
        where.append(f"l.bank_account_id IN ({', '.join(['%s'] * len(account_ids))})")
        params += account_ids
    # Fixed identifiers (the models' tables and columns); the values are parameters.
    sql = f"SELECT {columns} FROM {BankLine._meta.db_table} l WHERE {' AND '.join(where)} ORDER BY l.booking_date, l.id"  # noqa: S608
    as_date, loads = date.fromisoformat, orjson.loads
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            for account, pk, amount, currency, booked, valued, remittance, refs, name, iban, e2e in rows:
                if sqlite:
                    booked = as_date(booked) if booked else None
                    valued = as_date(valued) if valued else None
                if type(refs) is str:  # JSON text on both backends (Django reads jsonb as text)
                    refs = loads(refs)
                yield (account, pk, amount, currency, booked, valued, remittance, refs, name, iban, e2e)


def _store(outcomes: Sequence[tuple[int, Outcome, LineState]], run_id: int, now: Any) -> None:
    """One executemany for the outcomes' line rows (no ORM call per line)."""
    vendor = connection.vendor
    js = "%s::jsonb" if vendor == "postgresql" else "%s"
    table = BankLine._meta.db_table
    sets = (
        f"state = %s, confidence = %s, reasons = {js}, proposal = {js}, alternatives = {js}, customer_id = %s, "
        "unapplied_minor = %s, match_run_id = %s, resolved_at = %s, resolved_by = %s"
    )
    sql = f"UPDATE {table} SET {sets} WHERE id = %s"  # noqa: S608 (constants only)
    params = []
    # orjson: a tenth of json.dumps' time for these small documents (~100,000 per large file).
    dumps = orjson.dumps
    for pk, outcome, state in outcomes:
        proposal = outcome.proposal
        reasons = list(proposal.reasons if proposal else ()) + list(outcome.reasons)
        alternatives = outcome.alternatives
        params.append(
            (
                state.value,
                proposal.confidence if proposal else None,
                dumps([{"code": r.code, "text": r.text} for r in reasons]).decode(),
                dumps(proposal_dict(proposal)).decode()
                if proposal and state != LineState.APPLIED
                else "null",
                dumps([proposal_dict(p) for p in alternatives]).decode() if alternatives else "[]",
                proposal.customer_id if proposal else None,
                proposal.unapplied_minor if proposal and state == LineState.APPLIED else 0,
                run_id,
                now if state == LineState.APPLIED else None,
                "matcher" if state == LineState.APPLIED else "",
                pk,
            )
        )
    with connection.cursor() as cursor:
        for start in range(0, len(params), BATCH):
            cursor.executemany(sql, params[start : start + BATCH])


# With every open item in memory (a million objects on a large ledger) each collection the run's
# allocations trigger walks them all: paused for the whole run (see importing.import_file).
@gc_paused()
# Ten large commits: their WAL checkpoints (copies and disk syncs) run beside the work; a 1 GiB page
# cache holds the pages the batches touch (100,000 lines against 1,000,000 invoices: ~3 s less).
@background_checkpoints(cache_mib=1024)
def run_matching(
    *,
    entity_id: int | None = None,
    file_id: int | None = None,
    line_ids: Iterable[int] | None = None,
    rematch: bool = False,
    actor: Any = None,
    prepared: Prepared | None = None,
) -> dict[str, Any]:
    """Match unresolved booked lines (new ones; with ``rematch`` also proposed and unidentified
    ones) and apply the automatic matches.

    Returns ``{"runs": [ids], "lines", "applied", "proposed", "unidentified", "not_receivable",
    "timings": {"load_s", "match_s", "apply_s", "store_s"}}``. Applications commit in batches of
    :data:`APPLY_BATCH` lines together with those lines' states; a line the payments service
    refuses waits in the workbench (``proposed``, reason ``apply_refused``) instead of holding
    back the others. ``prepared``: an entity's :func:`prepare` done beforehand (used for that
    entity's lines; any other entity is loaded here).
    """
    states = [LineState.NEW.value]
    if rematch:
        states += [LineState.PROPOSED.value, LineState.UNIDENTIFIED.value]
    accounts = {
        pk: (entity, "".join(iban.split()).upper())
        for pk, entity, iban in SellerBankAccount.objects.values_list("id", "entity_id", "iban")
    }
    account_ids = None
    if entity_id is not None:
        account_ids = [pk for pk, (e, _i) in accounts.items() if e == entity_id]
    by_entity: dict[int, list[tuple[int, MatchLine]]] = defaultdict(list)
    for row in _unresolved(states, file_id, line_ids, account_ids):
        entity, iban = accounts[row[0]]
        by_entity[entity].append((row[1], _match_line(row[1:], iban)))
    total: dict[str, Any] = {
        "runs": [],
        "lines": 0,
        "applied": 0,
        "proposed": 0,
        "unidentified": 0,
        "not_receivable": 0,
        "timings": {},
    }
    who = actor_name(actor)
    for entity, lines in sorted(by_entity.items()):
        counts = _run_entity(entity, lines, who, prepared)
        total["runs"].append(counts.pop("run_id"))
        for key, value in counts.pop("timings").items():
            total["timings"][key] = round(total["timings"].get(key, 0) + value, 2)
        for key, value in counts.items():
            total[key] += value
    total["returned"] = _returns(total["runs"], who)
    return total


def _returns(run_ids: list[int], who: str) -> int:
    """Payments the bank took back: a reversal (MT940 ``RC``, camt ``RvslInd``) of money in that
    carries the end-to-end id of exactly one applied line of the same account reverses that
    line's payment (payments' ``reverse_payment``: its invoices reopen). Others stay money out."""
    from q2c.payments import services as payments

    done = 0
    candidates = BankLine.objects.filter(
        match_run_id__in=run_ids, state=LineState.NOT_RECEIVABLE.value, reversal=True, amount_minor__lt=0
    ).exclude(end_to_end_id="")
    for line in candidates.order_by("id"):
        originals = list(
            BankLine.objects.filter(
                bank_account_id=line.bank_account_id,
                end_to_end_id=line.end_to_end_id,
                state=LineState.APPLIED.value,
                amount_minor=-int(line.amount_minor),  # type: ignore[attr-defined]
            ).values_list("id", flat=True)[:2]
        )
        if len(originals) != 1:
            continue
        paid = {
            p
            for p in CashApplication.objects.filter(line_id=originals[0]).values_list("payment_id", flat=True)
            if p
        }
        if len(paid) != 1:
            continue
        try:
            with transaction.atomic():
                payments.reverse_payment(
                    next(iter(paid)),
                    code="returned",
                    reason=f"returned by the bank: {line.remittance}"[:300],
                    on=line.booking_date,
                    actor=who or "matcher",
                )
                note = {
                    "code": "returned_payment",
                    "text": f"returns the payment of bank line {originals[0]}",
                }
                BankLine.objects.filter(pk=line.pk).update(
                    state=LineState.APPLIED.value,
                    reasons=[note],
                    resolved_at=clock.now(),
                    resolved_by=who or "matcher",
                )
                original = BankLine.objects.get(pk=originals[0])
                original.reasons = [
                    *(original.reasons or []),
                    {"code": "returned", "text": f"returned by bank line {line.pk}"},
                ]
                original.save(update_fields=["reasons"])
            done += 1
        except DomainError:
            continue
    return done


@dataclass(frozen=True)
class Prepared:
    """What a run needs of an entity before it looks at any line: its matcher over the open items,
    customers and known payers, and the accounts' thresholds (see :func:`prepare`)."""

    entity_id: int
    matcher: CashMatcher
    thresholds: dict[str, int]
    known: set[tuple[int, str]]
    load_s: float


@gc_paused()
def prepare(entity_id: int) -> Prepared:
    """Load the entity's open items, customers, known payers and settings in bulk and build the
    matcher — the part of a run that does not depend on its lines (``pipeline`` does it while a
    file is being imported)."""
    t0 = time.perf_counter()
    settings, thresholds = settings_for_entity(entity_id)
    payers = known_payers(entity_id)
    matcher = CashMatcher(
        open_items(entity_id),
        customers(entity_id),
        payers,
        settings,
        references_from_numbers=True,
    )
    known = {(int(p.customer_id), p.iban) for p in payers}
    return Prepared(entity_id, matcher, thresholds, known, time.perf_counter() - t0)


def _run_entity(
    entity_id: int, lines: list[tuple[int, MatchLine]], who: str, prepared: Prepared | None = None
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    if prepared is None or prepared.entity_id != entity_id:
        prepared = prepare(entity_id)
    matcher, thresholds, known = prepared.matcher, prepared.thresholds, prepared.known
    t1 = time.perf_counter()
    outcomes = matcher.match_all([line for _pk, line in lines])
    t2 = time.perf_counter()
    timings.update(load_s=round(prepared.load_s, 2), match_s=round(t2 - t1, 2))
    now = clock.now()
    waiting: list[tuple[int, Outcome, LineState]] = []
    to_apply: list[tuple[int, MatchLine, Outcome]] = []
    for (pk, line), outcome in zip(lines, outcomes, strict=True):
        state = STATE_OF[outcome.status]
        if state == LineState.APPLIED:
            assert outcome.proposal is not None
            if outcome.proposal.confidence < thresholds.get(line.account, 90):
                state = LineState.PROPOSED
            else:
                to_apply.append((pk, line, outcome))
                continue
        waiting.append((pk, outcome, state))
    run = MatchRun.objects.create(entity_id=entity_id, started_at=now, lines=len(lines), created_by=who)
    applied = 0
    # Each batch's payments and its lines' states commit together: a run cut short leaves every
    # line either applied and marked, or untouched for the next run.
    for start in range(0, len(to_apply), APPLY_BATCH):
        chunk = to_apply[start : start + APPLY_BATCH]
        try:
            with transaction.atomic():
                _apply_chunk(entity_id, chunk, run.pk, who, now, known)
            applied += len(chunk)
        except DomainError:
            # One line the payments service refuses (an invoice paid meanwhile …) must not hold
            # back the others: line by line, the refused ones wait in the workbench with the reason.
            for item in chunk:
                try:
                    with transaction.atomic():
                        _apply_chunk(entity_id, [item], run.pk, who, now, known)
                    applied += 1
                except DomainError as exc:
                    pk, _line, outcome = item
                    refused = Reason(
                        "apply_refused", f"not applied automatically: {exc.message} [{exc.code}]"
                    )
                    waiting.append(
                        (pk, replace(outcome, reasons=(*outcome.reasons, refused)), LineState.PROPOSED)
                    )
    t3 = time.perf_counter()
    counts = {"applied": applied, "proposed": 0, "unidentified": 0, "not_receivable": 0}
    for _pk, _o, state in waiting:
        counts[state.value] += 1
    with transaction.atomic():
        _store(waiting, run.pk, now)
        MatchRun.objects.filter(pk=run.pk).update(finished_at=clock.now(), **counts)
    timings.update(apply_s=round(t3 - t2, 2), store_s=round(time.perf_counter() - t3, 2))
    return {"run_id": run.pk, "lines": len(lines), **counts, "timings": timings}


def _apply_chunk(
    entity_id: int,
    chunk: list[tuple[int, MatchLine, Outcome]],
    run_id: int,
    who: str,
    now: Any,
    known: set[tuple[int, str]],
) -> None:
    applying.apply_many(
        entity_id,
        [(pk, line, outcome.proposal, "auto") for pk, line, outcome in chunk if outcome.proposal is not None],
        run_id=run_id,
        actor=who or "matcher",
        known_payers=known,
    )
    _store([(pk, outcome, LineState.APPLIED) for pk, _line, outcome in chunk], run_id, now)
