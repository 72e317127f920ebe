"""Device ids: who an anonymous reader is, so the meter can count their free articles.

On the web a device id lives in a signed, HttpOnly, SameSite=Lax cookie; the app asks
``POST /api/v1/devices/`` for a signed device token and sends it back as ``X-Device-Token``.
The id itself is random (128 bits) and stored nowhere but in the reads it counts, so a
validly signed id never seen before is simply a device with nothing used. A tampered
cookie or token counts as a new device: a fresh id is minted and handed back (a new
cookie, or a new token in the response's ``X-Device-Token`` header).
"""

import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

DEVICE_COOKIE = "masthead_device"
DEVICE_HEADER = "X-Device-Token"
_META_HEADER = "HTTP_X_DEVICE_TOKEN"
_COOKIE_SALT = "membership.devices.cookie"
_TOKEN_SALT = "membership.devices.token"  # noqa: S105 (a signing salt, not a secret)
_MINTED = "_masthead_device_minted"  # (id, "cookie" | "token") set on a request
_ID = re.compile(r"^[0-9a-f]{32}$")

# Search engines and link previewers: never metered, they get the teaser only.
CRAWLER_MARKERS = re.compile(
    r"[a-z]bot/|\bbot\b|crawler|spider|slurp|googlebot|bingbot|duckduckbot|baiduspider"
    r"|yandexbot|applebot|facebookexternalhit|embedly|quora link preview|whatsapp"
    r"|ia_archiver|mediapartners-google|adsbot-google|feedfetcher",
    re.IGNORECASE,
)


def device_id_new() -> str:
    """Return a fresh random device id (128 bits, hex)."""
    return secrets.token_hex(16)


def device_token_make(*, device_id: str) -> str:
    """Return the signed token the app sends back as ``X-Device-Token``."""
    return signing.Signer(salt=_TOKEN_SALT).sign(device_id)


def device_token_read(*, token: str) -> str | None:
    """Return the device id inside a token, or None when it is tampered or malformed."""
    try:
        device_id = signing.Signer(salt=_TOKEN_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return device_id if _ID.match(device_id) else None


def _http_request(request: Any) -> HttpRequest:
    """The Django request under a DRF ``Request`` (or the request itself)."""
    return getattr(request, "_request", request)


def _cookie_device_id(request: HttpRequest) -> tuple[str | None, bool]:
    """Return (the cookie's device id or None, whether a cookie was sent at all)."""
    if DEVICE_COOKIE not in request.COOKIES:
        return None, False
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=_COOKIE_SALT)
    return (value if value and _ID.match(value) else None), True


def _mint(request: HttpRequest, via: str) -> str:
    minted = getattr(request, _MINTED, None)
    if minted is None:
        minted = (device_id_new(), via)
        setattr(request, _MINTED, minted)
    return str(minted[0])


def request_device_id(request: Any, *, create: bool = False) -> str | None:
    """Return the device id of the request, or None when it has none.

    ``X-Device-Token`` wins over the cookie. A tampered token or cookie is a new device:
    a fresh id is minted and ``DeviceMiddleware`` hands it back. Without either, a new id
    is minted only with ``create`` (the web pages, which set the cookie); an API request
    without a token has no device.
    """
    http = _http_request(request)
    token = http.META.get(_META_HEADER)
    if token is not None:
        return device_token_read(token=token) or _mint(http, "token")
    device_id, sent = _cookie_device_id(http)
    if device_id is not None:
        return device_id
    if sent or create:
        return _mint(http, "cookie")
    return None


def request_is_crawler(request: Any) -> bool:
    """Whether the request comes from a known search engine or link previewer."""
    agent = _http_request(request).META.get("HTTP_USER_AGENT", "")
    return bool(CRAWLER_MARKERS.search(agent))


def device_cookie_set(response: HttpResponse, *, device_id: str) -> None:
    """Put the device id in the signed, HttpOnly, SameSite=Lax cookie."""
    response.set_signed_cookie(
        DEVICE_COOKIE,
        device_id,
        salt=_COOKIE_SALT,
        max_age=settings.DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


class DeviceMiddleware:
    """Hand a device id minted during the request back to the reader: a cookie for a
    browser, a new ``X-Device-Token`` header for the app."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        minted = getattr(request, _MINTED, None)
        if minted is not None:
            device_id, via = minted
            if via == "token":
                response[DEVICE_HEADER] = device_token_make(device_id=device_id)
            else:
                device_cookie_set(response, device_id=device_id)
        return response
