"""Suite-wide test set-up.

- Decimal's FloatOperation trap is on: a float sneaking into Decimal arithmetic fails the test.
- The business clock is reset around every test.
- Tests marked ``postgres`` run only against PostgreSQL (Q2C_TEST_DATABASE_URL); in the PostgreSQL
  suite only database tests run (pure tests ran already on SQLite).
- Under CI=true a suite that cannot run is an error, not a skip.
"""

from __future__ import annotations

import decimal
import os
from collections import Counter

import pytest

from q2c.core import clock

# The PostgreSQL suite: named by tools/run_tests.py, or implied by a PostgreSQL test database URL
# (settings use that URL whatever the backend name says, so the label and the skips follow it).
ON_POSTGRES = os.environ.get("Q2C_TEST_BACKEND") == "postgresql" or os.environ.get(
    "Q2C_TEST_DATABASE_URL", ""
).startswith(("postgres://", "postgresql://"))
IN_CI = os.environ.get("CI") == "true"


def _trap_floats() -> None:
    decimal.getcontext().traps[decimal.FloatOperation] = True


def pytest_configure(config: pytest.Config) -> None:
    _trap_floats()


@pytest.fixture(autouse=True)
def _float_trap_and_clock():
    _trap_floats()
    clock.install(None)
    yield
    clock.install(None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        keep = [i for i in items if i.get_closest_marker("django_db") or i.get_closest_marker("postgres")]
        deselected = [i for i in items if i not in keep]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = keep
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL suite)"))


_passed: Counter[str] = Counter()


def _kind(report: pytest.TestReport) -> str:
    if "browser" in report.keywords:
        return "browser"
    if "django_db" in report.keywords or "postgres" in report.keywords:
        return "database"
    return "unit"


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    backend = "postgresql" if ON_POSTGRES else "sqlite"
    parts = ", ".join(f"{kind} {_passed[kind]}" for kind in ("unit", "database", "browser"))
    print(f"\nq2c tests passed on {backend}: {parts}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _passed[_kind(report)] += 1
    if IN_CI and report.skipped and report.when in ("setup", "call"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "runs in the PostgreSQL suite" in reason:
            return
        # Under CI nothing may be skipped for want of a service or a browser.
        if any(word in reason.lower() for word in ("chromium", "postgres", "browser", "not installed")):
            report.outcome = "failed"
            report.longrepr = f"under CI a suite that cannot run is a failure: {reason}"
