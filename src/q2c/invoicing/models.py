"""Invoicing tables: invoices and their lines, credit notes and theirs, rendered documents, e-mail
deliveries, frozen party snapshots, exchange rates and invoicing settings.

``Invoice`` and ``CreditNote`` hold foreign keys to ``parties.LegalEntity`` and
``parties.Account`` (public aggregate roots of a lower layer, PROTECT). Contracts, schedules and
bill runs are named by plain ids. Amounts are ``MoneyField`` (BIGINT minor units + currency);
quantities, unit prices, rates and percentages exact decimal text.

An issued invoice is never edited: the issuing transaction writes it whole (number, amounts, tax,
rate, snapshots of seller and buyer, content hash); afterwards only its settlement columns (paid,
credited, written off), its status and its void mark change. Corrections are credit notes.
Rows are written only by ``q2c.invoicing.services``.

Must not import any q2c app above ``invoicing`` (contracts, orders, billing …).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from q2c.invoicing.domain import CreditReason, InvoiceStatus, Posting, TermsBasis
from q2c.platform.fields import DecimalTextField, MoneyField


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class InvoicingSettings(models.Model):
    """Invoicing settings of one legal entity (absent: the defaults below).

    Payment terms days come from the entity (``LegalEntity.payment_terms_days``) and the account;
    the *basis* (net N or end of month + N) is set here.
    """

    entity = models.OneToOneField("parties.LegalEntity", on_delete=models.CASCADE, related_name="+")
    terms_basis = models.CharField(max_length=15, choices=_choices(TermsBasis), default=TermsBasis.NET.value)
    formats = models.CharField(
        max_length=60, default="pdf,ubl", help_text="documents rendered at issue: pdf, ubl, cii, facturx"
    )
    send_email = models.BooleanField(default=True, help_text="e-mail issued documents to the customer")
    email_xml = models.BooleanField(
        default=True, help_text="attach the e-invoice XML (UBL/CII) to the e-mail beside the PDF"
    )
    fx_max_age_days = models.PositiveSmallIntegerField(
        default=7, help_text="an exchange rate older than this on the issue date is missing"
    )
    render_in_bill_run = models.BooleanField(
        default=False,
        help_text="render documents inside each bill-run batch (slow); off: right after the batch commits",
    )

    class Meta:
        db_table = "invoicing_settings"


class AccountInvoicing(models.Model):
    """Per-customer overrides of the entity's invoicing settings (absent: the entity's)."""

    account = models.OneToOneField("parties.Account", on_delete=models.CASCADE, related_name="+")
    terms_basis = models.CharField(max_length=15, choices=_choices(TermsBasis), blank=True, default="")
    buyer_reference = models.CharField(
        max_length=100, blank=True, default="", help_text="the customer's PO or reference (BT-10)"
    )
    send_email = models.BooleanField(null=True, blank=True)
    formats = models.CharField(
        max_length=60, blank=True, default="", help_text="documents rendered at issue ('' = the entity's)"
    )
    email_xml = models.BooleanField(null=True, blank=True, help_text="attach the XML (None = the entity's)")

    class Meta:
        db_table = "invoicing_account_settings"


class ExchangeRate(models.Model):
    """How many units of ``quote`` one unit of ``base`` buys on ``day`` (entered or imported)."""

    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    day = models.DateField()
    rate = DecimalTextField()
    source = models.CharField(max_length=60, blank=True, default="manual")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "invoicing_exchange_rate"
        ordering = ["base", "quote", "-day"]
        constraints = [models.UniqueConstraint(fields=["base", "quote", "day"], name="invoicing_rate_once")]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} on {self.day}"


class PartySnapshot(models.Model):
    """Seller or buyer data as an issued document states them, frozen (shared by content hash)."""

    sha256 = models.CharField(max_length=64, unique=True)
    data = models.JSONField()

    class Meta:
        db_table = "invoicing_party_snapshot"


class Invoice(models.Model):
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=15, choices=_choices(InvoiceStatus), default=InvoiceStatus.DRAFT.value
    )
    number = models.CharField(max_length=40, blank=True, default="")
    year = models.IntegerField(null=True, blank=True)
    seq = models.IntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    tax_date = models.DateField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True)
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    terms_basis = models.CharField(max_length=15, default=TermsBasis.NET.value)
    terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    payment_terms = models.CharField(max_length=100, blank=True, default="")
    net = MoneyField(default=0)
    tax = MoneyField(default=0)
    total = MoneyField(default=0)
    paid = MoneyField(default=0)
    credited = MoneyField(default=0)
    written_off = MoneyField(default=0)
    written_off_on = models.DateField(null=True, blank=True)
    # The entity's currency and the rate captured at issue (1 invoice unit = rate entity units).
    base_currency = models.CharField(max_length=3, blank=True, default="")
    rate = DecimalTextField(null=True, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    net_base = MoneyField(default=0, currency_field="base_currency")
    tax_base = MoneyField(default=0, currency_field="base_currency")
    total_base = MoneyField(default=0, currency_field="base_currency")
    paid_base = MoneyField(default=0, currency_field="base_currency")
    credited_base = MoneyField(default=0, currency_field="base_currency")
    written_off_base = MoneyField(default=0, currency_field="base_currency")
    tax_method = models.CharField(max_length=10, default="per_rate")
    rounding = models.CharField(max_length=10, default="half_up")
    seller_snapshot = models.ForeignKey(
        PartySnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    buyer_snapshot = models.ForeignKey(
        PartySnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tax_summary = models.JSONField(default=list, blank=True, help_text="the VAT breakdown as issued")
    posting = models.JSONField(default=dict, blank=True, help_text="what the issue posted, per account key")
    content_sha256 = models.CharField(max_length=64, blank=True, default="")
    buyer_reference = models.CharField(max_length=100, blank=True, default="")
    order_reference = models.CharField(max_length=100, blank=True, default="")
    contract_reference = models.CharField(max_length=100, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    origin = models.CharField(max_length=20, default="manual", help_text="manual or bill_run")
    bill_run_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.CharField(max_length=150, blank=True, default="")
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "invoicing_invoice"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "seq"],
                condition=Q(seq__isnull=False),
                name="invoicing_invoice_number_once",
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "status", "due_date"], name="invoicing_invoice_open"),
            models.Index(fields=["account", "status"], name="invoicing_invoice_account"),
            models.Index(fields=["number"], name="invoicing_invoice_number"),
            models.Index(fields=["issue_date"], name="invoicing_invoice_issued"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.pk}"

    @property
    def open_minor(self) -> int:
        """What is still to be paid: total − paid − credited − written off (minor units)."""
        d = self.__dict__
        return (
            int(d["total_minor"])
            - int(d["paid_minor"])
            - int(d["credited_minor"])
            - int(d["written_off_minor"])
        )


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    detail = models.TextField(blank=True, default="")
    item_id = models.CharField(max_length=64, blank=True, default="")
    unit_code = models.CharField(max_length=5, default="C62")
    quantity = DecimalTextField()
    unit_price = DecimalTextField()
    print_unit_price = DecimalTextField(null=True, blank=True)
    base_quantity = DecimalTextField(default="1")
    share_num = models.BigIntegerField(default=1)
    share_den = models.BigIntegerField(default=1)
    currency = models.CharField(max_length=3)
    gross = MoneyField(default=0)
    discount = MoneyField(default=0)
    net = MoneyField(default=0)
    tax = MoneyField(default=0)
    credited = MoneyField(default=0, help_text="net credited so far by credit notes")
    tax_category = models.CharField(max_length=20, help_text="the product's tax category (engine input)")
    supply_type = models.CharField(
        max_length=10, blank=True, default="", help_text="goods or services where the category does not say"
    )
    vat_category = models.CharField(
        max_length=3, blank=True, default="", help_text="EN 16931 code: S, AE, K …"
    )
    tax_percent = DecimalTextField(null=True, blank=True)
    tax_jurisdiction = models.CharField(max_length=10, blank=True, default="")
    tax_mention = models.CharField(max_length=300, blank=True, default="")
    tax_reason_code = models.CharField(max_length=30, blank=True, default="")
    tax_code = models.CharField(max_length=40, blank=True, default="")
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True, help_text="exclusive")
    delivery_date = models.DateField(null=True, blank=True)
    source_type = models.CharField(
        max_length=20, default="manual", help_text="contract_line, schedule_item, usage, manual"
    )
    source_id = models.CharField(max_length=80, blank=True, default="")
    contract_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    contract_number = models.CharField(max_length=40, blank=True, default="")
    contract_line_key = models.CharField(max_length=40, blank=True, default="")
    schedule_id = models.BigIntegerField(null=True, blank=True)
    revenue_category = models.CharField(max_length=30, default="other")
    posting = models.CharField(max_length=10, choices=_choices(Posting), default=Posting.REVENUE.value)
    base_currency = models.CharField(max_length=3, blank=True, default="")
    net_base = MoneyField(default=0, currency_field="base_currency")
    tax_base = MoneyField(default=0, currency_field="base_currency")
    tiers = models.JSONField(
        default=list, blank=True, help_text="usage tier breakdown: lower, upper, quantity, unit_price, amount"
    )

    class Meta:
        db_table = "invoicing_invoice_line"
        ordering = ["invoice_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoicing_line_position_once")
        ]


class CreditNote(models.Model):
    """A credit note against one issued invoice: full or partial, with a reason code."""

    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=40)
    year = models.IntegerField()
    seq = models.IntegerField()
    reason_code = models.CharField(max_length=30, choices=_choices(CreditReason))
    reason = models.TextField(blank=True, default="")
    currency = models.CharField(max_length=3)
    issue_date = models.DateField()
    net = MoneyField(default=0)
    tax = MoneyField(default=0)
    total = MoneyField(default=0)
    applied = MoneyField(default=0, help_text="taken off the invoice's open amount")
    to_balance = MoneyField(default=0, help_text="beyond the open amount: owed to the customer")
    base_currency = models.CharField(max_length=3)
    rate = DecimalTextField(null=True, blank=True)
    net_base = MoneyField(default=0, currency_field="base_currency")
    tax_base = MoneyField(default=0, currency_field="base_currency")
    total_base = MoneyField(default=0, currency_field="base_currency")
    applied_base = MoneyField(default=0, currency_field="base_currency")
    to_balance_base = MoneyField(default=0, currency_field="base_currency")
    tax_summary = models.JSONField(default=list, blank=True)
    posting = models.JSONField(default=dict, blank=True)
    seller_snapshot = models.ForeignKey(PartySnapshot, on_delete=models.PROTECT, related_name="+")
    buyer_snapshot = models.ForeignKey(PartySnapshot, on_delete=models.PROTECT, related_name="+")
    content_sha256 = models.CharField(max_length=64, blank=True, default="")
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "invoicing_credit_note"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "seq"], name="invoicing_credit_note_number_once"
            )
        ]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    quantity = DecimalTextField()
    unit_price = DecimalTextField()
    currency = models.CharField(max_length=3)
    net = MoneyField(default=0)
    tax = MoneyField(default=0)
    vat_category = models.CharField(max_length=3, blank=True, default="")
    tax_percent = DecimalTextField(null=True, blank=True)
    tax_code = models.CharField(max_length=40, blank=True, default="")
    posting = models.CharField(max_length=10, default=Posting.REVENUE.value)
    revenue_category = models.CharField(max_length=30, default="other")
    contract_id = models.BigIntegerField(null=True, blank=True)
    base_currency = models.CharField(max_length=3)
    net_base = MoneyField(default=0, currency_field="base_currency")
    tax_base = MoneyField(default=0, currency_field="base_currency")

    class Meta:
        db_table = "invoicing_credit_note_line"
        ordering = ["credit_note_id", "position"]


class InvoicePayment(models.Model):
    """A payment recorded on an invoice (positive) or taken back (negative), with its date: what
    the AR control as of a date needs (``paid_base`` holds the running sum)."""

    # Indexed by (invoice, day) below.
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments", db_index=False)
    day = models.DateField()
    amount_minor = models.BigIntegerField(help_text="invoice currency; negative when taken back")
    base_minor = models.BigIntegerField(help_text="entity currency; negative when taken back")
    reference = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "invoicing_invoice_payment"
        ordering = ["invoice_id", "id"]
        indexes = [models.Index(fields=["invoice", "day"], name="invoicing_payment_day")]


class DocumentFile(models.Model):
    """A rendered document of an issued invoice or credit note, with its SHA-256."""

    doc_type = models.CharField(max_length=12, help_text="invoice or credit_note")
    doc_id = models.BigIntegerField()
    format = models.CharField(max_length=10)
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=60)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "invoicing_document_file"
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "doc_id", "format"], name="invoicing_document_once")
        ]


class EmailDelivery(models.Model):
    """One e-mail of an issued document to the customer, and what became of it."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        FAILED = "failed"

    doc_type = models.CharField(max_length=12)
    doc_id = models.BigIntegerField()
    to = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    queued_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attachments = models.CharField(
        max_length=200, blank=True, default="", help_text="formats attached: pdf, ubl …"
    )
    requested_by = models.CharField(
        max_length=150, blank=True, default="", help_text="who asked for a resend"
    )

    class Meta:
        db_table = "invoicing_email_delivery"
        ordering = ["-id"]
        indexes = [models.Index(fields=["doc_type", "doc_id"], name="invoicing_delivery_doc")]
