"""``GET /api/v1/offers/<code>/``: an offer's terms and the plans' prices with it."""

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from billing.models import Offer
from billing.offers import offer_covers, offer_describe, offer_discounted, offer_get, offer_refusal
from core.api import error_responses, mark_reader_specific
from membership.models import Plan


class OfferPriceOutput(serializers.Serializer):
    interval = serializers.ChoiceField(choices=["month", "year"])
    amount = serializers.IntegerField(help_text="The list price, in cents.")
    discounted = serializers.IntegerField(help_text="The first discounted payment, in cents.")


class OfferPlanOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    currency = serializers.CharField()
    prices = OfferPriceOutput(many=True)


class OfferOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    terms = serializers.CharField(help_text="The discount in words.")
    percent_off = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    amount_off = serializers.IntegerField(allow_null=True, help_text="In cents.")
    currency = serializers.CharField(allow_blank=True)
    duration = serializers.ChoiceField(choices=["once", "repeating", "forever"])
    duration_in_months = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    first_time_only = serializers.BooleanField()
    redemptions_left = serializers.IntegerField(allow_null=True, help_text="Null: no cap.")
    available = serializers.BooleanField(help_text="Whether it can be used now.")
    unavailable_code = serializers.CharField(
        allow_blank=True, help_text="offer_expired, offer_exhausted or offer_not_applicable."
    )
    plans = OfferPlanOutput(many=True)


def offer_plans(offer: Offer) -> list[dict[str, Any]]:
    """The plans on sale the offer covers, with list and discounted prices."""
    plans = Plan.objects.filter(is_active=True).order_by("display_order", "monthly_amount")
    rows = []
    for plan in plans:
        if not offer_covers(offer, plan):
            continue
        prices = [
            {"interval": interval, "amount": amount, "discounted": offer_discounted(offer, amount)}
            for interval, amount in (("month", plan.monthly_amount), ("year", plan.yearly_amount))
            if amount
        ]
        rows.append(
            {"slug": plan.slug, "name": plan.name, "currency": plan.currency, "prices": prices}
        )
    return rows


def offer_view(offer: Offer, *, user: User | None, at: datetime | None = None) -> dict[str, Any]:
    refusal = offer_refusal(offer, user=user, at=at)
    left = None
    if offer.max_redemptions is not None:
        left = max(0, offer.max_redemptions - offer.times_redeemed)
    return {
        "code": offer.code,
        "name": offer.name,
        "terms": offer_describe(offer),
        "percent_off": offer.percent_off,
        "amount_off": offer.amount_off,
        "currency": offer.currency,
        "duration": offer.duration,
        "duration_in_months": offer.duration_in_months,
        "expires_at": offer.expires_at,
        "first_time_only": offer.first_time_only,
        "redemptions_left": left,
        "available": refusal is None,
        "unavailable_code": refusal.code if refusal else "",
        "plans": offer_plans(offer),
    }


class OfferApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: OfferOutput, **error_responses(404)})
    def get(self, request: Request, code: str) -> Response:
        """An offer's terms (discount, duration, expiry, cap) and the discounted prices of
        the plans it covers; ``available`` says whether the reader can use it now."""
        user = request.user if isinstance(request.user, User) else None
        body = OfferOutput(offer_view(offer_get(code=code), user=user)).data
        return mark_reader_specific(Response(body))
