"""q2c close-period YYYY-MM [--entity ID]: recognise to the month end and post, check that nothing
is left unposted and that the ledger checks pass, then lock the revenue and the ledger period.
``--reopen --reason TEXT --user NAME`` reopens a closed month (the user must be an admin; logged).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from q2c.core.errors import DomainError
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Close a month: recognise, post, check, lock (q2c close-period YYYY-MM)."
    takes_as_of = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("period", metavar="YYYY-MM")
        parser.add_argument(
            "--entity", type=int, default=None, help="legal entity id (default: every entity)"
        )
        parser.add_argument("--reopen", action="store_true", help="reopen the closed month instead (admin)")
        parser.add_argument("--user", default="", help="with --reopen: the admin reopening it")
        parser.add_argument("--reason", default="", help="with --reopen: why (logged)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        from q2c.ledger.models import Book
        from q2c.revenue import services

        entities = (
            [opts["entity"]] if opts.get("entity") else list(Book.objects.values_list("entity_id", flat=True))
        )
        results = []
        try:
            if opts["reopen"]:
                user = get_user_model().objects.filter(username=opts["user"]).first()
                if user is None:
                    raise CommandError(
                        f"no user '{opts['user']}' (--user NAME is required to reopen)", returncode=2
                    )
                for e in entities:
                    results.append(
                        services.reopen_period(e, opts["period"], user=user, reason=opts["reason"])
                    )
            else:
                for e in entities:
                    results.append({"entity_id": e, **services.close_period(e, opts["period"], actor="cli")})
        except DomainError as exc:
            lines = [f"{exc.message} [{exc.code}]"] + [f"  {d.get('detail', '')}" for d in exc.details]
            raise CommandError("\\n".join(lines), returncode=2) from None
        if opts["json"]:
            self.stdout.write(json.dumps(results))
            return
        for r in results:
            self.stdout.write(
                f"period {r['period']}: {r['status']}"
                + (f" (recognised {r['recognised']} {r.get('currency', '')})" if "recognised" in r else "")
            )
