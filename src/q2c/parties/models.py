"""Parties: the seller (legal entities and their bank accounts), its customers (accounts) and the
people at those customers (contacts).

``LegalEntity`` and ``Account`` are public aggregate roots: later apps may hold a ForeignKey to
them (use ``on_delete=PROTECT``: deleting a party that documents refer to is refused with 409).
Everything else is private to this app. Rows are written only by ``parties.services``, which
validates every field; the model declares the storage and nothing more.

Must not import any q2c app above ``platform``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RoundingMode(models.TextChoices):
    HALF_UP = "half_up", "Half up (0.5 → 1)"
    HALF_EVEN = "half_even", "Half even (banker's rounding)"


class TaxRounding(models.TextChoices):
    PER_RATE = "per_rate", "Per rate on the invoice total (EN 16931 BR-CO-17)"
    PER_LINE = "per_line", "Per line"


class AccountKind(models.TextChoices):
    BUSINESS = "business", "Business"
    CONSUMER = "consumer", "Consumer"


class LegalEntity(models.Model):
    """A company that sells: it issues quotes and invoices and owns a ledger."""

    name = models.CharField(max_length=200)
    address_line1 = models.CharField("address", max_length=200, blank=True, default="")
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True, default="")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    region = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    base_currency = models.CharField(max_length=3, help_text="ISO 4217; the ledger's currency")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA zone for business dates")
    tax_id = models.CharField("VAT / tax id", max_length=40, blank=True, default="")
    registration = models.CharField(
        "company registration",
        max_length=100,
        blank=True,
        default="",
        help_text="e.g. HRB 12345, Amtsgericht Berlin",
    )
    sepa_creditor_id = models.CharField("SEPA creditor identifier", max_length=35, blank=True, default="")
    email = models.EmailField("sender e-mail", blank=True, default="")
    # Invoice settings.
    quote_prefix = models.CharField(max_length=10, default="Q")
    contract_prefix = models.CharField(max_length=10, default="CON")
    order_prefix = models.CharField(max_length=10, default="ORD")
    invoice_prefix = models.CharField(max_length=10, default="INV")
    credit_note_prefix = models.CharField(max_length=10, default="CN")
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    rounding_mode = models.CharField(
        max_length=10, choices=RoundingMode.choices, default=RoundingMode.HALF_UP
    )
    tax_rounding = models.CharField(max_length=10, choices=TaxRounding.choices, default=TaxRounding.PER_RATE)
    invoice_note = models.TextField(blank=True, default="", help_text="printed at the foot of every invoice")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "parties_legal_entity"
        verbose_name = "legal entity"
        verbose_name_plural = "legal entities"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def number_prefixes(self) -> dict[str, str]:
        """Document kind → number prefix (``{"invoice": "INV", …}``)."""
        return {
            "quote": self.quote_prefix,
            "contract": self.contract_prefix,
            "order": self.order_prefix,
            "invoice": self.invoice_prefix,
            "credit_note": self.credit_note_prefix,
        }


class BankAccount(models.Model):
    """An account of the seller where customers pay (printed on invoices, used for SEPA)."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="bank_accounts")
    label = models.CharField(max_length=100, blank=True, default="")
    bank_name = models.CharField(max_length=200, blank=True, default="")
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11, blank=True, default="")
    currency = models.CharField(max_length=3)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "parties_bank_account"
        ordering = ["entity_id", "-is_default", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "iban"], name="parties_bank_account_iban_once"),
        ]

    def __str__(self) -> str:
        return f"{self.label or self.bank_name or 'Bank account'} {self.iban}"


class Account(models.Model):
    """A customer of one legal entity."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="accounts")
    name = models.CharField(max_length=200, db_index=True)
    kind = models.CharField(max_length=10, choices=AccountKind.choices, default=AccountKind.BUSINESS)
    # Billing address; ``country`` is its country and the one tax rules look at.
    billing_line1 = models.CharField("billing address", max_length=200, blank=True, default="")
    billing_line2 = models.CharField("billing address (line 2)", max_length=200, blank=True, default="")
    billing_postal_code = models.CharField("billing postal code", max_length=20, blank=True, default="")
    billing_city = models.CharField("billing city", max_length=100, blank=True, default="")
    billing_region = models.CharField("billing region", max_length=100, blank=True, default="")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 of the billing address")
    # Shipping address; empty means "same as billing".
    shipping_line1 = models.CharField("shipping address", max_length=200, blank=True, default="")
    shipping_line2 = models.CharField("shipping address (line 2)", max_length=200, blank=True, default="")
    shipping_postal_code = models.CharField("shipping postal code", max_length=20, blank=True, default="")
    shipping_city = models.CharField("shipping city", max_length=100, blank=True, default="")
    shipping_region = models.CharField("shipping region", max_length=100, blank=True, default="")
    shipping_country = models.CharField("shipping country", max_length=2, blank=True, default="")
    currency = models.CharField(max_length=3, help_text="ISO 4217; the currency the customer is billed in")
    tax_id = models.CharField("VAT / tax id", max_length=40, blank=True, default="")
    payment_terms_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="empty: the legal entity's default"
    )
    locale = models.CharField(max_length=20, default="en", help_text="language of documents, BCP 47")
    invoice_email = models.EmailField(blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "parties_account"
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["entity", "name"], name="parties_account_entity_name"),
            models.Index(fields=["country"], name="parties_account_country"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_payment_terms_days(self) -> int:
        if self.payment_terms_days is not None:
            return int(self.payment_terms_days)
        return int(self.entity.payment_terms_days)

    @property
    def has_shipping_address(self) -> bool:
        return bool(self.shipping_line1 or self.shipping_city or self.shipping_country)


class Contact(models.Model):
    """A person at a customer."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    title = models.CharField("job title", max_length=100, blank=True, default="")
    is_billing = models.BooleanField("receives invoices", default=False)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "parties_contact"
        ordering = ["account_id", "-is_primary", "name", "id"]

    def __str__(self) -> str:
        return self.name
