"""Shared helpers of the invoicing use cases: actors, settings, payment terms, row locks, and the
bulk writer of the issue path (explicit ids, one COPY on PostgreSQL, one ``executemany`` on SQLite).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet

from q2c.invoicing import errors
from q2c.invoicing.domain import PaymentTerms, TermsBasis
from q2c.invoicing.models import AccountInvoicing, Invoice, InvoicingSettings
from q2c.parties.models import LegalEntity


def actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor[:150]
    getter = getattr(actor, "get_username", None)
    return str(getter() if getter else actor)[:150]


def settings_for(entity_id: int) -> InvoicingSettings:
    found = InvoicingSettings.objects.filter(entity_id=entity_id).first()
    return found if found is not None else InvoicingSettings(entity_id=entity_id)


def settings_map(entity_ids: Sequence[int]) -> dict[int, InvoicingSettings]:
    have = {s.entity_id: s for s in InvoicingSettings.objects.filter(entity_id__in=set(entity_ids))}
    return {e: have.get(e) or InvoicingSettings(entity_id=e) for e in set(entity_ids)}


def account_settings(account_ids: Sequence[int]) -> dict[int, AccountInvoicing]:
    return {a.account_id: a for a in AccountInvoicing.objects.filter(account_id__in=set(account_ids))}


def terms(
    entity: LegalEntity | None,
    entity_settings: InvoicingSettings,
    account_days: int | None,
    account_basis: str = "",
    *,
    days: int | None = None,
    entity_days: int | None = None,
) -> PaymentTerms:
    """Payment terms of an invoice: days given (a contract's), else the account's, else the
    entity's; basis (net / end of month) the account's, else the entity's setting."""
    chosen = days if days is not None else account_days
    if chosen is None:
        chosen = entity_days if entity_days is not None else (entity.payment_terms_days if entity else 30)
    basis = account_basis or entity_settings.terms_basis or TermsBasis.NET
    return PaymentTerms(int(chosen), TermsBasis(basis))


def formats_of(setting: str) -> list[str]:
    return [f.strip() for f in (setting or "").split(",") if f.strip()]


def locked(query: QuerySet[Any], pk: Any) -> Any:
    if connection.features.has_select_for_update:
        query = query.select_for_update(of=("self",))
    found = query.filter(pk=pk).first()
    if found is None:
        raise errors.InvoiceNotFound(f"no {query.model._meta.verbose_name} {pk}", field="id")
    return found


def lock_invoice(pk: Any) -> Invoice:
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise errors.InvoiceNotFound(f"no invoice {pk}", field="invoice_id")
    return locked(Invoice.objects.all(), pk)  # type: ignore[no-any-return]


# --- bulk writes (the bill run's issue path) ------------------------------------------------------


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` primary keys for rows about to be written with explicit ids.

    PostgreSQL: from the table's identity sequence (safe beside concurrent writers). SQLite: the
    writer holds the database's write lock for the whole transaction (IMMEDIATE), so max(id) + 1
    onwards is ours.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [int(r[0]) for r in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def adapt(value: Any) -> Any:
    """A Python value as the SQLite driver should receive it (Django's own adaptation)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def db_date(value: date | None) -> str | None:
    """A date as both backends take it in bulk writes (ISO text, as Django stores it on SQLite)."""
    return None if value is None else value.isoformat()


def db_datetime(value: datetime) -> Any:
    """A timestamp as the backend takes it (naive UTC text on SQLite); convert once per batch."""
    return connection.ops.adapt_datetimefield_value(value)


def write_rows(
    table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], *, ready: bool = False
) -> None:
    """Insert ``rows``: one COPY on PostgreSQL, one ``executemany`` on SQLite (a C loop in-process).

    Table and column names are module constants, quoted; values are parameters. JSON columns are
    passed as JSON text. ``ready``: the values are database-ready already (dates through
    :func:`db_date`, timestamps through :func:`db_datetime`) — the hot path; otherwise each value
    is adapted here.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    start = time.perf_counter()
    if connection.vendor == "postgresql":
        sql = f"COPY {qn(table)} ({names}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        if connection.queries_logged:
            connection.queries_log.append(
                {"sql": f"{len(rows)} rows: {sql}", "time": f"{time.perf_counter() - start:.3f}"}
            )
        return
    sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows if ready else [tuple(adapt(v) for v in row) for row in rows])
