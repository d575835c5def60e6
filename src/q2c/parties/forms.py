"""Forms of the parties pages. They collect input; ``parties.services`` checks it (one set of
rules for pages and API) and its errors are put back on the fields here."""

from __future__ import annotations

from typing import Any, cast

import pycountry
from django import forms
from django.contrib.auth import get_user_model

from q2c.core.errors import DomainError
from q2c.parties.models import Account, AccountKind, LegalEntity
from q2c.parties.validation import country_choices


def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} — {c.name}") for c in pycountry.currencies)


class AccountForm(forms.Form):
    entity = forms.ModelChoiceField(
        queryset=LegalEntity.objects.order_by("name", "id"), label="Sold by (legal entity)", empty_label=None
    )
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=AccountKind.choices, label="Customer kind")
    country = forms.ChoiceField(label="Country", help_text="Country of the billing address (ISO 3166)")
    currency = forms.ChoiceField(label="Currency", help_text="The currency the customer is billed in")
    tax_id = forms.CharField(
        label="VAT / tax id",
        required=False,
        max_length=40,
        help_text="Checked for the country, e.g. DE812651301",
    )
    billing_line1 = forms.CharField(label="Street and number", required=False, max_length=200)
    billing_line2 = forms.CharField(label="Address line 2", required=False, max_length=200)
    billing_postal_code = forms.CharField(label="Postal code", required=False, max_length=20)
    billing_city = forms.CharField(label="City", required=False, max_length=100)
    billing_region = forms.CharField(label="Region", required=False, max_length=100)
    shipping_line1 = forms.CharField(label="Shipping street and number", required=False, max_length=200)
    shipping_line2 = forms.CharField(label="Shipping address line 2", required=False, max_length=200)
    shipping_postal_code = forms.CharField(label="Shipping postal code", required=False, max_length=20)
    shipping_city = forms.CharField(label="Shipping city", required=False, max_length=100)
    shipping_region = forms.CharField(label="Shipping region", required=False, max_length=100)
    shipping_country = forms.ChoiceField(label="Shipping country", required=False)
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)",
        required=False,
        min_value=0,
        max_value=365,
        help_text="Leave empty for the legal entity's default",
    )
    locale = forms.CharField(
        label="Language of documents", max_length=20, initial="en", help_text="e.g. en, de-DE"
    )
    invoice_email = forms.CharField(label="Invoice e-mail", required=False, max_length=254)
    parent = forms.ModelChoiceField(queryset=Account.objects.none(), required=False, label="Parent account")
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Account owner"
    )

    #: service field → form field, where the names differ
    FIELD_MAP = {"entity_id": "entity", "parent_id": "parent", "owner_id": "owner"}

    def __init__(self, *args: Any, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = [("", "— choose —"), *country_choices()]
        cast(forms.ChoiceField, self.fields["country"]).choices = countries
        cast(forms.ChoiceField, self.fields["shipping_country"]).choices = [
            ("", "same as billing"),
            *country_choices(),
        ]
        cast(forms.ChoiceField, self.fields["currency"]).choices = [("", "— choose —"), *currency_choices()]
        parents = Account.objects.order_by("name", "id")
        if account is not None:
            parents = parents.filter(entity_id=account.entity_id).exclude(pk=account.pk)
            # The seller of an account does not change once it exists.
            self.fields["entity"].disabled = True
        cast(forms.ModelChoiceField, self.fields["parent"]).queryset = parents
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        if not self.is_bound and account is None:
            first = LegalEntity.objects.order_by("id").first()
            if first is not None:
                self.initial.setdefault("entity", first.pk)
                self.initial.setdefault("currency", first.base_currency)
                self.initial.setdefault("country", first.country)

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        entity = data.pop("entity", None)
        parent = data.pop("parent", None)
        owner = data.pop("owner", None)
        data["entity_id"] = entity.pk if entity is not None else None
        data["parent_id"] = parent.pk if parent is not None else None
        data["owner_id"] = owner.pk if owner is not None else None
        return data

    @classmethod
    def initial_from(cls, account: Account) -> dict[str, Any]:
        names = [n for n in cls.base_fields if n not in ("entity", "parent", "owner")]
        initial = {n: getattr(account, n) for n in names}
        initial.update(entity=account.entity_id, parent=account.parent_id, owner=account.owner_id)
        return initial

    def add_domain_error(self, exc: DomainError) -> None:
        add_domain_error(self, exc, self.FIELD_MAP)


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    title = forms.CharField(label="Job title", required=False, max_length=100)
    email = forms.CharField(label="E-mail", required=False, max_length=254)
    phone = forms.CharField(required=False, max_length=40)
    is_billing = forms.BooleanField(label="Receives invoices", required=False)
    is_primary = forms.BooleanField(label="Primary contact", required=False)

    def add_domain_error(self, exc: DomainError) -> None:
        add_domain_error(self, exc, {})


def add_domain_error(form: forms.Form, exc: DomainError, field_map: dict[str, str]) -> None:
    """Put a service's errors on the form fields they name (or on the form as a whole)."""
    details = exc.details or [{"field": exc.field or "", "message": exc.message}]
    for detail in details:
        name = field_map.get(detail.get("field") or "", detail.get("field") or "")
        target = name if name in form.fields else None
        form.add_error(target, detail.get("message", exc.message))
