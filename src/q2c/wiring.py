"""The composition root's wiring: which handler reacts to which event, which app contributes which
benchmark, demo step, ledger check, daily job, navigation entry and UI panel.

Reactions that run against the import direction (quote accepted → contract created) are handlers
living in the higher app and registered here for the lower app's event. Called once when Django
starts (``q2c.root`` app); ``wire()`` is idempotent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from q2c.platform.events import DomainEvent

_wired = False


def wire() -> None:
    global _wired
    if _wired:
        return
    _wired = True
    from q2c.platform import ui
    from q2c.platform.registry import demo_steps
    from q2c.simulation.users import seed_users

    ui.add_nav("Home", "/")
    # UI shell: customers, then one entry per stage; placeholders until the app registers its own.
    ui.add_nav("Accounts", "/parties/accounts/", roles={"admin", "sales_rep", "sales_manager", "finance", "viewer"})
    ui.add_section("sales", "Sales", {"sales_rep", "sales_manager", "viewer"}, "Opportunities and quotes.")
    ui.add_nav("Catalog", "/catalog/", roles={"sales_rep", "sales_manager", "finance", "viewer"})
    ui.add_section("contracts", "Contracts", {"sales_rep", "sales_manager", "finance", "viewer"}, "Contracts, amendments and renewals.")
    ui.add_section("orders", "Orders", {"sales_rep", "sales_manager", "finance", "viewer"}, "Orders and fulfilment.")
    ui.add_section("billing", "Billing", {"finance", "viewer"}, "Billing schedules, usage and bill runs.")
    ui.add_section("payments", "Payments", {"finance", "viewer"}, "Payments, bank statements, dunning.")
    ui.add_section("revenue", "Revenue", {"finance", "viewer"}, "Revenue recognition.")
    ui.add_section("ledger", "Ledger", {"finance", "viewer"}, "Journal, balances and periods.")
    ui.add_section("analytics", "Analytics", {"sales_manager", "finance", "viewer"}, "KPIs, forecasts and dashboards.")
    ui.add_nav("Admin", "/admin/", roles={"admin"})
    from q2c.platform.idempotency import purge_expired
    from q2c.platform.registry import Job, jobs

    jobs.add("platform.idempotency_purge", Job("platform.idempotency_purge", purge_expired))
    demo_steps.add("00-users", seed_users)

    from q2c.billing.engine import bench as billing_engine_bench
    from q2c.platform.registry import Bench, benches

    benches.add(
        "billing-engine",
        Bench(
            "billing-engine",
            "pure billing engine: due items, amounts and amendments for N schedules (no database)",
            billing_engine_bench.add_billing_arguments,
            billing_engine_bench.run_billing,
        ),
    )
    benches.add(
        "usage-engine",
        Bench(
            "usage-engine",
            "pure usage engine: aggregate and rate N events (no database)",
            billing_engine_bench.add_usage_arguments,
            billing_engine_bench.run_usage,
        ),
    )
    # Billing — usage metering: ingestion and rating through the API's and the bill run's code paths.
    from q2c.billing import usage_bench

    benches.add(
        "usage",
        Bench("usage", "usage ingestion (API code path) and rating of N events", usage_bench.add_arguments, usage_bench.run),
    )

    # Tax: the pure engine's benchmark.
    from q2c.tax import bench as tax_bench

    benches.add(
        "tax-engine",
        Bench(
            "tax-engine",
            "pure tax engine: tax for N documents of M lines with the shipped rules (no database)",
            tax_bench.add_arguments,
            tax_bench.run,
        ),
    )
    # Ledger: its own invariants for `q2c ledger check`, its posting benchmark, its pages.
    from q2c.ledger import bench as ledger_bench
    from q2c.ledger import checks as ledger_checks
    from q2c.platform.registry import Bench, benches, checks

    for check in ledger_checks.CHECKS:
        checks.add(check.name, check)
    benches.add(
        "ledger-post",
        Bench("ledger-post", "bulk posting via post_many", ledger_bench.add_arguments, ledger_bench.run),
    )
    ui.add_nav("Ledger", "/ledger/", roles={"finance", "viewer", "admin"})
    # A new legal entity gets its ledger book (parties and ledger are siblings: the root joins them).
    from q2c.platform.events import bus

    bus.subscribe("parties.entity.created", open_ledger_book)
    # Contracts: made by the QuoteAccepted handler inside the acceptance transaction; an amendment
    # whose quote closes unaccepted is withdrawn; renewal quotes and term ends run daily.
    from q2c.contracts import handlers as contract_handlers
    from q2c.contracts.services import run_daily as contracts_daily
    from q2c.platform.events import bus
    from q2c.platform.registry import Job, jobs

    bus.subscribe("quotes.quote.accepted", contract_handlers.on_quote_accepted)
    for closed in ("quotes.quote.rejected", "quotes.quote.withdrawn", "quotes.quote.expired"):
        bus.subscribe(closed, contract_handlers.on_quote_closed)
    jobs.add("contracts.renewals", Job("contracts.renewals", contracts_daily))
    ui.add_nav("Contracts", "/contracts/", roles={"sales_rep", "sales_manager", "finance", "viewer"})
    # Quotes: pipeline and approval inbox pages; quotes past their validity expire daily.
    from q2c.platform.registry import Job, jobs
    from q2c.quotes.services import expire_quotes

    ui.add_nav("Sales", "/quotes/opportunities/", roles={"sales_rep", "sales_manager", "finance", "viewer"})
    ui.add_nav("Approvals", "/quotes/approvals/", roles={"sales_manager", "finance"})
    jobs.add("quotes.expire", Job("quotes.expire", expire_quotes))
    from q2c.platform.registry import Bench, benches
    from q2c.quotes import bench as quotes_bench

    benches.add(
        "quote-preview",
        Bench("quote-preview", "the quote builder's live repricing and save of an N-line quote", quotes_bench.add_arguments, quotes_bench.run),
    )
    # Catalog: the pricing benchmark (the preview API's code path over a 600-product catalog).
    from q2c.catalog import bench as catalog_bench
    from q2c.platform.registry import Bench, benches

    benches.add(
        "pricing",
        Bench("pricing", "price an N-line quote through the preview API's path", catalog_bench.add_arguments, catalog_bench.run),
    )
    # Payments (pure part of issue 14): the cash-application benchmark — import and matching only,
    # labelled as such; the payments app will add the writes through its service.
    from q2c.payments.matching import benchmark as cash_bench

    benches.add(
        "cash",
        Bench(
            "cash",
            "cash application: camt.053 import + matching of N lines against M open items "
            "(pure pipeline; applications are not yet written)",
            cash_bench.add_arguments,
            cash_bench.run,
        ),
    )
    # Orders: an order for every contract activation, amendment, cancellation and renewal (in the
    # contract's transaction); automatic provisioning tasks run daily; pages under /orders/.
    from q2c.orders import handlers as order_handlers
    from q2c.orders.services import run_due as orders_provisioning_due
    from q2c.platform.events import bus
    from q2c.platform.registry import Job, jobs

    bus.subscribe("contracts.contract.activated", order_handlers.on_contract_activated)
    bus.subscribe("contracts.contract.amended", order_handlers.on_contract_amended)
    bus.subscribe("contracts.contract.cancelled", order_handlers.on_contract_cancelled)
    bus.subscribe("contracts.contract.renewed", order_handlers.on_contract_renewed)
    jobs.add("orders.provisioning", Job("orders.provisioning", orders_provisioning_due))
    ui.add_nav("Orders", "/orders/", roles={"sales_rep", "sales_manager", "finance", "viewer"})
    from q2c.orders import bench as orders_bench
    from q2c.platform.registry import Bench, benches

    benches.add(
        "orders-receipt",
        Bench("orders-receipt", "one stock receipt releasing N back-orders, writes included (rolled back)", orders_bench.add_arguments, orders_bench.run),
    )
    # Invoicing: issued invoices, credit notes, voids and write-offs post to the ledger in their
    # own transaction (money-moving events); the AR control check. Billing: schedules from
    # contract and order events, the daily bill run, its benchmark, the Billing pages.
    from q2c.billing import bench as billing_bench
    from q2c.billing import handlers as billing_handlers
    from q2c.billing.run import daily as billing_daily
    from q2c.invoicing import checks as invoicing_checks
    from q2c.invoicing import events as invoicing_events
    from q2c.invoicing import posting as invoicing_posting
    from q2c.platform.events import bus
    from q2c.platform.registry import Bench, Job, benches, checks, jobs

    for event_type in invoicing_events.MONEY:
        bus.declare(event_type, moves_money=True)
        bus.subscribe(event_type, invoicing_posting.HANDLERS[event_type])
    for check in invoicing_checks.CHECKS:
        checks.add(check.name, check)
    bus.subscribe("contracts.contract.activated", billing_handlers.on_contract_activated)
    bus.subscribe("contracts.contract.amended", billing_handlers.on_contract_amended)
    bus.subscribe("contracts.contract.cancelled", billing_handlers.on_contract_cancelled)
    bus.subscribe("orders.line.delivered", billing_handlers.on_line_delivered)
    bus.subscribe("orders.line.activated", billing_handlers.on_line_activated)
    bus.subscribe("orders.line.completed", billing_handlers.on_line_completed)
    jobs.add("billing.bill_run", Job("billing.bill_run", billing_daily))
    benches.add(
        "billing",
        Bench("billing", "a bill run over N subscriptions through the CLI's path, writes and postings included",
              billing_bench.add_arguments, billing_bench.run),
    )
    ui.add_nav("Billing", "/billing/", roles={"finance", "viewer"})

    # The later stages wire themselves in their own modules of the composition root (q2c/wires/).
    from q2c.wires import analytics, cash, dunning, payments, revenue, simulation

    for part in (payments, cash, dunning, revenue, analytics, simulation):
        part.wire()


def open_ledger_book(event: DomainEvent) -> None:
    """Open the ledger book of a legal entity just created, in its base currency and rounding."""
    from q2c.ledger import services as ledger_services
    from q2c.parties.models import LegalEntity

    entity = LegalEntity.objects.get(pk=event.aggregate_id)
    ledger_services.open_book(
        entity.pk, entity.base_currency, name=entity.name, rounding=entity.rounding_mode, actor=event.actor
    )
