"""Middleware that wires cross-cutting HTTP behaviour."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.api import mark_reader_specific

SHARED_PREFIXES = ("/api/schema", "/api/docs")


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
