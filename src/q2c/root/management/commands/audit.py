"""q2c audit seal|verify: seal committed events into the hash chain, or verify the chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.platform import audit
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Seal the audit chain (seal) or recompute and verify it (verify; non-zero exit naming the first problem)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["seal", "verify"])

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "seal":
            n = audit.seal()
            self.stdout.write(f"sealed {n} event(s)")
            return
        problem = audit.verify()
        if problem:
            raise CommandError(
                f"audit chain broken ({problem.kind}) at #{problem.seq}: {problem.message}", returncode=1
            )
        self.stdout.write("audit chain verified")
