"""The admin of the app stores: which store products are which plans, every store
subscription (double payments flagged for support), and the notifications received."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from appstores.errors import StoreError
from appstores.models import (
    StoreNotification,
    StoreProduct,
    StoreSubscription,
    StoreSubscriptionEvent,
)
from appstores.notifications import store_notifications_replay
from appstores.services import store_subscription_refresh
from appstores.tasks import store_notification_apply


@admin.register(StoreProduct)
class StoreProductAdmin(admin.ModelAdmin):
    list_display = ("product_id", "store", "plan", "created_at")
    list_filter = ("store", "plan")
    search_fields = ("product_id", "plan__name", "plan__slug")


class DoublePaymentFilter(admin.SimpleListFilter):
    title = "double payment"
    parameter_name = "double_payment"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Flagged: also pays on the website"), ("no", "Not flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(double_payment_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(double_payment_at__isnull=True)
        return queryset


class StoreSubscriptionEventInline(admin.TabularInline):
    model = StoreSubscriptionEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "data")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(StoreSubscription)
class StoreSubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "__str__", "user", "store", "plan", "status", "access_until", "double_payment_at",
        "environment", "synced_at",
    )  # fmt: skip
    list_filter = (DoublePaymentFilter, "store", "status", "environment")
    search_fields = ("user__email", "external_id", "product_id", "app_account_token")
    readonly_fields = [f.name for f in StoreSubscription._meta.fields]
    inlines = [StoreSubscriptionEventInline]
    actions = ["refresh_from_store"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Fetch the newest state from the store and apply it")
    def refresh_from_store(self, request: HttpRequest, queryset: QuerySet) -> None:
        for subscription in queryset:
            try:
                store_subscription_refresh(subscription=subscription)
            except StoreError as exc:
                self.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
        self.message_user(request, "Fetched and applied.")


@admin.register(StoreNotification)
class StoreNotificationAdmin(admin.ModelAdmin):
    list_display = (
        "notification_id",
        "store",
        "type",
        "subtype",
        "status",
        "attempts",
        "received_at",
    )
    list_filter = ("store", "status", "type", "environment")
    search_fields = ("notification_id", "external_id")
    readonly_fields = [f.name for f in StoreNotification._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Apply the failed ones again")
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = store_notifications_replay(notification_ids=ids)
        for row_id in ids:
            store_notification_apply.delay(row_id)
        self.message_user(request, f"{count} failed notification(s) queued again.")
