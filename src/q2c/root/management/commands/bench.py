"""q2c bench NAME …: run a registered benchmark (apps register theirs in q2c/wiring.py)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.platform.commands import Q2CCommand
from q2c.platform.registry import benches


class Command(Q2CCommand):
    help = "Run a benchmark: q2c bench NAME [options] [--json]. Names: see q2c bench --help."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="bench", metavar="NAME", required=True)
        for name, bench in benches.items():
            p = sub.add_parser(name, help=bench.help)
            p.add_argument("--json", action="store_true", help="print one JSON object")
            bench.add_arguments(p)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            bench = benches.get(opts["bench"])
        except KeyError as exc:
            raise CommandError(str(exc)) from exc
        result = bench.run(**opts)
        if opts.get("json"):
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key:>20}: {value}")
