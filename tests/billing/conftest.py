"""Helpers for billing tests: Stripe-signed webhook requests."""

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

WEBHOOK_URL = "/billing/stripe/webhook/"


def stripe_signature(payload: bytes, *, secret: str, at: int | None = None) -> str:
    """Sign ``payload`` the way Stripe does: ``t=<unix>,v1=<HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if at is None else at
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_id: str, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


class WebhookPoster:
    """Posts events to Masthead's webhook endpoint, signed with the configured secret."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def post(self, event: dict[str, Any], *, signature: str | None = "sign", at: int | None = None):  # type: ignore[no-untyped-def]
        body = json.dumps(event).encode()
        headers = {}
        if signature == "sign":
            headers["HTTP_STRIPE_SIGNATURE"] = stripe_signature(
                body, secret=settings.STRIPE_WEBHOOK_SECRET, at=at
            )
        elif signature is not None:
            headers["HTTP_STRIPE_SIGNATURE"] = signature
        return self.client.post(WEBHOOK_URL, body, content_type="application/json", **headers)


@pytest.fixture
def webhook(client: Client) -> WebhookPoster:
    return WebhookPoster(client)
