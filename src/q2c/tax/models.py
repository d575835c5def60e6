"""Tax tables: tax codes, effective-dated rates, rules, and customers' exemption certificates.

The calculator never reads these tables: ``services.load_ruleset`` turns them into a pure
:class:`~q2c.tax.engine.RuleSet` in one query per table. Rows are written by
``services.import_csv`` (the ``q2c tax load`` command and the data migration) and edited in the
admin, whose forms run :meth:`clean` — the same checks as the CSV import.

Customers are referred to by id (``account_id``): the customer accounts live in ``parties``,
whose tables are not ours to join.

Must not import any q2c app above ``parties`` (layer 3).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models

from q2c.platform.fields import DecimalTextField
from q2c.tax.categories import TaxCategory, VatCategoryCode
from q2c.tax.engine import Exemption, Rate, RateKind, Rule, SupplyType, Treatment
from q2c.tax.engine.ruleset import ANY, rate_problems, rule_problems

WILDCARD_HELP = "* matches anything"


class PercentField(DecimalTextField):
    """A rate in percent, kept as exact decimal text.

    Runs the inherited max-length check on the text, not on the ``Decimal`` that ``to_python``
    returns: ``DecimalTextField`` (a CharField) keeps CharField's MaxLengthValidator, which calls
    ``len()`` on the Decimal and fails in ``full_clean`` — i.e. in every admin form.
    """

    def run_validators(self, value: Any) -> None:
        super().run_validators(None if value is None else str(value))


class TaxCode(models.Model):
    """A named tax treatment a product can carry: its category and supply type."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    tax_category = models.CharField(max_length=20, choices=[(c.value, c.value) for c in TaxCategory])
    supply_type = models.CharField(
        max_length=10,
        choices=[(s.value, s.value) for s in SupplyType],
        blank=True,
        default="",
        help_text="blank when the category implies it (goods, service, digital_service)",
    )
    exemption_reason = models.CharField(max_length=300, blank=True, default="")
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "tax_code"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class TaxRate(models.Model):
    """One rate of one kind in one jurisdiction over ``[valid_from, valid_to)``."""

    jurisdiction = models.CharField(max_length=10, help_text="DE, GB, ES-CN, US-CA …")
    kind = models.CharField(max_length=20, choices=[(k.value, k.value) for k in RateKind])
    rate = PercentField(help_text="percent: 19, 5.5, 6.875")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive; blank = still in force")
    category = models.CharField(
        max_length=2,
        choices=[(c.value, c.value) for c in VatCategoryCode],
        blank=True,
        default="",
        help_text="blank: S for a positive rate, Z for zero",
    )
    source = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "tax_rate"
        ordering = ["jurisdiction", "kind", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "kind", "valid_from"], name="tax_rate_key"),
        ]

    def __str__(self) -> str:
        until = f" to {self.valid_to}" if self.valid_to else ""
        return f"{self.jurisdiction} {self.kind} {self.rate} % from {self.valid_from}{until}"

    def to_rate(self) -> Rate:
        return Rate(
            jurisdiction=self.jurisdiction,
            kind=RateKind(self.kind),
            percent=self.rate,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            category=VatCategoryCode(self.category) if self.category else None,
            source=self.source,
        )

    def clean(self) -> None:
        if self.rate is None or self.valid_from is None:
            return  # the field errors say so
        self.jurisdiction = (self.jurisdiction or "").strip().upper()
        problems = rate_problems(
            jurisdiction=self.jurisdiction,
            percent=self.rate,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            category=VatCategoryCode(self.category) if self.category else None,
        )
        errors: dict[str, list[str]] = {}
        for field, message in problems:
            errors.setdefault(field if field != "percent" else "rate", []).append(message)
        others = TaxRate.objects.filter(jurisdiction=self.jurisdiction, kind=self.kind).exclude(pk=self.pk)
        for other in others:
            if periods_overlap(self.valid_from, self.valid_to, other.valid_from, other.valid_to):
                errors.setdefault("valid_from", []).append(f"overlaps {other}")
        if errors:
            raise DjangoValidationError(errors)


class TaxRule(models.Model):
    """How a supply is treated (see ``q2c.tax.engine.ruleset`` for matching)."""

    seller = models.CharField(max_length=10, help_text="territory (DE, US, ES-CN), EU, or *")
    buyer = models.CharField(
        max_length=10, help_text="territory or US state, EU, domestic / eu / third, or *"
    )
    customer_kind = models.CharField(max_length=10, default=ANY, help_text="business, consumer or *")
    tax_category = models.CharField(max_length=20, default=ANY, help_text=f"a tax category; {WILDCARD_HELP}")
    supply_type = models.CharField(max_length=10, default=ANY, help_text="goods, services or *")
    treatment = models.CharField(max_length=20, choices=[(t.value, t.value) for t in Treatment])
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive; blank = still in force")
    mention = models.CharField(
        max_length=300, blank=True, default="", help_text="printed on the invoice (BT-120); blank: default"
    )
    reason_code = models.CharField(max_length=30, blank=True, default="", help_text="VATEX code (BT-121)")
    legal_basis = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "tax_rule"
        ordering = ["seller", "buyer", "customer_kind", "tax_category", "supply_type", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "buyer", "customer_kind", "tax_category", "supply_type", "valid_from"],
                name="tax_rule_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller}→{self.buyer} {self.customer_kind} {self.tax_category}/{self.supply_type}: {self.treatment}"

    def fields(self) -> dict[str, Any]:
        return {
            "seller": self.seller,
            "buyer": self.buyer,
            "treatment": Treatment(self.treatment),
            "customer_kind": self.customer_kind,
            "tax_category": self.tax_category,
            "supply_type": self.supply_type,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "mention": self.mention,
            "reason_code": self.reason_code,
            "legal_basis": self.legal_basis,
        }

    def to_rule(self) -> Rule:
        return Rule(**self.fields())

    def clean(self) -> None:
        if not self.treatment or self.valid_from is None:
            return
        errors: dict[str, list[str]] = {}
        for field, message in rule_problems(**self.fields()):
            errors.setdefault(field, []).append(message)
        others = TaxRule.objects.filter(
            seller=self.seller,
            buyer=self.buyer,
            customer_kind=self.customer_kind,
            tax_category=self.tax_category,
            supply_type=self.supply_type,
        ).exclude(pk=self.pk)
        for other in others:
            if periods_overlap(self.valid_from, self.valid_to, other.valid_from, other.valid_to):
                errors.setdefault("valid_from", []).append(f"overlaps {other}")
        if errors:
            raise DjangoValidationError(errors)


class CustomerExemption(models.Model):
    """A customer's exemption certificate (resale, diplomatic, charitable …)."""

    account_id = models.BigIntegerField(db_index=True, help_text="parties.Account id")
    certificate_ref = models.CharField(max_length=100)
    reason = models.CharField(max_length=300, blank=True, default="")
    jurisdictions = models.CharField(
        max_length=300, blank=True, default="", help_text="comma-separated (US-CA, US-NY); blank = everywhere"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="exclusive; blank = open-ended")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "tax_customer_exemption"
        ordering = ["account_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["account_id", "certificate_ref"], name="tax_exemption_once"),
        ]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.certificate_ref}"

    @property
    def jurisdiction_set(self) -> frozenset[str]:
        return frozenset(j.strip().upper() for j in self.jurisdictions.split(",") if j.strip())

    def to_exemption(self) -> Exemption:
        return Exemption(
            certificate_ref=self.certificate_ref,
            reason=self.reason,
            jurisdictions=self.jurisdiction_set,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )

    def clean(self) -> None:
        from q2c.tax.engine.territory import is_territory_code

        errors: dict[str, list[str]] = {}
        if not (self.certificate_ref or "").strip():
            errors.setdefault("certificate_ref", []).append("the certificate reference is required")
        bad = sorted(j for j in self.jurisdiction_set if not is_territory_code(j))
        if bad:
            errors.setdefault("jurisdictions", []).append(f"unknown: {', '.join(bad)}")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            errors.setdefault("valid_to", []).append("valid_to must be after valid_from")
        if errors:
            raise DjangoValidationError(errors)


def periods_overlap(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Whether half-open periods [a_from, a_to) and [b_from, b_to) share a day."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)
