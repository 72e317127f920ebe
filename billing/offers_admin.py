"""Offers in the admin: terms, plans, cap and expiry; saving pushes the offer to Stripe
(a coupon plus a promotion code) in a task queued on commit; the list shows redemptions so
far and whether Stripe is in step."""

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import Offer, OfferDuration, SyncStatus
from billing.offers import CODE_PATTERN, offer_describe
from billing.tasks import offer_push


class OfferForm(forms.ModelForm):
    class Meta:
        model = Offer
        fields = (
            "name",
            "code",
            "percent_off",
            "amount_off",
            "currency",
            "duration",
            "duration_in_months",
            "plans",
            "max_redemptions",
            "expires_at",
            "first_time_only",
            "is_active",
        )

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip().upper()
        if not CODE_PATTERN.match(code):
            raise forms.ValidationError("Use 3 to 40 letters, digits and dashes.")
        clash = Offer.objects.filter(code__iexact=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another offer has this code.")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        percent, amount = data.get("percent_off"), data.get("amount_off")
        if (percent is None) == (amount is None):
            raise forms.ValidationError("Give either a percent off or an amount off.")
        if percent is not None and not 0 < percent <= 100:
            self.add_error("percent_off", "Between 0 and 100.")
        if amount is not None and not data.get("currency"):
            self.add_error("currency", "An amount off needs its currency.")
        months = data.get("duration_in_months")
        if data.get("duration") == OfferDuration.REPEATING and not months:
            self.add_error("duration_in_months", "How many months does the discount last?")
        if data.get("currency"):
            data["currency"] = str(data["currency"]).lower()
        return data


def offer_push_queue(*, offer_ids: list[int]) -> None:
    """Mark the offers waiting for Stripe and push them once the transaction commits."""
    Offer.objects.filter(pk__in=offer_ids).update(status=SyncStatus.PENDING)
    for offer_id in offer_ids:
        transaction.on_commit(partial(offer_push.delay, offer_id), robust=True)


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    form = OfferForm
    list_display = (
        "name",
        "code",
        "terms",
        "redemptions",
        "expires_at",
        "is_active",
        "status",
        "synced_at",
    )
    list_filter = ("is_active", "status", "duration", "first_time_only")
    search_fields = ("name", "code")
    filter_horizontal = ("plans",)
    readonly_fields = (
        "times_redeemed",
        "status",
        "last_error",
        "coupon_id",
        "promotion_code_id",
        "synced_at",
    )
    actions = ("push_to_stripe",)
    fieldsets = (
        (None, {"fields": ("name", "code", "is_active")}),
        (
            "Discount",
            {
                "fields": (
                    "percent_off",
                    "amount_off",
                    "currency",
                    "duration",
                    "duration_in_months",
                ),
            },
        ),
        (
            "Who and until when",
            {"fields": ("plans", "max_redemptions", "expires_at", "first_time_only")},
        ),
        ("Stripe", {"fields": readonly_fields}),
    )

    @admin.display(description="terms")
    def terms(self, obj: Offer) -> str:
        return offer_describe(obj)

    @admin.display(description="redemptions", ordering="times_redeemed")
    def redemptions(self, obj: Offer) -> str:
        cap = obj.max_redemptions
        return f"{obj.times_redeemed} of {cap}" if cap else str(obj.times_redeemed)

    def save_model(self, request: HttpRequest, obj: Offer, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        offer_push_queue(offer_ids=[obj.pk])
        self.message_user(request, f"{obj} is being pushed to Stripe; see its Stripe status.")

    @admin.action(description="Push to Stripe (and count redemptions)", permissions=["change"])
    def push_to_stripe(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        offer_push_queue(offer_ids=ids)
        self.message_user(request, f"Queued {len(ids)} offer(s) for Stripe.", messages.SUCCESS)
