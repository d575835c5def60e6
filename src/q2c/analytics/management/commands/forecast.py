"""``q2c forecast [--currency CUR] [--months N] [--as-of YYYY-MM-DD] [--json]``: the revenue and cash forecasts of the
next months with their backtest MAPE (docs/forecasts.md). Bad input exits 2 naming the option."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.analytics.forecasting import forecast
from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import check_currency
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Revenue and cash forecasts of the next months with their backtests (--json for one JSON object)."

    takes_as_of = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--currency", default="EUR", metavar="CUR", help="currency (default EUR)")
        parser.add_argument("--months", default="3", metavar="N", help="months ahead, 1–12 (default 3)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            currency = check_currency(str(opts["currency"]).upper())
        except (DomainError, ValueError) as exc:
            raise CommandError(f"--currency: {exc}", returncode=2) from exc
        raw = str(opts["months"])
        if not raw.isdigit() or not 1 <= int(raw) <= 12:
            raise CommandError("--months: a whole number from 1 to 12", returncode=2)
        as_of = clock.today()  # the --as-of day when given (Q2CCommand sets the business clock)
        data = forecast.build(as_of, currency, int(raw))
        if opts.get("as_json"):
            self.stdout.write(json.dumps(data, indent=2))
            return
        rev, cash = data["revenue"], data["cash"]
        self.stdout.write(f"Forecast from {data['as_of']} in {currency}")
        self.stdout.write(f"Revenue (backtest MAPE {rev['backtest']['mape_percent'] or 'not measured'} %)")
        for r in rev["months"]:
            self.stdout.write(f"  {r['month']}  contracted {r['contracted']}  pipeline {r['weighted_pipeline']}  "
                              f"usage {r['usage']}  total {r['total']}")  # fmt: skip
        self.stdout.write(f"Cash (backtest MAPE {cash['backtest']['mape_percent'] or 'not measured'} %)")
        for r in cash["months"]:
            self.stdout.write(f"  {r['month']}  open receivables {r['open_receivables']}  "
                              f"billings {r['expected_billings']}  total {r['total']}")  # fmt: skip
