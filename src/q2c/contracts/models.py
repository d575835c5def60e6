"""Tables of the contracts app: contracts, their versions (negotiation and amendment) with a full
snapshot of lines each, amendments, signatures, the clause library, and the contracts-owned
settings (per legal entity, per product).

``Contract`` holds foreign keys to ``parties.LegalEntity`` and ``parties.Account`` (public
aggregate roots of a lower layer, PROTECT). Quotes, quote lines, catalog products and charges are
named by plain ids (and SKU/charge code for people). Amounts are ``MoneyField`` (minor units +
currency); quantities, unit prices and percentages exact decimal text. Rows are written only by
``q2c.contracts.services``; versions, their lines and signatures are never updated after they are
written, except the version's superseded mark, approval and signature-link fields.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from q2c.contracts.domain import (
    AmendmentKind,
    AmendmentStatus,
    Approval,
    BillingFrequency,
    ChargeKind,
    ContractStatus,
    ReductionTiming,
    SaleContext,
    VersionKind,
)
from q2c.platform.fields import DecimalTextField, MoneyField


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class ContractSettings(models.Model):
    """Contract defaults of one selling legal entity (absent: the defaults below)."""

    entity = models.OneToOneField("parties.LegalEntity", on_delete=models.CASCADE, related_name="+")
    signature_on_acceptance = models.BooleanField(
        default=True,
        help_text="the customer's signed acceptance of the quote is the contract signature "
        "(the contract is active at once); off: the contract is negotiated and sent for signature",
    )
    renewal_lead_days = models.PositiveSmallIntegerField(
        default=60, help_text="days before the end a renewal quote is created"
    )
    notice_days = models.PositiveSmallIntegerField(default=30, help_text="default notice period")
    renewal_uplift_percent = DecimalTextField(default="0", help_text="default price increase on renewal")
    governing_law = models.CharField(max_length=200, blank=True, default="")
    non_cancellable = models.BooleanField(default=True, help_text="default: no cancellation during the term")
    signature_link_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        db_table = "contracts_settings"


class ProductPolicy(models.Model):
    """How amendments treat one catalog product (the catalog has no such field; contracts owns it)."""

    product_id = models.BigIntegerField(unique=True)
    sku = models.CharField(max_length=64)
    reduction = models.CharField(
        max_length=30, choices=_choices(ReductionTiming), default=ReductionTiming.AT_RENEWAL.value
    )

    class Meta:
        db_table = "contracts_product_policy"
        ordering = ["sku"]


class Contract(models.Model):
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=40)
    status = models.CharField(
        max_length=20, choices=_choices(ContractStatus), default=ContractStatus.DRAFT.value
    )
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    end_date = models.DateField(help_text="exclusive: the first day after the term")
    term_months = models.PositiveSmallIntegerField()
    auto_renew = models.BooleanField(default=False)
    renewal_uplift_percent = DecimalTextField(default="0")
    notice_days = models.PositiveSmallIntegerField(default=30)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    billing_frequency = models.CharField(
        max_length=10, choices=_choices(BillingFrequency), default=BillingFrequency.MONTH.value
    )
    billing_day = models.PositiveSmallIntegerField(default=1, help_text="day of month periods start on")
    billing_settings = models.JSONField(default=dict, blank=True)
    non_cancellable = models.BooleanField(default=True)
    governing_law = models.CharField(max_length=200, blank=True, default="")
    sale_context = models.CharField(
        max_length=10, choices=_choices(SaleContext), default=SaleContext.NEW.value
    )
    title = models.CharField(max_length=200, blank=True, default="")
    # Where it came from.
    source_quote_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    source_quote_number = models.CharField(max_length=40, blank=True, default="")
    source_quote_version = models.PositiveIntegerField(null=True, blank=True)
    opportunity_id = models.BigIntegerField(null=True, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True, help_text="user who sold it (the quote owner)")
    accepted_document_sha256 = models.CharField(max_length=64, blank=True, default="")
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_term"
    )
    # Versions and locking.
    current_version = models.PositiveIntegerField(default=1)
    lock_version = models.PositiveIntegerField(default=1)
    # Money (current version; amounts excluding usage).
    one_time = MoneyField(default=0)
    mrr = MoneyField(default=0)
    value = MoneyField(default=0, help_text="value of the current version's lines over their service periods")
    # Life.
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")
    signed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True, help_text="expired, renewed or cancelled on")
    cancel_effective_date = models.DateField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, default="")
    renewal_quote_id = models.BigIntegerField(null=True, blank=True)
    renewal_quote_number = models.CharField(max_length=40, blank=True, default="")
    renewal_quoted_on = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "contracts_contract"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="contracts_number_once"),
            models.UniqueConstraint(
                fields=["source_quote_id"],
                condition=Q(source_quote_id__isnull=False),
                name="contracts_one_contract_per_quote",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "end_date"], name="contracts_status_end"),
            models.Index(fields=["account", "status"], name="contracts_account_status"),
        ]

    def __str__(self) -> str:
        return self.number


class ContractVersion(models.Model):
    """One version of a contract: its header, its clauses, its document and (in ContractLine) a
    full snapshot of its lines. Version 1 is the original; negotiation versions change clause
    texts before signature; each amendment adds one version."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=_choices(VersionKind))
    amendment = models.OneToOneField(
        "Amendment", null=True, blank=True, on_delete=models.PROTECT, related_name="version"
    )
    effective_date = models.DateField()
    start_date = models.DateField()
    end_date = models.DateField()
    header = models.JSONField(default=dict, help_text="contract terms as of this version")
    clauses = models.JSONField(
        default=list, help_text="[{key, title, library_version, library_text, text, deviates}]"
    )
    document_text = models.TextField()
    document_sha256 = models.CharField(max_length=64)
    deviates = models.BooleanField(default=False, help_text="a clause departs from the library text")
    approval = models.CharField(max_length=12, choices=_choices(Approval), default=Approval.NOT_NEEDED.value)
    approved_by = models.CharField(max_length=150, blank=True, default="")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_comment = models.TextField(blank=True, default="")
    note = models.TextField(blank=True, default="")
    # Sent for signature: the PDF rendered then and its hash (the signature's evidence).
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(blank=True, default="")
    link_expires_at = models.DateTimeField(null=True, blank=True)
    one_time = MoneyField(default=0)
    mrr = MoneyField(default=0)
    value = MoneyField(default=0)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "contracts_version"
        ordering = ["contract_id", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="contracts_version_once")]

    def __str__(self) -> str:
        return f"{self.contract.number} v{self.number}"


class ContractLine(models.Model):
    """One line of one contract version (every version holds all its lines)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=40, help_text="stable across versions")
    product_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True, default="")
    charge_id = models.BigIntegerField(null=True, blank=True)
    charge = models.CharField(max_length=40)
    charge_kind = models.CharField(max_length=12, choices=_choices(ChargeKind))
    quantity = DecimalTextField(help_text="negative for a reduction")
    unit = models.CharField(max_length=20, blank=True, default="")
    net_unit_price = DecimalTextField(null=True, blank=True, help_text="per unit and price period")
    currency = models.CharField(max_length=3)
    period_months = models.PositiveSmallIntegerField(default=0, help_text="months per price period")
    billing_period = models.CharField(max_length=20, blank=True, default="")
    timing = models.CharField(max_length=12, blank=True, default="")
    billing_frequency = models.CharField(max_length=10, blank=True, default="")
    service_start = models.DateField()
    service_end = models.DateField(help_text="exclusive")
    revenue_rule = models.CharField(max_length=30, blank=True, default="")
    revenue_category = models.CharField(max_length=30, blank=True, default="")
    tax_category = models.CharField(max_length=30, blank=True, default="")
    ssp_unit = DecimalTextField(null=True, blank=True)
    sale_context = models.CharField(
        max_length=10, choices=_choices(SaleContext), default=SaleContext.NEW.value
    )
    usage_metric = models.CharField(max_length=60, blank=True, default="")
    rate_card = models.JSONField(default=list, blank=True)
    parent_key = models.CharField(max_length=40, blank=True, default="")
    adjusts = models.CharField(max_length=40, blank=True, default="", help_text="key of the line reduced")
    at_renewal = models.BooleanField(default=False)
    credit = models.BooleanField(default=False)
    value = MoneyField(default=0)
    quote_id = models.BigIntegerField(null=True, blank=True)
    quote_line_key = models.CharField(max_length=60, blank=True, default="")
    document_sha256 = models.CharField(
        max_length=64, blank=True, default="", help_text="accepted quote document"
    )
    amendment_number = models.PositiveIntegerField(null=True, blank=True, help_text="added by amendment N")

    class Meta:
        db_table = "contracts_line"
        ordering = ["version_id", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="contracts_line_key_once")]
        indexes = [models.Index(fields=["contract", "sku"], name="contracts_line_contract_sku")]


class Amendment(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=_choices(AmendmentKind))
    status = models.CharField(
        max_length=12, choices=_choices(AmendmentStatus), default=AmendmentStatus.APPLIED.value
    )
    effective_date = models.DateField()
    sale_context = models.CharField(
        max_length=10, choices=_choices(SaleContext), default=SaleContext.ADD_ON.value
    )
    request = models.JSONField(default=dict, help_text="what was asked for")
    reason = models.TextField(blank=True, default="")
    quote_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    quote_number = models.CharField(max_length=40, blank=True, default="")
    based_on_version = models.PositiveIntegerField()
    delta_value = MoneyField(default=0, currency_field="currency")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")
    applied_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "contracts_amendment"
        ordering = ["contract_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="contracts_amendment_once")
        ]

    @property
    def label(self) -> str:
        return f"{self.contract.number}/A{self.number}"


class Signature(models.Model):
    """The customer's signature of one contract version, with its evidence."""

    class Method(models.TextChoices):
        LINK = "link", "Signed through the contract link"
        QUOTE_ACCEPTANCE = "quote_acceptance", "Signed by accepting the quote"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="signatures")
    version = models.OneToOneField(ContractVersion, on_delete=models.PROTECT, related_name="signature")
    method = models.CharField(max_length=20, choices=Method.choices)
    signer_name = models.CharField(max_length=200)
    signer_title = models.CharField(max_length=200, blank=True, default="")
    signer_email = models.EmailField(blank=True, default="")
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, default="")
    document_sha256 = models.CharField(max_length=64)

    class Meta:
        db_table = "contracts_signature"
        ordering = ["contract_id", "id"]


class Clause(models.Model):
    """A clause of the library; its text lives in versions (the latest is current)."""

    key = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True, help_text="included in new contracts")
    current_version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "contracts_clause"
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key


class ClauseVersion(models.Model):
    clause = models.ForeignKey(Clause, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "contracts_clause_version"
        ordering = ["clause_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["clause", "version"], name="contracts_clause_version_once")
        ]
