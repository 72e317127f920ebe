"""Read-only admin listing of the outbox: every email recorded for a reader, and whether it
went out. Only the outbox services write these rows."""

from django.contrib import admin

from membership.admin.records import ReadOnlyAdmin
from membership.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at", "kind", "object_ref", "fact", "to", "status", "attempts", "sent_at",
    )  # fmt: skip
    list_filter = ("status", "kind")
    search_fields = ("to", "object_ref", "fact")
    date_hierarchy = "created_at"
    list_select_related = False
    fields = (
        "kind", "object_ref", "fact", "user", "to", "subject", "status", "attempts",
        "lease_until", "created_at", "sent_at", "last_error", "body", "html",
    )  # fmt: skip
    raw_id_fields = ("user",)
