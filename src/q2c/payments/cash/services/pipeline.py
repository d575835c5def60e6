"""``q2c bank import``: a statement file imported and matched, on both of the machine's cores.

Storing a file's lines (parsing, duplicate checks, one bulk insert) and loading what matching
needs (every open invoice of the entity, its customers and payers, the matcher's indexes) do not
depend on each other, and each takes seconds on a large ledger. When another process can see
this one's commits — a SQLite file or PostgreSQL, outside any transaction of the caller — and the
file's legal entity can be known beforehand (the bank account was named, or a single entity holds
bank accounts), a forked child imports the file while this process prepares the matcher; then the
lines are matched and applied here, exactly as :func:`matching.run_matching` does them.

The child only saves time: it runs the same :func:`importing.import_file` (all or nothing), and
if it fails in any way, or reports a file of another entity, this process simply does the step
itself, sequentially — the same errors, the same report. Anywhere else (in-memory databases, a
caller's open transaction, platforms without ``fork``) it is sequential from the start.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from django.db import connection, connections

from q2c.parties.models import BankAccount
from q2c.payments.cash.services import importing, matching


def entity_of_import(bank_account_id: int | None) -> int | None:
    """The legal entity a file will be imported for, when it can be told before reading it."""
    accounts = (
        BankAccount.objects.all()
        if bank_account_id is None
        else BankAccount.objects.filter(pk=bank_account_id)
    )
    entities = set(accounts.values_list("entity_id", flat=True).distinct()[:2])
    return entities.pop() if len(entities) == 1 else None


def _can_fork() -> bool:
    if "fork" not in multiprocessing.get_all_start_methods() or connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite":
        return not connection.is_in_memory_db()  # type: ignore[attr-defined]
    return connection.vendor == "postgresql"


def _child(send: Any, data: bytes, options: dict[str, Any]) -> None:
    try:
        report = importing.import_file(data, **options)
    except BaseException as exc:  # told to the parent, which then does the step itself
        send.send(("failed", repr(exc)))
    else:
        send.send(("ok", report))
    finally:
        connections.close_all()
        send.close()


def import_and_match(
    data: bytes,
    *,
    file_name: str = "",
    bank_account_id: int | None = None,
    csv_mapping: Any = None,
    match: bool = True,
    actor: Any = None,
) -> dict[str, Any]:
    """:func:`importing.import_file` then (``match`` and lines saved) :func:`matching.run_matching`
    over the file's lines; the report of the import with the run under ``"matching"``."""
    options = {
        "file_name": file_name,
        "bank_account_id": bank_account_id,
        "csv_mapping": csv_mapping,
        "actor": actor,
    }
    entity_id = entity_of_import(bank_account_id) if match and _can_fork() else None
    report: dict[str, Any] | None = None
    prepared = None
    if entity_id is not None:
        report, prepared = _import_beside_prepare(data, options, entity_id)
    if report is None:
        report = importing.import_file(data, **options)
    if match and report["saved_lines"]:
        report["matching"] = matching.run_matching(
            entity_id=None, file_id=report["file_id"], actor=actor, prepared=prepared
        )
    return report


def _import_beside_prepare(
    data: bytes, options: dict[str, Any], entity_id: int
) -> tuple[dict[str, Any] | None, matching.Prepared | None]:
    """The import in a forked child, the matcher prepared here meanwhile; (None, …) when the
    child did not import (the caller then imports itself)."""
    connections.close_all()  # the child opens its own connection; never share one across a fork
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_child, args=(send, data, options), name="q2c-bank-import", daemon=True
    )
    child.start()
    send.close()
    try:
        prepared = matching.prepare(entity_id)
        try:
            outcome, value = receive.recv()
        except EOFError:  # the child died without a word
            outcome, value = "failed", None
    finally:
        child.join()
        receive.close()
    if outcome != "ok":
        return None, prepared
    return value, prepared
