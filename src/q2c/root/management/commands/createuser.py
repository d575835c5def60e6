"""q2c createuser NAME --role ROLE [--password P]: create a user with one of q2c's roles."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from q2c.platform.commands import Q2CCommand
from q2c.platform.roles import Role


class Command(Q2CCommand):
    help = "Create a user with a role (admin, sales_rep, sales_manager, finance, viewer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role], action="append")
        parser.add_argument("--password", help="default: a random password, printed once")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args: Any, **opts: Any) -> None:
        User = get_user_model()
        name = opts["username"].strip()
        if not name or User.objects.filter(username=name).exists():
            raise CommandError(f"user '{name}' exists already or is empty", returncode=2)
        password = opts["password"] or secrets.token_urlsafe(12)
        user = User.objects.create_user(name, email=opts["email"], password=password)
        if Role.ADMIN in opts["role"]:
            user.is_staff = True
            user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        for role in opts["role"]:
            user.groups.add(Group.objects.get(name=role))
        self.stdout.write(f"created {name} ({', '.join(opts['role'])})")
        if not opts["password"]:
            self.stdout.write(f"password: {password}")
