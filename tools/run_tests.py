"""Run the test suites and say how many tests each ran.

1. all tests on SQLite (unit, database and browser tests);
2. the database tests again on PostgreSQL when Q2C_TEST_DATABASE_URL is set.

Under CI=true a suite that cannot run (no PostgreSQL, no Chromium) is a failure, not a skip:
tests/conftest.py turns those skips into errors. Exit status: non-zero if any suite failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

WORKERS = os.environ.get("Q2C_TEST_WORKERS", "2")


def run(name: str, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", WORKERS, "-p", "xdist", *args]
    print(f"\n=== suite {name}: {' '.join(cmd[2:])}", flush=True)
    proc = subprocess.run(
        cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
    )
    sys.stdout.write(proc.stdout)
    lines = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    kinds = [ln for ln in proc.stdout.splitlines() if ln.startswith("q2c tests passed on")]
    summary = lines[-1].strip("= ") if lines else "no summary"
    if kinds:
        summary += f" ({kinds[-1].split(': ', 1)[1]})"
    return proc.returncode, summary


def main() -> int:
    base = dict(os.environ)
    pg_url = base.pop("Q2C_TEST_DATABASE_URL", None)
    results = []
    code, summary = run("sqlite", [], base)
    results.append(("sqlite", code, summary))
    if base.get("CI") == "true" and "browser 0" in summary:
        results.append(("browser", 1, "no browser test ran under CI"))
    if pg_url:
        env = dict(base, Q2C_TEST_DATABASE_URL=pg_url, Q2C_TEST_BACKEND="postgresql")
        code, summary = run("postgresql", ["-m", "not browser"], env)
        results.append(("postgresql (database tests)", code, summary))
    elif base.get("CI") == "true":
        results.append(("postgresql", 1, "Q2C_TEST_DATABASE_URL is not set under CI"))
    print("\n=== test suites")
    failed = False
    for name, code, summary in results:
        ok = code == 0
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
