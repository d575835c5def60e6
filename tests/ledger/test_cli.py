"""The console script itself: `q2c ledger check` exits 0 on a consistent ledger and non-zero,
naming the entry, when a row was changed in the database; `q2c ledger export` writes a file
bean-check accepts. Runs `python -m q2c` in a child process against its own SQLite file."""

import os
import subprocess
import sys
from pathlib import Path

SEED = """
from datetime import date
from q2c.core import clock
from q2c.core.money import Money
from q2c.ledger import services
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
services.open_book(1, "EUR", name="Acme Cloud GmbH")
# Accounts of the test's own, so no other app's registered check (AR control …) is concerned.
asset = services.create_account(1, code="9000", name="Test asset", type="asset")
income = services.create_account(1, code="9100", name="Test income", type="revenue")
for i, amount in enumerate(["100.00", "250.00"], start=1):
    services.post(EntryDraft(1, date(2027, 3, i), f"DOC-{i}", SourceRef("tests", "doc", i),
        (DraftLine.dr(asset.pk, Money(amount, "EUR")), DraftLine.cr(income.pk, Money(amount, "EUR")))))
with clock.use(clock.SimulationClock(date(2027, 4, 1))):
    services.close_period(1, "2027-03")
"""
TAMPER = """
from django.db import connection
with connection.cursor() as cur:
    cur.execute("DROP TRIGGER ledger_line_immutable")
    cur.execute("UPDATE ledger_line SET debit_minor = 26000 WHERE debit_minor = 25000")
"""


def q2c(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, Q2C_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="q2c.settings")
    for name in ("Q2C_TEST_DATABASE_URL", "Q2C_DATABASE_URL", "Q2C_TEST_BACKEND"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "q2c", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_ledger_check_and_export_through_the_console_script(tmp_path):
    assert q2c(tmp_path, "migrate", "--no-input", "-v", "0").returncode == 0
    assert q2c(tmp_path, "shell", "-c", SEED).returncode == 0

    ok = q2c(tmp_path, "ledger", "check", "--as-of", "2027-04-01")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok   ledger.entries_balance" in ok.stdout

    out = tmp_path / "acme.beancount"
    export = q2c(tmp_path, "ledger", "export", "--format", "beancount", "-o", str(out))
    assert export.returncode == 0, export.stderr
    bean = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(out)], capture_output=True, text=True
    )
    assert bean.returncode == 0, bean.stdout + bean.stderr

    assert q2c(tmp_path, "shell", "-c", TAMPER).returncode == 0
    bad = q2c(tmp_path, "ledger", "check")
    assert bad.returncode == 1
    assert "JE-2027-000002 (entity 1) does not balance: debits 260.00 EUR ≠ credits 250.00 EUR" in bad.stdout
    assert "period 2027-03 of entity 1 was changed after it was closed" in bad.stdout
    assert "ledger check failed" in bad.stderr
