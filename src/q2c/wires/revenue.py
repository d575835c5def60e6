"""Revenue recognition (issue 16): obligations from contract events, satisfaction from fulfilment, billing's contract-asset split, the daily recognition run, checks, the benchmark and the pages.

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    # Revenue: obligations from contract events and satisfaction from orders' fulfilment (in the
    # writer's transaction), billing's contract-asset split, the daily recognition run, the
    # positions check, the revenue benchmark, the Revenue pages.
    from q2c.invoicing import posting as revenue_invoicing_posting
    from q2c.platform import ui
    from q2c.platform.events import bus
    from q2c.platform.registry import Bench, Check, Job, benches, checks, jobs
    from q2c.revenue import bench as revenue_bench
    from q2c.revenue import handlers as revenue_handlers
    from q2c.revenue import run as revenue_run

    bus.subscribe("contracts.contract.activated", revenue_handlers.on_contract_activated)
    bus.subscribe("contracts.contract.amended", revenue_handlers.on_contract_amended)
    bus.subscribe("contracts.contract.cancelled", revenue_handlers.on_contract_cancelled)
    bus.subscribe("contracts.contract.renewed", revenue_handlers.on_contract_renewed)
    bus.subscribe("orders.line.delivered", revenue_handlers.on_line_delivered)
    bus.subscribe("orders.line.completed", revenue_handlers.on_line_completed)
    revenue_invoicing_posting.set_contract_split(revenue_run.contract_split)
    checks.add("revenue.positions_tie", Check("revenue.positions_tie", revenue_run.positions_tie))
    jobs.add("revenue.recognition", Job("revenue.recognition", revenue_run.daily))
    benches.add(
        "revenue",
        Bench(
            "revenue",
            "one month's recognition and posting of N contracts through the CLI's path",
            revenue_bench.add_arguments,
            revenue_bench.run,
        ),
    )
    ui.add_nav("Revenue", "/revenue/", roles={"finance", "viewer"})
