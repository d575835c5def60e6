"""Django admin for contracts: read-only. Contracts, versions, amendments, signatures and the
clause library change only through the services (pages, API, the QuoteAccepted handler), which
keep versions immutable and record the events.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from q2c.contracts.models import (
    Amendment,
    Clause,
    ClauseVersion,
    Contract,
    ContractSettings,
    ContractVersion,
    ProductPolicy,
    Signature,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(ReadOnly):
    list_display = ("number", "account", "status", "start_date", "end_date", "auto_renew", "current_version")
    list_filter = ("status", "auto_renew", "sale_context")
    search_fields = ("number", "account__name", "source_quote_number")


@admin.register(ContractVersion)
class VersionAdmin(ReadOnly):
    list_display = ("contract", "number", "kind", "effective_date", "approval", "document_sha256")
    list_filter = ("kind", "approval")
    exclude = ("pdf",)


@admin.register(Amendment)
class AmendmentAdmin(ReadOnly):
    list_display = ("contract", "number", "kind", "status", "effective_date", "sale_context")
    list_filter = ("kind", "status")


@admin.register(Signature)
class SignatureAdmin(ReadOnly):
    list_display = ("contract", "version", "method", "signer_name", "signed_at", "ip_address")


@admin.register(Clause)
class ClauseAdmin(ReadOnly):
    list_display = ("key", "title", "position", "is_active", "current_version")


@admin.register(ClauseVersion)
class ClauseVersionAdmin(ReadOnly):
    list_display = ("clause", "version", "title", "created_at", "created_by")


@admin.register(ContractSettings)
class SettingsAdmin(ReadOnly):
    list_display = (
        "entity",
        "signature_on_acceptance",
        "renewal_lead_days",
        "notice_days",
        "non_cancellable",
    )


@admin.register(ProductPolicy)
class PolicyAdmin(ReadOnly):
    list_display = ("sku", "product_id", "reduction")
