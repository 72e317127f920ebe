"""The paying API's routes, under /api/v1/."""

from django.urls import path

from billing.api import CheckoutStartApi, MeApi, PlanSwitchApi, PortalOpenApi
from billing.credits_api import CreditPackListApi, CreditsCheckoutApi
from billing.offers_api import OfferApi

app_name = "billing"
urlpatterns = [
    path("billing/checkout/", CheckoutStartApi.as_view(), name="checkout"),
    path("billing/portal/", PortalOpenApi.as_view(), name="portal"),
    path("billing/switch/", PlanSwitchApi.as_view(), name="plan-switch"),
    path("offers/<str:code>/", OfferApi.as_view(), name="offer"),
    path("credits/packs/", CreditPackListApi.as_view(), name="credit-packs"),
    path("credits/checkout/", CreditsCheckoutApi.as_view(), name="credits-checkout"),
    # The one /me/: membership's reader, trial and entitlements, plus the subscription.
    path("me/", MeApi.as_view(), name="me"),
]
