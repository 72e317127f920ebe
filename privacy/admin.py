"""Admin for readers' data: exports, erasures and their audit rows, and two actions on the
members list: export a member's data, erase a member's personal data."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from core.errors import ApplicationError
from privacy import services, tasks
from privacy.models import DataExport, ErasureAudit, ErasureRequest, ErasureStatus


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "requested_by", "requested_at", "expires_at", "size")
    list_filter = ("status",)
    search_fields = ("user__email",)
    readonly_fields = [f.name for f in DataExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user_id",
        "status",
        "by_reader",
        "requested_at",
        "finished_at",
        "attempts",
    )
    list_filter = ("status", "by_reader")
    readonly_fields = [f.name for f in ErasureRequest._meta.fields]
    actions = ("erasures_resume",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Run the remaining steps of the selected erasures now")
    def erasures_resume(self, request: HttpRequest, queryset: QuerySet[ErasureRequest]) -> None:
        waiting = queryset.exclude(status=ErasureStatus.DONE)
        for erasure in waiting:
            tasks.after_commit(tasks.erasure_perform, erasure.pk)
        self.message_user(request, f"Queued {waiting.count()} erasures to run again.")


@admin.register(ErasureAudit)
class ErasureAuditAdmin(admin.ModelAdmin):
    list_display = ("member_id", "finished_at", "by_reader", "requested_by", "records_kept_until")
    list_filter = ("by_reader",)
    search_fields = ("=member_id",)
    readonly_fields = [f.name for f in ErasureAudit._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Export the selected members' data (emailed to them)")
def members_export(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    assert isinstance(request.user, User)
    for member in queryset:
        export = services.data_export_request(user=member, requested_by=request.user)
        tasks.after_commit(tasks.export_make, export.pk)
    modeladmin.message_user(request, f"Started {queryset.count()} data exports.")


@admin.action(
    description="Erase the selected members' personal data (cancels Stripe; cannot be undone)"
)
def members_erase(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    assert isinstance(request.user, User)
    started = 0
    for member in queryset:
        try:
            erasure = services.erasure_request(user=member, requested_by=request.user)
        except ApplicationError as refusal:
            modeladmin.message_user(request, f"{member}: {refusal.message}", messages.WARNING)
            continue
        tasks.after_commit(tasks.erasure_perform, erasure.pk)
        started += 1
    modeladmin.message_user(request, f"Started {started} erasures; see Erasure audit rows.")


def _members_never_hard_deleted(request: HttpRequest, obj: Any = None) -> bool:
    """A member is erased, never deleted: deleting the row would take the publishers' ledger
    rows with it and leave Stripe and the stored events untouched."""
    return False


# The members list (accounts' admin) gets the two actions, and erasure replaces deletion;
# accounts does not know privacy.
_member_admin = admin.site._registry[User]
_member_admin.actions = (*(_member_admin.actions or ()), members_export, members_erase)
_member_admin.has_delete_permission = _members_never_hard_deleted  # type: ignore[method-assign]
