"""Webhook events: prove Stripe sent a body, and that it is an event Masthead can store."""

import json
from typing import Any

import stripe
from django.conf import settings

from billing.errors import BillingError, BillingErrorCode
from billing.stripe_gateway.shapes import StripeEvent

# The stored columns' limits: a signed event that does not fit is refused, not a 500.
EVENT_TEXT_FIELDS = (("id", 255, True), ("type", 100, False), ("api_version", 40, False))


def _holds_nul(value: Any) -> bool:
    """Whether any key or string in the parsed JSON holds a NUL, which PostgreSQL refuses."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _may_hold_nul(payload: bytes) -> bool:
    """Whether the parsed body could hold a NUL. In UTF-8 JSON only as the escape
    ``\\u0000`` (a raw control character is not valid JSON); a body in UTF-16 or UTF-32
    (``json.loads`` reads those too) has NUL bytes. A body with neither holds no NUL, and
    need not be walked."""
    return b"\\u0000" in payload or b"\x00" in payload


def _event_shaped(event: Any, payload: bytes) -> bool:
    if not isinstance(event, dict):
        return False
    for name, limit, required in EVENT_TEXT_FIELDS:
        value = event.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            return False
    return not (_may_hold_nul(payload) and _holds_nul(event))


def event_verify(*, payload: bytes, signature: str | None) -> StripeEvent:
    """Return the event if ``signature`` proves Stripe sent ``payload`` within the tolerance
    (300 s); refuse a bad signature or a body that is not an event that can be stored."""
    try:
        if not (signature or "").isascii():  # Stripe's are; the SDK's compare would raise
            raise stripe.SignatureVerificationError("Not ASCII", signature)
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            signature or "",
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise BillingError(
            code=BillingErrorCode.BAD_SIGNATURE,
            message="The request is not a correctly signed Stripe event.",
        ) from exc
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        event = None
    if not _event_shaped(event, payload):
        raise BillingError(
            code=BillingErrorCode.MALFORMED_EVENT, message="The body is not a Stripe event."
        )
    return StripeEvent.from_api(event)
