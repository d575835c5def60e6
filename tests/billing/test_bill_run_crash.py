"""A real ``q2c bill-run`` process killed with SIGKILL at six points of its work, then run again,
leaves exactly what an uninterrupted run leaves: the same invoices under the same numbers, the
same totals per currency, numbers 1…N without a gap, receivables that tie to the open invoices.

The kill comes from inside the run (``Q2C_BILLRUN_CRASH_AT=point:n``, read only by
``q2c.billing.run``): before anything is billed (``start``, ``before_first_invoice``), with
numbers taken but nothing written (``numbered``), with a batch written and posted but not
committed (``posted``), between committed batches (``batch``) and while the summary is being
stored (``summary``). On SQLite the run uses a database file of its own; on PostgreSQL a database
of its own, cloned per kill from a template — with one worker, then with two (a worker killed
mid-shard).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIPTIONS = 240
POINTS = [
    ("start", 1),
    ("before_first_invoice", 1),
    ("numbered", 3),
    ("posted", 2),
    ("batch", 4),
    ("summary", 1),
]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Q2C_")}
    env.update(DJANGO_SETTINGS_MODULE="q2c.settings", Q2C_LOG_LEVEL="CRITICAL", **extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _helper(what: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = _run([sys.executable, "-m", "tests.billing.crash_helper", what, *args], env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def bill_run(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(
        [sys.executable, "-m", "q2c.cli", "bill-run", "--as-of", "2027-03-01", "--no-progress", *extra], env
    )


def _same_as_reference(
    report: dict[str, Any], reference: dict[str, Any], *, same_numbers: bool = True
) -> None:
    assert report["count"] == reference["count"]
    assert report["totals"] == reference["totals"]
    assert report["gapless"] is True
    assert report["ar"] == reference["ar"]
    assert report["ar_control"] == []
    if same_numbers:
        assert report["invoices"] == reference["invoices"]
    else:  # parallel workers interleave accounts: the same invoices, numbered in another order
        assert sorted(i[2:] for i in report["invoices"]) == sorted(i[2:] for i in reference["invoices"])
    assert [r[0] for r in report["runs"]] == ["completed"]


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_copy(source: Path, target_dir: Path) -> dict[str, str]:
    target_dir.mkdir(parents=True, exist_ok=True)
    for name in ("secret_key",):
        shutil.copy(source.parent / name, target_dir / name)
    with sqlite3.connect(source) as src, sqlite3.connect(target_dir / "q2c.sqlite3") as dst:
        src.backup(dst)
    return _env(Q2C_VAR_DIR=str(target_dir))


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("billrun")
    env = _env(Q2C_VAR_DIR=str(base / "setup"))
    _helper("setup", env, str(SUBSCRIPTIONS))
    source = base / "setup" / "q2c.sqlite3"
    ref_env = _sqlite_copy(source, base / "reference")
    done = bill_run(ref_env)
    assert done.returncode == 0, done.stderr[-3000:]
    reference = _helper("report", ref_env)
    # The data: a dozen batches, two currencies, amended customers billed twice.
    assert reference["count"] > SUBSCRIPTIONS and set(reference["totals"]) == {"EUR", "USD"}
    assert reference["gapless"] and reference["ar_control"] == []
    return source, reference


@pytest.mark.parametrize(("point", "nth"), POINTS)
def test_a_bill_run_killed_on_sqlite_and_run_again_leaves_what_an_uninterrupted_run_leaves(
    sqlite_world: tuple[Path, dict[str, Any]], tmp_path: Path, point: str, nth: int
) -> None:
    source, reference = sqlite_world
    env = _sqlite_copy(source, tmp_path / "db")
    killed = bill_run({**env, "Q2C_BILLRUN_CRASH_AT": f"{point}:{nth}"})
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stdout, killed.stderr[-2000:])
    again = bill_run(env)
    assert again.returncode == 0, again.stderr[-3000:]
    _same_as_reference(_helper("report", env), reference)


def test_a_second_run_of_the_same_date_on_sqlite_creates_nothing(
    sqlite_world: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    source, reference = sqlite_world
    env = _sqlite_copy(source, tmp_path / "db")
    assert bill_run(env).returncode == 0
    second = bill_run(env, "--json")
    assert second.returncode == 0
    assert json.loads(second.stdout)["created"] == 0
    _same_as_reference(_helper("report", env), reference)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _admin_url() -> str:
    url = os.environ.get("Q2C_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL suite)")
    return url.rsplit("/", 1)[0]


def _sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url() + "/postgres", autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="module")
def pg_world() -> tuple[str, dict[str, Any], dict[str, Any]]:
    base = _admin_url()
    source = f"q2c_billing_crash_src_{os.getpid()}"
    _sql(f"DROP DATABASE IF EXISTS {source}")
    _sql(f"CREATE DATABASE {source}")
    env = _env(Q2C_DATABASE_URL=f"{base}/{source}", Q2C_VAR_DIR=str(Path("/tmp") / source))
    _helper("setup", env, str(SUBSCRIPTIONS))
    references = {}
    for workers in (1, 2):
        name = f"{source}_ref{workers}"
        _sql(f"DROP DATABASE IF EXISTS {name}")
        _sql(f"CREATE DATABASE {name} TEMPLATE {source}")
        ref_env = {**env, "Q2C_DATABASE_URL": f"{base}/{name}"}
        done = bill_run(ref_env, "--workers", str(workers))
        assert done.returncode == 0, done.stderr[-3000:]
        references[workers] = _helper("report", ref_env)
        _sql(f"DROP DATABASE {name}")
    yield source, env, references
    _sql(f"DROP DATABASE IF EXISTS {source}")


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("point", "nth"), POINTS)
def test_a_bill_run_killed_on_postgresql_and_run_again_leaves_what_an_uninterrupted_run_leaves(
    pg_world: tuple[str, dict[str, str], dict[int, dict[str, Any]]], point: str, nth: int, workers: int
) -> None:
    source, env, references = pg_world
    name = f"{source}_{point}_{workers}"
    _sql(f"DROP DATABASE IF EXISTS {name}")
    _sql(f"CREATE DATABASE {name} TEMPLATE {source}")
    try:
        run_env = {**env, "Q2C_DATABASE_URL": f"{_admin_url()}/{name}"}
        killed = bill_run({**run_env, "Q2C_BILLRUN_CRASH_AT": f"{point}:{nth}"}, "--workers", str(workers))
        if workers == 1 or point in ("start", "summary"):
            # The coordinator itself was killed (its workers die with it).
            assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
        else:
            # A worker was killed: the coordinator reports the run failed (exit 2), batches stand.
            assert killed.returncode == 2, (killed.returncode, killed.stderr[-2000:])
            assert "run it again" in killed.stderr
        again = bill_run(run_env, "--workers", str(workers))
        assert again.returncode == 0, again.stderr[-3000:]
        _same_as_reference(_helper("report", run_env), references[workers], same_numbers=workers == 1)
    finally:
        _sql(f"DROP DATABASE IF EXISTS {name}")
