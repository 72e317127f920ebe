"""The billing admin: plans with their Stripe sync status, and read-only mirrors of Stripe's
customers, subscriptions and events. Only the actions write, through billing's services."""

import json
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from billing import events
from billing.models import (
    Customer,
    PlanPrices,
    PortalConfiguration,
    Subscription,
    WebhookEvent,
    WebhookEventStatus,
)
from billing.plans import plan_prices_mark_pending
from billing.tasks import plan_push, webhook_event_apply
from membership.admin.catalogue import PlanAdmin, money_format
from membership.admin.records import ReadOnlyAdmin, short_date
from membership.models import Plan


def member_link(user: User | None) -> str:
    """Return a link to the member's admin page, named by their email, or a dash."""
    if user is None:
        return "-"
    url = reverse("admin:accounts_user_change", args=[user.pk])
    return format_html('<a href="{}">{}</a>', url, user.email)


def plan_push_queue(*, plan_ids: list[int]) -> None:
    """Mark the plans waiting for Stripe and queue their push once the transaction commits
    (a broker that is down leaves them pending, to push again from the action)."""
    for plan_id in plan_ids:
        plan_prices_mark_pending(plan_id=plan_id)
        transaction.on_commit(partial(plan_push.delay, plan_id), robust=True)


class BillingPlanAdmin(PlanAdmin):
    """The catalogue's plan admin, plus its Stripe product and prices: saving a plan pushes
    it to Stripe in a task queued on commit."""

    list_select_related = ("stripe_prices",)
    actions = ("push_to_stripe",)
    stripe_fields = (
        "stripe_status",
        "stripe_error",
        "stripe_product",
        "stripe_monthly_price",
        "stripe_yearly_price",
        "stripe_synced_at",
    )
    readonly_fields = stripe_fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [name for name in self.get_fields(request, obj) if name not in self.stripe_fields]
        if obj is None:
            return [(None, {"fields": fields})]
        return [(None, {"fields": fields}), ("Stripe", {"fields": self.stripe_fields})]

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return (*super().get_list_display(request), "stripe_status")

    @staticmethod
    def _prices(obj: Plan) -> PlanPrices | None:
        return getattr(obj, "stripe_prices", None)

    @admin.display(description="Stripe", ordering="stripe_prices__status")
    def stripe_status(self, obj: Plan) -> str:
        prices = self._prices(obj)
        return prices.get_status_display() if prices else "not pushed yet"

    @admin.display(description="last error")
    def stripe_error(self, obj: Plan) -> str:
        prices = self._prices(obj)
        return (prices.last_error if prices else "") or "-"

    @admin.display(description="product")
    def stripe_product(self, obj: Plan) -> str:
        prices = self._prices(obj)
        return (prices.product_id if prices else "") or "-"

    def _price_label(self, obj: Plan, interval: str) -> str:
        prices = self._prices(obj)
        if prices is None or not prices.price_id(interval):
            return "-"
        amount = prices.monthly_amount if interval == "month" else prices.yearly_amount
        return f"{prices.price_id(interval)} ({money_format(amount or 0, prices.currency)})"

    @admin.display(description="monthly price")
    def stripe_monthly_price(self, obj: Plan) -> str:
        return self._price_label(obj, "month")

    @admin.display(description="yearly price")
    def stripe_yearly_price(self, obj: Plan) -> str:
        return self._price_label(obj, "year")

    @admin.display(description="synced at")
    def stripe_synced_at(self, obj: Plan) -> Any:
        prices = self._prices(obj)
        return (prices.synced_at if prices else None) or "-"

    def save_model(self, request: HttpRequest, obj: Plan, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        plan_push_queue(plan_ids=[obj.pk])
        self.message_user(request, f"{obj} is being pushed to Stripe; see its Stripe status.")

    @admin.action(description="Push to Stripe", permissions=["change"])
    def push_to_stripe(self, request: HttpRequest, queryset: QuerySet[Plan]) -> None:
        plan_ids = list(queryset.values_list("pk", flat=True))
        plan_push_queue(plan_ids=plan_ids)
        self.message_user(request, f"Queued {len(plan_ids)} plan(s) for Stripe.", messages.SUCCESS)


admin.site.unregister(Plan)
admin.site.register(Plan, BillingPlanAdmin)


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "member", "created_at")
    list_select_related = ("user",)
    search_fields = ("stripe_id", "user__email")
    fields = ("stripe_id", "member", "created_at")
    readonly_fields = ("member",)

    @admin.display(description="member")
    def member(self, obj: Customer) -> str:
        return member_link(obj.user)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "member", "plan_interval", "status", "period", "failing_since")
    list_filter = ("status", "interval", "plan")
    list_select_related = ("plan", "user")
    search_fields = ("stripe_id", "customer_stripe_id", "user__email")
    date_hierarchy = "current_period_end"
    fields = (
        ("stripe_id", "customer_stripe_id"),
        "member",
        ("plan", "interval", "price_id"),
        "status",
        ("current_period_end", "trial_end"),
        ("cancel_at", "cancel_at_period_end", "ended_at"),
        "payment_trouble",
        ("open_invoice_id", "hosted_invoice_url"),
        "entitlement",
        "synced_at",
        "stripe_data",
    )
    readonly_fields = ("member", "payment_trouble", "stripe_data")

    @admin.display(description="member")
    def member(self, obj: Subscription) -> str:
        return member_link(obj.user)

    @admin.display(description="plan", ordering="plan__name")
    def plan_interval(self, obj: Subscription) -> str:
        name = obj.plan.name if obj.plan else "-"
        return f"{name}, {obj.interval}ly" if obj.interval else name

    @admin.display(description="renews or ends", ordering="current_period_end")
    def period(self, obj: Subscription) -> str:
        if obj.cancel_at is not None:
            return f"ends {short_date(obj.cancel_at)}"
        verb = "ends" if obj.cancel_at_period_end else "renews"
        return f"{verb} {short_date(obj.current_period_end)}"

    @admin.display(description="failing since", ordering="payment_failed_at")
    def failing_since(self, obj: Subscription) -> str:
        return short_date(obj.payment_failed_at)

    @admin.display(description="payment trouble")
    def payment_trouble(self, obj: Subscription) -> str:
        if obj.payment_failed_at is None:
            return "-"
        return f"payment failing since {obj.payment_failed_at:%Y-%m-%d %H:%M}"

    @admin.display(description="as Stripe sent it")
    def stripe_data(self, obj: Subscription) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, sort_keys=True))


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "type", "status", "attempts", "received_at", "finished_at")
    list_filter = ("status", "type")
    search_fields = ("stripe_id",)
    date_hierarchy = "received_at"
    fields = (
        ("stripe_id", "type"),
        ("status", "attempts"),
        "last_error",
        ("received_at", "started_at", "finished_at"),
        ("api_version", "livemode"),
        "payload_pretty",
    )
    readonly_fields = ("payload_pretty",)
    actions = ("replay_selected",)

    @admin.display(description="payload")
    def payload_pretty(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.change_webhookevent")

    @admin.action(description="Replay selected (failed) events", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        selected = list(queryset.values_list("pk", "status"))
        failed = [pk for pk, status in selected if status == WebhookEventStatus.FAILED]
        replayed = events.webhook_events_replay(event_ids=failed)
        for event_id in failed:
            transaction.on_commit(partial(webhook_event_apply.delay, event_id), robust=True)
        # Counted before the replay: a list filtered on "failed" no longer holds them after.
        skipped = len(selected) - len(failed)
        note = f"; {skipped} not failed, left as they were" if skipped else ""
        self.message_user(request, f"Replaying {replayed} event(s){note}.", messages.SUCCESS)


@admin.register(PortalConfiguration)
class PortalConfigurationAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "synced_at")
    fields = ("stripe_id", "products", "synced_at")


# Offers, credit packs and purchases have their own modules; importing them registers them.
from billing import credit_admin, offers_admin  # noqa: E402, F401
