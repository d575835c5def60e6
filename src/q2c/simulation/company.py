"""The demo company lives day by day through the business clock (``q2c demo``).

Each simulated day: the clock moves to the day; exchange rates are entered; reps open
opportunities and build quotes; quotes are submitted, approved or refused by managers, sent and
accepted or declined by the buyers (acceptance makes the contract and the order through the
apps' own handlers); the warehouse receives stock, picks, ships and delivers; customers grow or
shrink their contracts; then the registered daily jobs run for the day (bill run, quote expiry,
renewals, provisioning, and whatever later stages register), exactly as the worker runs them.

Only public services are called; reads use the apps' models. The same seed gives the same
company. The buyers' behaviour is in ``behaviour.py`` and docs/simulation.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from q2c.core import clock
from q2c.core.periods import add_months
from q2c.simulation import behaviour as bh
from q2c.simulation import world as w

ACTOR = w.ACTOR
Progress = Callable[[int, int, str], None]


@dataclass
class Deal:
    """A quote on its way through the sales process."""

    quote_id: int
    customer: w.Customer
    rep: str
    stage: str  # draft → submitted → sent → (decided)
    next_day: date
    discount: int
    size_eur: Decimal
    token: str = ""
    renewal: bool = False


@dataclass
class Bill:
    """An issued invoice and how and when its customer will pay it."""

    invoice_id: int
    number: str
    customer: w.Customer
    method: str  # transfer | card | direct_debit
    short_by: int  # minor units a transfer arrives short (the payer's bank fee)
    reference: str  # what the payer writes: number | rf | typo | none


@dataclass
class Stats:
    opportunities: int = 0
    quotes: int = 0
    approvals: int = 0
    refused: int = 0
    sent: int = 0
    won: int = 0
    lost: int = 0
    amendments: int = 0
    shipments: int = 0
    payments: int = 0
    bank_files: int = 0
    usage_events: int = 0
    renewals: int = 0
    churned: int = 0
    downgrades: int = 0
    disputes: int = 0
    closed_periods: int = 0
    job_runs: int = 0
    errors: list[str] = field(default_factory=list)


class Company:
    def __init__(self, *, customers: int, months: int, seed: int, start: date) -> None:
        self.rng = random.Random(seed)
        self.customers = customers
        self.start = start
        self.end = add_months(start, months)
        self.clock = clock.SimulationClock(start, default_tz="Europe/Berlin")
        self.deals: list[Deal] = []
        self.stats = Stats()
        self.world: w.World | None = None
        self.usd_rate = Decimal("1.0850")
        self.gbp_rate = Decimal("0.8600")
        self.bills: dict[date, list[Bill]] = {}
        self.disputes: dict[date, list[tuple[int, Bill]]] = {}  # resolve on → (dispute id, bill)
        self.to_dispute: dict[date, list[Bill]] = {}
        self.tracked_renewals: set[int] = set()
        self.balances: dict[str, int] = {}  # closing balance per bank account (IBAN), minor units
        self.sequence = 0
        # Quote documents rendered on the second core between a quote's submission and its send.
        self.ahead: Any = None

    # ------------------------------------------------------------------ set-up

    def set_up(self) -> None:
        from q2c.orders import services as orders
        from q2c.platform import schedules
        from q2c.platform.registry import jobs

        clock.install(self.clock)
        self.world = w.build(self.rng, self.customers)
        orders.receive_stock("EDGE", "40", received_on=self.start, reference="opening stock")
        for name in jobs.names():
            schedules.ensure(name, name, start_date=self.start, hour=2, time_zone="UTC")

    # ------------------------------------------------------------------ the days

    def run(self, progress: Progress | None = None) -> Stats:
        from q2c.quotes.document import RenderAhead

        self.set_up()
        days = (self.end - self.start).days
        day = self.start
        self.ahead = RenderAhead()
        try:
            for n in range(days):
                self.live(day)
                if progress is not None:
                    progress(n + 1, days, day.isoformat())
                day += timedelta(days=1)
        finally:
            self.ahead.close()
            self.ahead = None
        return self.stats

    def live(self, day: date) -> None:
        self.clock.set(day)
        self.rates(day)
        self.meter_usage(day)
        if day.weekday() < 5:
            self.new_leads(day)
            self.renewals(day)
            self.move_deals(day)
            self.warehouse(day)
        if day.day == 1:
            self.receive_stock(day)
            self.grow_and_shrink(day)
        if day.day == 5:
            self.close_books(day)
        self.dispute(day)
        self.collect(day)
        self.run_jobs(day)
        self.plan_payments(day)

    # ------------------------------------------------------------------ market data

    def rates(self, day: date) -> None:
        from q2c.invoicing.services import rates

        drift = Decimal(self.rng.randint(-40, 40)) / Decimal(10_000)
        self.usd_rate = (self.usd_rate + drift).quantize(Decimal("0.0001"))
        # The GmbH bills US customers in USD: invoices need the USD→EUR rate of their date.
        per_usd = (Decimal(1) / self.usd_rate).quantize(Decimal("0.000001"))
        rates.set_rate("USD", "EUR", day, per_usd, source="demo", actor=ACTOR)

    # ------------------------------------------------------------------ sales

    def prospects(self) -> list[w.Customer]:
        assert self.world is not None
        from q2c.contracts.models import Contract

        signed = set(
            Contract.objects.filter(status__in=("active", "pending_signature")).values_list(
                "account_id", flat=True
            )
        )
        busy = {d.customer.account_id for d in self.deals}
        return [c for c in self.world.customers if c.account_id not in signed and c.account_id not in busy]

    def new_leads(self, day: date) -> None:
        expected = bh.LEADS_PER_DAY_PER_100 * self.customers / 100
        count = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
        pool = self.prospects()
        for _ in range(min(count, len(pool))):
            customer = pool.pop(self.rng.randrange(len(pool)))
            self.open_deal(day, customer)

    def lines_for(self, customer: w.Customer) -> tuple[list[dict[str, Any]], int]:
        s = customer.segment
        rng = self.rng
        discount = bh.discount_percent(rng, s, customer.owner)
        seat = "SEAT-PRO" if rng.random() < s.pro_share else "SEAT-STD"
        lines: list[dict[str, Any]] = [
            {"sku": seat, "quantity": rng.randint(*s.seats), **({"discount": {"percent": str(discount)}} if discount else {})},
            {"sku": "ONB", "quantity": 1},
            {"sku": "API"},
        ]  # fmt: skip
        if rng.random() < s.support:
            lines.append({"sku": "SUPPORT", "quantity": 1})
        devices = rng.randint(*s.appliances)
        if devices:
            lines.append({"sku": "EDGE", "quantity": devices})
        if rng.random() < 0.3:
            lines.append({"sku": "TRAIN", "quantity": rng.randint(1, 3)})
        return lines, discount

    def open_deal(self, day: date, customer: w.Customer) -> None:
        from q2c.quotes import services as quotes

        assert self.world is not None
        rep = self.world.users[customer.owner]
        opp = quotes.create_opportunity(
            actor=rep, account_id=customer.account_id, name=f"{customer.name} platform"
        )
        self.stats.opportunities += 1
        lines, discount = self.lines_for(customer)
        start = add_months(date(day.year, day.month, 1), 1 if day.day < 15 else 2)
        quote = quotes.create_quote(
            actor=rep, opportunity_id=opp.pk, lines=lines, start_date=start, term_months=12
        )
        self.stats.quotes += 1
        size = Decimal(quote.tcv.amount) if getattr(quote, "tcv", None) is not None else Decimal(0)
        if customer.currency != "EUR":
            size = size / (self.usd_rate if customer.currency == "USD" else self.gbp_rate)
        self.deals.append(
            Deal(quote.pk, customer, customer.owner, "draft", day + timedelta(days=bh.days_to_submit(self.rng, customer.owner)),
                 discount, size)
        )  # fmt: skip

    def move_deals(self, day: date) -> None:
        if self.ahead is not None:
            self.ahead.collect()
        keep = []
        for deal in self.deals:
            if deal.next_day > day:
                keep.append(deal)
                continue
            try:
                if self.step(deal, day):
                    keep.append(deal)
            except Exception as exc:  # a refused step ends the deal; the reason is kept for the summary
                self.stats.errors.append(f"{day} quote {deal.quote_id} ({deal.stage}): {exc}")
        self.deals = keep

    def render_ahead(self, quote_id: int, next_day: date) -> None:
        """Queue the document the send will render: deals move on working days, at the clock's
        time of a bare date; a send that differs after all renders its own."""
        if self.ahead is None:
            return
        from q2c.quotes import document
        from q2c.quotes.models import Quote

        quote = Quote.objects.select_related("entity", "account").get(pk=quote_id)

        send_day = next_day
        while send_day.weekday() >= 5:
            send_day += timedelta(days=1)
        moment = clock.SimulationClock(send_day, default_tz=self.clock.default_tz).now()
        self.ahead.submit(document.document_data(quote, generated_at=moment), created=moment)

    def step(self, deal: Deal, day: date) -> bool:
        """One move of a deal; ``False`` once it is over."""
        from q2c.quotes import services as quotes
        from q2c.quotes.models import ApprovalStep, Quote

        assert self.world is not None
        rep = self.world.users[deal.rep]
        quote = Quote.objects.get(pk=deal.quote_id)
        if deal.stage == "draft":
            quotes.submit_quote(deal.quote_id, actor=rep, lock_version=quote.lock_version)
            deal.stage = "submitted"
            deal.next_day = day + timedelta(days=1)
            self.render_ahead(deal.quote_id, deal.next_day)
            return True
        if deal.stage == "submitted":
            if quote.status == "in_review":
                for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
                    approver = step.approvers.order_by("pk").first()
                    if approver is None:
                        continue
                    refuse = self.rng.random() < bh.MANAGER_REJECTS
                    quotes.decide(step.pk, actor=approver, decision="reject" if refuse else "approve",
                                  comment="too deep a discount" if refuse else "ok")  # fmt: skip
                    self.stats.approvals += 1
                    if refuse:
                        self.stats.refused += 1
                        self.close_lost(quote, rep, "the discount was not approved")
                        return False
                quote.refresh_from_db()
                if quote.status == "in_review":
                    deal.next_day = day + timedelta(days=1)
                    return True
            if quote.status != "approved":
                return False
            sent = quotes.send_quote(deal.quote_id, actor=rep, lock_version=quote.lock_version)
            self.stats.sent += 1
            deal.token = sent.token
            deal.stage = "sent"
            deal.next_day = day + timedelta(days=self.rng.randint(*bh.DAYS_TO_DECIDE))
            return True
        if deal.stage == "sent" and quote.status == "draft":
            # The contract was amended while its renewal quote was out: the quote followed the
            # change and is back in draft, to be submitted and sent again.
            deal.stage = "draft"
            return True
        if deal.stage == "sent" and deal.renewal:
            contact = deal.customer.name
            if self.rng.random() < deal.customer.segment.churn:
                quotes.reject_quote(deal.token, reason="not renewing", signer_name=f"Buyer at {contact}",
                                    ip="192.0.2.10", user_agent="q2c-demo")  # fmt: skip
                self.stats.churned += 1
                self.close_lost(quote, rep, "the customer did not renew")
            else:
                quotes.accept_quote(deal.token, signer_name=f"Buyer at {contact}", signer_title="Managing Director",
                                    agree=True, ip="192.0.2.10", user_agent="q2c-demo")  # fmt: skip
                self.stats.renewals += 1
            return False
        if deal.stage == "sent":
            chance = bh.win_probability(
                float(deal.discount), float(deal.size_eur), deal.rep, deal.customer.segment,
                days_to_send=(quote.sent_at - quote.created_at).days if quote.sent_at else 0,
                hardware=any(ln.get("sku") == "EDGE" for ln in (quote.pricing or {}).get("lines", [])),
            )
            contact = deal.customer.name
            if self.rng.random() < chance:
                quotes.accept_quote(deal.token, signer_name=f"Buyer at {contact}", signer_title="Managing Director",
                                    agree=True, ip="192.0.2.10", user_agent="q2c-demo")  # fmt: skip
                self.stats.won += 1
            else:
                quotes.reject_quote(deal.token, reason=self.rng.choice(("price", "timing", "competitor", "no budget")),
                                    signer_name=f"Buyer at {contact}", ip="192.0.2.10", user_agent="q2c-demo")  # fmt: skip
                self.stats.lost += 1
                self.close_lost(quote, rep, "the customer declined the quote")
            return False
        return False

    def close_lost(self, quote: Any, rep: Any, reason: str) -> None:
        """The rep closes the opportunity as lost once its quote is declined or refused."""
        from q2c.quotes import services as quotes

        quotes.move(quote.opportunity_id, "closed_lost", actor=rep, loss_reason=reason)

    # ------------------------------------------------------------------ fulfilment

    def receive_stock(self, day: date) -> None:
        from q2c.orders import services as orders

        orders.receive_stock(
            "EDGE", str(self.rng.randint(10, 30)), received_on=day, reference=f"PO {day:%Y-%m}"
        )

    def warehouse(self, day: date) -> None:
        """Pick and ship what is reserved; deliver what was shipped two days ago."""
        from q2c.orders import services as orders
        from q2c.orders.models import OrderLine, Shipment

        for shipment in Shipment.objects.filter(status="shipped", shipped_on__lte=day - timedelta(days=2)):
            orders.deliver(shipment.pk, delivered_on=day, actor="warehouse")
        ready: dict[int, dict[int, Decimal]] = {}
        for line in OrderLine.objects.filter(kind="good", reserved__gt=0):
            ready.setdefault(line.order_id, {})[line.pk] = Decimal(line.reserved)
        for order_id, quantities in sorted(ready.items()):
            shipment = orders.pick(order_id, quantities, actor="warehouse")
            orders.ship(shipment.pk, carrier="DHL", shipped_on=day, actor="warehouse")
            self.stats.shipments += 1

    # ------------------------------------------------------------------ customers over time

    def grow_and_shrink(self, day: date) -> None:
        """On the first of the month some customers add seats for the rest of their term."""
        from q2c.contracts import services as contracts
        from q2c.contracts.models import Contract, ContractLine

        assert self.world is not None
        by_account = {c.account_id: c for c in self.world.customers}
        for contract in Contract.objects.filter(
            status="active", start_date__lt=day, end_date__gt=day + timedelta(days=31)
        ).order_by("pk"):
            customer = by_account.get(contract.account_id)
            if customer is None:
                continue
            draw = self.rng.random()
            if draw < customer.segment.downgrade:
                self.downgrade(day, contract, customer)
                continue
            if draw >= customer.segment.downgrade + customer.segment.upsell:
                continue
            seat = (
                ContractLine.objects.filter(contract=contract, sku__startswith="SEAT")
                .order_by("-version__number")
                .first()
            )
            if seat is None:
                continue
            extra = max(1, int(Decimal(seat.quantity) * Decimal("0.2")))
            try:
                contracts.amend(contract.pk, actor=self.world.users[customer.owner], lock_version=contract.lock_version,
                                kind="add_quantity", effective_date=day.isoformat(), sku=seat.sku, quantity=str(extra))  # fmt: skip
                self.stats.amendments += 1
            except Exception as exc:
                self.stats.errors.append(f"{day} amend {contract.pk}: {exc}")

    def downgrade(self, day: date, contract: Any, customer: w.Customer) -> None:
        """Remove a tenth of the seats (the contract's reduction rule decides when it takes effect)."""
        from q2c.contracts import services as contracts
        from q2c.contracts.models import ContractLine

        assert self.world is not None
        seat = (
            ContractLine.objects.filter(contract=contract, sku__startswith="SEAT")
            .order_by("-version__number")
            .first()
        )
        if seat is None or Decimal(seat.quantity) < 10:
            return
        fewer = max(1, int(Decimal(seat.quantity) / 10))
        try:
            contracts.amend(contract.pk, actor=self.world.users[customer.owner], lock_version=contract.lock_version,
                            kind="remove_quantity", effective_date=day.isoformat(), sku=seat.sku, quantity=str(fewer))  # fmt: skip
            self.stats.downgrades += 1
        except Exception as exc:
            self.stats.errors.append(f"{day} downgrade {contract.pk}: {exc}")

    def renewals(self, day: date) -> None:
        """Renewal quotes the contracts' daily job made: the owner takes them through the same
        steps as a new deal; the customer renews or churns (``Segment.churn``)."""
        from q2c.contracts.models import Contract
        from q2c.quotes.models import Quote

        assert self.world is not None
        by_account = {c.account_id: c for c in self.world.customers}
        waiting = Contract.objects.filter(renewal_quote_id__isnull=False).exclude(
            renewal_quote_id__in=self.tracked_renewals
        )
        for raw_quote_id, account_id in waiting.values_list("renewal_quote_id", "account_id"):
            quote_id = int(raw_quote_id or 0)
            self.tracked_renewals.add(quote_id)
            customer = by_account.get(account_id)
            quote = Quote.objects.filter(pk=quote_id, status="draft").first()
            if customer is None or quote is None:
                continue
            size = Decimal(quote.tcv.amount)
            self.deals.append(Deal(quote_id, customer, customer.owner, "draft", day, 0, size, renewal=True))

    # ------------------------------------------------------------------ usage

    def meter_usage(self, day: date) -> None:
        """Each active subscriber's API calls of the day, sent as one batch (idempotent ids)."""
        from q2c.billing import usage
        from q2c.contracts.models import Contract

        assert self.world is not None
        by_account = {c.account_id: c for c in self.world.customers}
        active = Contract.objects.filter(status="active", start_date__lte=day, end_date__gt=day)
        events = []
        for account_id in sorted(set(active.values_list("account_id", flat=True))):
            customer = by_account.get(account_id)
            if customer is None:
                continue
            low, high = customer.segment.usage_calls
            calls = self.rng.randint(low, high) // 30
            stamp = datetime.combine(day, time(12, 0), tzinfo=UTC)
            events.append({"id": f"demo-{account_id}-{day.isoformat()}", "account_id": account_id,
                           "metric": "api_calls", "quantity": str(calls), "timestamp": stamp.isoformat()})  # fmt: skip
        if not events:
            return
        result = usage.ingest(events, now=datetime.combine(day, time(23, 30), tzinfo=UTC))
        self.stats.usage_events += result.accepted
        for problem in result.errors:
            if problem.get("code") not in ("usage.unknown_customer", "usage.ambiguous_customer"):
                self.stats.errors.append(f"{day} usage {problem.get('id')}: {problem.get('code')}")

    # ------------------------------------------------------------------ month end

    def close_books(self, day: date) -> None:
        """On the 5th, finance closes last month: revenue recognised and posted, ledger locked."""
        from q2c.revenue import services as revenue

        assert self.world is not None
        month = add_months(date(day.year, day.month, 1), -1)
        for entity_id in self.world.entity_ids.values():
            try:
                revenue.close_period(entity_id, month, actor=ACTOR)
                self.stats.closed_periods += 1
            except Exception as exc:
                self.stats.errors.append(f"{day} close {month:%Y-%m} entity {entity_id}: {exc}")

    # ------------------------------------------------------------------ disputes

    def dispute(self, day: date) -> None:
        """Customers who dispute an invoice do so five days after its due date; a month later the
        dispute is settled — won by the seller (the customer then pays) or lost (a credit note)."""
        from q2c.payments import services as payments

        for bill in self.to_dispute.pop(day, []):
            try:
                row = payments.open_dispute(
                    invoice_id=bill.invoice_id, reason="service not as agreed", on=day, actor=ACTOR
                )
                self.stats.disputes += 1
                self.disputes.setdefault(day + timedelta(days=30), []).append((row.pk, bill))
            except Exception as exc:
                self.stats.errors.append(f"{day} dispute {bill.number}: {exc}")
        for dispute_id, bill in self.disputes.pop(day, []):
            won = self.rng.random() < 0.6
            try:
                payments.resolve_dispute(dispute_id, won=won, on=day, actor=ACTOR)
            except Exception as exc:
                self.stats.errors.append(f"{day} settle dispute {bill.number}: {exc}")
                continue
            if won:
                self.bills.setdefault(day + timedelta(days=3), []).append(bill)

    # ------------------------------------------------------------------ getting paid

    def plan_payments(self, day: date) -> None:
        """Decide, for each invoice issued today, whether, when and how its customer pays."""
        from q2c.invoicing.models import Invoice

        assert self.world is not None
        by_account = {c.account_id: c for c in self.world.customers}
        issued = Invoice.objects.filter(issue_date=day, status="issued").order_by("pk")
        for invoice_id, number, account_id, due_date in issued.values_list("pk", "number", "account_id", "due_date"):
            customer = by_account.get(account_id)
            if customer is None or due_date is None:
                continue
            segment = customer.segment
            offset = bh.payment_day_offset(self.rng, segment)
            method = bh.payment_method(self.rng, segment)
            if customer.currency == "USD":
                method = "card"  # the GmbH keeps no USD account: US customers pay by card
            short = 0
            if method == "transfer" and self.rng.random() < segment.short_pays:
                short = self.rng.choice((150, 250, 500, 1000))
            bill = Bill(invoice_id, number, customer, method, short, bh.reference_quality(self.rng))
            if self.rng.random() < segment.disputes:
                self.to_dispute.setdefault(due_date + timedelta(days=5), []).append(bill)
                continue
            if offset is None:
                continue  # never paid: dunning and collections take over
            pay_on = max(day + timedelta(days=1), due_date + timedelta(days=offset))
            if method in ("card", "direct_debit"):
                pay_on = max(day + timedelta(days=1), due_date - timedelta(days=1))
            self.bills.setdefault(pay_on, []).append(bill)

    def collect(self, day: date) -> None:
        """Today's money: card charges and direct debits through the payments services, one batch
        per legal entity (the gateway's and the bank's report of the day); transfers through the
        bank — a camt.053 statement per account, imported and matched by the cash application, as
        a finance clerk's morning would."""
        from q2c.payments import queries as receivables

        transfers: dict[str, list[Any]] = {}
        gateway: dict[str, list[tuple[Bill, Any]]] = {}
        for bill in self.bills.pop(day, []):
            item = receivables.open_receivable(bill.invoice_id, on=day)
            if item is None or not item.open.amount > 0:
                continue
            if bill.method == "transfer":
                transfers.setdefault(bill.customer.entity, []).append((bill, item))
            else:
                gateway.setdefault(bill.customer.entity, []).append((bill, item))
        for entity, bills in sorted(gateway.items()):
            self.gateway_payments(day, entity, bills)
        for entity, items in sorted(transfers.items()):
            self.bank_statement(day, entity, items)

    def gateway_payments(self, day: date, entity: str, bills: list[tuple[Bill, Any]]) -> None:
        """The day's card and direct-debit payments of one entity, recorded and applied at once. A
        batch the service refuses (one invoice changed meanwhile) is recorded item by item, so only
        the refused payment is left out, as a gateway report's one bad line would be."""
        from q2c.payments import services as payments
        from q2c.payments.services.gateway_bulk import GatewayPaymentItem, record_gateway_payments_many

        assert self.world is not None
        items = [
            GatewayPaymentItem(
                bill.customer.account_id, item.open, method="card" if bill.method == "card" else "sepa_dd",
                received_on=day, payer_name=bill.customer.name, reference=bill.number,
                external_id=f"demo-{bill.method}-{bill.invoice_id}",
                allocations=(payments.Allocation(bill.invoice_id, item.open),),
            )
            for bill, item in bills
        ]  # fmt: skip
        try:
            record_gateway_payments_many(self.world.entity_ids[entity], items, actor=ACTOR, ids_only=True)
            self.stats.payments += len(items)
            return
        except Exception:  # noqa: S110 — one refused line: the items one by one say which
            pass
        for (bill, _item), it in zip(bills, items, strict=True):
            try:
                record_gateway_payments_many(self.world.entity_ids[entity], [it], actor=ACTOR, ids_only=True)
                self.stats.payments += 1
            except Exception as exc:
                self.stats.errors.append(f"{day} {bill.method} for {bill.number}: {exc}")

    def bank_statement(self, day: date, entity: str, items: list[Any]) -> None:
        from q2c.parties.references import creditor_reference
        from q2c.simulation import bankfiles

        assert self.world is not None
        bank = w.BANK[entity]
        lines = []
        for bill, item in items:
            amount = int(item.open.amount * 100) - bill.short_by
            number = bill.number
            if bill.reference == "typo" and len(number) > 3:
                number = number[:-2] + number[-1] + number[-2]
            remittance = {"number": f"Invoice {number}", "typo": f"Inv {number}", "rf": "", "none": ""}[
                bill.reference
            ]
            lines.append(
                bankfiles.Transfer(
                    amount_minor=amount,
                    currency=item.currency,
                    payer_name=bill.customer.name,
                    payer_iban=str(w.customer_iban(bill.customer)),
                    remittance=remittance,
                    reference=creditor_reference(bill.number) if bill.reference == "rf" else "",
                    end_to_end_id=f"E2E{bill.invoice_id}",
                )
            )
        self.sequence += 1
        data, closing = bankfiles.camt053(
            iban=bank["iban"], bic=bank["bic"], currency=bank["currency"], day=day,
            opening_minor=self.balances.get(bank["iban"], 0), transfers=lines, sequence=self.sequence,
        )  # fmt: skip
        self.balances[bank["iban"]] = closing
        try:
            from q2c.payments.cash.services import importing, matching

            report = importing.import_file(
                data, file_name=f"{bank['iban'][-6:]}-{day:%Y%m%d}.xml", actor=ACTOR
            )
            matching.run_matching(
                entity_id=self.world.entity_ids[entity], file_id=report.get("file_id"), actor=ACTOR
            )
            self.stats.bank_files += 1
        except Exception as exc:
            self.stats.errors.append(f"{day} bank statement {entity}: {exc}")

    # ------------------------------------------------------------------ the worker's daily jobs

    def run_jobs(self, day: date) -> None:
        from q2c.platform import schedules

        evening = datetime.combine(day, time(23, 0), tzinfo=UTC)
        for name, business_date, status in schedules.poll(now=evening):
            self.stats.job_runs += 1
            if status != "done":  # ScheduleRun.Status.DONE
                self.stats.errors.append(f"{business_date} job {name}: {status}")
