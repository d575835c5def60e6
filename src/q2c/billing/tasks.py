"""Background work of billing (run by ``q2c worker``): a bill run started from the API or the
Billing page runs here, after the request has checked its input (so a refused run is refused at
once) and the request's transaction has committed.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django_tasks import task

from q2c.billing.run import bill_run


@task()
def run_bill_run(as_of: str, workers: int = 1, actor: str = "") -> dict[str, Any]:
    """The bill run of ``as_of`` (ISO date); its result is stored on the run itself."""
    return bill_run(date.fromisoformat(as_of), workers=workers, actor=actor).as_dict()
