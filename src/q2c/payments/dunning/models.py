"""Dunning tables: policies per customer segment and their steps, each account's segment, the
dunning log (one row per invoice and step, with the document sent), the daily runs, promises to
pay, collector notes, and the payment-retry rules and their scheduled retries.

Foreign keys go only to public aggregate roots of lower layers (``parties.LegalEntity``,
``parties.Account``, ``invoicing.Invoice``, PROTECT). Amounts are ``MoneyField`` (BIGINT minor
units + currency), the interest rate exact decimal text. Rows are written only by
``q2c.payments.dunning.services``.

Unique constraints make reruns harmless: an invoice gets each step of its policy at most once
(``payments_dunning_step_once``), a business date is run at most once
(``payments_dunning_run_once``).

Must not import ``q2c.analytics`` or ``q2c.simulation``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from q2c.payments.dunning.engine import Action
from q2c.payments.dunning.retries import RetryAction
from q2c.platform.fields import DecimalTextField, MoneyField


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class DunningPolicy(models.Model):
    """How one segment of a seller's customers is chased (``segment`` ``default`` covers the rest)."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    segment = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    interest_rate = DecimalTextField(
        default="0", help_text="annual rate for statutory interest, 0.1127 = 11.27 %"
    )
    fee_tax_category = models.CharField(
        max_length=20, default="service", help_text="tax category of fee and interest lines"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_dunning_policy"
        ordering = ["entity_id", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "segment"], name="payments_dunning_policy_segment_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.segment})"


class DunningStep(models.Model):
    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    key = models.SlugField(max_length=40)
    offset_days = models.PositiveSmallIntegerField(help_text="days after the due date")
    action = models.CharField(max_length=20, choices=_choices(Action))
    currency = models.CharField(max_length=3, blank=True, default="")
    fee = MoneyField(null=True, blank=True)
    charge_interest = models.BooleanField(default=False)
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(
        blank=True, default="", help_text="e-mail text; {number}, {due_date}, {open_amount}, {days}"
    )

    class Meta:
        db_table = "payments_dunning_step"
        ordering = ["policy_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "key"], name="payments_dunning_step_key_once"),
            models.UniqueConstraint(
                fields=["policy", "offset_days"], name="payments_dunning_step_offset_once"
            ),
        ]


class AccountSegment(models.Model):
    """The dunning segment of a customer (absent: its kind, ``business`` or ``consumer``)."""

    account = models.OneToOneField("parties.Account", on_delete=models.CASCADE, related_name="+")
    segment = models.SlugField(max_length=40)

    class Meta:
        db_table = "payments_dunning_account_segment"


class DunningRun(models.Model):
    """The daily job's run of one business date (all entities)."""

    business_date = models.DateField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "payments_dunning_run"
        ordering = ["-business_date"]


class DunningEntry(models.Model):
    """The dunning log: one step carried out (or skipped) for one invoice, with the document sent."""

    class Status(models.TextChoices):
        DONE = "done"  # carried out; an e-mail was queued when the account has an address
        SKIPPED = "skipped"  # fell due while paused or missed; superseded by a later step

    class Mail(models.TextChoices):
        NONE = "none"  # no e-mail (skipped, or no address on file)
        QUEUED = "queued"
        SENT = "sent"
        FAILED = "failed"

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    invoice_number = models.CharField(max_length=40)
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="+")
    step_key = models.SlugField(max_length=40)
    action = models.CharField(max_length=20, choices=_choices(Action))
    status = models.CharField(max_length=10, choices=Status.choices)
    business_date = models.DateField()
    days_overdue = models.IntegerField()
    currency = models.CharField(max_length=3)
    open_amount = MoneyField()
    fee = MoneyField(default=0)
    interest = MoneyField(default=0)
    charge_ids = models.JSONField(
        default=list, blank=True, help_text="billing charges made for the fee and interest"
    )
    email_to = models.CharField(max_length=300, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    document_sha256 = models.CharField(max_length=64, blank=True, default="")
    mail = models.CharField(max_length=10, choices=Mail.choices, default=Mail.NONE)
    mail_attempts = models.PositiveSmallIntegerField(default=0)
    mail_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "payments_dunning_entry"
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "step_key"], name="payments_dunning_step_once")
        ]
        indexes = [models.Index(fields=["account", "business_date"], name="payments_dunning_entry_acct")]


class PromiseToPay(models.Model):
    """A customer's promise to pay overdue invoices by a date; pauses their dunning up to it."""

    class Status(models.TextChoices):
        OPEN = "open"
        KEPT = "kept"
        BROKEN = "broken"
        CANCELLED = "cancelled"

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    invoice_ids = models.JSONField(
        default=list, help_text="the invoices promised; empty: all open on the day"
    )
    promised_date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True, default="")
    recorded_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_dunning_promise"
        ordering = ["-recorded_on", "-id"]
        indexes = [models.Index(fields=["account", "status"], name="payments_dunning_promise_open")]


class CollectionNote(models.Model):
    """A collector's note on an account, with the next action and its date."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True, default="")
    next_action = models.CharField(max_length=200, blank=True, default="")
    next_action_on = models.DateField(null=True, blank=True)
    created_on = models.DateField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_dunning_note"
        ordering = ["-created_at", "-id"]


class RetryRule(models.Model):
    """What to do after a failed card or direct-debit payment, by failure reason and segment."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    segment = models.SlugField(max_length=40, default="default")
    method = models.CharField(max_length=20, help_text="card or direct_debit")
    reason = models.CharField(max_length=40, help_text="failure reason, e.g. insufficient_funds")
    action = models.CharField(max_length=20, choices=_choices(RetryAction))
    retry_days = models.JSONField(default=list, help_text="days after the failure, e.g. [3, 7]")

    class Meta:
        db_table = "payments_dunning_retry_rule"
        ordering = ["entity_id", "segment", "method", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "segment", "method", "reason"], name="payments_dunning_retry_rule_once"
            )
        ]


class PaymentRetry(models.Model):
    """One planned retry of a failed payment (or a request for a new payment method)."""

    class Status(models.TextChoices):
        PLANNED = "planned"
        DONE = "done"
        CANCELLED = "cancelled"

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    payment_id = models.BigIntegerField(help_text="the failed payment (payments app)")
    invoice_id = models.BigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=20)
    reason = models.CharField(max_length=40)
    attempt = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=20, choices=_choices(RetryAction))
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    outcome = models.CharField(max_length=200, blank=True, default="")
    done_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "payments_dunning_payment_retry"
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment_id", "attempt"], name="payments_dunning_retry_once")
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="payments_dunning_retry_due"),
            models.Index(
                fields=["account"], condition=Q(status="planned"), name="payments_dunning_retry_acct"
            ),
        ]
