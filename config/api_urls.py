"""Every app's API under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    # /me/ is billing's: it adds the subscription to membership's part of the answer
    # (membership does not import billing, so it serves no /me/ of its own).
    path("", include("billing.urls")),
    path("", include("membership.urls")),
    path("", include("gifts.urls")),
    path("", include("groups.urls")),
    path("", include("publishers.urls")),
    path("", include("appstores.urls")),
    path("", include("privacy.api_urls")),
]
