"""Run in a subprocess by the crash tests (``python -m tests.billing.crash_helper setup|report``)
against the database named by the environment (``Q2C_VAR_DIR`` for SQLite, ``Q2C_DATABASE_URL``
for PostgreSQL): make a bill run's data, or report what the run left behind as JSON.

``setup N``: N subscriptions from the billing benchmark's generator (several tax countries, 5 %
amended with a proration), one in ten also billed in USD at a rate entered for the bill date, and
bill-run batches of 25 invoices, so a run of a few hundred invoices has a dozen batches to be
killed in.

``report``: every invoice (number, account, currency, total), the totals per currency, the
ledger's receivables and tax payable, the AR control check and the gaplessness of the numbers.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, timedelta
from decimal import Decimal


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "q2c.settings")
    import django

    django.setup()


def setup(n: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from q2c.billing import bench
    from q2c.billing.models import BillingSettings, Schedule
    from q2c.core import clock
    from q2c.invoicing.services import set_rate

    with clock.use(clock.SimulationClock(bench.AS_OF - timedelta(days=1), default_tz="Europe/Berlin")):
        made = bench.setup(n, seed=11)
        BillingSettings.objects.update_or_create(entity_id=made["entity_id"], defaults={"batch_size": 25})
        set_rate("USD", "EUR", bench.AS_OF, Decimal("0.9137"), actor="test")
        now = timezone.now()
        usd = []
        for s in Schedule.objects.filter(entity_id=made["entity_id"], line_key="1").order_by("id")[: n // 10]:
            s.pk = None
            s.line_key = "USD"
            s.currency = "USD"
            s.contract_id += 50_000_000
            s.created_at = s.updated_at = now
            usd.append(s)
        Schedule.objects.bulk_create(usd)
    print(json.dumps({"entity_id": made["entity_id"]}))


def report() -> None:
    from django.db.models import Sum

    from q2c.billing.models import BillRun
    from q2c.invoicing.checks import ar_control
    from q2c.invoicing.models import Invoice
    from q2c.ledger import queries

    invoices = list(
        Invoice.objects.order_by("seq").values_list("number", "seq", "account_id", "currency", "total_minor")
    )
    totals = {
        row["currency"]: int(row["t"])
        for row in Invoice.objects.values("currency").annotate(t=Sum("total_minor")).order_by("currency")
    }
    seqs = [i[1] for i in invoices]
    entity_id = Invoice.objects.values_list("entity_id", flat=True).first()
    balances = queries.trial_balance(entity_id, date(2027, 3, 31)).by_key() if entity_id else {}
    runs = list(BillRun.objects.values_list("status", "attempts", "invoices"))
    print(
        json.dumps(
            {
                "invoices": [list(i) for i in invoices],
                "count": len(invoices),
                "totals": totals,
                "gapless": seqs == list(range(1, len(seqs) + 1)),
                "ar": str(balances["ar"].amount) if "ar" in balances else "0",
                "ar_control": ar_control(),
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    _django()
    if sys.argv[1] == "setup":
        setup(int(sys.argv[2]))
    else:
        report()
