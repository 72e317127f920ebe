"""Credit packs in the admin: name, credits and price; saving one pushes it to Stripe
once committed, and its Stripe state shows beside it."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from billing.credit_packs import credit_pack_push_queue
from billing.models import CreditPack
from membership.admin.catalogue import money_format
from membership.forms import PriceField
from membership.models import CreditPurchase


class CreditPackForm(forms.ModelForm):
    amount = PriceField(label="Price", help_text="For example 4.99.")

    class Meta:
        model = CreditPack
        fields = ("name", "slug", "credits", "amount", "currency", "is_active", "display_order")


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    form = CreditPackForm
    list_display = ("name", "credits", "price", "is_active", "status", "price_id")
    list_filter = ("is_active", "status")
    search_fields = ("name", "slug", "price_id")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("status", "last_error", "product_id", "price_id", "synced_at")
    actions = ("push_to_stripe",)

    @admin.display(description="price", ordering="amount")
    def price(self, obj: CreditPack) -> str:
        return money_format(obj.amount, obj.currency)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        credit_pack_push_queue(pack_ids=[obj.pk])
        self.message_user(request, f"{obj} is being pushed to Stripe; see its status.")

    @admin.action(description="Push to Stripe", permissions=["change"])
    def push_to_stripe(self, request: HttpRequest, queryset: QuerySet[CreditPack]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        credit_pack_push_queue(pack_ids=ids)
        self.message_user(request, f"Queued {len(ids)} pack(s) for Stripe.", messages.SUCCESS)


@admin.register(CreditPurchase)
class CreditPurchaseAdmin(admin.ModelAdmin):
    list_display = ("user", "pack", "credits", "credits_left", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("user__email", "reference", "payment_ref")
    readonly_fields = (
        "user", "reference", "payment_ref", "pack", "credits", "credits_left", "status",
        "created_at", "refunded_at",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
