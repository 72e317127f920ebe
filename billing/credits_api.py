"""Buying credits: the packs on sale, and Checkout for one."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from billing.credit_packs import credit_packs_on_sale, credits_checkout_start
from core.api import error_responses


class CreditPackOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    credits = serializers.IntegerField(help_text="Articles it unlocks.")
    amount = serializers.IntegerField(help_text="Minor units (pence, cents).")
    currency = serializers.CharField()


class CreditPackListApi(APIView):
    @extend_schema(responses={200: CreditPackOutput(many=True)})
    def get(self, request: Request) -> Response:
        """List the credit packs on sale."""
        return Response(CreditPackOutput(credit_packs_on_sale(), many=True).data)


class CreditsCheckoutInput(serializers.Serializer):
    pack = serializers.SlugField(help_text="The pack's slug, as listed by /credits/packs/.")


class CreditsCheckoutOutput(serializers.Serializer):
    url = serializers.URLField(help_text="Send the reader here (a page hosted by Stripe).")
    session_id = serializers.CharField()


class CreditsCheckoutApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=CreditsCheckoutInput,
        responses={201: CreditsCheckoutOutput, **error_responses(400, 401, 403, 404, 503)},
    )
    def post(self, request: Request) -> Response:
        """Open Stripe Checkout (payment mode) for a pack of credits; once paid, the
        credits are added to the reader's balance (once). 404 ``unknown_pack``."""
        data = CreditsCheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        reader = request.user
        assert isinstance(reader, User)
        started = credits_checkout_start(user=reader, pack_slug=data.validated_data["pack"])
        body = {"url": started.url, "session_id": started.payment.checkout_session_id}
        return Response(CreditsCheckoutOutput(body).data, status=status.HTTP_201_CREATED)
