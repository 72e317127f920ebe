"""The gifts API: buy a gift membership, see what a code gives, redeem it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import error_responses, mark_reader_specific
from gifts.models import GIFT_MONTHS
from gifts.selectors import gift_terms_get
from gifts.services import gift_checkout_start, gift_redeem
from membership import api as membership_api


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class GiftBuyInput(serializers.Serializer):
    plan = serializers.SlugField(help_text="The plan's slug, as listed by /plans/.")
    months = serializers.ChoiceField(choices=GIFT_MONTHS)
    recipient_email = serializers.EmailField(required=False, allow_blank=True)
    send_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When to email the code to the recipient."
    )
    message = serializers.CharField(required=False, allow_blank=True, max_length=500)


class GiftBuyOutput(serializers.Serializer):
    url = serializers.URLField(help_text="Send the buyer here (Stripe Checkout).")


class GiftBuyApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=GiftBuyInput,
        responses={201: GiftBuyOutput, **error_responses(400, 401, 403, 404, 503)},
    )
    def post(self, request: Request) -> Response:
        """Open Stripe Checkout (a one-time payment) for a gift of a plan for 1, 3, 6 or 12
        months. Once paid, the code is emailed to the buyer, and to the recipient at
        ``send_at`` (at once without one). It never renews."""
        data = GiftBuyInput(data=request.data)
        data.is_valid(raise_exception=True)
        started = gift_checkout_start(
            buyer=_reader(request),
            plan_slug=data.validated_data["plan"],
            months=int(data.validated_data["months"]),
            recipient_email=data.validated_data.get("recipient_email", ""),
            send_at=data.validated_data.get("send_at"),
            message=data.validated_data.get("message", ""),
        )
        body = GiftBuyOutput({"url": started.url}).data
        return mark_reader_specific(Response(body, status=status.HTTP_201_CREATED))


class GiftTermsOutput(serializers.Serializer):
    plan = membership_api.TitleRefOutput(help_text="slug and name")
    months = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["redeemable", "redeemed", "voided", "expired"])
    redeemable_until = serializers.DateTimeField()
    message = serializers.CharField(help_text="The buyer's message.")


def _terms(code: str) -> dict[str, object]:
    terms = gift_terms_get(code=code)
    return GiftTermsOutput(
        {
            "plan": {"slug": terms.plan_slug, "name": terms.plan_name},
            "months": terms.months,
            "state": terms.state,
            "redeemable_until": terms.redeemable_until,
            "message": terms.message,
        }
    ).data


class GiftTermsApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: GiftTermsOutput, **error_responses(404)})
    def get(self, request: Request, code: str) -> Response:
        """What a gift code gives, whether it can still be redeemed, and until when."""
        return mark_reader_specific(Response(_terms(code)))


class GiftRedeemInput(serializers.Serializer):
    """No fields: the code is in the path."""


class GiftRedeemOutput(serializers.Serializer):
    plan = membership_api.TitleRefOutput()
    months = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="Access ends then; nothing renews.")


class GiftRedeemApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=GiftRedeemInput,
        responses={200: GiftRedeemOutput, **error_responses(401, 403, 404, 409, 410)},
    )
    def post(self, request: Request, code: str) -> Response:
        """Redeem a gift code: the reader reads the gift's plan for its months, from now.
        409 ``gift_already_redeemed``, 409 ``already_subscribed`` (a live subscription),
        409 ``gift_voided`` (refunded), 410 ``gift_expired``, 404 ``gift_not_found``."""
        gift = gift_redeem(user=_reader(request), code=code)
        assert gift.entitlement is not None
        body = GiftRedeemOutput(
            {
                "plan": {"slug": gift.plan.slug, "name": gift.plan.name},
                "months": gift.months,
                "starts_at": gift.entitlement.starts_at,
                "ends_at": gift.entitlement.ends_at,
            }
        ).data
        return mark_reader_specific(Response(body))
