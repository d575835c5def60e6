"""Cash application tables: what q2c knows about its bank accounts, the statements and lines it
imported, matching runs, the cash it applied (with the reasons), and the payers it learned.

- :class:`CashAccount` — cash-application settings of one of the seller's bank accounts
  (``parties.BankAccount``): the CSV column mapping of its exports, the bank-fee tolerance, the
  auto-apply threshold.
- :class:`StatementFile` — one imported file (hash, format, counts, warnings).
- :class:`Statement` and :class:`BankLine` — what the bank said, one row per statement and per
  transaction detail; ``(bank_account, fingerprint)`` is unique for both, so importing a file
  again, or a later file that repeats lines, writes nothing new.
- :class:`MatchRun` — one pass of the matcher over unresolved lines, with its counts.
- :class:`CashApplication` — cash (and a bank fee) applied from a line to an invoice, automatic
  or by a person, with the reasons and the payments app's payment id.
- :class:`KnownPayer` — an IBAN that paid for a customer (learned from every applied line).

Amounts are ``MoneyField`` (minor units + currency). Lines are signed: money in > 0.
Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models

from q2c.platform.fields import MoneyField


class LineState(StrEnum):
    NEW = "new"  # imported, not matched yet
    APPLIED = "applied"  # cash applied (automatically or by a person)
    PROPOSED = "proposed"  # a proposal below the threshold waits in the workbench
    UNIDENTIFIED = "unidentified"  # nothing found: the queue (never dropped)
    NOT_RECEIVABLE = "not_receivable"  # money out, or nothing for receivables (matcher's verdict)
    NOT_OURS = "not_ours"  # a person marked it as not accounts receivable
    PENDING = "pending"  # not booked yet (camt PDNG / INFO): never applied


UNRESOLVED = (LineState.NEW, LineState.PROPOSED, LineState.UNIDENTIFIED)


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(m.value, m.value.replace("_", " ")) for m in enum]


class CashAccount(models.Model):
    """Cash-application settings of one of the seller's bank accounts."""

    bank_account = models.OneToOneField(
        "parties.BankAccount", on_delete=models.PROTECT, related_name="+", primary_key=True
    )
    currency = models.CharField(max_length=3)
    fee_tolerance = MoneyField(default=0, help_text="short payments up to this are a bank fee")
    auto_threshold = models.PositiveSmallIntegerField(default=90)
    csv_mapping = models.JSONField(default=dict, blank=True, help_text="column mapping of CSV exports")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_cash_account"


class StatementFile(models.Model):
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=30)
    file_name = models.CharField(max_length=255, blank=True, default="")
    statements = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0, help_text="transaction details in the file")
    saved_lines = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_cash_statement_file"
        ordering = ["-id"]


class Statement(models.Model):
    bank_account = models.ForeignKey("parties.BankAccount", on_delete=models.PROTECT, related_name="+")
    file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="statement_rows")
    fingerprint = models.CharField(max_length=48)
    statement_id = models.CharField(max_length=140, blank=True, default="")
    kind = models.CharField(max_length=15, default="statement")
    sequence = models.CharField(max_length=40, blank=True, default="")
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    opening = MoneyField(null=True, blank=True)
    opening_date = models.DateField(null=True, blank=True)
    closing = MoneyField(null=True, blank=True)
    closing_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "payments_cash_statement"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "fingerprint"], name="payments_cash_statement_once"
            ),
        ]


class MatchRun(models.Model):
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    proposed = models.PositiveIntegerField(default=0)
    unidentified = models.PositiveIntegerField(default=0)
    not_receivable = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_cash_match_run"
        ordering = ["-id"]


class BankLine(models.Model):
    """One transaction detail of a statement: the unit cash application works on."""

    # Indexed by the (bank account, fingerprint) constraint below.
    bank_account = models.ForeignKey("parties.BankAccount", on_delete=models.PROTECT, related_name="+", db_index=False)
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    fingerprint = models.CharField(max_length=48)
    entry_fingerprint = models.CharField(max_length=48, blank=True, default="")
    currency = models.CharField(max_length=3)
    amount = MoneyField(help_text="signed: money in > 0")
    booking_date = models.DateField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    booking_status = models.CharField(max_length=4, default="BOOK")
    reversal = models.BooleanField(default=False)
    bank_reference = models.CharField(max_length=140, blank=True, default="")
    end_to_end_id = models.CharField(max_length=140, blank=True, default="")
    remittance = models.TextField(blank=True, default="")
    references = models.JSONField(default=list, blank=True)
    payer_name = models.CharField(max_length=200, blank=True, default="")
    payer_iban = models.CharField(max_length=34, blank=True, default="")
    state = models.CharField(max_length=15, choices=_choices(LineState), default=LineState.NEW.value)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    #: why the line is where it is: the matcher's reasons, or the person's note
    reasons = models.JSONField(default=list, blank=True)
    #: the matcher's proposal and alternatives (applications in minor units) for the workbench
    proposal = models.JSONField(null=True, blank=True)
    alternatives = models.JSONField(default=list, blank=True)
    unapplied = MoneyField(default=0, help_text="cash of the line not applied to any invoice")
    customer_id = models.BigIntegerField(
        null=True, blank=True, help_text="parties.Account the cash came from"
    )
    match_run = models.ForeignKey(
        MatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "payments_cash_line"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["bank_account", "fingerprint"], name="payments_cash_line_once"),
        ]
        indexes = [models.Index(fields=["state", "bank_account"], name="payments_cash_line_state")]


class CashApplication(models.Model):
    """Cash applied from a bank line to one invoice (and a bank fee written off on it)."""

    line = models.ForeignKey(BankLine, on_delete=models.PROTECT, related_name="applications")
    invoice_id = models.BigIntegerField(db_index=True)
    invoice_number = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    fee = MoneyField(default=0)
    how = models.CharField(max_length=10, help_text="auto or manual")
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    payment_id = models.BigIntegerField(null=True, blank=True, help_text="the payments app's payment")
    match_run = models.ForeignKey(
        MatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "payments_cash_application"
        ordering = ["id"]


class KnownPayer(models.Model):
    """An IBAN that paid for a customer before: evidence for the next payment from it."""

    account = models.ForeignKey("parties.Account", on_delete=models.CASCADE, related_name="+")
    iban = models.CharField(max_length=34)
    name = models.CharField(max_length=200, blank=True, default="")
    last_paid_on = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "payments_cash_known_payer"
        constraints = [
            models.UniqueConstraint(fields=["account", "iban"], name="payments_cash_known_payer_once"),
        ]
