"""Google Play's side: verify the OIDC token of a Pub/Sub push with ``google-auth``
(audience: the configured push URL; certificates from ``GOOGLE_PUSH_CERTS_URL``, Google's own
unless set otherwise), read a real-time developer notification, and call the Play Developer
API's ``purchases.subscriptionsv2.get`` and ``purchases.subscriptions.acknowledge`` (at
``GOOGLE_PLAY_API_BASE``: Google's, or the offline stand-in)."""

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import id_token

from appstores.errors import StoreError, StoreErrorCode

logger = logging.getLogger(__name__)

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
PLAY_SCOPE = "https://www.googleapis.com/auth/androidpublisher"


def _bad(message: str, code: str = StoreErrorCode.BAD_SIGNATURE) -> StoreError:
    return StoreError(code=code, message=message, status=400)


def push_verify(*, authorization: str) -> dict[str, Any]:
    """Verify the push's ``Authorization: Bearer <OIDC token>`` and return its claims:
    signed by Google (RS256), issued by accounts.google.com, for the push URL, unexpired,
    and from the configured service account when one is set."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _bad("The push carries no bearer token.")
    try:
        claims = id_token.verify_token(
            token.strip(),
            GoogleRequest(),
            audience=settings.GOOGLE_PUSH_AUDIENCE,
            certs_url=settings.GOOGLE_PUSH_CERTS_URL,
            clock_skew_in_seconds=10,
        )
    except google_exceptions.TransportError as exc:
        raise StoreError(
            code=StoreErrorCode.STORE_UNAVAILABLE,
            message="Google's certificates cannot be fetched.",
            status=503,
        ) from exc
    except (ValueError, google_exceptions.GoogleAuthError) as exc:
        raise _bad(f"The push's token does not verify: {exc}") from exc
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise _bad("The push's token was not issued by Google.")
    expected = settings.GOOGLE_PUSH_SERVICE_ACCOUNT
    if expected and (claims.get("email") != expected or not claims.get("email_verified")):
        raise _bad("The push's token names another service account.")
    return dict(claims)


@dataclass(frozen=True)
class GoogleNotification:
    """A real-time developer notification about a subscription, out of a Pub/Sub push."""

    message_id: str
    package_name: str
    notification_type: int
    purchase_token: str
    payload: dict[str, Any]


def push_read(*, body: Any) -> GoogleNotification:
    """Read a verified push's body; None for a notification that is not about a subscription
    (a test notification, a one-time product). Refuses a body that is not a push of this app."""
    try:
        message = body["message"]
        message_id = str(message["messageId"])
        decoded = json.loads(base64.b64decode(message["data"], validate=True))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise _bad("The push is not a Pub/Sub message.", StoreErrorCode.MALFORMED) from exc
    if not isinstance(decoded, dict) or not message_id:
        raise _bad("The push is not a Pub/Sub message.", StoreErrorCode.MALFORMED)
    if decoded.get("packageName") != settings.GOOGLE_PLAY_PACKAGE:
        raise _bad("The notification is about another app.", StoreErrorCode.WRONG_APP)
    about = decoded.get("subscriptionNotification")
    if not isinstance(about, dict):
        return GoogleNotification(message_id, decoded["packageName"], 0, "", decoded)
    token = about.get("purchaseToken")
    kind = about.get("notificationType")
    if not isinstance(token, str) or not token or not isinstance(kind, int):
        raise _bad("The notification names no purchase.", StoreErrorCode.MALFORMED)
    return GoogleNotification(message_id, decoded["packageName"], kind, token, decoded)


@dataclass(frozen=True)
class GooglePurchase:
    """A ``SubscriptionPurchaseV2``: its state, products and the end of its paid time."""

    purchase_token: str
    state: str
    product_id: str
    expiry: datetime | None
    linked_purchase_token: str
    acknowledged: bool
    account_id: str
    auto_renew: bool | None
    test: bool
    raw: dict[str, Any]

    @classmethod
    def of(cls, token: str, body: dict[str, Any]) -> "GooglePurchase":
        items = [item for item in body.get("lineItems") or [] if isinstance(item, dict)]
        expiries = [parse_datetime(str(item.get("expiryTime") or "")) for item in items]
        known = [moment for moment in expiries if moment is not None]
        renewing = [(item.get("autoRenewingPlan") or {}).get("autoRenewEnabled") for item in items]
        ids = body.get("externalAccountIdentifiers") or {}
        return cls(
            purchase_token=token,
            state=str(body.get("subscriptionState") or ""),
            product_id=str(items[0].get("productId") or "") if items else "",
            expiry=max(known) if known else None,
            linked_purchase_token=str(body.get("linkedPurchaseToken") or ""),
            acknowledged=body.get("acknowledgementState") == "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED",
            account_id=str(ids.get("obfuscatedExternalAccountId") or ""),
            auto_renew=renewing[0] if renewing and isinstance(renewing[0], bool) else None,
            test="testPurchase" in body,
            raw=body,
        )


def _session() -> Any:
    """Google's authorised session with the service account's key, or a plain session for the
    stand-in (which asks for no credentials)."""
    if settings.GOOGLE_SERVICE_ACCOUNT_FILE:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(
            settings.GOOGLE_SERVICE_ACCOUNT_FILE, scopes=[PLAY_SCOPE]
        )
        return AuthorizedSession(credentials)
    return requests.Session()


def _call(method: str, path: str) -> dict[str, Any]:
    url = settings.GOOGLE_PLAY_API_BASE.rstrip("/") + path
    try:
        with _session() as session:
            response = session.request(method, url, timeout=settings.APPSTORES_TIMEOUT_SECONDS)
    except (requests.RequestException, google_exceptions.GoogleAuthError, OSError) as exc:
        raise StoreError(
            code=StoreErrorCode.STORE_UNAVAILABLE,
            message="Google Play cannot be reached.",
            status=503,
        ) from exc
    if response.status_code in (400, 404, 410):
        raise StoreError(
            code=StoreErrorCode.UNKNOWN_PURCHASE,
            message="Google Play knows no such purchase.",
            status=400,
        )
    if response.status_code >= 300:
        raise StoreError(
            code=StoreErrorCode.STORE_UNAVAILABLE,
            message=f"Google Play answered {response.status_code}.",
            status=503,
        )
    body = response.json() if response.content else {}
    return body if isinstance(body, dict) else {}


def _package_path() -> str:
    package = quote(settings.GOOGLE_PLAY_PACKAGE, safe="")
    return f"/androidpublisher/v3/applications/{package}/purchases"


def purchase_fetch(*, purchase_token: str) -> GooglePurchase:
    """``purchases.subscriptionsv2.get``: the purchase's newest state."""
    token = quote(purchase_token, safe="")
    return GooglePurchase.of(
        purchase_token, _call("GET", f"{_package_path()}/subscriptionsv2/tokens/{token}")
    )


def purchase_acknowledge(*, product_id: str, purchase_token: str) -> None:
    """``purchases.subscriptions.acknowledge``: Google refunds purchases left unacknowledged
    for three days."""
    path = f"{_package_path()}/subscriptions/{quote(product_id, safe='')}/tokens/"
    _call("POST", path + quote(purchase_token, safe="") + ":acknowledge")
