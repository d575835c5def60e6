"""Django admin for the ledger: read-only. Entries are posted and reversed through the services
(API, pages, other apps' posting rules), never edited here.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from q2c.ledger.models import Account, Book, JournalEntry, JournalLine, Period


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(admin.TabularInline):
    model = JournalLine
    fields = (
        "line_no",
        "account",
        "debit_minor",
        "credit_minor",
        "currency",
        "original_minor",
        "original_currency",
        "rate",
        "memo",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Book)
class BookAdmin(ReadOnly):
    list_display = ("entity_id", "name", "currency", "rounding", "opened_at")


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ("entity_id", "code", "name", "type", "normal_side", "key", "is_active")
    list_filter = ("entity_id", "type")
    search_fields = ("code", "name", "key")


@admin.register(Period)
class PeriodAdmin(ReadOnly):
    list_display = ("entity_id", "start", "status", "closed_at", "closed_by", "reopen_count")
    list_filter = ("entity_id", "status")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnly):
    list_display = (
        "number",
        "entity_id",
        "date",
        "description",
        "source_app",
        "source_type",
        "source_id",
        "purpose",
    )
    list_filter = ("entity_id", "source_app")
    search_fields = ("number", "description", "source_id")
    inlines = [LineInline]
