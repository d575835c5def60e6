"""The admin's settings of the quotes app: approval rules and their steps, sales teams, stage
probabilities. Quotes and opportunities are changed through their use cases only (pages and
API), so the admin shows them read-only.

Rule forms run the same checks as ``services.save_rule`` (a threshold where the kind needs one,
a currency for deal sizes, at least one step, a role or a user per step) and record the same
event.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from q2c.quotes import events as ev
from q2c.quotes.approval_rules import NEEDS_THRESHOLD, RuleKind
from q2c.quotes.models import (
    ApprovalRequest,
    ApprovalRule,
    ApprovalRuleStep,
    Opportunity,
    Quote,
    SalesTeam,
    StageSetting,
)
from q2c.quotes.services.common import record


class ApprovalRuleForm(forms.ModelForm):
    threshold = forms.DecimalField(required=False, help_text="percent, amount or days, by kind")

    class Meta:
        model = ApprovalRule
        fields = ("name", "kind", "threshold", "currency", "is_active", "description")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind in {str(k) for k in NEEDS_THRESHOLD} and data.get("threshold") is None:
            self.add_error("threshold", "this kind of rule needs a threshold")
        if data.get("threshold") is not None and data["threshold"] < 0:
            self.add_error("threshold", "a threshold is not negative")
        if kind == RuleKind.DEAL_SIZE_ABOVE and not data.get("currency"):
            self.add_error("currency", "a deal-size rule needs a currency")
        return data


class StepFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        live = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not live:
            raise DjangoValidationError("a rule needs at least one approval step")
        for form in live:
            role, user = form.cleaned_data.get("role"), form.cleaned_data.get("user")
            if bool(role) == (user is not None):
                form.add_error("role", "name either a role or a user")
            if (form.cleaned_data.get("sequence") or 0) < 1:
                form.add_error("sequence", "a step's sequence starts at 1")


class StepInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ApprovalRuleStep
    formset = StepFormSet
    extra = 1
    fields = ("sequence", "role", "user", "mode")


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ApprovalRuleForm
    inlines = [StepInline]
    list_display = ("name", "kind", "threshold", "currency", "is_active")
    list_filter = ("kind", "is_active")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        rule = form.instance
        record(
            ev.RULE_SAVED,
            "approval_rule",
            rule.pk,
            entity_id=None,
            actor=request.user,
            name=rule.name,
            kind=rule.kind,
            threshold=rule.threshold,
            currency=rule.currency,
            active=rule.is_active,
            via="admin",
            steps=[
                {"sequence": s.sequence, "role": s.role, "user_id": s.user_id, "mode": s.mode}
                for s in rule.steps.all()
            ],
        )

    def delete_model(self, request: HttpRequest, obj: ApprovalRule) -> None:
        rule_id, name = obj.pk, obj.name
        super().delete_model(request, obj)
        record(
            ev.RULE_DELETED,
            "approval_rule",
            rule_id,
            entity_id=None,
            actor=request.user,
            name=name,
            via="admin",
        )


@admin.register(SalesTeam)
class SalesTeamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "manager")
    filter_horizontal = ("members",)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        team = form.instance
        record(
            ev.TEAM_SAVED,
            "team",
            team.pk,
            entity_id=None,
            actor=request.user,
            name=team.name,
            manager_id=team.manager_id,
            member_ids=sorted(u.pk for u in team.members.all()),
            via="admin",
        )


class StageSettingForm(forms.ModelForm):
    probability = forms.DecimalField(help_text="percent, 0–100")

    class Meta:
        model = StageSetting
        fields = ("stage", "probability", "position")

    def clean_probability(self) -> Any:
        value = self.cleaned_data["probability"]
        if value is None or not 0 <= value <= 100:
            raise DjangoValidationError("a probability is from 0 to 100")
        return value


@admin.register(StageSetting)
class StageSettingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = StageSettingForm
    list_display = ("stage", "probability", "position")

    def save_model(self, request: HttpRequest, obj: StageSetting, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record(
            ev.STAGE_SETTING_CHANGED,
            "stage_setting",
            obj.pk,
            entity_id=None,
            actor=request.user,
            stage=obj.stage,
            probability=obj.probability,
            via="admin",
        )


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shown for support; changed only through the use cases."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ("name", "account", "owner", "stage", "probability")
    list_filter = ("stage",)
    search_fields = ("name", "account__name")


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "version", "account", "owner", "status", "is_primary", "valid_until")
    list_filter = ("status",)
    search_fields = ("number", "account__name")
    exclude = ("pricing",)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "quote", "status", "created_at", "decided_at")
    list_filter = ("status",)
