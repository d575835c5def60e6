"""WAL checkpoints from a second thread during bulk writes (q2c.platform.checkpoints)."""

import sqlite3
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from q2c.platform import checkpoints


def _wal_db(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    return db


def _write(db, batches=3, rows=200):
    for b in range(batches):
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO t (body) VALUES (?)", [(bytes([b]) * 2000,) for _ in range(rows)])
        db.execute("COMMIT")


def _rows_in_the_database_file(path):
    """What the database file itself holds, the write-ahead log ignored (immutable=1)."""
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return db.execute("SELECT count(*) FROM t").fetchone()[0]
    except sqlite3.OperationalError:  # the table is still only in the log
        return None
    finally:
        db.close()


@contextmanager
def _file_connection(path, pragmas, monkeypatch):
    """The driver connection of a Django SQLite connection to a WAL file database, made the
    module's writer connection for the block."""
    settings = {**connection.settings_dict, "NAME": str(path), "TEST": {}}
    settings["OPTIONS"] = {"init_command": f"PRAGMA journal_mode=WAL; {pragmas}"}
    wrapper = DatabaseWrapper(settings, alias=f"checkpoints-{path.stem}")
    monkeypatch.setattr(checkpoints, "connection", wrapper)
    try:
        wrapper.ensure_connection()
        yield wrapper.connection
    finally:
        wrapper.close()


def test_without_a_checkpointer_the_log_is_not_copied_back(tmp_path):
    path = tmp_path / "a.sqlite3"
    db = _wal_db(path)
    _write(db)
    assert _rows_in_the_database_file(path) is None
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 600


def test_the_checkpointer_copies_every_committed_page_while_the_writer_goes_on(tmp_path):
    path = tmp_path / "b.sqlite3"
    db = _wal_db(path)
    worker = checkpoints.Checkpointer(path, interval=0.01).start()
    _write(db)
    worker.stop()
    assert worker.error is None and worker.runs >= 1
    # The last checkpoint ran after the last commit: the database file holds every row.
    assert _rows_in_the_database_file(path) == 600


def test_an_unopenable_database_leaves_the_writer_alone(tmp_path):
    worker = checkpoints.Checkpointer(tmp_path / "missing" / "x.sqlite3", interval=0.01).start()
    worker.stop()
    assert isinstance(worker.error, sqlite3.Error) and worker.runs == 0


@pytest.mark.django_db
def test_nothing_changes_for_postgresql_or_the_tests_in_memory_sqlite_database():
    with checkpoints.background_checkpoints() as worker:
        assert worker is None


@pytest.mark.django_db
def test_a_file_database_is_checkpointed_in_the_background_and_its_setting_restored(tmp_path, monkeypatch):
    with _file_connection(tmp_path / "c.sqlite3", "PRAGMA wal_autocheckpoint=500;", monkeypatch) as raw:
        raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        with checkpoints.background_checkpoints(interval=0.01) as worker:
            assert worker is not None
            assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            with checkpoints.background_checkpoints() as inner:
                assert inner is None  # nested: the outer one does the work
            for b in range(3):
                raw.executemany("INSERT INTO t (body) VALUES (?)", [(bytes([b]) * 2000,) for _ in range(200)])
                raw.commit()
        assert worker.error is None and worker.runs >= 1
        assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 500
        assert _rows_in_the_database_file(tmp_path / "c.sqlite3") == 600


@pytest.mark.django_db
def test_the_writers_page_cache_is_raised_for_the_block_and_restored(tmp_path, monkeypatch):
    with _file_connection(tmp_path / "d.sqlite3", "PRAGMA cache_size=-2048;", monkeypatch) as raw:
        with checkpoints.background_checkpoints(interval=0.01, cache_mib=64):
            assert raw.execute("PRAGMA cache_size").fetchone()[0] == -65536  # 64 MiB in KiB
        assert raw.execute("PRAGMA cache_size").fetchone()[0] == -2048
        # A cache already larger is left alone; one given in pages (4 KiB each) is read as such.
        raw.execute("PRAGMA cache_size=50000")  # 50,000 pages = 195 MiB
        with checkpoints.background_checkpoints(interval=0.01, cache_mib=64):
            assert raw.execute("PRAGMA cache_size").fetchone()[0] == 50000
        raw.execute("PRAGMA cache_size=1000")  # 1,000 pages = ~3.9 MiB
        with checkpoints.background_checkpoints(interval=0.01, cache_mib=64):
            assert raw.execute("PRAGMA cache_size").fetchone()[0] == -65536
        assert raw.execute("PRAGMA cache_size").fetchone()[0] == 1000
