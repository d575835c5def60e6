"""Payments tables: payments and their applications to invoices, reopened receivables, refunds,
disputes, write-off requests, card-gateway charges and webhook deliveries, SEPA mandates and
collection files, and per-entity settings.

Invoices belong to ``q2c.invoicing`` and are named here by plain ids (``invoice_id``); the
invoice's own paid/written-off columns are moved only through ``q2c.invoicing.services``. What
payments add to an invoice's receivable — applications, amounts reopened by a reversal — lives in
these tables. Foreign keys go only to ``parties`` aggregate roots (PROTECT). Amounts are
``MoneyField`` (BIGINT minor units + currency); rates exact decimal text.

Rows are written only by ``q2c.payments.services``. Must not import any q2c app above payments.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from q2c.payments.domain import (
    DisputeStatus,
    MandateStatus,
    Method,
    PaymentStatus,
    RefundMethod,
    WriteOffStatus,
)
from q2c.platform.fields import DecimalTextField, MoneyField


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class PaymentSettings(models.Model):
    """Payments settings of one legal entity (absent: the defaults)."""

    entity = models.OneToOneField("parties.LegalEntity", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3, help_text="the entity's base currency")
    write_off_limit = MoneyField(default=5000, help_text="write-offs above this need a second person's approval")
    auto_apply_credit = models.BooleanField(default=True, help_text="apply customer credit to open invoices daily")
    card_settlement_days = models.PositiveSmallIntegerField(default=2)
    card_fee_percent = DecimalTextField(default="1.4", help_text="the sandbox gateway's fee, % of the amount")
    card_fee_fixed = MoneyField(default=25)
    dispute_fee = MoneyField(default=1500, help_text="what the card network charges for a lost dispute")
    sepa_prenotification_days = models.PositiveSmallIntegerField(
        default=14, help_text="days between the pre-notification and the collection (EPC default 14)"
    )

    class Meta:
        db_table = "payments_settings"


class Payment(models.Model):
    # Indexed through the constraints and indexes below (entity, number) and (account, status):
    # a bank run inserts ~100,000 payments, and each index costs every insert.
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+", db_index=False)
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+", db_index=False)
    number = models.CharField(max_length=40)
    method = models.CharField(max_length=15, choices=_choices(Method))
    status = models.CharField(max_length=10, choices=_choices(PaymentStatus), default=PaymentStatus.RECEIVED.value)
    currency = models.CharField(max_length=3)
    amount = MoneyField(help_text="credited to the customer (before bank fees)")
    fees = MoneyField(default=0, help_text="kept by the bank or gateway; the bank receives amount − fees")
    applied = MoneyField(default=0)
    refunded = MoneyField(default=0)
    received_on = models.DateField()
    base_currency = models.CharField(max_length=3)
    rate = DecimalTextField(default="1", help_text="1 payment unit = rate base units, on the payment date")
    amount_base = MoneyField(default=0, currency_field="base_currency")
    fees_base = MoneyField(default=0, currency_field="base_currency")
    applied_base = MoneyField(default=0, currency_field="base_currency")
    refunded_base = MoneyField(default=0, currency_field="base_currency")
    deposit = models.CharField(max_length=40, default="bank", help_text="ledger account key the money went to")
    payer_name = models.CharField(max_length=140, blank=True, default="")
    payer_iban = models.CharField(max_length=34, blank=True, default="")
    reference = models.CharField(max_length=140, blank=True, default="")
    external_id = models.CharField(max_length=80, blank=True, default="", help_text="gateway or bank id")
    # Only direct debits have these: indexed where set (partial indexes below).
    mandate = models.ForeignKey("payments.Mandate", null=True, blank=True, on_delete=models.PROTECT, related_name="payments", db_index=False)
    collection = models.ForeignKey("payments.Collection", null=True, blank=True, on_delete=models.PROTECT, related_name="payments", db_index=False)
    failure_code = models.CharField(max_length=40, blank=True, default="")
    failure_reason = models.CharField(max_length=300, blank=True, default="")
    reversed_on = models.DateField(null=True, blank=True)
    settled_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_payment"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="payments_payment_number_once"),
            models.UniqueConstraint(
                fields=["entity", "method", "external_id"],
                condition=~Q(external_id=""),
                name="payments_payment_external_once",
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_payment_positive"),
            models.CheckConstraint(
                condition=Q(applied_minor__gte=0) & Q(refunded_minor__gte=0), name="payments_payment_used_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="payments_payment_account"),
            models.Index(fields=["mandate"], condition=Q(mandate__isnull=False), name="payments_payment_mandate"),
            models.Index(
                fields=["collection"], condition=Q(collection__isnull=False), name="payments_payment_collection"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def unapplied_minor(self) -> int:
        d = self.__dict__
        return int(d["amount_minor"]) - int(d["applied_minor"]) - int(d["refunded_minor"])

    @property
    def unapplied_base_minor(self) -> int:
        d = self.__dict__
        return int(d["amount_base_minor"]) - int(d["applied_base_minor"]) - int(d["refunded_base_minor"])


class Application(models.Model):
    """Part of a payment taken off one invoice (reversed: undone by a chargeback or a return)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="applications")
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    invoice_id = models.BigIntegerField(db_index=True)
    invoice_number = models.CharField(max_length=40)
    currency = models.CharField(max_length=3, help_text="the payment's")
    amount = MoneyField()
    invoice_currency = models.CharField(max_length=3)
    invoice_amount = MoneyField(currency_field="invoice_currency")
    base_currency = models.CharField(max_length=3)
    base = MoneyField(currency_field="base_currency", help_text="the payment's value consumed")
    ar_base = MoneyField(currency_field="base_currency", help_text="the receivable relieved")
    reopened_part = MoneyField(default=0, currency_field="invoice_currency", help_text="taken off a reopened amount")
    applied_on = models.DateField()
    reversed = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_application"
        ordering = ["id"]


class Reopened(models.Model):
    """What a reversal put back on an invoice the invoicing app records as settled: open again
    here (and in the ledger's receivables) until paid again."""

    invoice_id = models.BigIntegerField(unique=True)
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = MoneyField(default=0)
    base_currency = models.CharField(max_length=3)
    amount_base = MoneyField(default=0, currency_field="base_currency")

    class Meta:
        db_table = "payments_reopened"
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="payments_reopened_not_negative")
        ]


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=_choices(RefundMethod))
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    base_currency = models.CharField(max_length=3)
    amount_base = MoneyField(currency_field="base_currency")
    refunded_on = models.DateField()
    reason = models.CharField(max_length=300, blank=True, default="")
    external_id = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_refund"
        ordering = ["-id"]


class Dispute(models.Model):
    """A chargeback on a card payment (``payment``), or a customer contesting an invoice
    (``invoice_id`` only: dunning pauses while it is open; no money moves)."""

    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes")
    invoice_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=6, choices=_choices(DisputeStatus), default=DisputeStatus.OPEN.value)
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    fee = MoneyField(default=0)
    reason = models.CharField(max_length=300, blank=True, default="")
    external_id = models.CharField(max_length=80, blank=True, default="")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_dispute"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment"], condition=Q(status="open", payment__isnull=False), name="payments_dispute_one_open"
            ),
            models.UniqueConstraint(
                fields=["invoice_id"], condition=Q(status="open", payment__isnull=True), name="payments_invoice_dispute_one_open"
            ),
        ]


class WriteOff(models.Model):
    invoice_id = models.BigIntegerField(db_index=True)
    invoice_number = models.CharField(max_length=40)
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=_choices(WriteOffStatus))
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    reason = models.CharField(max_length=300, blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    requested_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_write_off"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_id"], condition=Q(status="pending"), name="payments_write_off_one_pending"
            )
        ]


class Mandate(models.Model):
    """A SEPA Direct Debit mandate (core scheme): the debtor's IBAN/BIC, reference and signature date."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=35, help_text="the unique mandate reference (UMR)")
    debtor_name = models.CharField(max_length=70)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)
    signed_on = models.DateField()
    status = models.CharField(max_length=8, choices=_choices(MandateStatus), default=MandateStatus.ACTIVE.value)
    first_used_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_mandate"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "reference"], name="payments_mandate_reference_once")
        ]


class Collection(models.Model):
    """A pain.008.001.08 collection file: the direct debits of one collection date."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=35, unique=True)
    collection_date = models.DateField()
    currency = models.CharField(max_length=3, default="EUR")
    count = models.PositiveIntegerField()
    total = MoneyField()
    xml = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    items = models.JSONField(default=list, help_text="per debit: payment_id, invoice_id, end_to_end_id, sequence")
    settled = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_collection"
        ordering = ["-id"]


class GatewayCharge(models.Model):
    """A card charge at a gateway: authorised, maybe waiting for 3-D Secure, captured, settled."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    gateway = models.CharField(max_length=20, default="sandbox")
    external_id = models.CharField(max_length=80)
    status = models.CharField(max_length=20, help_text="requires_action, authorised, captured, settled, failed, refunded")
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    invoice_ids = models.JSONField(default=list)
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="charge")
    failure_code = models.CharField(max_length=40, blank=True, default="")
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="newest webhook applied (older ones are stale)")
    settle_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_gateway_charge"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "external_id"], name="payments_charge_once")
        ]


class WebhookDelivery(models.Model):
    """A webhook received from a gateway, kept by its event id so a replay changes nothing."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=80)
    event_type = models.CharField(max_length=60)
    created = models.DateTimeField(help_text="when the gateway says the event happened")
    payload = models.JSONField()
    outcome = models.CharField(max_length=20, help_text="applied, stale, ignored")
    received_at = models.DateTimeField()

    class Meta:
        db_table = "payments_webhook"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="payments_webhook_once")
        ]
