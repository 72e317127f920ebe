"""Customers, products, prices, payment methods, webhook endpoints and test clocks."""

from __future__ import annotations

from typing import Any

from ..ids import new_id, random_token


def address() -> dict[str, Any]:
    return {
        "city": None,
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }


def customer(
    *,
    now: int,
    email: str | None = None,
    name: str | None = None,
    description: str | None = None,
    phone: str | None = None,
    metadata: dict[str, str] | None = None,
    test_clock: str | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": random_token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata or {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": test_clock,
    }


def deleted(obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": obj["id"], "object": obj["object"], "deleted": True}


def product(
    *,
    now: int,
    name: str,
    product_id: str | None = None,
    active: bool = True,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": product_id or new_id("prod", 14),
        "object": "product",
        "active": active,
        "created": now,
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata or {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": now,
        "url": None,
    }


def price(
    *,
    now: int,
    product_id: str,
    currency: str,
    unit_amount: int,
    recurring: dict[str, Any] | None,
    active: bool = True,
    lookup_key: str | None = None,
    nickname: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    rec = None
    if recurring:
        rec = {
            "interval": recurring["interval"],
            "interval_count": int(recurring.get("interval_count") or 1),
            "meter": None,
            "trial_period_days": recurring.get("trial_period_days"),
            "usage_type": "licensed",
        }
    return {
        "id": new_id("price"),
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": now,
        "currency": currency.lower(),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata or {},
        "nickname": nickname,
        "product": product_id,
        "recurring": rec,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if rec else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan(p: dict[str, Any]) -> dict[str, Any]:
    """Return the legacy ``plan`` view of a recurring price."""
    rec = p.get("recurring") or {}
    return {
        "id": p["id"],
        "object": "plan",
        "active": p["active"],
        "amount": p["unit_amount"],
        "amount_decimal": p["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": p["created"],
        "currency": p["currency"],
        "interval": rec.get("interval"),
        "interval_count": rec.get("interval_count"),
        "livemode": False,
        "metadata": p["metadata"],
        "meter": None,
        "nickname": p["nickname"],
        "product": p["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": rec.get("trial_period_days"),
        "usage_type": "licensed",
    }


# Stripe's test payment methods: token -> (brand, last4, behaviour)
TEST_CARDS = {
    "pm_card_visa": ("visa", "4242", "ok"),
    "pm_card_mastercard": ("mastercard", "4444", "ok"),
    "pm_card_chargeCustomerFail": ("visa", "0341", "fail_later"),
    "pm_card_authenticationRequired": ("visa", "3184", "auth_offsession"),
    "pm_card_visa_chargeDeclined": ("visa", "0002", "declined"),
    "pm_card_chargeDeclined": ("visa", "0002", "declined"),
}
CARD_NUMBERS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000341": "pm_card_chargeCustomerFail",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000002760003184": "pm_card_authenticationRequired",
}


def payment_method(
    *,
    now: int,
    brand: str,
    last4: str,
    behaviour: str,
    customer: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": address(),
            "email": email,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": brand,
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": random_token(16),
            "funding": "credit",
            "generated_from": None,
            "last4": last4,
            "networks": {"available": [brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": now,
        "customer": customer,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        "_behaviour": behaviour,
    }


def webhook_endpoint(
    *,
    now: int,
    url: str,
    enabled_events: list[str],
    api_version: str | None,
    description: str | None,
    metadata: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": now,
        "description": description,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": metadata or {},
        "status": "enabled",
        "url": url,
        "_secret": "whsec_" + random_token(32),
    }


def test_clock(*, now: int, frozen_time: int, name: str | None) -> dict[str, Any]:
    return {
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + 30 * 86400,
        "frozen_time": frozen_time,
        "livemode": False,
        "name": name,
        "status": "ready",
        "status_details": {},
    }
