"""The app's API for store purchases: link an Apple transaction or a Google Play purchase to
the signed-in reader; the reader's access follows at once."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from appstores.models import Store, StoreSubscription, StoreSubscriptionStatus
from appstores.services import apple_transaction_link, google_purchase_link
from core.api import error_responses, mark_reader_specific
from membership.api import TitleRefOutput


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class StoreSubscriptionOutput(serializers.Serializer):
    store = serializers.ChoiceField(choices=Store.choices)
    product_id = serializers.CharField()
    plan = TitleRefOutput(
        allow_null=True, help_text="The Masthead plan it is sold as: slug and name"
    )
    status = serializers.ChoiceField(choices=StoreSubscriptionStatus.choices)
    access_until = serializers.DateTimeField(allow_null=True, help_text="Null: no access from it.")
    double_payment = serializers.SerializerMethodField(
        help_text="The reader also pays on the website: they are told how to stop paying twice."
    )

    def get_double_payment(self, subscription: StoreSubscription) -> bool:
        return subscription.double_payment_at is not None


def _answer(subscription: StoreSubscription) -> Response:
    data = StoreSubscriptionOutput(subscription).data
    return mark_reader_specific(Response(data, status=status.HTTP_200_OK))


class AppleTransactionLinkInput(serializers.Serializer):
    signed_transaction = serializers.CharField(
        max_length=20_000, help_text="The JWS StoreKit gave the app for the purchase."
    )


class AppleTransactionLinkApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=AppleTransactionLinkInput,
        responses={200: StoreSubscriptionOutput, **error_responses(400, 401, 403, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        """Link an App Store purchase to the signed-in reader and give access at once. 400
        when the transaction does not verify (or is of another environment), 403 when its
        ``appAccountToken`` is another reader's, 409 when another reader linked it."""
        data = AppleTransactionLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = apple_transaction_link(
            reader=_reader(request), signed_transaction=data.validated_data["signed_transaction"]
        )
        return _answer(subscription)


class GooglePurchaseLinkInput(serializers.Serializer):
    purchase_token = serializers.RegexField(
        r"^[A-Za-z0-9._\-]+$", max_length=2000, help_text="The purchase's token from Play Billing."
    )
    product_id = serializers.RegexField(r"^[a-z0-9._]+$", max_length=255)


class GooglePurchaseLinkApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=GooglePurchaseLinkInput,
        responses={200: StoreSubscriptionOutput, **error_responses(400, 401, 403, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        """Link a Google Play purchase (made with the reader's ``app_account_token`` as the
        obfuscated account id) to the signed-in reader and give access at once. 400 for an
        unknown purchase or another product, 403 for another reader's purchase."""
        data = GooglePurchaseLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = google_purchase_link(
            reader=_reader(request),
            purchase_token=data.validated_data["purchase_token"],
            product_id=data.validated_data["product_id"],
        )
        return _answer(subscription)
