"""DRF authentication: the app's X-Session-Token and the browser's session cookie."""

from allauth.headless.contrib.rest_framework.authentication import (
    XSessionTokenAuthentication,
)
from django.http import HttpRequest
from rest_framework.authentication import SessionAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth headless's ``X-Session-Token``, answering 401 (not 403) when it is missing."""

    def authenticate_header(self, request: HttpRequest) -> str:
        return 'Session-Token realm="api"'


class CsrfSessionAuthentication(SessionAuthentication):
    """The browser's session cookie; unsafe methods need the CSRF token as usual."""
