"""WAL checkpoints off the writer's path during long bulk writes on SQLite.

In WAL mode SQLite appends each commit's pages to the write-ahead log; the commit that takes the
log past ``wal_autocheckpoint`` pages (1,000 by default) then copies the log into the database
file and syncs both files (``synchronous=NORMAL`` syncs at checkpoints only) — inside that
commit, on the thread that is doing the work. A bank run that commits 100,000 payments in ten
batches waited seconds at each of them for writes and syncs of pages it had already committed.

:func:`background_checkpoints` turns the automatic checkpoint off for the duration and lets a
second connection, on a thread of its own, run ``PRAGMA wal_checkpoint(PASSIVE)`` every
``interval`` seconds: the same copies and the same syncs, at the same durability (a checkpoint
syncs the log before copying it and the database after), while the writer goes on. A passive
checkpoint never blocks the writer, and SQLite releases Python's interpreter lock while it runs,
so the copying and the waiting for the disk use the machine's other core. On leaving, a last
checkpoint runs and is waited for (the work is not left to whoever writes next) and the
writer's own setting is restored.

A bulk write also reads and dirties pages all over large tables and indexes (a bank run: invoice
rows and their status indexes across a million invoices). ``cache_mib`` raises the writer's page
cache for the block (restored on leaving): with the default 128 MiB the run's dirty pages
overflowed it mid-transaction (written to the log early, then again) and pages it had just read
were read from the file again. The cache grows only as pages are used.

On PostgreSQL, and for in-memory SQLite databases (tests),
nothing changes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

_active = threading.local()


class Checkpointer:
    """Runs passive checkpoints of the SQLite database at ``path`` on a daemon thread."""

    def __init__(self, path: str | Path, interval: float = 1.0, *, timeout: float = 30) -> None:
        self.path = str(path)
        self.interval = interval
        self.timeout = timeout
        self.runs = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="q2c-wal-checkpoint", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Run a last checkpoint and wait for it."""
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False)
        except sqlite3.Error as exc:  # the writer goes on; its own checkpoints come back on leaving
            self.error = exc
            return
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            while True:
                stopping = self._stop.wait(self.interval)
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.runs += 1
                if stopping:
                    return
        except sqlite3.Error as exc:
            self.error = exc
        finally:
            db.close()


def _file_database() -> str | None:
    """The writer connection's database file, or None (PostgreSQL, in-memory SQLite)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return None
    return name


@contextmanager
def background_checkpoints(
    interval: float = 1.0, *, cache_mib: int | None = None
) -> Iterator[Checkpointer | None]:
    """Checkpoint the SQLite database from another thread while the block writes (see the module),
    the writer's page cache at least ``cache_mib`` MiB meanwhile; yields the :class:`Checkpointer`,
    or None where nothing changes. Nested uses share the outer one.

    ``interval``: seconds between checkpoints. Each one copies what the log holds; done every
    quarter second in a bank run, the copying met the writer's own reads of the same file and
    slowed them (the invoices' reads of a batch took ~6 times as long as with no checkpointer)."""
    path = _file_database()
    if path is None or getattr(_active, "on", False):
        yield None
        return
    # The driver's own connection: pragmas are not part of any transaction, and on the way out
    # this must work even inside a caller's transaction that an error has marked for rollback.
    connection.ensure_connection()
    raw: Any = connection.connection
    if str(raw.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        yield None
        return
    previous = int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    raw.execute("PRAGMA wal_autocheckpoint=0")
    cache = int(raw.execute("PRAGMA cache_size").fetchone()[0])  # pages if > 0, KiB if < 0
    if cache_mib is not None and _cache_kib(raw, cache) < cache_mib * 1024:
        raw.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
    worker = Checkpointer(path, interval).start()
    _active.on = True
    try:
        yield worker
    finally:
        _active.on = False
        worker.stop()
        raw.execute(f"PRAGMA wal_autocheckpoint={previous}")
        raw.execute(f"PRAGMA cache_size={cache}")


def _cache_kib(raw: Any, cache_size: int) -> int:
    """``PRAGMA cache_size`` in KiB (a positive value counts pages)."""
    if cache_size < 0:
        return -cache_size
    return cache_size * int(raw.execute("PRAGMA page_size").fetchone()[0]) // 1024
