"""Reaching past the ledger, as someone with database access could: the immutability triggers
(migration 0002) are dropped or disabled inside the test's transaction, which rolls back."""

from __future__ import annotations

from django.db import connection


def drop_guard() -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferred; ALTER TABLE needs them checked first.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in ("ledger_entry", "ledger_line"):
            if connection.vendor == "postgresql":
                cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
            else:
                cur.execute(f"DROP TRIGGER {table}_immutable")


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params or [])
