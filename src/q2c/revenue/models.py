"""Tables of the revenue app: each contract's revenue document and obligations, recognition runs
and the lines they posted, the contract-asset part of each contract's position, and revenue
periods (locked at close). Positions at a month end are computed from the lines and billing
(``q2c.revenue.queries.position_rows``).

A ``RevenueContract`` is one contract of the contracts app seen by revenue: its ``document`` is
the contract in the revenue preview format (docs/revenue-preview.md) — obligations from the
contract lines, SSPs, facts (deliveries, progress, milestones), modifications from amendments —
and every change re-runs the pure engine on it and stores the result in ``Obligation`` rows (the
allocation and the cumulative schedule). A modification accounted for as a separate contract
gives obligations with their own ``label`` (``CON-2027-000001-A1``): the accounting contract.

Amounts are integer minor units (``*_minor``) in the row's ``currency``; the hot path (the
recognition run) reads and writes them in bulk. Rows are written only by ``q2c.revenue.services``
and ``q2c.revenue.run``. Other apps' rows are named by plain ids. Must not import higher apps.
"""

from __future__ import annotations

from django.db import models


class RevenueContract(models.Model):
    entity_id = models.BigIntegerField(db_index=True)
    contract_id = models.BigIntegerField(unique=True, help_text="contracts.Contract id")
    account_id = models.BigIntegerField()
    number = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=20, default="active")  # active, ended, cancelled, error
    document = models.JSONField(help_text="the contract in the revenue preview format")
    facts = models.JSONField(default=dict, help_text="per line key: quantity, sku; amendments applied")
    error = models.TextField(blank=True, default="", help_text="why the engine refused the document")
    previous_contract_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "revenue_contract"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.number


class Obligation(models.Model):
    contract = models.ForeignKey(RevenueContract, on_delete=models.CASCADE, related_name="obligations")
    entity_id = models.BigIntegerField()
    key = models.CharField(max_length=60, help_text="the obligation id in the document (the line key)")
    label = models.CharField(max_length=60, help_text="the accounting contract (a separate contract's own)")
    sku = models.CharField(max_length=64, blank=True, default="")
    description = models.CharField(max_length=300, blank=True, default="")
    category = models.CharField(max_length=30, default="other")
    pattern = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    ssp_minor = models.BigIntegerField(null=True, blank=True)
    ssp_basis = models.CharField(max_length=30, blank=True, default="")
    allocated_minor = models.BigIntegerField(default=0)
    #: ``[[month-end ordinal, cumulative minor], …]`` — what the engine schedules, to the end.
    schedule = models.JSONField(default=list)
    recognised_minor = models.BigIntegerField(default=0, help_text="posted so far (cumulative)")

    class Meta:
        db_table = "revenue_obligation"
        ordering = ["contract_id", "id"]
        constraints = [models.UniqueConstraint(fields=["contract", "key"], name="revenue_obligation_once")]
        indexes = [models.Index(fields=["entity_id"], name="revenue_obligation_entity")]


class Decision(models.Model):
    """How one modification (an amendment or cancellation) was accounted for, and why."""

    contract = models.ForeignKey(RevenueContract, on_delete=models.CASCADE, related_name="decisions")
    index = models.PositiveIntegerField(help_text="position in the document's modifications")
    on = models.DateField()
    source = models.CharField(max_length=60, blank=True, default="")
    treatment = models.CharField(max_length=30)
    decided_by = models.CharField(max_length=10)
    reason = models.TextField()
    note = models.TextField(blank=True, default="")
    new_contract = models.CharField(max_length=60, blank=True, default="")
    consideration_minor = models.BigIntegerField(default=0)

    class Meta:
        db_table = "revenue_decision"
        ordering = ["contract_id", "index"]
        constraints = [models.UniqueConstraint(fields=["contract", "index"], name="revenue_decision_once")]


class RevenuePeriod(models.Model):
    """A month of one entity: open, or closed (no recognition into it)."""

    entity_id = models.BigIntegerField()
    start = models.DateField()
    status = models.CharField(max_length=10, default="open")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True, default="")
    reopen_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "revenue_period"
        ordering = ["entity_id", "start"]
        constraints = [models.UniqueConstraint(fields=["entity_id", "start"], name="revenue_period_once")]


class RecognitionRun(models.Model):
    """One recognition run of one entity through a month end (a rerun posts only what is new)."""

    entity_id = models.BigIntegerField()
    period = models.DateField(help_text="first day of the month")
    through = models.DateField(help_text="last day of the month: the entries' date")
    attempt = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    recognised_minor = models.BigIntegerField(default=0)
    usage_minor = models.BigIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    entry_number = models.CharField(max_length=40, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "revenue_run"
        ordering = ["entity_id", "period", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["entity_id", "period", "attempt"], name="revenue_run_once")
        ]


class RecognitionLine(models.Model):
    """Revenue one run recognised for one obligation."""

    # No index on the two keys: the run writes these rows by the hundred thousand, and they are
    # read by entity and period (indexed) — each index would cost every insert a B-tree update.
    run = models.ForeignKey(RecognitionRun, on_delete=models.PROTECT, related_name="+", db_index=False)
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="+", db_index=False)
    entity_id = models.BigIntegerField()
    period = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        db_table = "revenue_line"
        indexes = [models.Index(fields=["entity_id", "period"], name="revenue_line_entity_period")]


class ContractAsset(models.Model):
    """The part of a contract's net position the ledger carries as a contract asset (debit),
    the rest being deferred revenue: kept by the recognition run and by billing's split."""

    contract_id = models.BigIntegerField(unique=True)
    entity_id = models.BigIntegerField()
    asset_minor = models.BigIntegerField(default=0)

    class Meta:
        db_table = "revenue_contract_asset"


class ContractAssetMove(models.Model):
    """One change of a contract's contract asset, dated: a recognition run's reclassification
    (dated the run's month end) or billing clearing it (dated the invoice). The sum of the moves
    dated on or before a day is the contract asset the ledger carries that day, so a rerun of a
    month compares its target with the asset at that month end — not with today's, which later
    billing may already have cleared."""

    contract_id = models.BigIntegerField()
    entity_id = models.BigIntegerField()
    day = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        db_table = "revenue_contract_asset_move"
        indexes = [models.Index(fields=["entity_id", "day"], name="revenue_asset_move_day")]
