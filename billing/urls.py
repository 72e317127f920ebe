"""The paying API's routes, under /api/v1/."""

from django.urls import path

from billing.api import CheckoutStartApi, MeApi, PlanSwitchApi, PortalOpenApi

app_name = "billing"
urlpatterns = [
    path("billing/checkout/", CheckoutStartApi.as_view(), name="checkout"),
    path("billing/portal/", PortalOpenApi.as_view(), name="portal"),
    path("billing/switch/", PlanSwitchApi.as_view(), name="plan-switch"),
    # Answers before membership's me/ (see config/api_urls.py): the same reader, plus billing.
    path("me/", MeApi.as_view(), name="me"),
]
