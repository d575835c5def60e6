"""Fixtures of the tax tests: the shipped rule set, read from the CSV files (no database)."""

from __future__ import annotations

import pytest

from q2c.tax.csvio import shipped_ruleset
from q2c.tax.engine import RuleSet


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return shipped_ruleset()
