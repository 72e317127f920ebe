"""API plumbing shared by every app: the error format, pagination and cache headers.

Every error under ``/api/`` answers ``{"error": {"code", "message", "fields"?}}``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.django_allauth import XSessionTokenAuthenticationScheme
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError

READER_VARY = ("Cookie", "X-Session-Token", "X-Device-Token")

CODES_BY_EXCEPTION: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "malformed_request"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ValidationError, "invalid_input"),
]


def error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    """Return the JSON body of an API error."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    if isinstance(detail, dict):
        return "Some fields are invalid."
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API exception as the Masthead error body."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    code = next((c for cls, c in CODES_BY_EXCEPTION if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(code, "Some fields are invalid.", fields)
    else:
        response.data = error_body(code, _message(exc.detail))
    return response


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer an unknown path under /api/ with a JSON 404."""
    return JsonResponse(
        error_body("not_found", "There is nothing at this address."),
        status=status.HTTP_404_NOT_FOUND,
    )


def mark_reader_specific(response: Any) -> Any:
    """Keep a reader's answer out of shared caches: private, no-store, varied by identity."""
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, READER_VARY)
    return response


class Pagination(PageNumberPagination):
    """Page-numbered lists with a client-chosen page size up to 100."""

    page_size_query_param = "page_size"
    max_page_size = 100


class ErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)  # type: ignore[assignment]  # a field


class ErrorOutput(serializers.Serializer):
    """The body of every API error (for the OpenAPI schema)."""

    error = ErrorDetailOutput()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Describe the given error statuses of an endpoint in the OpenAPI schema."""
    return {code: OpenApiResponse(ErrorOutput, description=ERROR_TEXTS[code]) for code in statuses}


ERROR_TEXTS = {
    400: "The request is malformed or some fields are invalid.",
    401: "Sign in first (session cookie or X-Session-Token).",
    402: "Payment required: the reader has no credits left.",
    403: "Refused, e.g. a cookie request without its CSRF token.",
    404: "There is nothing at this address.",
    409: "Refused because of the reader's state.",
    410: "It existed but is over (expired).",
    429: "Too many requests; try again later.",
    503: "A service it needs (such as Stripe) is unavailable just now; try again shortly.",
}


def throttled_responses_document(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Schema postprocessing: every operation may answer 429, as every view is rate limited
    (``DEFAULT_THROTTLE_CLASSES``)."""
    throttled = {
        "description": ERROR_TEXTS[429],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}},
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            operation.setdefault("responses", {}).setdefault("429", throttled)
    return result


class SessionTokenScheme(XSessionTokenAuthenticationScheme):
    """Document the app's ``X-Session-Token`` sign-in in the OpenAPI schema."""

    target_class = "accounts.authentication.SessionTokenAuthentication"


class CsrfSessionScheme(SessionScheme):
    """Document the browser's session cookie sign-in in the OpenAPI schema."""

    target_class = "accounts.authentication.CsrfSessionAuthentication"
