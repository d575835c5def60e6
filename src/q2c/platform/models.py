"""Platform tables: number counters, the event log and its seals, daily schedules."""

from __future__ import annotations

from django.db import models


class NumberCounter(models.Model):
    """The next number of one gapless sequence (per entity, kind and year; year 0 = no year)."""

    entity_id = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    year = models.IntegerField(default=0)
    next_value = models.BigIntegerField(default=1)

    class Meta:
        db_table = "platform_number_counter"
        constraints = [
            models.UniqueConstraint(fields=["entity_id", "kind", "year"], name="platform_counter_key")
        ]


class Event(models.Model):
    """A domain event. ``seq`` is gapless and taken in the writer's transaction; ``hash`` is set
    later by the sealer (the audit chain), so writers never wait on a chain head."""

    seq = models.BigIntegerField(unique=True)
    type = models.CharField(max_length=80, db_index=True)
    aggregate_type = models.CharField(max_length=60)
    aggregate_id = models.CharField(max_length=64)
    entity_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True, default="")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(default=dict)
    hash = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "platform_event"
        indexes = [models.Index(fields=["aggregate_type", "aggregate_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type} {self.aggregate_type}:{self.aggregate_id}"


class AuditAnchor(models.Model):
    """The chain head after each seal, kept apart from the events so a rewritten tail shows."""

    sealed_through = models.BigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "platform_audit_anchor"


class Schedule(models.Model):
    """A job that runs once per business date at a local time of day."""

    name = models.CharField(max_length=80, unique=True)
    job = models.CharField(max_length=120, help_text="registered job name, e.g. billing.bill_run")
    time_zone = models.CharField(max_length=64, default="UTC")
    hour = models.PositiveSmallIntegerField(default=2)
    minute = models.PositiveSmallIntegerField(default=0)
    start_date = models.DateField()
    enabled = models.BooleanField(default=True)

    class Meta:
        db_table = "platform_schedule"

    def __str__(self) -> str:
        return f"{self.name} ({self.job} at {self.hour:02d}:{self.minute:02d} {self.time_zone})"


class ScheduleRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    business_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    worker = models.CharField(max_length=100, blank=True, default="")
    attempts = models.PositiveIntegerField(default=1)
    lease_until = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "platform_schedule_run"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "business_date"], name="platform_schedule_run_once")
        ]


from q2c.platform.auth import ApiToken  # noqa: E402,F401  (model lives with its auth code)
from q2c.platform.idempotency import IdempotencyRecord  # noqa: E402,F401  (model lives with its middleware)
