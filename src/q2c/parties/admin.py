"""Django admin for parties. Every save goes through ``parties.services`` (same checks, same
events as the API and the pages); the admin forms show the services' errors on their fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from q2c.core.errors import DomainError
from q2c.parties import services
from q2c.parties.models import Account, BankAccount, Contact, LegalEntity

#: admin form field → service field
_FK = {"entity": "entity_id", "parent": "parent_id", "owner": "owner_id", "account": "account_id"}


_MODEL_FIELD = {v: k for k, v in _FK.items()}


def _service_values(form: forms.ModelForm, fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in form.fields:
        target = _FK.get(name, name)
        if target in fields and name in form.cleaned_data:
            value = form.cleaned_data[name]
            values[target] = value.pk if hasattr(value, "pk") else value
    return values


class ServiceCheckedForm(forms.ModelForm):
    """Runs the service checks in ``clean`` so errors appear on the form, not as a crash on save."""

    service_kind = ""
    service_fields: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = _service_values(self, self.service_fields)
        values.pop("entity_id", None)
        values.pop("account_id", None)
        try:
            normal = services.check_fields(self.service_kind, values)
        except DomainError as exc:
            reverse = {v: k for k, v in _FK.items()}
            for detail in exc.details or [{"field": exc.field, "message": exc.message}]:
                name = reverse.get(detail.get("field") or "", detail.get("field") or "")
                self.add_error(name if name in self.fields else None, detail.get("message", exc.message))
        else:
            for key, value in normal.items():
                name = {v: k for k, v in _FK.items()}.get(key, key)
                if name in cleaned and not hasattr(cleaned[name], "pk"):
                    cleaned[name] = value
        return cleaned


class EntityForm(ServiceCheckedForm):
    service_kind = "entity"
    service_fields = services.ENTITY_FIELDS

    class Meta:
        model = LegalEntity
        fields = list(services.ENTITY_FIELDS)


class BankAccountForm(ServiceCheckedForm):
    service_kind = "bank_account"
    service_fields = services.BANK_FIELDS

    class Meta:
        model = BankAccount
        fields = list(services.BANK_FIELDS)


class AccountAdminForm(ServiceCheckedForm):
    service_kind = "account"
    service_fields = services.ACCOUNT_FIELDS

    class Meta:
        model = Account
        fields = [_MODEL_FIELD.get(f, f) for f in services.ACCOUNT_FIELDS]


class ContactAdminForm(ServiceCheckedForm):
    service_kind = "contact"
    service_fields = services.CONTACT_FIELDS

    class Meta:
        model = Contact
        fields = ["account", *services.CONTACT_FIELDS]


def _start_formset(formset: Any) -> None:
    # The admin's change message reads these lists, which formset.save() would have filled.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def _actor(request: HttpRequest) -> str:
    return str(request.user.get_username())


class BankAccountInline(admin.TabularInline):
    model = BankAccount
    form = BankAccountForm
    extra = 0
    fields = ["label", "bank_name", "iban", "bic", "currency", "is_default"]


class ContactInline(admin.TabularInline):
    model = Contact
    form = ContactAdminForm
    extra = 0
    fields = ["name", "title", "email", "phone", "is_primary", "is_billing"]


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    form = EntityForm
    inlines = [BankAccountInline]
    list_display = ["name", "country", "base_currency", "time_zone", "tax_id"]
    search_fields = ["name", "tax_id"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "country", "base_currency", "time_zone", "tax_id", "registration", "email"]},
        ),
        ("Address", {"fields": ["address_line1", "address_line2", "postal_code", "city", "region"]}),
        (
            "Invoicing",
            {
                "fields": [
                    "sepa_creditor_id",
                    (
                        "quote_prefix",
                        "contract_prefix",
                        "order_prefix",
                        "invoice_prefix",
                        "credit_note_prefix",
                    ),
                    "payment_terms_days",
                    "rounding_mode",
                    "tax_rounding",
                    "invoice_note",
                ]
            },
        ),
    ]

    def save_model(self, request: HttpRequest, obj: LegalEntity, form: forms.ModelForm, change: bool) -> None:
        values = _service_values(form, services.ENTITY_FIELDS)
        if change:
            saved = services.update_entity(obj.pk, values, actor=_actor(request))
        else:
            saved = services.create_entity(actor=_actor(request), **values)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        entity = form.instance
        _start_formset(formset)
        for inline in formset.forms:
            if not hasattr(inline, "cleaned_data") or not inline.cleaned_data:
                continue
            row = inline.instance
            if formset.can_delete and formset._should_delete_form(inline):
                if row.pk:
                    services.remove_bank_account(entity.pk, row.pk, actor=_actor(request))
                    formset.deleted_objects.append(row)
                continue
            values = _service_values(inline, services.BANK_FIELDS)
            if row.pk:
                if inline.has_changed():
                    saved = services.update_bank_account(entity.pk, row.pk, values, actor=_actor(request))
                    formset.changed_objects.append((saved, inline.changed_data))
            else:
                formset.new_objects.append(
                    services.add_bank_account(entity.pk, actor=_actor(request), **values)
                )

    def delete_model(self, request: HttpRequest, obj: LegalEntity) -> None:
        services.delete_entity(obj.pk, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LegalEntity]) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            services.delete_entity(pk, actor=_actor(request))


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountAdminForm
    inlines = [ContactInline]
    list_display = ["name", "kind", "country", "currency", "tax_id", "entity"]
    list_filter = ["kind", "country", "entity"]
    search_fields = ["name", "tax_id", "invoice_email"]
    raw_id_fields = ["parent"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "entity",
                    "name",
                    "kind",
                    "currency",
                    "tax_id",
                    "payment_terms_days",
                    "locale",
                    "invoice_email",
                    "parent",
                    "owner",
                ]
            },
        ),
        (
            "Billing address",
            {
                "fields": [
                    "billing_line1",
                    "billing_line2",
                    "billing_postal_code",
                    "billing_city",
                    "billing_region",
                    "country",
                ]
            },
        ),
        (
            "Shipping address",
            {
                "fields": [
                    "shipping_line1",
                    "shipping_line2",
                    "shipping_postal_code",
                    "shipping_city",
                    "shipping_region",
                    "shipping_country",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The seller of an existing account does not change.
        return ["entity"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Account, form: forms.ModelForm, change: bool) -> None:
        values = _service_values(form, services.ACCOUNT_FIELDS)
        if change:
            values.pop("entity_id", None)
            saved = services.update_account(obj.pk, values, actor=_actor(request))
        else:
            saved = services.create_account(actor=_actor(request), **values)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        account = form.instance
        _start_formset(formset)
        for inline in formset.forms:
            if not hasattr(inline, "cleaned_data") or not inline.cleaned_data:
                continue
            row = inline.instance
            if formset.can_delete and formset._should_delete_form(inline):
                if row.pk:
                    services.delete_contact(row.pk, actor=_actor(request))
                    formset.deleted_objects.append(row)
                continue
            values = _service_values(inline, services.CONTACT_FIELDS)
            if row.pk:
                if inline.has_changed():
                    saved = services.update_contact(row.pk, values, actor=_actor(request))
                    formset.changed_objects.append((saved, inline.changed_data))
            else:
                formset.new_objects.append(
                    services.create_contact(account.pk, actor=_actor(request), **values)
                )

    def delete_model(self, request: HttpRequest, obj: Account) -> None:
        services.delete_account(obj.pk, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            services.delete_account(pk, actor=_actor(request))


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ["name", "account", "email", "is_primary", "is_billing"]
    search_fields = ["name", "email", "account__name"]
    raw_id_fields = ["account"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["account"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Contact, form: forms.ModelForm, change: bool) -> None:
        values = _service_values(form, services.CONTACT_FIELDS)
        if change:
            saved = services.update_contact(obj.pk, values, actor=_actor(request))
        else:
            saved = services.create_contact(form.cleaned_data["account"].pk, actor=_actor(request), **values)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        services.delete_contact(obj.pk, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            services.delete_contact(pk, actor=_actor(request))
