"""Every app's API under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    # Billing first: its me/ extends membership's with the subscription (membership does
    # not import billing), so it must answer /me/ before membership's own route.
    path("", include("billing.urls")),
    path("", include("membership.urls")),
]
