"""Admin editing of tax codes, rates, rules and customer exemptions.

The model forms run each model's ``clean()`` — the same checks as the CSV import (valid
jurisdiction, rate in [0, 100), ordered dates, no overlap with another row of the same key).
Saves and deletes go through ``services.save_edited`` / ``delete_edited`` so each edit is one
transaction with a ``tax.data_edited`` event.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from q2c.tax import services
from q2c.tax.models import CustomerExemption, TaxCode, TaxRate, TaxRule


class _EditedThroughServices(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.save_edited(obj, actor=request.user.get_username(), change=change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_edited(obj, actor=request.user.get_username())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            services.delete_edited(obj, actor=request.user.get_username())


@admin.register(TaxCode)
class TaxCodeAdmin(_EditedThroughServices):
    list_display = ("code", "name", "tax_category", "supply_type", "active")
    list_filter = ("tax_category", "supply_type", "active")
    search_fields = ("code", "name")


@admin.register(TaxRate)
class TaxRateAdmin(_EditedThroughServices):
    list_display = ("jurisdiction", "kind", "rate", "valid_from", "valid_to", "category", "source")
    list_filter = ("kind", "category")
    search_fields = ("jurisdiction", "source")
    ordering = ("jurisdiction", "kind", "valid_from")


@admin.register(TaxRule)
class TaxRuleAdmin(_EditedThroughServices):
    list_display = (
        "seller",
        "buyer",
        "customer_kind",
        "tax_category",
        "supply_type",
        "treatment",
        "valid_from",
        "valid_to",
    )
    list_filter = ("treatment", "customer_kind", "supply_type")
    search_fields = ("seller", "buyer", "legal_basis", "mention")


@admin.register(CustomerExemption)
class CustomerExemptionAdmin(_EditedThroughServices):
    list_display = ("account_id", "certificate_ref", "jurisdictions", "valid_from", "valid_to")
    search_fields = ("certificate_ref", "reason")
