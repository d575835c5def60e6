"""Django admin for the catalog.

Every change made here bumps the catalog revision (cached pricing snapshots are rebuilt) and is
recorded as a ``catalog.admin_*`` event. Price tiers are checked for gaps and overlaps, and rules
for cycles and contradictions, with the same pure checks the services use, so the admin cannot
store a table or rule set the API would refuse.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from q2c.catalog import models as m
from q2c.catalog.errors import CatalogInvalid
from q2c.catalog.pricing.price_models import check_tiers
from q2c.catalog.pricing.types import Tier
from q2c.catalog.services.bundles import _check_rule_set
from q2c.catalog.services.common import record, touch
from q2c.platform.fields import DecimalTextField


class DecimalTextFormField(forms.CharField):
    """A decimal typed as text; refuses anything that is not a finite number."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            number = Decimal(str(text).strip())
        except InvalidOperation:
            raise forms.ValidationError("Enter a number, e.g. 25.50") from None
        if not number.is_finite():
            raise forms.ValidationError("Enter a finite number")
        return number


class CatalogAdmin(admin.ModelAdmin):
    formfield_overrides = {DecimalTextField: {"form_class": DecimalTextFormField}}

    def _changed(self, request: HttpRequest, what: str, obj: Any) -> None:
        touch()
        record(f"admin_{what}", self.model._meta.model_name or "record", getattr(obj, "pk", ""), request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._changed(request, "changed" if change else "created", obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        touch()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        self._changed(request, "deleted", obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        touch()


class Inline(admin.TabularInline):
    formfield_overrides = {DecimalTextField: {"form_class": DecimalTextFormField}}
    extra = 0


class SspInline(Inline):
    model = m.ProductSsp


class ChargeInline(Inline):
    model = m.Charge
    show_change_link = True


class OptionGroupInline(Inline):
    model = m.OptionGroup
    show_change_link = True


@admin.register(m.UnitOfMeasure)
class UnitAdmin(CatalogAdmin):
    list_display = ("code", "name", "divisible")


@admin.register(m.Product)
class ProductAdmin(CatalogAdmin):
    list_display = ("sku", "name", "family", "type", "unit", "is_bundle", "active_from", "active_to")
    list_filter = ("type", "family", "is_bundle", "revenue_category")
    search_fields = ("sku", "name", "description")
    inlines = [SspInline, ChargeInline, OptionGroupInline]


@admin.register(m.Charge)
class ChargeAdmin(CatalogAdmin):
    list_display = ("product", "code", "kind", "billing_period", "timing", "usage_metric")
    list_filter = ("kind", "billing_period")
    search_fields = ("product__sku", "code")
    list_select_related = ("product",)


class TierFormSet(forms.BaseInlineFormSet):
    """Refuse tier tables with gaps or overlaps (the engine's own check)."""

    def clean(self) -> None:
        super().clean()
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            if data.get("lower") is None or data.get("unit_price") is None:
                continue
            rows.append((data.get("position") or 0, data))
        if not rows:
            return
        tiers = [
            Tier(d["lower"], d.get("upper"), d["unit_price"], d.get("flat_fee") or Decimal(0))
            for _, d in sorted(rows, key=lambda r: (r[0], r[1]["lower"]))
        ]
        problems = check_tiers(tiers)
        if problems:
            raise forms.ValidationError([p.message for p in problems])


class TierInline(Inline):
    model = m.PriceTier
    formset = TierFormSet


@admin.register(m.PriceBook)
class PriceBookAdmin(CatalogAdmin):
    list_display = (
        "code",
        "name",
        "currency",
        "segment",
        "region",
        "parent",
        "valid_from",
        "valid_to",
        "is_active",
    )
    list_filter = ("currency", "is_active")


@admin.register(m.PriceEntry)
class PriceEntryAdmin(CatalogAdmin):
    list_display = ("price_book", "charge", "model", "price", "valid_from", "valid_to")
    list_filter = ("price_book", "model")
    search_fields = ("charge__product__sku",)
    list_select_related = ("price_book", "charge__product")
    inlines = [TierInline]


@admin.register(m.ContractedPrice)
class ContractedPriceAdmin(CatalogAdmin):
    list_display = (
        "account_id",
        "charge",
        "currency",
        "unit_price",
        "discount_percent",
        "valid_from",
        "valid_to",
    )
    search_fields = ("account_id", "charge__product__sku")
    list_select_related = ("charge__product",)


class ScheduleTierInline(Inline):
    model = m.DiscountScheduleTier


@admin.register(m.DiscountSchedule)
class DiscountScheduleAdmin(CatalogAdmin):
    list_display = ("code", "name", "kind", "families", "is_active")
    filter_horizontal = ("products",)
    inlines = [ScheduleTierInline]


@admin.register(m.Promotion)
class PromotionAdmin(CatalogAdmin):
    list_display = (
        "code",
        "name",
        "percent",
        "amount",
        "currency",
        "valid_from",
        "valid_to",
        "automatic",
        "is_active",
    )
    filter_horizontal = ("products",)


class OptionInline(Inline):
    model = m.BundleOption
    fk_name = "group"


@admin.register(m.OptionGroup)
class OptionGroupAdmin(CatalogAdmin):
    list_display = ("bundle", "code", "name", "min_options", "max_options")
    inlines = [OptionInline]


class RuleForm(forms.ModelForm):
    class Meta:
        model = m.ConfigurationRule
        fields = [
            "code",
            "name",
            "kind",
            "bundle",
            "source",
            "target",
            "per_quantity",
            "target_quantity",
            "attribute",
            "operator",
            "values",
            "action",
            "message",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        candidate = self.instance
        for key, value in data.items():
            setattr(candidate, key, value)
        try:
            _check_rule_set(candidate)
        except CatalogInvalid as exc:
            raise forms.ValidationError([d["message"] for d in exc.details] or [exc.message]) from None
        return data


@admin.register(m.ConfigurationRule)
class ConfigurationRuleAdmin(CatalogAdmin):
    form = RuleForm
    list_display = ("code", "name", "kind", "bundle", "source", "target", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(m.ManualDiscountLimit)
class ManualDiscountLimitAdmin(CatalogAdmin):
    list_display = ("role", "max_percent")
