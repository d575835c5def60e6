"""Django admin for orders: read-only. Orders, stock and shipments change only through the
services (pages, API, contract handlers), which keep the stock ledger and the events in step.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from q2c.orders.models import Location, Order, OrderLine, ProvisioningTask, Shipment, StockLevel, StockMove


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(admin.TabularInline):
    model = OrderLine
    fields = (
        "position",
        "sku",
        "kind",
        "quantity",
        "status",
        "reserved",
        "backordered",
        "shipped",
        "delivered",
        "cancelled",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnly):
    list_display = ("number", "type", "status", "account", "contract_number", "ordered_on")
    list_filter = ("status", "type")
    search_fields = ("number", "contract_number", "account__name")
    inlines = [LineInline]


@admin.register(Shipment)
class ShipmentAdmin(ReadOnly):
    list_display = ("number", "status", "carrier", "tracking_number", "shipped_on", "delivered_on")
    list_filter = ("status",)
    search_fields = ("number", "tracking_number")


@admin.register(ProvisioningTask)
class TaskAdmin(ReadOnly):
    list_display = ("line", "kind", "status", "planned_on", "activated_on", "completed_on", "automatic")
    list_filter = ("status", "kind", "automatic")


@admin.register(Location)
class LocationAdmin(ReadOnly):
    list_display = ("code", "name", "is_default", "is_active")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnly):
    list_display = ("sku", "location", "on_hand", "reserved")
    search_fields = ("sku",)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnly):
    list_display = (
        "occurred_on",
        "level",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "reference",
    )
    list_filter = ("kind",)
