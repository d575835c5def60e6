"""Fixtures of the tax tests: the shipped rule set, read from the CSV files (no database)."""

from __future__ import annotations

import pytest

from q2c.tax.csvio import shipped_ruleset
from q2c.tax.engine import RuleSet


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return shipped_ruleset()


@pytest.fixture
def api_as(db):
    """``api_as("finance")``: a test client calling the API with a bearer token of a new user
    holding that role (``None``: no role)."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from q2c.platform.auth import ApiToken

    made = iter(range(1000))

    def make(role: str | None) -> Client:
        user = User.objects.create_user(f"{role or 'nobody'}-{next(made)}")  # no password: no slow hashing
        if role:
            user.groups.add(Group.objects.get(name=role))
        _, raw = ApiToken.issue(user, "tests")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make
