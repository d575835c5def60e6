"""Users and API clients for the tests: a user holding one role, and a client that calls the API
with a bearer token of that user. The apps' conftests wrap these in their ``make_user`` and
``api_as`` fixtures (each with its own default user names)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client


def role_user(role: str | None, username: str, password: str | None = None) -> Any:
    """A new user holding ``role`` (none for ``None``; ``admin`` is also staff and superuser).
    No password unless a test logs in with one: hashing it is the slowest part of a test."""
    user = get_user_model().objects.create_user(username, password=password)
    if role == "admin":
        user.is_staff = user.is_superuser = True
        user.save()
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def token_client(user: Any) -> Client:
    """A test client sending a new bearer token of ``user`` (``client.user``, ``client.token``)."""
    from q2c.platform.auth import ApiToken

    _, raw = ApiToken.issue(user, "tests")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    client.user = user  # type: ignore[attr-defined]
    client.token = raw  # type: ignore[attr-defined]
    return client
