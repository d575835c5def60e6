"""Billing tables: settings, billing schedules derived from contract lines, the facts one-time
charges wait for, milestones, amendment prorations, the billed items (the bill run's idempotency
key), and bill runs with their shards.

``Schedule`` holds foreign keys to ``parties.LegalEntity`` and ``parties.Account`` (public roots
of a lower layer); contracts, contract lines, orders and invoices are named by plain ids.

**Idempotency.** A bill run writes one ``BilledItem`` per billed item, unique on ``(schedule,
period_start, part)`` — the billing engine's ``ItemKey``, which does not depend on the run date —
in the same transaction as the invoice that bills it. A rerun (or a run racing it) cannot bill an
item twice: the constraint refuses it.

Rows are written only by ``q2c.billing.services`` and the bill run (``q2c.billing.run``).

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from django.db import models

from q2c.platform.fields import DecimalTextField


class BillingSettings(models.Model):
    """Billing settings of one selling entity (absent: the defaults, which are Northwind's)."""

    class Style(models.TextChoices):
        DELTA = "delta", "One line for the difference"
        CREDIT_AND_CHARGE = "credit_and_charge", "Credit the old line, charge the new one (Stripe)"

    class Timing(models.TextChoices):
        IMMEDIATELY = "immediately", "On an invoice of their own, on the amendment date"
        NEXT_INVOICE = "next_invoice", "On the next regular invoice"

    class Mode(models.TextChoices):
        DAYS = "days", "Exact days"
        SECONDS = "seconds", "Seconds (Stripe parity)"

    entity = models.OneToOneField("parties.LegalEntity", on_delete=models.CASCADE, related_name="+")
    amendment_style = models.CharField(max_length=20, choices=Style.choices, default=Style.DELTA)
    proration_timing = models.CharField(max_length=20, choices=Timing.choices, default=Timing.IMMEDIATELY)
    proration_mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DAYS)
    consolidate = models.BooleanField(
        default=True,
        help_text="one invoice per customer and bill date for all its contracts (off: per contract)",
    )
    stub_basis = models.CharField(max_length=20, default="billing_period")
    batch_size = models.PositiveIntegerField(default=1000, help_text="invoices per bill-run transaction")

    class Meta:
        db_table = "billing_settings"


class ChargeRule(models.Model):
    """When a one-time charge of a product is invoiced (per entity and SKU; charge '' = any)."""

    class Trigger(models.TextChoices):
        CONTRACT_START = "contract_start"
        ACTIVATION = "activation"
        DELIVERY = "delivery"
        COMPLETION = "completion"
        DATE = "date"
        MILESTONES = "milestones"

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=64)
    charge = models.CharField(max_length=40, blank=True, default="")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)

    class Meta:
        db_table = "billing_charge_rule"
        constraints = [
            models.UniqueConstraint(fields=["entity", "sku", "charge"], name="billing_charge_rule_once")
        ]


class Schedule(models.Model):
    """How one contract line is billed: a recurring price per period, or a one-time charge."""

    class Kind(models.TextChoices):
        RECURRING = "recurring"
        ONE_TIME = "one_time"
        MILESTONE = "milestone"
        USAGE = "usage"  # metered: rated per calendar month in arrears (``billing.usage``)

    class Status(models.TextChoices):
        ACTIVE = "active"
        ENDED = "ended"  # fully billed, cancelled or out of term: no longer loaded by bill runs

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    contract_id = models.BigIntegerField()
    contract_number = models.CharField(max_length=40, blank=True, default="")
    line_key = models.CharField(max_length=40)
    amendment_number = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    sku = models.CharField(max_length=64)
    description = models.CharField(max_length=300)
    charge = models.CharField(max_length=40, blank=True, default="")
    unit_code = models.CharField(max_length=5, default="C62")
    tax_category = models.CharField(max_length=20)
    revenue_category = models.CharField(max_length=30, default="other")
    currency = models.CharField(max_length=3)
    quantity = DecimalTextField(help_text="negative for a reduction")
    unit_price = DecimalTextField(null=True, blank=True, help_text="per unit and price period")
    price_months = models.PositiveSmallIntegerField(
        default=0, help_text="months per price period (0: one-time)"
    )
    every_months = models.PositiveSmallIntegerField(default=1)
    anchor_day = models.PositiveSmallIntegerField(null=True, blank=True)
    anchor_month = models.PositiveSmallIntegerField(null=True, blank=True)
    timing = models.CharField(max_length=12, default="in_advance")
    prorate_partial = models.BooleanField(default=True)
    stub_basis = models.CharField(max_length=20, default="billing_period")
    start = models.DateField()
    end = models.DateField(null=True, blank=True, help_text="exclusive")
    trigger = models.CharField(max_length=20, blank=True, default="")
    trigger_on = models.DateField(null=True, blank=True)
    billed_through = models.DateField(
        null=True, blank=True, help_text="periods starting before this are billed"
    )
    terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    metric = models.CharField(
        max_length=60, blank=True, default="", db_default="", help_text="usage: the metric it meters"
    )
    included = DecimalTextField(
        null=True, blank=True, help_text="usage: units included per period (allowance)"
    )
    minimum = DecimalTextField(null=True, blank=True, help_text="usage: minimum commitment per period")
    price_book = models.CharField(
        max_length=40, blank=True, default="", db_default="", help_text="usage: '' = the best book"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "billing_schedule"
        ordering = ["account_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract_id", "line_key"], name="billing_schedule_line_once")
        ]
        indexes = [models.Index(fields=["status", "start"], name="billing_schedule_due")]

    def __str__(self) -> str:
        return f"{self.contract_number}/{self.line_key} {self.sku}"


class ScheduleFact(models.Model):
    """Something a one-time charge waits for: a delivery (with its quantity), an activation, a
    completion. ``ref`` names the event that reported it, so a repeated event adds nothing."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="facts")
    kind = models.CharField(max_length=12)
    day = models.DateField()
    quantity = DecimalTextField(default="0")
    ref = models.CharField(max_length=60)

    class Meta:
        db_table = "billing_schedule_fact"
        constraints = [models.UniqueConstraint(fields=["schedule", "ref"], name="billing_fact_once")]


class Milestone(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    percent = DecimalTextField()
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "billing_milestone"
        ordering = ["schedule_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="billing_milestone_once")
        ]


class Adjustment(models.Model):
    """A proration line of an amendment or a cancellation (``billing.engine.amend``), waiting for
    its bill date. Its key ``(schedule, effective, part)`` is the item key it is billed under."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="adjustments")
    effective = models.DateField()
    part = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, help_text="credit, charge or delta")
    bill_date = models.DateField()
    service_start = models.DateField()
    service_end = models.DateField()
    quantity = DecimalTextField()
    unit_price = DecimalTextField()
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300)
    amendment_number = models.PositiveIntegerField(null=True, blank=True)
    billed = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "billing_adjustment"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "effective", "part"], name="billing_adjustment_once")
        ]
        indexes = [models.Index(fields=["billed", "bill_date"], name="billing_adjustment_due")]


class BilledItem(models.Model):
    """One billed item, written with its invoice: the unique key makes bill runs idempotent."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="items")
    period_start = models.DateField()
    part = models.PositiveIntegerField(default=0)
    period_end = models.DateField()
    bill_date = models.DateField()
    account_id = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    invoice_id = models.BigIntegerField()
    bill_run_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "billing_item"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "period_start", "part"], name="billing_item_once")
        ]
        indexes = [models.Index(fields=["invoice_id"], name="billing_item_invoice")]


class BillRun(models.Model):
    """One bill run per business date; reruns of the date resume it (``attempts``)."""

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    as_of = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    workers = models.PositiveSmallIntegerField(default=1)
    attempts = models.PositiveIntegerField(default=1)
    holder = models.CharField(max_length=120, blank=True, default="", help_text="host:pid running it")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_done = models.PositiveIntegerField(default=0)
    invoices = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict, blank=True, help_text="{currency: total minor units}")
    errors = models.JSONField(
        default=list, blank=True, help_text="per-account errors that did not stop the run"
    )
    summary = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "billing_run"
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"bill run {self.as_of} ({self.status})"


class BillRunShard(models.Model):
    """The part of a run one worker did (accounts with ``account_id % shards == shard``)."""

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="shards")
    shard = models.PositiveSmallIntegerField()
    shards = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, default="running")
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_done = models.PositiveIntegerField(default=0)
    invoices = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "billing_run_shard"
        constraints = [models.UniqueConstraint(fields=["run", "shard", "shards"], name="billing_shard_once")]


class Charge(models.Model):
    """A one-off charge (a late fee, a usage adjustment, a manual fee) waiting for the next invoice
    of its account: the first bill run on or after ``bill_on`` puts it on the account's invoice
    (an invoice of its own when nothing else is due), taxed and posted like every other line.

    ``reference`` makes :func:`q2c.billing.services.add_charge` idempotent per account;
    ``invoice_id`` is set in the bill run's batch that invoices it (once: the update is
    conditional on it being empty)."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, default="charge", help_text="charge or usage_adjustment")
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300)
    detail = models.TextField(blank=True, default="", help_text="printed under the line (tier breakdown)")
    quantity = DecimalTextField(default="1")
    unit_price = DecimalTextField(help_text="amount ÷ quantity, as printed")
    amount_minor = models.BigIntegerField()
    tax_category = models.CharField(max_length=20)
    revenue_category = models.CharField(max_length=30, default="other")
    posting = models.CharField(max_length=12, default="revenue", help_text="revenue, unbilled or deferred")
    item_id = models.CharField(max_length=64, blank=True, default="")
    unit_code = models.CharField(max_length=5, default="C62")
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True, help_text="exclusive")
    contract_id = models.BigIntegerField(null=True, blank=True)
    contract_number = models.CharField(max_length=40, blank=True, default="")
    reference = models.CharField(max_length=120)
    bill_on = models.DateField()
    invoice_id = models.BigIntegerField(null=True, blank=True)
    bill_run_id = models.BigIntegerField(null=True, blank=True)
    billed_on = models.DateField(null=True, blank=True, help_text="the date of the invoice that carries it")
    tiers = models.JSONField(default=list, blank=True, help_text="usage: the tier breakdown printed")
    usage_close_id = models.BigIntegerField(null=True, blank=True, help_text="usage: the close that rated it")
    subscription_id = models.BigIntegerField(null=True, blank=True, help_text="usage: the usage schedule")
    dimension = models.CharField(max_length=200, blank=True, default="", help_text="usage: group-by values")
    cumulative = DecimalTextField(
        null=True, blank=True, help_text="usage: the period's aggregate billed so far"
    )
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "billing_charge"
        ordering = ["account_id", "bill_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "account", "reference"], name="billing_charge_once")
        ]
        indexes = [models.Index(fields=["invoice_id", "bill_on"], name="billing_charge_due")]

    def __str__(self) -> str:
        return f"{self.reference} {self.description}"


class UsageMetric(models.Model):
    """How a metric aggregates (``billing.engine.usage.Metric``): sum, max, count, unique count of
    ``property``, last; ``group_by`` properties split it into dimensions priced apart."""

    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    aggregation = models.CharField(max_length=20, default="sum")
    property = models.CharField(max_length=60, blank=True, default="")
    group_by = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "billing_usage_metric"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class UsageEvent(models.Model):
    """One metered event as ingested. ``(entity_id, event_id)`` is unique: a re-sent event is
    ignored by the insert (``ON CONFLICT DO NOTHING``). ``period_start`` is the first day of the
    calendar month its timestamp falls in, in the entity's time zone; ``ts_us`` the timestamp in
    microseconds since the Unix epoch (UTC). A usage close covers a month's events up to its
    ``last_event_id`` (rows are never rewritten).

    Written in bulk by raw inserts (``q2c.billing.usage``): no ORM call per event."""

    entity_id = models.BigIntegerField()
    event_id = models.CharField(max_length=200)
    subscription_id = models.BigIntegerField()
    account_id = models.BigIntegerField()
    metric = models.CharField(max_length=60)
    quantity = DecimalTextField()
    ts_us = models.BigIntegerField()
    period_start = models.DateField()
    properties = models.TextField(blank=True, default="", help_text="JSON object of strings ('' = none)")
    received_at = models.DateTimeField()

    class Meta:
        db_table = "billing_usage_event"
        constraints = [
            models.UniqueConstraint(fields=["entity_id", "event_id"], name="billing_usage_event_once")
        ]
        indexes = [
            models.Index(fields=["subscription_id", "period_start"], name="billing_usage_sub_period"),
        ]


class UsageClose(models.Model):
    """One rating of a subscription's period: the first (``seq`` 0) bills the period, later ones
    bill late events as adjustments. Events carry the close that rated them."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="usage_closes")
    period_start = models.DateField()
    period_end = models.DateField()
    seq = models.PositiveIntegerField()
    as_of = models.DateField()
    events = models.PositiveIntegerField(default=0)
    amount_minor = models.BigIntegerField(default=0, help_text="what this close added (all its lines)")
    last_event_id = models.BigIntegerField(
        default=0,
        help_text="the month's events with row ids up to this one are rated (by this close or earlier)",
    )
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "billing_usage_close"
        ordering = ["schedule_id", "period_start", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period_start", "seq"], name="billing_usage_close_once"
            )
        ]


class UsagePending(models.Model):
    """A subscription's month with events not yet rated: what the next usage close rates."""

    subscription_id = models.BigIntegerField()
    period_start = models.DateField()
    touched_at = models.DateTimeField()

    class Meta:
        db_table = "billing_usage_pending"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription_id", "period_start"], name="billing_usage_pending_once"
            )
        ]


class UsageTerms(models.Model):
    """A usage subscription's terms from one month on (``q2c.billing.usage.set_usage_terms``): the
    allowance (``included`` units per month), the minimum commitment, the price book and price
    overrides per dimension value (``prices``: ``[{"dimension": {"region": "EU"}, "model":
    "tiered", "tiers": [...]}, ...]``; ``{}`` = every other value). In force from
    ``effective_from`` (a month's first day) until the next terms; before the first, the
    schedule's own fields apply. Months already rated are never given other terms."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="usage_terms")
    effective_from = models.DateField()
    included = DecimalTextField(null=True, blank=True)
    minimum = DecimalTextField(null=True, blank=True)
    price_book = models.CharField(max_length=40, blank=True, default="")
    prices = models.JSONField(default=list, blank=True)
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "billing_usage_terms"
        ordering = ["schedule_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "effective_from"], name="billing_usage_terms_once")
        ]
