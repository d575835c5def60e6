"""``q2c contracts_renewals [--as-of YYYY-MM-DD]``: run the contracts' daily job for one business
date by hand (renewal quotes due, terms that ended). The worker runs it every day on its own."""

from __future__ import annotations

from typing import Any

from q2c.contracts.services import run_daily
from q2c.core import clock
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Make the renewal quotes due and end the terms that ended (renew, auto-renew or expire)."
    takes_as_of = True

    def handle(self, *args: Any, **options: Any) -> None:
        day = clock.today()
        result = run_daily(day)
        self.stdout.write(
            f"{day}: {len(result['renewal_quotes'])} renewal quote(s), {len(result['renewed'])} renewed, "
            f"{len(result['expired'])} expired"
        )
        for line in result["skipped"]:
            self.stdout.write(f"skipped {line}")
