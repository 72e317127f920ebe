"""The paying API: open Checkout, open the Customer Portal, and the reader's subscription
in ``GET /api/v1/me/``."""

from dataclasses import fields
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from billing.checkout import INTERVALS, checkout_start, plan_switch_open, portal_open
from billing.selectors import subscription_summary_get
from core.api import error_responses
from core.site import site_url
from groups.api import GroupOutput
from groups.selectors import group_of_reader_exists, group_view_get
from membership import api as membership_api
from membership.credits_api import CreditsOutput, credits_summary
from membership.selectors import credit_account_exists
from membership.store_selectors import StoreMembership, store_membership_get


def _reader(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class UrlOutput(serializers.Serializer):
    url = serializers.URLField(help_text="Send the reader here (a page hosted by Stripe).")


class CheckoutStartInput(serializers.Serializer):
    plan = serializers.SlugField(help_text="The plan's slug, as listed by /plans/.")
    interval = serializers.ChoiceField(choices=INTERVALS)
    offer = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="An offer's code: Checkout opens with its discount applied.",
    )
    quantity = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=500,
        help_text="Seats, for a family or group plan (its fewest by default).",
    )


class CheckoutStartApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=CheckoutStartInput,
        responses={201: UrlOutput, **error_responses(400, 401, 403, 404, 409, 410, 503)},
    )
    def post(self, request: Request) -> Response:
        """Open a Stripe Checkout session for a plan; the reader gets the trial they are
        due (none after a trial). 409 ``already_subscribed`` to a subscriber. With
        ``offer``, its discount is applied: 404 ``offer_not_found``, 410 ``offer_expired``,
        409 ``offer_exhausted`` / ``offer_not_applicable``; without it, Checkout takes
        promotion codes."""
        data = CheckoutStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        started = checkout_start(
            user=_reader(request),
            plan_slug=data.validated_data["plan"],
            interval=data.validated_data["interval"],
            offer_code=data.validated_data.get("offer", ""),
            quantity=data.validated_data.get("quantity"),
        )
        return Response(UrlOutput({"url": started.url}).data, status=status.HTTP_201_CREATED)


class PortalOpenInput(serializers.Serializer):
    """No fields: the body is empty or a JSON object."""


class PortalOpenApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=PortalOpenInput,
        responses={201: UrlOutput, **error_responses(400, 401, 403, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        """Open a Stripe Customer Portal session (card, plan, cancellation, invoices) that
        returns to the account page. 409 ``no_billing_account`` to a reader who never paid."""
        PortalOpenInput(data=request.data).is_valid(raise_exception=True)
        return_url = site_url(reverse("web:account"))
        url = portal_open(user=_reader(request), return_url=return_url)
        return Response(UrlOutput({"url": url}).data, status=status.HTTP_201_CREATED)


class PlanSwitchInput(serializers.Serializer):
    plan = serializers.SlugField(help_text="The plan to switch to: its slug, as listed by /plans/.")


class PlanSwitchApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=PlanSwitchInput,
        responses={201: UrlOutput, **error_responses(400, 401, 403, 404, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        """Open the Customer Portal on the confirmation of a switch of the reader's
        subscription to another plan (the ``switch_plan`` action of an ``upgrade`` paywall);
        it returns to the account page. 409 ``no_subscription`` to a reader with none (open
        Checkout instead), 409 ``already_on_plan``, 404 ``unknown_plan``."""
        data = PlanSwitchInput(data=request.data)
        data.is_valid(raise_exception=True)
        url = plan_switch_open(
            user=_reader(request),
            plan_slug=data.validated_data["plan"],
            return_url=site_url(reverse("web:account")),
        )
        return Response(UrlOutput({"url": url}).data, status=status.HTTP_201_CREATED)


class PaymentProblemOutput(serializers.Serializer):
    since = serializers.DateTimeField(help_text="When the first payment of the debt failed.")
    needs_authentication = serializers.BooleanField(
        help_text="The bank asks the reader to confirm the payment on the invoice page."
    )
    fix_url = serializers.CharField(
        help_text="The hosted invoice page (GET), or the portal endpoint (POST)."
    )
    fix_method = serializers.ChoiceField(choices=["GET", "POST"])


class DiscountOutput(serializers.Serializer):
    name = serializers.CharField(help_text="The offer's name.")
    description = serializers.CharField(help_text="The discount in words.")
    duration = serializers.ChoiceField(choices=["once", "repeating", "forever"])
    ends_at = serializers.DateTimeField(
        allow_null=True, help_text="When it stops applying; null for forever or a one-off."
    )


class SubscriptionOutput(serializers.Serializer):
    store = serializers.ChoiceField(
        choices=["stripe", "apple", "google"],
        help_text="Where the reader pays: stripe (this website), apple or google (in the app).",
    )
    manage_url = serializers.CharField(
        help_text="Where the reader manages it: the portal endpoint (POST) for stripe, the "
        "store's subscriptions page for apple and google."
    )
    plan = membership_api.TitleRefOutput(allow_null=True, help_text="slug and name")
    interval = serializers.ChoiceField(choices=INTERVALS, allow_null=True)
    status = serializers.CharField(help_text="Stripe's status: trialing, active, past_due ...")
    trial_end = serializers.DateTimeField(allow_null=True, help_text="While trialing.")
    renews_at = serializers.DateTimeField(allow_null=True, help_text="Null when it will not.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="Set when it is ending.")
    payment_problem = PaymentProblemOutput(allow_null=True)
    discount = DiscountOutput(allow_null=True, help_text="Null when there is none.")
    access_until = serializers.DateTimeField(
        allow_null=True,
        help_text="For apple and google: the end of the access the store has paid for.",
    )


def _store_subscription(membership: StoreMembership) -> dict[str, Any]:
    """A subscription bought in an app store, as membership's entitlements tell it."""
    return {
        "store": membership.store,
        "manage_url": membership.manage_url,
        "plan": None,
        "interval": None,
        "status": "active",
        "trial_end": None,
        "renews_at": None,
        "ends_at": None,
        "payment_problem": None,
        "discount": None,
        "access_until": membership.ends_at,
    }


class MeWithSubscriptionOutput(membership_api.MeOutput):
    subscription = SubscriptionOutput(allow_null=True, help_text="Null when there is none.")
    group = GroupOutput(
        allow_null=True, help_text="The family or group the reader owns or belongs to."
    )
    credits = CreditsOutput(help_text="Credits left, and the articles unlocked with them.")


class MeApi(membership_api.MeApi):
    """Membership's ``/me/`` with the reader's subscription added (membership knows nothing
    of billing, so billing owns the one ``me/`` route)."""

    @extend_schema(responses={200: MeWithSubscriptionOutput, **error_responses(401)})
    def get(self, request: Request) -> Response:
        """Show the signed-in reader, their trial, live entitlements and subscription."""
        response = super().get(request)
        reader = _reader(request)
        summary = subscription_summary_get(user=reader)
        subscription: dict[str, Any] | None = None
        if summary is not None:
            subscription = {
                **{field.name: getattr(summary, field.name) for field in fields(summary)},
                "store": "stripe",
                "manage_url": reverse("billing:portal"),
                "access_until": None,
            }
        else:
            store = store_membership_get(user=reader)
            subscription = None if store is None else _store_subscription(store)
        response.data["subscription"] = (
            None if subscription is None else SubscriptionOutput(subscription).data
        )
        in_group, had_credits = (
            User.objects.filter(pk=reader.pk)
            .annotate(group=group_of_reader_exists(), credits=credit_account_exists())
            .values_list("group", "credits")
            .get()
        )
        group = group_view_get(user=reader) if in_group else None
        response.data["group"] = None if group is None else GroupOutput(group).data
        credits = credits_summary(user=reader, had_credits=had_credits)
        response.data["credits"] = CreditsOutput(credits).data
        return response
