"""One-time payments and discounts at Stripe: one-time prices, Checkout in payment mode,
coupons and promotion codes.

Like ``resources``: each returns shapes, every POST carries an idempotency key made of the
operation, Masthead's ids and a digest of the parameters, and each runs inside
``stripe_call``.
"""

from typing import Any

from billing.stripe_gateway.client import client, plain, post, stripe_call
from billing.stripe_gateway.shapes import (
    StripeCheckoutSession,
    StripeCoupon,
    StripePrice,
    StripeProduct,
    StripePromotionCode,
)

# Catalogue ----------------------------------------------------------------------------


@stripe_call
def catalog_product_create(
    *, ids: str, name: str, description: str = "", metadata: dict[str, str]
) -> StripeProduct:
    """Create a product for something sold once (``ids`` names it in Masthead)."""
    params: dict[str, Any] = {"name": name, "metadata": metadata}
    if description:
        params["description"] = description
    created = post("catalog-product-create", ids, client().v1.products.create, params)
    return StripeProduct.from_api(created)


@stripe_call
def one_time_price_create(
    *, ids: str, product_id: str, amount: int, currency: str, metadata: dict[str, str]
) -> StripePrice:
    """Create a one-time price (Stripe prices never change: a new amount is a new price)."""
    params = {
        "product": product_id,
        "unit_amount": amount,
        "currency": currency,
        "metadata": metadata,
    }
    created = post("one-time-price-create", ids, client().v1.prices.create, params)
    return StripePrice.from_api(created)


# Checkout in payment mode ---------------------------------------------------------------


@stripe_call
def checkout_payment_create(
    *,
    ids: str,
    line_items: list[tuple[str, int]],
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    customer_id: str = "",
    customer_email: str = "",
    client_reference_id: str = "",
    promotion_code_id: str = "",
    description: str = "",
) -> StripeCheckoutSession:
    """Open a Checkout session in payment mode for ``line_items`` (one-time price id,
    quantity). ``metadata`` (with Masthead's ``kind``) goes on the session and on its payment,
    so the webhook of the payment and of a later refund both say what was bought. With a
    promotion code it is applied; without one, the reader may type one."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"price": price, "quantity": qty} for price, qty in line_items],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    if description:
        params["payment_intent_data"]["description"] = description
    if customer_id:
        params["customer"] = customer_id
    else:
        params["customer_creation"] = "always"
        if customer_email:
            params["customer_email"] = customer_email
    if client_reference_id:
        params["client_reference_id"] = client_reference_id
    if promotion_code_id:
        params["discounts"] = [{"promotion_code": promotion_code_id}]
    else:
        params["allow_promotion_codes"] = True
    sessions = client().v1.checkout.sessions
    return StripeCheckoutSession.from_api(post("checkout-pay", ids, sessions.create, params))


@stripe_call
def checkout_session_of_payment_intent(*, payment_intent_id: str) -> StripeCheckoutSession | None:
    """Return the Checkout session that made a payment, if one did."""
    sessions = client().v1.checkout.sessions
    page = sessions.list({"payment_intent": payment_intent_id, "limit": 1})
    return StripeCheckoutSession.from_api(plain(page.data[0])) if page.data else None


# Coupons and promotion codes --------------------------------------------------------------


@stripe_call
def coupon_create(
    *,
    ids: str,
    name: str,
    percent_off: float | None,
    amount_off: int | None,
    currency: str,
    duration: str,
    duration_in_months: int | None,
    max_redemptions: int | None,
    redeem_by: int | None,
    product_ids: list[str],
    metadata: dict[str, str],
) -> StripeCoupon:
    """Create a coupon: ``percent_off`` or ``amount_off`` (in ``currency``), for ``duration``
    once / repeating (``duration_in_months``) / forever, on ``product_ids`` only when given."""
    params: dict[str, Any] = {"name": name[:40], "duration": duration, "metadata": metadata}
    if percent_off is not None:
        params["percent_off"] = percent_off
    else:
        params["amount_off"] = amount_off
        params["currency"] = currency
    if duration == "repeating":
        params["duration_in_months"] = duration_in_months
    if max_redemptions:
        params["max_redemptions"] = max_redemptions
    if redeem_by:
        params["redeem_by"] = redeem_by
    if product_ids:
        params["applies_to"] = {"products": product_ids}
    created = post("coupon-create", ids, client().v1.coupons.create, params)
    return StripeCoupon.from_api(created)


@stripe_call
def coupon_retrieve(*, coupon_id: str) -> StripeCoupon:
    return StripeCoupon.from_api(plain(client().v1.coupons.retrieve(coupon_id)))


@stripe_call
def promotion_code_create(
    *,
    ids: str,
    coupon_id: str,
    code: str,
    max_redemptions: int | None,
    expires_at: int | None,
    first_time_only: bool,
    metadata: dict[str, str],
) -> StripePromotionCode:
    """Create the customer-facing code of a coupon."""
    params: dict[str, Any] = {
        "promotion": {"type": "coupon", "coupon": coupon_id},
        "code": code,
        "metadata": metadata,
    }
    if max_redemptions:
        params["max_redemptions"] = max_redemptions
    if expires_at:
        params["expires_at"] = expires_at
    if first_time_only:
        params["restrictions"] = {"first_time_transaction": True}
    created = post("promotion-code-create", ids, client().v1.promotion_codes.create, params)
    return StripePromotionCode.from_api(created)


@stripe_call
def promotion_code_retrieve(*, promotion_code_id: str) -> StripePromotionCode:
    codes = client().v1.promotion_codes
    return StripePromotionCode.from_api(plain(codes.retrieve(promotion_code_id)))


@stripe_call
def promotion_code_active_set(
    *, promotion_code_id: str, active: bool, revision: str
) -> StripePromotionCode:
    """Put a code on offer or withdraw it (``revision`` tells apart two toggles)."""
    codes = client().v1.promotion_codes
    updated = post(
        "promotion-code-active",
        f"{promotion_code_id}:{revision}",
        lambda p, o: codes.update(promotion_code_id, p, o),
        {"active": active},
    )
    return StripePromotionCode.from_api(updated)
