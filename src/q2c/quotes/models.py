"""Tables of the quotes app: opportunities and their stage history, sales teams, quotes (one row
per version) with their lines, approval rules and requests, sent documents and acceptances.

Rows are written only by ``q2c.quotes.services``. ``Quote`` and ``Opportunity`` hold foreign keys
to ``parties.LegalEntity`` and ``parties.Account`` (public aggregate roots of a lower layer, with
PROTECT); catalog products are named by SKU and catalog ids inside the priced snapshot, never by
foreign key. Amounts are ``MoneyField`` (minor units + currency); percentages, quantities and
thresholds are exact decimal text.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from q2c.platform.fields import DecimalTextField, MoneyField
from q2c.platform.roles import Role
from q2c.quotes.approval_rules import RuleKind
from q2c.quotes.domain import Decision, QuoteStatus, RequestStatus, Stage, StepMode, StepStatus


class AdminDecimalField(DecimalTextField):
    """A ``DecimalTextField`` that admin forms can validate: CharField's max-length check runs on
    the text, not on the ``Decimal`` that ``to_python`` returns (``len(Decimal)`` fails)."""

    def run_validators(self, value: Any) -> None:
        super().run_validators(None if value is None else str(value))


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(str(m), str(m).replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class BillingFrequency(models.TextChoices):
    MONTH = "month", "Monthly"
    QUARTER = "quarter", "Quarterly"
    HALF_YEAR = "half_year", "Half-yearly"
    YEAR = "year", "Yearly"


class SaleContextChoice(models.TextChoices):
    NEW = "new", "New business"
    ADD_ON = "add_on", "Add-on"
    RENEWAL = "renewal", "Renewal"


class StageSetting(models.Model):
    """The win probability of a stage (configurable in the admin; seeded with the defaults)."""

    stage = models.CharField(max_length=20, unique=True, choices=_choices(Stage))
    probability = AdminDecimalField(help_text="percent, 0–100")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "quotes_stage_setting"
        ordering = ["position", "stage"]

    def __str__(self) -> str:
        return f"{self.stage}: {self.probability} %"


class SalesTeam(models.Model):
    """A manager and the reps whose quotes they see, edit and approve."""

    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_sales_teams"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="sales_teams", db_table="quotes_sales_team_member"
    )

    class Meta:
        db_table = "quotes_sales_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Opportunity(models.Model):
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=20, choices=_choices(Stage), default=Stage.PROSPECTING.value)
    probability = DecimalTextField(default="10")
    currency = models.CharField(max_length=3)
    amount = MoneyField(null=True, blank=True, help_text="TCV of the primary quote")
    expected_close_date = models.DateField(null=True, blank=True)
    next_step = models.CharField(max_length=200, blank=True, default="")
    loss_reason = models.TextField(blank=True, default="")
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    lock_version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "quotes_opportunity"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "stage"], name="quotes_opp_owner_stage"),
            models.Index(fields=["entity", "stage"], name="quotes_opp_entity_stage"),
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of an opportunity between stages (the first row is its creation)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, blank=True, default="")
    to_stage = models.CharField(max_length=20)
    probability = DecimalTextField()
    changed_at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "quotes_stage_change"
        ordering = ["opportunity_id", "id"]


class Quote(models.Model):
    """One version of a quote. Versions of one quote share its number; ``version`` counts them."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="quotes")
    entity = models.ForeignKey("parties.LegalEntity", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("parties.Account", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    is_primary = models.BooleanField(default=True)
    status = models.CharField(max_length=12, choices=_choices(QuoteStatus), default=QuoteStatus.DRAFT.value)
    title = models.CharField(max_length=200, blank=True, default="")
    introduction = models.TextField(blank=True, default="", help_text="shown to the customer above the lines")
    terms = models.TextField(
        blank=True, default="", help_text="non-standard terms; empty: the standard terms"
    )
    currency = models.CharField(max_length=3)
    price_book = models.CharField(max_length=40, blank=True, default="")
    sale_context = models.CharField(max_length=10, choices=SaleContextChoice.choices, default="new")
    promotion_codes = models.CharField(max_length=500, blank=True, default="")
    start_date = models.DateField()
    term_months = models.PositiveSmallIntegerField(default=12)
    billing_frequency = models.CharField(max_length=10, choices=BillingFrequency.choices, default="month")
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    auto_renew = models.BooleanField(default=False)
    valid_until = models.DateField()
    contact_name = models.CharField(max_length=200, blank=True, default="")
    contact_email = models.EmailField(blank=True, default="")
    # The priced snapshot (the engine's answer, plus catalog ids) as of the last save.
    pricing = models.JSONField(default=dict, blank=True)
    priced_on = models.DateField(null=True, blank=True)
    valid_configuration = models.BooleanField(default=True)
    approval_matches = models.JSONField(default=list, blank=True)
    one_time = MoneyField(default=0)
    mrr = MoneyField(default=0)
    arr = MoneyField(default=0)
    tcv = MoneyField(default=0)
    list_tcv = MoneyField(default=0)
    discount = MoneyField(default=0)
    discount_percent = DecimalTextField(default="0")
    margin_percent = DecimalTextField(null=True, blank=True)
    revised_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "quotes_quote"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "number", "version"], name="quotes_quote_number_version"
            ),
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=Q(is_primary=True),
                name="quotes_one_primary_per_opportunity",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="quotes_quote_owner_status"),
            models.Index(fields=["status", "valid_until"], name="quotes_quote_status_valid"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.number} v{self.version}"


class QuoteLine(models.Model):
    """What the rep asked for (the input of the pricing engine); the priced result is in
    ``Quote.pricing``."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=60)
    sku = models.CharField(max_length=64)
    parent_key = models.CharField(max_length=60, blank=True, default="")
    quantity = DecimalTextField(null=True, blank=True)
    discount_kind = models.CharField(max_length=12, blank=True, default="")
    discount_value = DecimalTextField(null=True, blank=True)
    estimated_quantity = DecimalTextField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "quotes_quote_line"
        ordering = ["quote_id", "position"]
        constraints = [models.UniqueConstraint(fields=["quote", "key"], name="quotes_line_key")]


class ApprovalRule(models.Model):
    """When a quote needs approval, and by whom (see ``q2c.quotes.approval_rules``)."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, choices=_choices(RuleKind))
    threshold = AdminDecimalField(null=True, blank=True, help_text="percent, amount or days, by kind")
    currency = models.CharField(max_length=3, blank=True, default="", help_text="for deal-size rules")
    is_active = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")

    class Meta:
        db_table = "quotes_approval_rule"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ApprovalRuleStep(models.Model):
    rule = models.ForeignKey(ApprovalRule, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField(default=1, help_text="equal numbers run in parallel")
    role = models.CharField(max_length=30, blank=True, default="", choices=_choices(Role))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=3, choices=_choices(StepMode), default=StepMode.ANY.value)

    class Meta:
        db_table = "quotes_approval_rule_step"
        ordering = ["rule_id", "sequence", "id"]


class ApprovalRequest(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approval_requests")
    status = models.CharField(
        max_length=10, choices=_choices(RequestStatus), default=RequestStatus.PENDING.value
    )
    reasons = models.JSONField(default=list)
    requested_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "quotes_approval_request"
        ordering = ["-id"]


class ApprovalStep(models.Model):
    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=30, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=3, choices=_choices(StepMode), default=StepMode.ANY.value)
    status = models.CharField(max_length=10, choices=_choices(StepStatus), default=StepStatus.WAITING.value)
    approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        db_table="quotes_approval_step_approver",
        help_text="resolved from the role or user when the request was made",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "quotes_approval_step"
        ordering = ["request_id", "sequence", "id"]
        indexes = [models.Index(fields=["status"], name="quotes_step_status")]


class ApprovalDecision(models.Model):
    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="decisions")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=_choices(Decision))
    comment = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField()

    class Meta:
        db_table = "quotes_approval_decision"
        ordering = ["step_id", "id"]
        constraints = [models.UniqueConstraint(fields=["step", "approver"], name="quotes_decision_once")]


class QuoteDocument(models.Model):
    """The document sent to the customer: PDF bytes, their SHA-256 and the data shown."""

    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="documents")
    sha256 = models.CharField(max_length=64)
    pdf = models.BinaryField()
    data = models.JSONField(default=dict, help_text="the formatted content the PDF shows")
    filename = models.CharField(max_length=100)
    sent_to = models.EmailField(blank=True, default="")
    sent_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()
    link_expires_at = models.DateTimeField()
    is_current = models.BooleanField(default=True)

    class Meta:
        db_table = "quotes_document"
        ordering = ["-id"]


class Acceptance(models.Model):
    """The customer's decision on a sent quote version, with the signature evidence.

    One per quote version (unique): a second decision is refused (409) and the first stands.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="acceptance")
    document = models.ForeignKey(QuoteDocument, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    signer_name = models.CharField(max_length=200, blank=True, default="")
    signer_title = models.CharField(max_length=200, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, default="")
    document_sha256 = models.CharField(max_length=64)

    class Meta:
        db_table = "quotes_acceptance"
