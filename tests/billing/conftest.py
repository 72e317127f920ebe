"""Helpers for billing tests: Stripe-signed webhook requests, and the offline Stripe
(``stripe_sandbox``) running as a real process that Masthead's gateway talks to."""

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from stripe_sandbox.testing import RunningSandbox, running_sandbox

# Short webhook retry schedule so a refused delivery is retried within a test.
SANDBOX_ARGS = ["--webhook-retry-schedule", "0.2,0.5,1", "--webhook-timeout", "5"]
LIVE_WEBHOOK_SECRET = "whsec_masthead_tests"

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


def _point_at(settings: Any, sandbox: RunningSandbox) -> None:
    settings.STRIPE_API_BASE = sandbox.url
    settings.STRIPE_SECRET_KEY = "sk_test_masthead_tests"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0


@pytest.fixture(scope="session")
def _shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("stripe") / "data", args=SANDBOX_ARGS) as sbx:
        yield sbx


@pytest.fixture
def sandbox_api(_shared_sandbox: RunningSandbox, settings: Any) -> RunningSandbox:
    """Masthead's gateway talks to a sandbox shared by the session; it sends no webhooks.

    For tests of calls to Stripe. ``sandbox_api.client()`` inspects Stripe's side.
    """
    _point_at(settings, _shared_sandbox)
    return _shared_sandbox


@pytest.fixture
def sandbox_webhooks(
    live_server: Any, settings: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RunningSandbox]:
    """A sandbox of this test's own that delivers signed webhooks to Masthead's endpoint on
    the live server, as Stripe does. Extra sandbox options: ``@pytest.mark.sandbox_args(...)``.
    Use with ``@pytest.mark.django_db(transaction=True)``."""
    marker = request.node.get_closest_marker("sandbox_args")
    extra = list(marker.args) if marker else []
    endpoint = f"{live_server.url}/billing/stripe/webhook/"
    args = [*SANDBOX_ARGS, "--webhook-endpoint", endpoint, "--webhook-secret", LIVE_WEBHOOK_SECRET]
    with running_sandbox(tmp_path / "stripe", args=[*args, *extra]) as sandbox:
        _point_at(settings, sandbox)
        settings.STRIPE_WEBHOOK_SECRET = LIVE_WEBHOOK_SECRET
        yield sandbox
