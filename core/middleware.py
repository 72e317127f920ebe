"""Middleware that wires cross-cutting HTTP behaviour."""

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.api import error_body, mark_reader_specific

SHARED_PREFIXES = ("/api/schema", "/api/docs")
HEADLESS_PREFIX = "/_allauth/"
JSON_PREFIXES = ("/api/", HEADLESS_PREFIX, "/billing/stripe/")
CODES_BY_STATUS = {
    400: "malformed_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


class ReaderCacheMiddleware:
    """Mark every answer private and varied by the reader's cookie and token.

    Pages and API answers carry one reader's state (and, when granted, a premium body), so
    no shared cache may keep them; marking all of them here means no view can forget.
    Static files and the API's schema are the same for everyone and stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        shared = request.path.startswith((settings.STATIC_URL, *SHARED_PREFIXES))
        if not shared:
            mark_reader_specific(response)
        return response


def _json_error(request: HttpRequest, status: int, message: str = "") -> JsonResponse:
    code = CODES_BY_STATUS.get(status, "error")
    try:
        message = message or HTTPStatus(status).phrase
    except ValueError:
        message = "Refused"
    if request.path.startswith(HEADLESS_PREFIX):
        body = {"status": status, "errors": [{"message": message, "code": code}]}
        return JsonResponse(body, status=status)
    return JsonResponse(error_body(code, message), status=status)


class JsonErrorMiddleware:
    """Answer every refusal under /api/, /_allauth/ and Stripe's webhook in JSON.

    Some are rendered before any view runs, as HTML (a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a CSRF failure), allauth answers a body that is not a
    JSON object with an empty 400, and a body nested too deeply for the JSON decoder raises
    ``RecursionError`` in the view. /_allauth/ gets allauth's own ``{"status", "errors"}``,
    which its clients read; the others Masthead's ``{"error": {...}}``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        refused = 400 <= status < 500 and request.path.startswith(JSON_PREFIXES)
        if not refused or response.get("Content-Type", "").startswith("application/json"):
            return response
        return _json_error(request, status)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RecursionError) and request.path.startswith(JSON_PREFIXES):
            return _json_error(request, 400, "The body is nested too deeply to read.")
        return None
