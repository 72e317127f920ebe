"""Gifts in the admin: who bought what, whether it was sent and redeemed (codes are never
shown: only their last characters)."""

from django.contrib import admin

from gifts.models import Gift, GiftPrice


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    list_display = (
        "code_hint",
        "plan",
        "months",
        "status",
        "buyer",
        "recipient_email",
        "send_at",
        "recipient_sent_at",
        "redeemed_by",
        "redeemable_until",
        "created_at",
    )
    list_filter = ("status", "plan", "months")
    search_fields = ("code_hint", "buyer__email", "recipient_email", "redeemed_by__email")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Gift._meta.fields if f.name not in ("code_salt",)]
    exclude = ("code_salt",)
    list_select_related = ("plan", "buyer", "redeemed_by")

    def has_add_permission(self, request: object) -> bool:
        return False  # gifts are made by a payment only

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(GiftPrice)
class GiftPriceAdmin(admin.ModelAdmin):
    list_display = ("plan", "months", "amount", "currency", "status", "price_id", "synced_at")
    list_filter = ("status", "months", "plan")
    readonly_fields = (
        "plan",
        "months",
        "amount",
        "currency",
        "product_id",
        "price_id",
        "status",
        "last_error",
        "synced_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False  # made when a plan's gifts are pushed to Stripe
