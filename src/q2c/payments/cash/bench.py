"""``q2c bench cash --lines N --open-items M [--json]``: cash application end to end, writes included.

Setup (reported apart as ``setup_s``): the pure generator of :mod:`q2c.payments.matching.benchmark`
makes M open invoices of M/10 customers and N bank lines with issue 14's noise mix and known truth;
the customers, the issued invoices (bulk rows, as a bill run leaves them) and the payers learned
from earlier payments are written to the database, and the lines to a camt.053.001.08 file.

Timed (``seconds``): ``q2c bank import FILE --json`` through ``call_command`` — the CLI's own
path: parse, store statements and lines (in a forked child, while this process loads the open
items in bulk: ``services.pipeline``), match, apply every automatic match through the payments
service (one payment per line with its applications, postings and events), store the rest for the
workbench. ``cpu_s`` counts both processes and the checkpointing thread.

Scored from the database afterwards: each line's automatic applications (``payments_cash_application``
rows, how = auto) against the generator's truth. Run it on a fresh database (``Q2C_VAR_DIR`` of its
own, or a new PostgreSQL database): the bench's bank account must be the only one with its IBAN.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

import gc
import json
import resource
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connection, models, transaction

from q2c.core import clock
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import Invoice
from q2c.invoicing.services.common import db_date, db_datetime, write_rows
from q2c.parties.models import Account, BankAccount
from q2c.payments.cash.models import BankLine, CashApplication, KnownPayer
from q2c.payments.cash.services import accounts
from q2c.payments.matching import benchmark as pure

BENCH_IBAN = "DE02120300000000202051"
AS_OF = date(2027, 6, 30)
BATCH = 50_000


def add_arguments(parser: Any) -> None:
    pure.add_arguments(parser)


def _seller() -> Any:
    from q2c.parties import services as parties

    entity = parties.create_entity(
        actor="bench", name="Cash Bench GmbH", address_line1="Friedrichstraße 100", postal_code="10117",
        city="Berlin", country="DE", base_currency="EUR", time_zone="Europe/Berlin", tax_id="DE136457858",
        payment_terms_days=30,
    )  # fmt: skip
    parties.add_bank_account(entity.pk, actor="bench", iban=BENCH_IBAN, currency="EUR")
    bank = BankAccount.objects.get(entity=entity, iban=BENCH_IBAN)
    accounts.update_settings(bank.pk, fee_tolerance=str(pure.TOLERANCE.amount), actor="bench")
    return entity


def _template_row(model: type[models.Model], obj: models.Model) -> tuple[list[str], list[Any]]:
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(obj, field.attname)
        if isinstance(field, models.JSONField):
            value = json.dumps(value)
        elif isinstance(value, datetime):
            value = db_datetime(value)
        elif isinstance(value, date):
            value = db_date(value)
        columns.append(field.column)
        values.append(value)
    return columns, values


def _write_customers(entity_id: int, data: pure.BenchData) -> dict[Any, int]:
    now = clock.now()
    template = Account(
        entity_id=entity_id, name="x", country="DE", currency="EUR", created_at=now, updated_at=now
    )
    columns, values = _template_row(Account, template)
    at = columns.index("name")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Account._meta.db_table}")  # noqa: S608
        start = int(cursor.fetchone()[0]) + 1
    ids = {c.customer_id: start + n for n, c in enumerate(data.customers)}
    rows = []
    for c in data.customers:
        row = list(values)
        row[at] = c.name
        rows.append((ids[c.customer_id], *row))
    for i in range(0, len(rows), BATCH):
        write_rows(Account._meta.db_table, ["id", *columns], rows[i : i + BATCH], ready=True)
    _reset_sequence(Account)
    return ids


def _write_invoices(entity_id: int, data: pure.BenchData, customer_ids: dict[Any, int]) -> int:
    """The open items as issued invoices; returns the id offset (invoice id = item id + offset)."""
    now = clock.now()
    template = Invoice(
        entity_id=entity_id, account_id=1, status=InvoiceStatus.ISSUED.value, number="x", year=2027, seq=1,
        currency="EUR", issue_date=date(2027, 1, 1), due_date=date(2027, 1, 31), base_currency="EUR",
        created_at=now, updated_at=now, issued_at=now, origin="bill_run",
    )  # fmt: skip
    columns, values = _template_row(Invoice, template)
    where = {
        name: columns.index(name)
        for name in (
            "account_id",
            "number",
            "seq",
            "due_date",
            "net_minor",
            "total_minor",
            "net_base_minor",
            "total_base_minor",
        )
    }
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Invoice._meta.db_table}")  # noqa: S608
        offset = int(cursor.fetchone()[0])
    rows = []
    for item in data.items:
        row = list(values)
        row[where["account_id"]] = customer_ids[item.customer_id]
        row[where["number"]] = item.number
        row[where["seq"]] = int(item.item_id)
        row[where["due_date"]] = db_date(item.due_date)
        for key in ("net_minor", "total_minor", "net_base_minor", "total_base_minor"):
            row[where[key]] = item.open_minor
        rows.append((int(item.item_id) + offset, *row))
        if len(rows) == BATCH:
            write_rows(Invoice._meta.db_table, ["id", *columns], rows, ready=True)
            rows = []
    write_rows(Invoice._meta.db_table, ["id", *columns], rows, ready=True)
    _reset_sequence(Invoice)
    return offset


def _reset_sequence(model: type[models.Model]) -> None:
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608
        cursor.execute(sql, [table])


def setup(lines: int, open_items: int, seed: int) -> tuple[pure.BenchData, Path, int]:
    data = pure.generate(lines, open_items, seed=seed)
    with transaction.atomic():
        entity = _seller()
        customer_ids = _write_customers(entity.pk, data)
        offset = _write_invoices(entity.pk, data, customer_ids)
        KnownPayer.objects.bulk_create(
            [
                KnownPayer(account_id=customer_ids[p.customer_id], iban=p.iban, name=p.name or "")
                for p in data.payers
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
    path = Path(tempfile.mkdtemp(prefix="q2c-cash-bench-")) / "bench.camt053.xml"
    path.write_bytes(pure.camt053_document(data.lines, account=BENCH_IBAN))
    return data, path, offset


def score(data: pure.BenchData, file_id: int, offset: int) -> dict[str, Any]:
    """Automatic applications in the database against the generator's truth."""
    lines = dict(
        BankLine.objects.filter(statement__file_id=file_id)
        .values_list("id", "end_to_end_id")
        .iterator(chunk_size=20_000)
    )
    applied: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for line_id, invoice_id, amount, fee in (
        CashApplication.objects.filter(line_id__in=list(lines), how="auto")
        .values_list("line_id", "invoice_id", "amount_minor", "fee_minor")
        .iterator(chunk_size=20_000)
    ):
        applied[line_id].append((invoice_id - offset, amount, fee))
    with_truth = auto_true = auto = correct = 0
    for line_id, key in lines.items():
        expected = data.truth.get(key)
        got = tuple(sorted(applied[line_id])) if line_id in applied else None
        if expected is not None:
            with_truth += 1
            auto_true += got is not None
        if got is not None:
            auto += 1
            correct += got == expected
    return {
        "auto_matched_pct": round(100 * auto_true / with_truth, 2) if with_truth else 0.0,
        "precision_pct": round(100 * correct / auto, 3) if auto else 100.0,
        "auto_applied": auto,
        "auto_wrong": auto - correct,
        "lines_stored": len(lines),
    }


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(**options: Any) -> dict[str, Any]:
    n_lines, n_items, seed = options["lines"], options["open_items"], options.get("seed") or 2027
    with clock.use(clock.SimulationClock(AS_OF, default_tz="Europe/Berlin")):
        t0 = time.perf_counter()
        data, path, offset = setup(n_lines, n_items, seed)
        gc.collect()
        setup_s = time.perf_counter() - t0
        out = StringIO()
        cpu0 = _cpu()
        t1 = time.perf_counter()
        call_command("bank", "import", str(path), "--json", stdout=out)
        seconds = time.perf_counter() - t1
        cpu1 = _cpu()
    report = json.loads(out.getvalue())
    path.unlink()
    scores = score(data, report["file_id"], offset)
    return {
        "lines": n_lines,
        "open_items": n_items,
        "seconds": round(seconds, 2),
        "auto_matched_pct": scores["auto_matched_pct"],
        "precision_pct": scores["precision_pct"],
        "setup_s": round(setup_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # this process's threads and the import's forked child (services.pipeline), user + system
        "cpu_s": round(cpu1 - cpu0, 2),
        "backend": connection.vendor,
        "auto_applied": scores["auto_applied"],
        "auto_wrong": scores["auto_wrong"],
        "lines_stored": scores["lines_stored"],
        "matching": report.get("matching"),
        "applications_written": True,
    }
