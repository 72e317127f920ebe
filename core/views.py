"""Error pages: JSON under /api/, HTML elsewhere."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from core.api import api_not_found, error_body

API_PREFIXES = ("/api/", "/_allauth/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIXES):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception or Exception())


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIXES):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side. Please try again."),
            status=500,
        )
    return defaults.server_error(request)
