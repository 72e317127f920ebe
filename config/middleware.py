"""Middleware that wires cross-cutting HTTP behaviour."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.api import mark_reader_specific

READER_PREFIXES = ("/api/", "/_allauth/")


class ReaderCacheMiddleware:
    """Mark every API answer private and varied by the reader's cookie and token.

    Article answers carry a premium body for one reader only; no shared cache may keep
    them, so the API marks all its answers rather than trusting each view to remember.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(READER_PREFIXES) and not request.path.startswith(
            ("/api/schema", "/api/docs")
        ):
            mark_reader_specific(response)
        return response
