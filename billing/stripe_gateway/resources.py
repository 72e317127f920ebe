"""Stripe's resources as Masthead uses them: customers, products and prices, Checkout and
the Customer Portal, subscriptions, invoices and refunds.

Each function returns shapes (``billing.stripe_gateway.shapes``), so nothing else reads
Stripe's keys. Configuration is read when called. Every POST carries an idempotency key
made of the operation, Masthead's ids and a digest of the parameters, so a retried call
replays the first answer and never charges twice. Each runs inside the one error boundary,
``stripe_call``: Stripe's exceptions become ``BillingError``.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from stripe.params import PriceListParams, SubscriptionListParams

from billing.stripe_gateway.client import client, plain, post, stripe_call
from billing.stripe_gateway.shapes import (
    StripeCheckoutSession,
    StripeCustomer,
    StripeInvoice,
    StripePortalConfiguration,
    StripePortalSession,
    StripePrice,
    StripeProduct,
    StripeRecord,
    StripeSubscription,
    stripe_id_of,
)

# Customers ---------------------------------------------------------------------------


@stripe_call
def customer_create(*, user_id: int, email: str) -> StripeCustomer:
    """Create the Stripe customer of a Masthead user."""
    params = {"email": email, "metadata": {"user_id": str(user_id)}}
    created = post("customer-create", f"user:{user_id}", client().v1.customers.create, params)
    return StripeCustomer.from_api(created)


@stripe_call
def customer_retrieve(*, customer_id: str) -> StripeRecord:
    """Return the customer as Stripe holds it (``deleted`` once it is deleted)."""
    path = f"/v1/customers/{quote(customer_id, safe='')}"
    return StripeRecord.from_api(client().raw_request("get", path).data)


@stripe_call
def customer_delete(*, customer_id: str) -> StripeRecord:
    """Delete the customer at Stripe, which cancels their subscriptions there at once."""
    return StripeRecord.from_api(plain(client().v1.customers.delete(customer_id)))


@stripe_call
def customer_records_list(*, customer_id: str, kind: str) -> list[StripeRecord]:
    """Return the customer's ``subscriptions`` (every status) or ``invoices`` as Stripe
    holds them, newest first (up to 100 of each)."""
    params: dict[str, Any] = {"customer": customer_id, "limit": 100}
    if kind == "subscriptions":
        params["status"] = "all"
    elif kind != "invoices":
        raise ValueError(f"Unknown kind of customer record: {kind}")
    answer = client().raw_request("get", f"/v1/{kind}", **params)
    return [StripeRecord.from_api(item) for item in answer.data.get("data") or []]


# Products and prices -----------------------------------------------------------------


@stripe_call
def product_create(*, plan_id: int, name: str, description: str) -> StripeProduct:
    """Create the plan's product (updates go through ``product_update``)."""
    params: dict[str, Any] = {"name": name, "metadata": {"plan_id": str(plan_id)}}
    if description:
        params["description"] = description
    created = post("product-create", f"plan:{plan_id}", client().v1.products.create, params)
    return StripeProduct.from_api(created)


@stripe_call
def price_create(
    *, product_id: str, plan_id: int, amount: int, currency: str, interval: str
) -> StripePrice:
    """Create a recurring price; Stripe prices never change, so a new amount is a new price."""
    params = {
        "product": product_id,
        "unit_amount": amount,
        "currency": currency,
        "recurring": {"interval": interval},
        "metadata": {"plan_id": str(plan_id), "interval": interval},
    }
    created = post("price-create", f"plan:{plan_id}:{interval}", client().v1.prices.create, params)
    return StripePrice.from_api(created)


@stripe_call
def product_retrieve(*, product_id: str) -> StripeProduct:
    """Return a product."""
    return StripeProduct.from_api(plain(client().v1.products.retrieve(product_id)))


@stripe_call
def product_update(
    *, product_id: str, plan_id: int, name: str, description: str, active: bool, revision: str
) -> StripeProduct:
    """Set the product's name, description and whether it is on sale; ``revision`` tells
    apart two updates to the same values (changed, changed back, changed again)."""
    params: dict[str, Any] = {
        "name": name,
        "description": description,
        "active": active,
        "metadata": {"plan_id": str(plan_id)},
    }
    products = client().v1.products
    updated = post(
        "product-update",
        f"plan:{plan_id}:{revision}",
        lambda p, o: products.update(product_id, p, o),
        params,
    )
    return StripeProduct.from_api(updated)


@stripe_call
def prices_list(*, product_id: str) -> list[StripePrice]:
    """Return every price of the product, on sale or not."""
    prices = client().v1.prices
    found: list[StripePrice] = []
    params: PriceListParams = {"product": product_id, "limit": 100}
    while True:
        page = prices.list(params.copy())
        found.extend(StripePrice.from_api(plain(item)) for item in page.data)
        if not page.has_more or not page.data:
            return found
        params["starting_after"] = page.data[-1].id


@stripe_call
def price_active_set(*, price_id: str, active: bool, revision: str) -> StripePrice:
    """Put a price on sale or take it off; subscriptions already on it keep it.

    ``revision`` tells apart two toggles of the same price (off, on, off again)."""
    prices = client().v1.prices
    updated = post(
        "price-active",
        f"{price_id}:{revision}",
        lambda p, o: prices.update(price_id, p, o),
        {"active": active},
    )
    return StripePrice.from_api(updated)


# A plan in the portal: its product, its prices, and the seats a reader may choose there
# (None for a plan for one reader).
PortalProduct = tuple[str, list[str], tuple[int, int] | None]


def portal_products_param(products: list[PortalProduct]) -> list[dict[str, Any]]:
    """The plans a reader may switch between as the portal's ``subscription_update.products``;
    a plan sold by seat lets the reader change the quantity within its bounds."""
    listed = []
    for product, prices, seats in products:
        entry: dict[str, Any] = {"product": product, "prices": list(prices)}
        if seats is not None:
            entry["adjustable_quantity"] = {
                "enabled": True,
                "minimum": seats[0],
                "maximum": seats[1],
            }
        listed.append(entry)
    return listed


@stripe_call
def portal_configuration_save(
    *,
    configuration_id: str,
    products: list[PortalProduct],
    return_url: str,
    revision: str = "",
) -> StripePortalConfiguration:
    """Create or update the Customer Portal's configuration: cancel, card, plan switches
    between ``products`` (each a product id with its price ids).

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
                "default_allowed_updates": ["price", "quantity"]
                if any(seats for _, _, seats in products)
                else ["price"],
                "proration_behavior": "create_prorations",
                "products": portal_products_param(products),
            },
        },
    }
    configurations = client().v1.billing_portal.configurations
    if configuration_id:
        saved = post(
            "portal-configuration-update",
            f"{configuration_id}:{revision}" if revision else configuration_id,
            lambda p, o: configurations.update(configuration_id, p, o),
            params,
        )
    else:
        ids = f"masthead:{revision}" if revision else "masthead"
        saved = post("portal-configuration-create", ids, configurations.create, params)
    return StripePortalConfiguration.from_api(saved)


@stripe_call
def portal_configuration_retrieve(*, configuration_id: str) -> StripePortalConfiguration:
    """Return a Customer Portal configuration."""
    configurations = client().v1.billing_portal.configurations
    return StripePortalConfiguration.from_api(plain(configurations.retrieve(configuration_id)))


# Checkout and the portal ---------------------------------------------------------------


@stripe_call
def checkout_session_create(
    *,
    user_id: int,
    customer_id: str,
    price_id: str,
    success_url: str,
    cancel_url: str,
    trial_end: int | None,
    attempt: str = "",
    promotion_code_id: str = "",
    quantity: int = 1,
    quantity_bounds: tuple[int, int] | None = None,
) -> StripeCheckoutSession:
    """Open a Checkout session for a subscription, with a trial ending at ``trial_end``,
    and the promotion code applied when given (else the reader may type one); ``quantity``
    seats, which the reader may change between ``quantity_bounds`` when given.

    ``attempt`` tells apart two sessions the reader opens with the same parameters (the
    first one expired since), so the second is not a replay of the first."""
    line: dict[str, Any] = {"price": price_id, "quantity": quantity}
    if quantity_bounds is not None:
        low, high = quantity_bounds
        line["adjustable_quantity"] = {"enabled": True, "minimum": low, "maximum": high}
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(user_id),
        "line_items": [line],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": {"user_id": str(user_id)},
        "subscription_data": {"metadata": {"user_id": str(user_id)}},
    }
    # Stripe takes one or the other: a code applied now, or a field to type one.
    if promotion_code_id:
        params["discounts"] = [{"promotion_code": promotion_code_id}]
    else:
        params["allow_promotion_codes"] = True
    if trial_end is not None:
        params["subscription_data"]["trial_end"] = trial_end
    sessions = client().v1.checkout.sessions
    ids = f"user:{user_id}:{attempt}" if attempt else f"user:{user_id}"
    return StripeCheckoutSession.from_api(post("checkout-create", ids, sessions.create, params))


@stripe_call
def checkout_session_retrieve(*, session_id: str) -> StripeCheckoutSession:
    """Return a Checkout session."""
    sessions = client().v1.checkout.sessions
    return StripeCheckoutSession.from_api(plain(sessions.retrieve(session_id)))


@stripe_call
def checkout_sessions_expire_open(*, customer_id: str) -> int:
    """Expire the customer's Checkout sessions still open; return how many."""
    sessions = client().v1.checkout.sessions
    listed = sessions.list({"customer": customer_id, "status": "open", "limit": 100})
    expired = 0
    for session in listed.data:
        post("checkout-expire", session.id, lambda p, o, s=session.id: sessions.expire(s, p, o), {})
        expired += 1
    return expired


@stripe_call
def portal_session_create(
    *, customer_id: str, return_url: str, attempt: str = "", configuration_id: str = ""
) -> StripePortalSession:
    """Open a Customer Portal session for the customer, with Masthead's configuration when
    given (Stripe's default otherwise); ``attempt`` tells apart visits with the same
    parameters (a portal session lasts minutes, so none is replayed later)."""
    params = {"customer": customer_id, "return_url": return_url}
    if configuration_id:
        params["configuration"] = configuration_id
    sessions = client().v1.billing_portal.sessions
    ids = f"{customer_id}:{attempt}" if attempt else customer_id
    return StripePortalSession.from_api(post("portal-create", ids, sessions.create, params))


@stripe_call
def portal_switch_session_create(
    *,
    customer_id: str,
    subscription_id: str,
    item_id: str,
    price_id: str,
    return_url: str,
    attempt: str = "",
    configuration_id: str = "",
) -> StripePortalSession:
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
    created = post("portal-switch-create", ids, sessions.create, params)
    return StripePortalSession.from_api(created)


# Subscriptions and invoices ------------------------------------------------------------


@stripe_call
def subscription_retrieve(*, subscription_id: str) -> StripeSubscription:
    """Return the subscription as Stripe has it now, with its latest invoice and its
    discounts (with their coupons) expanded.

    Webhook events re-fetch one (once per burst), so the answer's JSON is returned as it
    came: building the SDK's objects only to turn them back into dicts cost more than the
    rest of the call.
    """
    path = f"/v1/subscriptions/{quote(subscription_id, safe='')}"
    answer = client().raw_request(
        "get", path, expand=["latest_invoice", "discounts", "discounts.source.coupon"]
    )
    return StripeSubscription.from_api(answer.data)


@stripe_call
def _subscriptions_page(
    *, starting_after: str, page_size: int
) -> tuple[list[StripeSubscription], bool]:
    """One page of every subscription (canceled ones too), and whether more follow."""
    params: SubscriptionListParams = {"status": "all", "limit": page_size}
    if starting_after:
        params["starting_after"] = starting_after
    page = client().v1.subscriptions.list(params)
    return [StripeSubscription.from_api(plain(item)) for item in page.data], page.has_more


def subscriptions_iter(*, page_size: int = 100) -> Iterator[StripeSubscription]:
    """Yield every subscription Stripe has, canceled ones included."""
    starting_after = ""
    while True:
        page, more = _subscriptions_page(starting_after=starting_after, page_size=page_size)
        yield from page
        if not more or not page:
            return
        starting_after = page[-1].id


@stripe_call
def subscription_create_with_test_card(
    *, customer_id: str, price_id: str, quantity: int, user_id: int
) -> StripeSubscription:
    """Subscribe a customer with Stripe's test card ``pm_card_visa`` (test mode and the
    sandbox only: the demo's family owner)."""
    card = post(
        "demo-card-attach",
        customer_id,
        lambda p, o: client().v1.payment_methods.attach("pm_card_visa", p, o),
        {"customer": customer_id},
    )
    params = {
        "customer": customer_id,
        "items": [{"price": price_id, "quantity": quantity}],
        "default_payment_method": stripe_id_of(card),
        "metadata": {"user_id": str(user_id)},
    }
    created = post("demo-subscription", f"user:{user_id}", client().v1.subscriptions.create, params)
    return StripeSubscription.from_api(created)


@stripe_call
def subscription_cancel(*, subscription_id: str) -> StripeSubscription:
    """Cancel a subscription at once (used for duplicates that slipped through)."""
    canceled = client().v1.subscriptions.cancel(subscription_id)
    return StripeSubscription.from_api(plain(canceled))


@stripe_call
def invoice_pay(*, invoice_id: str, payment_method_id: str) -> StripeInvoice:
    """Try to pay an open invoice now with the given card (the customer's new default)."""
    invoices = client().v1.invoices
    params = {"payment_method": payment_method_id}
    paid = post(
        "invoice-pay",
        f"{invoice_id}:{payment_method_id}",
        lambda p, o: invoices.pay(invoice_id, p, o),
        params,
    )
    return StripeInvoice.from_api(paid)


@stripe_call
def invoice_payment_intent_ids(*, invoice_id: str) -> list[str]:
    """Return the payment intents that paid the invoice (invoices list them as payments)."""
    page = client().v1.invoice_payments.list({"invoice": invoice_id, "limit": 10})
    found = []
    for item in page.data:
        payment = plain(item).get("payment") or {}
        if payment.get("payment_intent"):
            found.append(str(payment["payment_intent"]))
    return found


@stripe_call
def refund_create(*, payment_intent_id: str, reason: str) -> str:
    """Refund a payment in full; return the refund's id."""
    params = {"payment_intent": payment_intent_id, "reason": reason}
    refund = post("refund-create", payment_intent_id, client().v1.refunds.create, params)
    return str(refund["id"])
