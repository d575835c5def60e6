"""Callers for the access tests: nobody, or a user holding exactly one role.

Admins are made the way ``q2c createuser --role admin`` makes them (staff superusers, so the
Django admin opens for them); every other role is a plain user in that role's group.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from q2c.platform.auth import ApiToken

ANONYMOUS = "anonymous"


@pytest.fixture
def caller(db: Any):
    def make(principal: str, *, api: bool) -> Client:
        if principal == ANONYMOUS:
            return Client()
        user = get_user_model().objects.create_user(f"access-{principal}")
        if principal == "admin":
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        user.groups.add(Group.objects.get(name=principal))
        if api:
            _, raw = ApiToken.issue(user, "access tests")
            return Client(headers={"Authorization": f"Bearer {raw}"})
        client = Client()
        client.force_login(user)
        return client

    return make
