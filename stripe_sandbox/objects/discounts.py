"""Coupons, promotion codes and the discounts they become on a subscription."""

from __future__ import annotations

from typing import Any

from ..ids import new_id, random_token


def coupon(
    *,
    now: int,
    coupon_id: str | None,
    percent_off: float | None,
    amount_off: int | None,
    currency: str | None,
    duration: str,
    duration_in_months: int | None,
    max_redemptions: int | None,
    redeem_by: int | None,
    name: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    return {
        "id": coupon_id or random_token(8),
        "object": "coupon",
        "amount_off": amount_off,
        "created": now,
        "currency": currency,
        "duration": duration,
        "duration_in_months": duration_in_months,
        "livemode": False,
        "max_redemptions": max_redemptions,
        "metadata": metadata,
        "name": name,
        "percent_off": percent_off,
        "redeem_by": redeem_by,
        "times_redeemed": 0,
        "valid": True,
    }


def promotion_code(
    *,
    now: int,
    coupon_id: str,
    code: str | None,
    active: bool,
    customer: str | None,
    expires_at: int | None,
    max_redemptions: int | None,
    restrictions: dict[str, Any],
    metadata: dict[str, str],
) -> dict[str, Any]:
    return {
        "id": new_id("promo"),
        "object": "promotion_code",
        "active": active,
        "code": code or random_token(8).upper(),
        "created": now,
        "customer": customer,
        "customer_account": None,
        "expires_at": expires_at,
        "livemode": False,
        "max_redemptions": max_redemptions,
        "metadata": metadata,
        "promotion": {"coupon": coupon_id, "type": "coupon"},
        "restrictions": {
            "currency_options": {},
            "first_time_transaction": bool(restrictions.get("first_time_transaction")),
            "minimum_amount": restrictions.get("minimum_amount"),
            "minimum_amount_currency": restrictions.get("minimum_amount_currency"),
        },
        "times_redeemed": 0,
    }


def discount(
    *,
    now: int,
    end: int | None,
    coupon_id: str,
    promotion_code: str | None,
    customer: str,
    subscription: str,
    checkout_session: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id("di"),
        "object": "discount",
        "checkout_session": checkout_session,
        "customer": customer,
        "customer_account": None,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": promotion_code,
        "source": {"coupon": coupon_id, "type": "coupon"},
        "start": now,
        "subscription": subscription,
        "subscription_item": None,
    }
