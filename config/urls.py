"""Top-level URLs: the admin, allauth (web and headless), the API and its docs."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from appstores.webhooks import apple_notification, google_rtdn
from billing.webhooks import stripe_webhook
from core.api import api_not_found
from publishers.dashboard import dashboard

admin.site.site_header = "Masthead admin"
admin.site.site_title = "Masthead admin"
admin.site.index_title = "Members, titles and billing"

# The admin signs staff in through allauth's sign-in page (/accounts/login/?next=...), so one
# mechanism, with its rate limits (ACCOUNT_RATE_LIMITS: failures per IP and per account),
# guards both doors: the admin's own form has no limit at all. A signed-in reader who is not
# staff is refused (403) rather than shown the admin's form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Readers have no phone numbers: allauth's phone endpoints would fail on the adapter's
    # missing phone storage (a 500), so they are not served.
    re_path(
        r"^_allauth/(?:app|browser)/v1/(?:account/phone|auth/phone/)", csrf_exempt(api_not_found)
    ),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("billing/stripe/webhook/", stripe_webhook, name="stripe-webhook"),
    path("appstores/apple/notifications/", apple_notification, name="apple-notifications"),
    path("appstores/google/rtdn/", google_rtdn, name="google-rtdn"),
    # Last: any other path under /api/ is a JSON 404, with DEBUG on as well as off.
    re_path(r"^api/", csrf_exempt(api_not_found)),
    # The reader's data: export download, account deletion (before the reader's pages).
    path("account/", include("privacy.urls")),
    # The reader's pages, at the root of the site.
    path("", include("web.urls")),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
