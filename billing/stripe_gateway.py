"""The only module that talks to Stripe (or the offline sandbox standing in for it).

Every function takes and returns plain data (dicts), so nothing else needs ``stripe``.
Configuration is read when called. Every POST carries an idempotency key made of the
operation, Masthead's ids and a digest of the parameters, so a retried call replays the
first answer and never charges twice. Stripe's exceptions become ``BillingError``.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote

import stripe
from django.conf import settings

from billing.errors import BillingError, BillingErrorCode

logger = logging.getLogger(__name__)

T = TypeVar("T")
SDK_API_VERSION: str = stripe.api_version


@lru_cache(maxsize=4)
def _client_for(
    api_key: str, api_base: str, version: str, timeout: float, retries: int
) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        stripe_version=version,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.new_default_http_client(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    """Return the Stripe client for the current settings."""
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_API_VERSION,
        settings.STRIPE_TIMEOUT_SECONDS,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def idempotency_key(operation: str, ids: str, params: dict[str, Any]) -> str:
    """Return ``<operation>:<ids>:<digest of params>``: equal calls share a key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    return f"{operation}:{ids}:{digest.hexdigest()[:16]}"


def _translated(call: Callable[[], T]) -> T:
    try:
        return call()
    except stripe.CardError as exc:
        raise BillingError(
            code=BillingErrorCode.CARD_DECLINED, message=exc.user_message or str(exc), status=402
        ) from exc
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise BillingError(
                code=BillingErrorCode.NOT_FOUND, message="Stripe has no such object.", status=404
            ) from exc
        logger.warning("Stripe refused a request: %s", exc.user_message or exc)
        raise BillingError(
            code=BillingErrorCode.STRIPE_REFUSED,
            message=exc.user_message or "Stripe refused the request.",
            status=400,
        ) from exc
    except stripe.StripeError as exc:
        logger.warning("Stripe call failed: %s", exc)
        raise BillingError(
            code=BillingErrorCode.STRIPE_UNAVAILABLE,
            message="Payments are unavailable just now. Please try again in a minute.",
            status=503,
        ) from exc


def _plain(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = obj.to_dict(for_json=True)
    return result


def _post(operation: str, ids: str, method: Callable[..., Any], params: dict[str, Any]) -> Any:
    key = idempotency_key(operation, ids, params)
    return _translated(lambda: _plain(method(params, {"idempotency_key": key})))


def stripe_reachable() -> bool:
    """Whether Stripe answers an authenticated request now."""
    products = client().v1.products
    try:
        _translated(lambda: products.list({"limit": 1}))
    except BillingError:
        return False
    return True


# Customers ---------------------------------------------------------------------------


def customer_create(*, user_id: int, email: str) -> dict[str, Any]:
    """Create the Stripe customer of a Masthead user."""
    params = {"email": email, "metadata": {"user_id": str(user_id)}}
    return _post("customer-create", f"user:{user_id}", client().v1.customers.create, params)


# Products and prices -----------------------------------------------------------------


def product_create(*, plan_id: int, name: str, description: str) -> dict[str, Any]:
    """Create the plan's product (updates go through ``product_update``)."""
    params: dict[str, Any] = {"name": name, "metadata": {"plan_id": str(plan_id)}}
    if description:
        params["description"] = description
    return _post("product-create", f"plan:{plan_id}", client().v1.products.create, params)


def price_create(
    *, product_id: str, plan_id: int, amount: int, currency: str, interval: str
) -> dict[str, Any]:
    """Create a recurring price; Stripe prices never change, so a new amount is a new price."""
    params = {
        "product": product_id,
        "unit_amount": amount,
        "currency": currency,
        "recurring": {"interval": interval},
        "metadata": {"plan_id": str(plan_id), "interval": interval},
    }
    return _post("price-create", f"plan:{plan_id}:{interval}", client().v1.prices.create, params)


def product_retrieve(*, product_id: str) -> dict[str, Any]:
    """Return a product."""
    products = client().v1.products
    return _translated(lambda: _plain(products.retrieve(product_id)))


def product_update(
    *, product_id: str, plan_id: int, name: str, description: str, active: bool, revision: str
) -> dict[str, Any]:
    """Set the product's name, description and whether it is on sale; ``revision`` tells
    apart two updates to the same values (changed, changed back, changed again)."""
    params: dict[str, Any] = {
        "name": name,
        "description": description,
        "active": active,
        "metadata": {"plan_id": str(plan_id)},
    }
    products = client().v1.products
    return _post(
        "product-update",
        f"plan:{plan_id}:{revision}",
        lambda p, o: products.update(product_id, p, o),
        params,
    )


def prices_list(*, product_id: str) -> list[dict[str, Any]]:
    """Return every price of the product, on sale or not."""
    prices = client().v1.prices
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"product": product_id, "limit": 100}
    while True:
        page = _translated(lambda p=dict(params): prices.list(p))  # type: ignore[misc]
        found.extend(_plain(item) for item in page.data)
        if not page.has_more or not page.data:
            return found
        params["starting_after"] = page.data[-1].id


def price_active_set(*, price_id: str, active: bool, revision: str) -> dict[str, Any]:
    """Put a price on sale or take it off; subscriptions already on it keep it.

    ``revision`` tells apart two toggles of the same price (off, on, off again)."""
    prices = client().v1.prices
    return _post(
        "price-active",
        f"{price_id}:{revision}",
        lambda p, o: prices.update(price_id, p, o),
        {"active": active},
    )


def portal_configuration_save(
    *, configuration_id: str, products: list[dict[str, Any]], return_url: str, revision: str = ""
) -> dict[str, Any]:
    """Create or update the Customer Portal's configuration: cancel, card, plan switches.

    ``revision`` keeps a later save that restores earlier parameters from replaying the
    first save's answer."""
    params: dict[str, Any] = {
        "business_profile": {"headline": "Manage your Masthead membership"},
        "default_return_url": return_url,
        "features": {
            "customer_update": {"enabled": False},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True},
            "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            "subscription_update": {
                "enabled": bool(products),
                "default_allowed_updates": ["price"],
                "proration_behavior": "create_prorations",
                "products": products,
            },
        },
    }
    configurations = client().v1.billing_portal.configurations
    if configuration_id:
        return _post(
            "portal-configuration-update",
            f"{configuration_id}:{revision}" if revision else configuration_id,
            lambda p, o: configurations.update(configuration_id, p, o),
            params,
        )
    ids = f"masthead:{revision}" if revision else "masthead"
    return _post("portal-configuration-create", ids, configurations.create, params)


def portal_configuration_retrieve(*, configuration_id: str) -> dict[str, Any]:
    """Return a Customer Portal configuration."""
    configurations = client().v1.billing_portal.configurations
    return _translated(lambda: _plain(configurations.retrieve(configuration_id)))


# Checkout and the portal ---------------------------------------------------------------


def checkout_session_create(
    *,
    user_id: int,
    customer_id: str,
    price_id: str,
    success_url: str,
    cancel_url: str,
    trial_end: int | None,
    attempt: str = "",
) -> dict[str, Any]:
    """Open a Checkout session for a subscription, with a trial ending at ``trial_end``.

    ``attempt`` tells apart two sessions the reader opens with the same parameters (the
    first one expired since), so the second is not a replay of the first."""
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(user_id),
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "allow_promotion_codes": True,
        "metadata": {"user_id": str(user_id)},
        "subscription_data": {"metadata": {"user_id": str(user_id)}},
    }
    if trial_end is not None:
        params["subscription_data"]["trial_end"] = trial_end
    sessions = client().v1.checkout.sessions
    ids = f"user:{user_id}:{attempt}" if attempt else f"user:{user_id}"
    return _post("checkout-create", ids, sessions.create, params)


def checkout_session_retrieve(*, session_id: str) -> dict[str, Any]:
    """Return a Checkout session."""
    sessions = client().v1.checkout.sessions
    return _translated(lambda: _plain(sessions.retrieve(session_id)))


def checkout_sessions_expire_open(*, customer_id: str) -> int:
    """Expire the customer's Checkout sessions still open; return how many."""
    sessions = client().v1.checkout.sessions
    listed = _translated(
        lambda: sessions.list({"customer": customer_id, "status": "open", "limit": 100})
    )
    expired = 0
    for session in listed.data:
        _post(
            "checkout-expire", session.id, lambda p, o, s=session.id: sessions.expire(s, p, o), {}
        )
        expired += 1
    return expired


def portal_session_create(
    *, customer_id: str, return_url: str, attempt: str = "", configuration_id: str = ""
) -> dict[str, Any]:
    """Open a Customer Portal session for the customer, with Masthead's configuration when
    given (Stripe's default otherwise); ``attempt`` tells apart visits with the same
    parameters (a portal session lasts minutes, so none is replayed later)."""
    params = {"customer": customer_id, "return_url": return_url}
    if configuration_id:
        params["configuration"] = configuration_id
    sessions = client().v1.billing_portal.sessions
    ids = f"{customer_id}:{attempt}" if attempt else customer_id
    return _post("portal-create", ids, sessions.create, params)


def portal_switch_session_create(
    *,
    customer_id: str,
    subscription_id: str,
    item_id: str,
    price_id: str,
    return_url: str,
    attempt: str = "",
    configuration_id: str = "",
) -> dict[str, Any]:
    """Open a Customer Portal session straight on the confirmation of one change: the
    subscription's item ``item_id`` moved to ``price_id`` (a deep link, ``flow_data`` of type
    ``subscription_update_confirm``); once confirmed, the reader goes to ``return_url``.
    The price must be among the configuration's ``subscription_update.products``."""
    params: dict[str, Any] = {
        "customer": customer_id,
        "return_url": return_url,
        "flow_data": {
            "type": "subscription_update_confirm",
            "subscription_update_confirm": {
                "subscription": subscription_id,
                "items": [{"id": item_id, "price": price_id, "quantity": 1}],
            },
            "after_completion": {"type": "redirect", "redirect": {"return_url": return_url}},
        },
    }
    if configuration_id:
        params["configuration"] = configuration_id
    sessions = client().v1.billing_portal.sessions
    ids = f"{customer_id}:{subscription_id}:{attempt}" if attempt else customer_id
    return _post("portal-switch-create", ids, sessions.create, params)


# Subscriptions and invoices ------------------------------------------------------------


def subscription_retrieve(*, subscription_id: str) -> dict[str, Any]:
    """Return the subscription as Stripe has it now, with its latest invoice expanded.

    Webhook events re-fetch one (once per burst), so the answer's JSON is returned as it
    came: building the SDK's objects only to turn them back into dicts cost more than the
    rest of the call.
    """
    path = f"/v1/subscriptions/{quote(subscription_id, safe='')}"
    answer = _translated(lambda: client().raw_request("get", path, expand=["latest_invoice"]))
    data: dict[str, Any] = answer.data
    return data


def subscriptions_iter(*, page_size: int = 100) -> Iterator[dict[str, Any]]:
    """Yield every subscription Stripe has, canceled ones included."""
    subscriptions = client().v1.subscriptions
    starting_after: str | None = None
    while True:
        params: dict[str, Any] = {"status": "all", "limit": page_size}
        if starting_after:
            params["starting_after"] = starting_after
        page = _translated(lambda p=params: subscriptions.list(p))  # type: ignore[misc]
        for item in page.data:
            yield _plain(item)
        if not page.has_more or not page.data:
            return
        starting_after = page.data[-1].id


def subscription_cancel(*, subscription_id: str) -> dict[str, Any]:
    """Cancel a subscription at once (used for duplicates that slipped through)."""
    subscriptions = client().v1.subscriptions
    return _translated(lambda: _plain(subscriptions.cancel(subscription_id)))


def invoice_pay(*, invoice_id: str, payment_method_id: str) -> dict[str, Any]:
    """Try to pay an open invoice now with the given card (the customer's new default)."""
    invoices = client().v1.invoices
    params = {"payment_method": payment_method_id}
    return _post(
        "invoice-pay",
        f"{invoice_id}:{payment_method_id}",
        lambda p, o: invoices.pay(invoice_id, p, o),
        params,
    )


def invoice_payment_intent_ids(*, invoice_id: str) -> list[str]:
    """Return the payment intents that paid the invoice (invoices list them as payments)."""
    payments = client().v1.invoice_payments
    page = _translated(lambda: payments.list({"invoice": invoice_id, "limit": 10}))
    found = []
    for item in page.data:
        payment = _plain(item).get("payment") or {}
        if payment.get("payment_intent"):
            found.append(str(payment["payment_intent"]))
    return found


def refund_create(*, payment_intent_id: str, reason: str) -> dict[str, Any]:
    """Refund a payment in full."""
    params = {"payment_intent": payment_intent_id, "reason": reason}
    return _post("refund-create", payment_intent_id, client().v1.refunds.create, params)


# Webhooks ------------------------------------------------------------------------------


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


def _event_shaped(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for name, limit, required in EVENT_TEXT_FIELDS:
        value = event.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            return False
    return not _holds_nul(event)


def event_verify(*, payload: bytes, signature: str | None) -> dict[str, Any]:
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
    if not _event_shaped(event):
        raise BillingError(
            code=BillingErrorCode.MALFORMED_EVENT, message="The body is not a Stripe event."
        )
    return event
