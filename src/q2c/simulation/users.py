"""Demo users, one per role, with a password generated at seed time and printed once.

The password is also written to ``<var>/demo-login.txt`` (owner-only) so ``make run`` can show
the login again; nothing secret is kept in the repository.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

DEMO_USERS = [
    ("admin", "admin", "Ada", "Admin"),
    ("rita", "sales_rep", "Rita", "Rep"),
    ("max", "sales_manager", "Max", "Manager"),
    ("fiona", "finance", "Fiona", "Finance"),
    ("victor", "viewer", "Victor", "Viewer"),
]


@transaction.atomic
def seed_users(stdout: Any = None, **_: Any) -> str:
    User = get_user_model()
    password = secrets.token_urlsafe(9)
    for username, role, first, last in DEMO_USERS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        user.set_password(password)
        if role == "admin":
            user.is_staff = user.is_superuser = True
        user.save()
        user.groups.add(Group.objects.get(name=role))
    path = os.path.join(settings.VAR_DIR, "demo-login.txt")
    os.makedirs(settings.VAR_DIR, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"users: {', '.join(u for u, *_ in DEMO_USERS)}\npassword: {password}\n")
    if stdout is not None:
        stdout.write(f"demo login: admin / {password} (also rita, max, fiona, victor) — saved in {path}")
    return password
