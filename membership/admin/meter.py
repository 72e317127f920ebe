"""Admin for the meter: its limits (one row), and the free reads counted, read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from membership.admin.records import ReadOnlyAdmin
from membership.meter_models import MeterCount, MeterPolicy, MeterRead


@admin.register(MeterPolicy)
class MeterPolicyAdmin(admin.ModelAdmin):
    """One row, added once and never deleted; until it is saved the settings
    ``METER_ANONYMOUS`` and ``METER_REGISTERED`` apply."""

    list_display = ("__str__", "anonymous_limit", "registered_limit", "updated_at")
    fields = ("anonymous_limit", "registered_limit", "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not MeterPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MeterCount)
class MeterCountAdmin(ReadOnlyAdmin):
    list_display = ("subject", "month", "used")
    list_filter = ("month",)
    search_fields = ("subject",)
    date_hierarchy = "month"


@admin.register(MeterRead)
class MeterReadAdmin(ReadOnlyAdmin):
    list_display = ("subject", "article", "month", "read_at")
    list_filter = ("month", "article__title")
    list_select_related = ("article",)
    search_fields = ("subject", "article__headline")
    date_hierarchy = "read_at"
